"""The relay's configuration file (moq-relay 0.14 TOML), generated from typed values.

Pure: no Pulumi, no I/O. Only keys the relay documents are written (``[server]``, ``[server.tls]``,
``[web.http]`` or ``[web.https]``, ``[internal]``, ``[log]``, ``[auth]``); everything else keeps the
relay's defaults.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Literal, Optional

import tomli_w

# Where the Deployment mounts each volume; the TOML names files under them.
CONFIG_DIR = "/etc/moq/config"
CONFIG_FILE = "relay.toml"
TLS_DIR = "/etc/moq/tls"
AUTH_DIR = "/etc/moq/auth"
AUTH_FILE = "root.jwk"
# IPv4 wildcard: the relay's default `[::]` fails in pods without IPv6.
ANY = "0.0.0.0"


@dataclass(frozen=True)
class RelayToml:
    """What the relay's TOML says, in the terms this project decides."""

    quic_port: int
    """UDP port of the QUIC (WebTransport) listener."""
    web_port: int
    """TCP port of the web listener (WebSocket fallback, /certificate.sha256)."""
    internal_port: int
    """TCP port of the internal listener (/health, /metrics)."""
    log_level: str
    public_prefix: str
    """Broadcast prefix open to anonymous sessions."""
    web_tls: bool
    """The relay terminates TLS on the web listener itself (``[web.https]``) instead of sitting behind
    the ingress's TLS (``[web.http]``)."""
    auth: Literal["anonymous", "jwt"] = "anonymous"
    """``anonymous``: the prefix is open for publish and subscribe; ``jwt``: subscribe only, the rest needs a token."""

    @property
    def path(self) -> str:
        return f"{CONFIG_DIR}/{CONFIG_FILE}"

    @property
    def jwk_path(self) -> Optional[str]:
        return f"{AUTH_DIR}/{AUTH_FILE}" if self.auth == "jwt" else None


def document(cfg: RelayToml) -> dict:
    """The TOML document as a dict."""
    cert, key = f"{TLS_DIR}/tls.crt", f"{TLS_DIR}/tls.key"
    web = (
        {"https": {"listen": f"{ANY}:{cfg.web_port}", "cert": cert, "key": key}}
        if cfg.web_tls
        else {"http": {"listen": f"{ANY}:{cfg.web_port}"}}
    )
    if cfg.auth == "jwt":
        auth: dict = {"key": cfg.jwk_path, "public": {"subscribe": [cfg.public_prefix]}}
    else:
        auth = {"public": cfg.public_prefix}
    return {
        "log": {"level": cfg.log_level},
        # cert-manager writes tls.crt/tls.key; the relay watches the files and reloads on renewal.
        "server": {"bind": f"{ANY}:{cfg.quic_port}", "tls": {"cert": [cert], "key": [key]}},
        "web": web,
        # Unauthenticated; kubelet probes need it on the pod IP, so no Service names this port.
        "internal": {"listen": f"{ANY}:{cfg.internal_port}"},
        "auth": auth,
    }


def render(cfg: RelayToml) -> str:
    return tomli_w.dumps(document(cfg))


def symmetric_jwk(secret_base64: str) -> str:
    """A moq-token JWK (HS256, sign + verify) for a random secret given as standard base64."""
    secret = base64.b64decode(secret_base64)
    k = base64.urlsafe_b64encode(secret).rstrip(b"=").decode()
    return json.dumps({"kty": "oct", "alg": "HS256", "key_ops": ["sign", "verify"], "k": k})

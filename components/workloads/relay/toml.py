"""The relay's configuration file (moq-relay 0.14 TOML), generated from typed values.

Pure: no Pulumi, no I/O. Only keys the relay documents are written (``[server]``, ``[server.tls]``,
``[web.http]`` or ``[web.https]``, ``[internal]``, ``[auth]``); everything else keeps the relay's
defaults. No ``[log]``: moq-relay 0.14 merges the file with its command line, whose default level
(``info``) overwrites the file's, so the level travels in ``MOQ_LOG_LEVEL`` (:func:`environment`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

import tomli_w

# Where the Deployment mounts each volume; the TOML names files under them.
CONFIG_DIR = "/etc/moq/config"
CONFIG_FILE = "relay.toml"
TLS_DIR = "/etc/moq/tls"
# The relay's key_dir: one public JWK per key, `<kid>.jwk`, looked up by the token's `kid`.
AUTH_DIR = "/etc/moq/auth"
# `[::]` takes IPv6 and (as v4-mapped addresses) IPv4 on Linux; `0.0.0.0` only where a node has no IPv6 at all.
WILDCARD = {"dual-stack": "[::]", "ipv4": "0.0.0.0"}


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
    listen: Literal["dual-stack", "ipv4"] = "dual-stack"

    @property
    def path(self) -> str:
        return f"{CONFIG_DIR}/{CONFIG_FILE}"

    @property
    def key_dir(self) -> Optional[str]:
        return AUTH_DIR if self.auth == "jwt" else None


def document(cfg: RelayToml) -> dict:
    """The TOML document as a dict."""
    cert, key, any_ = f"{TLS_DIR}/tls.crt", f"{TLS_DIR}/tls.key", WILDCARD[cfg.listen]
    web = (
        {"https": {"listen": f"{any_}:{cfg.web_port}", "cert": cert, "key": key}}
        if cfg.web_tls
        else {"http": {"listen": f"{any_}:{cfg.web_port}"}}
    )
    if cfg.auth == "jwt":
        # key_dir resolves `<kid>.jwk` per token:
        # https://github.com/moq-dev/moq/blob/moq-relay-v0.14.12/doc/bin/relay/auth.md
        auth: dict = {"key_dir": cfg.key_dir, "public": {"subscribe": [cfg.public_prefix]}}
    else:
        auth = {"public": cfg.public_prefix}
    return {
        # cert-manager writes tls.crt/tls.key; the relay watches the files and reloads on renewal.
        "server": {"bind": f"{any_}:{cfg.quic_port}", "tls": {"cert": [cert], "key": [key]}},
        "web": web,
        # Unauthenticated; kubelet probes need it on the pod IP, so no Service names this port.
        "internal": {"listen": f"{any_}:{cfg.internal_port}"},
        "auth": auth,
    }


def render(cfg: RelayToml) -> str:
    return tomli_w.dumps(document(cfg))


def environment(cfg: RelayToml) -> list[dict]:
    """The container's environment: what the relay reads there rather than from its file."""
    return [{"name": "MOQ_LOG_LEVEL", "value": cfg.log_level}]

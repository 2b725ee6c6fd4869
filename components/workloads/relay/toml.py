"""The relay's configuration file (moq-relay 0.17 TOML), generated from typed values.

Pure: no Pulumi, no I/O. Only keys moq-relay 0.17.10 reads are written (``[listen]``, ``[listen.tls]``,
``[web.http]`` or ``[web.https]``, ``[internal]``, ``[auth]``, ``[log]``, ``[stats]``; a tier adds
``[connect.tls]`` and its peer list, ``cluster.py``); everything else keeps the relay's defaults. The relay
refuses unknown keys and every 0.14 spelling at start (``Config`` is ``deny_unknown_fields``;
``rs/moq-relay/src/config.rs`` at ``moq-relay-v0.17.10``), so a test runs the real relay on each stack's file.

Tokens are no longer the relay's business at 0.17: every session is decided by the auth server named in
``[auth] url`` (``auth.py``: ``moq auth serve`` beside the relay in its pod, on a unix socket), or by the
static ``[auth] public`` patterns where there is no server. The relay refuses both at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

import tomli_w

# Where the pod mounts each volume; the TOML names files under them.
CONFIG_DIR = "/etc/moq/config"
CONFIG_FILE = "relay.toml"
TLS_DIR = "/etc/moq/tls"
# The auth server's key_dir: one public JWK per key, `<kid>.jwk`, looked up by the token's `kid`.
AUTH_DIR = "/etc/moq/auth"
# The auth server's socket, on an emptyDir the two containers share (never a port: nothing else can ask it).
AUTH_SOCKET_DIR = "/run/moq-auth"
AUTH_SOCKET = f"{AUTH_SOCKET_DIR}/auth.sock"
# `[::]` takes IPv6 and (as v4-mapped addresses) IPv4 on Linux; `0.0.0.0` only where a node has no IPv6 at all.
WILDCARD = {"dual-stack": "[::]", "ipv4": "0.0.0.0"}


def pattern(prefix: str) -> str:
    """A broadcast prefix as a 0.17 pattern: the subtree under it, or everything for ``""``.

    0.14 read ``anon`` as the prefix ``anon/``; 0.17 reads a wildcard-free pattern as exactly one broadcast and
    refuses it in ``public`` rules (``auth.rs``, ``Config::validate``), so the subtree is spelled out.
    """
    return f"{prefix}/**" if prefix else "**"


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
    stats: bool = False
    """``[stats] enabled``: the traffic and session counters on ``/metrics`` count only with it."""

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
        {"https": {"listen": f"{any_}:{cfg.web_port}", "cert": [cert], "key": [key]}}
        if cfg.web_tls
        else {"http": {"listen": f"{any_}:{cfg.web_port}"}}
    )
    return {
        # cert-manager writes tls.crt/tls.key; the relay watches the files and reloads on renewal.
        "listen": {"bind": f"{any_}:{cfg.quic_port}", "tls": {"cert": [cert], "key": [key]}},
        "web": web,
        # Unauthenticated; kubelet probes need it on the pod IP, so no Service names this port.
        "internal": {"listen": f"{any_}:{cfg.internal_port}"},
        # Every session goes to the auth server beside the relay (``auth.py``), anonymous ones too: a tier's peer
        # certificates need a server (0.17 refuses a client CA under static `public` rules), and one policy path
        # is easier to reason about than two. `unix://` + the absolute path: moq-auth speaks HTTP over the socket.
        "auth": {"url": f"unix://{AUTH_SOCKET}"},
        # At 0.17 the file's level holds: the command line's default no longer overrides it.
        "log": {"level": cfg.log_level},
        **({"stats": {"enabled": True}} if cfg.stats else {}),
    }


def render(cfg: RelayToml) -> str:
    return tomli_w.dumps(document(cfg))

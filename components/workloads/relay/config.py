"""``quicstack:relay``: the Media-over-QUIC relay."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Optional

from pydantic import model_validator

from components.cluster.profile import Profile
from components.shared.errors import ConfigError
from components.shared.fields import DnsName, Image, Port, matching
from components.shared.model import Model
from components.shared.resources import Resources

# Broadcast paths are `/`-separated segments; the relay matches prefixes on segment boundaries.
_PATH = re.compile(r"^([A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*)?$")
# Secret names are DNS-1123 subdomains.
_SECRET = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")

WebSocketRoute = Literal["ingress", "load-balancer", "none"]

BroadcastPath = Annotated[
    str,
    matching(
        _PATH,
        "is not a broadcast path (segments of A-Z, a-z, 0-9 and . _ ~ -, joined by '/', no leading or trailing '/')",
    ),
]
SecretName = Annotated[str, matching(_SECRET, "is not a Secret name (lower-case a-z, 0-9, '-' and '.')")]


class RelayConfig(Model):
    """The Media-over-QUIC relay (moq-relay) on UDP/443."""

    enabled: bool = True
    """Deploy the relay."""
    image: Image = "moqdev/moq-relay:0.14.12"
    """Relay image, pinned by tag or digest; the generated TOML follows moq-relay 0.14."""
    host: Optional[DnsName] = None
    """Public host name; unset means `relay.<domain>`."""
    quic_port: Port = 4443
    """Container port the relay binds for QUIC (UDP); the Service maps UDP 443 to it, so no privilege is needed."""
    web_port: Port = 4480
    """Container port of the relay's TCP web listener (WebSocket fallback, /certificate.sha256): plain HTTP behind the
    ingress, or HTTPS where the relay's own load balancer carries TCP 443."""
    internal_port: Port = 9101
    """Container port of the relay's internal listener (/health, /metrics); used by probes, never exposed by a Service,
    and closed to other pods by a NetworkPolicy."""
    log_level: Literal["error", "warn", "info", "debug", "trace"] = "info"
    """Relay log level."""
    auth: Literal["anonymous", "jwt"] = "anonymous"
    """`anonymous`: anyone may publish and subscribe under `publicPrefix`; `jwt`: anyone may subscribe under
    `publicPrefix`, and publishing (and every other path) needs a token signed with the relay's key."""
    public_prefix: BroadcastPath = "anon"
    """Broadcast path prefix open without a token (the watch page plays from it); `""` opens every path."""
    jwt_key: Literal["generate", "existing"] = "generate"
    """With `auth: jwt`: `generate` creates a symmetric HS256 JWK per stack in the Secret `relay-auth` (key `root.jwk`);
    `existing` uses `jwtKeySecret`."""
    jwt_key_secret: Optional[SecretName] = None
    """With `jwtKey: existing`: a Secret in namespace `moq` whose key `root.jwk` holds the JWK the relay verifies tokens
    with (e.g. the public half of an ES256 key)."""
    websocket: bool = True
    """Serve the WebSocket fallback (browsers without WebTransport) on TCP 443 of the relay host."""
    resources: Resources = Resources.of("100m", "128Mi", "1", "512Mi")
    """Relay container requests and limits."""

    @model_validator(mode="after")
    def _listeners(self) -> "RelayConfig":
        # The pod drops every capability, so it cannot bind privileged ports.
        for key, port in (
            ("quicPort", self.quic_port),
            ("webPort", self.web_port),
            ("internalPort", self.internal_port),
        ):
            if port < 1024:
                raise ConfigError(
                    f"relay.{key}",
                    "is a privileged port: the relay runs without "
                    "capabilities; use 1024-65535 (the Service maps 443 to it)",
                    port,
                )
        if self.web_port == self.internal_port:
            raise ConfigError(
                "relay.internalPort",
                "is also relay.webPort: both are TCP listeners of one pod; choose another port",
                self.internal_port,
            )
        return self

    @model_validator(mode="after")
    def _jwt_key(self) -> "RelayConfig":
        if self.auth == "jwt" and self.jwt_key == "existing" and not self.jwt_key_secret:
            raise ConfigError(
                "relay.jwtKeySecret",
                "is required when relay.jwtKey is existing (a Secret in namespace moq with the key root.jwk)",
                has_value=False,
            )
        if self.jwt_key_secret and (self.auth != "jwt" or self.jwt_key != "existing"):
            raise ConfigError(
                "relay.jwtKeySecret",
                "is set, but is only read with relay.auth jwt and relay.jwtKey existing",
                self.jwt_key_secret,
            )
        return self

    def host_under(self, domain: str) -> str:
        return self.host or f"relay.{domain}"

    def websocket_route(self, profile: Profile, udp_via_ingress: bool) -> WebSocketRoute:
        """How TCP 443 of the relay host reaches the relay's WebSocket listener.

        ``ingress``: the relay host resolves to the ingress's address, so an Ingress carries it (and
        HTTP-01 works there); ``load-balancer``: the relay's own load balancer carries TCP 443 next to
        UDP 443 and the relay terminates TLS itself.
        """
        if not self.websocket:
            return "none"
        return "ingress" if profile.shares_ingress_address or udp_via_ingress else "load-balancer"

"""``quicstack:relay``: the Media-over-QUIC relay."""

from __future__ import annotations

from typing import Literal, Optional

from .base import DnsName, Image, Model, Port
from .resources import Resources


class Relay(Model):
    """The Media-over-QUIC relay (moq-relay) on UDP/443."""

    enabled: bool = True
    """Deploy the relay."""
    image: Image = "moqdev/moq-relay:0.14.12"
    """Relay image, pinned by tag or digest."""
    host: Optional[DnsName] = None
    """Public host name; unset means `relay.<domain>`."""
    quic_port: Port = 4443
    """Container port the relay binds for QUIC; the Service maps UDP 443 to it, so no privilege is needed."""
    web_port: Port = 4480
    """Container port of the relay's HTTP listener (WebSocket fallback, /certificate.sha256)."""
    internal_port: Port = 9101
    """Container port of the relay's internal listener (/health, /metrics); used by probes, never exposed by a Service."""
    log_level: Literal["error", "warn", "info", "debug", "trace"] = "info"
    """Relay log level."""
    auth: Literal["anonymous", "jwt"] = "anonymous"
    """`anonymous`: anyone may publish and subscribe under `publicPrefix`; `jwt`: a per-stack signing key is generated and other paths need a token."""
    public_prefix: str = "anon"
    """Broadcast path prefix open without a token."""
    resources: Resources = Resources.of("100m", "128Mi", "1", "512Mi")
    """Relay container requests and limits."""

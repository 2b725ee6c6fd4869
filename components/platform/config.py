"""The platform's config sections: ``quicstack:ingress`` (the ingress controller) and ``quicstack:acme`` (issuing)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from components.shared.fields import Email, K8sName
from components.shared.model import Model
from components.shared.resources import Resources

Challenge = Literal["http01", "dns01"]
Controller = Literal["ingress-nginx", "envoy-gateway"]


class AcmeConfig(Model):
    """Certificate issuing for every public host."""

    environment: Literal["production", "staging", "selfsigned"] = "selfsigned"
    """Let's Encrypt `production` or `staging`, or `selfsigned`: one local CA issues every certificate (local and test
    clusters)."""
    challenge: Challenge = "http01"
    """ACME challenge for the web and Envoy demo hosts: `http01` through the ingress controller, or `dns01` through
    `quicstack:dns` (on an existing cluster only `clouddns` with `dns.credentialsSecret`: the stack can give
    cert-manager no cloud identity there)."""
    relay_challenge: Optional[Challenge] = None
    """ACME challenge for the relay host; unset means the same as `challenge`. Must be `dns01` where the relay has its
    own load balancer (no TCP 80 behind its address)."""
    email: Optional[Email] = None
    """ACME account e-mail; required for `production` and `staging`."""

    @property
    def is_acme(self) -> bool:
        return self.environment != "selfsigned"

    @property
    def relay(self) -> Challenge:
        return self.relay_challenge or self.challenge

    @property
    def uses_dns01(self) -> bool:
        """Some host's certificate is validated over DNS-01."""
        return self.is_acme and "dns01" in (self.challenge, self.relay)


class IngressConfig(Model):
    """The edge: the ingress controller that serves the watch page and the relay's WebSocket fallback."""

    controller: Controller = "ingress-nginx"
    """`ingress-nginx` (retired upstream in March 2026: no more releases or security fixes) or `envoy-gateway`: Envoy
    Gateway with the Gateway API, which also serves the watch page over HTTP/3 where the cluster's load balancer
    takes TCP and UDP in one Service (docs/edge-gateway.md)."""
    http3: Optional[bool] = None
    """`envoy-gateway` only: HTTP/3 (UDP 443 next to TCP 443) at the edge. Unset means wherever the cluster supports
    it: GKE with `gke.mixedProtocol`, EKS, `existing.mixedProtocol` without a shared address, k3s without the relay
    (whose UDP 443 would collide on the node's address)."""
    class_name: K8sName = "nginx"
    """IngressClass name that Ingresses and the HTTP-01 solver use (a Kubernetes object name); with `envoy-gateway`
    the GatewayClass name."""
    service_type: Literal["LoadBalancer", "NodePort"] = "LoadBalancer"
    """How the controller is exposed; `NodePort` for clusters without a load balancer (the relay and the Envoy demo
    still take their ports on a shared address)."""
    replicas: Optional[int] = Field(default=None, le=20)
    """Controller replicas (at most 20); unset means 2 (with a PodDisruptionBudget) on GKE and EKS, 1 on k3s and
    existing clusters."""
    relay_udp: bool = False
    """Carry the relay's UDP 443 through the controller's Service (one mixed TCP+UDP load balancer). Only where the
    cluster supports mixed protocol, and with `serviceType: LoadBalancer`."""
    resources: Resources.section("100m", "128Mi", "1", "512Mi")  # type: ignore[valid-type]
    """Controller container requests and limits."""

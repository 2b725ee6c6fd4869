"""``quicstack:ingress``: the HTTP(S) ingress controller every stack gets."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from .base import K8sName, Model
from .resources import Resources


class Ingress(Model):
    """Ingress controller (ingress-nginx, the product's named default)."""

    class_name: K8sName = "nginx"
    """IngressClass name that Ingresses and the HTTP-01 solver use (a Kubernetes object name)."""
    service_type: Literal["LoadBalancer", "NodePort"] = "LoadBalancer"
    """How the controller is exposed; `NodePort` for clusters without a load balancer (the relay and the Envoy demo still take their ports on a shared address)."""
    replicas: Optional[int] = Field(default=None, le=20)
    """Controller replicas (at most 20); unset means 2 (with a PodDisruptionBudget) on GKE and EKS, 1 on k3s and existing clusters."""
    relay_udp: bool = False
    """Carry the relay's UDP 443 through the controller's Service (one mixed TCP+UDP load balancer). Only where the cluster supports mixed protocol, and with `serviceType: LoadBalancer`."""
    resources: Resources.section("100m", "128Mi", "1", "512Mi")  # type: ignore[valid-type]
    """Controller container requests and limits."""

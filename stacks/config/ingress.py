"""``quicstack:ingress``: the HTTP(S) ingress controller every stack gets."""

from __future__ import annotations

from typing import Literal, Optional

from .base import Model
from .resources import Resources


class Ingress(Model):
    """Ingress controller (ingress-nginx, the product's named default)."""

    class_name: str = "nginx"
    """IngressClass name that Ingresses and the HTTP-01 solver use."""
    service_type: Literal["LoadBalancer", "NodePort"] = "LoadBalancer"
    """How the controller is exposed; `NodePort` for clusters without a load balancer."""
    replicas: Optional[int] = None
    """Controller replicas; unset means 2 (with a PodDisruptionBudget) on GKE and EKS, 1 on k3s and existing clusters."""
    relay_udp: bool = False
    """Carry the relay's UDP 443 through the controller's Service (one mixed TCP+UDP load balancer). Only where the cluster supports mixed protocol."""
    resources: Resources = Resources.of("100m", "128Mi", "1", "512Mi")
    """Controller container requests and limits."""

"""``quicstack:existing``: a cluster the user already has (the default)."""

from __future__ import annotations

from typing import Optional

from components.cluster.profile import Profile
from components.shared.model import Model


class Existing(Model):
    """Deploy onto the cluster a kubeconfig points at (kind, k3d, minikube, Docker Desktop, any)."""

    kubeconfig: Optional[str] = None
    """Path to the kubeconfig file; unset means `$KUBECONFIG` or `~/.kube/config`."""
    context: Optional[str] = None
    """kubeconfig context; unset means the current context."""
    shared_address: bool = True
    """All LoadBalancer Services share one address (k3s/k3d ServiceLB, Docker Desktop, a single node): HTTP-01 works for
    the relay and host ports must not collide."""
    mixed_protocol: bool = False
    """The cluster's load balancer accepts one Service with TCP and UDP ports (needed for `ingress.relayUdp`)."""

    @property
    def profile(self) -> Profile:
        return Profile(shared_address=self.shared_address, shares_ingress_address=self.shared_address,
                       mixed_protocol=self.mixed_protocol, tcp_udp_service=self.mixed_protocol, managed=False,
                       dns_providers=("clouddns", "route53"))

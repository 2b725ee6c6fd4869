"""A cloud's facts as pure data: each cloud's config section (``stacks/config/<cloud>.py``) builds one.

Config rules and the cluster layer both read the profile, so nothing else asks which cloud it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Profile:
    """How the chosen cluster exposes LoadBalancer Services and which DNS it can use.

    Derived from config alone, so rules that depend on it run before any resource is registered.
    """

    shared_address: bool
    """Every LoadBalancer Service gets the same address (k3s ServiceLB): host ports must not collide."""
    shares_ingress_address: bool
    """An endpoint that asks to share the ingress's address gets it, with the ingress's TCP 80/443 behind it
    (HTTP-01 and the relay's WebSocket fallback go through the ingress)."""
    mixed_protocol: bool
    """One LoadBalancer Service may carry TCP and UDP ports."""
    tcp_udp_service: bool
    """A workload's own LoadBalancer Service may carry the same port over TCP and UDP (mixed-protocol
    clusters, and EKS, whose load balancer controller makes that one TCP_UDP NLB listener)."""
    managed: bool
    """A managed multi-node cloud cluster: system components run 2 replicas with a PodDisruptionBudget."""
    dns_providers: tuple[str, ...]
    """The DNS services (`dns.provider`) this cloud can write records and DNS-01 challenges to."""
    quic_lb: bool = False
    """The load balancer routes QUIC by server ID, and its controller injects each pod's server ID."""
    default_replicas: int = 2
    """Pods of a horizontally scaled workload (the Envoy demo) when its config leaves them unset."""
    dns_project: Optional[str] = None
    """The GCP project a Cloud DNS zone is in unless `dns.project` says otherwise."""
    dns_region: Optional[str] = None
    """The AWS region for Route53 calls unless `dns.region` says otherwise."""
    challenge_zone: bool = False
    """DNS-01 can be confined to a Cloud DNS challenge zone (`dns.challengeZone`): the stack gives cert-manager its
    Google identity, so it can grant on that zone alone, and writes the `_acme-challenge` CNAMEs."""

    @property
    def system_replicas(self) -> int:
        """Replicas of cert-manager and, unless set, the ingress controller: 2 on managed clouds."""
        return 2 if self.managed else 1

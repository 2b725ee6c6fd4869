"""What every cloud layer's ``Cluster`` has in common: the profile and the DNS-01 solver, from config."""

from __future__ import annotations

import pulumi_kubernetes as k8s

from components.cluster.contract import Cluster
from components.platform.issuers import dns01_solver
from stacks.config import Settings


def capabilities(settings: Settings, provider: k8s.Provider, **facts) -> Cluster:
    """The cluster's contract: ``facts`` are what the cloud layer adds (exposure, dependencies, records, outputs)."""
    dns = settings.dns
    solver = (dns01_solver(dns.provider, dns.dns01_zone, settings.dns_project, settings.dns_region,
                           dns.credentials_secret, follow_cnames=bool(dns.challenge_zone))
              if dns.provider != "none" else {})
    return Cluster(provider=provider, profile=settings.profile, dns01_solver=solver, **facts)

"""``quicstack:dns``: the DNS zone used for DNS-01 and for the records the stack creates."""

from __future__ import annotations

from typing import Literal, Optional

from components.shared.fields import K8sName
from components.shared.model import Model

from .eks import Region
from .k3s import GcpProject


class Dns(Model):
    """An existing DNS zone the stack may write to."""

    provider: Literal["none", "clouddns", "route53"] = "none"
    """`clouddns` (GCP stacks), `route53` (EKS), or `none`: records are managed outside the stack."""
    zone: Optional[str] = None
    """Cloud DNS managed-zone *name* (`example-com`, not the DNS name), or Route53 hosted-zone ID (`Z0123...`).
    Required unless `provider` is `none`."""
    project: Optional[GcpProject] = None
    """GCP project that owns the Cloud DNS zone; unset means the cluster's project."""
    region: Optional[Region] = None
    """AWS region for Route53 API calls; unset means the EKS region."""
    credentials_secret: Optional[K8sName] = None
    """Name of an existing Secret in the cert-manager namespace holding a Cloud DNS service-account key (`key.json`);
    unset means ambient credentials (GKE Workload Identity). Required for `dns01` through `clouddns` on an existing
    cluster; only read with `clouddns`."""
    challenge_zone: Optional[str] = None
    """GKE with `dns01` only: *name* of an existing public Cloud DNS managed zone, in the same project as `zone`, that
    holds nothing but ACME challenges (e.g. `acme-example-com` for `acme.example.com.`). cert-manager may then write
    only there; the stack CNAMEs each DNS-01 host's `_acme-challenge` name in `zone` to it. Unset: cert-manager may
    write every record of `zone`."""
    records: bool = True
    """Create A (or alias) records for the web, relay and Envoy demo hosts in `zone`."""

    @property
    def dns01_zone(self) -> Optional[str]:
        """The zone cert-manager writes DNS-01 TXT records to: the challenge zone if there is one."""
        return self.challenge_zone or self.zone

    def writes_records(self, provider: str) -> bool:
        """The stack manages the hosts' records in a zone of ``provider``."""
        return self.provider == provider and self.records

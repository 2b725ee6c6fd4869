"""``quicstack:dns``: the DNS zone used for DNS-01 and for the records the stack creates."""

from __future__ import annotations

from typing import Literal, Optional

from components.shared.model import Model


class Dns(Model):
    """An existing DNS zone the stack may write to."""

    provider: Literal["none", "clouddns", "route53"] = "none"
    """`clouddns` (GCP stacks), `route53` (EKS), or `none`: records are managed outside the stack."""
    zone: Optional[str] = None
    """Cloud DNS managed-zone name, or Route53 hosted-zone ID. Required unless `provider` is `none`."""
    project: Optional[str] = None
    """GCP project that owns the Cloud DNS zone; unset means the cluster's project."""
    region: Optional[str] = None
    """AWS region for Route53 API calls; unset means the EKS region."""
    credentials_secret: Optional[str] = None
    """Name of an existing Secret in the cert-manager namespace holding a Cloud DNS service-account key (`key.json`);
    unset means ambient credentials (GKE Workload Identity)."""
    records: bool = True
    """Create A (or alias) records for the web, relay and Envoy demo hosts in `zone`."""

    def writes_records(self, provider: str) -> bool:
        """The stack manages the hosts' records in a zone of ``provider``."""
        return self.provider == provider and self.records

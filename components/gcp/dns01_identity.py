"""Deploys the Google identity cert-manager uses for DNS-01 through Cloud DNS, via Workload Identity (no key).

- A Google service account, bound (``roles/iam.workloadIdentityUser``) to cert-manager's Kubernetes
  service account, so that pod, and no other, acts as it.
- A custom role with only the record-set permissions a DNS-01 solver needs, granted on the one managed
  zone rather than the project: the narrowest grant Cloud DNS supports. It works because the
  ClusterIssuer names the zone (``hostedZoneName``), so cert-manager never lists the project's zones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random

from components.gcp.service_account import service_account

# What cert-manager's Cloud DNS solver calls: list the TXT records, then add/delete them in a change.
DNS01_PERMISSIONS = (
    "dns.changes.create",
    "dns.changes.get",
    "dns.resourceRecordSets.create",
    "dns.resourceRecordSets.delete",
    "dns.resourceRecordSets.list",
    "dns.resourceRecordSets.update",
)
ANNOTATION = "iam.gke.io/gcp-service-account"


@dataclass(frozen=True)
class Dns01IdentityArgs:
    project: str
    """The cluster's project: its Workload Identity pool and the Google service account."""
    account_id: str
    """ID of the Google service account."""
    dns_project: str
    """Project that owns the managed zone (and so the custom role)."""
    zone: str
    """Managed-zone name the solver writes to."""
    namespace: str
    """Namespace of cert-manager's Kubernetes service account."""
    service_account: str
    """Name of cert-manager's Kubernetes service account."""
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    """The cluster: its Workload Identity pool must exist before anything is bound to it."""


class Dns01Identity(pulumi.ComponentResource):
    email: pulumi.Output[str]
    """The Google service account cert-manager acts as."""
    annotations: dict[str, pulumi.Output[str]]
    """For cert-manager's ServiceAccount: which Google service account its pods act as."""

    def __init__(self, name: str, args: Dns01IdentityArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:gcp:Dns01Identity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = service_account(
            f"{name}-sa", args.project, args.account_id, "quicstack cert-manager DNS-01 (one zone's records)", child,
        ).account
        # https://cloud.google.com/iam/docs/creating-custom-roles#deleting-custom-role
        # A deleted custom role's ID stays reserved for 37 days: a fresh suffix per role lets the stack
        # be destroyed and created again at any time.
        suffix = random.RandomId(f"{name}-role-suffix", byte_length=4, opts=child)
        role = gcp.projects.IAMCustomRole(
            f"{name}-role",
            project=args.dns_project,
            role_id=pulumi.Output.concat("quicstackDns01_", suffix.hex),
            title="quicstack DNS-01 solver",
            description="Create and delete the _acme-challenge TXT records of one managed zone.",
            permissions=list(DNS01_PERMISSIONS),
            opts=child,
        )
        zone_grant = gcp.dns.DnsManagedZoneIamMember(
            f"{name}-zone",
            project=args.dns_project,
            managed_zone=args.zone,
            role=role.name,
            member=account.member,
            opts=child,
        )
        binding = gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity",
            service_account_id=account.name,
            role="roles/iam.workloadIdentityUser",
            member=f"serviceAccount:{args.project}.svc.id.goog[{args.namespace}/{args.service_account}]",
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        self.email = account.email
        # The annotation carries the grants as dependencies: cert-manager starts once it may act.
        self.annotations = {
            ANNOTATION: pulumi.Output.all(account.email, zone_grant.id, binding.id).apply(lambda a: a[0])
        }
        self.register_outputs({"email": self.email})

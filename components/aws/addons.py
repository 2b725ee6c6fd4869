"""The EKS-managed add-ons: vpc-cni, kube-proxy, coredns and eks-pod-identity-agent.

EKS bootstraps self-managed vpc-cni, kube-proxy and coredns with the cluster, so the nodes become
Ready without these; the managed add-ons then take them over. Created after the nodes, because the
coredns add-on only becomes ACTIVE once its pods run somewhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pulumi
import pulumi_aws as aws

ADDONS = ("vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent")
# Without this the VPC CNI ignores NetworkPolicies, and the relay's and Envoy's policies are decoration
# (https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy-configure.html).
CONFIGURATION = {"vpc-cni": {"enableNetworkPolicy": "true"}}


@dataclass(frozen=True)
class AddonsArgs:
    cluster_name: pulumi.Input[str]
    """Cluster to install into."""
    kubernetes_version: str
    """Kubernetes minor version; each add-on without a pin gets EKS's default version for it."""
    versions: Mapping[str, str] = field(default_factory=dict)
    """Pinned add-on versions by name."""
    wait_for: Sequence[pulumi.Resource] = ()
    """The node group (coredns is ACTIVE only once its pods run)."""


class Addons(pulumi.ComponentResource):
    addons: dict[str, aws.eks.Addon]

    def __init__(self, name: str, args: AddonsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("quicstack:aws:Addons", name, None, opts)
        self.addons = {}
        for addon in ADDONS:
            version = args.versions.get(addon) or aws.eks.get_addon_version_output(
                addon_name=addon, kubernetes_version=args.kubernetes_version, most_recent=False,
                opts=pulumi.InvokeOutputOptions(parent=self)).version
            self.addons[addon] = aws.eks.Addon(
                f"{name}-{addon}",
                cluster_name=args.cluster_name,
                addon_name=addon,
                addon_version=version,
                configuration_values=json.dumps(CONFIGURATION[addon]) if addon in CONFIGURATION else None,
                # The stack owns these add-ons' settings: take over what EKS bootstrapped.
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for)),
            )
        self.register_outputs({"addons": {n: a.addon_version for n, a in self.addons.items()}})

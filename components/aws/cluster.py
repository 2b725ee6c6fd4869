"""The EKS control plane: its IAM role, its CloudWatch log group, the cluster itself in access-entry
(API) mode with the creator as bootstrap admin, one access entry per extra admin, and a kubeconfig
that authenticates through ``aws eks get-token``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Sequence

import pulumi
import pulumi_aws as aws

from .iam import trust_policy

ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
CLUSTER_POLICY = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"


def kubeconfig(name: str, region: str, endpoint: str, ca_data: str) -> str:
    """A kubeconfig whose credential is a short-lived token from the AWS CLI, minted on every use with
    the caller's own AWS credentials (nothing secret is stored in it)."""
    return json.dumps({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
        "users": [{"name": name, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["--region", region, "eks", "get-token", "--cluster-name", name, "--output", "json"],
            "interactiveMode": "Never",
        }}}],
    })


@dataclass(frozen=True)
class EksClusterArgs:
    name: str
    """Cluster name (also what the load balancer controller and `aws eks get-token` are told)."""
    region: str
    """AWS region of the provider (for the kubeconfig)."""
    version: str
    """Kubernetes minor version."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """Subnets for the control plane's network interfaces (the private ones)."""
    public_access_cidrs: Sequence[str]
    """IPv4 blocks allowed to reach the public API endpoint."""
    admins: Sequence[str]
    """IAM principal ARNs given cluster-admin besides the creator."""
    log_types: Sequence[str]
    """Control-plane log types sent to CloudWatch."""
    log_retention_days: int
    """Days the control-plane log group keeps events."""


class EksCluster(pulumi.ComponentResource):
    cluster: aws.eks.Cluster
    name: pulumi.Output[str]
    arn: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    access: list[aws.eks.AccessPolicyAssociation]

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("quicstack:aws:EksCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-cluster",
            assume_role_policy=json.dumps(trust_policy("eks.amazonaws.com", "sts:AssumeRole", "sts:TagSession")),
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-cluster", role=role.name, policy_arn=CLUSTER_POLICY, opts=child
        )
        # EKS would create this group itself on first log and leave it behind after destroy; owning it
        # lets destroy remove it (after the cluster, which depends on it).
        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=f"/aws/eks/{args.name}/cluster", retention_in_days=args.log_retention_days, opts=child)
        self.cluster = aws.eks.Cluster(
            f"{name}",
            name=args.name,
            version=args.version,
            role_arn=role.arn,
            vpc_config={
                "subnet_ids": list(args.subnet_ids),
                "endpoint_private_access": True,
                "endpoint_public_access": True,
                "public_access_cidrs": list(args.public_access_cidrs),
            },
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": True},
            kubernetes_network_config={"ip_family": "ipv4"},
            enabled_cluster_log_types=list(args.log_types),
            # Move to the next version when standard support ends, rather than paying for extended support.
            upgrade_policy={"support_type": "STANDARD"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment, logs]),
        )
        self.access = []
        for i, principal in enumerate(args.admins):
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{i}",
                cluster_name=self.cluster.name,
                principal_arn=principal,
                type="STANDARD",
                opts=child,
            )
            self.access.append(
                aws.eks.AccessPolicyAssociation(
                    f"{name}-admin-{i}",
                    cluster_name=self.cluster.name,
                    principal_arn=entry.principal_arn,
                    policy_arn=ADMIN_POLICY,
                    access_scope={"type": "cluster"},
                    opts=child,
                )
            )
        self.name = self.cluster.name
        self.arn = self.cluster.arn
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.cluster.name, self.cluster.endpoint, self.cluster.certificate_authority).apply(
                lambda v: kubeconfig(v[0], args.region, v[1], v[2]["data"])
            )
        )
        self.register_outputs({"name": self.name, "endpoint": self.cluster.endpoint})

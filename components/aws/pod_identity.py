"""An IAM role for one Kubernetes ServiceAccount through EKS Pod Identity: the role (trusting the Pod
Identity service), its policy, the attachment and the association with ``namespace/serviceAccount``.

Pods read the credentials at start, from the eks-pod-identity-agent; whatever runs as the
ServiceAccount must therefore be created after ``association`` and ``attachment``.

The trust policy admits the Pod Identity service only for this account, this cluster and this
``namespace/serviceAccount`` (the session tags Pod Identity sets,
https://docs.aws.amazon.com/eks/latest/userguide/pod-id-abac.html): an association made elsewhere
in the account for the same role is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

import pulumi
import pulumi_aws as aws

from .iam import trust_policy

# Pod Identity assumes the role and tags the session with the cluster, namespace and ServiceAccount.
POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"
POD_IDENTITY_ACTIONS = ("sts:AssumeRole", "sts:TagSession")


def scoped_trust_policy(cluster_arn: str, namespace: str, service_account: str) -> dict[str, Any]:
    """Pod Identity's trust, for one cluster's ``namespace/service_account`` in the cluster's account."""
    doc = trust_policy(POD_IDENTITY_SERVICE, *POD_IDENTITY_ACTIONS)
    doc["Statement"][0]["Condition"] = {"StringEquals": {
        "aws:SourceAccount": cluster_arn.split(":")[4],
        "aws:RequestTag/eks-cluster-arn": cluster_arn,
        "aws:RequestTag/kubernetes-namespace": namespace,
        "aws:RequestTag/kubernetes-service-account": service_account,
    }}
    return doc


@dataclass(frozen=True)
class PodIdentityRoleArgs:
    cluster_name: pulumi.Input[str]
    """EKS cluster that runs the ServiceAccount."""
    cluster_arn: pulumi.Input[str]
    """Its ARN (the trust policy admits only this cluster and its account)."""
    namespace: str
    """Namespace of the ServiceAccount."""
    service_account: str
    """Name of the ServiceAccount."""
    policy: Mapping[str, Any]
    """IAM policy document the role grants."""
    description: str
    """What the role is for (shown in the IAM console)."""


class PodIdentityRole(pulumi.ComponentResource):
    role: aws.iam.Role
    attachment: aws.iam.RolePolicyAttachment
    association: aws.eks.PodIdentityAssociation

    def __init__(self, name: str, args: PodIdentityRoleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("quicstack:aws:PodIdentityRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role = aws.iam.Role(
            f"{name}",
            assume_role_policy=pulumi.Output.from_input(args.cluster_arn).apply(
                lambda arn: json.dumps(scoped_trust_policy(arn, args.namespace, args.service_account))),
            description=args.description,
            opts=child,
        )
        policy = aws.iam.Policy(f"{name}", policy=json.dumps(args.policy), description=args.description, opts=child)
        self.attachment = aws.iam.RolePolicyAttachment(
            f"{name}", role=self.role.name, policy_arn=policy.arn, opts=child
        )
        self.association = aws.eks.PodIdentityAssociation(
            f"{name}", cluster_name=args.cluster_name, namespace=args.namespace, service_account=args.service_account,
            role_arn=self.role.arn, opts=child)
        self.register_outputs({"roleArn": self.role.arn, "associationId": self.association.association_id})

"""An IAM role for one Kubernetes ServiceAccount through EKS Pod Identity: the role (trusting the Pod
Identity service), its policy, the attachment and the association with ``namespace/serviceAccount``.

Pods read the credentials at start, from the eks-pod-identity-agent; whatever runs as the
ServiceAccount must therefore be created after ``association`` and ``attachment``.
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


@dataclass(frozen=True)
class PodIdentityRoleArgs:
    cluster_name: pulumi.Input[str]
    """EKS cluster that runs the ServiceAccount."""
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
            assume_role_policy=json.dumps(trust_policy(POD_IDENTITY_SERVICE, *POD_IDENTITY_ACTIONS)),
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

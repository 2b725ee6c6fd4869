"""The AWS Load Balancer Controller: its IAM policy (the controller's published policy, vendored and
pinned to the chart's controller version), a Pod Identity role for ``kube-system/aws-load-balancer-controller``,
and the Helm release (chart 3.5.0; QUIC needs at least chart 1.15.0 / controller 2.15.0).

The controller creates the NLBs of every ``loadBalancerClass: service.k8s.aws/nlb`` Service and
injects QUIC server IDs into pods. Its webhooks fail closed, so it runs 2 replicas with a
PodDisruptionBudget; and it must outlive every LoadBalancer Service so it can delete their NLBs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.contract import Exposure
from components.helm import release_options

from .pod_identity import PodIdentityRole, PodIdentityRoleArgs

CHART = "aws-load-balancer-controller"
CHART_VERSION = "3.5.0"
CHART_REPO = "https://aws.github.io/eks-charts"
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "aws-load-balancer-controller"
LOAD_BALANCER_CLASS = "service.k8s.aws/nlb"
# From docs/install/iam_policy.json at the controller tag matching CHART_VERSION (unchanged v2.13.0 to v3.5.0).
POLICY_FILE = Path(__file__).parent / "policies" / f"aws-load-balancer-controller-v{CHART_VERSION}.json"

_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-"


def controller_policy() -> dict[str, Any]:
    return json.loads(POLICY_FILE.read_text())


READINESS_GATE_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"


def nlb(name: str, *, quic_port: int | None = None, tcp_udp: bool = False) -> Exposure:
    """An internet-facing NLB with pod IP targets, named ``name`` (at most 32 characters, fixed at creation).

    ``tcp_udp`` merges a Service's TCP and UDP ports of the same number into one TCP_UDP listener;
    ``quic_port`` turns that port's listener into QUIC/TCP_QUIC, routing by the server ID in each
    connection ID. QUIC listeners are not allowed on NLBs with security groups, so those NLBs get none.
    """
    annotations = {
        f"{_ANNOTATION}name": name,
        f"{_ANNOTATION}nlb-target-type": "ip",
        f"{_ANNOTATION}scheme": "internet-facing",
    }
    if tcp_udp or quic_port is not None:
        annotations[f"{_ANNOTATION}enable-tcp-udp-listener"] = "true"
    if quic_port is not None:
        annotations[f"{_ANNOTATION}quic-enabled-ports"] = str(quic_port)
        annotations[f"{_ANNOTATION}disable-nlb-sg"] = "true"
    # A rollout waits until each new pod is healthy in its target group, not only Ready in Kubernetes
    # (https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/pod_readiness_gate/).
    return Exposure(class_name=LOAD_BALANCER_CLASS, annotations=annotations,
                    namespace_labels={READINESS_GATE_LABEL: "enabled"})


def release_values(
    cluster_name: pulumi.Input[str], region: str, vpc_id: pulumi.Input[str], tags: Mapping[str, str]
) -> dict[str, Any]:
    return {
        "clusterName": cluster_name,
        # Given rather than discovered: pods cannot reach the instance metadata service (hop limit 1).
        "region": region,
        "vpcId": vpc_id,
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT},
        # Reuse the webhook certificate across upgrades instead of regenerating it on every render.
        "keepTLSSecret": True,
        # The QUIC server-ID webhook fails closed: without a running replica no pod starts in a QUIC namespace.
        "replicaCount": 2,
        "podDisruptionBudget": {"maxUnavailable": 1},
        # Every LoadBalancer Service here names its class, so the Service mutator adds nothing; left on,
        # its fail-closed webhook would block every Service creation in the cluster while the controller is down.
        "enableServiceMutatorWebhook": False,
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
        # The stack's tags on every NLB, target group and security group the controller creates, so leftovers are
        # findable.
        "defaultTags": dict(tags),
    }


@dataclass(frozen=True)
class LoadBalancerControllerArgs:
    cluster_name: pulumi.Input[str]
    """EKS cluster name."""
    cluster_arn: pulumi.Input[str]
    """EKS cluster ARN (scopes the controller's Pod Identity trust)."""
    region: str
    """AWS region."""
    vpc_id: pulumi.Input[str]
    """VPC of the cluster."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for the AWS resources the controller creates."""
    wait_for: Sequence[pulumi.Resource] = ()
    """What the controller's pods need first (the nodes, the Pod Identity agent); destroy then removes
    the controller before them."""


class LoadBalancerController(pulumi.ComponentResource):
    identity: PodIdentityRole
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: LoadBalancerControllerArgs, opts: pulumi.ResourceOptions | None = None):
        """``opts`` must carry both the AWS and the Kubernetes provider."""
        super().__init__("quicstack:aws:LoadBalancerController", name, None, opts)
        self.identity = PodIdentityRole(
            f"{name}",
            PodIdentityRoleArgs(
                cluster_name=args.cluster_name,
                cluster_arn=args.cluster_arn,
                namespace=NAMESPACE,
                service_account=SERVICE_ACCOUNT,
                policy=controller_policy(),
                description=f"AWS Load Balancer Controller {CHART_VERSION}",
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.release = k8s.helm.v3.Release(
            f"{name}",
            name=CHART,
            chart=CHART,
            version=CHART_VERSION,
            repository_opts={"repo": CHART_REPO},
            namespace=NAMESPACE,
            values=release_values(args.cluster_name, args.region, args.vpc_id, args.tags),
            **release_options(),
            # The controller reads its credentials at start: the association and the policy come first.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[self.identity.attachment, self.identity.association, *args.wait_for]
            ),
        )
        self.register_outputs({"release": self.release.status})

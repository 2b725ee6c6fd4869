"""Deploys cert-manager v1.21.1 as a pinned Helm release, CRDs included."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.helm import chart_selector, release_options, spread_over_nodes
from components.k8s import restricted_namespace

CHART = "oci://quay.io/jetstack/charts/cert-manager"
CHART_VERSION = "v1.21.1"
NAMESPACE = "cert-manager"
# The controller's ServiceAccount (chart default name): the identity that answers DNS-01 challenges,
# which GKE Workload Identity and EKS Pod Identity bind to.
SERVICE_ACCOUNT = "cert-manager"
# Selector labels of the controller and webhook pods (chart v1.21.1, deployment.yaml, webhook-deployment.yaml).
CONTROLLER_SELECTOR = chart_selector("cert-manager", "cert-manager", "controller")
WEBHOOK_SELECTOR = chart_selector("webhook", "cert-manager", "webhook")


@dataclass(frozen=True)
class CertManagerArgs:
    replicas: int
    """Controller and webhook pods; 2 (each with a PodDisruptionBudget) on managed clouds."""
    service_account_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Annotations on the controller's ServiceAccount (GKE Workload Identity)."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must run before the release (EKS: the load balancer controller; the Gateway API CRDs)."""
    gateway_api: bool = False
    """Issue the certificates of Gateway listeners (cert-manager's gateway-shim); the CRDs must exist at its start."""


def _resources(cpu: str, memory: str) -> dict:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": "500m", "memory": "256Mi"}}


class CertManager(pulumi.ComponentResource):
    def __init__(self, name: str, args: CertManagerArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:platform:CertManager", name, None, opts)
        ha = {"enabled": args.replicas > 1, "minAvailable": 1}
        spread = args.replicas > 1
        values = {
            # Installs and upgrades the CRDs with the chart (the old `installCRDs` value is gone);
            # crds.keep (default true) leaves them, and so every certificate, on uninstall.
            "crds": {"enabled": True},
            "replicaCount": args.replicas,
            "podDisruptionBudget": ha,
            "topologySpreadConstraints": spread_over_nodes(CONTROLLER_SELECTOR) if spread else [],
            "resources": _resources("20m", "64Mi"),
            "serviceAccount": {"name": SERVICE_ACCOUNT, "annotations": dict(args.service_account_annotations)},
            "webhook": {"replicaCount": args.replicas, "podDisruptionBudget": ha,
                        "resources": _resources("10m", "32Mi"),
                        "topologySpreadConstraints": spread_over_nodes(WEBHOOK_SELECTOR) if spread else []},
            "cainjector": {"resources": _resources("10m", "64Mi")},
            # The post-install startupapicheck Job retries until the webhook admits a test object;
            # Helm (and so this Release, which waits) completes only then. Issuers created after the
            # release therefore never hit "failed calling webhook ... connection refused".
            "startupapicheck": {"enabled": True, "resources": _resources("10m", "32Mi")},
        }
        if args.gateway_api:
            # The controller's config file (chart value `config`, cert-manager v1.21.1): `gatewayAPI.enabled`
            # replaces the deprecated `enableGatewayAPI` (internal/apis/config/controller/v1alpha1/defaults.go).
            values["config"] = {"apiVersion": "controller.config.cert-manager.io/v1alpha1",
                                "kind": "ControllerConfiguration", "gatewayAPI": {"enabled": True}}
        # Every pod of the chart meets Pod Security restricted (chart values securityContext and
        # containerSecurityContext); the namespace makes the API server hold it to that.
        namespace = restricted_namespace(f"{name}-namespace", NAMESPACE, pulumi.ResourceOptions(parent=self))
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name="cert-manager",
            chart=CHART,
            version=CHART_VERSION,
            namespace=namespace.metadata.name,
            values=values,
            **release_options(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, *args.depends_on]),
        )
        self.register_outputs({})

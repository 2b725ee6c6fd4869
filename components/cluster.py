"""What a cluster layer (``stacks/<cloud>.py``) hands to the platform and the workloads above it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class LoadBalancer:
    """How the cluster exposes one LoadBalancer Service."""

    address: Optional[pulumi.Input[str]] = None
    """A reserved static address (``spec.loadBalancerIP``); None lets the cloud pick one."""
    class_name: Optional[str] = None
    """``spec.loadBalancerClass``, selecting the controller that provisions the load balancer."""
    annotations: Mapping[str, str] = field(default_factory=dict)
    """Service annotations the cloud's load balancer controller reads."""

    def spec(self) -> dict:
        """The Service spec fields this exposure sets."""
        spec: dict = {"type": "LoadBalancer", "externalTrafficPolicy": "Local"}
        if self.address is not None:
            spec["loadBalancerIP"] = self.address
        if self.class_name:
            spec["loadBalancerClass"] = self.class_name
        return spec


def load_balancer_service_options(dependencies: Sequence[pulumi.Resource]) -> pulumi.ResourceOptions:
    """Options every LoadBalancer Service a workload creates must carry.

    The Service is created after, and so deleted before, whatever owns its cloud load balancer; the
    delete waits for the cloud to remove the load balancer (NLBs take minutes), so nothing is orphaned.
    """
    return pulumi.ResourceOptions(depends_on=list(dependencies), custom_timeouts=pulumi.CustomTimeouts(delete="15m"))


@dataclass(frozen=True)
class Cluster:
    """A ready cluster and the facts about it that the layers above need."""

    provider: k8s.Provider
    """The one Kubernetes provider every Kubernetes resource of the stack uses."""
    ingress: LoadBalancer = LoadBalancer()
    """Exposure of the ingress controller's Service."""
    relay: LoadBalancer = LoadBalancer()
    """Exposure of the relay's UDP Service."""
    envoy: LoadBalancer = LoadBalancer()
    """Exposure of the Envoy demo's Service."""
    cert_manager_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Annotations for cert-manager's ServiceAccount (GKE Workload Identity for DNS-01)."""
    load_balancer_dependencies: Sequence[pulumi.Resource] = ()
    """What every LoadBalancer Service must be created after and deleted before (the controller that
    owns its cloud load balancer, that controller's IAM, the nodes): encodes teardown order."""
    platform_dependencies: Sequence[pulumi.Resource] = ()
    """What the platform's Helm releases wait for (EKS: the load balancer controller, whose webhook
    rejects new Services while it is down)."""
    publish_records: Optional[Callable[[Mapping[str, pulumi.Output[str]]], None]] = None
    """Creates DNS records for host -> load balancer address once the Services have addresses; None
    where the cluster layer already pointed records at reserved addresses (or DNS is not managed)."""

"""What a cluster layer (``stacks/<cloud>.py``) hands to the platform and the workloads above it.

A capability contract, not a list of workloads: a workload asks ``expose`` for its named public
endpoint and gets the Service settings the cloud needs; every cloud publishes DNS records the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.profile import Profile


@dataclass(frozen=True)
class Exposure:
    """How the cluster exposes one LoadBalancer Service."""

    address: Optional[pulumi.Input[str]] = None
    """A reserved static address (``spec.loadBalancerIP``); None lets the cloud pick one."""
    class_name: Optional[str] = None
    """``spec.loadBalancerClass``, selecting the controller that provisions the load balancer."""
    annotations: Mapping[str, str] = field(default_factory=dict)
    """Service annotations the cloud's load balancer controller reads."""
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    """Labels the namespace of the exposed pods carries (EKS: the controller's pod readiness gate)."""

    def spec(self) -> dict:
        """The Service spec fields this exposure sets."""
        spec: dict = {"type": "LoadBalancer", "externalTrafficPolicy": "Local"}
        if self.address is not None:
            spec["loadBalancerIP"] = self.address
        if self.class_name:
            spec["loadBalancerClass"] = self.class_name
        return spec


@dataclass(frozen=True)
class ExposeRequest:
    """A workload's request for a public endpoint of its own."""

    endpoint: str
    """The endpoint's name (``ingress``, ``relay``, ``envoy``): names the cloud's load balancer and reserved address."""
    tcp_udp: bool = False
    """TCP and UDP on the same port (one TCP_UDP listener where the cloud has them)."""
    quic_port: Optional[int] = None
    """A port whose QUIC the load balancer should route by server ID, where it can."""


@dataclass(frozen=True)
class PublicEndpoint:
    """A public host and the load balancer address it must resolve to."""

    host: str
    endpoint: str
    """The name the workload exposed it under (see ``ExposeRequest.endpoint``)."""
    address: pulumi.Input[str]
    """The address the Service reports (IP or host name)."""


def load_balancer_service_options(dependencies: Sequence[pulumi.Resource]) -> pulumi.ResourceOptions:
    """Options every LoadBalancer Service a workload creates must carry.

    The Service is created after, and so deleted before, whatever owns its cloud load balancer; the
    delete waits for the cloud to remove the load balancer (NLBs take minutes), so nothing is orphaned.
    """
    return pulumi.ResourceOptions(depends_on=list(dependencies), custom_timeouts=pulumi.CustomTimeouts(delete="15m"))


RecordWriter = Callable[[Mapping[str, pulumi.Input[str]]], None]


@dataclass(frozen=True)
class Cluster:
    """A ready cluster and its capabilities; each cloud layer fills the facts that differ."""

    provider: k8s.Provider
    """The one Kubernetes provider every Kubernetes resource of the stack uses."""
    profile: Profile
    """The cloud's facts (shared address, mixed protocol, QUIC-LB routing, ...)."""
    expose: Callable[[ExposeRequest], Exposure] = lambda request: Exposure()
    """The Service settings for a named public endpoint."""
    dns01_solver: Mapping[str, object] = field(default_factory=dict)
    """cert-manager's ``dns01`` solver stanza for the cluster's identity; empty without a DNS provider."""
    cert_manager_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Annotations for cert-manager's ServiceAccount (GKE Workload Identity for DNS-01)."""
    load_balancer_dependencies: Sequence[pulumi.Resource] = ()
    """What every LoadBalancer Service must be created after and deleted before (the controller that
    owns its cloud load balancer, that controller's IAM, the nodes): encodes teardown order."""
    platform_dependencies: Sequence[pulumi.Resource] = ()
    """What the platform's Helm releases wait for (EKS: the load balancer controller, whose webhook
    rejects new Services while it is down)."""
    reserved: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Endpoint name -> its reserved address, known before any Service exists; records of other
    endpoints point at the address their Service reports."""
    record_address: Optional[pulumi.Input[str]] = None
    """The one address every host resolves to, where every Service shares it (k3s: the node's)."""
    write_records: Optional[RecordWriter] = None
    """Creates DNS records host -> address in the stack's zone; None where DNS is not managed."""
    outputs: Mapping[str, pulumi.Input] = field(default_factory=dict)
    """The layer's stack outputs by ``StackOutputs`` field name (kubeconfig, cluster name, ...)."""

    def publish_records(self, endpoints: Sequence[PublicEndpoint]) -> None:
        """DNS records for every public endpoint, the same way on every cloud; call once, with all of them."""
        if self.write_records:
            shared = self.record_address
            self.write_records({e.host: shared if shared is not None else self.reserved.get(e.endpoint, e.address)
                                for e in endpoints})

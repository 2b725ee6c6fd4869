"""``quicstack:gke``: a Standard GKE cluster (Autopilot cannot set the node sysctls QUIC needs)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Optional

from pydantic import Field

from components.cluster.profile import Profile
from components.shared.errors import ConfigError
from components.shared.fields import matching
from components.shared.model import Model

from . import exposure, networks
from .k3s import GcpProject, GcpRegion, GcpZone, Ipv4Cidr, MachineType, disjoint, zone_in

# The rules below read the whole stack config (``Settings``), which composes this section: it is
# passed in, not imported, so the two modules do not import each other.
Settings = Any

_GKE_VERSION = re.compile(r"1\.([0-9]+)(\.([0-9]+)(-gke\.([0-9]+))?)?")
# New clusters at this version or later accept one LoadBalancer Service with TCP and UDP ports.
MIXED_PROTOCOL_MIN_VERSION = "1.34.1-gke.2190000"
# The backend-service-based external passthrough load balancer, the only kind that takes mixed protocols.
MIXED_PROTOCOL_CLASS = "networking.gke.io/l4-regional-external"


def version_key(version: str) -> tuple[int, int, int]:
    """(minor, patch, gke build); a missing part counts as 0, so `1.34` sorts below every 1.34.x."""
    m = _GKE_VERSION.fullmatch(version)
    return int(m.group(1)), int(m.group(3) or 0), int(m.group(5) or 0)


class NodePool(Model):
    """The cluster's one node pool, tuned for QUIC."""

    machine_type: MachineType = "e2-standard-2"
    """Node machine type."""
    min_nodes: int = Field(default=1, ge=1, le=100)
    """Fewest nodes per zone the autoscaler keeps."""
    max_nodes: int = Field(default=3, ge=1, le=100)
    """Most nodes per zone the autoscaler adds."""
    disk_size_gb: int = Field(default=50, ge=20, le=2000)
    """Boot disk size of each node in GB."""
    spot: bool = False
    """Spot VMs: much cheaper, but GCE may reclaim them at any time."""


class Gke(Model):
    """A Standard GKE cluster with a QUIC-tuned node pool."""

    project: GcpProject
    """GCP project to create the cluster in."""
    region: GcpRegion
    """GCP region of the static addresses, the subnet and a regional cluster."""
    zone: Optional[GcpZone] = None
    """Zone of a zonal cluster (the default, cheapest), inside `region`, e.g. `europe-west1-b`. Leave unset with
    `regional`."""
    regional: bool = False
    """A regional cluster: control plane and nodes in every zone of `region` (more available, and nodes cost per zone).
    """
    release_channel: Literal["RAPID", "REGULAR", "STABLE", "EXTENDED"] = "REGULAR"
    """GKE release channel the cluster follows."""
    min_master_version: Optional[
        Annotated[str, matching(_GKE_VERSION, "is not a GKE version such as 1.34 or 1.34.1-gke.2190000")]
    ] = None
    """Lowest control-plane version to create the cluster at, e.g. `1.34.1-gke.2190000`; unset means the channel's
    default."""
    mixed_protocol: bool = False
    """Create every LoadBalancer Service with `loadBalancerClass: networking.gke.io/l4-regional-external`, which accepts
    TCP and UDP ports in one Service (allows `ingress.relayUdp`). Needs a cluster created at 1.34.1-gke.2190000 or
    later: set `minMasterVersion`."""
    deletion_protection: bool = False
    """GKE refuses to delete a protected cluster: with `true`, `pulumi destroy` fails until it is set back to `false`
    and applied."""
    node_pool: NodePool = NodePool()
    """The node pool."""
    subnet_cidr: Ipv4Cidr = "10.20.0.0/20"
    """Primary range of the cluster's subnet (node addresses)."""
    pod_cidr: Ipv4Cidr = "10.24.0.0/14"
    """Secondary range for pod addresses (VPC-native)."""
    service_cidr: Ipv4Cidr = "10.28.0.0/20"
    """Secondary range for Service cluster IPs."""
    admin_cidrs: list[Ipv4Cidr]
    """IPv4 blocks allowed to reach the control plane (master authorized networks): the machine running `pulumi up` and
    your own, e.g. `203.0.113.7/32` (requests still need Google credentials)."""
    allow_open_admin: bool = False
    """Permit `0.0.0.0/0` in `adminCidrs` (the control plane open to the internet, guarded only by Google credentials).
    Off: an open block is a config error."""

    @property
    def profile(self) -> Profile:
        # One reserved address serves the ingress and the relay's Service (stacks/gke.py).
        return Profile(shared_address=False, shares_ingress_address=True, mixed_protocol=self.mixed_protocol,
                       tcp_udp_service=self.mixed_protocol, managed=True, dns_providers=("clouddns",),
                       dns_project=self.project, challenge_zone=True)


def check(s: "Settings") -> None:
    """GKE rules that span keys."""
    gke: Gke = s.cluster
    if gke.admin_cidrs == []:
        raise ConfigError("gke.adminCidrs", "is empty, which closes the control plane to everyone, Pulumi included: "
                          "list your addresses", has_value=False)
    if gke.regional and gke.zone:
        raise ConfigError(
            "gke.zone",
            "is set, but gke.regional is true: a regional cluster uses every zone of gke.region; " "remove gke.zone",
            gke.zone,
        )
    if not gke.regional and not gke.zone:
        raise ConfigError(
            "gke.zone",
            f"is required for a zonal cluster (e.g. {gke.region}-b), or set gke.regional true",
            has_value=False,
        )
    zone_in(gke.zone, gke.region, "gke")
    if not gke.allow_open_admin:
        exposure.check_admin_cidrs("gke.adminCidrs", gke.admin_cidrs, "gke.allowOpenAdmin", opens="the Kubernetes API")
    pool = gke.node_pool
    if pool.min_nodes > pool.max_nodes:
        raise ConfigError(
            "gke.nodePool.minNodes", f"is greater than gke.nodePool.maxNodes ({pool.max_nodes})", pool.min_nodes
        )
    disjoint({"gke.subnetCidr": gke.subnet_cidr, "gke.podCidr": gke.pod_cidr, "gke.serviceCidr": gke.service_cidr})
    _ranges(gke)
    if gke.mixed_protocol:
        if not gke.min_master_version:
            raise ConfigError(
                "gke.minMasterVersion",
                f"is required when gke.mixedProtocol is true: only clusters created at "
                f"{MIXED_PROTOCOL_MIN_VERSION} or later accept a mixed-protocol Service",
                has_value=False,
            )
        if version_key(gke.min_master_version) < version_key(MIXED_PROTOCOL_MIN_VERSION):
            raise ConfigError(
                "gke.minMasterVersion",
                f"is below {MIXED_PROTOCOL_MIN_VERSION}, the first version whose new clusters "
                "accept a mixed-protocol Service (gke.mixedProtocol)",
                gke.min_master_version,
            )
    hosts = s.hosts
    if s.envoy_demo.enabled and hosts.envoy in {hosts.web, hosts.relay}:
        raise ConfigError(
            "envoyDemo.host",
            "is also the web or relay host, but on GKE the Envoy demo has an address of its own; "
            "choose another host",
            hosts.envoy,
        )


def _ranges(gke: Gke) -> None:
    """Private ranges, a subnet GCP accepts with an address per node, and a Pod block per node."""
    for key, cidr, what in (("gke.subnetCidr", gke.subnet_cidr, "the cluster's subnet (node addresses)"),
                            ("gke.podCidr", gke.pod_cidr, "the Pod range"),
                            ("gke.serviceCidr", gke.service_cidr, "the Service range")):
        networks.private(key, cidr, what)
    nodes = gke.node_pool.max_nodes * (networks.GKE_REGIONAL_ZONES if gke.regional else 1)
    networks.subnet("gke.subnetCidr", gke.subnet_cidr, networks.GCP_SMALLEST_SUBNET, "GCP", nodes,
                    networks.GCP_RESERVED)
    networks.pod_range("gke.podCidr", gke.pod_cidr, networks.node_block(networks.GKE_MAX_PODS_PER_NODE), nodes,
                       f"GKE takes one per node for up to {networks.GKE_MAX_PODS_PER_NODE} Pods")

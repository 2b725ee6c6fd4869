"""``quicstack:k3s``: one GCE VM running k3s (the seed's own environment).

Also defines the GCP field types (project, region, zone, machine type) that ``gke.py`` shares.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Mapping, Optional

from pydantic import AfterValidator, Field

from components.cluster.profile import Profile
from components.gcp.startup import K3S_VERSION
from components.shared.errors import ConfigError
from components.shared.fields import Cidr, matching
from components.shared.model import Model

from . import exposure, networks

# The rules below read the whole stack config (``Settings``), which composes this section: it is
# passed in, not imported, so the two modules do not import each other.
Settings = Any

_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
_REGION = re.compile(r"[a-z]+-[a-z]+[0-9]+")
_ZONE = re.compile(r"([a-z]+-[a-z]+[0-9]+)-[a-z]")
# Predefined (e2-medium, n2-standard-4, c3-highcpu-4-lssd) and custom (e2-custom-2-4096) types.
_MACHINE_TYPE = re.compile(r"[a-z][a-z0-9]*-[a-z0-9]+(-[a-z0-9]+)*")
_NAME = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
# `project/family` or `project/image` (https://cloud.google.com/compute/docs/images/os-details).
_IMAGE = re.compile(r"[a-z][-a-z0-9.:]{0,61}[a-z0-9]/[a-z]([-a-z0-9]{0,61}[a-z0-9])?")



def _region(value: str) -> str:
    if _ZONE.fullmatch(value):
        raise ValueError(f"is a zone, not a region (the region is {_ZONE.fullmatch(value).group(1)})")
    if not _REGION.fullmatch(value):
        raise ValueError("is not a GCP region such as europe-west1")
    return value


def _zone(value: str) -> str:
    if _REGION.fullmatch(value):
        raise ValueError(f"is a region, not a zone (a zone is the region plus a letter, e.g. {value}-b)")
    if not _ZONE.fullmatch(value):
        raise ValueError("is not a GCP zone such as europe-west1-b")
    return value


def _ipv4_cidr(value: str) -> str:
    if ipaddress.ip_network(value).version != 4:
        raise ValueError("is not an IPv4 CIDR block (the stack's networks and addresses are IPv4)")
    return value


def _not_empty(value: list) -> list:
    if not value:
        raise ValueError("is empty: list the addresses allowed to reach SSH and the Kubernetes API")
    return value


GceImage = Annotated[str, matching(
    _IMAGE, "is not a GCE image such as debian-cloud/debian-12 (project/family or project/image)")]
GcpProject = Annotated[str, matching(
    _PROJECT, "is not a GCP project ID (6-30 characters: lower-case letters, digits and '-', starting with a letter)")]
GcpRegion = Annotated[str, AfterValidator(_region)]
GcpZone = Annotated[str, AfterValidator(_zone)]
MachineType = Annotated[str, matching(_MACHINE_TYPE, "is not a machine type such as e2-medium or n2-standard-4")]
ResourceName = Annotated[
    str, matching(_NAME, "is not a GCP resource name (lower-case letters, digits and '-', starting with a letter)")
]
Ipv4Cidr = Annotated[Cidr, AfterValidator(_ipv4_cidr)]
K3sVersion = Annotated[
    str, matching(K3S_VERSION, "is not a k3s release such as v1.34.9+k3s1 (a channel or 'latest' is not pinned)")
]

DEFAULT_K3S_VERSION = "v1.34.9+k3s1"
# k3s's default `--service-cidr`, which the stack does not change.
K3S_SERVICE_CIDR = "10.43.0.0/16"


class K3s(Model):
    """A single GCE VM running k3s; every Service shares the VM's static address."""

    project: GcpProject
    """GCP project to create the VM in."""
    region: GcpRegion
    """GCP region of the static address and subnet, e.g. `europe-west1`."""
    zone: GcpZone
    """GCP zone of the VM, inside `region`, e.g. `europe-west1-b`."""
    admin_cidrs: Annotated[list[Ipv4Cidr], AfterValidator(_not_empty)]
    """IPv4 blocks allowed to reach SSH (22) and the Kubernetes API (6443): the machine running `pulumi up` and your
    own, e.g. `203.0.113.7/32`."""
    allow_open_admin: bool = False
    """Permit `0.0.0.0/0` in `adminCidrs` (SSH and the Kubernetes API open to the internet, guarded only by keys). Off:
    an open list is a config error, judged as a whole: blocks that together cover more than 65,536 public addresses
    (a /16) count as open."""
    machine_type: MachineType = "e2-medium"
    """VM machine type; k3s with the platform and workloads needs 2 vCPUs and 4 GB (`e2-medium`)."""
    image: GceImage = "debian-cloud/debian-12"
    """Boot image (`project/family` or `project/image`): Debian 12 or an Ubuntu LTS, e.g.
    `ubuntu-os-cloud/ubuntu-2404-lts-amd64`."""
    disk_size_gb: int = Field(default=30, ge=20, le=2000)
    """Boot disk size in GB (images, container layers, logs)."""
    k3s_version: K3sVersion = Field(default=DEFAULT_K3S_VERSION, alias="k3sVersion")
    """k3s release installed on the VM (`INSTALL_K3S_VERSION`); changing it upgrades k3s in place on the next `pulumi
    up`."""
    pod_cidr: Ipv4Cidr = "10.42.0.0/16"
    """k3s pod network (`--cluster-cidr`); traffic from it to the metadata server is dropped."""
    subnet_cidr: Ipv4Cidr = "10.10.0.0/24"
    """Range of the dedicated subnet the stack creates (unused with `network`)."""
    network: Optional[ResourceName] = None
    """An existing VPC network to use instead of a dedicated one (its firewall rules also apply to the VM)."""
    subnetwork: Optional[ResourceName] = None
    """Subnetwork of `network` in `region`; needed when `network` is a custom-mode VPC."""
    ssh_user: ResourceName = "quicstack"
    """Login the stack's SSH key is installed for (used to fetch the kubeconfig)."""

    @property
    def profile(self) -> Profile:
        # ServiceLB binds every LoadBalancer port on the node itself, whatever the protocols.
        return Profile(shared_address=True, shares_ingress_address=True, mixed_protocol=True, tcp_udp_service=True,
                       managed=False, dns_providers=("clouddns",), dns_project=self.project)


def check(s: "Settings") -> None:
    """k3s rules that span keys."""
    k3s: K3s = s.cluster
    zone_in(k3s.zone, k3s.region, "k3s")
    if not k3s.allow_open_admin:
        exposure.check_admin_cidrs("k3s.adminCidrs", k3s.admin_cidrs, "k3s.allowOpenAdmin")
    if k3s.subnetwork and not k3s.network:
        raise ConfigError(
            "k3s.subnetwork", "is set without k3s.network: name the VPC network it belongs to", k3s.subnetwork
        )
    ranges = {"the k3s service range": K3S_SERVICE_CIDR, "k3s.podCidr": k3s.pod_cidr}
    disjoint(ranges if k3s.network else {**ranges, "k3s.subnetCidr": k3s.subnet_cidr})
    networks.private("k3s.podCidr", k3s.pod_cidr, "the k3s Pod network")
    networks.pod_range("k3s.podCidr", k3s.pod_cidr, networks.K3S_NODE_MASK, 1, "k3s takes one per node")
    if not k3s.network:
        networks.private("k3s.subnetCidr", k3s.subnet_cidr, "the VM's subnet")
        networks.subnet("k3s.subnetCidr", k3s.subnet_cidr, networks.GCP_SMALLEST_SUBNET, "GCP", 1,
                        networks.GCP_RESERVED)
    acme = s.acme
    if acme.uses_dns01:
        key = "acme.challenge" if acme.challenge == "dns01" else "acme.relayChallenge"
        raise ConfigError(
            key,
            "is not available on k3s: cert-manager has no cloud identity here (pods are cut off from the metadata "
            "server); use http01, which works for every host because they all share the VM's address",
            "dns01",
        )


def zone_in(zone: Optional[str], region: str, section: str) -> None:
    """A zone must belong to the section's region."""
    if zone and not zone.startswith(f"{region}-"):
        raise ConfigError(f"{section}.zone", f"is not in {section}.region {region}", zone)


def disjoint(ranges: Mapping[str, str]) -> None:
    """Address ranges that a cluster routes side by side must not overlap; list fixed ranges first, so
    the error names the config key that came later."""
    seen: list[tuple[str, str]] = []
    for key, cidr in ranges.items():
        for other_key, other in seen:
            if ipaddress.ip_network(cidr).overlaps(ipaddress.ip_network(other)):
                raise ConfigError(key, f"overlaps {other_key} ({other})", cidr)
        seen.append((key, cidr))

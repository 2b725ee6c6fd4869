"""The root of a stack's configuration and what follows from it (hosts, address topology)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

from pydantic import Field

from .acme import Acme
from .base import DnsName, Model
from .dns import Dns
from .eks import Eks
from .existing import Existing
from .gke import Gke
from .ingress import Ingress
from .k3s import K3s
from .publisher import Publisher
from .envoy import EnvoyDemo
from .relay import Relay
from .web import Web

Cloud = Literal["existing", "k3s", "gke", "eks"]
CLOUD_SECTIONS = ("existing", "k3s", "gke", "eks")


@dataclass(frozen=True)
class Hosts:
    """The public host names, each defaulting to a name under ``domain``."""

    web: str
    relay: str
    envoy: str


@dataclass(frozen=True)
class PublicPort:
    """A port some workload opens on its load balancer address."""

    port: int
    protocol: Literal["TCP", "UDP"]
    owner: str
    key: str
    """The config key that decides this port (named in errors)."""


@dataclass(frozen=True)
class Topology:
    """How the chosen cluster exposes LoadBalancer Services; the cluster layers implement these facts.

    They are derived from config alone so that rules which depend on them run before any resource
    is registered.
    """

    shared_address: bool
    """Every LoadBalancer Service gets the same address (k3s ServiceLB): host ports must not collide."""
    relay_shares_ingress_address: bool
    """The relay host resolves to an address that also serves the ingress's TCP 80/443 (HTTP-01 and the WebSocket fallback go through the ingress)."""
    mixed_protocol: bool
    """One LoadBalancer Service may carry TCP and UDP ports."""
    tcp_udp_service: bool
    """A workload's own LoadBalancer Service may carry the same port over TCP and UDP (mixed-protocol
    clusters, and EKS, whose load balancer controller makes that one TCP_UDP NLB listener)."""
    managed: bool
    """A managed multi-node cloud cluster: system components run 2 replicas with a PodDisruptionBudget."""


class Settings(Model):
    """Everything a stack may configure, under the ``quicstack:`` namespace."""

    cloud: Cloud = "existing"
    """Where the cluster comes from: `existing` (the current kube context), `k3s` (a GCE VM), `gke` or `eks`."""
    domain: DnsName
    """DNS name the public hosts live under: the watch page at the apex, `relay.<domain>`, `quic.<domain>`."""
    acme: Acme = Acme()
    """Certificate issuing."""
    dns: Dns = Dns()
    """DNS zone for DNS-01 and for the records the stack creates."""
    ingress: Ingress = Ingress()
    """Ingress controller."""
    relay: Relay = Relay()
    """Media-over-QUIC relay."""
    web: Web = Web()
    """Watch page."""
    publisher: Publisher = Publisher()
    """Demo publisher in the cluster (opt-in)."""
    envoy_demo: EnvoyDemo = EnvoyDemo()
    """Envoy HTTP/3 + QUIC-LB demo."""
    existing: Optional[Existing] = None
    """Settings for `cloud: existing` (all optional)."""
    k3s: Optional[K3s] = Field(default=None, alias="k3s")
    """Settings for `cloud: k3s`."""
    gke: Optional[Gke] = None
    """Settings for `cloud: gke`."""
    eks: Optional[Eks] = None
    """Settings for `cloud: eks`."""

    @property
    def hosts(self) -> Hosts:
        return Hosts(
            web=self.web.host or self.domain,
            relay=self.relay.host or f"relay.{self.domain}",
            envoy=self.envoy_demo.host or f"quic.{self.domain}",
        )

    @property
    def cluster(self) -> Existing | K3s | Gke | Eks:
        """The selected cloud's section (``existing`` defaults to all-default settings)."""
        section = getattr(self, self.cloud)
        return Existing() if section is None and self.cloud == "existing" else section

    @property
    def topology(self) -> Topology:
        existing = self.cluster if self.cloud == "existing" else None
        shared = self.cloud == "k3s" or bool(existing and existing.shared_address)
        mixed = self.cloud == "k3s" or bool(existing and existing.mixed_protocol) or bool(
            self.cloud == "gke" and self.gke and self.gke.mixed_protocol)
        return Topology(
            shared_address=shared,
            # GKE reserves one static address for both the ingress and the relay Service.
            relay_shares_ingress_address=shared or self.cloud == "gke",
            mixed_protocol=mixed,
            tcp_udp_service=mixed or self.cloud == "eks",
            managed=self.cloud in ("gke", "eks"),
        )

    @property
    def challenge_by_host(self) -> dict[str, str]:
        """ACME challenge per public host of the enabled workloads."""
        hosts = self.hosts
        wanted = {hosts.web: (self.web.enabled, self.acme.challenge), hosts.relay: (self.relay.enabled, self.acme.relay),
                  hosts.envoy: (self.envoy_demo.enabled, self.acme.challenge)}
        return {host: challenge for host, (enabled, challenge) in wanted.items() if enabled}

    @property
    def dns_project(self) -> Optional[str]:
        """GCP project of the Cloud DNS zone: `dns.project`, else the cluster's project."""
        return self.dns.project or getattr(self.cluster, "project", None)

    @property
    def dns_region(self) -> Optional[str]:
        """AWS region for Route53: `dns.region`, else the EKS region."""
        return self.dns.region or (self.cluster.region if self.cloud == "eks" else None)

    @property
    def system_replicas(self) -> int:
        """Replicas of cert-manager and, unless set, the ingress controller: 2 on managed clouds."""
        return 2 if self.topology.managed else 1

    @property
    def public_ports(self) -> list[PublicPort]:
        """Every port the stack's load balancers open to the world, in a stable order."""
        ports = [PublicPort(80, "TCP", "the ingress controller", "ingress"), PublicPort(443, "TCP", "the ingress controller", "ingress")]
        if self.relay.enabled:
            owner = "the ingress controller (relay UDP)" if self.ingress.relay_udp else "the relay"
            ports.append(PublicPort(443, "UDP", owner, "relay"))
        if self.envoy_demo.enabled:
            ports += [PublicPort(self.envoy_public_port, proto, "the Envoy demo", "envoyDemo.publicPort") for proto in ("TCP", "UDP")]
        return ports

    @property
    def envoy_public_port(self) -> int:
        if self.envoy_demo.public_port:
            return self.envoy_demo.public_port
        return 8443 if self.topology.shared_address else 443

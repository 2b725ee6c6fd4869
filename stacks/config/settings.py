"""The root of a stack's configuration: the sections composed, and what follows from several of them (hosts, ports)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

from pydantic import Field

from components.cluster.profile import Profile
from components.platform.config import AcmeConfig, IngressConfig
from components.shared.fields import DnsName
from components.shared.model import Model
from components.workloads.envoy.config import EnvoyDemoConfig
from components.workloads.publisher.config import PublisherConfig
from components.workloads.relay.config import RelayConfig
from components.workloads.watch.config import WebConfig

from .dns import Dns
from .eks import Eks
from .existing import Existing
from .gke import Gke
from .k3s import K3s

Cloud = Literal["existing", "k3s", "gke", "eks"]
CLOUD_SECTIONS = ("existing", "k3s", "gke", "eks")
# `cloud: existing` needs no section: every key has a default.
_DEFAULT_SECTIONS = {"existing": Existing()}


@dataclass(frozen=True)
class Hosts:
    """The public host names. Each is its workload's `host` key, else a name under ``domain``: the watch page
    (`web.host`) the domain itself, the relay (`relay.host`) `relay.<domain>`, the Envoy demo (`envoyDemo.host`)
    `quic.<domain>`."""

    web: str
    relay: str
    envoy: str


@dataclass(frozen=True)
class PublicPort:
    """A port some workload opens on its load balancer address."""

    port: int
    protocol: Literal["TCP", "UDP"]
    owner: str
    """Who opens it, as errors name it."""
    key: str
    """The config key that decides this port (named in errors)."""


class Settings(Model):
    """Everything a stack may configure, under the ``quicstack:`` namespace."""

    cloud: Cloud = "existing"
    """Where the cluster comes from: `existing` (the current kube context), `k3s` (a GCE VM), `gke` or `eks`."""
    domain: DnsName
    """DNS name the public hosts live under: the watch page at the apex, `relay.<domain>`, `quic.<domain>`. Not an IP
    address; every host at most 249 characters (its certificate Secret is `<host>-tls`); with Let's Encrypt, no host
    under `.localhost`, `.local`, `.test`, `.invalid`, `.example`, `.internal`, `.home.arpa` or `.lan`."""
    acme: AcmeConfig = AcmeConfig()
    """Certificate issuing."""
    dns: Dns = Dns()
    """DNS zone for DNS-01 and for the records the stack creates."""
    ingress: IngressConfig = IngressConfig()
    """Ingress controller."""
    relay: RelayConfig = RelayConfig()
    """Media-over-QUIC relay."""
    web: WebConfig = WebConfig()
    """Watch page."""
    publisher: PublisherConfig = PublisherConfig()
    """Demo publisher in the cluster (opt-in)."""
    envoy_demo: EnvoyDemoConfig = EnvoyDemoConfig()
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
        return Hosts(web=self.web.host_under(self.domain), relay=self.relay.host_under(self.domain),
                     envoy=self.envoy_demo.host_under(self.domain))

    @property
    def cluster(self) -> Existing | K3s | Gke | Eks:
        """The selected cloud's section (``existing`` defaults to all-default settings)."""
        return getattr(self, self.cloud) or _DEFAULT_SECTIONS.get(self.cloud)

    @property
    def profile(self) -> Profile:
        """The selected cloud's facts."""
        return self.cluster.profile

    @property
    def challenge_by_host(self) -> dict[str, str]:
        """ACME challenge per public host of the enabled workloads."""
        hosts = self.hosts
        wanted = {
            hosts.web: (self.web.enabled, self.acme.challenge),
            hosts.relay: (self.relay.enabled, self.acme.relay),
            hosts.envoy: (self.envoy_demo.enabled, self.acme.challenge),
        }
        return {host: challenge for host, (enabled, challenge) in wanted.items() if enabled}

    @property
    def dns_project(self) -> Optional[str]:
        """GCP project of the Cloud DNS zone: `dns.project`, else the cluster's project."""
        return self.dns.project or self.profile.dns_project

    @property
    def dns_region(self) -> Optional[str]:
        """AWS region for Route53: `dns.region`, else the EKS region."""
        return self.dns.region or self.profile.dns_region

    @property
    def public_ports(self) -> list[PublicPort]:
        """Every port the stack's load balancers open to the world, in a stable order."""
        ports = [
            PublicPort(80, "TCP", "the ingress controller", "ingress"),
            PublicPort(443, "TCP", "the ingress controller", "ingress"),
        ]
        if self.relay.enabled:
            owner = "the ingress controller (relay UDP)" if self.ingress.relay_udp else "the relay"
            ports.append(PublicPort(443, "UDP", owner, "relay"))
        if self.edge_http3:
            ports.append(PublicPort(443, "UDP", "the Envoy Gateway (HTTP/3)", "ingress.http3"))
        if self.envoy_demo.enabled:
            ports += [
                PublicPort(self.envoy_public_port, proto, "the Envoy demo", "envoyDemo.publicPort")
                for proto in ("TCP", "UDP")
            ]
        return ports

    @property
    def envoy_public_port(self) -> int:
        return self.envoy_demo.public_port_on(self.profile)

    @property
    def edge_hosts(self) -> dict[str, str]:
        """HTTPS listener name -> host, for each host the edge serves on TCP 443 (the watch page, and the relay's
        WebSocket fallback where the relay host resolves to the edge)."""
        hosts: dict[str, str] = {}
        if self.relay.enabled and self.web.enabled:
            hosts["web"] = self.hosts.web
        if self.relay.enabled and self.relay.websocket_route(self.profile, self.relay_udp_via_ingress) == "ingress":
            hosts["relay"] = self.hosts.relay
        return hosts

    @property
    def edge_http3_problem(self) -> Optional[str]:
        """Why the Envoy Gateway edge cannot serve HTTP/3 on this stack (None: it can)."""
        if self.ingress.service_type != "LoadBalancer":
            return "a NodePort Service gives TCP and UDP 443 different node ports, so alt-svc would name the wrong one"
        if not self.profile.tcp_udp_service:
            return (f"the {self.cloud} load balancer takes no TCP and UDP ports in one Service (GKE: set "
                    "gke.mixedProtocol; existing: existing.mixedProtocol)")
        if self.relay.enabled and self.profile.shares_ingress_address:
            return ("the relay's QUIC takes UDP 443 on the edge's address here; HTTP/3 at the edge needs the relay "
                    "on an address of its own (EKS, or an existing cluster without existing.sharedAddress)")
        return None

    @property
    def edge_http3(self) -> bool:
        """The Envoy Gateway edge serves HTTP/3 (`ingress.http3`, unset: wherever it can)."""
        if self.ingress.controller != "envoy-gateway" or self.ingress.http3 is False:
            return False
        return self.edge_http3_problem is None

    @property
    def relay_udp_via_ingress(self) -> bool:
        """The ingress controller carries the relay's UDP 443 (`ingress.relayUdp`)."""
        return self.relay.enabled and self.ingress.relay_udp

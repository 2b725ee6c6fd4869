"""Deploys the platform every stack gets: the ingress controller, cert-manager and the issuers.

The two Helm releases install in parallel; the issuers wait for cert-manager only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping, Optional, Sequence

import pulumi

from components.cluster.contract import Cluster, ExposeRequest, Exposure
from components.platform import gateway_objects
from components.platform.cert_manager import CertManager, CertManagerArgs
from components.platform.certificates import Issuer
from components.platform.config import AcmeConfig, IngressConfig
from components.platform.gateway import EnvoyGateway, EnvoyGatewayArgs, gateway_api_crds
from components.platform.gateway_objects import EdgeHost
from components.platform.ingress import CONTROLLER_SELECTOR as INGRESS_CONTROLLER
from components.platform.ingress import NAMESPACE as INGRESS_NAMESPACE
from components.platform.ingress import IngressArgs, IngressController
from components.platform.issuers import Issuers, IssuersArgs
from components.restricted_workload import Pods, RestrictedWorkload
from components.shared.resources import Resources


EDGE_PODS = {"ingress-nginx": Pods(INGRESS_CONTROLLER, INGRESS_NAMESPACE),
             "envoy-gateway": Pods(gateway_objects.PROXY_SELECTOR, gateway_objects.NAMESPACE)}
"""By ``ingress.controller``: the pods that connect to the workloads behind the edge (ingress-nginx's controller,
Envoy Gateway's proxies); the only ones their NetworkPolicies admit to the routed ports and to HTTP-01 solvers."""


@dataclass(frozen=True)
class PlatformArgs:
    ingress_class: str
    """IngressClass the controller serves and Ingresses use."""
    ingress_service_type: str
    """`LoadBalancer` or `NodePort`."""
    ingress_exposure: Exposure
    """How the cluster exposes the controller's Service."""
    ingress_resources: Resources
    """Controller requests and limits."""
    replicas: int
    """Replicas of the controller, cert-manager and its webhook (2 on managed clouds)."""
    environment: Literal["production", "staging", "selfsigned"]
    """Which issuer signs workload certificates."""
    http01_hosts: Sequence[str] = ()
    """Hosts whose certificates are validated over HTTP-01."""
    dns01_hosts: Sequence[str] = ()
    """Hosts whose certificates are validated over DNS-01."""
    dns01: Mapping[str, object] = field(default_factory=dict)
    """The DNS-01 solver stanza for the cloud's DNS service."""
    email: Optional[str] = None
    """ACME account e-mail."""
    domain: str = ""
    """The stack's domain (the local CA signs only names under it)."""
    udp: Mapping[int, str] = field(default_factory=dict)
    """UDP ports carried through the ingress controller (mixed protocol clusters only)."""
    cert_manager_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Annotations on cert-manager's ServiceAccount (GKE Workload Identity)."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What both releases wait for (EKS: the load balancer controller)."""
    gateway: Optional["GatewayEdge"] = None
    """The Envoy Gateway edge (`ingress.controller: envoy-gateway`); None: ingress-nginx."""

    @classmethod
    def of(cls, ingress: IngressConfig, acme: AcmeConfig, cluster: Cluster, challenges: Mapping[str, str],
           udp: Mapping[int, str], domain: str, edge_hosts: Sequence[EdgeHost] = (),
           http3: bool = False) -> "PlatformArgs":
        """The platform's arguments from its config sections, the hosts' challenges and the cluster's capabilities."""
        gateway = None
        if ingress.controller == "envoy-gateway":
            exposure = cluster.expose(ExposeRequest("gateway", tcp_udp=http3)) \
                if ingress.service_type == "LoadBalancer" else None
            gateway = GatewayEdge(hosts=tuple(edge_hosts), exposure=exposure, http3=http3,
                                  load_balancer_dependencies=tuple(cluster.load_balancer_dependencies))
        return cls(
            ingress_class=ingress.class_name,
            ingress_service_type=ingress.service_type,
            ingress_exposure=cluster.expose(ExposeRequest("ingress")),
            ingress_resources=ingress.resources,
            replicas=ingress.replicas or cluster.profile.system_replicas,
            environment=acme.environment,
            http01_hosts=[h for h, c in challenges.items() if c == "http01"],
            dns01_hosts=[h for h, c in challenges.items() if c == "dns01"],
            dns01=cluster.dns01_solver,
            email=acme.email,
            domain=domain,
            # The ingress controller carries UDP ports only where mixed protocol works (validated).
            udp=udp,
            cert_manager_annotations=cluster.cert_manager_annotations,
            depends_on=cluster.platform_dependencies,
            gateway=gateway,
        )


@dataclass(frozen=True)
class GatewayEdge:
    """What the Envoy Gateway edge needs beyond the ingress settings."""

    hosts: Sequence[EdgeHost]
    exposure: Optional[Exposure]
    http3: bool
    load_balancer_dependencies: Sequence[pulumi.Resource] = ()


class Platform(pulumi.ComponentResource):
    issuer: Issuer
    """Signs every workload's certificate."""
    ingress_class: str
    ingress_address: pulumi.Output[str]
    ca_certificate: pulumi.Output[str]
    udp: Mapping[int, str]
    """UDP ports the ingress controller carries (port -> ``namespace/service:port``)."""

    def __init__(self, name: str, args: PlatformArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:platform:Platform", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.gateway: Optional[EnvoyGateway] = None
        if args.gateway:
            self._gateway_edge(name, args, args.gateway)
            return
        ingress = IngressController(
            f"{name}-ingress",
            IngressArgs(class_name=args.ingress_class, service_type=args.ingress_service_type,
                        exposure=args.ingress_exposure, replicas=args.replicas, resources=args.ingress_resources,
                        udp=args.udp, depends_on=args.depends_on),
            opts=child,
        )
        cert_manager = CertManager(
            f"{name}-cert-manager",
            CertManagerArgs(replicas=args.replicas, service_account_annotations=args.cert_manager_annotations,
                            depends_on=args.depends_on),
            opts=child,
        )
        issuers = Issuers(
            f"{name}-issuers",
            IssuersArgs(environment=args.environment, ingress_class=args.ingress_class,
                        http01_hosts=args.http01_hosts, dns01_hosts=args.dns01_hosts, dns01=args.dns01,
                        email=args.email, ca_domain=args.domain, cert_manager=[cert_manager.release],
                        edge=EDGE_PODS["ingress-nginx"]),
            opts=child,
        )
        self._finish(args, issuers, ingress.address)

    def _gateway_edge(self, name: str, args: PlatformArgs, edge: GatewayEdge) -> None:
        """The Gateway API CRDs first: cert-manager watches Gateways only if they exist when it starts."""
        child = pulumi.ResourceOptions(parent=self)
        crds = gateway_api_crds(f"{name}-gateway-crds",
                                pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)))
        cert_manager = CertManager(
            f"{name}-cert-manager",
            CertManagerArgs(replicas=args.replicas, service_account_annotations=args.cert_manager_annotations,
                            depends_on=[*args.depends_on, crds], gateway_api=True),
            opts=child,
        )
        solver = {"gatewayHTTPRoute": {"parentRefs": [gateway_objects.parent(gateway_objects.HTTP_LISTENER)]}}
        issuers = Issuers(
            f"{name}-issuers",
            IssuersArgs(environment=args.environment, ingress_class=args.ingress_class,
                        http01_hosts=args.http01_hosts, dns01_hosts=args.dns01_hosts, dns01=args.dns01,
                        email=args.email, ca_domain=args.domain, cert_manager=[cert_manager.release],
                        http01_solver=solver, edge=EDGE_PODS["envoy-gateway"]),
            opts=child,
        )
        self.gateway = EnvoyGateway(
            f"{name}-gateway",
            EnvoyGatewayArgs(hosts=edge.hosts, issuer=issuers.issuer.name, exposure=edge.exposure, http3=edge.http3,
                             replicas=args.replicas, resources=args.ingress_resources,
                             load_balancer_dependencies=edge.load_balancer_dependencies,
                             crds=crds, depends_on=[*args.depends_on, *issuers.issuer.ready]),
            opts=child,
        )
        self._finish(args, issuers, self.gateway.address)

    def route(self, workload: RestrictedWorkload, host: str, secret_name: pulumi.Input[str],
              service: pulumi.Input[str], annotations: Optional[Mapping[str, str]] = None) -> None:
        """``https://<host>/`` to the ``http`` port of ``service``: an Ingress, or an HTTPRoute on the Gateway (whose
        listener then holds the host's certificate, so ``secret_name`` is not read)."""
        if self.gateway is None:
            workload.route(host, secret_name, service, self.ingress_class, annotations)
            return
        edge = next(h for h in self.edge_hosts if h.host == host)
        self.gateway.route(workload, edge, service)

    def _finish(self, args: PlatformArgs, issuers: Issuers, address: pulumi.Output[str]) -> None:
        self.edge_hosts = tuple(args.gateway.hosts) if args.gateway else ()
        self.edge_pods = EDGE_PODS["envoy-gateway" if args.gateway else "ingress-nginx"]
        """The pods that carry the edge's traffic into the cluster: a workload behind the edge admits only them."""
        self.issuer = issuers.issuer
        self.public_certificates = args.environment != "selfsigned"
        """Let's Encrypt signs the hosts' certificates: the stack is public."""
        self.ingress_class = args.ingress_class
        self.ingress_address = address
        self.ca_certificate = issuers.ca_certificate
        self.udp = dict(args.udp)
        self.outputs = {"ingress_address": self.ingress_address, "ca_certificate": self.ca_certificate}
        self.register_outputs({"ingressAddress": self.ingress_address, "caCertificate": self.ca_certificate})

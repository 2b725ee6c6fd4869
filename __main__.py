"""quicstack: QUIC services on Kubernetes.

Deploys, onto the cluster the stack selects (``quicstack:cloud``):
- the cluster itself for k3s, GKE and EKS (``stacks/<cloud>.py``), or nothing for an existing cluster;
- the platform: ingress-nginx, cert-manager and its issuers (``components/platform``);
- the workloads: the Media-over-QUIC relay and its watch page, and the Envoy HTTP/3 QUIC-LB demo
  (``components/workloads``).

Config is read once, here, into typed settings; everything below takes typed arguments.
"""

import importlib

import pulumi
import pulumi_kubernetes as k8s

from components.platform.issuers import dns01_solver
from components.platform.platform import Platform, PlatformArgs
from stacks.config import from_pulumi

settings = from_pulumi()
# Import only the selected cloud's layer, so an EKS stack never loads pulumi_gcp and vice versa.
cluster = importlib.import_module(f"stacks.{settings.cloud}").build(settings)
k8s_opts = pulumi.ResourceOptions(provider=cluster.provider)

# The relay and its watch page share one namespace; pods there must meet the `restricted` profile.
moq_namespace = k8s.core.v1.Namespace(
    "moq",
    metadata={"name": "moq", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}},
    opts=k8s_opts,
)

challenges = settings.challenge_by_host
dns01 = (
    dns01_solver(settings.dns.provider, settings.dns.zone, settings.dns_project, settings.dns_region, settings.dns.credentials_secret)
    if settings.dns.provider != "none" else {}
)
platform = Platform(
    "platform",
    PlatformArgs(
        ingress_class=settings.ingress.class_name,
        ingress_service_type=settings.ingress.service_type,
        ingress_exposure=cluster.ingress,
        ingress_resources=settings.ingress.resources,
        replicas=settings.ingress.replicas or settings.system_replicas,
        environment=settings.acme.environment,
        http01_hosts=[h for h, c in challenges.items() if c == "http01"],
        dns01_hosts=[h for h, c in challenges.items() if c == "dns01"],
        dns01=dns01,
        email=settings.acme.email,
        # The ingress controller carries the relay's UDP 443 only where mixed protocol works (validated).
        udp={443: "moq/relay:443"} if settings.ingress.relay_udp and settings.relay.enabled else {},
        cert_manager_annotations=cluster.cert_manager_annotations,
        depends_on=cluster.platform_dependencies,
    ),
    opts=k8s_opts,
)
# RELAY AND WATCH PAGE (issue 4)
# ENVOY DEMO (issue 5)
# ENDPOINTS AND RECORDS (lead)
pulumi.export("ingressAddress", platform.ingress_address)
pulumi.export("caCertificate", platform.ca_certificate)

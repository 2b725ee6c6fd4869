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
        domain=settings.domain,
        # The ingress controller carries the relay's UDP 443 only where mixed protocol works (validated).
        udp={443: "moq/relay:443"} if settings.ingress.relay_udp and settings.relay.enabled else {},
        cert_manager_annotations=cluster.cert_manager_annotations,
        depends_on=cluster.platform_dependencies,
    ),
    opts=k8s_opts,
)
# RELAY AND WATCH PAGE (issue 4): moq-relay on UDP 443 with its WebSocket fallback, and the page that plays from it.
relay = watch_page = None
if settings.relay.enabled:
    from components.workloads.relay import Relay, RelayArgs
    from components.workloads.watch_page import WatchPage, WatchPageArgs
    from stacks.config.relay import websocket_route

    moq = settings.relay
    relay = Relay(
        "relay",
        RelayArgs(
            namespace=moq_namespace.metadata.name,
            host=settings.hosts.relay,
            image=moq.image,
            resources=moq.resources.as_k8s(),
            quic_port=moq.quic_port,
            web_port=moq.web_port,
            internal_port=moq.internal_port,
            log_level=moq.log_level,
            public_prefix=moq.public_prefix,
            auth=moq.auth,
            issuer=platform.issuer,
            websocket=websocket_route(settings),
            ingress_class=platform.ingress_class,
            # With ingress.relayUdp the controller's load balancer carries UDP 443; the relay's Service stays internal.
            exposure=None if settings.ingress.relay_udp else cluster.relay,
            ingress_address=platform.ingress_address,
            load_balancer_dependencies=cluster.load_balancer_dependencies,
            jwt_key_secret=moq.jwt_key_secret if moq.jwt_key == "existing" else None,
        ),
        opts=k8s_opts,
    )
    if settings.web.enabled:
        watch_page = WatchPage(
            "watch-page",
            WatchPageArgs(
                namespace=moq_namespace.metadata.name,
                host=settings.hosts.web,
                relay_url=relay.public_url,
                broadcast=settings.web.broadcast,
                watch_version=settings.web.watch_version,
                image=settings.web.image,
                resources=settings.web.resources.as_k8s(),
                issuer=platform.issuer,
                ingress_class=platform.ingress_class,
            ),
            opts=k8s_opts,
        )
# ENVOY DEMO (issue 5): Envoy over HTTP/2 and HTTP/3 behind a load balancer that routes QUIC by server ID.
envoy_demo = None
if settings.envoy_demo.enabled:
    from components.workloads.envoy_bootstrap import Listener
    from components.workloads.envoy_demo import EnvoyDemo, EnvoyDemoArgs

    demo = settings.envoy_demo
    envoy_demo = EnvoyDemo(
        "envoy-demo",
        EnvoyDemoArgs(
            namespace=demo.namespace,
            host=settings.hosts.envoy,
            image=demo.image,
            replicas=demo.replicas_on(settings.cloud),
            concurrency=demo.concurrency,
            resources=demo.resources.as_k8s(),
            listener=Listener(port=demo.container_port, public_port=settings.envoy_public_port, h2_body=demo.h2_body,
                              h3_body=demo.h3_body, admin_port=demo.admin_port),
            config_version=demo.config_version,
            server_id_length=demo.server_id_length,
            nonce_length=demo.nonce_length,
            # Only EKS has a controller that injects server IDs (and an NLB that routes by them).
            server_id_source="injected" if settings.cloud == "eks" else "generated",
            issuer=platform.issuer,
            exposure=cluster.envoy,
            tcp_udp_service=settings.topology.tcp_udp_service,
            load_balancer_dependencies=cluster.load_balancer_dependencies,
        ),
        opts=k8s_opts,
    )
# ENDPOINTS AND RECORDS: the outputs `python -m tools.verify` reads, and DNS where the cluster layer
# publishes records only once the load balancers have addresses (EKS).
pulumi.export("ingressAddress", platform.ingress_address)
pulumi.export("caCertificate", platform.ca_certificate)
addresses = {settings.hosts.web: platform.ingress_address}
if relay:
    pulumi.export("relayUrl", relay.url)
    pulumi.export("relayAddress", relay.address)
    pulumi.export("relayCertificateSecret", relay.secret_name)
    addresses[settings.hosts.relay] = relay.address
if watch_page:
    pulumi.export("webUrl", watch_page.url)
if envoy_demo:
    pulumi.export("envoyUrl", envoy_demo.url)
    pulumi.export("envoyAddress", envoy_demo.address)
    pulumi.export("envoyReplicas", envoy_demo.replicas)
    addresses[settings.hosts.envoy] = envoy_demo.address
if cluster.publish_records:
    cluster.publish_records(addresses)

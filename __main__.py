"""quicstack: QUIC services on Kubernetes. Composes only: settings, cluster, platform, workloads, outputs.

- the cluster the stack selects (``quicstack:cloud``): ``stacks/<cloud>.py`` builds k3s, GKE or EKS, or
  connects to an existing cluster, and hands up its capabilities (``components/cluster``);
- the platform: ingress-nginx, cert-manager and its issuers (``components/platform``);
- the workloads, each from its own config section: the Media-over-QUIC relay and its watch page, and
  the Envoy HTTP/3 QUIC-LB demo (``components/workloads``);
- the stack outputs, declared once (``stacks/outputs.py``), and DNS records for every public host.
"""

import importlib

import pulumi

from components.platform.gateway_objects import EdgeHost
from components.platform.platform import Platform, PlatformArgs
from components.workloads.envoy.component import EnvoyDemo, EnvoyDemoArgs
from components.workloads.publisher.component import DemoPublisher, PublisherArgs
from components.workloads.relay.component import NAMESPACE as RELAY_NAMESPACE
from components.workloads.relay.component import Relay, RelayArgs, udp_backend
from components.workloads.watch.component import WatchPage, WatchPageArgs
from stacks.config import from_pulumi
from stacks.outputs import StackOutputs

settings = from_pulumi()
hosts = settings.hosts
# Import only the selected cloud's layer, so an EKS stack never loads pulumi_gcp and vice versa.
cluster = importlib.import_module(f"stacks.{settings.cloud}").build(settings)
opts = pulumi.ResourceOptions(provider=cluster.provider)

platform = Platform("platform", PlatformArgs.of(settings.ingress, settings.acme, cluster, settings.challenge_by_host,
                                                udp=udp_backend(settings.relay, settings.ingress.relay_udp),
                                                domain=settings.domain, http3=settings.edge_http3,
                                                edge_hosts=[EdgeHost(listener, host, RELAY_NAMESPACE)
                                                            for listener, host in settings.edge_hosts.items()]),
                    opts=opts)
relay = Relay("relay", RelayArgs.of(settings.relay, hosts.relay, cluster, platform), opts=opts) \
    if settings.relay.enabled else None
watch_page = WatchPage("watch-page", WatchPageArgs.of(settings.web, hosts.web, relay.namespace, relay.public_url,
                                                      platform), opts=opts) if relay and settings.web.enabled else None
if relay and settings.publisher.enabled:
    DemoPublisher("demo-publisher", PublisherArgs.of(settings.publisher, settings.web.broadcast, relay, hosts.relay,
                                                     selfsigned=settings.acme.environment == "selfsigned"), opts=opts)
envoy_demo = EnvoyDemo("envoy-demo", EnvoyDemoArgs.of(settings.envoy_demo, hosts.envoy, cluster, platform), opts=opts) \
    if settings.envoy_demo.enabled else None

workloads = [w for w in (relay, watch_page, envoy_demo) if w]
StackOutputs.collect(cluster, platform, *workloads).export()
cluster.publish_records([w.endpoint for w in workloads])

"""The Media-over-QUIC relay (moq-relay) that browsers reach over WebTransport on UDP/443.

Deploys into the relay's namespace:
- ConfigMap ``relay-config``: the relay's TOML (``relay_config.py``);
- Certificate for the relay host through the platform's issuer; its Secret is mounted as a
  directory, so renewals reach the running relay, which reloads the files;
- Secret ``relay-auth`` with a per-stack HS256 JWK, when publishing needs a token and no existing
  key Secret is named;
- Deployment ``relay``: one replica, restricted pod security, probes on the internal listener;
- Service ``relay``: UDP 443 -> the QUIC port; a LoadBalancer, or ClusterIP where the ingress
  controller carries UDP 443; plus TCP 443 -> the relay's HTTPS listener where its own load
  balancer carries the WebSocket fallback;
- Service ``relay-web`` + Ingress ``relay`` where the ingress carries the WebSocket fallback;
- NetworkPolicy ``relay``: only the QUIC and web ports accept connections, so the unauthenticated
  internal listener stays closed to other pods.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal, Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.cluster import LoadBalancer, load_balancer_service_options
import tomli_w

from components.k8s import deployment, labels, lb_address, open_ports_only, restricted_pod, tls_ingress
from components.platform.certificates import Issuer
from components.workloads import relay_tier
from components.workloads.relay_cluster import PEER_TLS_DIR, PEERS_DIR, RelayCluster, node_env, quic_lb_launch, with_cluster
from components.workloads.relay_config import (AUTH_DIR, AUTH_FILE, CONFIG_DIR, CONFIG_FILE, TLS_DIR, RelayConfig,
                                               document, symmetric_jwk)

WebSocketRoute = Literal["ingress", "load-balancer", "none"]
PUBLIC_PORT = 443
CONTAINER = "relay"
# Pod annotation naming the containers the AWS Load Balancer Controller injects a QUIC server ID into.
LBC_QUIC_CONTAINERS = "service.beta.kubernetes.io/aws-load-balancer-quic-enabled-containers"
# The ingress closes idle upstream connections after 60 s by default; a viewer's WebSocket lives for the whole broadcast.
WEBSOCKET_TIMEOUT = "3600"


@dataclass(frozen=True)
class RelayArgs:
    namespace: pulumi.Input[str]
    """Namespace for every object (restricted pod security)."""
    host: str
    """Public host name; the certificate, the URL and the WebSocket route use it."""
    image: str
    """Pinned moq-relay image."""
    resources: Mapping[str, Mapping[str, str]]
    """Container requests and limits, in Kubernetes form."""
    quic_port: int
    """Container port of the QUIC listener (UDP); the Service maps 443 to it."""
    web_port: int
    """Container port of the web listener (WebSocket fallback)."""
    internal_port: int
    """Container port of the internal listener (/health for the probes)."""
    log_level: str
    public_prefix: str
    """Broadcast prefix open without a token."""
    auth: Literal["anonymous", "jwt"]
    issuer: Issuer
    """Signs the relay host's certificate."""
    websocket: WebSocketRoute
    """How TCP 443 of the relay host reaches the WebSocket listener (see ``stacks.config.relay.websocket_route``)."""
    ingress_class: str
    """IngressClass of the platform's controller (used when ``websocket`` is ``ingress``)."""
    exposure: Optional[LoadBalancer]
    """The cluster's LoadBalancer settings for the relay; None where the ingress controller carries UDP 443."""
    ingress_address: Optional[pulumi.Input[str]] = None
    """The ingress's public address: the relay's address when ``exposure`` is None."""
    load_balancer_dependencies: Sequence[pulumi.Resource] = ()
    """What a LoadBalancer Service must be created after and deleted before."""
    jwt_key_secret: Optional[str] = None
    """With ``auth`` jwt: an existing Secret holding ``root.jwk``; None generates one per stack."""
    namespace_name: str = "moq"
    """The namespace's name as text: the relays' DNS names contain it."""
    replicas: int = 1
    """Relays; more than one form a cluster (a StatefulSet, ``relay_tier.py``)."""
    session_affinity: bool = False
    """``sessionAffinity: ClientIP`` on the relay Service (several relays without QUIC-LB)."""
    quic_lb: bool = False
    """The AWS controller injects a QUIC-LB server ID into each pod and its NLB routes by it (EKS)."""
    linger: str = "5s"
    """``[cluster] linger``."""
    drain_seconds: int = 30
    """``preStop`` sleep before the relay is stopped."""
    metrics_namespace: Optional[str] = None
    """Set: a PodMonitor scrapes /metrics, and this namespace may reach the internal port."""


class Relay(pulumi.ComponentResource):
    url: str
    """``https://<host>``."""
    public_url: str
    """``https://<host>/<public prefix>``: where viewers without a token connect."""
    address: pulumi.Output[Optional[str]]
    """Where the relay host must resolve: the load balancer's IP or host name."""
    secret_name: str
    """The Secret with the relay's certificate and key."""

    def __init__(self, name: str, args: RelayArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:workloads:Relay", name, None, opts)
        # With injected server IDs the controller's webhook admits the pods (it fails closed): they wait for it.
        waits = list(args.load_balancer_dependencies) if args.quic_lb else []
        child = pulumi.ResourceOptions(parent=self, depends_on=waits)
        ns = args.namespace
        selector = labels("moq-relay", "relay")
        cluster = (RelayCluster(replicas=args.replicas, namespace=args.namespace_name, quic_port=args.quic_port)
                   if args.replicas > 1 else None)
        config = RelayConfig(
            quic_port=args.quic_port, web_port=args.web_port, internal_port=args.internal_port, log_level=args.log_level,
            public_prefix=args.public_prefix, auth=args.auth, web_tls=args.websocket == "load-balancer",
            linger=args.linger, stats=args.metrics_namespace is not None,
        )
        toml = tomli_w.dumps(with_cluster(document(config), cluster) if cluster else document(config))

        config_map = k8s.core.v1.ConfigMap(
            f"{name}-config", metadata={"name": "relay-config", "namespace": ns, "labels": selector},
            data={CONFIG_FILE: toml}, opts=child,
        )
        certificate = args.issuer.certificate(f"{name}-certificate", args.host, ns, child)
        volumes, mounts = self._volumes(name, args, config, config_map.metadata.name, certificate.secret_name, child)
        after = [certificate.resource]
        if cluster:
            after.append(relay_tier.peer_certificate(name, cluster, ns, args.issuer.ready, child))
            peers = relay_tier.peers_config_map(name, cluster, ns, selector, child)
            volumes += [{"name": "peer-tls", "secret": {"secretName": relay_tier.PEER_SECRET}},
                        {"name": "peers", "configMap": {"name": peers.metadata.name}}]
            mounts += [{"name": "peer-tls", "mountPath": PEER_TLS_DIR, "readOnly": True},
                       {"name": "peers", "mountPath": PEERS_DIR, "readOnly": True}]
            relay_tier.headless_service(name, cluster, ns, selector, child)

        pod = self._pod(args, config, cluster, selector, volumes, mounts, toml)
        workload_opts = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=after))
        if cluster:
            workload = relay_tier.statefulset(name, cluster, ns, selector, pod, workload_opts)
        else:
            workload = deployment(f"{name}-deployment", "relay", ns, selector, pod, workload_opts, strategy=relay_tier.SURGE)
        relay_tier.disruption_budget(name, ns, selector, child)
        if args.metrics_namespace:
            relay_tier.pod_monitor(name, ns, selector, child)

        service = self._service(name, args, selector, child)
        if args.websocket == "ingress":
            self._websocket_ingress(name, args, selector, certificate.secret_name, child)
        # The internal listener must bind the pod IP for the kubelet's probes; no other pod may reach it, except
        # the Prometheus namespace when it scrapes /metrics.
        scraper = ([{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": args.metrics_namespace}}}],
                     "ports": [{"protocol": "TCP", "port": args.internal_port}]}] if args.metrics_namespace else [])
        open_ports_only(f"{name}-network-policy", "relay", ns, selector,
                        [{"protocol": "UDP", "port": args.quic_port}, {"protocol": "TCP", "port": args.web_port}], child,
                        extra_rules=scraper)

        self.url = f"https://{args.host}"
        self.public_url = f"{self.url}/{args.public_prefix}"
        self.secret_name = certificate.secret_name
        self.address = service.status.apply(lb_address) if args.exposure else pulumi.Output.from_input(args.ingress_address)
        self.register_outputs({"url": self.url, "address": self.address, "secretName": self.secret_name,
                               "workload": workload.metadata.name})

    def _volumes(self, name: str, args: RelayArgs, config: RelayConfig, config_map: pulumi.Input[str],
                 tls_secret: pulumi.Input[str], child: pulumi.ResourceOptions) -> tuple[list, list]:
        volumes = [
            {"name": "config", "configMap": {"name": config_map}},
            # A directory mount (never subPath): the kubelet swaps renewed files in, and the relay reloads them.
            {"name": "tls", "secret": {"secretName": tls_secret}},
        ]
        mounts = [{"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
                  {"name": "tls", "mountPath": TLS_DIR, "readOnly": True}]
        if config.jwk_path:
            secret = args.jwt_key_secret or self._jwt_key(name, args.namespace, child)
            volumes.append({"name": "auth", "secret": {"secretName": secret}})
            mounts.append({"name": "auth", "mountPath": AUTH_DIR, "readOnly": True})
        return volumes, mounts

    @staticmethod
    def _pod(args: RelayArgs, config: RelayConfig, cluster: Optional[RelayCluster], selector: Mapping[str, str],
             volumes: list, mounts: list, toml: str) -> dict:
        health = {"httpGet": {"path": "/health", "port": "internal"}}
        lifecycle, grace = relay_tier.drain(args.drain_seconds)
        env = node_env(cluster) if cluster else []
        if cluster and config.stats:
            # Each relay publishes its counters under its own name, or the cluster keeps only one of them.
            env.append({"name": "MOQ_STATS_NODE", "value": "$(POD_NAME)"})
        container = {
            "name": CONTAINER,
            "image": args.image,
            # The image's entrypoint runs `moq-relay "$@"`: the config path is the only argument. On EKS a
            # shell line turns the injected server ID into the relay's hex first.
            **({"command": quic_lb_launch(config.path)} if args.quic_lb else {"args": [config.path]}),
            "ports": [
                {"name": "quic", "containerPort": args.quic_port, "protocol": "UDP"},
                {"name": "web", "containerPort": args.web_port, "protocol": "TCP"},
                {"name": "internal", "containerPort": args.internal_port, "protocol": "TCP"},
            ],
            **({"env": env} if env else {}),
            "readinessProbe": {**health, "periodSeconds": 5, "failureThreshold": 3},
            "livenessProbe": {**health, "initialDelaySeconds": 10, "periodSeconds": 10, "failureThreshold": 3},
            "lifecycle": lifecycle,
            "resources": {k: dict(v) for k, v in args.resources.items()},
            "volumeMounts": mounts,
        }
        # Only what the relay reads at start rolls the pods: the peer list is watched, so it is left out.
        annotations = {LBC_QUIC_CONTAINERS: CONTAINER} if args.quic_lb else {}
        return restricted_pod(selector, container, volumes, hashlib.sha256(toml.encode()).hexdigest(),
                              annotations=annotations, grace_seconds=grace)

    @staticmethod
    def _jwt_key(name: str, namespace: pulumi.Input[str], opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
        """A symmetric JWK, generated once per stack; sign tokens with the same file (``moq-token``)."""
        secret = random.RandomBytes(f"{name}-jwt-secret", length=32, opts=opts)
        auth = k8s.core.v1.Secret(
            f"{name}-auth", metadata={"name": "relay-auth", "namespace": namespace},
            string_data={AUTH_FILE: pulumi.Output.secret(secret.base64.apply(symmetric_jwk))}, opts=opts,
        )
        return auth.metadata.name

    @staticmethod
    def _service(name: str, args: RelayArgs, selector: Mapping[str, str], opts: pulumi.ResourceOptions) -> k8s.core.v1.Service:
        ports = [{"name": "quic", "protocol": "UDP", "port": PUBLIC_PORT, "targetPort": args.quic_port}]
        if args.websocket == "load-balancer":
            # Same port number, other protocol: the load balancer needs TCP and UDP listeners on 443 (an NLB's TCP_UDP).
            ports.append({"name": "wss", "protocol": "TCP", "port": PUBLIC_PORT, "targetPort": args.web_port})
        metadata: dict = {"name": "relay", "namespace": args.namespace, "labels": dict(selector)}
        # Several relays behind one UDP address without QUIC-LB: keep each client address on one relay.
        affinity = {"sessionAffinity": "ClientIP"} if args.session_affinity else {}
        if args.exposure:
            spec = {**args.exposure.spec(), "selector": dict(selector), "ports": ports, **affinity}
            if args.exposure.annotations:
                metadata["annotations"] = dict(args.exposure.annotations)
            opts = pulumi.ResourceOptions.merge(opts, load_balancer_service_options(args.load_balancer_dependencies))
        else:
            # The ingress controller's Service carries UDP 443 to this one (moq/relay:443).
            spec = {"type": "ClusterIP", "selector": dict(selector), "ports": ports, **affinity}
        return k8s.core.v1.Service(f"{name}-service", metadata=metadata, spec=spec, opts=opts)

    @staticmethod
    def _websocket_ingress(name: str, args: RelayArgs, selector: Mapping[str, str], secret_name: str, opts: pulumi.ResourceOptions) -> None:
        """TCP 443 of the relay host through the platform's ingress, which terminates TLS with the relay's certificate."""
        web = k8s.core.v1.Service(
            f"{name}-web-service",
            metadata={"name": "relay-web", "namespace": args.namespace, "labels": dict(selector)},
            spec={"type": "ClusterIP", "selector": dict(selector), "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": args.web_port}]},
            opts=opts,
        )
        tls_ingress(f"{name}-ingress", "relay", args.namespace, selector, args.host, secret_name, web.metadata.name, args.ingress_class, opts,
                    annotations={"nginx.ingress.kubernetes.io/proxy-read-timeout": WEBSOCKET_TIMEOUT,
                                 "nginx.ingress.kubernetes.io/proxy-send-timeout": WEBSOCKET_TIMEOUT})

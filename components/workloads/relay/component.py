"""The Media-over-QUIC relay (moq-relay) that browsers reach over WebTransport on UDP/443.

Deploys, into its own namespace ``moq`` (restricted pod security; the watch page shares it):
- ConfigMap ``relay-config``: the relay's TOML (``toml.py``);
- Certificate for the relay host through the platform's issuer; its Secret is mounted as a
  directory, so renewals reach the running relay, which reloads the files;
- Secret ``relay-auth`` with the public JWK (``<kid>.jwk``) of each ES256 token key the stack
  generates, when publishing needs a token and no existing key Secret is named; the private keys
  stay in the stack (the newest is ``token_key``, a Pulumi secret); the auth server beside each relay
  (``auth.py``, ``moq auth serve`` on a unix socket) reads them and decides every session;
- Deployment ``relay`` (one relay) or, for a tier (``relay.replicas`` > 1), StatefulSet ``relay`` with a headless
  Service, the peer list (``tier.py``, ``cluster.py``) and the peer CA outside the namespace (``peer_pki.py``);
  restricted pod security, probes on the internal listener, a ``preStop`` drain, a PodDisruptionBudget, an optional
  PodMonitor;
- Service ``relay``: UDP 443 -> the QUIC port; a LoadBalancer, or ClusterIP where the ingress
  controller carries UDP 443; plus TCP 443 -> the relay's HTTPS listener where its own load
  balancer carries the WebSocket fallback;
- Service ``relay-web`` + Ingress ``relay`` where the ingress carries the WebSocket fallback;
- NetworkPolicy ``default-deny``: every pod of the namespace isolated, in and out, until a policy of its own
  admits something (the namespace is the relay's, so is this policy);
- NetworkPolicy ``relay``: the QUIC port from anywhere, the web port from the edge's pods (or from anywhere where
  the relay's own load balancer carries it), the unauthenticated internal listener from nobody but the scraper's
  namespace (with the PodMonitor); a tier's relays reach each other's peer port and the cluster DNS (``_isolate``).

Where the load balancer routes QUIC by server ID (EKS) the namespace carries the AWS controller's server-ID
injection and pod readiness-gate labels, and each pod converts its injected ID for the relay (``cluster.py``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal, Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tls as tls
import tomli_w

from components.cluster.contract import Cluster, ExposeRequest, Exposure, PublicEndpoint
from components.k8s import labels, lb_address
from components.platform.certificates import Issuer
from components.platform.platform import EDGE_PODS, Platform
from components.restricted_workload import CLUSTER_DNS_EGRESS, Pods, RestrictedWorkload, deny_all
from components.workloads.relay import peer_pki, tier
from components.workloads.relay.auth import CONTAINER as AUTH_CONTAINER
from components.workloads.relay.auth import AuthServer
from components.workloads.relay.cluster import (
    PEER_TLS_DIR,
    PEERS_DIR,
    RelayCluster,
    node_env,
    quic_lb_launch,
    with_cluster,
)
from components.workloads.relay.config import RelayConfig, WebSocketRoute
from components.workloads.relay.keys import key_dir_file
from components.workloads.relay.toml import (AUTH_DIR, AUTH_SOCKET_DIR, CONFIG_DIR, CONFIG_FILE, TLS_DIR, RelayToml,
                                             document)

NAMESPACE = "moq"
SERVICE = "relay"
CONTAINER = "relay"
PUBLIC_PORT = 443
# https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/use_cases/quic/
# The controller's webhook injects a QUIC-LB server ID into the containers the pod annotation names, in namespaces
# with the first label; the second makes a pod Ready only once its NLB target is healthy.
LBC_QUIC_CONTAINERS = "service.beta.kubernetes.io/aws-load-balancer-quic-enabled-containers"
LBC_NAMESPACE_LABELS = {"elbv2.k8s.aws/quic-server-id-inject": "enabled",
                        "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled"}
ENDPOINT = "relay"
"""The relay's public endpoint (``Cluster.expose``)."""
# https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#custom-timeouts
# The ingress closes idle upstream connections after 60 s by default; a viewer's WebSocket lives for the whole
# broadcast.
WEBSOCKET_TIMEOUT = "3600"


def udp_backend(config: RelayConfig, via_ingress: bool) -> Mapping[int, str]:
    """What the ingress controller carries to the relay where it carries UDP 443: ``namespace/service:port``."""
    return {PUBLIC_PORT: f"{NAMESPACE}/{SERVICE}:{PUBLIC_PORT}"} if config.enabled and via_ingress else {}


@dataclass(frozen=True)
class RelayArgs:
    host: str
    """Public host name; the certificate, the URL and the WebSocket route use it."""
    image: str
    """Pinned moq-relay image."""
    auth_image: str
    """Pinned moq-cli image (the auth server)."""
    auth_resources: Mapping[str, Mapping[str, str]]
    """The auth server's container requests and limits, in Kubernetes form."""
    resources: Mapping[str, Mapping[str, str]]
    """Container requests and limits, in Kubernetes form."""
    quic_port: int
    """Container port of the QUIC listener (UDP); the Service maps 443 to it."""
    web_port: int
    """Container port of the web listener (WebSocket fallback)."""
    internal_port: int
    """Container port of the internal listener (/health for the probes)."""
    log_level: str
    peer_port: int
    """Container port (TCP) of a tier's peer listener (``cluster.py``)."""
    public_prefix: str
    """Broadcast prefix open without a token."""
    auth: Literal["anonymous", "jwt"]
    issuer: Issuer
    """Signs the relay host's certificate."""
    websocket: WebSocketRoute
    """How TCP 443 of the relay host reaches the WebSocket listener (see ``RelayConfig.websocket_route``)."""
    ingress_class: str
    """IngressClass of the platform's controller (used when ``websocket`` is ``ingress``)."""
    exposure: Optional[Exposure]
    """The cluster's LoadBalancer settings for the relay; None where the ingress controller carries UDP 443."""
    ingress_address: Optional[pulumi.Input[str]] = None
    """The ingress's public address: the relay's address when ``exposure`` is None."""
    load_balancer_dependencies: Sequence[pulumi.Resource] = ()
    """What a LoadBalancer Service must be created after and deleted before."""
    jwt_key_secret: Optional[str] = None
    """With ``auth`` jwt: an existing Secret holding ``<kid>.jwk`` public keys; None generates ``jwt_keys``."""
    jwt_keys: Sequence[str] = ("1",)
    """Names of the generated token keys (``auth`` jwt without ``jwt_key_secret``); the last one signs."""
    listen: Literal["dual-stack", "ipv4"] = "dual-stack"
    """Listeners on ``[::]`` (IPv6 and IPv4) or on ``0.0.0.0``."""
    namespace: str = NAMESPACE
    """Namespace the relay creates for its objects (restricted pod security)."""
    replicas: int = 1
    """Relays; more than one form a cluster (a StatefulSet, ``tier.py``)."""
    session_affinity: bool = False
    """``sessionAffinity: ClientIP`` on the relay Service (several relays without QUIC-LB)."""
    quic_lb: bool = False
    """The load balancer's controller injects a QUIC-LB server ID into each pod and routes by it (EKS)."""
    drain_seconds: int = 30
    """``preStop`` sleep before the relay is stopped."""
    metrics_namespace: Optional[str] = None
    """Set: a PodMonitor scrapes /metrics, and this namespace may reach the internal port."""
    platform: Optional[Platform] = None
    """Routes the WebSocket fallback where ``websocket`` is ``ingress`` (an Ingress, or an HTTPRoute on the Gateway)."""
    edge_pods: Pods = EDGE_PODS["ingress-nginx"]
    """The edge's pods: the only ones that reach the web port where ``websocket`` is ``ingress``."""

    @classmethod
    def of(cls, config: RelayConfig, host: str, cluster: Cluster, platform: Platform) -> "RelayArgs":
        """The relay's arguments from its config section and what the cluster and the platform offer."""
        via_ingress = bool(platform.udp)
        quic_lb = cluster.profile.quic_lb
        return cls(
            host=host, image=config.image, resources=config.resources.as_k8s(), auth_image=config.auth_image,
            auth_resources=config.auth_resources.as_k8s(), quic_port=config.quic_port,
            web_port=config.web_port, internal_port=config.internal_port, log_level=config.log_level,
            peer_port=config.peer_port,
            public_prefix=config.public_prefix, auth=config.auth_mode(platform.public_certificates),
            issuer=platform.issuer,
            websocket=config.websocket_route(cluster.profile, via_ingress), ingress_class=platform.ingress_class,
            # Where the ingress controller's load balancer carries UDP 443, the relay's Service stays internal. Where
            # the load balancer routes QUIC by server ID, 443 is one TCP_QUIC listener: QUIC by server ID, and TCP
            # (the WebSocket fallback) on the same listener, the one QUIC listener an NLB allows.
            exposure=None if via_ingress else cluster.expose(
                ExposeRequest(ENDPOINT, tcp_udp=True, quic_port=PUBLIC_PORT if quic_lb else None)),
            ingress_address=platform.ingress_address, load_balancer_dependencies=cluster.load_balancer_dependencies,
            jwt_key_secret=config.jwt_key_secret if config.jwt_key == "existing" else None,
            jwt_keys=tuple(config.jwt_keys), listen=config.listen,
            replicas=config.replicas_on(cluster.profile), session_affinity=config.session_affinity == "ClientIP",
            quic_lb=quic_lb, drain_seconds=config.drain_seconds,
            metrics_namespace=config.metrics_namespace if config.metrics == "podmonitor" else None,
            platform=platform, edge_pods=platform.edge_pods,
        )


class Relay(pulumi.ComponentResource):
    url: str
    """``https://<host>``."""
    public_url: str
    """``https://<host>/<public prefix>``: where viewers without a token connect."""
    address: pulumi.Output[Optional[str]]
    """Where the relay host must resolve: the load balancer's IP or host name."""
    secret_name: str
    """The Secret with the relay's certificate and key."""
    namespace: pulumi.Output[str]
    """The relay's namespace, which the watch page shares."""
    token_key: Optional[pulumi.Output[str]] = None
    """PEM of the private key that signs new tokens (a Pulumi secret); None unless the stack generates keys."""

    def __init__(self, name: str, args: RelayArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:workloads:Relay", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ns = self.namespace = self._namespace(args).metadata.name
        # Every pod of the namespace (the relay's, the watch page's, the publisher's, cert-manager's HTTP-01 solvers)
        # takes and opens only what a policy of its own admits.
        deny_all(f"{name}-default-deny", ns, child)
        workload = RestrictedWorkload(name, "relay", ns, labels("moq-relay", "relay"), child)
        self.pods = workload.pods
        """The relay pods: where an in-cluster client (the publisher) connects, on ``quic_port``."""
        self.quic_port = args.quic_port
        cluster = RelayCluster(args.replicas, args.namespace, args.peer_port) if args.replicas > 1 else None
        config = RelayToml(quic_port=args.quic_port, web_port=args.web_port, internal_port=args.internal_port,
                           log_level=args.log_level, public_prefix=args.public_prefix, auth=args.auth,
                           web_tls=args.websocket == "load-balancer", listen=args.listen,
                           stats=args.metrics_namespace is not None)
        toml = tomli_w.dumps(with_cluster(document(config), cluster) if cluster else document(config))
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-config", metadata={"name": "relay-config", "namespace": ns, "labels": workload.selector},
            data={CONFIG_FILE: toml}, opts=child,
        )
        certificate = args.issuer.certificate(f"{name}-certificate", args.host, ns, child)
        volumes, mounts = self._volumes(name, args, config, config_map.metadata.name, certificate.secret_name, child)
        after = [certificate.resource]
        if cluster:
            after.append(self._tier(name, args, cluster, workload, volumes, mounts, child))
        pods = self._pods(workload, args, config, cluster, mounts, volumes, toml, after)
        workload.disruption_budget()
        if args.metrics_namespace:
            tier.pod_monitor(name, ns, workload.selector, child)
        service = self._services(workload, args)
        if args.websocket == "ingress":
            self._websocket_ingress(workload, args, certificate.secret_name)
        _isolate(workload, args, cluster)
        self._finish(args, certificate.secret_name, service, pods)

    def _finish(self, args: RelayArgs, secret_name: str, service: k8s.core.v1.Service, pods) -> None:
        self.url = f"https://{args.host}"
        self.public_url = f"{self.url}/{args.public_prefix}"
        self.secret_name = secret_name
        self.cluster_ip = service.spec.cluster_ip
        """The Service carrying UDP 443: in-cluster clients reach the relay there under its public host name."""
        self.address = (
            service.status.apply(lb_address) if args.exposure else pulumi.Output.from_input(args.ingress_address)
        )
        self.endpoint = PublicEndpoint(args.host, ENDPOINT, self.address)
        self.outputs = {"relay_url": self.url, "relay_address": self.address,
                        "relay_certificate_secret": self.secret_name, "relay_public_prefix": args.public_prefix,
                        "relay_token_key": self.token_key, "relay_replicas": args.replicas,
                        "relay_quic_lb": args.quic_lb, "relay_websocket": args.websocket != "none"}
        self.register_outputs({"url": self.url, "address": self.address, "secretName": self.secret_name,
                               "workload": pods.metadata.name})

    def _namespace(self, args: RelayArgs) -> k8s.core.v1.Namespace:
        # Where the load balancer's controller injects server IDs its webhook admits every pod here and fails closed:
        # nothing may be created in the namespace before the controller runs (and the namespace goes first on
        # teardown).
        exposure_labels = dict(args.exposure.namespace_labels) if args.exposure else {}
        labels = {"pod-security.kubernetes.io/enforce": "restricted", **exposure_labels,
                  **(LBC_NAMESPACE_LABELS if args.quic_lb else {})}
        # Created at the stack's root before the relay owned it: the alias keeps the existing Namespace.
        return k8s.core.v1.Namespace(
            args.namespace, metadata={"name": args.namespace, "labels": labels},
            opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)],
                                        depends_on=list(args.load_balancer_dependencies)
                                        if args.quic_lb or exposure_labels else []),
        )

    def _tier(self, name: str, args: RelayArgs, cluster: RelayCluster, workload: RestrictedWorkload, volumes: list,
              mounts: list, child: pulumi.ResourceOptions) -> pulumi.Resource:
        """The peers' certificate, their list and the headless Service; the pods mount the first two."""
        peers = tier.peers_config_map(name, cluster, self.namespace, workload.selector, child)
        volumes += [{"name": "peer-tls", "secret": {"secretName": peer_pki.PEER_SECRET}},
                    {"name": "peers", "configMap": {"name": peers.metadata.name}}]
        mounts += [{"name": "peer-tls", "mountPath": PEER_TLS_DIR, "readOnly": True},
                   {"name": "peers", "mountPath": PEERS_DIR, "readOnly": True}]
        tier.headless_service(name, cluster, self.namespace, workload.selector, child)
        return peer_pki.peer_certificate(name, cluster, self.namespace, args.issuer.ready, child)

    @staticmethod
    def _pods(workload: RestrictedWorkload, args: RelayArgs, config: RelayToml, cluster: Optional[RelayCluster],
              mounts: list, volumes: list, toml: str, after: list):
        lifecycle, grace = tier.drain(args.drain_seconds)
        container = _container(args, config, mounts, lifecycle, cluster)
        sidecar = _auth_container(args, config, cluster is not None, mounts)
        # Only what the relay reads at start rolls the pods: the peer list is watched, so it is not in the digest.
        digest = hashlib.sha256(toml.encode()).hexdigest()
        annotations = {LBC_QUIC_CONTAINERS: CONTAINER} if args.quic_lb else None
        if cluster:
            return workload.statefulset(cluster.headless_service, [container], volumes, digest,
                                        replicas=cluster.replicas, annotations=annotations, grace_seconds=grace,
                                        init_containers=[sidecar], min_ready_seconds=10, depends_on=after)
        return workload.deployment([container], volumes, digest, annotations=annotations, strategy=tier.SURGE,
                                   init_containers=[sidecar], grace_seconds=grace, depends_on=after)

    def _volumes(self, name: str, args: RelayArgs, config: RelayToml, config_map: pulumi.Input[str],
                 tls_secret: pulumi.Input[str], child: pulumi.ResourceOptions) -> tuple[list, list]:
        ns = self.namespace
        volumes = [
            {"name": "config", "configMap": {"name": config_map}},
            # A directory mount (never subPath): the kubelet swaps renewed files in, and the relay reloads them.
            # https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-files-from-a-pod
            {"name": "tls", "secret": {"secretName": tls_secret}},
            # The auth server's socket: shared by the two containers only.
            {"name": "auth-socket", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
        ]
        mounts = [{"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
                  {"name": "tls", "mountPath": TLS_DIR, "readOnly": True},
                  {"name": "auth-socket", "mountPath": AUTH_SOCKET_DIR}]
        if config.key_dir:
            key_secret = args.jwt_key_secret
            if not key_secret:
                key_secret, self.token_key = self._token_keys(name, ns, args.jwt_keys, child)
            # A directory mount: keys added for a rotation reach the auth server, which reads `<kid>.jwk` per token;
            # only its container mounts it (``_auth_container``).
            volumes.append({"name": "auth", "secret": {"secretName": key_secret}})
        return volumes, mounts

    @staticmethod
    def _token_keys(name: str, namespace: pulumi.Input[str], names: Sequence[str],
                    opts: pulumi.ResourceOptions) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """An ES256 key pair per name; the Secret gets the public JWKs only. (Secret name, newest private PEM)."""
        keys = [tls.PrivateKey(f"{name}-token-key-{key}", algorithm="ECDSA", ecdsa_curve="P256", opts=opts)
                for key in names]
        files = pulumi.Output.all(*[k.public_key_pem for k in keys]).apply(
            lambda pems: dict(key_dir_file(pem) for pem in pems))
        auth = k8s.core.v1.Secret(f"{name}-auth", metadata={"name": "relay-auth", "namespace": namespace},
                                  string_data=files, opts=opts)
        return auth.metadata.name, pulumi.Output.secret(keys[-1].private_key_pem)

    @staticmethod
    def _services(workload: RestrictedWorkload, args: RelayArgs) -> k8s.core.v1.Service:
        ports = [{"name": "quic", "protocol": "UDP", "port": PUBLIC_PORT, "targetPort": args.quic_port}]
        if args.websocket == "load-balancer":
            # Same port number, other protocol: the load balancer needs TCP and UDP listeners on 443 (an NLB's TCP_UDP).
            ports.append({"name": "wss", "protocol": "TCP", "port": PUBLIC_PORT, "targetPort": args.web_port})
        # Without an exposure the ingress controller's Service carries UDP 443 to this one (``udp_backend``).
        (service,) = workload.expose(ports, args.exposure, load_balancer_dependencies=args.load_balancer_dependencies,
                                     session_affinity=args.session_affinity, ipv4_only=args.quic_lb)
        return service

    @staticmethod
    def _websocket_ingress(workload: RestrictedWorkload, args: RelayArgs, secret_name: pulumi.Input[str]) -> None:
        """TCP 443 of the relay host through the platform's ingress, which terminates TLS with the relay's certificate.
        """
        (web,) = workload.expose([{"name": "http", "protocol": "TCP", "port": 80, "targetPort": args.web_port}],
                                 suffix="web")
        if args.platform and args.platform.gateway:
            # Envoy Gateway keeps an upgraded connection open while either side talks (no 60 s read timeout).
            args.platform.route(workload, args.host, secret_name, web.metadata.name)
            return
        workload.route(args.host, secret_name, web.metadata.name, args.ingress_class,
                       annotations={"nginx.ingress.kubernetes.io/proxy-read-timeout": WEBSOCKET_TIMEOUT,
                                    "nginx.ingress.kubernetes.io/proxy-send-timeout": WEBSOCKET_TIMEOUT})


def _isolate(workload: RestrictedWorkload, args: RelayArgs, cluster: Optional[RelayCluster]) -> None:
    """NetworkPolicy ``relay``. In: the QUIC port from anywhere (the public port); the web port from the edge's pods
    where the edge carries the WebSocket fallback, from anywhere where the relay's own load balancer does, else from
    nobody; the internal port (/health, /metrics) only from the scraper's namespace (the kubelet's probes come from
    the node, which the CNIs the stacks use always admit: a NetworkPolicy cannot name it). A tier's relays dial each
    other's peer port (in and out: nothing else may), resolving the peers' names through the cluster DNS; one relay
    opens nothing."""
    quic, web = {"protocol": "UDP", "port": args.quic_port}, {"protocol": "TCP", "port": args.web_port}
    public = [quic, *([web] if args.websocket == "load-balancer" else [])]
    rules = [args.edge_pods.rule("from", [web])] if args.websocket == "ingress" else []
    if args.metrics_namespace:
        rules.append(Pods(namespace=args.metrics_namespace).rule("from", [{"protocol": "TCP",
                                                                           "port": args.internal_port}]))
    egress: list = []
    if cluster:
        peer = {"protocol": "TCP", "port": cluster.peer_port}
        rules.append(workload.pods.rule("from", [peer]))
        egress = [CLUSTER_DNS_EGRESS, workload.pods.rule("to", [peer])]
    workload.isolate(public, egress=egress, rules=rules)


def _container(args: RelayArgs, config: RelayToml, mounts: list, lifecycle: dict,
               cluster: Optional[RelayCluster]) -> dict:
    health = {"httpGet": {"path": "/health", "port": "internal"}}
    env = node_env(cluster) if cluster else []
    if cluster and config.stats:
        # Each relay publishes its counters under its own name, or the cluster keeps only one of them.
        env.append({"name": "MOQ_STATS_NODE", "value": "$(POD_NAME)"})
    return {
        "name": CONTAINER,
        "image": args.image,
        # The image's entrypoint runs `moq-relay "$@"`: the config path is the only argument. Where the controller
        # injects a server ID, a shell line turns it into the relay's hex first.
        **({"command": quic_lb_launch(config.path)} if args.quic_lb else {"args": [config.path]}),
        "env": env,
        "ports": [
            {"name": "quic", "containerPort": args.quic_port, "protocol": "UDP"},
            {"name": "web", "containerPort": args.web_port, "protocol": "TCP"},
            {"name": "internal", "containerPort": args.internal_port, "protocol": "TCP"},
            *([{"name": "peer", "containerPort": cluster.peer_port, "protocol": "TCP"}] if cluster else []),
        ],
        "readinessProbe": {**health, "periodSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {**health, "initialDelaySeconds": 10, "periodSeconds": 10, "failureThreshold": 3},
        "lifecycle": lifecycle,
        "resources": {k: dict(v) for k, v in args.resources.items()},
        "volumeMounts": mounts,
    }


def _auth_container(args: RelayArgs, config: RelayToml, peers: bool, mounts: list) -> dict:
    """``moq auth serve`` as a native sidecar: started (and its socket made) before the relay, restarted on its own."""
    server = AuthServer(public_prefix=config.public_prefix, auth=config.auth, peers=peers)
    socket = [m for m in mounts if m["name"] == "auth-socket"]
    keys = [{"name": "auth", "mountPath": AUTH_DIR, "readOnly": True}] if config.key_dir else []
    return {
        "name": AUTH_CONTAINER,
        "image": args.auth_image,
        "args": server.args(),
        "env": [{"name": "MOQ_LOG_LEVEL", "value": config.log_level}],
        "restartPolicy": "Always",
        # No startup probe: the image has no shell or client to ask the socket with. Until the server binds it (well
        # under a second) the relay refuses sessions ("auth server unavailable"), and clients retry.
        "resources": {k: dict(v) for k, v in args.auth_resources.items()},
        "volumeMounts": [*socket, *keys],
    }

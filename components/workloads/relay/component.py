"""The Media-over-QUIC relay (moq-relay) that browsers reach over WebTransport on UDP/443.

Deploys, into its own namespace ``moq`` (restricted pod security; the watch page shares it):
- ConfigMap ``relay-config``: the relay's TOML (``toml.py``);
- Certificate for the relay host through the platform's issuer; its Secret is mounted as a
  directory, so renewals reach the running relay, which reloads the files;
- Secret ``relay-auth`` with the public JWK (``<kid>.jwk``) of each ES256 token key the stack
  generates, when publishing needs a token and no existing key Secret is named; the private keys
  stay in the stack (the newest is ``token_key``, a Pulumi secret);
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
import pulumi_tls as tls

from components.cluster.contract import Cluster, ExposeRequest, Exposure, PublicEndpoint
from components.k8s import labels, lb_address
from components.platform.certificates import Issuer
from components.platform.platform import Platform
from components.restricted_workload import DNS_EGRESS, RestrictedWorkload
from components.workloads.relay.config import RelayConfig, WebSocketRoute
from components.workloads.relay.keys import key_dir_file
from components.workloads.relay.toml import AUTH_DIR, CONFIG_DIR, CONFIG_FILE, TLS_DIR, RelayToml, environment, render

NAMESPACE = "moq"
SERVICE = "relay"
PUBLIC_PORT = 443
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

    @classmethod
    def of(cls, config: RelayConfig, host: str, cluster: Cluster, platform: Platform) -> "RelayArgs":
        """The relay's arguments from its config section and what the cluster and the platform offer."""
        via_ingress = bool(platform.udp)
        return cls(
            host=host, image=config.image, resources=config.resources.as_k8s(), quic_port=config.quic_port,
            web_port=config.web_port, internal_port=config.internal_port, log_level=config.log_level,
            public_prefix=config.public_prefix, auth=config.auth_mode(platform.public_certificates),
            issuer=platform.issuer,
            websocket=config.websocket_route(cluster.profile, via_ingress), ingress_class=platform.ingress_class,
            # Where the ingress controller's load balancer carries UDP 443, the relay's Service stays internal.
            # No QUIC listener: the relay's connection IDs carry no QUIC-LB server ID.
            exposure=None if via_ingress else cluster.expose(ExposeRequest(ENDPOINT, tcp_udp=True)),
            ingress_address=platform.ingress_address, load_balancer_dependencies=cluster.load_balancer_dependencies,
            jwt_key_secret=config.jwt_key_secret if config.jwt_key == "existing" else None,
            jwt_keys=tuple(config.jwt_keys), listen=config.listen,
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
        # Created at the stack's root before the relay owned it: the alias keeps the existing Namespace.
        namespace = k8s.core.v1.Namespace(
            args.namespace,
            metadata={"name": args.namespace, "labels": {"pod-security.kubernetes.io/enforce": "restricted",
                                                          **(args.exposure.namespace_labels if args.exposure else {})}},
            opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)]),
        )
        ns = self.namespace = namespace.metadata.name
        workload = RestrictedWorkload(name, "relay", ns, labels("moq-relay", "relay"), child)
        config = RelayToml(quic_port=args.quic_port, web_port=args.web_port, internal_port=args.internal_port,
                           log_level=args.log_level, public_prefix=args.public_prefix, auth=args.auth,
                           web_tls=args.websocket == "load-balancer", listen=args.listen)
        toml = render(config)
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-config", metadata={"name": "relay-config", "namespace": ns, "labels": workload.selector},
            data={CONFIG_FILE: toml}, opts=child,
        )
        certificate = args.issuer.certificate(f"{name}-certificate", args.host, ns, child)
        volumes, mounts = self._volumes(name, args, config, config_map.metadata.name, certificate.secret_name, child)
        # One replica: nothing routes QUIC by connection ID here (no QUIC-LB), so with a second replica
        # behind the one UDP address a client's NAT rebinding could land on the other pod and lose its
        # connection. Scale out with more relays on more addresses instead.
        # With a readiness gate the controller's webhook must admit the pods: they wait for it.
        gated = list(args.load_balancer_dependencies) if args.exposure and args.exposure.namespace_labels else []
        deployment = workload.deployment([_container(args, config, mounts)], volumes,
                                         hashlib.sha256(toml.encode()).hexdigest(),
                                         depends_on=[certificate.resource, *gated])
        service = self._services(workload, args)
        if args.websocket == "ingress":
            self._websocket_ingress(workload, args, certificate.secret_name)
        # The internal listener must bind the pod IP for the kubelet's probes; no other pod may reach it.
        # Out: name servers, and other relays' QUIC port (clustered relays connect to each other); nothing else.
        peers = {"to": [{"podSelector": {"matchLabels": workload.selector}}],
                 "ports": [{"protocol": "UDP", "port": args.quic_port}]}
        workload.isolate([{"protocol": "UDP", "port": args.quic_port}, {"protocol": "TCP", "port": args.web_port}],
                         egress=[DNS_EGRESS, peers])

        self.url = f"https://{args.host}"
        self.public_url = f"{self.url}/{args.public_prefix}"
        self.secret_name = certificate.secret_name
        self.cluster_ip = service.spec.cluster_ip
        """The Service carrying UDP 443: in-cluster clients reach the relay there under its public host name."""
        self.address = (
            service.status.apply(lb_address) if args.exposure else pulumi.Output.from_input(args.ingress_address)
        )
        self.endpoint = PublicEndpoint(args.host, ENDPOINT, self.address)
        self.outputs = {"relay_url": self.url, "relay_address": self.address,
                        "relay_certificate_secret": self.secret_name, "relay_public_prefix": args.public_prefix,
                        "relay_token_key": self.token_key}
        self.register_outputs({"url": self.url, "address": self.address, "secretName": self.secret_name,
                               "deployment": deployment.metadata.name})

    def _volumes(self, name: str, args: RelayArgs, config: RelayToml, config_map: pulumi.Input[str],
                 tls_secret: pulumi.Input[str], child: pulumi.ResourceOptions) -> tuple[list, list]:
        ns = self.namespace
        volumes = [
            {"name": "config", "configMap": {"name": config_map}},
            # A directory mount (never subPath): the kubelet swaps renewed files in, and the relay reloads them.
            # https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-files-from-a-pod
            {"name": "tls", "secret": {"secretName": tls_secret}},
        ]
        mounts = [{"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
                  {"name": "tls", "mountPath": TLS_DIR, "readOnly": True}]
        if config.key_dir:
            key_secret = args.jwt_key_secret
            if not key_secret:
                key_secret, self.token_key = self._token_keys(name, ns, args.jwt_keys, child)
            # A directory mount: keys added for a rotation reach the relay, which reads `<kid>.jwk` per connection.
            volumes.append({"name": "auth", "secret": {"secretName": key_secret}})
            mounts.append({"name": "auth", "mountPath": AUTH_DIR, "readOnly": True})
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
        (service,) = workload.expose(ports, args.exposure, load_balancer_dependencies=args.load_balancer_dependencies)
        return service

    @staticmethod
    def _websocket_ingress(workload: RestrictedWorkload, args: RelayArgs, secret_name: pulumi.Input[str]) -> None:
        """TCP 443 of the relay host through the platform's ingress, which terminates TLS with the relay's certificate.
        """
        (web,) = workload.expose([{"name": "http", "protocol": "TCP", "port": 80, "targetPort": args.web_port}],
                                 suffix="web")
        workload.route(args.host, secret_name, web.metadata.name, args.ingress_class,
                       annotations={"nginx.ingress.kubernetes.io/proxy-read-timeout": WEBSOCKET_TIMEOUT,
                                    "nginx.ingress.kubernetes.io/proxy-send-timeout": WEBSOCKET_TIMEOUT})


def _container(args: RelayArgs, config: RelayToml, mounts: list) -> dict:
    health = {"httpGet": {"path": "/health", "port": "internal"}}
    return {
        "name": "relay",
        "image": args.image,
        # The image's entrypoint runs `moq-relay "$@"`: the config path is the only argument.
        "args": [config.path],
        "env": environment(config),
        "ports": [
            {"name": "quic", "containerPort": args.quic_port, "protocol": "UDP"},
            {"name": "web", "containerPort": args.web_port, "protocol": "TCP"},
            {"name": "internal", "containerPort": args.internal_port, "protocol": "TCP"},
        ],
        "readinessProbe": {**health, "periodSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {**health, "initialDelaySeconds": 10, "periodSeconds": 10, "failureThreshold": 3},
        "resources": {k: dict(v) for k, v in args.resources.items()},
        "volumeMounts": mounts,
    }

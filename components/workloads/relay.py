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
from components.k8s import labels, lb_address, open_ports_only, restricted_deployment, tls_ingress
from components.platform.certificates import Issuer
from components.workloads.relay_config import AUTH_DIR, AUTH_FILE, CONFIG_DIR, CONFIG_FILE, TLS_DIR, RelayConfig, render, symmetric_jwk

WebSocketRoute = Literal["ingress", "load-balancer", "none"]
PUBLIC_PORT = 443
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
        child = pulumi.ResourceOptions(parent=self)
        ns = args.namespace
        selector = labels("moq-relay", "relay")
        config = RelayConfig(
            quic_port=args.quic_port, web_port=args.web_port, internal_port=args.internal_port, log_level=args.log_level,
            public_prefix=args.public_prefix, auth=args.auth, web_tls=args.websocket == "load-balancer",
        )
        toml = render(config)

        config_map = k8s.core.v1.ConfigMap(
            f"{name}-config", metadata={"name": "relay-config", "namespace": ns, "labels": selector},
            data={CONFIG_FILE: toml}, opts=child,
        )
        certificate = args.issuer.certificate(f"{name}-certificate", args.host, ns, child)

        volumes = [
            {"name": "config", "configMap": {"name": config_map.metadata.name}},
            # A directory mount (never subPath): the kubelet swaps renewed files in, and the relay reloads them.
            {"name": "tls", "secret": {"secretName": certificate.secret_name}},
        ]
        mounts = [{"name": "config", "mountPath": CONFIG_DIR, "readOnly": True}, {"name": "tls", "mountPath": TLS_DIR, "readOnly": True}]
        if config.jwk_path:
            volumes.append({"name": "auth", "secret": {"secretName": args.jwt_key_secret or self._jwt_key(name, ns, child)}})
            mounts.append({"name": "auth", "mountPath": AUTH_DIR, "readOnly": True})

        health = {"httpGet": {"path": "/health", "port": "internal"}}
        # One replica: nothing routes QUIC by connection ID here (no QUIC-LB), so with a second replica
        # behind the one UDP address a client's NAT rebinding could land on the other pod and lose its
        # connection. Scale out with more relays on more addresses instead.
        deployment = restricted_deployment(f"{name}-deployment", "relay", ns, selector, {
            "name": "relay",
            "image": args.image,
            # The image's entrypoint runs `moq-relay "$@"`: the config path is the only argument.
            "args": [config.path],
            "ports": [
                {"name": "quic", "containerPort": args.quic_port, "protocol": "UDP"},
                {"name": "web", "containerPort": args.web_port, "protocol": "TCP"},
                {"name": "internal", "containerPort": args.internal_port, "protocol": "TCP"},
            ],
            "readinessProbe": {**health, "periodSeconds": 5, "failureThreshold": 3},
            "livenessProbe": {**health, "initialDelaySeconds": 10, "periodSeconds": 10, "failureThreshold": 3},
            "resources": {k: dict(v) for k, v in args.resources.items()},
            "volumeMounts": mounts,
        }, volumes, hashlib.sha256(toml.encode()).hexdigest(),
            pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[certificate.resource])))

        service = self._service(name, args, selector, child)
        if args.websocket == "ingress":
            self._websocket_ingress(name, args, selector, certificate.secret_name, child)
        # The internal listener must bind the pod IP for the kubelet's probes; no other pod may reach it.
        open_ports_only(f"{name}-network-policy", "relay", ns, selector,
                        [{"protocol": "UDP", "port": args.quic_port}, {"protocol": "TCP", "port": args.web_port}], child)

        self.url = f"https://{args.host}"
        self.public_url = f"{self.url}/{args.public_prefix}"
        self.secret_name = certificate.secret_name
        self.cluster_ip = service.spec.cluster_ip
        """The relay Service's cluster IP: in-cluster clients reach UDP 443 there under the public host name."""
        self.address = service.status.apply(lb_address) if args.exposure else pulumi.Output.from_input(args.ingress_address)
        self.register_outputs({"url": self.url, "address": self.address, "secretName": self.secret_name, "deployment": deployment.metadata.name})

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
        if args.exposure:
            spec = {**args.exposure.spec(), "selector": dict(selector), "ports": ports}
            if args.exposure.annotations:
                metadata["annotations"] = dict(args.exposure.annotations)
            opts = pulumi.ResourceOptions.merge(opts, load_balancer_service_options(args.load_balancer_dependencies))
        else:
            # The ingress controller's Service carries UDP 443 to this one (moq/relay:443).
            spec = {"type": "ClusterIP", "selector": dict(selector), "ports": ports}
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

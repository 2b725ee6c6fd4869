"""The Envoy HTTP/3 demo with QUIC-LB connection IDs.

Deploys, in its own namespace: a Certificate for the host (cert-manager writes it to a Secret that the
pods mount as a directory), a ConfigMap with the Envoy bootstrap (``bootstrap.py``), a Secret
with the QUIC-LB key (16 random bytes per stack), a Deployment of Envoy pods that each carry their
own server ID, a PodDisruptionBudget, a NetworkPolicy (listener port in, nothing out), and a LoadBalancer
Service with TCP and UDP on the public port (two Services on one address where the cloud needs that).

Where each pod's server ID comes from (``server_id_source``):
- ``injected`` (EKS): the AWS Load Balancer Controller's webhook sets ``AWS_LBC_QUIC_SERVER_ID`` in
  the containers named in the pod annotation, in namespaces with the inject label, and registers
  each pod with the NLB under that ID;
- ``generated`` (everywhere else): an init container (the same Envoy image, which ships coreutils)
  writes 8 random bytes, base64, to a memory-backed emptyDir that Envoy reads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import yaml

from components.cluster.contract import Cluster, ExposeRequest, Exposure, PublicEndpoint
from components.k8s import labels, lb_address
from components.platform.certificates import Issuer
from components.platform.platform import Platform
from components.restricted_workload import RestrictedWorkload
from components.workloads.envoy import bootstrap as eb
from components.workloads.envoy.config import EnvoyDemoConfig

ENDPOINT = "envoy"
"""The demo's public endpoint (``Cluster.expose``)."""
SERVER_ID_ENV = "AWS_LBC_QUIC_SERVER_ID"
"""The variable the AWS Load Balancer Controller injects (its ``--quic-environment-variable-name`` default)."""
INJECT_LABEL = "elbv2.k8s.aws/quic-server-id-inject"
"""Namespace label that turns on the controller's server-ID webhook."""
QUIC_CONTAINERS = "service.beta.kubernetes.io/aws-load-balancer-quic-enabled-containers"
"""Pod annotation naming the containers that get a server ID."""
CONTAINER = "envoy"

CONFIG_DIR = "/etc/envoy"
TLS_DIR = "/etc/tls"
QUIC_LB_DIR = "/etc/quic-lb"
SERVER_ID_DIR = "/run/quic-lb"
BOOTSTRAP_FILE = "envoy.yaml"
TLS_SDS_FILE = "tls.yaml"
QUIC_LB_KEY_FILE = "quic-lb-key.yaml"
SERVER_ID_FILE = f"{SERVER_ID_DIR}/server-id"

ServerIdSource = Literal["injected", "generated"]


@dataclass(frozen=True)
class EnvoyDemoArgs:
    namespace: str
    """Namespace to create for the demo."""
    host: str
    """Public host name; the certificate is issued for it."""
    image: str
    """Pinned Envoy image (>= 1.36 for the QUIC-LB field names)."""
    replicas: int
    """Envoy pods."""
    concurrency: int
    """Envoy worker threads (``--concurrency``): the CPU limit in whole cores."""
    resources: dict
    """Envoy container ``resources`` (requests and limits)."""
    listener: eb.Listener
    """Ports and response bodies."""
    config_version: int
    """QUIC-LB configuration version (0-6)."""
    server_id_length: int
    """Server ID bytes in every connection ID."""
    nonce_length: int
    """Nonce bytes in every connection ID."""
    server_id_source: ServerIdSource
    """``injected`` by the AWS Load Balancer Controller, or ``generated`` by an init container."""
    issuer: Issuer
    """Signs the host's certificate."""
    exposure: Exposure
    """How the cluster exposes the Service (class, annotations, address)."""
    tcp_udp_service: bool = True
    """One Service may carry the public port over TCP and UDP; otherwise two Services (TCP and UDP)
    share the exposure's address, as GKE requires without mixed-protocol support."""
    load_balancer_dependencies: Sequence[pulumi.Resource] = ()
    """What the Service is created after and deleted before; with ``injected`` IDs every object waits
    for them, because the controller that injects IDs is among them."""


    @classmethod
    def of(cls, config: EnvoyDemoConfig, host: str, cluster: Cluster, platform: Platform) -> "EnvoyDemoArgs":
        """The demo's arguments from its config section and what the cluster and the platform offer."""
        profile = cluster.profile
        public_port = config.public_port_on(profile)
        return cls(
            namespace=config.namespace, host=host, image=config.image, replicas=config.replicas_on(profile),
            concurrency=config.concurrency, resources=config.resources.as_k8s(),
            listener=eb.Listener(port=config.container_port, public_port=public_port, h2_body=config.h2_body,
                                 h3_body=config.h3_body, admin_port=config.admin_port),
            config_version=config.config_version, server_id_length=config.server_id_length,
            nonce_length=config.nonce_length,
            # Only a load balancer that routes QUIC by server ID has a controller that injects them.
            server_id_source="injected" if profile.quic_lb else "generated", issuer=platform.issuer,
            exposure=cluster.expose(ExposeRequest(ENDPOINT, quic_port=public_port)),
            tcp_udp_service=profile.tcp_udp_service, load_balancer_dependencies=cluster.load_balancer_dependencies,
        )


class EnvoyDemo(pulumi.ComponentResource):
    url: str
    """``https://<host>``, with ``:<port>`` unless the public port is 443."""
    address: pulumi.Output[str]
    """The load balancer's IP address or host name."""
    replicas: int

    def __init__(self, name: str, args: EnvoyDemoArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:workloads:EnvoyDemo", name, None, opts)
        injected = args.server_id_source == "injected"
        # The controller's server-ID webhook fails closed, and a pod admitted before it is ready never
        # gets an ID and is silently never registered as a target: nothing may exist before it.
        waits = list(args.load_balancer_dependencies) if injected else []
        child = pulumi.ResourceOptions(parent=self, depends_on=waits)
        ns_labels = {
            "pod-security.kubernetes.io/enforce": "restricted",
            **({INJECT_LABEL: "enabled"} if injected else {}),
            **args.exposure.namespace_labels,
        }
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata={"name": args.namespace, "labels": ns_labels}, opts=child
        )
        # Taking the name from the Namespace makes every namespaced object depend on it (deleted before it).
        workload = RestrictedWorkload(name, "envoy", namespace.metadata.name, labels("envoy-demo", "envoy"), child)
        certificate = args.issuer.certificate(f"{name}-certificate", args.host, workload.namespace, child)
        config_data, volumes, mounts = self._files(name, args, workload, certificate.secret_name)
        port = args.listener.port
        deployment = workload.deployment(
            [_envoy(args, mounts)], volumes, hashlib.sha256(_yaml(config_data).encode()).hexdigest(),
            replicas=args.replicas, spread=True, init_containers=[] if injected else [_server_id_writer(args)],
            grace_seconds=GRACE_SECONDS,
            # A changed bootstrap rolls the pods (Envoy reads it once); certificate and key are watched.
            annotations={QUIC_CONTAINERS: CONTAINER} if injected else None)
        workload.disruption_budget(max_unavailable=1)
        # Envoy answers by itself: clients may reach the listener port, and the pods reach nothing.
        workload.isolate([{"port": port, "protocol": "TCP"}, {"port": port, "protocol": "UDP"}], egress=[])
        public = args.listener.public_port
        services = workload.expose(
            [{"name": "h3", "port": public, "targetPort": port, "protocol": "UDP"},
             {"name": "h2", "port": public, "targetPort": port, "protocol": "TCP"}],
            args.exposure, tcp_udp_service=args.tcp_udp_service, ipv4_only=True,
            load_balancer_dependencies=args.load_balancer_dependencies)

        self.url = f"https://{args.host}" + ("" if public == 443 else f":{public}")
        # The UDP (QUIC) Service decides the address; a TCP twin shares it.
        self.address = services[0].status.apply(lb_address)
        self.replicas = args.replicas
        self.endpoint = PublicEndpoint(args.host, ENDPOINT, self.address)
        self.outputs = {"envoy_url": self.url, "envoy_address": self.address, "envoy_replicas": self.replicas,
                        "envoy_h2_body": args.listener.h2_body, "envoy_h3_body": args.listener.h3_body,
                        "envoy_server_id_length": args.server_id_length}
        self.register_outputs(
            {"url": self.url, "address": self.address, "replicas": self.replicas, "deployment": deployment.id}
        )

    def _files(self, name: str, args: EnvoyDemoArgs, workload: RestrictedWorkload,
               tls_secret: pulumi.Input[str]) -> tuple[dict, list, list]:
        """The bootstrap ConfigMap and the QUIC-LB key Secret; their volumes and mounts (with the certificate's)."""
        injected = args.server_id_source == "injected"
        files = eb.Files(
            certificate=f"{TLS_DIR}/tls.crt", private_key=f"{TLS_DIR}/tls.key",
            tls_sds=f"{CONFIG_DIR}/{TLS_SDS_FILE}", quic_lb_key=f"{QUIC_LB_DIR}/{QUIC_LB_KEY_FILE}",
        )
        server_id = eb.ServerIdFromEnv(SERVER_ID_ENV) if injected else eb.ServerIdFromFile(SERVER_ID_FILE)
        quic_lb = eb.QuicLb(server_id=server_id, server_id_length=args.server_id_length, nonce_length=args.nonce_length)
        config_data = {
            BOOTSTRAP_FILE: _yaml(eb.bootstrap(args.listener, quic_lb, files)),
            TLS_SDS_FILE: _yaml(eb.tls_document(files)),
        }
        metadata = {"namespace": workload.namespace, "labels": workload.selector}
        config = k8s.core.v1.ConfigMap(f"{name}-config", metadata={"name": "envoy-config", **metadata},
                                       data=config_data, opts=workload.opts)
        key = random.RandomBytes(f"{name}-quic-lb-key", length=16, opts=pulumi.ResourceOptions(parent=self))
        key_document = key.base64.apply(lambda k: _yaml(eb.quic_lb_key_document(k, args.config_version)))
        key_secret = k8s.core.v1.Secret(
            f"{name}-quic-lb-key",
            metadata={"name": "quic-lb-key", **metadata},
            type="Opaque",
            string_data={QUIC_LB_KEY_FILE: pulumi.Output.secret(key_document)},
            opts=workload.opts,
        )
        volumes = [
            {"name": "config", "configMap": {"name": config.metadata.name, "defaultMode": 0o444}},
            {"name": "tls", "secret": {"secretName": tls_secret, "defaultMode": 0o440}},
            {"name": "quic-lb-key", "secret": {"secretName": key_secret.metadata.name, "defaultMode": 0o440}},
        ]
        mounts = [
            {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
            {"name": "tls", "mountPath": TLS_DIR, "readOnly": True},
            {"name": "quic-lb-key", "mountPath": QUIC_LB_DIR, "readOnly": True},
        ]
        if not injected:
            volumes.append({"name": "server-id", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}})
            mounts.append({"name": "server-id", "mountPath": SERVER_ID_DIR, "readOnly": True})
        return config_data, volumes, mounts


# Envoy exits at SIGTERM without draining (https://www.envoyproxy.io/docs/envoy/latest/operations/draining).
# So preStop asks its loopback admin port to drain every listener gracefully (HTTP/2 and HTTP/3 clients
# get GOAWAY and move to another pod) and waits out the drain, while the load balancer deregisters the
# pod; then Kubernetes sends SIGTERM. The image has bash (Ubuntu base) but no curl: bash's /dev/tcp.
DRAIN_SECONDS = 15
GRACE_SECONDS = DRAIN_SECONDS + 15


def drain_hook(admin_port: int) -> dict:
    """The container's ``lifecycle``: drain the listeners through the admin port, then wait for the drain."""
    request = (r"POST /drain_listeners?graceful HTTP/1.1\r\nHost: localhost\r\n"
               r"Content-Length: 0\r\nConnection: close\r\n\r\n")
    script = (f"exec 3<>/dev/tcp/127.0.0.1/{admin_port} && printf '{request}' >&3 && timeout 5 cat <&3; "
              f"sleep {DRAIN_SECONDS}")
    return {"preStop": {"exec": {"command": ["/bin/bash", "-c", script]}}}


def _envoy(args: EnvoyDemoArgs, mounts: list) -> dict:
    port = args.listener.port
    probe = {"tcpSocket": {"port": "h2"}}
    return {
        "name": CONTAINER,
        "image": args.image,
        # Envoy directly: the image's entrypoint script switches users, which a non-root pod cannot.
        "command": ["/usr/local/bin/envoy"],
        "args": [
            "--config-path", f"{CONFIG_DIR}/{BOOTSTRAP_FILE}",
            # https://www.envoyproxy.io/docs/envoy/latest/operations/cli#cmdoption-concurrency
            # Envoy would otherwise start one worker per node CPU, beyond the limit (and the
            # QUIC-LB generator refuses 255 or more).
            "--concurrency", str(args.concurrency),
            # Hot restart needs shared memory and a second process; Kubernetes replaces pods instead.
            "--disable-hot-restart",
            "--log-level", "info",
            # How long a graceful drain lasts (default 600 s, longer than any grace period).
            "--drain-time-s", str(DRAIN_SECONDS),
        ],
        "lifecycle": drain_hook(args.listener.admin_port),
        "ports": [
            {"name": "h2", "containerPort": port, "protocol": "TCP"},
            {"name": "h3", "containerPort": port, "protocol": "UDP"},
        ],
        "resources": args.resources,
        "readinessProbe": {**probe, "periodSeconds": 5, "failureThreshold": 2},
        "livenessProbe": {**probe, "initialDelaySeconds": 10, "periodSeconds": 10, "failureThreshold": 3},
        "volumeMounts": mounts,
    }


def _server_id_writer(args: EnvoyDemoArgs) -> dict:
    """Init container that gives the pod a random server ID, kept across container restarts."""
    script = (f"test -s {SERVER_ID_FILE} || "
              f"head -c {args.server_id_length} /dev/urandom | base64 -w 0 > {SERVER_ID_FILE}")
    return {
        "name": "server-id",
        "image": args.image,
        "command": ["/bin/sh", "-c", script],
        "resources": {"requests": {"cpu": "10m", "memory": "8Mi"}, "limits": {"cpu": "100m", "memory": "16Mi"}},
        "volumeMounts": [{"name": "server-id", "mountPath": SERVER_ID_DIR}],
    }


def _yaml(doc: dict) -> str:
    return yaml.safe_dump(doc, sort_keys=False)

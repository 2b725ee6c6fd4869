"""The Envoy HTTP/3 demo with QUIC-LB connection IDs.

Deploys, in its own namespace: a Certificate for the host (cert-manager writes it to a Secret that the
pods mount as a directory), a ConfigMap with the Envoy bootstrap (``envoy_bootstrap.py``), a Secret
with the QUIC-LB key (16 random bytes per stack), a Deployment of Envoy pods that each carry their
own server ID, a PodDisruptionBudget, a NetworkPolicy (listener port in, nothing out), and a LoadBalancer
Service with TCP and UDP on the public port.

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

from components.cluster import LoadBalancer, load_balancer_service_options
from components.k8s import container_security, labels, lb_address, pod_security
from components.platform.certificates import Issuer
from components.workloads import envoy_bootstrap as eb

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
    exposure: LoadBalancer
    """How the cluster exposes the Service (class, annotations, address)."""
    tcp_udp_service: bool = True
    """One Service may carry the public port over TCP and UDP; otherwise two Services (TCP and UDP)
    share the exposure's address, as GKE requires without mixed-protocol support."""
    load_balancer_dependencies: Sequence[pulumi.Resource] = ()
    """What the Service is created after and deleted before; with ``injected`` IDs every object waits
    for them, because the controller that injects IDs is among them."""


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
        selector = labels("envoy-demo", "envoy")

        ns_labels = {"pod-security.kubernetes.io/enforce": "restricted", **({INJECT_LABEL: "enabled"} if injected else {})}
        namespace = k8s.core.v1.Namespace(f"{name}-namespace", metadata={"name": args.namespace, "labels": ns_labels}, opts=child)
        # Taking the name from the Namespace makes every namespaced object depend on it (deleted before it).
        ns = namespace.metadata.name
        certificate = args.issuer.certificate(f"{name}-certificate", args.host, ns, child)

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
        config = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata={"name": "envoy-config", "namespace": ns, "labels": selector},
            data=config_data,
            opts=child,
        )

        key = random.RandomBytes(f"{name}-quic-lb-key", length=16, opts=pulumi.ResourceOptions(parent=self))
        key_document = key.base64.apply(lambda k: _yaml(eb.quic_lb_key_document(k, args.config_version)))
        key_secret = k8s.core.v1.Secret(
            f"{name}-quic-lb-key",
            metadata={"name": "quic-lb-key", "namespace": ns, "labels": selector},
            type="Opaque",
            string_data={QUIC_LB_KEY_FILE: pulumi.Output.secret(key_document)},
            opts=child,
        )

        pod_annotations = {
            # A changed bootstrap rolls the pods (Envoy reads it once); certificate and key are watched.
            "quicstack/config-sha256": hashlib.sha256(_yaml(config_data).encode()).hexdigest(),
            **({QUIC_CONTAINERS: CONTAINER} if injected else {}),
        }
        volumes = [
            {"name": "config", "configMap": {"name": config.metadata.name, "defaultMode": 0o444}},
            {"name": "tls", "secret": {"secretName": certificate.secret_name, "defaultMode": 0o440}},
            {"name": "quic-lb-key", "secret": {"secretName": key_secret.metadata.name, "defaultMode": 0o440}},
        ]
        mounts = [
            {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
            {"name": "tls", "mountPath": TLS_DIR, "readOnly": True},
            {"name": "quic-lb-key", "mountPath": QUIC_LB_DIR, "readOnly": True},
        ]
        init_containers = []
        if not injected:
            volumes.append({"name": "server-id", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}})
            mounts.append({"name": "server-id", "mountPath": SERVER_ID_DIR, "readOnly": True})
            init_containers.append(_server_id_writer(args))

        port = args.listener.port
        probe = {"tcpSocket": {"port": "h2"}}
        envoy = {
            "name": CONTAINER,
            "image": args.image,
            "imagePullPolicy": "IfNotPresent",
            # Envoy directly: the image's entrypoint script switches users, which a non-root pod cannot.
            "command": ["/usr/local/bin/envoy"],
            "args": [
                "--config-path", f"{CONFIG_DIR}/{BOOTSTRAP_FILE}",
                # Envoy would otherwise start one worker per node CPU, beyond the limit (and the
                # QUIC-LB generator refuses 255 or more).
                "--concurrency", str(args.concurrency),
                # Hot restart needs shared memory and a second process; Kubernetes replaces pods instead.
                "--disable-hot-restart",
                "--log-level", "info",
            ],
            "ports": [
                {"name": "h2", "containerPort": port, "protocol": "TCP"},
                {"name": "h3", "containerPort": port, "protocol": "UDP"},
            ],
            "resources": args.resources,
            "readinessProbe": {**probe, "periodSeconds": 5, "failureThreshold": 2},
            "livenessProbe": {**probe, "initialDelaySeconds": 10, "periodSeconds": 10, "failureThreshold": 3},
            "securityContext": container_security(),
            "volumeMounts": mounts,
        }
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={"name": "envoy", "namespace": ns, "labels": selector},
            spec={
                "replicas": args.replicas,
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {"labels": selector, "annotations": pod_annotations},
                    "spec": {
                        "automountServiceAccountToken": False,
                        "enableServiceLinks": False,
                        "securityContext": pod_security(),
                        # Best effort, so a single-zone or single-node cluster still schedules every pod.
                        "topologySpreadConstraints": [
                            {"maxSkew": 1, "topologyKey": topology_key, "whenUnsatisfiable": "ScheduleAnyway",
                             "labelSelector": {"matchLabels": selector}, "matchLabelKeys": ["pod-template-hash"]}
                            for topology_key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
                        ],
                        **({"initContainers": init_containers} if init_containers else {}),
                        "containers": [envoy],
                        "volumes": volumes,
                    },
                },
            },
            opts=child,
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata={"name": "envoy", "namespace": ns, "labels": selector},
            spec={"maxUnavailable": 1, "selector": {"matchLabels": selector}},
            opts=child,
        )

        # Envoy answers by itself: clients may reach the listener port, and the pods reach nothing.
        k8s.networking.v1.NetworkPolicy(
            f"{name}-network-policy",
            metadata={"name": "envoy", "namespace": ns, "labels": selector},
            spec={
                "podSelector": {"matchLabels": selector},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"ports": [{"port": port, "protocol": "TCP"}, {"port": port, "protocol": "UDP"}]}],
                "egress": [],
            },
            opts=child,
        )

        public = args.listener.public_port
        ports = [
            {"name": "h3", "port": public, "targetPort": port, "protocol": "UDP"},
            {"name": "h2", "port": public, "targetPort": port, "protocol": "TCP"},
        ]
        groups = {"envoy": ports} if args.tcp_udp_service else {"envoy": ports[:1], "envoy-tcp": ports[1:]}
        services = [
            k8s.core.v1.Service(
                f"{name}-service" if svc == "envoy" else f"{name}-service-tcp",
                metadata={"name": svc, "namespace": ns, "labels": selector, "annotations": dict(args.exposure.annotations)},
                spec={
                    **args.exposure.spec(),
                    "selector": selector,
                    # QUIC listeners on an NLB are IPv4 only; elsewhere single-stack keeps one address per host.
                    "ipFamilies": ["IPv4"],
                    "ipFamilyPolicy": "SingleStack",
                    "ports": svc_ports,
                },
                opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=self),
                                                  load_balancer_service_options(args.load_balancer_dependencies)),
            )
            for svc, svc_ports in groups.items()
        ]

        self.url = f"https://{args.host}" + ("" if public == 443 else f":{public}")
        # The UDP (QUIC) Service decides the address; a TCP twin shares it.
        self.address = services[0].status.apply(lb_address)
        self.replicas = args.replicas
        self.register_outputs({"url": self.url, "address": self.address, "replicas": self.replicas, "deployment": deployment.id})


def _server_id_writer(args: EnvoyDemoArgs) -> dict:
    """Init container that gives the pod a random server ID, kept across container restarts."""
    script = (f"test -s {SERVER_ID_FILE} || "
              f"head -c {args.server_id_length} /dev/urandom | base64 -w 0 > {SERVER_ID_FILE}")
    return {
        "name": "server-id",
        "image": args.image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["/bin/sh", "-c", script],
        "resources": {"requests": {"cpu": "10m", "memory": "8Mi"}, "limits": {"cpu": "100m", "memory": "16Mi"}},
        "securityContext": container_security(),
        "volumeMounts": [{"name": "server-id", "mountPath": SERVER_ID_DIR}],
    }


def _yaml(doc: dict) -> str:
    return yaml.safe_dump(doc, sort_keys=False)

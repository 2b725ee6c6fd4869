"""What every workload shares: the restricted security profile, labels, and builders for the
Kubernetes objects the relay and the watch page both need (Deployment, NetworkPolicy, TLS Ingress)."""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

# UID/GID outside the host's usual ranges; images used here run fine as any non-root user.
RUN_AS = 10001


def labels(app: str, component: str) -> dict[str, str]:
    """Recommended labels; ``app.kubernetes.io/name`` + ``component`` also serve as selectors."""
    return {"app.kubernetes.io/name": app, "app.kubernetes.io/component": component, "app.kubernetes.io/part-of": "quicstack"}


def pod_security() -> dict:
    """Pod securityContext: non-root, RuntimeDefault seccomp, no service-account token unless asked."""
    return {"runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS, "fsGroup": RUN_AS,
            "seccompProfile": {"type": "RuntimeDefault"}}


def container_security() -> dict:
    """Container securityContext: read-only root filesystem, no privilege escalation, all capabilities dropped."""
    return {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
            "runAsUser": RUN_AS, "runAsGroup": RUN_AS, "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"}}


def lb_address(status) -> str:
    """The first load balancer IP or host name in a Service's status ("" until the cloud assigns one)."""
    ingress = status.load_balancer.ingress if status and status.load_balancer else None
    first = ingress[0] if ingress else None
    return (first.ip or first.hostname or "") if first else ""


def open_ports_only(resource_name: str, name: str, namespace: pulumi.Input[str], selector: Mapping[str, str],
                    ports: Sequence[Mapping], opts: pulumi.ResourceOptions) -> k8s.networking.v1.NetworkPolicy:
    """A NetworkPolicy admitting connections to ``ports`` of the selected pods and nothing else."""
    return k8s.networking.v1.NetworkPolicy(
        resource_name,
        metadata={"name": name, "namespace": namespace, "labels": dict(selector)},
        spec={"podSelector": {"matchLabels": dict(selector)}, "policyTypes": ["Ingress"], "ingress": [{"ports": list(ports)}]},
        opts=opts,
    )


def restricted_deployment(resource_name: str, name: str, namespace: pulumi.Input[str], selector: Mapping[str, str], container: Mapping,
                          volumes: Sequence[Mapping], files_sha256: str, opts: pulumi.ResourceOptions) -> k8s.apps.v1.Deployment:
    """One pod of one container under the restricted profile, without API credentials.

    ``files_sha256`` names what the process reads only at start: a change rolls the pod.
    """
    return k8s.apps.v1.Deployment(
        resource_name,
        metadata={"name": name, "namespace": namespace, "labels": dict(selector)},
        spec={
            "replicas": 1,
            "selector": {"matchLabels": dict(selector)},
            "template": {
                "metadata": {"labels": dict(selector), "annotations": {"quicstack/files-sha256": files_sha256}},
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": pod_security(),
                    "containers": [{**container, "imagePullPolicy": "IfNotPresent", "securityContext": container_security()}],
                    "volumes": list(volumes),
                },
            },
        },
        opts=opts,
    )


def tls_ingress(resource_name: str, name: str, namespace: pulumi.Input[str], selector: Mapping[str, str], host: str, secret_name: str,
                service: pulumi.Input[str], ingress_class: str, opts: pulumi.ResourceOptions,
                annotations: Optional[Mapping[str, str]] = None) -> k8s.networking.v1.Ingress:
    """All of ``https://<host>/`` to the ``http`` port of ``service``, with TLS from ``secret_name``."""
    metadata = {"name": name, "namespace": namespace, "labels": dict(selector)}
    if annotations:
        metadata["annotations"] = dict(annotations)
    return k8s.networking.v1.Ingress(
        resource_name,
        metadata=metadata,
        spec={
            "ingressClassName": ingress_class,
            "tls": [{"hosts": [host], "secretName": secret_name}],
            "rules": [{"host": host, "http": {"paths": [{
                "path": "/", "pathType": "Prefix", "backend": {"service": {"name": service, "port": {"name": "http"}}},
            }]}}],
        },
        opts=opts,
    )


def restricted_namespace(resource_name: str, name: str, opts: pulumi.ResourceOptions,
                         labels: Optional[Mapping[str, str]] = None) -> k8s.core.v1.Namespace:
    """A namespace whose pods must meet Pod Security ``restricted``: the API server refuses any other
    (https://kubernetes.io/docs/concepts/security/pod-security-admission/)."""
    psa = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "warn", "audit")}
    return k8s.core.v1.Namespace(resource_name, metadata={"name": name, "labels": {**psa, **(labels or {})}}, opts=opts)

"""What every Kubernetes object of the stack shares: the restricted security profile, labels, load balancer status."""

from __future__ import annotations

from typing import Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s

# UID/GID outside the host's usual ranges; images used here run fine as any non-root user.
RUN_AS = 10001


def labels(app: str, component: str) -> dict[str, str]:
    """Recommended labels; ``app.kubernetes.io/name`` + ``component`` also serve as selectors."""
    return {
        "app.kubernetes.io/name": app,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "quicstack",
    }


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


def restricted_namespace(resource_name: str, name: str, opts: pulumi.ResourceOptions,
                         labels: Optional[Mapping[str, str]] = None) -> k8s.core.v1.Namespace:
    """A namespace whose pods must meet Pod Security ``restricted``: the API server refuses any other
    (https://kubernetes.io/docs/concepts/security/pod-security-admission/)."""
    psa = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "warn", "audit")}
    return k8s.core.v1.Namespace(resource_name, metadata={"name": name, "labels": {**psa, **(labels or {})}}, opts=opts)

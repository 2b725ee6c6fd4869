"""What every Helm release of the stack shares: how long it may take, what a failure leaves, and how
a chart's replicas spread over nodes."""

from __future__ import annotations

from typing import Mapping

# Helm's default is 5 minutes. Deleting a release whose chart owns a LoadBalancer Service waits for
# the cloud to delete the load balancer, and an install waits for one to be provisioned: allow 15.
RELEASE_TIMEOUT_SECONDS = 900


def release_options() -> dict:
    """Keyword arguments for ``k8s.helm.v3.Release``: the timeout, and a failed upgrade cleans up the
    objects it created instead of leaving them half-applied."""
    return {"timeout": RELEASE_TIMEOUT_SECONDS, "cleanup_on_fail": True}


def chart_selector(name: str, instance: str, component: str) -> dict[str, str]:
    """The selector labels charts put on their pods, from Kubernetes' recommended labels
    (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/)."""
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": instance,
            "app.kubernetes.io/component": component}


def spread_over_nodes(selector: Mapping[str, str]) -> list[dict]:
    """Topology spread: at most one more replica on any node than on another, counted per ReplicaSet
    (``matchLabelKeys``, so a rollout's new pods are not pushed away by the old ones). On a one-node
    cluster there is one domain, so nothing is ever left unscheduled."""
    return [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
             "labelSelector": {"matchLabels": dict(selector)}, "matchLabelKeys": ["pod-template-hash"]}]

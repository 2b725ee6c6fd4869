"""Cluster layer for ``cloud: existing``: the cluster a kubeconfig already points at.

Creates only the Kubernetes provider; nothing outside the cluster is touched.
"""

from __future__ import annotations

import os

import pulumi_kubernetes as k8s

from components.cluster.contract import Cluster
from stacks.capabilities import capabilities
from stacks.config import Settings


def build(settings: Settings) -> Cluster:
    existing = settings.cluster
    kubeconfig = os.path.expanduser(existing.kubeconfig) if existing.kubeconfig else None
    provider = k8s.Provider(
        "existing",
        kubeconfig=kubeconfig,
        context=existing.context,
        # Never act on a cluster that cannot be reached: a failed connection must stop the update.
        delete_unreachable=False,
    )
    return capabilities(settings, provider, outputs={"kube_context": existing.context or "(current context)"})

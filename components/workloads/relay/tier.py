"""The Kubernetes objects of a relay tier beside its pods: stable names, the peer CA, the peer list, drain, metrics.

With one replica the relay stays a Deployment that surges (``maxUnavailable: 0``: the new pod is Ready
before the old one goes). With more, a StatefulSet gives each relay a stable name under a headless
Service (``relay-<i>.relay-peers.<ns>.svc.cluster.local``), which is the relay's ``node`` URL and its
entry in the peer list (``cluster.py``). A StatefulSet cannot surge: its rolling update replaces
one pod at a time, highest ordinal first, waiting until the new pod is Ready (``partition: 0``, the
default ordered update, ``RestrictedWorkload.statefulset``); the PodDisruptionBudget holds voluntary
evictions to one relay at a time too. Pods start in parallel (``podManagementPolicy: Parallel``): every
relay dials the whole list and retries, so none waits for another.

Peer certificates come from a CA of the tier's own, issued outside the relays' namespace (``peer_pki.py``).
"""

from __future__ import annotations

from typing import Mapping

import pulumi
import pulumi_kubernetes as k8s

from components.workloads.relay.cluster import PEERS_FILE, RelayCluster


def peers_config_map(name: str, cluster: RelayCluster, namespace: pulumi.Input[str], selector: Mapping[str, str],
                     opts: pulumi.ResourceOptions) -> k8s.core.v1.ConfigMap:
    """The peer list every relay watches (``[cluster] connect_api``). Kept out of the pod template's hash:
    a new replica count reaches the running relays through the mounted file, without a restart."""
    return k8s.core.v1.ConfigMap(f"{name}-peers", metadata={"name": "relay-peers", "namespace": namespace,
                                                            "labels": dict(selector)},
                                 data={PEERS_FILE: cluster.peers_json()}, opts=opts)


def headless_service(name: str, cluster: RelayCluster, namespace: pulumi.Input[str], selector: Mapping[str, str],
                     opts: pulumi.ResourceOptions) -> k8s.core.v1.Service:
    """DNS names for the pods; no load balancer. Not-ready pods are published too, so peers find a relay
    that is starting (it refuses nothing it cannot serve, and dials retry)."""
    return k8s.core.v1.Service(f"{name}-peers-service", metadata={
        "name": cluster.headless_service, "namespace": namespace, "labels": dict(selector)}, spec={
        "clusterIP": "None", "publishNotReadyAddresses": True, "selector": dict(selector),
        "ports": [{"name": "peer", "protocol": "TCP", "port": cluster.peer_port, "targetPort": "peer"}],
    }, opts=opts)


# A Deployment of one relay: the new pod must be Ready before the old one is taken away.
SURGE = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}


def pod_monitor(name: str, namespace: pulumi.Input[str], selector: Mapping[str, str],
                opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    """The Prometheus operator scrapes every relay's internal listener (``/metrics``)."""
    return k8s.apiextensions.CustomResource(f"{name}-pod-monitor", api_version="monitoring.coreos.com/v1",
                                            kind="PodMonitor", metadata={"name": "relay", "namespace": namespace,
                                                                         "labels": dict(selector)},
                                            spec={"selector": {"matchLabels": dict(selector)},
                                                  "podMetricsEndpoints": [{"port": "internal", "path": "/metrics",
                                                                           "interval": "30s"}]}, opts=opts)


def drain(seconds: int) -> tuple[dict, int]:
    """(container ``lifecycle``, pod ``terminationGracePeriodSeconds``).

    During ``preStop`` the pod is already out of the Service's endpoints (and the NLB's targets), so new sessions
    land on the other relays while this one keeps serving its viewers; then SIGTERM makes moq-relay 0.17 send
    every session a GOAWAY and wait up to its ``drain_timeout`` (10 s by default, ``config.rs``) before it closes
    them, inside the 15 s left of the grace period; their players reconnect. The kubelet's own ``sleep`` action
    needs no shell in the image."""
    return {"preStop": {"sleep": {"seconds": seconds}}}, seconds + 15

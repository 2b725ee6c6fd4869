"""The Kubernetes objects of a relay tier beside its pods: stable names, the peer CA, the peer list, drain, metrics.

With one replica the relay stays a Deployment that surges (``maxUnavailable: 0``: the new pod is Ready
before the old one goes). With more, a StatefulSet gives each relay a stable name under a headless
Service (``relay-<i>.relay-peers.<ns>.svc.cluster.local``), which is the relay's ``node`` URL and its
entry in the peer list (``cluster.py``). A StatefulSet cannot surge: its rolling update replaces
one pod at a time, highest ordinal first, waiting until the new pod is Ready (``partition: 0``, the
default ordered update, ``RestrictedWorkload.statefulset``); the PodDisruptionBudget holds voluntary
evictions to one relay at a time too. Pods start in parallel (``podManagementPolicy: Parallel``): every
relay dials the whole list and retries, so none waits for another.

Peer certificates come from a CA of the tier's own (a self-signed cert-manager Issuer makes the CA, a CA
Issuer signs the peers): the public issuer (Let's Encrypt) cannot sign cluster-internal names. The CA lives a
year and is name-constrained (critical) to the headless Service's domain, so even its key signs nothing a client
of another name would accept; it renews three months before it ends, and the peer certificate (90 days, renewed
30 days before) is capped at the CA's end (cert-manager
``pkg/util/pki`` ``CertificateNotAfterValidity``), so it is re-signed by the renewed CA in time. All relays
mount the one peer Secret (certificate, key and the CA that signed it), so they always trust what they present.
The CA and its Issuer live in the relay's namespace: whoever may create a Certificate there can get a peer
certificate (docs/security.md says who that is and what keeps it out of other hands).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.workloads.relay.cluster import PEERS_FILE, RelayCluster

PEER_SECRET = "relay-peer-tls"
CA_SECRET = "relay-peer-ca"
# A year at most for the CA (renewed 3 months before its end); the peers' certificate lives 90 days.
CA_DURATION, CA_RENEW_BEFORE, PEER_DURATION, PEER_RENEW_BEFORE = "8760h", "2160h", "2160h", "720h"
_KEY = {"algorithm": "ECDSA", "size": 256, "encoding": "PKCS8"}


def _certificate(resource_name: str, name: str, namespace: pulumi.Input[str], spec: dict, opts: pulumi.ResourceOptions):
    return k8s.apiextensions.CustomResource(resource_name, api_version="cert-manager.io/v1", kind="Certificate",
                                            metadata={"name": name, "namespace": namespace}, spec=spec, opts=opts)


def _issuer(resource_name: str, name: str, namespace: pulumi.Input[str], spec: dict, opts: pulumi.ResourceOptions):
    return k8s.apiextensions.CustomResource(resource_name, api_version="cert-manager.io/v1", kind="Issuer",
                                            metadata={"name": name, "namespace": namespace}, spec=spec, opts=opts)


def peer_certificate(name: str, cluster: RelayCluster, namespace: pulumi.Input[str], ready: Sequence[pulumi.Resource],
                     opts: pulumi.ResourceOptions) -> pulumi.Resource:
    """The peers' certificate (server and client auth, every pod name) from the tier's own CA; in ``PEER_SECRET``."""
    after = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(ready)))
    bootstrap = _issuer(f"{name}-peer-ca-bootstrap", "relay-peer-ca-bootstrap", namespace, {"selfSigned": {}}, after)
    ca = _certificate(f"{name}-peer-ca", "relay-peer-ca", namespace, {
        "isCA": True, "commonName": f"{cluster.domain} peers", "secretName": CA_SECRET, "duration": CA_DURATION,
        "renewBefore": CA_RENEW_BEFORE, "privateKey": _KEY,
        # cert-manager's NameConstraints feature (beta and on by default since v1.17): a chain through this CA is
        # valid only for names under the tier's domain (RFC 5280 4.2.1.10; rustls-webpki enforces it).
        "nameConstraints": {"critical": True, "permitted": {"dnsDomains": [cluster.domain]}},
        "issuerRef": {"group": "cert-manager.io", "kind": "Issuer", "name": "relay-peer-ca-bootstrap"},
    }, pulumi.ResourceOptions.merge(after, pulumi.ResourceOptions(depends_on=[bootstrap])))
    issuer = _issuer(f"{name}-peer-issuer", "relay-peers", namespace, {"ca": {"secretName": CA_SECRET}},
                     pulumi.ResourceOptions.merge(after, pulumi.ResourceOptions(depends_on=[ca])))
    return _certificate(f"{name}-peer-certificate", "relay-peer", namespace, {
        "secretName": PEER_SECRET, "dnsNames": cluster.certificate_dns_names,
        "duration": PEER_DURATION, "renewBefore": PEER_RENEW_BEFORE,
        "privateKey": {**_KEY, "rotationPolicy": "Always"},
        "usages": ["digital signature", "server auth", "client auth"],
        "issuerRef": {"group": "cert-manager.io", "kind": "Issuer", "name": "relay-peers"},
    }, pulumi.ResourceOptions.merge(after, pulumi.ResourceOptions(depends_on=[issuer])))


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

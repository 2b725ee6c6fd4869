"""One vocabulary for every workload: a Deployment under the restricted pod security profile that exposes
and isolates itself (after cdk8s-plus's ``Deployment.exposeViaService`` and ``isolate``).

Each method creates one kind of object, named after the workload: ``<name>`` in Kubernetes and
``<resource>-deployment``, ``<resource>-service``, ``<resource>-network-policy``, ... in Pulumi.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.contract import Exposure, load_balancer_service_options
from components.k8s import container_security, pod_security

CONFIG_SHA256 = "quicstack/config-sha256"
"""Pod annotation holding the digest of what the process reads only at start: a change rolls the pods."""
DNS_PORTS = ({"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53})
# Egress to name servers only: port 53 to any address, so it holds for kube-dns pods, a node-local
# cache on a link-local address and a cloud resolver alike.
DNS_EGRESS = {"ports": list(DNS_PORTS)}
NAMESPACE_NAME = "kubernetes.io/metadata.name"
"""The label the API server puts on every namespace, its value the namespace's name (Kubernetes 1.22+)."""


@dataclass(frozen=True)
class Pods:
    """Pods by label in one namespace: a NetworkPolicy peer (``from``/``to``)."""

    selector: Optional[Mapping[str, str]] = None
    """Their labels; None: every pod of the namespace."""
    namespace: Optional[str] = None
    """Their namespace; None: the policy's own."""

    def peer(self) -> dict:
        found: dict = {}
        if self.namespace:
            found["namespaceSelector"] = {"matchLabels": {NAMESPACE_NAME: self.namespace}}
        if self.selector is not None:
            found["podSelector"] = {"matchLabels": dict(self.selector)}
        return found

    def rule(self, direction: str, ports: Sequence[Mapping]) -> dict:
        """An ingress (``direction`` "from") or egress ("to") rule: these pods, on ``ports``."""
        return {direction: [self.peer()], "ports": [dict(p) for p in ports]}


CLUSTER_DNS = Pods({"k8s-app": "kube-dns"}, "kube-system")
"""The cluster's DNS pods. ``k8s-app: kube-dns`` is the label CoreDNS keeps for kube-dns compatibility on every
cluster the stacks make (kubeadm and kind, k3s's bundled CoreDNS, GKE's kube-dns, EKS's coredns add-on)."""
CLUSTER_DNS_EGRESS = CLUSTER_DNS.rule("to", DNS_PORTS)
"""Egress to the cluster's DNS pods only, for pods that resolve nothing but cluster names."""


def deny_all(resource: str, namespace: pulumi.Input[str], opts: pulumi.ResourceOptions
             ) -> k8s.networking.v1.NetworkPolicy:
    """NetworkPolicy ``default-deny``: every pod of ``namespace`` isolated both ways; each workload's own policy
    then admits what it needs (policies add up: a connection passes if any policy selecting the pod admits it)."""
    return k8s.networking.v1.NetworkPolicy(
        resource, metadata={"name": "default-deny", "namespace": namespace},
        spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, opts=opts)
# Best effort, so a single-zone or single-node cluster still schedules every pod.
_SPREAD_KEYS = ("topology.kubernetes.io/zone", "kubernetes.io/hostname")


class RestrictedWorkload:
    """The objects of one workload in one namespace, all selected by ``selector``."""

    def __init__(self, resource: str, name: str, namespace: pulumi.Input[str], selector: Mapping[str, str],
                 opts: pulumi.ResourceOptions):
        self.resource, self.name, self.namespace, self.selector, self.opts = (
            resource,
            name,
            namespace,
            dict(selector),
            opts,
        )

    @property
    def pods(self) -> Pods:
        """This workload's pods, as a NetworkPolicy peer in its own namespace."""
        return Pods(self.selector)

    def _metadata(self, name: str, annotations: Optional[Mapping[str, str]] = None) -> dict:
        metadata: dict = {"name": name, "namespace": self.namespace, "labels": dict(self.selector)}
        if annotations:
            metadata["annotations"] = dict(annotations)
        return metadata

    def _opts(self, *more: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions.merge(self.opts, *more) if more else self.opts

    def deployment(self, containers: Sequence[Mapping], volumes: Sequence[Mapping], config_sha256: str, *,
                   replicas: int = 1, init_containers: Sequence[Mapping] = (), spread: bool = False,
                   annotations: Optional[Mapping[str, str]] = None, strategy: Optional[Mapping] = None,
                   grace_seconds: Optional[int] = None, host_aliases: Sequence[Mapping] = (),
                   depends_on: Sequence[pulumi.Resource] = ()) -> k8s.apps.v1.Deployment:
        """Pods without API credentials, every container non-root, read-only and without capabilities."""
        spec: dict = {"replicas": replicas, "selector": {"matchLabels": dict(self.selector)},
                      "template": self._template(containers, volumes, config_sha256, init_containers,
                                                 "pod-template-hash" if spread else None, annotations, grace_seconds,
                                                 host_aliases)}
        if strategy:
            spec["strategy"] = dict(strategy)
        return k8s.apps.v1.Deployment(f"{self.resource}-deployment", metadata=self._metadata(self.name), spec=spec,
                                      opts=self._depends_on(depends_on))

    def statefulset(self, service_name: pulumi.Input[str], containers: Sequence[Mapping], volumes: Sequence[Mapping],
                    config_sha256: str, *, replicas: int, annotations: Optional[Mapping[str, str]] = None,
                    init_containers: Sequence[Mapping] = (), grace_seconds: Optional[int] = None,
                    min_ready_seconds: int = 0,
                    depends_on: Sequence[pulumi.Resource] = ()) -> k8s.apps.v1.StatefulSet:
        """The same pods with stable names (``<name>-<i>.<service_name>``). They start in parallel; updates roll
        one pod at a time, highest ordinal first, each Ready before the next (``partition: 0``)."""
        template = self._template(containers, volumes, config_sha256, init_containers, "controller-revision-hash",
                                  annotations, grace_seconds)
        return k8s.apps.v1.StatefulSet(
            f"{self.resource}-statefulset", metadata=self._metadata(self.name),
            spec={"serviceName": service_name, "replicas": replicas, "selector": {"matchLabels": dict(self.selector)},
                  "podManagementPolicy": "Parallel", "minReadySeconds": min_ready_seconds,
                  "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}, "template": template},
            opts=self._depends_on(depends_on))

    def _depends_on(self, depends_on: Sequence[pulumi.Resource]) -> pulumi.ResourceOptions:
        return self._opts(pulumi.ResourceOptions(depends_on=list(depends_on))) if depends_on else self.opts

    def _template(self, containers: Sequence[Mapping], volumes: Sequence[Mapping], config_sha256: str,
                  init_containers: Sequence[Mapping], spread_revision_label: Optional[str],
                  annotations: Optional[Mapping[str, str]], grace_seconds: Optional[int],
                  host_aliases: Sequence[Mapping] = ()) -> dict:
        """``spread_revision_label``: spread the pods over zones and nodes, counting only the current revision."""
        pod: dict = {
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": pod_security(),
        }
        if spread_revision_label:
            pod["topologySpreadConstraints"] = [
                {"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway",
                 "labelSelector": {"matchLabels": dict(self.selector)}, "matchLabelKeys": [spread_revision_label]}
                for key in _SPREAD_KEYS]
        if init_containers:
            pod["initContainers"] = [self.restricted(c) for c in init_containers]
        if host_aliases:
            pod["hostAliases"] = list(host_aliases)
        pod["containers"] = [self.restricted(c) for c in containers]
        pod["volumes"] = list(volumes)
        if grace_seconds is not None:
            pod["terminationGracePeriodSeconds"] = grace_seconds
        return {"metadata": {"labels": dict(self.selector),
                             "annotations": {CONFIG_SHA256: config_sha256, **(annotations or {})}}, "spec": pod}

    @staticmethod
    def restricted(container: Mapping) -> dict:
        return {**container, "imagePullPolicy": "IfNotPresent", "securityContext": container_security()}

    def expose(self, ports: Sequence[Mapping], exposure: Optional[Exposure] = None, *, tcp_udp_service: bool = True,
               suffix: str = "", ipv4_only: bool = False, session_affinity: bool = False,
               load_balancer_dependencies: Sequence[pulumi.Resource] = ()) -> list[k8s.core.v1.Service]:
        """A Service for ``ports``: ClusterIP without ``exposure``, else a LoadBalancer. Where the cloud
        cannot carry TCP and UDP in one Service, the TCP ports go to a twin (``<name>-tcp``) on the same address;
        the first Service returned carries UDP. ``session_affinity``: each client address stays on one pod
        (``sessionAffinity: ClientIP``)."""
        name = f"{self.name}-{suffix}" if suffix else self.name
        resource = f"{self.resource}-{suffix}-service" if suffix else f"{self.resource}-service"
        protocols = {p["protocol"] for p in ports}
        groups = [(name, resource, list(ports))]
        if exposure and not tcp_udp_service and protocols == {"TCP", "UDP"}:
            groups = [(name, resource, [p for p in ports if p["protocol"] == "UDP"]),
                      (f"{name}-tcp", f"{resource}-tcp", [p for p in ports if p["protocol"] == "TCP"])]
        affinity = {"sessionAffinity": "ClientIP"} if session_affinity else {}
        return [self._service(n, r, group, exposure, ipv4_only, load_balancer_dependencies, affinity)
                for n, r, group in groups]

    def _service(self, name: str, resource: str, ports: list, exposure: Optional[Exposure], ipv4_only: bool,
                 dependencies: Sequence[pulumi.Resource], affinity: Mapping[str, str]) -> k8s.core.v1.Service:
        if exposure is None:
            spec: dict = {"type": "ClusterIP", "selector": dict(self.selector), "ports": ports, **affinity}
            return k8s.core.v1.Service(resource, metadata=self._metadata(name), spec=spec, opts=self.opts)
        spec = {**exposure.spec(), "selector": dict(self.selector), "ports": ports, **affinity}
        if ipv4_only:
            # QUIC listeners on an NLB are IPv4 only; elsewhere single-stack keeps one address per host.
            spec.update({"ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack"})
        return k8s.core.v1.Service(resource, metadata=self._metadata(name, exposure.annotations), spec=spec,
                                   opts=self._opts(load_balancer_service_options(dependencies)))

    def isolate(
        self, ingress: Sequence[Mapping], egress: Optional[Sequence[Mapping]] = None, rules: Sequence[Mapping] = ()
    ) -> k8s.networking.v1.NetworkPolicy:
        """Admit connections to the ``ingress`` ports from anywhere (``[]``: none), plus ``rules`` (ingress rules with
        their own ``from``), and nothing else; with ``egress`` (``[]``: nothing), limit outgoing ones too."""
        spec: dict = {"podSelector": {"matchLabels": dict(self.selector)},
                      "policyTypes": ["Ingress"] if egress is None else ["Ingress", "Egress"]}
        # No ports: no rule at all (a rule with an empty port list would admit every port). A direction listed in
        # policyTypes without rules admits nothing; an empty list would say the same, but the API server stores it
        # as absent and so counts every apply as a change (a new generation each time: tests/control_plane).
        admitted = [*([{"ports": list(ingress)}] if ingress else []), *rules]
        if admitted:
            spec["ingress"] = admitted
        if egress:
            spec["egress"] = list(egress)
        return k8s.networking.v1.NetworkPolicy(f"{self.resource}-network-policy", metadata=self._metadata(self.name),
                                               spec=spec, opts=self.opts)

    def disruption_budget(self, max_unavailable: int = 1) -> k8s.policy.v1.PodDisruptionBudget:
        """``maxUnavailable`` rather than ``minAvailable``: a one-pod workload must not block a node drain forever."""
        return k8s.policy.v1.PodDisruptionBudget(
            f"{self.resource}-pdb", metadata=self._metadata(self.name),
            spec={"maxUnavailable": max_unavailable, "selector": {"matchLabels": dict(self.selector)}}, opts=self.opts)

    def route(self, host: str, secret_name: pulumi.Input[str], service: pulumi.Input[str], ingress_class: str,
              annotations: Optional[Mapping[str, str]] = None) -> k8s.networking.v1.Ingress:
        """All of ``https://<host>/`` to the ``http`` port of ``service``, with TLS from ``secret_name``."""
        backend = {"service": {"name": service, "port": {"name": "http"}}}
        return k8s.networking.v1.Ingress(
            f"{self.resource}-ingress",
            metadata=self._metadata(self.name, annotations),
            spec={
                "ingressClassName": ingress_class,
                "tls": [{"hosts": [host], "secretName": secret_name}],
                "rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}],
            },
            opts=self.opts,
        )

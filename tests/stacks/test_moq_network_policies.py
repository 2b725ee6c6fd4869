"""Network boundaries in the MoQ namespace (issue 22), on every example stack and both edges, checked on the plan.

Default deny both ways for every pod of namespace ``moq``, then only: the relay's QUIC port from anywhere, its web
port from the edge's pods (or from anywhere where its own load balancer carries TCP 443), its internal port from
nobody (probes come from the node; no stack here scrapes), a tier's relays to each other and to the cluster DNS; the
watch page's port from the edge's pods; the publisher's way out to the cluster DNS and the relays' QUIC port; and
cert-manager's HTTP-01 solver pods reachable from the edge, only where a Certificate in ``moq`` uses HTTP-01.
"""

from __future__ import annotations

import zlib
from concurrent.futures import ThreadPoolExecutor

import kubernetes_validate
import pytest
import yaml

from components.platform import gateway_objects
from tests.conftest import stack_config
from tests.stacks.test_gateway_plan import gateway_config
from tests.support import validators
from tests.support.plan import Plan, run_plan

STACKS = ("local", "k3s", "gke", "eks")
EDGES = ("ingress-nginx", "envoy-gateway")
NAMESPACE = "moq"
DNS_RULE = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
EDGE_PEERS = {
    # ingress-nginx chart 4.15.1: the controller pods' selector labels (_helpers.tpl "ingress-nginx.selectorLabels"
    # plus the component), in the namespace the stack creates for it.
    "ingress-nginx": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
                      "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx",
                                                      "app.kubernetes.io/instance": "ingress-nginx",
                                                      "app.kubernetes.io/component": "controller"}}},
    "envoy-gateway": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "envoy-gateway-system"}},
                      "podSelector": {"matchLabels": gateway_objects.PROXY_SELECTOR}},
}
# Where the relay's own load balancer carries TCP 443 (EKS: one TCP_UDP NLB listener), the WebSocket fallback comes
# straight from clients; everywhere else through the edge. EKS runs a tier of two relays.
WEB_FROM_ANYONE: set[str] = set()
"""Stacks whose relay load balancer carries TCP 443 (none by default: EKS's tier keeps its TLS listener for peers)."""
TIER = {"eks"}
# Certificates in `moq` validated over HTTP-01 (k3s): the relay's always; the page's only on ingress-nginx (on the
# Gateway edge the page's certificate belongs to the Gateway's listener, in envoy-gateway-system).
HTTP01 = {("k3s", "ingress-nginx"): ("relay", "web"), ("k3s", "envoy-gateway"): ("relay",)}
SOLVER = "acme.cert-manager.io/http01-solver"


def config(stack: str, edge: str) -> dict:
    """The example stack on ``edge``, with the in-cluster publisher on (a token Secret where publishing needs one)."""
    found = gateway_config(stack) if edge == "envoy-gateway" else stack_config(stack)
    acme = found.get("quicstack:acme", {}).get("environment", "selfsigned") != "selfsigned"
    return {**found, "quicstack:publisher": {"enabled": True, **({"tokenSecret": "publish-token"} if acme else {})}}


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> dict[tuple[str, str], Plan]:
    directory = tmp_path_factory.mktemp("moq-policies")

    def plan(key: tuple[str, str]) -> Plan:
        name = f"{key[0]}-{'gw' if key[1] == 'envoy-gateway' else 'ng'}"  # short: EKS names its NLBs after the stack
        path = directory / f"Pulumi.{name}.yaml"
        path.write_text(yaml.safe_dump({"config": config(*key)}))
        run = run_plan(path, directory / "out")
        assert run.returncode == 0, run.stderr
        return Plan(directory / "out" / name)

    keys = [(stack, edge) for stack in STACKS for edge in EDGES]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(keys, pool.map(plan, keys)))


def policies(p: Plan) -> dict[str, dict]:
    return {o["metadata"]["name"]: o["spec"] for o in p.objects("NetworkPolicy")
            if o["metadata"]["namespace"] == NAMESPACE}


def pod_template(p: Plan, name: str) -> dict:
    (found,) = [o for kind in ("Deployment", "StatefulSet") for o in p.objects(kind) if o["metadata"]["name"] == name]
    return found["spec"]["template"]


def selects(policy: dict, labels: dict) -> bool:
    return policy["podSelector"].get("matchLabels", {}).items() <= labels.items()


def port(p: Plan, workload: str, name: str) -> int:
    (found,) = [x for c in pod_template(p, workload)["spec"]["containers"] for x in c.get("ports", [])
                if x["name"] == name]
    return found["containerPort"]


both = pytest.mark.parametrize("stack,edge", [(s, e) for s in STACKS for e in EDGES])


@both
def test_every_pod_of_the_namespace_is_isolated_both_ways(plans, stack, edge):
    p = plans[stack, edge]
    assert policies(p)["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert p.object("NetworkPolicy", "default-deny")["metadata"]["namespace"] == NAMESPACE
    for policy in policies(p).values():
        kubernetes_validate.validate({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                      "metadata": {"name": "x", "namespace": NAMESPACE}, "spec": policy},
                                     validators.KUBERNETES_VERSION, strict=True)


@both
def test_the_relay_admits_exactly_what_it_serves(plans, stack, edge):
    p = plans[stack, edge]
    relay = policies(p)["relay"]
    labels = pod_template(p, "relay")["metadata"]["labels"]
    assert selects(relay, labels) and relay["policyTypes"] == ["Ingress", "Egress"]
    quic = {"protocol": "UDP", "port": port(p, "relay", "quic")}
    web = {"protocol": "TCP", "port": port(p, "relay", "web")}
    relays = {"podSelector": relay["podSelector"]}
    if stack in WEB_FROM_ANYONE:
        expected = [{"ports": [quic, web]}]
    elif stack in TIER:  # its own load balancer, no WebSocket fallback: no edge rule either
        expected = [{"ports": [quic]}]
    else:
        expected = [{"ports": [quic]}, {"from": [EDGE_PEERS[edge]], "ports": [web]}]
    peer = {"protocol": "TCP", "port": port(p, "relay", "peer")} if stack in TIER else None
    if stack in TIER:
        expected.append({"from": [relays], "ports": [peer]})
    assert relay["ingress"] == expected
    assert relay.get("egress") == ([DNS_RULE, {"to": [relays], "ports": [peer]}] if stack in TIER else None)


@both
def test_the_watch_page_admits_only_the_edge(plans, stack, edge):
    p = plans[stack, edge]
    page = policies(p)["watch-page"]
    assert selects(page, pod_template(p, "watch-page")["metadata"]["labels"])
    assert page["ingress"] == [{"from": [EDGE_PEERS[edge]],
                                "ports": [{"protocol": "TCP", "port": port(p, "watch-page", "http")}]}]
    assert page["policyTypes"] == ["Ingress", "Egress"] and "egress" not in page


@both
def test_the_publisher_reaches_only_dns_and_the_relays_quic_port(plans, stack, edge):
    p = plans[stack, edge]
    publisher = policies(p)["demo-publisher"]
    assert selects(publisher, pod_template(p, "demo-publisher")["metadata"]["labels"])
    assert publisher["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in publisher
    dns, relays = publisher["egress"]
    assert dns == DNS_RULE
    assert relays["ports"] == [{"protocol": "UDP", "port": port(p, "relay", "quic")}]
    (peer,) = relays["to"]
    assert peer.keys() == {"podSelector"} and selects(peer, pod_template(p, "relay")["metadata"]["labels"])


def admits_everyone(rule: dict) -> bool:
    """An ingress rule without sources, or with one that matches every pod or every address."""
    return "from" not in rule or any(
        peer in ({}, {"namespaceSelector": {}}, {"namespaceSelector": {}, "podSelector": {}})
        or peer.get("ipBlock", {}).get("cidr") in ("0.0.0.0/0", "::/0") for peer in rule["from"])


def internal_port_open_to_all(p: Plan) -> list[str]:
    """Policies selecting the relay pods that admit the internal port from everywhere."""
    labels, internal = pod_template(p, "relay")["metadata"]["labels"], port(p, "relay", "internal")
    return [name for name, policy in policies(p).items() if selects(policy, labels)
            for rule in policy.get("ingress", []) if admits_everyone(rule)
            and ("ports" not in rule or {"protocol": "TCP", "port": internal} in rule["ports"])]


@both
def test_no_policy_admits_the_internal_port_from_everywhere(plans, stack, edge):
    assert internal_port_open_to_all(plans[stack, edge]) == []


def test_the_internal_port_check_can_fail(plans, tmp_path):
    p = plans["local", "ingress-nginx"]
    broken = Plan(tmp_path)
    manifests = [m for m in p.manifests if m["kind"] != "NetworkPolicy" or m["metadata"]["name"] != "default-deny"]
    wide = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "wide", "namespace": NAMESPACE}, "spec": {"podSelector": {}, "ingress": [{}]}}
    broken.__dict__["manifests"] = [*manifests, wide]
    assert internal_port_open_to_all(broken) == ["wide"]


def solver_policies(p: Plan) -> dict[str, dict]:
    return {name: policy for name, policy in policies(p).items()
            if SOLVER in policy["podSelector"].get("matchLabels", {})}


def host(stack: str, role: str) -> str:
    domain = stack_config(stack)["quicstack:domain"]
    return f"relay.{domain}" if role == "relay" else domain


@both
def test_http01_solvers_are_reachable_from_the_edge_only_where_http01_is_used(plans, stack, edge):
    found = solver_policies(plans[stack, edge])
    hosts = [host(stack, role) for role in HTTP01.get((stack, edge), ())]
    assert sorted(found) == sorted(f"{h.replace('.', '-')}-http01-solver" for h in hosts)
    for h in hosts:
        policy = found[f"{h.replace('.', '-')}-http01-solver"]
        # cert-manager v1.21.1 labels a solver pod with the adler32 of its DNS name, and listens on 8089.
        labels = {SOLVER: "true", "acme.cert-manager.io/http-domain": str(zlib.adler32(h.encode()))}
        assert policy == {"podSelector": {"matchLabels": labels},
                          "policyTypes": ["Ingress"],
                          "ingress": [{"from": [EDGE_PEERS[edge]], "ports": [{"protocol": "TCP", "port": 8089}]}]}


def test_only_the_relays_certificate_brings_a_solver_rule_when_only_the_relay_uses_http01(plan_config):
    gke = stack_config("gke")
    run, p = plan_config({**gke, "quicstack:acme": {**gke["quicstack:acme"], "relayChallenge": "http01"}})
    assert run.returncode == 0, run.stderr
    assert sorted(solver_policies(p)) == [f"{host('gke', 'relay').replace('.', '-')}-http01-solver"]


@pytest.mark.parametrize("stack", STACKS)
def test_each_edge_is_the_one_planned(plans, stack):
    assert plans[stack, "envoy-gateway"].objects("Gateway") and not plans[stack, "ingress-nginx"].objects("Gateway")

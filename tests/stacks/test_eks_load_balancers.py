"""The three NLBs of the eks stack: the Envoy demo's matches the seed's QUIC Service, the relay's routes QUIC by
server ID (plus TCP 443 for the WebSocket fallback with one relay), the ingress's is a plain TCP NLB, and QUIC server
IDs get injected into the demo's pods."""

import pytest

from stacks.config.eks import LB_NAME_MAX
from tests.conftest import stack_config

PREFIX = "service.beta.kubernetes.io/aws-load-balancer-"
NAME = f"{PREFIX}name"
# The annotations of the seed's `quic-service` (shared/seeds/aws-lbc-quic-nlb-demo.txt), as published.
SEED_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-disable-nlb-sg": "true",
    "service.beta.kubernetes.io/aws-load-balancer-enable-tcp-udp-listener": "true",
    "service.beta.kubernetes.io/aws-load-balancer-name": "quic-example",
    "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
    "service.beta.kubernetes.io/aws-load-balancer-quic-enabled-ports": "443",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
}
SEED_CLASS = "service.k8s.aws/nlb"
SEED_NAMESPACE_LABEL = ("elbv2.k8s.aws/quic-server-id-inject", "enabled")
SEED_POD_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-quic-enabled-containers"
CONFIG = stack_config("eks")


@pytest.fixture(scope="module")
def p(plan):
    return plan("eks")


@pytest.fixture(scope="module")
def one_relay(tmp_path_factory):
    """The eks stack with one relay: no tier, so the relay's NLB also carries the WebSocket fallback."""
    import yaml

    from tests.support.plan import Plan, run_plan

    out = tmp_path_factory.mktemp("eks-one-relay")
    config = {**CONFIG, "quicstack:relay": {**CONFIG.get("quicstack:relay", {}), "replicas": 1, "webPort": 4443}}
    (out / "Pulumi.one.yaml").write_text(yaml.safe_dump({"config": config}))
    run = run_plan(out / "Pulumi.one.yaml", out / "plan")
    assert run.returncode == 0, run.stderr
    return Plan(out / "plan" / "one")


def envoy_service(p):
    namespace = CONFIG.get("quicstack:envoyDemo", {}).get("namespace", "quic-example")
    found = [s for s in p.objects("Service") if s["metadata"]["namespace"] == namespace and s["spec"].get("type") == "LoadBalancer"]
    if not found:
        pytest.fail("no LoadBalancer Service of the Envoy demo in the eks plan")
    (service,) = found
    return service


def test_envoy_service_carries_the_seeds_annotations(p):
    service = envoy_service(p)
    annotations = service["metadata"]["annotations"]
    # Only the NLB name differs: the seed's `quic-example` would collide between stacks in one account.
    assert annotations == {**SEED_ANNOTATIONS, NAME: annotations[NAME]}
    assert annotations[NAME] != SEED_ANNOTATIONS[NAME] and len(annotations[NAME]) <= LB_NAME_MAX
    assert service["spec"]["loadBalancerClass"] == SEED_CLASS
    assert service["spec"]["ipFamilies"] == ["IPv4"] and service["spec"]["ipFamilyPolicy"] == "SingleStack"


def _same_port_pairs(service):
    """The TCP and UDP ports of one number: the controller merges them into one TCP_UDP (or TCP_QUIC) listener."""
    ports = service["spec"]["ports"]
    by_number = {}
    for port in ports:
        by_number.setdefault(port["port"], []).append(port)
    return [pair for pair in by_number.values() if len(pair) == 2]


@pytest.mark.parametrize("namespace", ["quic-example", "moq"])
def test_tcp_and_udp_of_one_port_reach_one_container_port(p, one_relay, namespace):
    """The merged listener has one target group, built from the first of the two ports."""
    plan = one_relay if namespace == "moq" else p
    services = [s for s in plan.objects("Service") if s["metadata"]["namespace"] == namespace and s["spec"].get("type") == "LoadBalancer"]
    assert services
    for service in services:
        pairs = _same_port_pairs(service)
        assert pairs, service["metadata"]["name"]
        for tcp_udp in pairs:
            assert {port["protocol"] for port in tcp_udp} == {"TCP", "UDP"}
            assert len({port["targetPort"] for port in tcp_udp}) == 1, tcp_udp


def test_quic_server_ids_get_injected(p):
    service = envoy_service(p)
    namespace = p.object("Namespace", service["metadata"]["namespace"])
    key, value = SEED_NAMESPACE_LABEL
    assert namespace["metadata"]["labels"][key] == value
    selector = service["spec"]["selector"]
    (deployment,) = [d for d in p.objects("Deployment") if d["metadata"]["namespace"] == service["metadata"]["namespace"]
                     and selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()]
    template = deployment["spec"]["template"]
    named = template["metadata"]["annotations"][SEED_POD_ANNOTATION].split(",")
    containers = {c["name"] for c in template["spec"]["containers"] + template["spec"].get("initContainers", [])}
    assert named and set(named) <= containers


@pytest.mark.parametrize("relays", [2, 1])
def test_relay_nlb_has_one_quic_listener_and_with_one_relay_the_websocket_fallback(p, one_relay, relays):
    plan = p if relays == 2 else one_relay
    (relay,) = [s for s in plan.objects("Service") if s["metadata"]["namespace"] == "moq" and s["spec"].get("type") == "LoadBalancer"]
    annotations = relay["metadata"]["annotations"]
    # TCP and UDP 443 merge into TCP_UDP, which the QUIC port upgrades to TCP_QUIC: one listener, as an NLB
    # with a QUIC listener allows no other UDP listener; QUIC listeners need an NLB without security groups.
    # The default tier (2 relays) keeps its one TLS web listener for the peers: QUIC only.
    expected = {("UDP", 443)} if relays == 2 else {("UDP", 443), ("TCP", 443)}
    assert {(x["protocol"], x["port"]) for x in relay["spec"]["ports"]} == expected
    assert annotations[f"{PREFIX}enable-tcp-udp-listener"] == "true"
    assert annotations[f"{PREFIX}quic-enabled-ports"] == "443"
    assert annotations[f"{PREFIX}disable-nlb-sg"] == "true"
    assert annotations[f"{PREFIX}nlb-target-type"] == "ip" and annotations[f"{PREFIX}scheme"] == "internet-facing"
    assert relay["spec"]["loadBalancerClass"] == SEED_CLASS


def test_ingress_nlb(p):
    release = next(r for r in p.of_type("kubernetes:helm.sh/v3:Release") if r["inputs"]["name"] == "ingress-nginx")
    service = release["inputs"]["values"]["controller"]["service"]
    assert service["loadBalancerClass"] == SEED_CLASS
    assert service["annotations"][f"{PREFIX}nlb-target-type"] == "ip"
    assert f"{PREFIX}quic-enabled-ports" not in service["annotations"]


def test_load_balancer_names_are_distinct_and_fit(p):
    services = [s["metadata"]["annotations"] for s in p.objects("Service") if s["spec"].get("type") == "LoadBalancer"]
    release = next(r for r in p.of_type("kubernetes:helm.sh/v3:Release") if r["inputs"]["name"] == "ingress-nginx")
    names = [a[NAME] for a in services] + [release["inputs"]["values"]["controller"]["service"]["annotations"][NAME]]
    assert len(names) == len(set(names)) == 3
    assert all(len(n) <= LB_NAME_MAX for n in names)

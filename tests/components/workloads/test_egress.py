"""What the relay and the watch page may connect to (issues 16 and 22): the cluster DNS and relay peers, or nothing."""

import pytest

from tests.conftest import STACKS, stack_config

CLUSTER_DNS = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                       "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
               "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}


def workload(p, name: str) -> dict:
    """The Deployment, or the StatefulSet where the relay runs as a tier (EKS)."""
    (found,) = [o for kind in ("Deployment", "StatefulSet") for o in p.objects(kind) if o["metadata"]["name"] == name]
    return found


def pod_labels(p, name: str) -> dict:
    return workload(p, name)["spec"]["template"]["metadata"]["labels"]


@pytest.mark.parametrize("stack", STACKS)
def test_a_tier_reaches_the_cluster_dns_and_other_relays_only_and_one_relay_nothing(plan, stack):
    p = plan(stack)
    policy = p.object("NetworkPolicy", "relay")["spec"]
    assert "Egress" in policy["policyTypes"]
    if stack_config(stack).get("quicstack:cloud") != "eks":  # one relay: it dials nobody
        assert workload(p, "relay")["spec"]["replicas"] == 1 and "egress" not in policy
        return
    labels = pod_labels(p, "relay")
    (peer,) = [x for x in workload(p, "relay")["spec"]["template"]["spec"]["containers"][0]["ports"]
               if x["name"] == "peer"]
    dns, peers = policy["egress"]
    assert dns == CLUSTER_DNS  # the peers' names (relay-<i>.relay-peers.moq.svc.cluster.local) are the cluster's
    (peer_selector,) = peers["to"]
    assert peer_selector.keys() == {"podSelector"} and peer_selector["podSelector"]["matchLabels"].items() <= labels.items()
    assert peers["ports"] == [{"protocol": "TCP", "port": peer["containerPort"]}]  # their peer port, nothing else


@pytest.mark.parametrize("stack", STACKS)
def test_the_watch_page_connects_nowhere(plan, stack):
    p = plan(stack)
    policy = p.object("NetworkPolicy", "watch-page")["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"] and "egress" not in policy  # no rule: nothing admitted
    assert policy["podSelector"]["matchLabels"].items() <= pod_labels(p, "watch-page").items()

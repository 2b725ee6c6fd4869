"""What the relay and the watch page may connect to (issue 16): name servers and relay peers, or nothing."""

import pytest

from tests.conftest import STACKS

DNS = {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}


def pod_labels(p, deployment: str) -> dict:
    return p.object("Deployment", deployment)["spec"]["template"]["metadata"]["labels"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_relay_reaches_name_servers_and_other_relays_only(plan, stack):
    p = plan(stack)
    policy = p.object("NetworkPolicy", "relay")["spec"]
    assert "Egress" in policy["policyTypes"]
    labels = pod_labels(p, "relay")
    (quic,) = [x for x in p.object("Deployment", "relay")["spec"]["template"]["spec"]["containers"][0]["ports"]
               if x["name"] == "quic"]
    dns, peers = policy["egress"]
    assert dns == DNS
    (peer_selector,) = peers["to"]
    assert peer_selector.keys() == {"podSelector"} and peer_selector["podSelector"]["matchLabels"].items() <= labels.items()
    assert peers["ports"] == [{"protocol": "UDP", "port": quic["containerPort"]}]


@pytest.mark.parametrize("stack", STACKS)
def test_the_watch_page_connects_nowhere(plan, stack):
    p = plan(stack)
    policy = p.object("NetworkPolicy", "watch-page")["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"] and policy["egress"] == []
    assert policy["podSelector"]["matchLabels"].items() <= pod_labels(p, "watch-page").items()

"""`ingress.controller` and `ingress.http3` (issue 23): validated with the rest of the config, one line each."""

import pytest

from stacks.config import ConfigError, load

K3S = {"project": "quicstack-demo", "region": "europe-west1", "zone": "europe-west1-b", "adminCidrs": ["203.0.113.7/32"]}
GATEWAY = {"controller": "envoy-gateway"}

CASES = [
    ({"ingress": {"controller": "traefik"}},
     "quicstack:ingress.controller: 'traefik' is not one of ingress-nginx, envoy-gateway"),
    ({"ingress": {"http3": True}},
     "quicstack:ingress.http3: true is an envoy-gateway setting: set ingress.controller envoy-gateway, or remove it "
     "(ingress-nginx serves no HTTP/3)"),
    ({"ingress": {**GATEWAY, "relayUdp": True}, "existing": {"mixedProtocol": True}},
     "quicstack:ingress.relayUdp: true is an ingress-nginx setting: with envoy-gateway the relay's QUIC keeps its own "
     "load balancer (a UDPRoute would hide client addresses and end idle sessions after 60 s); remove it"),
    ({"cloud": "k3s", "k3s": K3S, "ingress": {**GATEWAY, "http3": True}},
     "quicstack:ingress.http3: true is not possible here: the relay's QUIC takes UDP 443 on the edge's address here; "
     "HTTP/3 at the edge needs the relay on an address of its own (EKS, or an existing cluster without "
     "existing.sharedAddress); remove it or set it false"),
    ({"ingress": {**GATEWAY, "http3": True, "serviceType": "NodePort"}},
     "quicstack:ingress.http3: true is not possible here: a NodePort Service gives TCP and UDP 443 different node "
     "ports, so alt-svc would name the wrong one; remove it or set it false"),
    ({"ingress": {**GATEWAY, "http3": True}, "existing": {"sharedAddress": False}, "acme": {"relayChallenge": "dns01"}},
     "quicstack:ingress.http3: true is not possible here: the existing load balancer takes no TCP and UDP ports in "
     "one Service (GKE: set gke.mixedProtocol; existing: existing.mixedProtocol); remove it or set it false"),
]


@pytest.mark.parametrize("override,message", CASES)
def test_gateway_rules(override, message):
    with pytest.raises(ConfigError) as err:
        load({"domain": "example.com", **override})
    assert str(err.value) == message


def test_http3_is_on_wherever_it_can_be_and_off_when_asked():
    mixed = {"sharedAddress": False, "mixedProtocol": True}
    on = load({"domain": "example.com", "ingress": GATEWAY, "existing": mixed, "acme": {"relayChallenge": "dns01"}})
    assert on.edge_http3 and ("UDP", 443, "ingress.http3") in {(p.protocol, p.port, p.key) for p in on.public_ports}
    off = load({"domain": "example.com", "ingress": {**GATEWAY, "http3": False}, "existing": mixed,
                "acme": {"relayChallenge": "dns01"}})
    assert not off.edge_http3
    # The k3s node's UDP 443 belongs to the relay: the edge stays on TCP there, and the firewall opens no second 443.
    k3s = load({"domain": "example.com", "cloud": "k3s", "k3s": K3S, "ingress": GATEWAY})
    assert not k3s.edge_http3
    assert load({"domain": "example.com", "cloud": "k3s", "k3s": K3S, "ingress": GATEWAY,
                 "relay": {"enabled": False}, "web": {"enabled": False}}).edge_http3


def test_edge_hosts():
    s = load({"domain": "example.com", "ingress": GATEWAY})
    assert s.edge_hosts == {"web": "example.com", "relay": "relay.example.com"}

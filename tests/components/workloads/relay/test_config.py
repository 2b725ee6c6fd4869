"""`quicstack:relay` and `quicstack:web`: one-line errors for bad input, and the WebSocket route per topology."""

import pytest

from stacks.config import ConfigError, load
from tests.conftest import STACKS, stack_config

BASE = {"domain": "example.com"}
DNS_NAME = "is not a DNS name (lower-case labels of a-z, 0-9 and '-', at least two)"


def validate(raw: dict):
    """Section validation, then the relay's and the page's cross-section rules (``load`` runs both)."""
    return load({**BASE, **raw})


def websocket_route(s):
    return s.relay.websocket_route(s.profile, s.relay_udp_via_ingress)


CASES = [
    ({"relay": {"quicPort": 70000}}, "quicstack:relay.quicPort: 70000 is not a port (1-65535)"),
    ({"relay": {"webPort": 0}}, "quicstack:relay.webPort: 0 is not a port (1-65535)"),
    ({"relay": {"quicPort": 443}},
     "quicstack:relay.quicPort: 443 is a privileged port: the relay runs without capabilities; use 1024-65535 (the Service maps 443 to it)"),
    ({"relay": {"internalPort": 80}},
     "quicstack:relay.internalPort: 80 is a privileged port: the relay runs without capabilities; use 1024-65535 (the Service maps 443 to it)"),
    ({"relay": {"internalPort": 4480}}, "quicstack:relay.internalPort: 4480 is also relay.webPort: both are TCP listeners of one pod; choose another port"),
    ({"relay": {"peerPort": 9101}}, "quicstack:relay.peerPort: 9101 is also relay.internalPort: both are TCP listeners of one pod; choose another port"),
    ({"relay": {"peerPort": 1000}},
     "quicstack:relay.peerPort: 1000 is a privileged port: the relay runs without capabilities; use 1024-65535 (the Service maps 443 to it)"),
    ({"existing": {"sharedAddress": False, "mixedProtocol": True}, "relay": {"websocket": True, "replicas": 2, "sessionAffinity": "ClientIP"}},
     "quicstack:relay.websocket: true is not possible with 2 relays on their own load balancer: the relay's one TLS web listener carries the "
     "peer links there; set relay.replicas 1 or relay.websocket false"),
    ({"relay": {"host": "relay_1.example.com"}}, f"quicstack:relay.host: 'relay_1.example.com' {DNS_NAME}"),
    ({"web": {"host": "watch"}}, f"quicstack:web.host: 'watch' {DNS_NAME}"),
    ({"relay": {"auth": "token"}}, "quicstack:relay.auth: 'token' is not one of anonymous, jwt"),
    ({"relay": {"logLevel": "verbose"}}, "quicstack:relay.logLevel: 'verbose' is not one of error, warn, info, debug, trace"),
    ({"relay": {"auth": "jwt", "jwtKey": "existing"}},
     "quicstack:relay.jwtKeySecret: is required when relay.jwtKey is existing (a Secret in namespace moq with <kid>.jwk files)"),
    ({"relay": {"jwtKey": "existing"}, "acme": {"environment": "production", "email": "ops@example.com"}},
     "quicstack:relay.jwtKeySecret: is required when relay.jwtKey is existing (a Secret in namespace moq with <kid>.jwk files)"),
    ({"relay": {"jwtKeySecret": "relay-key"}},
     "quicstack:relay.jwtKeySecret: 'relay-key' is set, but is only read with relay.jwtKey existing and relay.auth jwt (here anonymous)"),
    ({"relay": {"jwtKeys": ["a", "a"]}}, "quicstack:relay.jwtKeys: 'a' is listed twice; give each key its own name"),
    ({"relay": {"jwtKeys": ["Key_1"]}},
     "quicstack:relay.jwtKeys.0: 'Key_1' is not a key name (1-20 of lower-case a-z, 0-9 and '-', no '-' at either end)"),
    ({"relay": {"listen": "ipv6"}}, "quicstack:relay.listen: 'ipv6' is not one of dual-stack, ipv4"),
    ({"relay": {"auth": "jwt", "jwtKey": "existing", "jwtKeySecret": "Relay_Key"}},
     "quicstack:relay.jwtKeySecret: 'Relay_Key' is not a Secret name (lower-case a-z, 0-9, '-' and '.')"),
    ({"relay": {"jwtKey": "file"}}, "quicstack:relay.jwtKey: 'file' is not one of generate, existing"),
    ({"relay": {"publicPrefix": "/anon"}},
     "quicstack:relay.publicPrefix: '/anon' is not a broadcast path (segments of A-Z, a-z, 0-9 and . _ ~ -, joined by '/', no leading or trailing '/')"),
    ({"relay": {"image": "moqdev/moq-relay"}}, "quicstack:relay.image: 'moqdev/moq-relay' is not pinned: give a version tag (not a moving tag such as latest, main or nightly) or a digest"),
    ({"web": {"broadcast": ""}}, "quicstack:web.broadcast: '' is empty: name the broadcast the page plays"),
    ({"relay": {"auth": "anonymous", "publicPrefix": ""}, "acme": {"environment": "production", "email": "ops@example.com"}},
     "quicstack:relay.publicPrefix: '' is empty with relay.auth anonymous on a public stack: anyone could publish any "
     "path; set a prefix, use jwt, or set relay.anonymousPublishEverywhere true"),
    ({"relay": {"linger": "5s"}},
     "quicstack:relay.linger: was removed: moq-relay 0.17 removed `[cluster] linger` (cluster.rs refuses it); delete the key"),
    ({"web": {"image": "nginxinc/nginx-unprivileged:latest"}},
     "quicstack:web.image: 'nginxinc/nginx-unprivileged:latest' is not pinned: give a version tag (not a moving tag such as latest, main or nightly) or a digest"),
    ({"relay": {"host": "example.com"}},
     "quicstack:relay.host: 'example.com' is also web.host: each host gets its own certificate and its own route for TCP 443; choose another host"),
    ({"relay": {"enabled": False}}, "quicstack:web.enabled: true needs the relay it plays from: set relay.enabled true, or web.enabled false"),
    ({"existing": {"sharedAddress": False}},
     "quicstack:relay.websocket: true is not possible here: the relay has its own load balancer, which would need TCP and UDP 443 on one "
     "Service; set existing.mixedProtocol if the cluster supports that, or relay.websocket false"),
    # The platform's certificate policy: HTTP-01 needs TCP 80 behind the relay's address.
    ({"existing": {"sharedAddress": False, "mixedProtocol": True}, "acme": {"environment": "production", "email": "ops@example.com"}},
     "quicstack:acme.relayChallenge: 'http01' is not possible here: the relay has its own load balancer with no TCP 80 behind it; "
     "use dns01 (or a cluster where the relay shares the ingress address)"),
]


@pytest.mark.parametrize("raw,message", CASES, ids=[m.split(":")[1] + f"-{i}" for i, (_, m) in enumerate(CASES)])
def test_bad_input_stops_with_one_line(raw, message):
    with pytest.raises(ConfigError) as err:
        validate(raw)
    assert str(err.value) == message
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("raw", [
    {},
    {"relay": {"auth": "jwt"}},
    {"relay": {"auth": "jwt", "jwtKey": "existing", "jwtKeySecret": "relay-key", "publicPrefix": ""}},
    {"relay": {"jwtKey": "existing", "jwtKeySecret": "relay-key"}, "acme": {"environment": "staging", "email": "ops@example.com"}},
    {"relay": {"jwtKeys": ["2026-01", "2026-07"], "listen": "ipv4"}},
    {"relay": {"webPort": 4443}},  # same number as QUIC: different protocols
    {"relay": {"enabled": False}, "web": {"enabled": False}},
    {"existing": {"sharedAddress": False}, "relay": {"websocket": False}},
])
def test_good_input_passes(raw):
    validate(raw)


@pytest.mark.parametrize("raw,route", [
    ({}, "ingress"),
    ({"existing": {"sharedAddress": False, "mixedProtocol": True}}, "load-balancer"),
    ({"existing": {"sharedAddress": False, "mixedProtocol": True}, "ingress": {"relayUdp": True}}, "ingress"),
    ({"relay": {"websocket": False}}, "none"),
    # A tier on its own load balancer: the one TLS web listener carries the peers, so no fallback unless asked for.
    ({"existing": {"sharedAddress": False, "mixedProtocol": True}, "relay": {"replicas": 2, "sessionAffinity": "ClientIP"}},
     "none"),
    ({"relay": {"replicas": 2, "sessionAffinity": "ClientIP"}}, "ingress"),
])
def test_websocket_route_follows_the_address_topology(raw, route):
    assert websocket_route(load({**BASE, **raw})) == route


@pytest.mark.parametrize("stack", STACKS)
def test_checked_in_stacks_route_websocket_as_their_cloud_allows(stack):
    """k3s, GKE and shared-address clusters: through the ingress; EKS (two relays on their own NLB): none."""
    raw = {k.split(":", 1)[1]: v for k, v in stack_config(stack).items()}
    s = validate(raw)
    assert websocket_route(s) == ("none" if s.cloud == "eks" else "ingress")

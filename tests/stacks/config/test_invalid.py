"""Every invalid config stops with one line naming the key, the value and what is allowed."""

import pytest

from stacks.config import ConfigError, load

BASE = {"domain": "example.com"}
ACME = {"environment": "production", "email": "ops@example.com"}

CASES = [
    ({"acme": {"challenge": "dns"}}, "quicstack:acme.challenge: 'dns' is not one of http01, dns01"),
    ({"acme": {"environment": "prod"}}, "quicstack:acme.environment: 'prod' is not one of production, staging, selfsigned"),
    ({"acme": {"chalenge": "dns01"}}, "quicstack:acme.chalenge: is not a known key (allowed here: environment, challenge, relayChallenge, email)"),
    ({"acme": {"environment": "staging"}}, "quicstack:acme.email: is required when acme.environment is staging (Let's Encrypt needs an account e-mail)"),
    ({"acme": {"email": "ops-at-example.com"}}, "quicstack:acme.email: 'ops-at-example.com' is not an e-mail address"),
    ({"acme": "production"}, "quicstack:acme: 'production' is not an object"),
    ({"acme": {**ACME, "challenge": "dns01"}}, "quicstack:dns.zone: is required for acme dns01: set dns.provider and dns.zone to the zone that holds the hosts"),
    ({"domain": "example"}, "quicstack:domain: 'example' is not a DNS name (lower-case labels of a-z, 0-9 and '-', at least two)"),
    ({"domain": "exa_mple.com"}, "quicstack:domain: 'exa_mple.com' is not a DNS name (lower-case labels of a-z, 0-9 and '-', at least two)"),
    ({"domain": 42}, "quicstack:domain: 42 is not a string"),
    ({"domain": None}, "quicstack:domain: is required"),
    ({"cloud": "azure"}, "quicstack:cloud: 'azure' is not one of existing, k3s, gke, eks"),
    ({"cloud": "gke"}, "quicstack:gke: is required when quicstack:cloud is 'gke'"),
    ({"eks": {"region": "eu-west-1", "publicAccessCidrs": ["203.0.113.7/32"]}}, "quicstack:eks: is set, but quicstack:cloud is 'existing' (remove the section or change cloud)"),
    ({"clould": "gke"}, "quicstack:clould: is not a known key (allowed here: cloud, domain, acme, dns, ingress, relay, web, publisher, envoyDemo, existing, k3s, gke, eks)"),
    ({"relay": {"quicPort": 0}}, "quicstack:relay.quicPort: 0 is not a port (1-65535)"),
    ({"relay": {"quicPort": "fast"}}, "quicstack:relay.quicPort: 'fast' is not a whole number"),
    ({"relay": {"image": "moqdev/moq-relay:latest"}}, "quicstack:relay.image: 'moqdev/moq-relay:latest' is not pinned: give a version tag (not a moving tag such as latest, main or nightly) or a digest"),
    ({"relay": {"image": "moqdev/moq-relay"}}, "quicstack:relay.image: 'moqdev/moq-relay' is not pinned: give a version tag (not a moving tag such as latest, main or nightly) or a digest"),
    ({"relay": {"host": "Relay Host"}}, "quicstack:relay.host: 'Relay Host' is not a DNS name (lower-case labels of a-z, 0-9 and '-', at least two)"),
    ({"relay": {"enabled": "maybe"}}, "quicstack:relay.enabled: 'maybe' is not true or false"),
    ({"relay": {"resources": {"cpu_limit": "1"}}}, "quicstack:relay.resources.cpu_limit: is not a known key (allowed here: cpuRequest, memoryRequest, cpuLimit, memoryLimit)"),
    ({"envoyDemo": {"image": "envoyproxy/envoy:dev"}}, "quicstack:envoyDemo.image: 'envoyproxy/envoy:dev' is not pinned: give a version tag (not a moving tag such as latest, main or nightly) or a digest"),
    ({"envoyDemo": {"replicas": 0}}, "quicstack:envoyDemo.replicas: 0 is not greater than or equal to 1"),
    ({"envoyDemo": {"publicPort": 443}}, "quicstack:envoyDemo.publicPort: 443 collides with the ingress controller on TCP 443: all Services share one address here; choose another port"),
    ({"envoyDemo": {"publicPort": 80}}, "quicstack:envoyDemo.publicPort: 80 collides with the ingress controller on TCP 80: all Services share one address here; choose another port"),
    ({"ingress": {"serviceType": "ClusterIP"}}, "quicstack:ingress.serviceType: 'ClusterIP' is not one of LoadBalancer, NodePort"),
    ({"ingress": {"relayUdp": True}}, "quicstack:ingress.relayUdp: true is not possible on existing: it needs one LoadBalancer Service with TCP and UDP (mixed protocol), which this cluster does not support"),
    ({"dns": {"provider": "clouddns"}}, "quicstack:dns.zone: is required when dns.provider is clouddns"),
    ({"dns": {"provider": "azure"}}, "quicstack:dns.provider: 'azure' is not one of none, clouddns, route53"),
    ({"existing": {"sharedAddress": False}, "acme": {**ACME, "relayChallenge": "http01"}},
     "quicstack:acme.relayChallenge: 'http01' is not possible here: the relay has its own load balancer with no TCP 80 behind it; use dns01 (or a cluster where the relay shares the ingress address)"),
    ({"existing": {"kubeconfig": ["a"]}}, "quicstack:existing.kubeconfig: a list is not a string"),
]


@pytest.mark.parametrize("override,message", CASES, ids=[m.split(":")[1] + f"-{i}" for i, (_, m) in enumerate(CASES)])
def test_invalid_config_names_key_value_and_allowed(override, message):
    with pytest.raises(ConfigError) as err:
        load({**BASE, **override})
    assert str(err.value) == message
    assert "\n" not in str(err.value)


def test_at_least_twenty_distinct_cases():
    assert len({m for _, m in CASES}) >= 20

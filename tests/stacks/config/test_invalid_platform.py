"""Platform rules (issue 3): impossible certificate and ingress plans stop with one line."""

import pytest

from stacks.config import ConfigError, load

ACME = {"environment": "production", "email": "ops@example.com"}
K3S = {"project": "quicstack-demo", "region": "europe-west1", "zone": "europe-west1-b", "adminCidrs": ["203.0.113.7/32"]}

CASES = [
    ({"acme": {"environment": "production"}},
     "quicstack:acme.email: is required when acme.environment is production (Let's Encrypt needs an account e-mail)"),
    ({"acme": {**ACME, "challenge": "dns01"}},
     "quicstack:dns.zone: is required for acme dns01: set dns.provider and dns.zone to the zone that holds the hosts"),
    ({"acme": {**ACME, "relayChallenge": "dns01"}, "dns": {"provider": "none", "zone": "z"}},
     "quicstack:dns.zone: is required for acme dns01: set dns.provider and dns.zone to the zone that holds the hosts"),
    ({"cloud": "k3s", "k3s": K3S, "dns": {"provider": "route53", "zone": "Z1"}},
     "quicstack:dns.provider: 'route53' is not available on a k3s stack (allowed: none, clouddns)"),
    ({"dns": {"provider": "clouddns", "zone": "example-zone"}},
     "quicstack:dns.project: is required for clouddns on this cloud (the GCP project that owns the zone)"),
    ({"dns": {"provider": "route53", "zone": "Z1"}},
     "quicstack:dns.region: is required for route53 on this cloud (the AWS region for Route53 API calls)"),
    ({"ingress": {"relayUdp": True}},
     "quicstack:ingress.relayUdp: true is not possible on existing: it needs one LoadBalancer Service with TCP and UDP (mixed protocol), which this cluster does not support"),
    ({"existing": {"sharedAddress": False}, "acme": ACME},
     "quicstack:acme.relayChallenge: 'http01' is not possible here: the relay has its own load balancer with no TCP 80 behind it; use dns01 (or a cluster where the relay shares the ingress address)"),
    ({"acme": {**ACME, "challenge": "tls-alpn01"}}, "quicstack:acme.challenge: 'tls-alpn01' is not one of http01, dns01"),
    ({"ingress": {"replicas": 0}}, "quicstack:ingress.replicas: 0 is not at least 1"),
]


@pytest.mark.parametrize("override,message", CASES)
def test_platform_rules(override, message):
    with pytest.raises(ConfigError) as err:
        load({"domain": "example.com", **override})
    assert str(err.value) == message


def test_relay_http01_allowed_where_it_shares_the_ingress_address():
    assert load({"domain": "example.com", "acme": ACME}).acme.relay == "http01"

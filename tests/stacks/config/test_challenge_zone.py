"""dns.challengeZone: a Cloud DNS zone name, only where the stack can confine DNS-01 to it (GKE), only with DNS-01."""

import pytest

from stacks.config import ConfigError, load

KEY = "quicstack:dns.challengeZone"
GKE = {"project": "quicstack-demo", "region": "europe-west1", "zone": "europe-west1-b",
       "adminCidrs": ["203.0.113.7/32"]}
DNS01 = {"environment": "production", "email": "ops@example.com", "challenge": "dns01"}
CLOUD_DNS = {"provider": "clouddns", "zone": "example-com"}
GRAMMAR = "is not a Cloud DNS managed-zone name (a-z, 0-9 and '-', starting with a letter, at most 63)"
ONLY_GKE = ("only on gke, where the stack gives cert-manager its Google identity and writes the _acme-challenge "
            "CNAMEs")


def gke(challenge_zone, acme=DNS01, dns=CLOUD_DNS):
    return {"domain": "example.com", "cloud": "gke", "gke": GKE, "acme": acme,
            "dns": {**dns, "challengeZone": challenge_zone}}


CASES = [
    (gke("Acme-example-com"), f"{KEY}: 'Acme-example-com' {GRAMMAR}"),
    (gke("1acme"), f"{KEY}: '1acme' {GRAMMAR}"),
    (gke("acme-"), f"{KEY}: 'acme-' {GRAMMAR}"),
    (gke("acme_example"), f"{KEY}: 'acme_example' {GRAMMAR}"),
    (gke("acme-" + "z" * 59), f"{KEY}: 'acme-{'z' * 59}' {GRAMMAR}"),
    (gke("acme-example-com\n"), f"{KEY}: 'acme-example-com\\n' {GRAMMAR}"),
    (gke("acme.example.com"), f"{KEY}: 'acme.example.com' is a DNS name; for clouddns give the managed zone's *name*, "
                              "e.g. example-com (gcloud dns managed-zones list)"),
    (gke("example-com"), f"{KEY}: 'example-com' is dns.zone itself: name a separate zone that holds only ACME "
                         "challenges"),
    # Set where DNS-01 does not go through Cloud DNS.
    (gke("acme-example-com", acme={}, dns={"provider": "none"}),
     f"{KEY}: 'acme-example-com' is set, but is only read with dns.provider clouddns"),
    # Set where no host uses DNS-01: HTTP-01, or no ACME at all.
    (gke("acme-example-com", acme={"environment": "production", "email": "ops@example.com"}),
     f"{KEY}: 'acme-example-com' is set, but no host uses DNS-01 (acme.environment production or staging, and "
     "acme.challenge or acme.relayChallenge dns01)"),
    (gke("acme-example-com", acme={"challenge": "dns01"}),
     f"{KEY}: 'acme-example-com' is set, but no host uses DNS-01 (acme.environment production or staging, and "
     "acme.challenge or acme.relayChallenge dns01)"),
    # DNS-01 through Cloud DNS with a key the operator gives: the stack grants nothing and writes no CNAMEs there.
    ({"domain": "example.com", "cloud": "existing", "acme": DNS01,
      "dns": {**CLOUD_DNS, "project": "quicstack-demo", "credentialsSecret": "clouddns-key",
              "challengeZone": "acme-example-com"}},
     f"{KEY}: 'acme-example-com' is not available with cloud existing: {ONLY_GKE}"),
    ({"domain": "example.com", "cloud": "k3s", "acme": DNS01, "dns": {**CLOUD_DNS, "challengeZone": "acme-example-com"},
      "k3s": {"project": "quicstack-demo", "region": "europe-west1", "zone": "europe-west1-b",
              "adminCidrs": ["203.0.113.7/32"]}},
     f"{KEY}: 'acme-example-com' is not available with cloud k3s: {ONLY_GKE}"),
]


@pytest.mark.parametrize("raw,message", CASES, ids=[m.split(" ", 2)[1] + f"-{i}" for i, (_, m) in enumerate(CASES)])
def test_invalid_challenge_zone(raw, message):
    with pytest.raises(ConfigError) as err:
        load(raw)
    assert str(err.value) == message


@pytest.mark.parametrize("name", ["a", "acme-example-com", "acme-" + "z" * 58, "z0-9"])
def test_challenge_zone_takes_dns01(name):
    dns = load(gke(name)).dns
    assert (dns.challenge_zone, dns.dns01_zone, dns.zone) == (name, name, "example-com")


def test_relay_alone_on_dns01_is_enough():
    acme = {**DNS01, "challenge": "http01", "relayChallenge": "dns01"}
    assert load(gke("acme-example-com", acme=acme)).dns.dns01_zone == "acme-example-com"


def test_unset_keeps_dns01_on_the_hosts_zone():
    raw = gke(None)
    raw["dns"] = CLOUD_DNS
    dns = load(raw).dns
    assert (dns.challenge_zone, dns.dns01_zone) == (None, "example-com")

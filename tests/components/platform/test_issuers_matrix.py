"""ACME environment x challenge x DNS provider: the solvers, selectors and issuer references that come out."""

import itertools

import pytest

BASE = {"quicstack:domain": "example.com"}
DNS = {
    "none": {},
    # On an existing cluster DNS-01 needs a key Secret for Cloud DNS (cert-manager has no cloud identity there).
    "clouddns": {"provider": "clouddns", "zone": "example-zone", "project": "dns-project", "credentialsSecret": "clouddns-key"},
    "route53": {"provider": "route53", "zone": "Z0123456789", "region": "eu-west-1"},
}
HOSTS = {"example.com", "relay.example.com", "quic.example.com"}


def _case_ok(challenge, dns):
    # dns01 through route53 is refused on an existing cluster (no AWS identity): tests/stacks/config/test_hardening.py.
    return not (challenge == "dns01" and dns in ("none", "route53"))


@pytest.mark.parametrize("env,challenge,dns", [
    (e, c, d) for e, c, d in itertools.product(["production", "staging"], ["http01", "dns01"], list(DNS)) if _case_ok(c, d)
])
def test_acme_solvers(plan_config, env, challenge, dns):
    config = {**BASE, "quicstack:acme": {"environment": env, "challenge": challenge, "email": "ops@example.com"}}
    if DNS[dns]:
        config["quicstack:dns"] = DNS[dns]
    run, p = plan_config(config)
    assert run.returncode == 0, run.stderr
    issuers = {m["metadata"]["name"]: m["spec"]["acme"] for m in p.objects("ClusterIssuer")}
    # Both Let's Encrypt environments exist; certificates use the configured one.
    assert set(issuers) == {"letsencrypt-production", "letsencrypt-staging"}
    assert "acme-staging-v02" in issuers["letsencrypt-staging"]["server"] and "acme-v02" in issuers["letsencrypt-production"]["server"]
    solvers = issuers[f"letsencrypt-{env}"]["solvers"]
    assert len(solvers) == 1
    solver = solvers[0]
    assert set(solver["selector"]["dnsNames"]) == HOSTS
    if challenge == "http01":
        assert solver["http01"] == {"ingress": {"ingressClassName": "nginx"}}
    else:  # the route53 solver (EKS, Pod Identity) is checked in tests/stacks/test_eks_plan.py
        assert solver["dns01"] == {"cloudDNS": {"project": "dns-project", "hostedZoneName": "example-zone",
                                                "serviceAccountSecretRef": {"name": "clouddns-key", "key": "key.json"}}}
    for cert in p.objects("Certificate"):
        assert cert["spec"]["issuerRef"] == {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": f"letsencrypt-{env}"}


def test_relay_on_dns01_while_web_hosts_use_http01(plan_config):
    run, p = plan_config({**BASE, "quicstack:acme": {"environment": "production", "email": "ops@example.com", "relayChallenge": "dns01"},
                          "quicstack:dns": DNS["clouddns"]})
    assert run.returncode == 0, run.stderr
    solvers = p.object("ClusterIssuer", "letsencrypt-production")["spec"]["acme"]["solvers"]
    by_kind = {("dns01" if "dns01" in s else "http01"): set(s["selector"]["dnsNames"]) for s in solvers}
    assert by_kind == {"dns01": {"relay.example.com"}, "http01": {"example.com", "quic.example.com"}}


def test_self_signed_mode_has_no_acme_issuer(plan_config):
    run, p = plan_config(BASE)
    assert run.returncode == 0, run.stderr
    assert {m["metadata"]["name"] for m in p.objects("ClusterIssuer")} == {"quicstack-selfsigned", "quicstack-ca"}

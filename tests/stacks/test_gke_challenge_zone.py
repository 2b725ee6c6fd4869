"""The GKE stack with dns.challengeZone, as planned: cert-manager may write the challenge zone only, and each
DNS-01 host's _acme-challenge name in the hosts' zone is a CNAME into it, which the solver follows."""

import pytest
import yaml

from components.gcp.challenge_delegation import delegated_name
from tests.conftest import stack_config
from tests.support import validators
from tests.support.plan import Plan, run_plan

CONFIG = stack_config("gke")
PROJECT = CONFIG["quicstack:gke"]["project"]
DOMAIN = CONFIG["quicstack:domain"]
MAIN_ZONE = CONFIG["quicstack:dns"]["zone"]
CHALLENGE_ZONE = "acme-example-com"
# The plan's mocks answer a zone lookup with the zone's name, dots for dashes (tools/plan/fake_gcp.py).
CHALLENGE_DNS_NAME = "acme.example.com."
RECORD = "gcp:dns/recordSet:RecordSet"
ZONE_GRANT = "gcp:dns/dnsManagedZoneIamMember:DnsManagedZoneIamMember"


def with_challenge_zone(**acme) -> dict:
    return {**CONFIG, "quicstack:acme": {**CONFIG["quicstack:acme"], **acme},
            "quicstack:dns": {**CONFIG["quicstack:dns"], "challengeZone": CHALLENGE_ZONE}}


@pytest.fixture(scope="module")
def delegated(tmp_path_factory) -> Plan:
    directory = tmp_path_factory.mktemp("challenge-zone")
    path = directory / "Pulumi.gkecz.yaml"
    path.write_text(yaml.safe_dump({"config": with_challenge_zone()}))
    run = run_plan(path, directory / "out")
    assert run.returncode == 0, run.stderr
    return Plan(directory / "out" / "gkecz")


def cnames(p: Plan) -> dict[str, dict]:
    return {r["inputs"]["name"]: r for r in p.of_type(RECORD) if r["inputs"]["type"] == "CNAME"}


def dns01_solvers(p: Plan) -> list[dict]:
    (issuer,) = [m for m in p.objects("ClusterIssuer") if m["metadata"]["name"] == "letsencrypt-production"]
    return [s["dns01"] for s in issuer["spec"]["acme"]["solvers"] if "dns01" in s]


def test_each_dns01_host_is_delegated_by_a_cname_in_the_hosts_zone(delegated):
    hosts = [DOMAIN, f"relay.{DOMAIN}", f"quic.{DOMAIN}"]
    found = cnames(delegated)
    assert {name: r["inputs"]["rrdatas"] for name, r in found.items()} == {
        f"_acme-challenge.{host}.": [f"_acme-challenge.{host}.{CHALLENGE_DNS_NAME}"] for host in hosts}
    assert {(r["inputs"]["managedZone"], r["inputs"]["project"]) for r in found.values()} == {(MAIN_ZONE, PROJECT)}
    # The hosts' A records are still there, untouched.
    assert {r["inputs"]["name"] for r in delegated.of_type(RECORD) if r["inputs"]["type"] == "A"} == {
        f"{host}." for host in hosts}
    # cert-manager starts once the CNAMEs it follows exist.
    cert_manager = next(r for r in delegated.of_type("kubernetes:helm.sh/v3:Release")
                        if r["inputs"]["name"] == "cert-manager")
    assert {r["urn"] for r in found.values()} <= delegated.depends_on(cert_manager["urn"])


def test_cert_manager_may_write_the_challenge_zone_only(delegated):
    (grant,) = [r["inputs"] for r in delegated.of_type(ZONE_GRANT)]
    role = delegated.one("gcp:projects/iAMCustomRole:IAMCustomRole")["inputs"]
    assert (grant["managedZone"], grant["project"]) == (CHALLENGE_ZONE, PROJECT)
    assert grant["role"] == f"projects/{role['project']}/roles/{role['roleId']}"
    gsa = grant["member"]
    # Nothing grants the solver anything on the hosts' zone or the project.
    assert not [r for r in delegated.of_type(ZONE_GRANT) if r["inputs"]["managedZone"] == MAIN_ZONE]
    assert not [r for r in delegated.resources if r["type"].startswith("gcp:") and "IAM" in r["type"]
                and r["inputs"].get("member") == gsa and r["type"] != ZONE_GRANT]


def test_the_solver_follows_cnames_into_the_challenge_zone(delegated, tmp_path):
    assert dns01_solvers(delegated) == [
        {"cnameStrategy": "Follow", "cloudDNS": {"project": PROJECT, "hostedZoneName": CHALLENGE_ZONE}}]
    issuers = sorted((delegated.dir / "manifests").glob("clusterissuer-*.yaml"))
    assert len(issuers) == 2
    assert [r["result"] for r in validators.kubernetes_models(issuers)] == ["valid", "valid"]
    # The schema does check the field: a strategy cert-manager does not know is refused.
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(issuers[0].read_text().replace("cnameStrategy: Follow", "cnameStrategy: Always"))
    assert [r["result"] for r in validators.kubernetes_models([wrong])] == ["invalid"]


def test_only_the_hosts_on_dns01_are_delegated(plan_config):
    run, p = plan_config(with_challenge_zone(challenge="http01", relayChallenge="dns01"))
    assert run.returncode == 0, run.stderr
    assert list(cnames(p)) == [f"_acme-challenge.relay.{DOMAIN}."]
    assert [s["cnameStrategy"] for s in dns01_solvers(p)] == ["Follow"]


def test_unset_keeps_dns01_on_the_hosts_zone(plan):
    gke = plan("gke")
    assert not cnames(gke)
    assert dns01_solvers(gke) == [{"cloudDNS": {"project": PROJECT, "hostedZoneName": MAIN_ZONE}}]
    assert [r["inputs"]["managedZone"] for r in gke.of_type(ZONE_GRANT)] == [MAIN_ZONE]


def test_challenge_zone_on_http01_stops_the_plan_with_one_line(plan_config):
    run, _ = plan_config(with_challenge_zone(challenge="http01"))
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        f"quicstack:dns.challengeZone: '{CHALLENGE_ZONE}' is set, but no host uses DNS-01 (acme.environment "
        "production or staging, and acme.challenge or acme.relayChallenge dns01)"]


def test_a_cname_target_longer_than_dns_allows_is_refused():
    host = ".".join(["a" * 60] * 3) + ".example.com"  # 195 characters
    assert delegated_name(host, "acme.example.com.") == f"_acme-challenge.{host}.acme.example.com."
    with pytest.raises(ValueError, match="over DNS's 253"):
        delegated_name(host, ("b" * 40) + ".example.com.")

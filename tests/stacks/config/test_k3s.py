"""k3s section: defaults, and every invalid k3s config stops with one exact line."""

import pytest

from stacks.config import ConfigError, load
from stacks.config.k3s import DEFAULT_K3S_VERSION

BASE = {"domain": "example.com", "cloud": "k3s"}
K3S = {"project": "quicstack-demo", "region": "europe-west1", "zone": "europe-west1-b", "adminCidrs": ["203.0.113.7/32"]}
ACME = {"environment": "production", "email": "ops@example.com"}


def k3s(**override):
    return {**BASE, "k3s": {**K3S, **override}}


def without(key):
    return {**BASE, "k3s": {k: v for k, v in K3S.items() if k != key}}


CASES = [
    (k3s(adminCidrs=["0.0.0.0/0"]),
     "quicstack:k3s.adminCidrs: '0.0.0.0/0' opens SSH and the Kubernetes API to the whole internet: list your own addresses, "
     "or set k3s.allowOpenAdmin true to accept that"),
    (k3s(adminCidrs=["198.51.100.0/24", "0.0.0.0/0"]),
     "quicstack:k3s.adminCidrs: '0.0.0.0/0' opens SSH and the Kubernetes API to the whole internet: list your own addresses, "
     "or set k3s.allowOpenAdmin true to accept that"),
    (without("adminCidrs"), "quicstack:k3s.adminCidrs: is required"),
    (k3s(adminCidrs=[]), "quicstack:k3s.adminCidrs: a list is empty: list the addresses allowed to reach SSH and the Kubernetes API"),
    (k3s(adminCidrs=["2001:db8::/32"]), "quicstack:k3s.adminCidrs.0: '2001:db8::/32' is not an IPv4 CIDR block (the stack's networks and addresses are IPv4)"),
    (k3s(adminCidrs=["203.0.113.7/24"]),
     "quicstack:k3s.adminCidrs.0: '203.0.113.7/24' is not a CIDR block such as 203.0.113.0/24"),
    ({**k3s(), "envoyDemo": {"publicPort": 443}},
     "quicstack:envoyDemo.publicPort: 443 collides with the ingress controller on TCP 443: all Services share one address here; choose another port"),
    (without("project"), "quicstack:k3s.project: is required"),
    (without("zone"), "quicstack:k3s.zone: is required"),
    (k3s(project="My Project"),
     "quicstack:k3s.project: 'My Project' is not a GCP project ID (6-30 characters: lower-case letters, digits and '-', starting with a letter)"),
    (k3s(zone="europe-west1"), "quicstack:k3s.zone: 'europe-west1' is a region, not a zone (a zone is the region plus a letter, e.g. europe-west1-b)"),
    (k3s(zone="us-east1-b"), "quicstack:k3s.zone: 'us-east1-b' is not in k3s.region europe-west1"),
    (k3s(region="europe-west1-b"), "quicstack:k3s.region: 'europe-west1-b' is a zone, not a region (the region is europe-west1)"),
    (k3s(machineType="e2 medium"), "quicstack:k3s.machineType: 'e2 medium' is not a machine type such as e2-medium or n2-standard-4"),
    (k3s(machineType="medium"), "quicstack:k3s.machineType: 'medium' is not a machine type such as e2-medium or n2-standard-4"),
    (k3s(k3sVersion="latest"), "quicstack:k3s.k3sVersion: 'latest' is not a k3s release such as v1.34.9+k3s1 (a channel or 'latest' is not pinned)"),
    (k3s(k3sVersion="v1.34.9"), "quicstack:k3s.k3sVersion: 'v1.34.9' is not a k3s release such as v1.34.9+k3s1 (a channel or 'latest' is not pinned)"),
    (k3s(podCidr="10.43.0.0/16"), "quicstack:k3s.podCidr: '10.43.0.0/16' overlaps the k3s service range (10.43.0.0/16)"),
    (k3s(subnetCidr="10.42.8.0/24"), "quicstack:k3s.subnetCidr: '10.42.8.0/24' overlaps k3s.podCidr (10.42.0.0/16)"),
    (k3s(subnetwork="quicstack"), "quicstack:k3s.subnetwork: 'quicstack' is set without k3s.network: name the VPC network it belongs to"),
    (k3s(diskSizeGb=10), "quicstack:k3s.diskSizeGb: 10 is not greater than or equal to 20"),
    ({**k3s(), "acme": {**ACME, "challenge": "dns01"}, "dns": {"provider": "clouddns", "zone": "example-com"}},
     "quicstack:acme.challenge: 'dns01' is not available on k3s: cert-manager has no cloud identity here (pods are cut off from the "
     "metadata server); use http01, which works for every host because they all share the VM's address"),
    ({**k3s(), "dns": {"provider": "route53", "zone": "Z123"}},
     "quicstack:dns.provider: 'route53' is not available on a k3s stack (allowed: none, clouddns)"),
]


@pytest.mark.parametrize("raw,message", CASES, ids=[f"{m.split(':')[1]}-{i}" for i, (_, m) in enumerate(CASES)])
def test_invalid_k3s_config(raw, message):
    with pytest.raises(ConfigError) as err:
        load(raw)
    assert str(err.value) == message


def test_defaults():
    s = load(k3s())
    c = s.cluster
    assert (c.machine_type, c.image, c.k3s_version, c.pod_cidr) == ("e2-medium", "debian-cloud/debian-12", DEFAULT_K3S_VERSION, "10.42.0.0/16")
    assert c.network is None and c.allow_open_admin is False
    # One address for everything: the Envoy demo moves off 443, which the ingress holds.
    assert s.profile.shared_address and s.profile.mixed_protocol and s.envoy_public_port == 8443


def test_open_admin_with_explicit_opt_in():
    s = load(k3s(adminCidrs=["0.0.0.0/0"], allowOpenAdmin=True))
    assert s.cluster.admin_cidrs == ["0.0.0.0/0"]


def test_existing_network_skips_the_subnet_overlap_rule():
    s = load(k3s(network="default", subnetCidr="10.42.0.0/24"))
    assert s.cluster.network == "default"

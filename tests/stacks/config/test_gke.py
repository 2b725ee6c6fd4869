"""gke section: defaults, and every invalid GKE config stops with one exact line."""

import pytest

from stacks.config import ConfigError, load
from stacks.config.gke import MIXED_PROTOCOL_MIN_VERSION, version_key

BASE = {"domain": "example.com", "cloud": "gke"}
GKE = {"project": "quicstack-demo", "region": "europe-west1", "zone": "europe-west1-b", "adminCidrs": ["203.0.113.7/32"]}
MIXED = "the first version whose new clusters accept a mixed-protocol Service (gke.mixedProtocol)"


def gke(**override):
    section = {**GKE, **override}
    return {**BASE, "gke": {k: v for k, v in section.items() if v is not None}}


CASES = [
    (gke(mixedProtocol=True, minMasterVersion="1.33.5-gke.1200000"), f"quicstack:gke.minMasterVersion: '1.33.5-gke.1200000' is below {MIXED_PROTOCOL_MIN_VERSION}, {MIXED}"),
    (gke(mixedProtocol=True, minMasterVersion="1.34.1-gke.2189999"), f"quicstack:gke.minMasterVersion: '1.34.1-gke.2189999' is below {MIXED_PROTOCOL_MIN_VERSION}, {MIXED}"),
    (gke(mixedProtocol=True, minMasterVersion="1.34"), f"quicstack:gke.minMasterVersion: '1.34' is below {MIXED_PROTOCOL_MIN_VERSION}, {MIXED}"),
    (gke(mixedProtocol=True), "quicstack:gke.minMasterVersion: is required when gke.mixedProtocol is true: only clusters created at "
                              "1.34.1-gke.2190000 or later accept a mixed-protocol Service"),
    (gke(minMasterVersion="latest"), "quicstack:gke.minMasterVersion: 'latest' is not a GKE version such as 1.34 or 1.34.1-gke.2190000"),
    (gke(project=None), "quicstack:gke.project: is required"),
    (gke(adminCidrs=None), "quicstack:gke.adminCidrs: is required"),
    (gke(adminCidrs=["0.0.0.0/0"]), "quicstack:gke.adminCidrs: '0.0.0.0/0' opens the Kubernetes API to the whole internet: list "
                                    "your own addresses, or set gke.allowOpenAdmin true to accept that"),
    (gke(region=None), "quicstack:gke.region: is required"),
    (gke(zone="europe-west1"), "quicstack:gke.zone: 'europe-west1' is a region, not a zone (a zone is the region plus a letter, e.g. europe-west1-b)"),
    (gke(zone=None), "quicstack:gke.zone: is required for a zonal cluster (e.g. europe-west1-b), or set gke.regional true"),
    (gke(zone="us-central1-a"), "quicstack:gke.zone: 'us-central1-a' is not in gke.region europe-west1"),
    (gke(regional=True), "quicstack:gke.zone: 'europe-west1-b' is set, but gke.regional is true: a regional cluster uses every zone of "
                         "gke.region; remove gke.zone"),
    (gke(nodePool={"minNodes": 4, "maxNodes": 2}), "quicstack:gke.nodePool.minNodes: 4 is greater than gke.nodePool.maxNodes (2)"),
    (gke(nodePool={"minNodes": 0}), "quicstack:gke.nodePool.minNodes: 0 is not greater than or equal to 1"),
    (gke(nodePool={"machineType": "e2_standard_2"}), "quicstack:gke.nodePool.machineType: 'e2_standard_2' is not a machine type such as e2-medium or n2-standard-4"),
    (gke(releaseChannel="regular"), "quicstack:gke.releaseChannel: 'regular' is not one of RAPID, REGULAR, STABLE, EXTENDED"),
    (gke(autopilot=True), "quicstack:gke.autopilot: is not a known key (allowed here: project, region, zone, regional, releaseChannel, "
                          "minMasterVersion, mixedProtocol, deletionProtection, nodePool, subnetCidr, podCidr, serviceCidr, adminCidrs, "
                          "allowOpenAdmin)"),
    (gke(serviceCidr="10.26.0.0/20"), "quicstack:gke.serviceCidr: '10.26.0.0/20' overlaps gke.podCidr (10.24.0.0/14)"),
    ({**gke(), "envoyDemo": {"host": "example.com"}},
     "quicstack:envoyDemo.host: 'example.com' is also the web or relay host, but on GKE the Envoy demo has an address of its own; choose another host"),
    ({**gke(), "dns": {"provider": "route53", "zone": "Z123", "region": "eu-west-1"}},
     "quicstack:dns.provider: 'route53' is not available on a gke stack (allowed: none, clouddns)"),
    ({**gke(), "acme": {"environment": "production", "email": "ops@example.com", "challenge": "dns01"}},
     "quicstack:dns.zone: is required for acme dns01: set dns.provider and dns.zone to the zone that holds the hosts"),
]


@pytest.mark.parametrize("raw,message", CASES, ids=[f"{m.split(':')[1]}-{i}" for i, (_, m) in enumerate(CASES)])
def test_invalid_gke_config(raw, message):
    with pytest.raises(ConfigError) as err:
        load(raw)
    assert str(err.value) == message


def test_defaults_and_topology():
    s = load(gke())
    c = s.cluster
    assert (c.release_channel, c.regional, c.deletion_protection, c.mixed_protocol) == ("REGULAR", False, False, False)
    assert (c.node_pool.machine_type, c.node_pool.min_nodes, c.node_pool.max_nodes) == ("e2-standard-2", 1, 3)
    # One reserved address for the ingress and the relay: HTTP-01 works for the relay host.
    assert s.profile.shares_ingress_address and not s.profile.shared_address
    assert s.envoy_public_port == 443


def test_regional_cluster_and_new_enough_versions():
    assert load(gke(zone=None, regional=True)).cluster.regional
    for version in (MIXED_PROTOCOL_MIN_VERSION, "1.34.2", "1.35"):
        assert load(gke(mixedProtocol=True, minMasterVersion=version)).cluster.mixed_protocol


def test_open_control_plane_only_when_asked_for():
    assert load(gke(adminCidrs=["0.0.0.0/0"], allowOpenAdmin=True)).cluster.admin_cidrs == ["0.0.0.0/0"]


def test_version_order():
    ordered = ["1.33", "1.33.9-gke.100", "1.34", "1.34.1", "1.34.1-gke.2190000", "1.34.10-gke.1", "1.35"]
    assert sorted(ordered, key=version_key) == ordered

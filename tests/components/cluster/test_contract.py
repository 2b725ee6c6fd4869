"""The cluster contract: every cloud publishes its records the same way, and profiles are plain data."""

from components.cluster.contract import Cluster, ExposeRequest, Exposure, PublicEndpoint
from components.cluster.profile import Profile
from stacks.config import load

PROFILE = Profile(shared_address=False, shares_ingress_address=False, mixed_protocol=False, tcp_udp_service=False,
                  managed=False, dns_providers=())
ENDPOINTS = [PublicEndpoint("web.example.com", "ingress", "198.51.100.1"),
             PublicEndpoint("relay.example.com", "relay", "198.51.100.2")]


def published(**facts) -> dict:
    written = {}
    Cluster(provider=None, profile=PROFILE, write_records=written.update, **facts).publish_records(ENDPOINTS)
    return written


def test_records_point_at_what_the_services_report_by_default():
    assert published() == {"web.example.com": "198.51.100.1", "relay.example.com": "198.51.100.2"}


def test_a_reserved_address_wins_for_its_endpoint_and_a_shared_one_for_all():
    assert published(reserved={"relay": "203.0.113.5"})["relay.example.com"] == "203.0.113.5"
    assert set(published(record_address="203.0.113.9").values()) == {"203.0.113.9"}


def test_without_a_writer_nothing_is_published():
    Cluster(provider=None, profile=PROFILE).publish_records(ENDPOINTS)


def test_default_exposure_lets_the_cloud_pick():
    assert Cluster(provider=None, profile=PROFILE).expose(ExposeRequest("relay")) == Exposure()


def test_each_cloud_section_has_its_profile():
    base = {"domain": "example.com"}
    eks = load({**base, "cloud": "eks", "eks": {"region": "eu-west-1", "publicAccessCidrs": ["203.0.113.7/32"]},
                "relay": {"webPort": 4443}}).profile
    k3s = load({**base, "cloud": "k3s", "k3s": {"project": "quicstack-demo", "region": "europe-west1",
                                                  "zone": "europe-west1-b", "adminCidrs": ["203.0.113.7/32"]}}).profile
    assert eks.quic_lb and eks.default_replicas == 10 and eks.dns_providers == ("route53",) and eks.system_replicas == 2
    assert k3s.shared_address and not k3s.quic_lb and k3s.dns_project == "quicstack-demo" and k3s.system_replicas == 1
    assert load(base).profile.dns_providers == ("clouddns", "route53")

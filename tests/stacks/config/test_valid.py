"""What valid config turns into: defaults, derived hosts, and the address topology per cloud."""

import pytest

from stacks.config import load


def test_defaults_for_an_existing_cluster():
    s = load({"domain": "Example.COM."})
    assert s.cloud == "existing" and s.domain == "example.com"
    assert (s.hosts.web, s.hosts.relay, s.hosts.envoy) == ("example.com", "relay.example.com", "quic.example.com")
    assert s.acme.environment == "selfsigned" and s.acme.relay == "http01"
    assert s.profile.shared_address and not s.profile.mixed_protocol
    # On a shared address 443 belongs to the ingress, so the Envoy demo moves.
    assert s.envoy_public_port == 8443


def test_values_are_immutable():
    s = load({"domain": "example.com"})
    with pytest.raises(Exception):
        s.domain = "other.example.com"


def test_hosts_can_be_overridden():
    s = load({"domain": "example.com", "relay": {"host": "moq.example.net"}, "web": {"host": "watch.example.net"}})
    assert (s.hosts.relay, s.hosts.web) == ("moq.example.net", "watch.example.net")


def test_empty_sections_count_as_unset():
    """The CLI fills `default: {}` object keys from Pulumi.yaml; they must not trip the cloud-section rule."""
    s = load({"domain": "example.com", "gke": {}, "eks": {}, "k3s": {}})
    assert s.cloud == "existing"


def test_relay_challenge_defaults_to_challenge_and_can_differ():
    s = load({"domain": "example.com", "acme": {"environment": "staging", "email": "a@example.com", "relayChallenge": "dns01"},
              "dns": {"provider": "clouddns", "zone": "example-com", "project": "quicstack-demo",
                      "credentialsSecret": "clouddns-key"}})
    assert (s.acme.challenge, s.acme.relay) == ("http01", "dns01")


def test_numbers_and_booleans_from_cli_strings():
    """The CLI hands scalars over as strings."""
    s = load({"domain": "example.com", "relay": {"quicPort": "4444", "enabled": "false"}, "web": {"enabled": "false"}})
    assert s.relay.quic_port == 4444 and s.relay.enabled is False

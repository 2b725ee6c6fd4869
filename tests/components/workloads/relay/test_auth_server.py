"""The auth server's arguments: the policy the relay held itself before 0.17, as `moq auth serve` flags."""

import pytest

from components.workloads.relay.auth import EXPIRES, REVALIDATE, AuthServer
from components.workloads.relay.toml import AUTH_DIR, AUTH_SOCKET


def flags(args: list[str]) -> dict[str, list[str]]:
    """``--flag value`` pairs after ``auth serve``, each flag's values in order."""
    assert args[:2] == ["auth", "serve"]
    out: dict[str, list[str]] = {}
    for name, value in zip(args[2::2], args[3::2]):
        assert name.startswith("--") and not value.startswith("--"), args
        out.setdefault(name, []).append(value)
    return out


def test_jwt_subscribes_anonymously_and_publishes_only_with_a_key_from_the_mounted_directory():
    got = flags(AuthServer(public_prefix="anon", auth="jwt").args())
    assert got == {"--listen": [f"unix:{AUTH_SOCKET}"], "--public-subscribe": ["anon/**"], "--key-dir": [AUTH_DIR],
                   "--revalidate": [REVALIDATE], "--expires": [EXPIRES]}


def test_anonymous_opens_the_prefix_both_ways_and_reads_no_keys():
    got = flags(AuthServer(public_prefix="demo/open", auth="anonymous").args())
    assert got["--public-subscribe"] == got["--public-publish"] == ["demo/open/**"] and "--key-dir" not in got


def test_an_empty_prefix_is_every_path():
    assert flags(AuthServer(public_prefix="", auth="anonymous").args())["--public-publish"] == ["**"]


@pytest.mark.parametrize("peers", [True, False])
def test_only_a_tier_grants_peer_certificates(peers):
    got = flags(AuthServer(public_prefix="anon", auth="jwt", peers=peers).args())
    assert ("--mtls-publish" in got, "--mtls-subscribe" in got) == (peers, peers)
    if peers:
        assert got["--mtls-publish"] == got["--mtls-subscribe"] == ["**"]


def test_sessions_are_revalidated_within_a_minute():
    # Removing a key must end the sessions it admitted in a bounded time (the real test: test_relay_auth.py).
    value, unit = int(REVALIDATE[:-1]), REVALIDATE[-1]
    assert unit == "s" and 0 < value <= 60

"""Who may publish, tested on the real relay running the k3s stack's rendered config (Let's Encrypt: tokens).

Tokens come from ``python -m tools.token`` fed the stack's outputs, as a user pipes
``pulumi stack output --json --show-secrets`` into it. A refused publisher is one whose broadcast an
anonymous viewer never sees; the viewer in the same relay does see the token holder's broadcast, so
"nothing seen" cannot come from a broken viewer.
"""

from __future__ import annotations

import io
import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from components.workloads.relay import keys as relay_keys
from components.workloads.relay.auth import REVALIDATE
from tests.components.workloads.relay.conftest import mint
from tests.support import relay
from tests.support.moq_client import announced, publishing, round_trip, sample_frames, session_url
from tests.support.envoy import write_volume
from tools.token.__main__ import parser, token

PUBLIC = "anon"


@pytest.fixture(scope="module")
def k3s(secret_plan):
    return secret_plan("k3s")


@pytest.fixture
def k3s_relay(k3s, tmp_path):
    pod = relay.materialize(k3s, tmp_path / "pod")
    with relay.running(pod) as running:
        yield running


def minted_at(plan, now: float, *args: str) -> str:
    """``tools.token`` with its clock at ``now`` (how an expired token is made without waiting)."""
    return token(parser().parse_args(list(args)), io.StringIO(json.dumps(plan.outputs)), now=now)


def visible(pod: relay.LocalRelay, wait: float = 3) -> list[str]:
    """Broadcasts an anonymous viewer finds under the public prefix."""
    result = announced(session_url(pod.url, PUBLIC), pod.ca_file, wait=wait)
    assert result.has("done"), result
    return next(e for e in result.events if e["event"] == "done")["paths"]


def test_k3s_renders_a_relay_where_only_subscribing_is_anonymous(k3s):
    assert relay.planned_toml(k3s).count("publish") == 0
    assert k3s.outputs["relayTokenKey"].startswith("-----BEGIN PRIVATE KEY-----")


def test_anonymous_publishing_is_refused_and_a_token_publishes(k3s, k3s_relay, tmp_path):
    pod = k3s_relay.relay
    frames = sample_frames(10)
    with publishing(
        session_url(pod.url, PUBLIC), pod.ca_file, "intruder", frames, tmp_path / "peers", wait=30
    ) as intruder:
        intruder.wait_for("announced", 15)
        publisher, subscriber, received = round_trip(
            session_url(pod.url, PUBLIC, mint(k3s, "--publish", PUBLIC)),
            session_url(pod.url, PUBLIC),
            pod.ca_file,
            frames,
            tmp_path / "peers",
            broadcast="legit",
        )
        seen = visible(pod)
        assert not intruder.result().has("subscribed"), intruder.result()
    assert subscriber.returncode == 0 and received == frames, f"{subscriber}\n{publisher}"
    assert seen == ["legit"]


@pytest.mark.parametrize("case", ["expired", "another prefix", "another prefix, at the root", "another key"])
def test_tokens_that_do_not_cover_the_path_are_refused(k3s, k3s_relay, tmp_path, case):
    pod = k3s_relay.relay
    now = time.time()
    stranger = relay_keys.sign(
        ec.generate_private_key(ec.SECP256R1()), relay_keys.claims([PUBLIC], None, int(now) + 3600, int(now))
    )
    jwt, path = {
        "expired": (minted_at(k3s, now - 7200, "--publish", PUBLIC, "--ttl", "1h"), PUBLIC),
        "another prefix": (mint(k3s, "--publish", "private"), PUBLIC),
        # At the root the session is allowed, scoped to `private`: a broadcast under anon/ stays unseen.
        "another prefix, at the root": (mint(k3s, "--publish", "private"), ""),
        "another key": (stranger, PUBLIC),
    }[case]
    broadcast = "intruder" if path else f"{PUBLIC}/intruder"
    with publishing(
        session_url(pod.url, path, jwt), pod.ca_file, broadcast, sample_frames(3), tmp_path / "peers", wait=8
    ) as intruder:
        result = intruder.wait_for("subscribed", 10)
        seen = visible(pod)
    assert not result.has("subscribed"), result
    assert seen == [], seen
    if case != "another prefix, at the root":
        assert (
            result.error and result.error["kind"] == "closed"
        ), result  # the relay ends the session after the handshake


def test_rotation_adds_a_key_beside_the_old_one_then_retires_it(k3s, k3s_relay, tmp_path):
    """The procedure the README gives: a new key next to the old (both verify), later the old one removed."""
    pod = k3s_relay.relay
    key_dir = pod.root / "auth"
    old_files = {p.name: p.read_bytes() for p in key_dir.iterdir() if p.name.endswith(".jwk")}
    old_token = mint(k3s, "--publish", PUBLIC)
    new_key = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    new_token = relay_keys.sign(new_key, relay_keys.claims([PUBLIC], None, now + 600, now))
    name, jwk = relay_keys.key_dir_file(relay_keys.public_pem(new_key))

    def publishes(jwt: str, broadcast: str) -> bool:
        _, subscriber, received = round_trip(
            session_url(pod.url, PUBLIC, jwt),
            session_url(pod.url, PUBLIC),
            pod.ca_file,
            sample_frames(3),
            tmp_path / "peers",
            broadcast=broadcast,
            wait=6,
        )
        return subscriber.returncode == 0 and len(received) == 3

    assert not publishes(new_token, "new-before")
    write_volume(key_dir, {**old_files, name: jwk.encode()})  # the Secret gains the new key (kubelet swap)
    assert publishes(new_token, "new-added") and publishes(old_token, "old-kept")
    write_volume(key_dir, {name: jwk.encode()})  # the old key removed from the Secret
    assert publishes(new_token, "new-alone") and not publishes(old_token, "old-removed")
    assert k3s_relay.process.poll() is None


def test_removing_a_key_ends_the_live_sessions_it_admitted(k3s, k3s_relay, tmp_path):
    """The auth server re-checks every session each REVALIDATE: a publisher admitted by a key that leaves the Secret
    is ended within that time (plus the kubelet's swap, instant here); one admitted by a key that stays keeps going."""
    pod = k3s_relay.relay
    key_dir = pod.root / "auth"
    old_files = {p.name: p.read_bytes() for p in key_dir.iterdir() if p.name.endswith(".jwk")}
    new_key = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    name, jwk = relay_keys.key_dir_file(relay_keys.public_pem(new_key))
    write_volume(key_dir, {**old_files, name: jwk.encode()})
    kept = relay_keys.sign(new_key, relay_keys.claims([PUBLIC], None, now + 600, now))
    bound = int(REVALIDATE.rstrip("s")) + 15
    # Nobody subscribes, so each publisher waits (up to `wait`) in a call that ends when its session is closed.
    with publishing(session_url(pod.url, PUBLIC, mint(k3s, "--publish", PUBLIC)), pod.ca_file, "removed-key",
                    sample_frames(3), tmp_path / "peers", wait=bound + 30) as doomed, \
            publishing(session_url(pod.url, PUBLIC, kept), pod.ca_file, "kept-key", sample_frames(3),
                       tmp_path / "peers", wait=bound + 30) as survivor:
        assert doomed.wait_for("announced", 15).has("announced") and survivor.wait_for("announced", 15).has("announced")
        assert sorted(visible(pod)) == ["kept-key", "removed-key"]
        write_volume(key_dir, {name: jwk.encode()})  # the stack's old key removed from the Secret
        removed = time.monotonic()
        ended = doomed.wait_for("error", bound)
        elapsed = time.monotonic() - removed
        assert ended.error and ended.error["kind"] == "closed", ended
        assert elapsed <= bound, elapsed
        assert survivor.result().error is None and survivor.process.poll() is None, survivor.result()
        assert visible(pod) == ["kept-key"]

"""The real moq-relay (versions.toml) and its auth server on what each stack renders, with the real MoQ client (moq-rs) as its peers.

Every relay here runs the planned ConfigMap's TOML with only file paths and listen addresses
rewritten (tests/support/relay.py), a certificate from a local CA where cert-manager's Secret is
mounted, and the Deployment's environment.
"""

from __future__ import annotations

import time
import tomllib
import urllib.request

import pytest

from components.workloads.relay.toml import AUTH_SOCKET
from tests.components.workloads.relay.conftest import mint, uses_tokens
from tests.conftest import STACKS
from tests.support import moq_client, netns, relay
from tests.support.moq_client import round_trip, sample_frames, session_url
from tests.support.pki import LocalCA, serial_of

PUBLIC = "anon"


@pytest.fixture
def local_relay(plan, tmp_path):
    """The ``local`` stack's relay, running."""
    pod = relay.materialize(plan("local"), tmp_path / "pod")
    with relay.running(pod) as running:
        yield running


def _back_to_pod(value, pod: relay.LocalRelay):
    """The local TOML with local paths mapped back to the container's paths."""
    if isinstance(value, dict):
        return {k: _back_to_pod(v, pod) for k, v in value.items()}
    if isinstance(value, list):
        return [_back_to_pod(v, pod) for v in value]
    if isinstance(value, str):
        for mount, directory in pod.mounts.items():
            value = value.replace(str(directory), mount)
        return value.replace(str(pod.auth_socket), AUTH_SOCKET) if pod.auth_socket else value
    return value


def _without_listeners(doc: dict) -> dict:
    out = {k: _without_listeners(v) if isinstance(v, dict) else v for k, v in doc.items()}
    for key in ("bind", "listen"):
        out.pop(key, None)
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_relay_starts_from_the_stacks_rendered_config_and_answers_health(plan, tmp_path, stack):
    p = plan(stack)
    pod = relay.materialize(p, tmp_path / "pod")
    planned = tomllib.loads(relay.planned_toml(p))
    # What runs is what the plan renders: only file paths and listen addresses differ.
    assert _without_listeners(_back_to_pod(pod.config, pod)) == _without_listeners(planned)
    with relay.running(pod) as running:
        with urllib.request.urlopen(pod.health_url, timeout=5) as r:
            assert r.status == 200
        assert running.process.poll() is None


@pytest.mark.parametrize("stack", STACKS)
def test_anonymous_subscribers_read_the_public_prefix(secret_plan, tmp_path, stack):
    p = secret_plan(stack)
    pod = relay.materialize(p, tmp_path / "pod")
    frames = sample_frames(10)
    # Where publishing takes a token (every ACME stack), the publisher gets one from the stack's key.
    jwt = mint(p, "--publish", PUBLIC) if uses_tokens(p) else None
    with relay.running(pod) as running:
        publisher, subscriber, received = round_trip(
            session_url(pod.url, PUBLIC, jwt), session_url(pod.url, PUBLIC), pod.ca_file, frames, tmp_path / "peers"
        )
    assert subscriber.returncode == 0, f"{subscriber}\npublisher: {publisher}\nrelay: {running.output()[-2000:]}"
    assert received == frames, publisher


def test_round_trip_frames_arrive_intact_and_in_order(local_relay, tmp_path):
    pod = local_relay.relay
    # Several groups of several frames, 16 KiB each: more than one QUIC packet per frame.
    frames = sample_frames(60, size=16 * 1024)
    publisher, subscriber, received = round_trip(
        session_url(pod.url, PUBLIC),
        session_url(pod.url, PUBLIC),
        pod.ca_file,
        frames,
        tmp_path / "peers",
        group_size=6,
    )
    assert subscriber.returncode == 0, subscriber
    assert publisher.has("sent"), publisher
    assert len(received) == len(frames)
    assert [int.from_bytes(f[:4], "big") for f in received] == list(range(len(frames)))
    assert received == frames


def test_websocket_fallback_carries_the_session(local_relay, tmp_path):
    """A subscriber over the web listener (what browsers without WebTransport use) reads a QUIC publisher's frames."""
    pod = local_relay.relay
    frames = sample_frames(10)
    publisher, subscriber, received = round_trip(
        session_url(pod.url, PUBLIC), session_url(pod.websocket_url, PUBLIC), pod.ca_file, frames, tmp_path / "peers"
    )
    assert subscriber.returncode == 0, f"{subscriber}\nrelay: {local_relay.output()[-2000:]}"
    assert received == frames
    # The relay logs WebSocket sessions under a `ws{id=N}` span (QUIC ones under `conn{id=N}`).
    assert "ws{id=" in local_relay.output()


def test_a_peer_trusting_another_ca_is_refused(local_relay, tmp_path):
    """The client really verifies the relay's certificate, so the tests above prove the chain works."""
    other = tmp_path / "other-ca.pem"
    other.write_bytes(LocalCA().pem)
    result = moq_client.announced(session_url(local_relay.relay.url, PUBLIC), other, wait=1)
    assert result.returncode == 1 and result.error, result
    assert not result.has("connected")


def test_renewed_certificate_reaches_new_connections_without_a_restart(local_relay, tmp_path):
    pod, process = local_relay.relay, local_relay.process
    first = relay.served_certificate(pod)
    assert first == serial_of((pod.tls_volume / "tls.crt").read_bytes())
    old_ca = tmp_path / "old-ca.pem"
    old_ca.write_bytes(pod.ca.pem)

    # cert-manager renews from a new CA (the worst case: nothing of the old chain stays valid); the
    # kubelet swaps the Secret volume's `..data` link.
    renewed = serial_of(pod.renew_certificate(LocalCA("renewed CA"))["tls.crt"])
    assert renewed != first
    served = _eventually(lambda: relay.served_certificate(pod), renewed)
    assert served == renewed, "the relay still serves the old certificate"
    assert process.poll() is None and local_relay.process.pid == process.pid

    frames = sample_frames(5)
    _, subscriber, received = round_trip(
        session_url(pod.url, PUBLIC), session_url(pod.url, PUBLIC), pod.ca_file, frames, tmp_path / "peers"
    )
    assert subscriber.returncode == 0 and received == frames, subscriber
    refused = moq_client.announced(session_url(pod.url, PUBLIC), old_ca, wait=1)
    assert refused.error and not refused.has("connected"), refused


@pytest.mark.skipif(not netns.available(), reason="needs network namespaces (unshare) to bind a wildcard safely")
@pytest.mark.parametrize(
    "listen,reachable", [("dual-stack", {"127.0.0.1": True, "::1": True}), ("ipv4", {"127.0.0.1": True, "::1": False})]
)
def test_the_planned_wildcard_answers_ipv4_and_ipv6_clients(plan_config, tmp_path, listen, reachable):
    """`[::]` takes both families on one socket (`localhost` clients trying ::1 first connect); `0.0.0.0` IPv4 only."""
    run, p = plan_config({"quicstack:domain": "example.com", "quicstack:relay": {"listen": listen}})
    assert run.returncode == 0, run.stderr
    pod = relay.materialize(p, tmp_path / "pod", address=None)  # listen where the plan says, in a private namespace
    assert pod.config["listen"]["bind"].startswith("[::]:" if listen == "dual-stack" else "0.0.0.0:")
    result = netns.probe(pod)
    assert result == {"health": reachable, "quic": reachable, "localhost session": True}, result


@pytest.mark.parametrize("level", ["debug", "info"])
def test_the_configured_log_level_is_what_the_relay_prints(plan_config, tmp_path, level):
    """relay.logLevel reaches the relay (its file's [log] level)."""
    run, p = plan_config({"quicstack:domain": "example.com", "quicstack:relay": {"logLevel": level}})
    assert run.returncode == 0, run.stderr
    pod = relay.materialize(p, tmp_path / "pod")
    with relay.running(pod) as running:
        moq_client.announced(session_url(pod.url, PUBLIC), pod.ca_file, wait=0.5)
        lines = running.output().splitlines()
    debug = [line for line in lines if " DEBUG " in line]
    assert any(" INFO " in line for line in lines)
    assert bool(debug) == (level == "debug"), debug[:5]


def _eventually(probe, expected, timeout: float = 10):
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        try:
            value = probe()
        except Exception:  # a handshake that fails while the files are swapped
            value = None
        if value == expected:
            return value
        time.sleep(0.2)
    return value

"""The ``moq`` check of ``tools.verify`` against the real moq-relay on loopback, with real MoQ peers.

The relay runs a planned stack's TOML (tests/support/relay.py). Without ``--token`` the check must
find the broadcast a media publisher announces under the public prefix and read its frames; with a
token it publishes its own probe and reads it back; a token the relay refuses, or a prefix where
nothing is published, fails with one line that says so.
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from components.workloads.relay import keys

from tests.support import relay
from tests.support.plan import ROOT, Plan, run_plan
from tests.support.processes import started, wait_for_output
from tests.support.verify_servers import run_verify

PUBLIC = "anon"
# These need the relay's TCP side on the QUIC port, which the ingress or load balancer provides in a cluster.
OTHERS = [arg for check in ("tls", "relay-http", "websocket") for arg in ("--skip", check)]


def verify(pod: relay.LocalRelay, *args: str, path: str = PUBLIC):
    return run_verify("--relay", f"{pod.url}/{path}", "--ca", str(pod.ca_file), "--json", "--timeout", "8",
                      *OTHERS, *args, timeout=90)


@contextmanager
def media_publisher(pod: relay.LocalRelay, broadcast: str, workdir: Path):
    """tests/support/media_publisher.py publishing ``broadcast`` under the public prefix until the block ends."""
    workdir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "tests.support.media_publisher", "--url", f"{pod.url}/{PUBLIC}", "--ca",
               str(pod.ca_file), "--broadcast", broadcast, "--seconds", "60"]
    with started(command, workdir / "media.log", cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}) as process:
        wait_for_output(workdir / "media.log", '"publishing"', process, 20)
        yield process


@pytest.fixture
def public_relay(plan, tmp_path):
    """The local stack's relay (anonymous publishing on the public prefix: self-signed stack)."""
    pod = relay.materialize(plan("local"), tmp_path / "pod")
    with relay.running(pod) as running:
        yield running


def test_finds_the_announced_broadcast_and_reads_its_frames(public_relay, tmp_path):
    pod = public_relay.relay
    with media_publisher(pod, "demo", tmp_path / "publisher"):
        run = verify(pod)
    moq = run.check("relay", "moq")
    assert run.returncode == 0 and moq["status"] == "pass", run.stdout
    assert run.check("relay", "webtransport")["status"] == "pass"
    figures = moq["figures"]
    assert figures["broadcast"] == "/anon/demo" and figures["track"].endswith(".avc3")
    assert figures["frames"] >= 1 and 0 < figures["firstFrameMs"] < 5000
    assert moq["summary"].startswith(f"/anon/demo: {figures['frames']} frames of {figures['track']}, first after ")


def test_probe_publishes_on_the_public_prefix_without_a_token_and_reads_it_back(public_relay):
    run = verify(public_relay.relay, "--probe")
    moq = run.check("relay", "moq")
    assert run.returncode == 0 and moq["status"] == "pass", run.stdout
    assert moq["figures"]["frames"] == moq["figures"]["sent"] == 5
    assert moq["figures"]["broadcast"].startswith("/anon/verify-")


def test_probe_on_a_path_that_needs_a_token_fails(token_relay):
    running, _ = token_relay
    run = verify(running.relay, "--probe", path="private")
    assert run.returncode == 1 and run.check("relay", "moq")["status"] == "fail"


def test_nothing_published_says_so(public_relay):
    run = verify(public_relay.relay)
    assert run.returncode == 1
    assert run.check("relay", "moq")["summary"] == (
        "connected, but no broadcast is announced under /anon: nothing publishes "
        "(start python -m tools.publish, or pass --token to publish a probe)")


# -- a relay that requires tokens ------------------------------------------------------------------

def token(key, root: str, ttl: int) -> str:
    """A token in the relay's format (moq-token claims), signed with ``key``."""
    now = int(time.time())
    return keys.sign(key, {"root": root, "put": [""], "get": [""], "iat": now - 60, "exp": now + ttl})


@pytest.fixture(scope="module")
def jwt_plan(tmp_path_factory) -> Plan:
    work = tmp_path_factory.mktemp("jwt-plan")
    (work / "Pulumi.jwt.yaml").write_text(json.dumps({"config": {
        "quicstack:cloud": "existing", "quicstack:domain": "quicstack.localhost",
        "quicstack:acme": {"environment": "selfsigned"}, "quicstack:relay": {"auth": "jwt"}}}))
    run = run_plan(work / "Pulumi.jwt.yaml", work / "out", "--show-secrets")
    assert run.returncode == 0, run.stderr
    return Plan(work / "out" / "jwt")


@pytest.fixture
def token_relay(jwt_plan, tmp_path):
    """The relay of a stack with ``relay.auth: jwt``; yields (running relay, the stack's signing key)."""
    pod = relay.materialize(jwt_plan, tmp_path / "pod")
    with relay.running(pod) as running:
        yield running, keys.load_private_key(jwt_plan.outputs["relayTokenKey"])


def test_token_publishes_a_probe_and_reads_it_back(token_relay):
    running, key = token_relay
    run = verify(running.relay, "--token", token(key, PUBLIC, 600))
    moq = run.check("relay", "moq")
    assert run.returncode == 0 and moq["status"] == "pass", run.stdout
    figures = moq["figures"]
    assert figures["frames"] == figures["sent"] == 5 and figures["broadcast"].startswith("/anon/verify-")
    assert 0 < figures["roundTripMs"] <= figures["maxMs"] < 5000


@pytest.mark.parametrize("signer, root, ttl", [
    ("other key", PUBLIC, 600), ("stack key", PUBLIC, -120), ("stack key", "elsewhere", 600)],
    ids=["signed-by-another-key", "expired", "other-prefix"])
def test_token_the_relay_refuses_fails_with_the_reason(token_relay, signer, root, ttl):
    running, stack_key = token_relay
    key = stack_key if signer == "stack key" else ec.generate_private_key(ec.SECP256R1())
    refused = token(key, root, ttl)
    run = verify(running.relay, "--token", refused)
    assert run.returncode == 1
    assert run.check("relay", "moq")["summary"] == (
        "the relay refused the token on /anon: it expired, names another path, or was signed by a key "
        "the relay does not have")
    assert refused not in run.stdout + run.stderr


def test_anonymous_session_on_a_private_path_is_refused(token_relay):
    running, _ = token_relay
    run = verify(running.relay, path="private")
    assert run.returncode == 1
    assert run.check("relay", "moq")["summary"] == (
        "the relay refused an anonymous session on /private: that path needs a token (--token)")

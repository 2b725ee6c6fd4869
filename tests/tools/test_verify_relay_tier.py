"""``tools.verify``'s quic-lb row for a relay tier, against the real relay started by the planned EKS command
with a server ID as the AWS controller injects it: every connection's IDs decode to that one relay."""

from __future__ import annotations

import base64
import json

import pytest

from tests.support.envoy import lbc_server_id
from tests.support.processes import stop
from tests.support.relay_cluster import launch_planned, wait_listening
from tests.support.verify_servers import make_pki, run_verify

HOST = "relay.verify.localhost"


@pytest.fixture(scope="module")
def planned_command(plan) -> list[str]:
    (container,) = plan("eks").object("StatefulSet", "relay")["spec"]["template"]["spec"]["containers"]
    return container["command"]


def verify_relay(tmp_path, planned_command, env: dict[str, str], *flags: str, outputs: dict | None = None):
    """The planned relay command on loopback (QUIC only), verified by URL, or through stack ``outputs`` on stdin."""
    pki = make_pki(tmp_path / "pki", (HOST,))
    process, port, log = launch_planned(tmp_path, planned_command, "sh", env, host=HOST,
                                        tls=(pki.cert.read_bytes(), pki.key.read_bytes()))
    try:
        wait_listening(process, log)
        source = ([], json.dumps({**outputs, "relayUrl": f"https://{HOST}:{port}"})) if outputs else \
            ([f"--relay=https://{HOST}:{port}"], None)
        return run_verify(*source[0], "--ca", str(pki.ca), "--json", "--timeout", "5", "--probes", "8", *flags,
                          stdin=source[1])
    finally:
        stop(process)


def test_quic_lb_row_counts_the_relay_that_answered(tmp_path, planned_command):
    injected = lbc_server_id()
    run = verify_relay(tmp_path, planned_command, {"AWS_LBC_QUIC_SERVER_ID": injected}, "--relay-replicas", "2")
    row = run.check("relay", "quic-lb")
    assert row["figures"]["serverIds"] == {base64.b64decode(injected).hex(): 8}, row
    assert row["figures"]["serverIdsBase64"] == [injected]
    # Two relays expected, one answered every connection: works, but worth a look.
    assert row["status"] == "warn" and "one pod took every connection" in row["summary"]
    assert run.check("relay", "webtransport")["status"] == "pass"


def test_quic_lb_row_fails_on_a_relay_without_a_server_id(tmp_path, planned_command):
    run = verify_relay(tmp_path, planned_command, {}, "--relay-replicas", "2")
    row = run.check("relay", "quic-lb")
    assert row["status"] == "fail" and "not a routable QUIC-LB ID" in row["summary"], row


def test_no_quic_lb_row_unless_asked(tmp_path, planned_command):
    run = verify_relay(tmp_path, planned_command, {"AWS_LBC_QUIC_SERVER_ID": lbc_server_id()})
    assert "quic-lb" not in [c["check"] for c in run.report["checks"] if c["endpoint"] == "relay"]


@pytest.mark.parametrize("stack", ["eks", "local"])
def test_stack_outputs_turn_the_row_on_for_eks_only(plan, stack):
    from tools.verify.inputs import from_outputs

    outputs = plan(stack).outputs
    (relay,) = [e for e in from_outputs(outputs) if e.role == "relay"]
    assert (relay.quic_lb, relay.replicas) == ((True, 2) if stack == "eks" else (False, None))


@pytest.mark.parametrize("stack", ["eks", "local"])
def test_stack_outputs_say_whether_tcp_carries_the_relay(plan, stack):
    """EKS's default tier has no WebSocket fallback: its relay is QUIC only."""
    from tools.verify.inputs import from_outputs

    (relay,) = [e for e in from_outputs(plan(stack).outputs) if e.role == "relay"]
    assert relay.tcp is (stack != "eks")


def test_a_quic_only_relay_from_the_eks_outputs_passes_with_its_tcp_rows_skipped(tmp_path, planned_command, plan):
    """The planned EKS relay on loopback listens on QUIC only, as behind its NLB: with the stack's outputs the rows
    over TCP are skipped (not failed) and the QUIC rows verify the relay and its certificate."""
    outputs = {k: v for k, v in plan("eks").outputs.items()
               if k in ("relayQuicLb", "relayReplicas", "relayWebsocket", "relayPublicPrefix")}
    run = verify_relay(tmp_path, planned_command, {"AWS_LBC_QUIC_SERVER_ID": lbc_server_id()}, "--skip", "fan-out",
                       outputs=outputs)
    rows = {c["check"]: c for c in run.report["checks"] if c["endpoint"] == "relay"}
    for name in ("tls", "relay-http", "websocket"):
        assert rows[name]["status"] == "skip" and "QUIC only" in rows[name]["summary"], rows[name]
    # One relay answers for the two the outputs name: the quic-lb row warns, as above.
    assert rows["webtransport"]["status"] == "pass" and rows["quic-lb"]["status"] == "warn", rows

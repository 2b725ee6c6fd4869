"""``tools.verify``'s fan-out row against real relays: a 3-replica stack's configs (relay.auth jwt) run as three
moq-relay processes on loopback, each writing its own QUIC-LB server ID, behind a loopback load balancer that
routes by it (tests/support/quic_lb_balancer.py). Clustered, the probe published through one relay is read
through the other two; with the peer links cut, the other relays get no frames; one relay proves nothing."""

from __future__ import annotations

import json
import os
import re
import time

import pytest

from components.workloads.relay import keys
from components.workloads.relay.cluster import RELAY_SERVER_ID_ENV

from tests.support import quic_lb_balancer, relay_cluster
from tests.support.pki import LocalCA
from tests.support.plan import Plan, run_plan
from tests.support.verify_servers import run_verify

TIER = {"quicstack:cloud": "existing", "quicstack:domain": "quicstack.localhost",
        "quicstack:acme": {"environment": "selfsigned"},
        "quicstack:relay": {"replicas": 3, "sessionAffinity": "ClientIP", "auth": "jwt"}}
HOST = "relay.quicstack.localhost"
# The check's time bound: 40 % of it opens the sessions (nine here), which a busy 2-core machine may need 3 s for.
TIMEOUT = 16
# These need TCP on the QUIC port, which the stand-in load balancer does not carry.
TCP_CHECKS = [arg for check in ("tls", "relay-http", "websocket") for arg in ("--skip", check)]


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> Plan:
    out = tmp_path_factory.mktemp("fanout-plan")
    (out / "Pulumi.fanout.yaml").write_text(json.dumps({"config": TIER}))
    run = run_plan(out / "Pulumi.fanout.yaml", out / "plan", "--show-secrets")
    assert run.returncode == 0, run.stderr
    return Plan(out / "plan" / "fanout")


def token(plan: Plan) -> str:
    """A token for the public prefix signed with the stack's key (moq-token claims)."""
    now = int(time.time())
    key = keys.load_private_key(plan.outputs["relayTokenKey"])
    return keys.sign(key, {"root": "anon", "put": [""], "get": [""], "iat": now - 60, "exp": now + 600})


def verify_tier(tmp_path, planned: Plan, replicas: int, *, clustered: bool = True, with_token: bool = True,
                server_ids: bool = True, flags: tuple[str, ...] = ()):
    """Run ``replicas`` relays (each with its own server ID) behind the balancer and verify through it."""
    public_ca = LocalCA("public CA")
    relays = relay_cluster.lay_out(relay_cluster.from_plan(planned), replicas, tmp_path, public_ca)
    ids = {}
    for relay in relays:
        ids[relay.quic_port] = os.urandom(8)
        if server_ids:
            relay.env[RELAY_SERVER_ID_ENV] = ids[relay.quic_port].hex()
        if not clustered:
            relay.dial([])
    (tmp_path / "public-ca.crt").write_bytes(public_ca.pem)
    with relay_cluster.running(relays) as tier, \
            quic_lb_balancer.running({sid: port for port, sid in ids.items()}) as balancer:
        run = run_verify(f"--relay=https://{HOST}:{balancer.port}/anon", "--ca", str(tmp_path / "public-ca.crt"),
                         "--relay-replicas", str(replicas),
                         *(["--token", token(planned)] if with_token else ["--skip", "moq"]), "--probes", "6",
                         "--timeout", str(TIMEOUT), "--json", *TCP_CHECKS, *flags, timeout=120)
        logs = [tier.log(i)[-2000:] for i in range(replicas)]
    return run, {port: sid.hex() for port, sid in ids.items()}, logs, balancer


def test_clustered_relays_fan_the_probe_out_to_the_other_pods(tmp_path, planned):
    run, ids, logs, balancer = verify_tier(tmp_path, planned, 3)
    row = run.check("relay", "fan-out")
    assert row["status"] == "pass", (row, logs)
    figures = row["figures"]
    published, read = figures["publishedVia"], figures["readVia"]
    # Every relay took part: the probe went in through one and came out of the two others, five frames each.
    assert {published, *read} == set(ids.values()) and published not in read, (figures, ids)
    assert set(read.values()) == {5}
    assert figures["sessions"] == 9 and 0 < figures["roundTripMs"] <= figures["maxMs"] < TIMEOUT * 1000
    assert row["summary"].startswith(f"{figures['broadcast']} published via pod {published}, read via pods ")
    assert run.check("relay", "quic-lb")["figures"]["serverIds"].keys() == set(ids.values())
    # The balancer routed QUIC by connection ID, not only by flow (what makes the NLB stand-in one).
    assert set(balancer.by_connection_id) == set(ids), balancer.by_connection_id


def test_relays_without_peer_links_fail_with_the_reason(tmp_path, planned):
    run, ids, logs, _ = verify_tier(tmp_path, planned, 3, clustered=False)
    row = run.check("relay", "fan-out")
    shown = json.dumps(row)  # whole: pytest shortens a dict in an assertion message
    assert run.returncode == 1 and row["status"] == "fail", (shown, logs)
    published = row["figures"]["publishedVia"]
    others = set(ids.values()) - {published}
    # Every pod read through got nothing, and the line names each of them. (Each pod gets three of the nine sessions;
    # one whose sessions all missed the connect share of the bound is not read through, and the line says so.)
    read = row["figures"]["readVia"]
    assert read and set(read) <= others and set(read.values()) == {0}, shown
    named = re.fullmatch(rf"published {re.escape(row['figures']['broadcast'])} via pod {published}, but pods? "
                         r"([0-9a-f, ]+) got no frames: the broadcast was never announced there within [0-9.]+ s, so "
                         r"the relays do not pass it between pods \(check the relay cluster's peer links\)",
                         row["summary"])
    assert named and sorted(named.group(1).split(", ")) == sorted(read), shown


def test_relays_without_server_ids_skip_the_row_after_quic_lb_fails(tmp_path, planned):
    run, _, logs, _ = verify_tier(tmp_path, planned, 1, server_ids=False)
    assert run.check("relay", "quic-lb")["status"] == "fail"
    row = run.check("relay", "fan-out")
    assert (row["status"], row["summary"]) == ("skip", "not run: the quic-lb check failed"), logs


def test_with_quic_lb_skipped_a_relay_without_server_ids_fails_the_row(tmp_path, planned):
    run, _, logs, _ = verify_tier(tmp_path, planned, 1, server_ids=False, flags=("--skip", "quic-lb"))
    row = run.check("relay", "fan-out")
    assert row["status"] == "fail", (row, logs)
    assert re.fullmatch(r"the relay's connection ID [0-9a-f]+ is not a routable QUIC-LB ID: .+; sessions cannot be "
                        r"told apart by pod", row["summary"]), row


def test_one_relay_is_not_proven(tmp_path, planned):
    run, ids, logs, _ = verify_tier(tmp_path, planned, 1)
    row = run.check("relay", "fan-out")
    (only,) = ids.values()
    assert row["status"] == "skip" and run.returncode == 0, (row, logs)
    # how many of the 3 sessions connect within the check's share of --timeout depends on the machine's load
    assert re.fullmatch(rf"not proven: all [123] sessions reached pod {only}, so no second pod could read the "
                        r"probe \(one relay, or the load balancer keeps this client on one pod\)", row["summary"]), row


def test_without_a_token_the_row_says_why(tmp_path, planned):
    run, _, logs, _ = verify_tier(tmp_path, planned, 1, with_token=False)
    row = run.check("relay", "fan-out")
    assert (row["status"], row["summary"]) == ("skip", "not run: it publishes a probe broadcast, which needs --token")


def test_a_pod_the_quic_lb_row_saw_but_no_session_reached_is_named():
    """The verdict alone (pure): two pods read the probe, a third one answered quic-lb but none of these sessions."""
    from tools.verify.fanout import PROBE_FRAMES, _verdict

    sent = time.perf_counter_ns()
    frames = [(sent + 2_000_000, sent.to_bytes(8, "big") + bytes(56))] * PROBE_FRAMES
    a, b, c = bytes.fromhex("0a" * 8), bytes.fromhex("0b" * 8), "0c" * 8
    status, summary, figures = _verdict("/anon/p", a, {b: frames}, 6, 6, {a.hex(), b.hex(), c})
    assert status == "pass" and summary.endswith(f"; pod {c} (seen by quic-lb) not reached by its 6 sessions, "
                                                 "so not checked")
    assert figures["readVia"] == {b.hex(): PROBE_FRAMES}
    assert "not reached" not in _verdict("/anon/p", a, {b: frames}, 6, 6, {a.hex(), b.hex()})[1]

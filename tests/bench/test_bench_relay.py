"""``bench.relay``: its arithmetic on known inputs, and one tiny run through the real relay (a smoke test,
not a timing)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.measure import busy_percent, latency, machine_ticks, percentile
from bench.peers import frame_sizes
from bench.case import split, spread
from components.workloads.relay.versions import RELAY_VERSION
from tests.support.plan import ROOT
from tests.support.relay import BINARY


def test_percentile_interpolates_between_ranks():
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert percentile(list(map(float, range(101))), 0.99) == 99.0
    assert percentile([7.0], 0.99) == 7.0


def test_frame_sizes_average_the_bitrate():
    keyframe, delta = frame_sizes(2_000_000, 30, 30, 10.0)
    assert keyframe == pytest.approx(10 * delta, abs=10)
    assert keyframe + 29 * delta == pytest.approx(250_000, abs=30)  # one 1 s group of 2 Mbit/s


def test_latency_counts_only_the_window_and_what_each_client_missed():
    sent = {0: 1_000_000, 1: 2_000_000, 2: 3_000_000, 3: 9_000_000}
    clients = [[[0, 1_000_000, 3_000_000], [1, 2_000_000, 6_000_000], [3, 9_000_000, 9_500_000]],
               [[1, 2_000_000, 4_000_000]]]
    measured = latency(sent, (1_500_000, 3_500_000), clients)  # frames 1 and 2 were sent inside the window
    assert (measured.expected, measured.received, measured.lost) == (4, 2, 2)
    assert measured.p50_ms == 3.0


def test_machine_busy_share_between_two_readings():
    assert busy_percent((100, 1000), (150, 1100)) == 50.0
    busy, total = machine_ticks()
    assert 0 < busy < total


def test_subscribers_spread_evenly_over_processes():
    assert split(100, 4) == [25, 25, 25, 25] and split(10, 4) == [3, 3, 2, 2] and split(1, 1) == [1]


def test_tiny_run_through_the_real_relay_and_without_it(tmp_path):
    out = tmp_path / "results.json"
    run = subprocess.run([sys.executable, "-m", "bench.relay", "--subscribers", "2", "--window", "1",
                          "--warmup", "0.5", "--bitrate", "300000", "--processes", "2", "--work", str(tmp_path),
                          "--json", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout + run.stderr
    rows = {r["topology"]: r for r in json.loads(out.read_text())["rows"]}
    assert set(rows) == {"direct", "relay"}
    for row in rows.values():
        assert row["subscribers"] == 2 and row["expected"] >= 2 * 25 and row["received"] > 0.9 * row["expected"]
        assert 0 < row["p50_ms"] <= row["p99_ms"] and not row["errors"]
    assert rows["relay"]["cpu_percent"] > 0 and rows["relay"]["rss_mb"] > 1
    assert rows["direct"]["cpu_percent"] is None
    assert rows["relay"]["line"] == RELAY_VERSION and f"| 2 | relay {RELAY_VERSION} |" in run.stdout


def test_subscribers_spread_evenly_over_relays_then_processes():
    assert spread(20, 2, 2) == [(0, 10), (1, 10)]
    assert spread(300, 3, 3) == [(0, 100), (1, 100), (2, 100)]
    assert spread(300, 1, 3) == [(0, 100), (0, 100), (0, 100)]
    assert spread(7, 2, 4) == [(0, 2), (0, 2), (1, 2), (1, 1)]
    assert spread(1, 3, 3) == [(0, 1)]  # relays without subscribers get no process


def test_tiny_run_through_a_two_relay_tier(tmp_path):
    """``bench.tier``: the publisher on relay 0, 20 subscribers spread over both relays, beside one relay; every
    subscriber is in, and relay 1's subscribers get every frame through the relay-to-relay hop."""
    out = tmp_path / "tier.json"
    run = subprocess.run([sys.executable, "-m", "bench.tier", "--relays", "2", "--subscribers", "20", "--window", "2",
                          "--warmup", "0.5", "--processes", "2", "--work", str(tmp_path), "--json", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(out.read_text())
    rows = {r["relays"]: r for r in report["rows"]}
    assert set(rows) == {1, 2} and report["relayBinary"] == str(BINARY)  # the debug build unless told otherwise
    assert run.stdout.splitlines()[0].endswith(f"; relay {BINARY}")
    for relays, row in rows.items():
        assert row["connected"] == row["subscribers"] == 20 and not row["errors"]
        assert row["expected"] >= 20 * 5 and row["received"] > 0.9 * row["expected"]
        assert 0 < row["p50_ms"] <= row["p99_ms"] and len(row["relay_cpu"]) == relays
        assert all(cpu > 0 for cpu in row["relay_cpu"]) and row["clients_cpu_percent"] > 0
        assert 0 < row["machine_busy_percent"] <= 100
        assert [(s["relay"], s["subscribers"], s["connected"]) for s in row["shares"]] == \
            [(relay, 20 // relays, 20 // relays) for relay in range(relays)]
    assert rows[1]["via_peers"] is None
    hop = rows[2]["via_peers"]
    assert (hop["relay"], hop["subscribers"]) == (-1, 10)
    # Frames do cross the second relay (at this tiny load all of them; a shared machine may miss one at the edge).
    assert hop["expected"] >= 10 * 5 and hop["received"] >= 0.9 * hop["expected"]
    assert "| 2 | 20 of 20 |" in run.stdout and "| 1 | 20 of 20 |" in run.stdout

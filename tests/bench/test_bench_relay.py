"""``bench.relay``: its arithmetic on known inputs, and one tiny run through the real relay (a smoke test,
not a timing)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.measure import latency, percentile
from bench.peers import frame_sizes
from bench.relay import split
from tests.support.plan import ROOT


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
    assert "| 2 | relay |" in run.stdout

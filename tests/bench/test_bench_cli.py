"""The benchmarks' command lines: a missing relay build and bad numbers are one line (exit 2) before any work."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.support.plan import ROOT
from tests.support.processes import outside_make


def bench(module: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**outside_make(("QUICSTACK_MOQ_RELAY",)), **(env or {})})


@pytest.mark.parametrize("module", ["bench.relay", "bench.tier"])
def test_no_relay_build_says_how_to_build_it(module, tmp_path):
    missing = tmp_path / "tools" / "moq-relay"
    started = time.monotonic()
    run = bench(module, "--work", str(tmp_path / "work"), env={"QUICSTACK_MOQ_RELAY": str(missing)})
    assert time.monotonic() - started < 20  # before any plan or relay start
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.splitlines() == [f"error: no moq-relay at {missing}: `make deps` builds it (debug), "
                                       "`make relay-release` the release build (then pass --relay-binary)"]
    assert not (tmp_path / "work").exists()


@pytest.mark.parametrize("module, args, message", [
    ("bench.relay", ("--subscribers", "ten"),
     "argument --subscribers: 'ten' is not comma-separated integers from 1 to 1000"),
    ("bench.relay", ("--subscribers", "1,0"),
     "argument --subscribers: '1,0' is not comma-separated integers from 1 to 1000"),
    ("bench.relay", ("--fps", "0"), "argument --fps: '0' is not an integer from 1 to 120"),
    ("bench.relay", ("--window", "soon"), "argument --window: 'soon' is not a number from 1 to 3600"),
    ("bench.tier", ("--relays", "1"), "argument --relays: '1' is not comma-separated integers from 2 to 10"),
    ("bench.tier", ("--processes", "many"), "argument --processes: 'many' is not an integer from 1 to 64"),
])
def test_bad_numbers_get_argparses_message(module, args, message):
    run = bench(module, *args)
    assert run.returncode == 2 and run.stdout == "" and "Traceback" not in run.stderr
    assert run.stderr.splitlines()[-1] == f"{module.replace('bench.', 'python -m bench.')}: error: {message}"

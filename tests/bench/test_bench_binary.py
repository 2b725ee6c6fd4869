"""Which moq-relay a benchmark runs: ``--relay-binary`` reaches the helpers that start the relays, a wrong path is
one line, and ``make bench-tier RELAY_BUILD=release`` builds and passes the optimised relay, and the old line's
beside it, without putting either build into ``make deps`` (no build and no benchmark run here)."""

from __future__ import annotations

import shutil
import subprocess
import sys

from bench.old_line import VERSION as OLD_VERSION
from components.workloads.relay.versions import RELAY_VERSION
from tests.support.plan import ROOT, TOOLS
from tests.support.processes import outside_make

RELEASE = f"{TOOLS}/moq-relay-{RELAY_VERSION}-release/bin/moq-relay"
OLD_RELEASE = f"{TOOLS}/moq-relay-{OLD_VERSION}-release/bin/moq-relay"


def test_the_chosen_binary_is_what_the_relay_helpers_start(tmp_path):
    binary = tmp_path / "bin" / "moq-relay"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    probe = ("import sys; from bench.relay import use_relay; chosen = use_relay(sys.argv[1]); "
             "from tests.support import relay, relay_cluster; print(chosen, relay.BINARY, relay_cluster.BINARY)")
    run = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "bin" / ".." / "bin" / "moq-relay")], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, env=outside_make(("QUICSTACK_MOQ_RELAY",)))
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [str(binary)] * 3


def test_a_missing_binary_is_one_line_before_anything_runs(tmp_path):
    missing = tmp_path / "moq-relay"
    run = subprocess.run([sys.executable, "-m", "bench.tier", "--relay-binary", str(missing), "--work", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.splitlines() == [f"error: --relay-binary {missing}: not an executable file "
                                       "(`make relay-release` builds the release relay)"]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_missing_old_line_binary_is_one_line_before_anything_runs(tmp_path):
    binary, missing = tmp_path / "moq-relay", tmp_path / "old" / "moq-relay"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    run = subprocess.run([sys.executable, "-m", "bench.relay", "--relay-binary", str(binary), "--old-relay-binary",
                          str(missing), "--work", str(tmp_path / "work")],
                         cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env=outside_make(("QUICSTACK_MOQ_RELAY",)))
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.splitlines() == [f"error: --old-relay-binary {missing}: not an executable file "
                                       "(`make relay-release-old` builds it)"]
    assert not (tmp_path / "work").exists()


def _dry_run(*goals: str) -> subprocess.CompletedProcess:
    """What ``make`` would run for ``goals`` if nothing were built yet (``-B``), running nothing (``-n``)."""
    return subprocess.run([shutil.which("make"), "-n", "-B", *goals], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env=outside_make(("RELAY_BUILD", "SUBSCRIBERS")))


def test_make_bench_tier_release_builds_and_runs_the_optimised_relay_beside_the_old_line():
    run = _dry_run("bench-tier", "RELAY_BUILD=release")
    assert run.returncode == 0, run.stderr
    new, old = [line for line in run.stdout.replace("\\\n\t", " ").splitlines() if "cargo install" in line]
    assert f"cargo install --path {TOOLS}/src/moq-relay-{RELAY_VERSION} --locked " in new
    assert f"cargo install --path {TOOLS}/src/moq-relay-{OLD_VERSION} --locked " in old
    assert "--debug" not in new + old
    assert new.endswith(f"--features noq,websocket --root {TOOLS}/moq-relay-{RELAY_VERSION}-release")
    assert old.endswith(f"--features quinn,websocket --root {TOOLS}/moq-relay-{OLD_VERSION}-release")
    assert run.stdout.replace("\\\n\t", " ").rstrip().endswith(
        f"-m bench.tier --subscribers 300 --relay-binary {RELEASE} --old-relay-binary {OLD_RELEASE}")


def test_the_release_build_is_not_part_of_deps_or_the_default_benchmark():
    deps = _dry_run("deps")
    assert deps.returncode == 0, deps.stderr
    assert f"cargo install --path {TOOLS}/src/moq-relay-{RELAY_VERSION} " in deps.stdout
    assert f"moq-relay-{RELAY_VERSION}-release" not in deps.stdout and f"moq-relay-{OLD_VERSION}" not in deps.stdout
    bench = _dry_run("bench-tier", "SUBSCRIBERS=30")
    assert f"moq-relay-{RELAY_VERSION}-release" not in bench.stdout and "--old-relay-binary" not in bench.stdout
    assert bench.stdout.rstrip().endswith(f"--relay-binary {TOOLS}/moq-relay-{RELAY_VERSION}/bin/moq-relay")
    wrong = _dry_run("bench", "RELAY_BUILD=fast")
    assert wrong.returncode == 2 and "RELAY_BUILD=fast: use debug (the tests' build, the default) or release" \
        in wrong.stderr

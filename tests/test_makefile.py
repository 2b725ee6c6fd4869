"""``make up``/``preview``/``destroy``/``verify`` on a fresh machine: without the Pulumi CLI they install the pinned
official release first (checksum-verified), before the venv or any state is created; a release that does not match
its checksums is refused in one line and nothing is created. GitHub is out of reach here: a loopback server stands in
for the release downloads (tests/tools/bootstrap_fakes.py); .github/workflows/e2e-kind.yml runs the real path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.support.plan import ROOT
from tests.support.processes import outside_make
from tests.tools.bootstrap_fakes import logging_tool, pinned, publish, serving, tarball

FAKE_CLI = {"pulumi/pulumi": 'echo "pulumi $*" >> "$CALLS"\n'}


@pytest.fixture
def clone(tmp_path):
    """The Makefile and the bootstrap tool in a folder of their own, and a PATH without pulumi or kubectl."""
    work = tmp_path / "clone"
    parts = ("Makefile", "requirements.txt", "tools/__init__.py", "tools/bootstrap", "tools/engine/pulumi-cli/go.mod",
             *(f"stacks/{p.name}" for p in ROOT.glob("stacks/Pulumi.*.yaml")))
    for part in parts:
        (work / part).parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if (ROOT / part).is_dir() else shutil.copy)(ROOT / part, work / part)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    for tool in ("sh", "make", "mkdir", "touch", "cat", "env", "ps"):
        if found := shutil.which(tool):
            (bin_dir / tool).symlink_to(found)
    (tmp_path / "home").mkdir()
    return {"work": work, "bin": bin_dir, "tools": tmp_path / "tools", "www": tmp_path / "www",
            "calls": tmp_path / "calls.log", "home": tmp_path / "home"}


def make(c: dict, *args: str, url: str = "http://127.0.0.1:9") -> subprocess.CompletedProcess:
    env = {**outside_make(("PULUMI_CONFIG_PASSPHRASE", "QUICSTACK_TOOLS")), "PATH": str(c["bin"]),
           "HOME": str(c["home"]), "QUICSTACK_RELEASES_URL": url, "CALLS": str(c["calls"])}
    return subprocess.run(["make", "--no-print-directory", *args, f"TOOLS={c['tools']}"], cwd=c["work"], env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("target", ["up", "preview", "destroy", "verify"])
def test_a_release_that_fails_its_checksum_is_refused_before_anything_is_created(clone, target):
    publish(clone["www"], pinned("pulumi"), tarball(FAKE_CLI), listed=b"something else")
    with serving(clone["www"]) as server:
        proc = make(clone, target, url=server.url)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if not line.startswith("make:")]
    assert errors[-1].startswith("pulumi: pulumi-v") and "does not match the release's checksum" in errors[-1]
    created = sorted(p.name for p in clone["work"].iterdir())
    assert created == ["Makefile", "requirements.txt", "stacks", "tools"], "no venv, no state"
    assert not any(p.name.startswith("pulumi-release") for p in clone["tools"].iterdir())


def test_the_set_up_steps_install_the_cli_then_find_the_kube_context(clone):
    publish(clone["www"], pinned("pulumi"), tarball(FAKE_CLI))
    logging_tool(clone["bin"], "kubectl", clone["calls"], "echo dev-cluster\n")
    with serving(clone["www"]) as server:
        proc = make(clone, "pulumi-cli", "kind-up", url=server.url)
    assert proc.returncode == 0, proc.stderr
    said = proc.stderr.splitlines()
    assert said[0].startswith("pulumi: the Pulumi CLI is not installed; installing the pinned v")
    assert said[-1] == "cluster: deploying onto the current kube context dev-cluster"
    exe = pinned("pulumi").executable(clone["tools"])
    assert exe.is_file()
    # Later pulumi commands run that CLI: its folder comes first on PATH.
    where = subprocess.run(["sh", "-c", make(clone, "-n", "destroy").stdout.splitlines()[-1].replace(
        " pulumi destroy --stack local", ' sh -c "command -v pulumi"')], capture_output=True, text=True,
        env={"PATH": str(clone["bin"]), "HOME": str(clone["home"])}, cwd=clone["work"])
    assert where.stdout.strip() == str(exe)


def test_up_runs_the_set_up_before_the_venv_and_the_cluster_step_only_decides_for_local(clone):
    steps = make(clone, "-n", "up").stdout.splitlines()
    order = [i for i, line in enumerate(steps)
             if "tools.bootstrap" in line and (line.endswith(" pulumi") or "cluster" in line)]
    venv = next(i for i, line in enumerate(steps) if "-m venv" in line)
    assert len(order) == 2 and order[-1] < venv
    assert any(line.endswith("cluster --stack local") for line in steps)


def test_down_removes_nothing_it_did_not_create(clone):
    logging_tool(clone["bin"], "docker", clone["calls"])
    proc = make(clone, "down")
    assert proc.returncode == 0
    assert proc.stderr.strip() == "down: `make up` created no cluster on this machine; nothing to remove"
    assert not clone["calls"].exists()


def test_other_targets_do_not_need_the_cli(tmp_path):
    proc = subprocess.run([shutil.which("make"), "-n", "plan"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PATH": os.path.dirname(shutil.which("make")) + ":/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert "-m tools.plan local" in proc.stdout
    assert "tools.bootstrap" not in proc.stdout

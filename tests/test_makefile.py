"""``make`` targets that need the Pulumi CLI (``up``/``preview``/``destroy``, and ``verify``/``token``/``publish``/
``outputs``, which read the stack's outputs through it) say so without it: one line saying what is missing and how
to install it, before anything (the venv, the state directory) is created."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.support.plan import ROOT
from tests.support.processes import outside_make


@pytest.mark.parametrize("target", ["up", "preview", "destroy", "verify", "token", "publish", "outputs"])
def test_pulumi_targets_without_the_cli_say_so_and_create_nothing(target, tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    make = shutil.which("make")
    assert make, "make is needed to run the Makefile"
    # A PATH with the shell's tools but no pulumi.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "python3", "mkdir", "touch"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    proc = subprocess.run([make, target, "STACK=local"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**outside_make(), "PATH": str(bin_dir)})
    assert proc.returncode == 2
    assert proc.stdout == ""
    line = proc.stderr.split(":")[1]  # where the Makefile's $(error) stands
    assert proc.stderr == (
        f"Makefile:{line}: *** the Pulumi CLI is not installed (needed by make {target}): install it with "
        "`curl -fsSL https://get.pulumi.com | sh` (https://www.pulumi.com/docs/iac/download-install/), "
        "then open a new shell.  Stop.\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Makefile", "bin"]


def test_other_targets_do_not_need_the_cli(tmp_path):
    proc = subprocess.run([shutil.which("make"), "-n", "plan"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PATH": os.path.dirname(shutil.which("make")) + ":/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert "-m tools.plan local" in proc.stdout

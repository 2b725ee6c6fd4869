"""`make` alone lists the targets; a target taking STACK refuses an unknown stack by listing the stacks; a target
that needs npm or cargo says so before it installs anything. Run on a copy of the Makefile and the stack files in
a temporary folder, without `-n`: a check that did not stop make would show as files created there."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.plan import ROOT
from tests.support.processes import outside_make

USER_TARGETS = ("plan", "check", "init", "up", "verify", "token", "publish", "outputs", "preview", "destroy", "venv",
                "test")


@pytest.fixture
def project(tmp_path) -> Path:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "stacks").mkdir()
    for example in (ROOT / "stacks").glob("Pulumi.*.yaml"):
        shutil.copy(example, tmp_path / "stacks")
    return tmp_path


def bin_with(tmp_path: Path, *stubs: str) -> str:
    """A PATH with the shell's tools, python3, and stand-ins for ``stubs`` that leave a mark when run."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("sh", "python3", "mkdir", "touch", "awk", "grep", "cat"):
        found = shutil.which(tool)
        if found and not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(found)
    for stub in stubs:
        (bin_dir / stub).write_text(f"#!/bin/sh\ntouch {tmp_path}/{stub}-ran\nexit 97\n")
        (bin_dir / stub).chmod(0o755)
    return str(bin_dir)


def make(project: Path, *args: str, path: str) -> subprocess.CompletedProcess:
    return subprocess.run([shutil.which("make"), "--no-print-directory", *args], cwd=project, capture_output=True,
                          text=True, timeout=60, env={**outside_make(), "PATH": path})


def contents(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_make_alone_lists_each_target_in_one_line(project):
    proc = make(project, path=bin_with(project))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert all(re.fullmatch(r"  make [a-z-]+ +\S.*", line) for line in lines), lines
    listed = [line.split()[1] for line in lines]
    assert len(listed) == len(set(listed)) and set(USER_TARGETS) <= set(listed)
    assert listed[:2] == ["help", "plan"]


@pytest.mark.parametrize("target", ["plan", "check", "up", "preview", "destroy", "verify", "token", "publish",
                                    "outputs"])
def test_an_unknown_stack_lists_the_stacks_and_does_nothing(project, target):
    path = bin_with(project, "pulumi")
    before = contents(project)
    proc = make(project, target, "STACK=lcoal", path=path)
    assert (proc.returncode, proc.stdout) == (2, "")
    line = proc.stderr.split(": *** ", 1)[1]
    assert line == ("no stack 'lcoal' (no stacks/Pulumi.lcoal.yaml); the stacks are: eks, gke, k3s, local; start a new "
                    "one with `make init STACK=lcoal CLOUD=existing|k3s|gke|eks`.  Stop.\n")
    assert contents(project) == before


def test_init_needs_a_cloud_before_anything(project):
    proc = make(project, "init", "STACK=prod", path=bin_with(project))
    assert proc.returncode == 2 and "make init needs CLOUD=existing|k3s|gke|eks" in proc.stderr
    assert not (project / "venv").exists()


@pytest.mark.parametrize("target", ["player", "plan", "deps", "test", "bench"])
def test_without_npm_targets_that_build_the_player_say_so_first(project, target):
    proc = make(project, target, path=bin_with(project, "cargo"))
    assert (proc.returncode, proc.stdout) == (2, "")
    assert f"*** make {target} needs npm (Node.js 20 or later)" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and not (project / "venv").exists()


@pytest.mark.parametrize("target", ["deps", "test", "relay-release", "relay-release-old", "bench-tier"])
def test_without_cargo_targets_that_build_the_relay_say_so_first(project, target):
    proc = make(project, target, f"TOOLS={project / 'tools'}", path=bin_with(project, "npm"))
    assert (proc.returncode, proc.stdout) == (2, "")
    assert f"*** make {target} needs cargo (Rust) to build moq-relay" in proc.stderr
    assert not (project / "venv").exists() and not (project / "npm-ran").exists()


def test_long_installs_are_not_silent():
    """No multi-minute pip, npm or cargo step runs quietly; each says what it is doing first."""
    text = (ROOT / "Makefile").read_text()
    installs = [line for line in text.splitlines() if re.search(r"pip install|npm ci|cargo install", line)]
    assert installs and not [line for line in installs if re.search(r" -q\b|--quiet|--loglevel=(error|silent)", line)]
    recipe: list[str] = []
    for line in text.splitlines() + [""]:
        if line.startswith("\t"):
            recipe.append(line)
            continue
        for i, step in enumerate(recipe):
            if not step.startswith("\t@echo") and re.search(r"pip install|npm ci|cargo install", step):
                assert any(r.startswith('\t@echo "make: ') for r in recipe[:i]), step
        recipe = []


@pytest.mark.parametrize("long_lived, flag", [("1", True), ("", False)])
def test_make_token_passes_long_lived_only_when_asked(long_lived, flag):
    """``tools.token`` refuses a lifetime over 7 days without ``--long-lived``; make must be able to pass it."""
    run = subprocess.run([shutil.which("make"), "-n", "token", "STACK=local", "TTL=30d", f"LONG_LIVED={long_lived}"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, env=outside_make())
    (line,) = [x for x in run.stdout.replace("\\\n\t", " ").splitlines() if "-m tools.token" in x]
    assert "--ttl 30d" in line and line.rstrip().endswith("--long-lived") == flag

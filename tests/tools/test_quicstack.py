"""The ``quicstack`` command (pyproject's console script): every subcommand reaches its tool; a command run from
outside the project's environment says in one line how to get in, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.support.plan import ROOT
from tools import cli, config_reference, outputs_reference

VENV_COMMAND = Path(sys.executable).parent / "quicstack"


def quicstack(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, **kw)


def test_the_console_script_is_the_cli():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"quicstack": "tools.cli:main"}
    if not VENV_COMMAND.exists():
        pytest.fail(f"{VENV_COMMAND} is missing: `make venv` installs the project (pip install -e .)")
    run = subprocess.run([str(VENV_COMMAND), "--help"], capture_output=True, text=True, timeout=60, cwd="/")
    assert run.returncode == 0 and run.stdout.startswith("usage: quicstack COMMAND")


def test_help_lists_every_command_in_one_line_each():
    run = quicstack("--help")
    assert run.returncode == 0
    for name in ("init", "plan", "diff", "config", "outputs", "verify", "token", "publish"):
        assert len([line for line in run.stdout.splitlines() if line.startswith(f"  {name} ")]) == 1, name


def test_no_command_prints_the_usage_and_exits_2():
    run = quicstack()
    assert run.returncode == 2 and run.stderr.startswith("usage: quicstack COMMAND")


def test_an_unknown_command_is_one_line_with_a_guess():
    run = quicstack("paln", "eks")
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == ("quicstack: 'paln' is not a command; did you mean plan? commands: init, plan, diff, config, "
                          "outputs, verify, token, publish\n")


@pytest.mark.parametrize("args", [("plan", "lcoal"), ("config", "check", "lcoal"), ("verify", "--stack", "lcoal"),
                                  ("token", "--stack", "lcoal", "--publish", "anon"), ("publish", "--stack", "lcoal"),
                                  ("outputs", "lcoal")])
def test_every_command_taking_a_stack_lists_the_stacks_for_a_typo(args, tmp_path):
    # a `pulumi` that would leave a mark: none of them may get that far
    (tmp_path / "pulumi").write_text(f"#!/bin/sh\ntouch {tmp_path}/ran\n")
    (tmp_path / "pulumi").chmod(0o755)
    run = quicstack(*args, env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"})
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.startswith("error: no stack 'lcoal' (no stacks/Pulumi.lcoal.yaml); the stacks are: eks, gke, "
                                 "k3s, local; start a new one with `quicstack init lcoal --cloud CLOUD`"), run.stderr
    assert len(run.stderr.splitlines()) == 1 and not (tmp_path / "ran").exists()


def test_the_references_come_from_their_generators():
    assert quicstack("config", "reference").stdout == config_reference.render() + "\n"
    assert quicstack("outputs", "reference").stdout == outputs_reference.render() + "\n"


def test_plan_and_diff_reach_their_tools(tmp_path):
    assert quicstack("plan", "local", "--out", str(tmp_path)).returncode == 0
    run = quicstack("diff", str(tmp_path / "local"), str(tmp_path / "local"))
    assert (run.returncode, run.stdout) == (0, "identical\n")


@pytest.mark.parametrize("command", ["plan", "verify", "token", "publish", "init", "config", "outputs"])
def test_each_subcommand_has_its_own_help(command):
    run = quicstack(command, "--help")
    assert run.returncode == 0 and "usage:" in run.stdout and "--help" in run.stdout


def test_commands_are_imported_only_when_run():
    """`quicstack --help` loads no tool: plan never pays for the QUIC client, help stays quick."""
    code = "import sys; from tools import cli; cli.main(['--help']); print(sorted(m for m in sys.modules if m in " \
           "('aioquic', 'moq', 'pulumi', 'tools.verify', 'tools.plan')))"
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.stdout.strip().splitlines()[-1] == "[]"
    assert set(cli.COMMANDS) == {"init", "plan", "diff", "config", "outputs", "verify", "token", "publish"}


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> Path:
    """A Python without the project's packages (a venv of the system Python, no site packages)."""
    where = tmp_path_factory.mktemp("bare")
    base = getattr(sys, "_base_executable", None) or sys.executable
    subprocess.run([base, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120)
    python = where / "bin" / "python"
    probe = subprocess.run([str(python), "-c", "import pulumi"], capture_output=True, timeout=60)
    assert probe.returncode != 0, "the bare Python can import pulumi"
    return python


@pytest.mark.parametrize("module", [["tools.plan", "eks"], ["tools.verify", "--help"], ["tools.token"],
                                    ["tools.publish", "--stack", "local"], ["tools.plan_diff", "a", "b"],
                                    ["tools.cli", "plan", "eks"], ["tools.config_reference"], ["bench.relay"]])
def test_outside_the_environment_one_line_says_how_to_get_in(bare_python, module):
    run = subprocess.run([str(bare_python), "-m", *module], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (run.returncode, run.stdout) == (2, "")
    assert len(run.stderr.splitlines()) == 1 and "Traceback" not in run.stderr
    assert run.stderr.startswith(f"quicstack: this Python ({bare_python}) lacks pulumi, pydantic, yaml")
    assert "`make venv`" in run.stderr and "venv/bin/quicstack" in run.stderr


def test_the_stdlib_set_up_tool_still_runs_outside(bare_python):
    """`make up` runs tools.bootstrap with the system Python before the venv exists: the check lets it through."""
    run = subprocess.run([str(bare_python), "-m", "tools.bootstrap", "--help"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.startswith("usage: "), run.stderr

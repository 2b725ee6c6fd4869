"""Every command the README's quick starts show either runs here (the offline ones) or is marked as needing a
cluster or a cloud, and one of those fails here in one line that says what to do."""

import re
import subprocess

import pytest

from tests.support.plan import ROOT
from tests.support.processes import outside_make

README = (ROOT / "README.md").read_text()

# What each command needs, by how it starts. A new quick-start command must be added here (and run, if offline).
OFFLINE = re.compile(r"make plan(?: STACK=(?P<stack>[\w-]+))?")
SHELL = ("export ", "read -rs ", "mkdir -p ", "$EDITOR ")  # sets up the shell or opens an editor: nothing to run
SUITE = ("make test",)  # the whole suite: the integrator's run, not a test's
NEEDS_CLUSTER = ("kubectl ", "make up", "make verify")
NEEDS_CLOUD = ("gcloud ", "aws ", "KUBECONFIG=~/.config/quicstack/", "(umask 077; pulumi stack output ",
               'eval "$(pulumi stack output ', "make up STACK=", "make verify STACK=")


def commands(text: str) -> list[str]:
    """Every command line of the ```sh blocks, its trailing comment removed."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.splitlines():
            command = re.split(r"\s+#\s", line.strip())[0].strip()
            if command and not command.startswith("#"):
                found.append(command)
    return found


def needs(command: str) -> str:
    if OFFLINE.fullmatch(command):
        return "offline"
    for kind, prefixes in (("cloud", NEEDS_CLOUD), ("cluster", NEEDS_CLUSTER), ("shell", SHELL), ("suite", SUITE)):
        if command.startswith(prefixes):
            return kind
    return "unknown"


def test_every_quick_start_command_is_classified():
    unknown = [c for c in commands(README) if needs(c) == "unknown"]
    assert commands(README) and not unknown, f"classify these in {__name__}: {unknown}"


def test_the_readme_runs_the_offline_plan_of_every_cloud_stack():
    planned = {OFFLINE.fullmatch(c)["stack"] or "local" for c in commands(README) if needs(c) == "offline"}
    assert planned == {"local", "k3s", "gke", "eks"}


def test_every_quick_start_says_what_it_needs():
    sections = re.split(r"\n### ", README)
    quick = [s for s in sections if s.startswith("Quick start")]
    assert len(quick) == 4
    for section in quick:
        intro = section.split("```", 1)[0]
        assert re.search(r"\nNeeds (a|an) ", intro), section.splitlines()[0]


@pytest.mark.parametrize("command", sorted({c for c in commands(README) if needs(c) == "offline"}))
def test_offline_commands_run(command, tmp_path):
    stack = OFFLINE.fullmatch(command)["stack"] or "local"
    run = subprocess.run([*command.split(), f"PLAN_OUT={tmp_path}"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert (tmp_path / stack / "outputs.json").is_file() and list((tmp_path / stack / "manifests").iterdir())


@pytest.mark.parametrize("stack", ["k3s", "gke", "eks"])
def test_a_cloud_command_without_its_secrets_fails_in_one_line(stack):
    """`make verify STACK=<cloud>` as the quick start shows it, here without the passphrase the step before sets."""
    assert f"make verify STACK={stack}" in commands(README)
    env = outside_make(("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"))
    run = subprocess.run(["make", "verify", f"STACK={stack}"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    said = [line for line in run.stderr.splitlines() if line.strip() and not line.startswith("make: ***")]
    assert run.returncode != 0 and len(said) == 1 and "Traceback" not in run.stderr, run.stderr
    assert "PULUMI_CONFIG_PASSPHRASE" in said[0] or "pulumi" in said[0].lower(), said

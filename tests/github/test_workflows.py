"""The workflows parse, and their stack lists follow stacks/."""

import json
import re

import yaml

from tests.conftest import STACKS
from tests.support.plan import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"


def load(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the bare key `on` as true
    return doc


def test_every_workflow_parses_and_has_jobs():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"preview.yml", "deploy.yml", "destroy.yml", "test.yml"}
    for f in files:
        doc = load(f.name)
        assert doc["jobs"] and doc["on"], f.name


def test_preview_matrix_is_every_stack_and_comments_on_the_pr():
    doc = load("preview.yml")
    job = doc["jobs"]["preview"]
    assert sorted(job["strategy"]["matrix"]["stack"]) == STACKS
    pulumi = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@"))
    assert re.fullmatch(r"pulumi/actions@[0-9a-f]{40}", pulumi["uses"])
    assert pulumi["with"]["command"] == "preview" and "comment-on-pr" not in pulumi["with"], "one comment, ours"
    assert "pull_request" in doc["on"]
    assert job["permissions"]["id-token"] == "write"


def test_the_preview_comment_says_it_shows_a_full_create_and_why():
    job = load("preview.yml")["jobs"]["preview"]
    preview = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@"))
    comment = next(s for s in job["steps"] if "gh api" in s.get("run", ""))
    assert comment["env"]["OUTPUT"] == f"${{{{ steps.{preview['id']}.outputs.output }}}}"
    body = comment["run"]
    heading = next(line for line in body.splitlines() if "####" in line)
    assert "a full create, not a diff against the deployed stack" in heading
    assert "throw-away state" in body and "must not hold the" in body and "state passphrase" in body
    # One comment per stack, edited on the next push (found by its marker), not a new one each time.
    assert '<!-- quicstack-preview:$STACK -->' in body and "--method PATCH" in body


def test_deploy_runs_up_on_main_only_after_the_tests_passed_on_that_commit():
    doc = load("deploy.yml")
    assert doc["on"] == {"push": {"branches": ["main"]}}, "no other trigger may skip the tests"
    assert doc["jobs"]["test"]["uses"] == "./.github/workflows/test.yml"
    assert "workflow_call" in load("test.yml")["on"]
    assert "push" not in load("test.yml")["on"], "on main the tests run once, inside deploy"
    job = doc["jobs"]["up"]
    assert job["needs"] == "test"
    assert job["environment"] == "${{ matrix.stack }}"
    assert sorted(job["strategy"]["matrix"]["stack"]) == [s for s in STACKS if s != "local"]
    assert any(s.get("with", {}).get("command") == "up" for s in job["steps"])


def npm_ci_commands() -> list[str]:
    texts = [(ROOT / "Makefile").read_text(), *(p.read_text() for p in WORKFLOWS.glob("*.yml")),
             *(p.read_text() for p in (ROOT / ".github" / "actions").glob("*/action.yml"))]
    return [line.strip() for text in texts for line in text.splitlines()
            if re.match(r"\s*(- )?(run: )?npm (ci|install)\b", line)]


def test_npm_installs_run_no_install_scripts():
    commands = npm_ci_commands()
    assert len(commands) >= 2
    assert [c for c in commands if "--ignore-scripts" not in c] == []


def test_only_known_packages_have_install_scripts_and_the_build_does_without_them():
    """A new dependency with an install script must be checked to build without it (then listed here)."""
    lockfiles = [ROOT / "components" / "workloads" / "watch" / "player" / "package-lock.json",
                 ROOT / "tests" / "validators" / "package-lock.json"]
    scripted = {name for lock in lockfiles
                for name, entry in json.loads(lock.read_text())["packages"].items() if entry.get("hasInstallScript")}
    # esbuild's postinstall only replaces its JS launcher with the binary of @esbuild/<platform>, which npm
    # installs as an optional dependency anyway: the player bundle is byte-identical without it (Makefile).
    assert scripted == {"node_modules/esbuild"}


def test_destroy_is_manual_with_a_stack_input():
    doc = load("destroy.yml")
    choice = doc["on"]["workflow_dispatch"]["inputs"]["stack"]
    assert sorted(choice["options"]) == [s for s in STACKS if s != "local"]
    assert any(s.get("with", {}).get("command") == "destroy" for s in doc["jobs"]["destroy"]["steps"])


def test_oidc_credentials_per_cloud():
    action = yaml.safe_load((ROOT / ".github" / "actions" / "setup" / "action.yml").read_text())
    uses = {s.get("uses", "").split("@")[0] for s in action["runs"]["steps"]}
    assert {"aws-actions/configure-aws-credentials", "google-github-actions/auth"} <= uses


def test_test_job_runs_the_readme_test_command():
    steps = load("test.yml")["jobs"]["test"]["steps"]
    assert {"run": "make test"} in steps
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()


def go_directive(path) -> tuple[int, ...]:
    return tuple(map(int, re.search(r"^go ([0-9.]+)$", path.read_text(), re.M)[1].split(".")))


def test_the_test_job_sets_up_go_from_the_wrapper_module_with_the_newest_go_directive():
    steps = load("test.yml")["jobs"]["test"]["steps"]
    go = next(s for s in steps if str(s.get("uses", "")).startswith("actions/setup-go@"))
    assert re.fullmatch(r"actions/setup-go@[0-9a-f]{40}", go["uses"])
    wanted = go["with"]["go-version-file"]
    directives = {str(p.relative_to(ROOT)): go_directive(p) for p in (ROOT / "tools" / "engine").glob("*/go.mod")}
    assert directives[wanted] == max(directives.values()), directives


def test_every_pulumi_action_runs_the_cli_version_the_tests_drive():
    pinned = re.search(r"^require github.com/pulumi/pulumi/pkg/v3 v([0-9.]+)$",
                       (ROOT / "tools" / "engine" / "pulumi-cli" / "go.mod").read_text(), re.M)[1]
    seen = []
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for job in load(path.name)["jobs"].values():
            for step in job.get("steps", []):
                if str(step.get("uses", "")).startswith("pulumi/actions@"):
                    seen.append((path.name, str(step["with"]["pulumi-version"])))
    assert {name for name, _ in seen} >= {"deploy.yml", "destroy.yml", "preview.yml"}
    assert all(version == pinned for _, version in seen), (pinned, seen)


E2E = "e2e-kind.yml"


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z0-9-]*):", (ROOT / "Makefile").read_text(), re.M))


def test_e2e_kind_runs_on_main_nightly_and_by_hand_never_on_pull_requests():
    doc = load(E2E)
    assert set(doc["on"]) == {"push", "schedule", "workflow_dispatch"}
    assert doc["on"]["push"] == {"branches": ["main"]} and doc["on"]["schedule"][0]["cron"]
    job = doc["jobs"]["e2e"]
    assert job["permissions"] == {"contents": "read"} and "environment" not in job
    assert "cannot run on the project's development machines" in (WORKFLOWS / E2E).read_text().lower()


def test_e2e_kind_steps_are_make_targets_in_order():
    steps = load(E2E)["jobs"]["e2e"]["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    assert all(re.fullmatch(r"make [a-z0-9-]+( [A-Z_]+=[\w-]+)*", r) for r in runs), runs
    targets = [r.split()[1] for r in runs]
    assert set(targets) <= make_targets()
    expected = ["pulumi-cli", "kind-up", "e2e-snapshot", "up", "e2e-certificates", "e2e-loopback", "verify",
                "destroy", "e2e-leftovers", "down"]
    assert targets == expected
    assert "VERIFY_ARGS=--probe" in runs[targets.index("verify")], "the MoQ row publishes its own broadcast"
    always = {s["run"].split()[1] for s in steps if str(s.get("if", "")).startswith("always()")}
    assert always == {"destroy", "down"}, "the cluster is cleaned up whatever failed"
    env = load(E2E)["jobs"]["e2e"]["env"]
    assert env["QUICSTACK_PINNED_PULUMI"] == "1" and env["PULUMI_SKIP_CONFIRMATIONS"] == "true"

"""The workflows parse, and their stack lists follow stacks/."""

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
    assert pulumi["with"]["command"] == "preview" and pulumi["with"]["comment-on-pr"] is True
    assert "pull_request" in doc["on"]
    assert job["permissions"]["id-token"] == "write"


def test_deploy_runs_up_on_main_behind_an_environment_for_every_cloud_stack():
    doc = load("deploy.yml")
    job = doc["jobs"]["up"]
    assert doc["on"]["push"]["branches"] == ["main"]
    assert job["environment"]
    assert sorted(job["strategy"]["matrix"]["stack"]) == [s for s in STACKS if s != "local"]
    assert any(s.get("with", {}).get("command") == "up" for s in job["steps"])


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

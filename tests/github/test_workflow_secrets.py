"""No pull-request job can reach what deploys or decrypts; deploy secrets live in `production` only."""

import re

import pytest
import yaml

from tests.github.test_workflows import WORKFLOWS, load
from tests.support.plan import ROOT

# What deploys, destroys or decrypts a stack: repository or environment secrets and variables.
DEPLOY_VARIABLES = {"AWS_DEPLOY_ROLE_ARN", "GCP_DEPLOY_SERVICE_ACCOUNT", "PULUMI_BACKEND_URL"}
PR_TRIGGERS = {"pull_request", "pull_request_target"}
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
CONTEXT_REF = re.compile(r"\b(secrets|vars)\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_-]*)|\[)")


def references(node) -> set[tuple[str, str]]:
    """(context, name) of every secrets.X / vars.X inside any ${{ }} in ``node``; name '*' for a[...]."""
    if isinstance(node, dict):
        return set().union(*(references(k) | references(v) for k, v in node.items())) if node else set()
    if isinstance(node, list):
        return set().union(*map(references, node)) if node else set()
    found = set()
    for expression in EXPRESSION.findall(str(node)):
        found |= {(ctx, name or "*") for ctx, name in CONTEXT_REF.findall(expression)}
    return found


def forbidden(refs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    return {(ctx, name) for ctx, name in refs
            if (ctx == "secrets" and name != "GITHUB_TOKEN") or (ctx == "vars" and name in DEPLOY_VARIABLES | {"*"})}


def local_actions(job: dict) -> list[dict]:
    """The composite actions of this repository that a job runs (their text can read secrets too)."""
    paths = [s["uses"] for s in job.get("steps", []) if str(s.get("uses", "")).startswith("./")]
    return [yaml.safe_load((ROOT / p / "action.yml").read_text()) for p in paths]


def pr_jobs():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        doc = load(path.name)
        triggers = set(doc["on"]) if isinstance(doc["on"], (dict, list)) else {doc["on"]}
        if triggers & PR_TRIGGERS:
            for name, job in doc["jobs"].items():
                yield path.name, name, doc, job


def test_some_workflow_runs_on_pull_requests():
    assert {f for f, *_ in pr_jobs()} >= {"preview.yml", "test.yml"}


@pytest.mark.parametrize(("workflow", "job_name", "doc", "job"), list(pr_jobs()), ids=lambda v: v if isinstance(v, str) else "")
def test_pull_request_jobs_reach_no_deploy_secret_or_variable(workflow, job_name, doc, job):
    reachable = references(doc.get("env", {})) | references(job)
    for action in local_actions(job):
        reachable |= references(action)
    assert forbidden(reachable) == set(), f"{workflow}:{job_name}"
    assert "environment" not in job, f"{workflow}:{job_name} must not enter a deployment environment"
    assert "pull_request_target" not in doc["on"], "pull_request_target runs with the base repository's secrets"


def test_the_checker_sees_what_it_must_forbid():
    job = {"env": {"P": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"}, "steps": [
        {"with": {"role": "${{ vars.AWS_DEPLOY_ROLE_ARN }}", "sa": "${{ vars['GCP_DEPLOY_SERVICE_ACCOUNT'] }}"}}]}
    assert forbidden(references(job)) == {("secrets", "PULUMI_CONFIG_PASSPHRASE"), ("vars", "AWS_DEPLOY_ROLE_ARN"),
                                          ("vars", "*")}
    assert forbidden(references({"t": "${{ secrets.GITHUB_TOKEN }}", "r": "${{ vars.AWS_REGION }}"})) == set()


@pytest.mark.parametrize(("workflow", "job_name", "environment"), [
    ("deploy.yml", "up", "${{ matrix.stack }}"), ("destroy.yml", "destroy", "${{ inputs.stack }}")])
def test_deploy_secrets_only_in_jobs_of_the_stacks_own_environment(workflow, job_name, environment):
    doc = load(workflow)
    assert forbidden(references(doc.get("env", {}))) == set(), "workflow-level env reaches every job"
    job = doc["jobs"][job_name]
    assert job["environment"] == environment, "one GitHub environment per stack, not one shared by all"
    assert forbidden(references(job)) >= {("secrets", "PULUMI_CONFIG_PASSPHRASE"), ("vars", "AWS_DEPLOY_ROLE_ARN")}


def secret_exposure(doc: dict) -> list[str]:
    """Where secrets reach more than the one step that needs them: workflow or job env, a `run:` step, the
    setup action, or a step's inputs (``with:`` values end up in the action's whole process)."""
    found = [f"workflow env: {ref}" for ref in references(doc.get("env", {})) if ref[0] == "secrets"]
    for name, job in doc["jobs"].items():
        found += [f"{name} env: {ref}" for ref in references(job.get("env", {})) if ref[0] == "secrets"]
        for step in job.get("steps", []):
            refs = {ref for ref in references(step) if ref[0] == "secrets" and ref[1] != "GITHUB_TOKEN"}
            if not refs:
                continue
            if not str(step.get("uses", "")).startswith("pulumi/actions@"):
                found.append(f"{name}: step {step.get('name') or step.get('uses') or step.get('run')!r}: {refs}")
            elif {ref for ref in references(step.get("with", {})) if ref[0] == "secrets"}:
                found.append(f"{name}: pulumi step inputs: {refs}")
    return found


@pytest.mark.parametrize("workflow", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_secrets_reach_only_the_pulumi_step_through_its_env(workflow):
    assert secret_exposure(load(workflow)) == []


@pytest.mark.parametrize("workflow", ["deploy.yml", "destroy.yml"])
def test_the_pulumi_step_gets_the_state_secrets(workflow):
    doc = load(workflow)
    steps = [s for job in doc["jobs"].values() for s in job.get("steps", [])
             if str(s.get("uses", "")).startswith("pulumi/actions@")]
    assert len(steps) == 1
    assert steps[0]["env"] == {"PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}",
                               "PULUMI_CONFIG_PASSPHRASE": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"}


def test_the_exposure_check_catches_job_level_secrets_and_other_steps():
    """The layout before: secrets in the job's env, so `pip install`, `npm ci` and the setup action saw them."""
    doc = {"jobs": {"up": {"env": {"PULUMI_CONFIG_PASSPHRASE": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"}, "steps": [
        {"uses": "./.github/actions/setup", "with": {"token": "${{ secrets.PULUMI_ACCESS_TOKEN }}"}},
        {"run": "make player", "env": {"T": "${{ secrets.NPM_TOKEN }}"}},
        {"uses": "pulumi/actions@x", "with": {"p": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"}},
        {"uses": "pulumi/actions@x", "env": {"P": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"}}]}}}
    assert len(secret_exposure(doc)) == 4


def test_preview_uses_the_read_only_identities_and_a_throw_away_backend():
    job = load("preview.yml")["jobs"]["preview"]
    setup = next(s for s in job["steps"] if s.get("uses") == "./.github/actions/setup")["with"]
    assert setup["aws-role-arn"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"
    assert setup["gcp-service-account"] == "${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT }}"
    pulumi = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@"))["with"]
    assert pulumi["cloud-url"].startswith("file://${{ runner.temp }}/")
    assert job["env"]["PULUMI_CONFIG_PASSPHRASE"] == ""

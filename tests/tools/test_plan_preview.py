"""``python -m tools.plan STACK --preview``: the program as ``pulumi preview`` runs it on every pull
request, where nothing has been created yet and every computed output is unknown."""

from __future__ import annotations

import json

import pytest

from tests.conftest import STACKS
from tests.support.plan import Plan, run_plan


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_previews_without_error_or_warning(stack, tmp_path):
    run = run_plan(stack, tmp_path, "--preview")
    assert run.returncode == 0, run.stderr
    # No warning from the program, no "Exception ignored" from an apply; only the note that the example stacks hold
    # example values (tests/stacks/config/test_examples.py).
    assert [line for line in run.stderr.splitlines() if not line.startswith(f"note: stack {stack} holds example ")] \
        == []
    plan = Plan(tmp_path / stack)
    assert plan.resources and plan.manifests
    # Something computed is unknown in a preview: the run really was one.
    assert "[unknown]" in json.dumps(plan.outputs), plan.outputs


def test_preview_and_plan_register_the_same_resources(tmp_path, plan):
    run = run_plan("local", tmp_path, "--preview")
    assert run.returncode == 0, run.stderr
    previewed = sorted(r["urn"] for r in Plan(tmp_path / "local").resources)
    assert previewed == sorted(r["urn"] for r in plan("local").resources)

"""Fixtures shared by the whole suite.

Pulumi allows one ``set_mocks`` per process, so it happens here, once, for in-process component
tests; whole-stack plans run ``python -m tools.plan`` in subprocesses (``tests/support/plan.py``).
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import pytest
import yaml

from tests.support.plan import ROOT, Plan, PlanRun, run_plan
from tools.plan import mocks

MONITOR = mocks.install("quicstack", "test")

STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))


def stack_config(stack: str) -> dict:
    """The ``config:`` block of ``stacks/Pulumi.<stack>.yaml``."""
    return yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]


@pytest.fixture(scope="session")
def plan_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("plans")


@pytest.fixture(scope="session")
def plan(plan_dir) -> Callable[[str], Plan]:
    """plan("local") -> the Plan of a checked-in stack; all stacks are planned together, two at a time."""
    runs: dict[str, PlanRun] = {}

    def get(stack: str) -> Plan:
        if not runs:
            with ThreadPoolExecutor(max_workers=2) as pool:
                runs.update(zip(STACKS, pool.map(lambda s: run_plan(s, plan_dir), STACKS)))
        run = runs[stack]
        assert run.returncode == 0, f"plan {stack} failed: {run.stderr}"
        return Plan(plan_dir / stack)

    return get


_counter = itertools.count()


@pytest.fixture
def plan_config(tmp_path) -> Callable[..., tuple[PlanRun, Plan]]:
    """plan_config({"quicstack:domain": ...}) plans a stack file written for the test."""

    def run(config: dict, *extra: str) -> tuple[PlanRun, Plan]:
        name = f"t{next(_counter)}"
        path = tmp_path / f"Pulumi.{name}.yaml"
        path.write_text(yaml.safe_dump({"config": config}))
        result = run_plan(path, tmp_path / "out", *extra)
        return result, Plan(tmp_path / "out" / name)

    return run

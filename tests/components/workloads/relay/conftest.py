"""Plans with secret values shown: a relay that takes tokens needs the stack's private key to test with."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable

import pytest

from tests.support.plan import ROOT, Plan, run_plan


@pytest.fixture(scope="session")
def secret_plan(tmp_path_factory) -> Callable[[str], Plan]:
    """secret_plan("k3s") -> the stack planned with ``--show-secrets`` (once per stack and session)."""
    out = tmp_path_factory.mktemp("secret-plans")
    done: dict[str, Plan] = {}
    lock = threading.Lock()

    def get(stack: str) -> Plan:
        with lock:
            if stack not in done:
                run = run_plan(stack, out, "--show-secrets")
                assert run.returncode == 0, f"plan {stack} failed: {run.stderr}"
                done[stack] = Plan(out / stack)
            return done[stack]

    return get


def mint(plan: Plan, *args: str) -> str:
    """``pulumi stack output --json --show-secrets | python -m tools.token ARGS``, with the plan's outputs."""
    proc = subprocess.run(
        [sys.executable, "-m", "tools.token", *args],
        input=json.dumps(plan.outputs),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    (token,) = proc.stdout.split()
    return token


def uses_tokens(plan: Plan) -> bool:
    return "relayTokenKey" in plan.outputs


def token_file(directory: Path, plan: Plan) -> Path:
    """The plan's signing key written to a file (what ``tools.token --key FILE`` reads)."""
    path = directory / "relay-token.pem"
    path.write_text(plan.outputs["relayTokenKey"])
    return path

"""The README's stack-creation steps against the real CLI, and what the program then makes of the result.

`make up STACK=<stack>` creates the stack with `pulumi stack select --create <stack>` (the command is taken from
`make -n`, not repeated here) under the passphrase the quick starts export (`read -rs PULUMI_CONFIG_PASSPHRASE`;
empty for `local`, README "Quickstart: local"). Settings go into the stack file or through `pulumi config set`;
nested keys need `--path` (`quicstack:ingress.serviceType: NodePort`, README "Prerequisites"). Only the real CLI
decides how such a command is stored and handed over, so only these tests can show the program reads it right, and
that a mistake (a literal dotted key, an encrypted quicstack value, a value out of range) stops as the program's
own one-line config error rather than at the missing provider plugin.
"""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest
import yaml

from components.shared.errors import SECURE_PROBLEM
from tests.conftest import STACKS
from tests.support import pulumi_inline
from tests.support.plan import ROOT

MISSING_KUBERNETES = "no resource plugin 'pulumi-resource-kubernetes' found in the workspace at version v"


def make_up_creates(sandbox, stack: str) -> list[str]:
    """The `pulumi ...` command `make up STACK=<stack>` runs first (its arguments after `pulumi`)."""
    bin_dir = sandbox.root / "bin"
    bin_dir.mkdir(exist_ok=True)
    if not (bin_dir / "pulumi").exists():
        (bin_dir / "pulumi").symlink_to(sandbox.cli)  # `make up` checks that a `pulumi` is on PATH
    env = {**sandbox.env, "PATH": f"{bin_dir}:{sandbox.env['PATH']}"}
    out = subprocess.run(["make", "-n", "--no-print-directory", "up", f"STACK={stack}"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    # `make` runs pulumi as `PATH="<the pinned CLI's folder>:$PATH" pulumi ...`: the words after that `pulumi`
    created = [shlex.split(match[1]) for line in out.stdout.splitlines()
               if (match := re.search(r"(?:^|\s)pulumi (stack select .*)$", line))]
    assert len(created) == 1, out.stdout
    return created[0]


@pytest.mark.parametrize("stack", STACKS)
def test_make_up_creates_the_stack_with_a_passphrase_that_keeps_secrets(sandbox, stack):
    sandbox.passphrase = "" if stack == "local" else "the quick start's passphrase"
    command = make_up_creates(sandbox, stack)
    assert command == ["stack", "select", "--create", stack]
    sandbox.ok(*command)
    assert stack in sandbox.ok("stack", "ls")
    assert yaml.safe_load(sandbox.stack_file(stack).read_text())["encryptionsalt"].startswith("v1:")
    sandbox.ok("config", "set", "--secret", "--stack", stack, "quicstack:engineRoundTrip", "kept")
    assert "kept" not in sandbox.stack_file(stack).read_text()
    assert sandbox.ok("config", "get", "--stack", stack, "quicstack:engineRoundTrip").strip() == "kept"


@pytest.fixture
def local(sandbox):
    sandbox.ok(*make_up_creates(sandbox, "local"))
    return sandbox


def test_config_set_path_reaches_the_program(local):
    local.ok("config", "set", "--path", "--stack", "local", "quicstack:ingress.serviceType", "NodePort")
    assert yaml.safe_load(local.stack_file("local").read_text())["config"]["quicstack:ingress"] == {
        "serviceType": "NodePort"}
    preview = pulumi_inline.run(local, "local")
    assert [e[:len(MISSING_KUBERNETES)] for e in pulumi_inline.errors(preview)] == [MISSING_KUBERNETES]
    assert preview["ran"]


@pytest.mark.parametrize("args, error", [
    (["--path", "quicstack:acme.challenge", "dns"], "quicstack:acme.challenge: 'dns' is not one of http01, dns01"),
    (["quicstack:ingress.serviceType", "NodePort"],
     "quicstack:ingress.serviceType: is a dotted key written literally; nest it instead: "
     "quicstack:ingress: {serviceType: ...}"),
    (["--secret", "quicstack:domain", "secret.example.com"], f"quicstack:domain: {SECURE_PROBLEM}"),
])
def test_a_config_mistake_stops_the_program_before_any_provider(local, args, error):
    local.ok("config", "set", "--stack", "local", *args)
    preview = pulumi_inline.run(local, "local")
    assert preview["stage"] == "failed" and not preview["ran"]
    # The program's RunError, logged by the inline server and returned as the Run's error, which the CLI prints once
    # more (the Python language host only logs it: pulumi/automation/_server.py, "pulumi-language-python-exec").
    assert pulumi_inline.errors(preview) == sorted([error, f"an unhandled error occurred: {error}"])
    assert "secret.example.com" not in preview["error"] + preview["stderr"]

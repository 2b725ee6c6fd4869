"""Every example stack under the real CLI: project and stack file loaded, config validated, a secure value encrypted
and decrypted by the stack's passphrase secrets provider, then the program started (inline, Automation API).

How far it gets is asserted exactly: the program reads and validates its config and registers its first provider;
the engine then stops because that provider's plugin is not installed and may not be downloaded here
(docs/testing.md). That stop names the plugin of the stack's cloud at the version requirements.txt pins, and it is
the only error: never a config error, never a Python error from the program. No plugin reaches the sandbox, so no
provider ever runs (and no Helm release can look up its chart repository).
"""

from __future__ import annotations

import re

import pytest
import yaml

from tests.conftest import STACKS, stack_config
from tests.support import pulumi_inline
from tests.support.plan import ROOT
from tests.support.pulumi_cli import Sandbox

SECRET_KEY = "quicstack:engineRoundTrip"
SECRET = "a value only the passphrase opens"
FIRST_PROVIDER = {"existing": "kubernetes", "k3s": "gcp", "gke": "gcp", "eks": "aws"}
"""The first provider each cloud's program registers: the cluster comes first (the Kubernetes provider for an
existing cluster, the cloud's provider to build one)."""
STOPS_IN_A_PROVIDER_FUNCTION = {"eks"}
"""The EKS stack calls aws.get_availability_zones while composing, and that call waits on the missing plugin: its
program cannot reach its last line here. The others compose to the end (resource constructors return at once)."""


def pinned(package: str) -> str:
    found = re.findall(rf"^pulumi_{package}==(\S+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert len(found) == 1, package
    return found[0]


def cloud_of(stack: str) -> str:
    return stack_config(stack).get("quicstack:cloud", "existing")


@pytest.fixture(scope="module", params=STACKS)
def run(request, tmp_path_factory, pulumi_cli):
    """One stack through the CLI: init, a secret round trip, then the inline preview."""
    stack = request.param
    sandbox = Sandbox(tmp_path_factory.mktemp(f"engine-{stack}"), cli=pulumi_cli)
    original = sandbox.stack_file(stack).read_text()
    sandbox.ok("stack", "init", stack, "--secrets-provider", "passphrase")
    sandbox.ok("config", "set", "--secret", "--stack", stack, SECRET_KEY, SECRET)
    stored = sandbox.stack_file(stack).read_text()
    got = sandbox.ok("config", "get", "--stack", stack, SECRET_KEY).strip()
    wrong = sandbox.run("config", "get", "--stack", stack, SECRET_KEY,
                        env={**sandbox.env, "PULUMI_CONFIG_PASSPHRASE": "not the passphrase"})
    # No quicstack key may be a secret (stacks/config refuses one), so the round-trip key goes before the program.
    sandbox.ok("config", "rm", "--stack", stack, SECRET_KEY)
    return {"stack": stack, "sandbox": sandbox, "original": original, "stored": stored, "got": got, "wrong": wrong,
            "preview": pulumi_inline.run(sandbox, stack)}


def test_the_stack_file_is_the_checked_in_one(run):
    """The CLI read the same file: it only added the passphrase provider's salt."""
    after = run["sandbox"].stack_file(run["stack"]).read_text()
    assert re.sub(r"^encryptionsalt: v1:\S+\n", "", after, flags=re.MULTILINE) == run["original"]
    assert "encryptionsalt: v1:" in after


def test_a_secure_value_round_trips_through_the_passphrase(run):
    assert run["got"] == SECRET
    stored = yaml.safe_load(run["stored"])["config"][SECRET_KEY]
    assert set(stored) == {"secure"} and stored["secure"].startswith("v1:") and SECRET not in run["stored"]


def test_a_wrong_passphrase_cannot_decrypt(run):
    assert run["wrong"].returncode != 0 and "incorrect passphrase" in run["wrong"].stderr
    assert SECRET not in run["wrong"].stdout + run["wrong"].stderr


def test_the_cli_hands_the_program_the_stack_config(run):
    """Every declared section arrives (the stack file's or Pulumi.yaml's default), none of them secret."""
    config = run["preview"]["config"]
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    assert {k if ":" in k else f"quicstack:{k}" for k in declared} <= set(config)
    assert not any(config.values())


def test_the_only_stop_is_the_missing_provider_plugin(run):
    preview = run["preview"]
    plugin = FIRST_PROVIDER[cloud_of(run["stack"])]
    assert preview["stage"] == "failed"
    assert pulumi_inline.errors(preview) == [
        f"no resource plugin 'pulumi-resource-{plugin}' found in the workspace at version v{pinned(plugin)}"]
    assert "Traceback" not in preview["error"] + preview["stderr"]


def test_the_program_got_as_far_as_it_can(run):
    preview, stack = run["preview"], run["stack"]
    assert f"urn:pulumi:{stack}::quicstack::pulumi:pulumi:Stack::quicstack-{stack}" in preview["registered"]
    assert preview["ran"] is (stack not in STOPS_IN_A_PROVIDER_FUNCTION)


def test_no_plugin_was_installed_and_no_chart_was_reached(run):
    """Without a provider no helm.v3.Release is ever checked, so none looks up its chart repository."""
    assert run["sandbox"].plugins() == []
    assert not [urn for urn in run["preview"]["registered"] if "::kubernetes:" in urn]

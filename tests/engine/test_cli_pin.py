"""The pinned CLI: built at the version its wrapper module records (once), and close enough to the SDK pin.

The rule (docs/testing.md, "The Pulumi CLI"): the CLI and the Python SDK (``pulumi==`` in requirements.txt) share
the major version; the CLI is never older than the SDK (an SDK asks the engine for features, e.g. through
``SupportsFeature``, that an older engine may lack, and the Automation API refuses a CLI below its own minimum); and
they are at most ``MAX_MINOR_DRIFT`` minor versions apart. Pulumi releases about once a week, so 4 minors is about
a month: the engine's config validation, secrets handling and plugin loading that these tests pin down are the ones
a user of that SDK meets with a current CLI. Not an exact match, because the Go proxy does not serve every tag
(3.272.0, the SDK pin, is missing; 3.274.0 is the nearest above it).
"""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.support.plan import ROOT
from tests.support.pulumi_cli import CLI_MODULE, cli_version

MAX_MINOR_DRIFT = 4


def sdk_version() -> str:
    found = re.findall(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert len(found) == 1, "requirements.txt: expected one pulumi== pin"
    return found[0]


def drift_problem(cli: str, sdk: str) -> str | None:
    """Why CLI ``cli`` may not drive SDK ``sdk`` in these tests, or None."""
    (c_major, c_minor, c_patch), (s_major, s_minor, s_patch) = (tuple(map(int, v.split("."))) for v in (cli, sdk))
    if c_major != s_major:
        return f"CLI {cli} and SDK {sdk} differ in the major version"
    if (c_minor, c_patch) < (s_minor, s_patch):
        return f"CLI {cli} is older than SDK {sdk}"
    if c_minor - s_minor > MAX_MINOR_DRIFT:
        return f"CLI {cli} is {c_minor - s_minor} minor versions past SDK {sdk} (at most {MAX_MINOR_DRIFT})"
    return None


def test_cli_and_sdk_pins_stay_within_the_rule():
    assert drift_problem(cli_version(), sdk_version()) is None


@pytest.mark.parametrize("cli, sdk, words", [
    ("4.0.0", "3.272.0", "major"),
    ("3.271.5", "3.272.0", "older"),
    ("3.272.0", "3.272.1", "older"),
    ("3.277.0", "3.272.0", "5 minor versions past"),
])
def test_the_rule_refuses_drift(cli, sdk, words):
    assert words in (drift_problem(cli, sdk) or "")


def test_the_rule_allows_the_nearest_served_release():
    assert drift_problem("3.276.0", "3.272.0") is None and drift_problem("3.272.0", "3.272.0") is None


def test_the_built_cli_is_the_pinned_version(pulumi_cli):
    out = subprocess.run([str(pulumi_cli), "version"], capture_output=True, text=True, timeout=60,
                         env={"PULUMI_SKIP_UPDATE_CHECK": "true", "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == f"v{cli_version()}"


def test_the_version_is_recorded_once():
    """go.mod holds it; the Makefile derives it (no second literal) and builds with exactly it."""
    version = cli_version()
    assert version not in (ROOT / "Makefile").read_text()
    out = subprocess.run(["make", "-n", "--no-print-directory", "engine-cli", "TOOLS=/nonexistent/tools"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert f"-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v{version}" in out.stdout
    assert f"-o /nonexistent/tools/pulumi-v{version}/pulumi" in out.stdout
    assert "nice go build -trimpath" in out.stdout and f"building the Pulumi CLI v{version}" in out.stdout


def test_the_wrapper_module_builds_cmd_pulumi_at_one_version():
    """The SDK the CLI links is the CLI's own release (pkg/v3 replaces it with ../sdk upstream)."""
    text = CLI_MODULE.read_text()
    assert re.search(rf"github\.com/pulumi/pulumi/sdk/v3 v{re.escape(cli_version())}\b", text)
    assert "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi" in (CLI_MODULE.parent / "tools.go").read_text()

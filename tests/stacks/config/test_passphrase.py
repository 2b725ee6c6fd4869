"""A cloud stack whose secrets an empty passphrase opens is refused by the program itself (not only by make):
stack files written by the real Pulumi CLI (file backend, offline), checked the way the CLI checks a passphrase."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.config import passphrase
from tests.support.plan import ROOT, TOOLS

PULUMI = TOOLS / "pulumi-v3.274.0" / "pulumi"


def stack_file(tmp_path: Path, stack: str, phrase: str, *extra: str) -> Path:
    """``pulumi stack init STACK`` with ``phrase`` in a project like this one (stackConfigDir: stacks)."""
    if not PULUMI.is_file():
        pytest.fail(f"the Pulumi CLI is not built: {PULUMI} (make deps builds it)")
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True, exist_ok=True)
    (project / "Pulumi.yaml").write_text("name: quicstack\nruntime: python\nstackConfigDir: stacks\n")
    (tmp_path / "state").mkdir(exist_ok=True)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PULUMI_HOME": str(tmp_path / "home"),
           "PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
           "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}", "PULUMI_CONFIG_PASSPHRASE": phrase}
    proc = subprocess.run([str(PULUMI), "stack", "init", stack, "--non-interactive", *extra], cwd=project, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return project / "stacks" / f"Pulumi.{stack}.yaml"


def test_an_empty_passphrase_is_found_in_the_stack_file(tmp_path):
    path = stack_file(tmp_path, "eks", "")
    salt = passphrase.encryption_salt(path)
    assert salt and passphrase.opens_with(salt, "") and not passphrase.opens_with(salt, "x")
    with pytest.raises(passphrase.StackError) as caught:
        passphrase.check("eks", path)
    line = str(caught.value)
    assert line.startswith("stack eks: its secrets are encrypted with an empty passphrase") and "\n" not in line


def test_a_real_passphrase_and_the_local_stack_pass(tmp_path):
    passphrase.check("gke", stack_file(tmp_path, "gke", "correct horse battery staple"))
    passphrase.check("local", stack_file(tmp_path, "local", ""))


@pytest.mark.parametrize("text", ["secretsprovider: awskms://alias/quicstack\nencryptedkey: abc\n",
                                  "config: {}\n", "encryptionsalt: v1:not-base64:v1:x:y\n", "- a list\n"])
def test_other_providers_and_odd_files_are_not_refused(tmp_path, text):
    path = tmp_path / "Pulumi.eks.yaml"
    path.write_text(text)
    passphrase.check("eks", path)
    passphrase.check("eks", tmp_path / "missing.yaml")


ENGINE = """
import sys
import pulumi, pulumi.runtime.config as c
import stacks.config as config
from tools.plan import mocks
mocks.install("quicstack", sys.argv[1], preview=sys.argv[3] == "preview")
config.stack_file = lambda stack: __import__("pathlib").Path(sys.argv[2])
c.set_all_config({"quicstack:domain": "quic.owned-domain.net", "quicstack:acme": '{"environment": "selfsigned"}'})
try:
    config.from_pulumi(); print("ok")
except pulumi.RunError as err:
    print(err)
"""


@pytest.mark.parametrize("stack", ["eks", "local"])
def test_the_program_refuses_it_under_the_engine(tmp_path, stack):
    path = stack_file(tmp_path, stack, "")
    proc = subprocess.run([sys.executable, "-c", ENGINE, stack, str(path), "up"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    out = proc.stdout.strip()
    if stack == "local":
        assert out == "ok", proc.stderr
    else:
        assert out.startswith("stack eks: its secrets are encrypted with an empty") and "\n" not in out


def test_a_preview_stores_no_secret_so_it_passes(tmp_path):
    """The pull-request preview runs in a throw-away backend with an empty passphrase: nothing is stored."""
    path = stack_file(tmp_path, "eks", "")
    proc = subprocess.run([sys.executable, "-c", ENGINE, "eks", str(path), "preview"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.stdout.strip() == "ok", proc.stderr


def test_config_check_reports_it(tmp_path):
    from tools import config_check

    path = stack_file(tmp_path, "prod", "")
    path.write_text(path.read_text() + "config:\n  quicstack:domain: quic.owned-domain.net\n")
    problems = config_check.check_file("prod", path)
    assert len(problems) == 1 and problems[0].startswith("stack prod: its secrets are encrypted with an empty")

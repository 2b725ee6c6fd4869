"""`make` keeps the empty state passphrase for the local stack only (tested through make -n, no Pulumi CLI)."""

import os
import subprocess

import pytest

from tests.support.plan import ROOT
from tests.support.processes import outside_make

PASSPHRASE_VARS = ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE", "SECRETS_PROVIDER")


@pytest.fixture(scope="module", autouse=True)
def pulumi_on_path(tmp_path_factory):
    """A stand-in `pulumi` on PATH: the Makefile's CLI check (tests/test_makefile.py) passes, `make -n`
    never runs it."""
    bin_dir = tmp_path_factory.mktemp("bin")
    stub = bin_dir / "pulumi"
    stub.write_text("#!/bin/sh\nexit 97\n")
    stub.chmod(0o755)
    STUB_PATH.append(f"{bin_dir}:{os.environ['PATH']}")
    yield
    STUB_PATH.clear()


STUB_PATH: list[str] = []


def make(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = outside_make(drop=PASSPHRASE_VARS)
    return subprocess.run(["make", "--no-print-directory", "-n", *args], cwd=ROOT,
                          env={**base, "PATH": STUB_PATH[-1], **env}, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("target", ["up", "preview", "destroy", "verify"])
@pytest.mark.parametrize("stack", ["k3s", "gke", "eks"])
def test_cloud_stacks_refuse_to_run_without_a_passphrase_before_anything_happens(target, stack):
    proc = make(target, f"STACK={stack}")
    assert proc.returncode == 2
    assert "pulumi" not in proc.stdout.replace("PULUMI", "") and "mkdir" not in proc.stdout
    message = [line for line in proc.stderr.splitlines() if not line.startswith("make:")]
    assert len(message) == 1 and f"stack {stack}:" in message[0] and "PULUMI_CONFIG_PASSPHRASE" in message[0]


def test_an_exported_empty_passphrase_does_not_count():
    assert make("up", "STACK=gke", PULUMI_CONFIG_PASSPHRASE="").returncode == 2


@pytest.mark.parametrize("env", [{"PULUMI_CONFIG_PASSPHRASE": "s3cret"}, {"PULUMI_CONFIG_PASSPHRASE_FILE": "/run/pass"},
                                 {"SECRETS_PROVIDER": "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k"}])
def test_a_passphrase_or_a_kms_provider_lets_a_cloud_stack_run(env):
    proc = make("up", "STACK=gke", **env)
    assert proc.returncode == 0, proc.stderr
    assert "pulumi up --stack gke" in proc.stdout
    if "SECRETS_PROVIDER" in env:
        assert f"pulumi stack select --create gke --secrets-provider {env['SECRETS_PROVIDER']}" in proc.stdout


def exported_passphrase(stack: str) -> str:
    """What a recipe sees as PULUMI_CONFIG_PASSPHRASE for ``stack`` ('unset' when not exported)."""
    proc = make("--eval", 'show-passphrase: ; +@echo "[$${PULUMI_CONFIG_PASSPHRASE-unset}]"', "show-passphrase",
                f"STACK={stack}")
    return proc.stdout.strip().splitlines()[-1]


def test_the_empty_passphrase_is_exported_for_local_only():
    assert make("up", "STACK=local").returncode == 0
    assert exported_passphrase("local") == "[]"
    assert exported_passphrase("gke") == "[unset]"

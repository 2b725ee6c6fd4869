"""One MoQ line: the images the stacks deploy and the crates the tests build are the same releases."""

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from components.workloads.publisher.config import PublisherConfig
from components.workloads.relay.config import RelayConfig
from components.workloads.relay.versions import CLI_IMAGE, CLI_VERSION, RELAY_IMAGE, RELAY_VERSION
from tests.support.plan import ROOT
from tests.support.processes import outside_make

VERSIONS = ROOT / "components" / "workloads" / "relay" / "versions.toml"


def make_dry_run() -> str:
    """What ``make deps`` would run with nothing built yet, into a tools folder that does not exist (runs nothing)."""
    run = subprocess.run([shutil.which("make"), "-n", "-B", "deps", "TOOLS=/nonexistent-tools"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, env=outside_make(("QUICSTACK_TOOLS",)))
    assert run.returncode == 0, run.stderr
    return run.stdout.replace("\\\n\t", " ")


@pytest.mark.parametrize("table, image, version", [("relay", RELAY_IMAGE, RELAY_VERSION),
                                                   ("cli", CLI_IMAGE, CLI_VERSION)])
def test_each_image_tag_is_its_crate_version(table, image, version):
    crate = tomllib.loads(VERSIONS.read_text())[table]
    assert image == f"moqdev/{crate['crate']}:{version}" and version == crate["version"]


def test_the_defaults_deploy_the_pinned_images():
    assert RelayConfig().image == RELAY_IMAGE and RelayConfig().auth_image == CLI_IMAGE
    assert PublisherConfig().cli_image == CLI_IMAGE


@pytest.mark.parametrize("table", ["relay", "cli"])
def test_make_builds_the_crate_of_the_image_with_its_checksum_lockfile_and_features(table):
    crate = tomllib.loads(VERSIONS.read_text())[table]
    name, version = crate["crate"], crate["version"]
    out = make_dry_run()
    assert f"https://static.crates.io/crates/{name}/{name}-{version}.crate" in out
    assert f'echo "{crate["checksum"]}  /nonexistent-tools/src/{name}-{version}.crate" | sha256sum --check' in out
    assert f"cp components/workloads/relay/crates/{name}-{version}.lock " in out
    assert (f"--path /nonexistent-tools/src/{name}-{version} --locked --debug --no-default-features "
            f"--features {crate['features']} --root /nonexistent-tools/{name}-{version}") in out
    assert (ROOT / "components" / "workloads" / "relay" / "crates" / f"{name}-{version}.lock").is_file()


def test_the_lockfiles_lock_the_crate_they_are_named_for():
    for lock in (VERSIONS.parent / "crates").glob("*.lock"):
        name, version = lock.stem.rsplit("-", 1)
        packages = tomllib.loads(lock.read_text())["package"]
        assert {"name": name, "version": version} in [{"name": p["name"], "version": p["version"]} for p in packages]
    assert sorted(p.name for p in (VERSIONS.parent / "crates").iterdir()) == \
        sorted(f"{t['crate']}-{t['version']}.lock" for t in tomllib.loads(VERSIONS.read_text()).values())

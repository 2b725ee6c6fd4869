"""``quicstack init STACK --cloud C`` starts a stack file from the cloud's example, the example values marked; it
never overwrites; ``quicstack config check`` names what is left to set and passes once it is set."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from stacks.config import examples
from tests.support.plan import ROOT, run_plan
from tools import config_check, init
from tools.init import MARK
from tools.plan.stackfile import settings_of


@pytest.fixture
def stacks_dir(tmp_path):
    """A copy of stacks/'s example files (init reads the examples from the directory it writes to)."""
    for example in (ROOT / "stacks").glob("Pulumi.*.yaml"):
        shutil.copy(example, tmp_path)
    return tmp_path


def quicstack(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("cloud", ["k3s", "gke", "eks"])
def test_init_copies_the_example_and_marks_every_example_value(stacks_dir, cloud):
    run = quicstack("init", "prod", "--cloud", cloud, "--stacks-dir", str(stacks_dir))
    assert run.returncode == 0, run.stderr
    path = stacks_dir / "Pulumi.prod.yaml"
    assert run.stdout.startswith(f"wrote {path}: set domain, acme.email, dns.zone")
    assert f"quicstack config check prod" in run.stdout and "make up STACK=prod" in run.stdout
    text = path.read_text()
    marked = [line for line in text.splitlines() if line.endswith(MARK)]
    found = examples.found(settings_of(path))
    # every example value's line is marked, and nothing else
    values = [re.search(rf"(?:- |: )(\S+)\s+{re.escape(MARK)}$", line)[1] for line in marked]
    assert sorted(values) == sorted(v for _, v, _ in found) and len(found) >= 4
    assert settings_of(path).cloud == cloud


def test_with_the_marked_values_set_the_stack_is_ready(stacks_dir):
    assert quicstack("init", "prod", "--cloud", "eks", "--stacks-dir", str(stacks_dir)).returncode == 0
    path = stacks_dir / "Pulumi.prod.yaml"
    assert len(config_check.check_file("prod", path)) == 4
    mine = {"quic.example.com": "quic.owned-domain.net", "ops@example.com": "ops@owned-domain.net",
            "Z0123456789ABCDEFGHIJ": "Z04517273B4OPU0IVZTNQ", "203.0.113.7/32": "81.2.69.160/32"}
    text = path.read_text()
    for old, new in mine.items():
        text = re.sub(rf"{re.escape(old)}\s+{re.escape(MARK)}", new, text)
    path.write_text(text)
    assert config_check.check_file("prod", path) == []


def test_the_existing_cloud_starts_from_the_local_stack_with_nothing_to_set(stacks_dir, tmp_path):
    run = quicstack("init", "dev", "--cloud", "existing", "--stacks-dir", str(stacks_dir))
    assert run.returncode == 0 and "set " not in run.stdout.split(":", 1)[1]
    path = stacks_dir / "Pulumi.dev.yaml"
    assert MARK not in path.read_text() and config_check.check_file("dev", path) == []
    assert run_plan(path, tmp_path / "plan").returncode == 0


@pytest.mark.parametrize("cloud", ["existing", "k3s", "gke", "eks"])
def test_new_stacks_get_the_gateway_edge_and_ingress_nginx_on_request(stacks_dir, cloud):
    assert quicstack("init", "new", "--cloud", cloud, "--stacks-dir", str(stacks_dir)).returncode == 0
    assert settings_of(stacks_dir / "Pulumi.new.yaml").ingress.controller == "envoy-gateway"
    run = quicstack("init", "old", "--cloud", cloud, "--edge", "ingress-nginx", "--stacks-dir", str(stacks_dir))
    assert run.returncode == 0, run.stderr
    example = (stacks_dir / f"Pulumi.{init.EXAMPLE_OF[cloud]}.yaml").read_text()
    # the example as it is (only the header and the marks added): its plan does not change
    written = (stacks_dir / "Pulumi.old.yaml").read_text().split(" (docs/cli.md).\n", 1)[1]
    assert written.replace(f"  {MARK}", "") == example
    assert settings_of(stacks_dir / "Pulumi.old.yaml").ingress.controller == "ingress-nginx"


def test_the_edge_goes_into_an_ingress_section_the_example_has():
    text = "config:\n  quicstack:cloud: existing\n  quicstack:ingress:\n    replicas: 2\n"
    out = init.with_edge(text, "envoy-gateway")
    assert out.splitlines()[:4] == ["config:", "  quicstack:cloud: existing", "  quicstack:ingress:",
                                    f"    controller: envoy-gateway  {init.EDGE_NOTE}"]
    assert init.with_edge(text, "ingress-nginx").splitlines()[3].startswith("    controller: ingress-nginx")


def test_init_never_overwrites(stacks_dir):
    before = (stacks_dir / "Pulumi.eks.yaml").read_text()
    run = quicstack("init", "eks", "--cloud", "gke", "--stacks-dir", str(stacks_dir))
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr == f"error: {stacks_dir}/Pulumi.eks.yaml exists: quicstack init never overwrites a stack; " \
                         "edit it, or pick another name\n"
    assert (stacks_dir / "Pulumi.eks.yaml").read_text() == before


@pytest.mark.parametrize("name", ["../prod", "a/b", "", "x" * 101, ".."])
def test_a_bad_name_is_refused_and_nothing_is_written(stacks_dir, name):
    before = sorted(p.name for p in stacks_dir.iterdir())
    run = quicstack("init", name, "--cloud", "eks", "--stacks-dir", str(stacks_dir))
    assert run.returncode == 2 and "is not a stack name" in run.stderr and len(run.stderr.splitlines()) == 1
    assert sorted(p.name for p in stacks_dir.iterdir()) == before


def test_marked_only_marks_values_not_keys_or_comments():
    text = "# quic.example.com in a comment\nconfig:\n  quicstack:domain: quic.example.com\n  a:\n    - 'x'\n"
    assert init.marked(text, ["quic.example.com", "x"]).splitlines() == [
        "# quic.example.com in a comment", "config:", f"  quicstack:domain: quic.example.com  {MARK}", "  a:",
        f"    - 'x'  {MARK}"]


def test_config_check_of_the_shipped_examples(capsys):
    assert config_check.main(["check", "local"]) == 0
    assert capsys.readouterr().out == "stack local: ready for `pulumi up --stack local` (or `make up STACK=local`)\n"
    assert config_check.main(["check", "gke"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert {line.split(":")[1] for line in lines} == {"domain", "acme.email", "dns.zone", "gke.project",
                                                      "gke.adminCidrs.0"}
    assert all("is an example value" in line and "--stack gke" in line for line in lines)
    assert config_check.main(["check", "lcoal"]) == 2
    assert capsys.readouterr().err.startswith("error: no stack 'lcoal'")


def test_the_documented_pulumi_cli_steps_make_a_stack_config_check_accepts(tmp_path):
    """docs/cli.md's `pulumi stack init` + `pulumi config set` steps, run with the real Pulumi CLI (file backend,
    offline) in a copy of the project file: the stack file they write passes `quicstack config check`."""
    from tests.stacks.config.test_passphrase import PULUMI

    if not PULUMI.is_file():
        pytest.fail(f"the Pulumi CLI is not built: {PULUMI}")
    doc = (ROOT / "docs" / "cli.md").read_text()
    block = doc.split("### With the Pulumi CLI alone", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    steps = [line.split("  #")[0].strip() for line in block.splitlines() if line.startswith("pulumi ")]
    assert steps[0] == "pulumi stack init prod" and len(steps) > 8
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    shutil.copy(ROOT / "Pulumi.yaml", project)
    (tmp_path / "state").mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PULUMI_HOME": str(tmp_path / "home"),
           "PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
           "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}", "PULUMI_CONFIG_PASSPHRASE": "a real one",
           "ZONE_ID": "Z04517273B4OPU0IVZTNQ"}
    for step in steps:
        step = step.replace('"$(curl -s https://checkip.amazonaws.com)/32"', "81.2.69.160/32")
        proc = subprocess.run(["sh", "-c", step.replace("pulumi ", f"{PULUMI} ", 1) + " --non-interactive"],
                              cwd=project, env=env, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, f"{step}: {proc.stderr}"
    path = project / "stacks" / "Pulumi.prod.yaml"
    assert config_check.check_file("prod", path) == []
    assert settings_of(path).cloud == "eks" and settings_of(path).eks.public_access_cidrs == ["81.2.69.160/32"]

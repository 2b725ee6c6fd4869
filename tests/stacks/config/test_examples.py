"""Example values (documentation names and address ranges, placeholder zones and projects) never reach a cloud:
under the engine the program refuses them before any resource is registered, in one line naming the key and how
to set it; the offline plan of the shipped example stacks still works (with a note)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from stacks.config import examples, from_strings
from tests.support.plan import ROOT, run_plan
from tools.plan.stackfile import settings_of

EKS = ROOT / "stacks" / "Pulumi.eks.yaml"


@pytest.mark.parametrize("value", [
    "example.com", "quic.example.com", "QUIC.Example.ORG.", "relay.example.net", "host.demo.example",
    "ops@example.com", "a.b@mail.example.org",
    "203.0.113.7/32", "198.51.100.0/24", "192.0.2.1", "192.0.2.0/25", "2001:db8::/48",
    "Z0123456789ABCDEFGHIJ", "Z3M3LMPEXAMPLE", "my-project", "quicstack-demo", "quicstack-example-com",
    "acme-example-com",
])
def test_example_values_are_recognised(value):
    assert examples.why_example(value)


@pytest.mark.parametrize("value", [
    "quicstack.localhost", "example", "examples.com", "myexample.com", "example.com.au", "ops@company.io",
    "203.0.114.7/32", "10.0.0.0/8", "192.0.3.0/24", "0.0.0.0/0", "2001:db9::/32", "Z04517273B4OPU0IVZTNQ",
    "quicstack-prod", "example-com-zone", "europe-west1-b",
])
def test_real_values_are_not(value):
    assert examples.why_example(value) is None


def test_every_example_value_of_the_shipped_cloud_stacks_is_found():
    found = {key: value for key, value, _ in examples.found(settings_of(EKS))}
    assert found == {"domain": "quic.example.com", "acme.email": "ops@example.com", "dns.zone": "Z0123456789ABCDEFGHIJ",
                     "eks.publicAccessCidrs.0": "203.0.113.7/32"}
    for cloud in ("k3s", "gke"):
        keys = {key for key, _, _ in examples.found(settings_of(ROOT / "stacks" / f"Pulumi.{cloud}.yaml"))}
        assert {"domain", "acme.email", "dns.zone", f"{cloud}.project", f"{cloud}.adminCidrs.0"} <= keys
    assert examples.found(settings_of(ROOT / "stacks" / "Pulumi.local.yaml")) == []


def test_the_error_is_one_line_naming_the_key_the_value_and_how_to_set_it():
    with pytest.raises(Exception) as caught:
        examples.check(settings_of(EKS), "eks")
    line = str(caught.value)
    assert "\n" not in line
    assert line.startswith("quicstack:domain: 'quic.example.com' is an example value")
    assert "`pulumi config set quicstack:domain <value> --stack eks` or edit stacks/Pulumi.eks.yaml" in line
    assert line.endswith("(3 more: acme.email, dns.zone, eks.publicAccessCidrs.0)")


def test_a_list_item_is_set_by_its_path():
    settings = from_strings({"quicstack:cloud": "eks", "quicstack:domain": "quic.owned-domain.net",
                             "quicstack:relay": '{"webPort": 4443}',
                             "quicstack:eks": json.dumps({"region": "eu-west-1",
                                                          "publicAccessCidrs": ["198.51.100.4/32"]})})
    with pytest.raises(Exception) as caught:
        examples.check(settings, "prod")
    assert "`pulumi config set --path 'quicstack:eks.publicAccessCidrs[0]' <value> --stack prod`" in str(caught.value)


ENGINE = """
import json, runpy, sys
import pulumi
from stacks.config import ConfigError
from tools.plan import mocks
from tools.plan.stackfile import config_values
monitor = mocks.install("quicstack", "eks", preview=sys.argv[2] == "preview")
pulumi.runtime.set_all_config(config_values(__import__("pathlib").Path(sys.argv[1])))
try:
    mocks.run(lambda: runpy.run_path("__main__.py", run_name="__main__"))
    print(json.dumps({"error": None, "registered": len(monitor.registrations)}))
except ConfigError as err:
    print(json.dumps({"error": str(err), "registered": len(monitor.registrations)}))
"""


def test_under_the_engine_the_program_refuses_them_before_registering_anything():
    """The program as `pulumi up` runs it (the engine's place taken by the mocks, no offline plan)."""
    proc = subprocess.run([sys.executable, "-c", ENGINE, str(EKS), "up"], cwd=ROOT, capture_output=True, text=True,
                          timeout=180)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["registered"] == 0
    assert result["error"].startswith("quicstack:domain: 'quic.example.com' is an example value")


def test_a_preview_creates_nothing_so_it_only_warns():
    """`pulumi preview` (the pull-request preview of the example stacks) shows what they would create, warning."""
    proc = subprocess.run([sys.executable, "-c", ENGINE, str(EKS), "preview"], cwd=ROOT, capture_output=True,
                          text=True, timeout=180)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["error"] is None and result["registered"] > 50
    warnings = [line for line in proc.stderr.splitlines() if "is an example value" in line]
    assert len(warnings) == 1 and warnings[0].endswith("(3 more: acme.email, dns.zone, eks.publicAccessCidrs.0); "
                                                       "`pulumi up` refuses it"), proc.stderr


def test_the_offline_plan_of_the_examples_works_and_says_so(tmp_path):
    run = run_plan("eks", tmp_path)
    assert run.returncode == 0, run.stderr
    notes = [line for line in run.stderr.splitlines() if line.startswith("note:")]
    assert notes == ["note: stack eks holds example values (domain, acme.email, dns.zone, eks.publicAccessCidrs.0): "
                     "they plan offline, but `pulumi up` refuses them; `quicstack config check eks` says how to set "
                     "each"]


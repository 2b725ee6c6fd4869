"""``python -m tools.plan``: what it writes, and how it fails."""

import json
import subprocess
import sys

import yaml

from tests.conftest import STACKS
from tests.support.plan import ROOT, run_plan


def test_local_plan_writes_manifests_resources_and_outputs(plan):
    p = plan("local")
    assert p.manifests and p.resources
    names = sorted(f.name for f in (p.dir / "manifests").iterdir())
    for obj, name in zip(p.manifests, names):
        ns = "cluster" if obj["kind"] in ("Namespace", "ClusterIssuer") else obj["metadata"]["namespace"]
        assert name == f"{obj['kind'].lower()}-{ns}-{obj['metadata']['name']}.yaml"
    for res in p.resources:
        assert {"type", "name", "urn", "parent", "provider", "dependencies", "inputs"} <= res.keys()


def test_numbers_are_integers_not_floats(plan):
    def floats(value):
        if isinstance(value, float):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from floats(v)
        elif isinstance(value, list):
            for v in value:
                yield from floats(v)

    for stack in STACKS:
        p = plan(stack)
        assert not [f for m in p.manifests for f in floats(m)], stack


def test_every_custom_resource_has_an_explicit_provider(plan):
    """Default providers are disabled in Pulumi.yaml; the plan shows none would be needed."""
    for stack in STACKS:
        missing = [r["urn"] for r in plan(stack).resources
                   if r["custom"] and not r["type"].startswith("pulumi:providers:") and r["type"].startswith(("kubernetes:", "gcp:", "aws:"))
                   and not r["provider"]]
        assert not missing, (stack, missing)


def test_default_providers_are_disabled_for_clouds_and_kubernetes():
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    disabled = project["config"]["pulumi:disable-default-providers"]["value"]
    assert {"kubernetes", "aws", "gcp"} <= set(disabled)


def test_summary_counts_types_and_chain(tmp_path):
    run = run_plan("local", tmp_path)
    assert run.returncode == 0, run.stderr
    assert "pulumi:providers:kubernetes" in run.stdout and "longest dependency chain" in run.stdout
    resources = json.loads((tmp_path / "local" / "resources.json").read_text())
    assert f"{len(resources)} resources" in run.stdout


def test_invalid_config_exits_2_with_one_line(plan_config):
    run, _ = plan_config({"quicstack:domain": "example.com", "quicstack:acme": {"challenge": "dns"}})
    assert run.returncode == 2
    assert run.stderr.strip() == "quicstack:acme.challenge: 'dns' is not one of http01, dns01"


def test_unknown_stack_exits_2_listing_the_stacks(tmp_path):
    run = run_plan("no-such-stack", tmp_path)
    assert run.returncode == 2 and run.stderr == (
        "error: no stack 'no-such-stack' (no stacks/Pulumi.no-such-stack.yaml); the stacks are: eks, gke, k3s, local; "
        "start a new one with `quicstack init no-such-stack --cloud CLOUD`\n")
    assert run_plan(str(tmp_path / "Pulumi.gone.yaml"), tmp_path).stderr.startswith("error: no stack file ")


def test_program_failure_exits_1_in_one_line(tmp_path):
    """A failure that is not a config error (here: the program file is unreadable) is one line, exit 1."""
    code = ("import sys, runpy; from tools.plan import __main__ as m; "
            "m.ROOT = m.ROOT / 'nowhere'; sys.exit(m.main(['" + str(ROOT / "stacks" / "Pulumi.local.yaml") + "', '--out', '" + str(tmp_path) + "']))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: planning local failed:") and len(proc.stderr.strip().splitlines()) == 1


def test_a_failed_plan_leaves_no_stale_output(plan_config, tmp_path):
    """A plan that fails removes the stack's directory: outputs.json from an earlier run must not look current."""
    good = {"quicstack:domain": "example.com"}
    run, first = plan_config(good)
    assert run.returncode == 0, run.stderr
    stale = tmp_path / "out" / first.dir.name
    assert (stale / "outputs.json").is_file()
    # The same stack file name again, now invalid: plan_config numbers its files, so write this one by hand.
    path = tmp_path / f"Pulumi.{first.dir.name}.yaml"
    path.write_text(yaml.safe_dump({"config": {**good, "quicstack:relay": {"quicPort": 0}}}))
    failed = run_plan(path, tmp_path / "out")
    assert failed.returncode == 2 and failed.stderr == "quicstack:relay.quicPort: 0 is not a port (1-65535)\n"
    assert not stale.exists()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == []


def test_file_names_stay_within_the_file_system_limit():
    from tools.plan.writer import manifest_filename

    long_a, long_b = "a" * 240 + "-one", "a" * 240 + "-two"
    names = {manifest_filename({"kind": "Certificate", "metadata": {"name": n, "namespace": "quic-example"}}) for n in (long_a, long_b)}
    assert len(names) == 2
    assert all(len(n.encode()) <= 255 and n.startswith("certificate-quic-example-aaaa") and n.endswith(".yaml") for n in names)
    short = manifest_filename({"kind": "Service", "metadata": {"name": "relay", "namespace": "moq"}})
    assert short == "service-moq-relay.yaml"


def test_a_247_character_domain_is_refused_in_one_line_not_an_oserror(plan_config):
    domain = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 55])
    run, plan = plan_config({"quicstack:domain": domain})
    assert run.returncode == 2
    assert run.stderr == ("quicstack:domain: makes the relay host 253 characters long; its certificate Secret '<host>-tls' "
                          "must fit Kubernetes' 253 characters, so a host has at most 249: use a shorter name or set relay.host\n")
    assert not plan.dir.exists()


def test_the_writer_never_lets_one_object_overwrite_another(tmp_path):
    """Two objects of one kind, namespace and name: the API server would refuse the second; the plan fails."""
    import pytest

    from tools.plan.mocks import Registration
    from tools.plan.writer import write

    def cert(urn: str) -> Registration:
        inputs = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "a-b-example-com", "namespace": "moq"}}
        return Registration("kubernetes:cert-manager.io/v1:Certificate", urn, urn, "", "", [], True, inputs)

    with pytest.raises(ValueError, match="two Certificate objects named 'a-b-example-com' in namespace 'moq'"):
        write(tmp_path / "s", [cert("one"), cert("two")], {}, False)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_demo_namespace_rule_knows_every_namespace_the_stack_creates(plan):
    """envoyDemo.namespace may not be one the stack's other parts own; that list must follow the plans."""
    from components.workloads.envoy.config import PROJECT_NAMESPACES

    for stack in STACKS:
        created = {m["metadata"]["name"] for m in plan(stack).objects("Namespace")}
        charts = {r["inputs"].get("namespace") for r in plan(stack).of_type("kubernetes:helm.sh/v3:Release")}
        owned = (created | charts) - {"quic-example", None}
        assert owned - {"kube-system"} <= set(PROJECT_NAMESPACES), (stack, owned)

"""``tools.plan_diff``: identical plans say so; a changed manifest, input, dependency or output is named."""

import json
import shutil

import yaml

from tests.support.plan import run_plan
from tools import plan_diff

URN = "urn:pulumi:s::quicstack::{}::{}"


def write_plan(root, *, replicas=1, parent=None, outputs=None):
    (root / "manifests").mkdir(parents=True)
    (root / "manifests" / "deployment-moq-relay.yaml").write_text(yaml.safe_dump({"spec": {"replicas": replicas}}))
    ns = URN.format("kubernetes:core/v1:Namespace", "moq")
    if parent:
        ns = URN.format(f"{parent}$kubernetes:core/v1:Namespace", "moq")
    resources = [
        {"type": "kubernetes:core/v1:Namespace", "name": "moq", "urn": ns, "parent": None, "provider": None,
         "dependencies": [], "custom": True, "options": {}, "inputs": {}},
        {"type": "kubernetes:apps/v1:Deployment", "name": "relay",
         "urn": URN.format("kubernetes:apps/v1:Deployment", "relay"), "parent": None, "provider": None, "dependencies": [ns], "custom": True, "options": {},
         "inputs": {"spec": {"replicas": replicas}}},
    ]
    (root / "resources.json").write_text(json.dumps(resources))
    (root / "outputs.json").write_text(json.dumps(outputs or {"webUrl": "https://example.com"}))
    return root


def test_identical_plans(tmp_path):
    old = write_plan(tmp_path / "old")
    shutil.copytree(old, tmp_path / "new")
    assert plan_diff.diff(old, tmp_path / "new") == []
    assert plan_diff.main([str(old), str(tmp_path / "new")]) == 0


def test_differences_are_named(tmp_path):
    old = write_plan(tmp_path / "old")
    new = write_plan(tmp_path / "new", replicas=2, parent="quicstack:workloads:Relay", outputs={"relayUrl": "x"})
    lines = plan_diff.diff(old, new)
    assert "manifest differs: deployment-moq-relay.yaml: spec" in lines
    assert "resource differs: kubernetes:apps/v1:Deployment::relay: inputs" in lines
    assert "resource differs: kubernetes:core/v1:Namespace::moq: urn" in lines
    assert "output only in old: webUrl" in lines and "output only in new: relayUrl" in lines
    assert plan_diff.main([str(old), str(new)]) == 1


def test_a_folder_that_is_not_a_plan_is_one_line_and_exit_2(tmp_path, capsys):
    plan = write_plan(tmp_path / "new")
    assert plan_diff.main([str(tmp_path), str(plan)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(tmp_path) in err and "DIR/STACK" in err


def test_two_plans_of_one_stack_are_identical(tmp_path):
    """Keys the mocks make (the k3s VM's SSH key) come from their resource names: a plan diff shows changes, not
    noise."""
    for run in ("a", "b"):
        assert run_plan("k3s", tmp_path / run).returncode == 0
    assert plan_diff.diff(tmp_path / "a" / "k3s", tmp_path / "b" / "k3s") == []
    # and byte for byte (sorted keys, resources by URN), so `diff -r` of two plans or a committed plan is stable
    files = {run: {p.relative_to(tmp_path / run): p.read_bytes() for p in (tmp_path / run).rglob("*") if p.is_file()}
             for run in ("a", "b")}
    assert files["a"].keys() == files["b"].keys()
    assert [name for name, data in files["a"].items() if files["b"][name] != data] == []


def test_changed_values_are_shown(tmp_path):
    old = write_plan(tmp_path / "old")
    new = write_plan(tmp_path / "new", replicas=2, parent="quicstack:workloads:Relay")
    lines = plan_diff.diff(old, new)
    at = lines.index("manifest differs: deployment-moq-relay.yaml: spec")
    assert lines[at + 1:at + 7] == ["    --- old/deployment-moq-relay.yaml", "    +++ new/deployment-moq-relay.yaml",
                                    "    @@ -1,2 +1,2 @@", "     spec:", "    -  replicas: 1", "    +  replicas: 2"]
    at = lines.index("resource differs: kubernetes:apps/v1:Deployment::relay: inputs")
    assert lines[at + 1] == "    inputs.spec.replicas: 1 -> 2"
    at = lines.index("resource differs: kubernetes:core/v1:Namespace::moq: urn")
    assert lines[at + 1] == ('    urn: "kubernetes:core/v1:Namespace::moq" -> '
                             '"quicstack:workloads:Relay$kubernetes:core/v1:Namespace::moq"')


def test_a_multi_line_value_gets_a_diff_and_an_added_key_says_absent(tmp_path):
    old = write_plan(tmp_path / "old")
    new = write_plan(tmp_path / "new")
    resources = json.loads((new / "resources.json").read_text())
    resources[1]["inputs"]["spec"]["config"] = "a = 1\n"
    resources[0]["inputs"]["data"] = "[auth]\nkey_dir = \"/keys\"\n"
    (new / "resources.json").write_text(json.dumps(resources))
    (old / "resources.json").write_text(json.dumps([{**resources[0], "inputs": {"data": "[auth]\nkey_dir = \"/k\"\n"}},
                                                    json.loads((old / "resources.json").read_text())[1]]))
    lines = plan_diff.diff(old, new)
    assert "    inputs.spec.config: (absent) -> \"a = 1\\n\"" in lines
    at = lines.index("    inputs.data:")
    assert lines[at + 1:at + 6] == ["      --- old", "      +++ new", "      @@ -1,2 +1,2 @@", "       [auth]",
                                    "      -key_dir = \"/k\""]


def test_plans_of_differently_named_stacks_match_resources_by_name(tmp_path):
    old = write_plan(tmp_path / "old")
    new = write_plan(tmp_path / "new")
    text = (new / "resources.json").read_text().replace("urn:pulumi:s::", "urn:pulumi:production::")
    (new / "resources.json").write_text(text.replace("::quicstack::", "::quicstack-fork::"))
    assert plan_diff.diff(old, new) == []


def test_two_real_stacks_of_different_names(tmp_path):
    from tests.support.plan import ROOT

    copy = tmp_path / "Pulumi.demo.yaml"
    copy.write_text((ROOT / "stacks" / "Pulumi.local.yaml").read_text())
    assert run_plan("local", tmp_path / "a").returncode == 0 and run_plan(copy, tmp_path / "b").returncode == 0
    assert plan_diff.diff(tmp_path / "a" / "local", tmp_path / "b" / "demo") == []


def test_help_exits_0_and_a_missing_argument_is_argparses_usage(capsys):
    import pytest

    with pytest.raises(SystemExit) as done:
        plan_diff.main(["--help"])
    assert done.value.code == 0 and "OLD_PLAN_DIR NEW_PLAN_DIR" in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        plan_diff.main(["only-one"])
    assert done.value.code == 2 and "the following arguments are required: NEW_PLAN_DIR" in capsys.readouterr().err

"""Upgrades on a real API server: the previous release's objects first, then this checkout's (tests/support/upgrade.py).

The server must take every change as an update (no immutable-field refusal) unless Pulumi would replace the object,
and what it changes must be what ``tools.plan_diff`` shows between the two plans: nothing the plans show unchanged
(asked of the server with ``kubectl diff --server-side``), and every object only the new plan has.
"""

from __future__ import annotations

import copy
import subprocess

import pytest
import yaml

from tests.conftest import STACKS, stack_config
from tests.support import kube_apply, upgrade
from tests.support.control_plane import ControlPlane
from tests.support.plan import ROOT, Plan, run_plan


@pytest.fixture(scope="session")
def previous_release(tmp_path_factory) -> dict[str, Plan]:
    known = subprocess.run(["git", "cat-file", "-e", f"{upgrade.PREVIOUS_RELEASE}^{{commit}}"], cwd=ROOT,
                           capture_output=True, timeout=30)
    if known.returncode:
        pytest.skip(f"commit {upgrade.PREVIOUS_RELEASE} (the previous release) is not in this clone: fetch its history")
    return upgrade.plan_release(upgrade.PREVIOUS_RELEASE, STACKS, tmp_path_factory.mktemp("previous-release"))


def _upgrade(plane: ControlPlane, old: Plan, new: Plan) -> dict[str, str]:
    """Apply ``old``, check the server's view of the change against the plans', upgrade to ``new``; the replaced
    objects (file -> by whom). Leaves ``new`` applied and Available."""
    kube_apply.apply(plane, old)
    kube_apply.wait_available(plane, old)
    replaced, undeclared = upgrade.replacements(plane, old, new)
    assert undeclared == {}, "updates the API server refuses and Pulumi would not replace"
    server, planned = upgrade.server_changes(plane, new), upgrade.planned_changes(old, new)
    assert server <= planned, "the server would change objects the plans show unchanged"
    # A planned change the server does not see is one it normalises away (an empty list it stores as absent).
    assert upgrade.added(old, new) <= server, "objects only the new plan has are created"
    upgrade.upgrade(plane, old, new, set(replaced))
    kube_apply.wait_available(plane, new)
    assert kube_apply.services_without_endpoints(plane, new) == []
    return replaced


@pytest.mark.parametrize("stack", STACKS)
def test_upgrading_from_the_previous_release(stack, control_plane, plan, previous_release):
    old, new = previous_release[stack], plan(stack)
    try:
        _upgrade(control_plane, old, new)
    finally:
        kube_apply.destroy(control_plane, new)
        kube_apply.destroy(control_plane, old)
    assert kube_apply.leftovers(control_plane, old) + kube_apply.leftovers(control_plane, new) == []


@pytest.fixture(scope="module")
def relay_tier(plan_config_module) -> Plan:
    """The local stack with two relays: the relay becomes a StatefulSet (a relay tier) instead of a Deployment."""
    config = copy.deepcopy(stack_config("local"))
    relay = config.setdefault("quicstack:relay", {})
    relay.update({"replicas": 2, "sessionAffinity": "ClientIP"})
    run, tier = plan_config_module(config)
    assert run.returncode == 0, run.stderr
    return tier


@pytest.fixture(scope="module")
def plan_config_module(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tier")

    def run(config: dict):
        path = directory / "Pulumi.tier.yaml"
        path.write_text(yaml.safe_dump({"config": config}))
        return run_plan(path, directory / "out"), Plan(directory / "out" / "tier")

    return run


def test_a_relay_becoming_a_statefulset_is_a_new_object_and_the_deployment_goes(control_plane, plan, relay_tier):
    single = plan("local")
    assert single.objects("Deployment") and relay_tier.objects("StatefulSet")
    try:
        replaced = _upgrade(control_plane, single, relay_tier)
        assert replaced == {}  # two Pulumi resources (relay-deployment, relay-statefulset): a delete and a create
        statefulset = relay_tier.object("StatefulSet", "relay")
        relay = statefulset["metadata"]
        assert control_plane.get("deployments", "-n", relay["namespace"],
                                 f"--field-selector=metadata.name={relay['name']}") == []
        selector = ",".join(f"{k}={v}" for k, v in statefulset["spec"]["selector"]["matchLabels"].items())
        pods = control_plane.get("pods", "-n", relay["namespace"], "-l", selector)
        assert len(pods) == 2
        owners = {ref["kind"] for pod in pods for ref in pod["metadata"].get("ownerReferences", [])}
        assert owners == {"StatefulSet"}, "the relay Service's pods are the StatefulSet's only"
    finally:
        kube_apply.destroy(control_plane, relay_tier)
        kube_apply.destroy(control_plane, single)


def test_a_selector_change_is_refused_as_an_update_and_pulumi_replaces_it(control_plane, plan):
    """The failing side: a Deployment whose selector changes cannot be updated; the provider replaces it."""
    old = plan("local")
    new_obj = copy.deepcopy(old.object("Deployment", "relay"))
    for labels in (new_obj["spec"]["selector"]["matchLabels"], new_obj["spec"]["template"]["metadata"]["labels"]):
        labels["quicstack/tier"] = "edge"
    resource = next(r for r, m in kube_apply.registered(old) if m["kind"] == "Deployment" and
                    m["metadata"]["name"] == "relay")
    try:
        kube_apply.apply(control_plane, old)
        with pytest.raises(Exception, match="field is immutable"):
            control_plane.apply([new_obj], "--dry-run=server")
        assert upgrade.replacement(resource, old.object("Deployment", "relay"), new_obj) == "provider"
    finally:
        kube_apply.destroy(control_plane, old)


def test_an_immutable_change_pulumi_does_not_know_needs_the_program_to_declare_it(control_plane, plan):
    """``spec.loadBalancerClass`` is immutable on the server but not in the provider's list: only
    ``replace_on_changes`` with ``delete_before_replace`` make Pulumi replace the Service."""
    old = plan("local")
    service = next(m for m in old.objects("Service") if m["spec"].get("type") == "LoadBalancer")
    new_obj = copy.deepcopy(service)
    new_obj["spec"]["loadBalancerClass"] = "example.com/other"
    resource = {"options": {}}
    assert upgrade.replacement(resource, service, new_obj) is None
    declared = {"options": {"replaceOnChanges": ["spec.loadBalancerClass"], "deleteBeforeReplace": True}}
    assert upgrade.replacement(declared, service, new_obj) == "program"
    try:
        kube_apply.apply(control_plane, old)
        with pytest.raises(Exception, match="loadBalancerClass"):
            control_plane.apply([new_obj], "--dry-run=server")
    finally:
        kube_apply.destroy(control_plane, old)

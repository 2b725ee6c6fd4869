"""Every example stack's Kubernetes objects on a real control plane (docs/testing-control-plane.md).

For each stack: the objects the program renders (its offline plan, ``tools.plan``), applied server-side in the
plan's dependency order to a real kube-apiserver, whose own PodSecurity admission enforces the namespaces'
``restricted`` labels; the Deployments and StatefulSets must become Available on a kwok node, every Service's
selector must find pods (EndpointSlices), and deleting in reverse order must leave nothing behind. Substituted:
Secrets the providers make at run time carry the plan's stand-ins (redacted values, mock keys); cert-manager does
not run (its CRDs are installed, so Certificates and Issuers are stored and validated against their schemas, but no
certificate Secret is issued: kwok pods start without mounting volumes); LoadBalancer Services stay pending.
"""

from __future__ import annotations

import copy
import time

import pytest

from tests.conftest import STACKS
from tests.support import kube_apply
from tests.support.control_plane import ControlPlane, KubectlError, wait_for
from tests.support.plan import Plan


@pytest.fixture(scope="module", params=STACKS)
def deployed(request, control_plane: ControlPlane, plan) -> tuple[Plan, dict]:
    """The stack's objects applied and its workloads Available; deleted again after the stack's tests."""
    stack_plan = plan(request.param)
    timings = {}
    started = time.monotonic()
    kube_apply.apply(control_plane, stack_plan)
    timings["apply"] = time.monotonic() - started
    yield stack_plan, timings
    kube_apply.destroy(control_plane, stack_plan)  # idempotent: the deletion test may have run already


def test_the_api_server_accepts_every_object_under_restricted_pod_security(deployed, control_plane):
    stack_plan, _ = deployed
    assert stack_plan.manifests, "the plan renders Kubernetes objects"
    for namespace in kube_apply.namespaces(stack_plan):
        live = control_plane.get("namespaces", f"--field-selector=metadata.name={namespace}")
        assert live and live[0]["metadata"]["labels"].get("pod-security.kubernetes.io/enforce") == "restricted", (
            f"namespace {namespace} is not enforcing Pod Security restricted")
    for obj in stack_plan.manifests:
        found = control_plane.kubectl("get", *kube_apply.target(obj), "-o", "name").stdout.strip()
        assert found, f"{kube_apply.target(obj)} is not on the server"


def test_deployments_and_statefulsets_become_available(deployed, control_plane):
    stack_plan, _ = deployed
    kube_apply.wait_available(control_plane, stack_plan)


def test_every_service_selector_finds_its_pods(deployed, control_plane):
    stack_plan, _ = deployed
    kube_apply.wait_available(control_plane, stack_plan)
    wait_for(lambda: not kube_apply.services_without_endpoints(control_plane, stack_plan),
                        "EndpointSlices for every Service", 30)


def test_deleting_in_reverse_order_leaves_nothing(deployed, control_plane):
    stack_plan, _ = deployed
    kube_apply.destroy(control_plane, stack_plan)
    assert kube_apply.leftovers(control_plane, stack_plan) == []


# The checks above must be able to fail: the same machinery on objects the API server or the controllers refuse.

def _local(plan) -> Plan:
    return plan("local")


def _rename_namespaces(objects: list[dict], suffix: str) -> list[dict]:
    """Copies of ``objects`` in namespaces of their own (so a broken copy never meets the stack tests' objects)."""
    out = copy.deepcopy(objects)
    for obj in out:
        meta = obj["metadata"]
        if obj["kind"] == "Namespace":
            meta["name"] += suffix
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
        elif "namespace" in meta:
            meta["namespace"] += suffix
    return out


class Broken(Plan):
    """A plan whose manifests are replaced (the failing cases); resources and order stay the real plan's."""

    def __init__(self, directory, manifests: list[dict]):
        super().__init__(directory)
        self.__dict__["manifests"] = manifests


def _broken_relay(plan, suffix: str, change) -> tuple[Plan, list[dict]]:
    """The local stack's relay namespace, Deployment and Services in a namespace of their own, after ``change``."""
    real = _local(plan)
    keep = [m for m in real.manifests if m["kind"] in ("Namespace", "Deployment", "Service")
            and (m["metadata"].get("namespace") == "moq" or m["metadata"]["name"] == "moq")]
    objects = sorted(_rename_namespaces(keep, suffix), key=lambda o: o["kind"] != "Namespace")  # namespaces first
    change(objects)
    return Broken(real.dir, objects), objects


def test_an_object_the_api_server_rejects_fails_the_apply(control_plane, plan):
    def bad_port(objects):
        service = next(o for o in objects if o["kind"] == "Service")
        service["spec"]["ports"][0]["port"] = 70000  # not a port: validation refuses the object

    broken, objects = _broken_relay(plan, "-rejected", bad_port)
    namespace = [o for o in objects if o["kind"] == "Namespace"]
    try:
        control_plane.apply(namespace)
        with pytest.raises(KubectlError, match=r"Invalid value: 70000"):
            control_plane.apply([o for o in objects if o["kind"] == "Service"])
    finally:
        kube_apply.delete(control_plane, namespace)


def test_a_pod_template_that_breaks_restricted_never_becomes_available(control_plane, plan):
    def privileged(objects):
        deployment = next(o for o in objects if o["kind"] == "Deployment")
        deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True

    broken, objects = _broken_relay(plan, "-privileged", privileged)
    try:
        control_plane.apply(objects)  # a Deployment is only warned about; its pods are what admission refuses
        refused = wait_for(lambda: [p for p in kube_apply.pod_problems(control_plane, broken)
                                    if 'violates PodSecurity "restricted' in p], "the pods refused", 30)
        assert "allowPrivilegeEscalation != false" in refused[0]
        relay = next(o for o in objects if o["kind"] == "Deployment")["metadata"]["name"]
        assert f"Deployment/moq-privileged/{relay}" in kube_apply.workloads_not_available(control_plane, broken)
    finally:
        kube_apply.delete(control_plane, objects[::-1])


def test_a_selector_that_matches_nothing_is_caught(control_plane, plan):
    def stray(objects):
        service = next(o for o in objects if o["kind"] == "Service")
        service["spec"]["selector"] = {**service["spec"]["selector"], "app.kubernetes.io/name": "nobody"}

    broken, objects = _broken_relay(plan, "-stray", stray)
    service = next(o for o in objects if o["kind"] == "Service")
    try:
        control_plane.apply(objects)
        kube_apply.wait_available(control_plane, broken)
        time.sleep(2)  # the EndpointSlice controller has had its turn for the other Services
        assert kube_apply.services_without_endpoints(control_plane, broken) == [
            f"{service['metadata']['namespace']}/{service['metadata']['name']}"]
    finally:
        kube_apply.delete(control_plane, objects[::-1])

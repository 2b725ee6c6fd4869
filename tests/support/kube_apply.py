"""A plan's Kubernetes objects on a real API server, the way ``pulumi up``/``destroy`` would order them.

``levels`` walks the plan's dependency graph (dependencies and providers, through every resource, Helm releases and
cloud resources included) and groups the Kubernetes objects the program renders by their depth in it: an object
comes after everything it waits for. The Helm releases' own objects are not applied (their charts are not fetched
here); the CRDs the objects need are installed first (``control_plane.install_crds``).
"""

from __future__ import annotations

import json
from collections import defaultdict

import yaml

from tests.support.control_plane import ControlPlane, wait_for
from tests.support.plan import Plan
from tools.plan.writer import CLUSTER_SCOPED, manifest_filename


def registered(plan: Plan) -> list[tuple[dict, dict]]:
    """(resource, manifest) for every Kubernetes object the program registers, in registration order."""
    by_file = {manifest_filename(m): m for m in plan.manifests}
    found = []
    for resource in plan.resources:
        inputs = resource["inputs"]
        if resource["custom"] and resource["type"].startswith("kubernetes:") and "kind" in inputs:
            named = {**inputs, "metadata": {"name": resource["name"], **inputs.get("metadata", {})}}
            found.append((resource, by_file[manifest_filename(named)]))
    assert len(found) == len(plan.manifests), "every manifest of the plan is one registered object"
    return found


def levels(plan: Plan) -> list[list[dict]]:
    """The plan's Kubernetes objects, grouped by depth in its dependency graph (creation order)."""
    depth: dict[str, int] = {}

    def level(urn: str) -> int:
        if urn not in depth:
            depth[urn] = 0  # guards against cycles, which the engine would reject anyway
            depth[urn] = 1 + max((level(d) for d in Plan._edges(plan.by_urn[urn]) if d in plan.by_urn), default=0)
        return depth[urn]

    grouped: dict[int, list[dict]] = defaultdict(list)
    for resource, obj in registered(plan):
        grouped[level(resource["urn"])].append(obj)
    return [grouped[d] for d in sorted(grouped)]


def in_order(plan: Plan) -> list[dict]:
    return [obj for group in levels(plan) for obj in group]


def apply(plane: ControlPlane, plan: Plan) -> None:
    """Every object, server-side, one dependency level after the other (a level waits for the one before)."""
    for group in levels(plan):
        plane.apply(group)


def target(obj: dict) -> list[str]:
    """kubectl's arguments for the one object: ``Kind[.version.group]/name`` (``-n namespace``)."""
    group, _, version = obj["apiVersion"].rpartition("/")
    meta = obj["metadata"]
    kind = f"{obj['kind']}.{version}.{group}" if group else obj["kind"]  # the core group has no name
    namespaced = obj["kind"] not in CLUSTER_SCOPED
    return [f"{kind}/{meta['name']}", *(["-n", meta.get("namespace", "default")] if namespaced else [])]


# Kinds whose deletion must wait for what they own (their ReplicaSets and pods): foreground propagation, the
# pulumi-kubernetes default (``pulumi.com/deletionPropagationPolicy``). The other kinds own nothing here; they go with
# the API's default, as the garbage collector learns of new CRDs only on its 30 s discovery resync.
_OWNERS = {"Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Job"}


def delete(plane: ControlPlane, objects: list[dict], timeout: int = 120) -> None:
    """Delete ``objects`` together (as Pulumi deletes resources that do not depend on each other in parallel) and
    wait until every one is gone; a workload is gone once its pods are, so a namespace never waits on pods."""
    for owners in (True, False):
        group = [o for o in objects if (o["kind"] in _OWNERS) == owners]
        if group:
            plane.kubectl("delete", "--ignore-not-found", f"--cascade={'foreground' if owners else 'background'}",
                          "--wait", f"--timeout={timeout}s", "-f", "-", input=yaml.safe_dump_all(group),
                          timeout=timeout + 30)


def destroy(plane: ControlPlane, plan: Plan) -> None:
    """The plan's objects in reverse creation order, one dependency level at a time."""
    for group in reversed(levels(plan)):
        delete(plane, group)


def workloads_not_available(plane: ControlPlane, plan: Plan) -> dict[str, str]:
    """Deployments and StatefulSets of the plan whose pods are not all Ready and available: name -> why."""
    waiting = {}
    for obj in plan.manifests:
        if obj["kind"] not in ("Deployment", "StatefulSet"):
            continue
        meta = obj["metadata"]
        live = json.loads(plane.kubectl("get", obj["kind"], meta["name"], "-n", meta["namespace"], "-o",
                                        "json").stdout)
        want, status = live["spec"].get("replicas", 1), live.get("status", {})
        if status.get("availableReplicas", 0) < want or status.get("updatedReplicas", 0) < want:
            conditions = [f"{c['type']}={c['status']} {c.get('message', '')}" for c in status.get("conditions", [])]
            waiting[f"{obj['kind']}/{meta['namespace']}/{meta['name']}"] = (
                f"{status.get('availableReplicas', 0)}/{want} available; {'; '.join(conditions)}")
    return waiting


def wait_available(plane: ControlPlane, plan: Plan, timeout: float = 90) -> None:
    last: dict = {}

    def ready() -> bool:
        last.clear()
        last.update(workloads_not_available(plane, plan))
        return not last

    try:
        wait_for(ready, "every Deployment and StatefulSet Available", timeout, interval=1)
    except AssertionError as err:
        raise AssertionError(f"{err}: {last} {pod_problems(plane, plan)}") from None


def pod_problems(plane: ControlPlane, plan: Plan) -> list[str]:
    """Why pods are missing: the warning events of the plan's namespaces (e.g. a Pod Security refusal)."""
    found = []
    for namespace in namespaces(plan):
        for event in plane.get("events", "-n", namespace, "--field-selector=type=Warning"):
            found.append(f"{event['involvedObject']['kind']}/{event['involvedObject']['name']}: {event['message']}")
    return found


def namespaces(plan: Plan) -> list[str]:
    return [m["metadata"]["name"] for m in plan.objects("Namespace")]


def services_without_endpoints(plane: ControlPlane, plan: Plan) -> list[str]:
    """Services with a selector whose EndpointSlices list no pod (so their selector finds nothing)."""
    empty = []
    for service in plan.objects("Service"):
        meta = service["metadata"]
        if not service["spec"].get("selector"):
            continue
        slices = plane.get("endpointslices", "-n", meta["namespace"], "-l",
                           f"kubernetes.io/service-name={meta['name']}")
        if not any(e.get("targetRef", {}).get("kind") == "Pod" for s in slices for e in s.get("endpoints") or []):
            empty.append(f"{meta['namespace']}/{meta['name']}")
    return empty


def leftovers(plane: ControlPlane, plan: Plan) -> list[str]:
    """What of the plan is still on the server: its namespaces, its cluster-scoped objects, and any Service,
    PersistentVolumeClaim or pod left in its namespaces."""
    left = []
    names = set(namespaces(plan))
    left += [f"Namespace/{n['metadata']['name']}" for n in plane.get("namespaces") if n["metadata"]["name"] in names]
    for kind in ("services", "persistentvolumeclaims", "pods"):
        left += [f"{kind}/{o['metadata']['namespace']}/{o['metadata']['name']}" for o in plane.get(kind, "-A")
                 if o["metadata"]["namespace"] in names]
    for obj in plan.manifests:
        if obj["kind"] in CLUSTER_SCOPED and obj["kind"] != "Namespace":
            if plane.kubectl("get", *target(obj), "--ignore-not-found", "-o", "name").stdout.strip():
                left.append(target(obj)[0])
    return left

"""Upgrading a stack's objects on a real API server from one plan to the next, as ``pulumi up`` would.

What the server would change is asked of the server itself (``kubectl diff --server-side``, a dry-run apply); which
updates it refuses (immutable fields) is asked per object with a dry-run apply. Pulumi replaces an object instead of
updating it when the provider knows the field forces a replacement (``PROVIDER_REPLACES``) or when the program says
so with ``replace_on_changes``; an object with a fixed name can only be replaced delete-first: the provider asks for
that itself for the fields it knows, the program must say ``delete_before_replace`` for the others.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

from tests.support import kube_apply
from tests.support.control_plane import FIELD_MANAGER, ControlPlane, KubectlError
from tests.support.plan import ROOT, Plan
from tools import plan_diff
from tools.plan.writer import CLUSTER_SCOPED, manifest_filename

PREVIOUS_RELEASE = "d896929"
"""The last main commit before the real-engine tests, the Gateway edge and the first-hour changes landed: the release
whose objects a running stack has today. Move it forward when a release is cut."""

# Fields whose change pulumi-kubernetes itself turns into a replacement (forceNew), for the kinds the program renders:
# provider/pkg/provider/diff.go of github.com/pulumi/pulumi-kubernetes; every kind also replaces on a new
# .metadata.name or .metadata.namespace.
_SELECTOR = (".spec.selector",)
PROVIDER_REPLACES = {
    "Deployment": _SELECTOR,
    "StatefulSet": (*_SELECTOR, ".spec.podManagementPolicy", ".spec.revisionHistoryLimit", ".spec.serviceName",
                    ".spec.volumeClaimTemplates"),
    "ConfigMap": (".data", ".binaryData"),
    "Secret": (".type", ".data", ".stringData"),
    "Service": (".spec.clusterIP",),
    "PersistentVolumeClaim": (".spec",),
}
_METADATA_REPLACES = (".metadata.name", ".metadata.namespace")


def plan_release(commit: str, stacks: list[str], work: Path) -> dict[str, Plan]:
    """Plan ``stacks`` as the program was at ``commit`` (``git archive`` into ``work``), with this checkout's built
    watch-page player (git-ignored) and this checkout's plan writer (test machinery, not the program; an older one
    wrote manifests the API server refuses, see ``writer._keys_only``)."""
    tree = work / commit
    archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=ROOT, capture_output=True, timeout=60)
    if archive.returncode:
        raise RuntimeError(f"git archive {commit}: {archive.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tree, filter="data")
    player = Path("components/workloads/watch/player/dist")
    shutil.copytree(ROOT / player, tree / player, dirs_exist_ok=True)
    shutil.copy(ROOT / "tools/plan/writer.py", tree / "tools/plan/writer.py")
    plans = {}
    for stack in stacks:
        proc = subprocess.run([sys.executable, "-W", "ignore::DeprecationWarning", "-m", "tools.plan", stack,
                               "--out", str(work / "plans")], cwd=tree, capture_output=True, text=True, timeout=300)
        if proc.returncode:
            raise RuntimeError(f"planning {stack} at {commit} failed: {proc.stderr.strip()}")
        plans[stack] = Plan(work / "plans" / stack)
    return plans


def diff_name(obj: dict) -> str:
    """The name ``kubectl diff`` gives an object: ``[group.]version.Kind.namespace.name``."""
    group, _, version = obj["apiVersion"].rpartition("/")
    namespace = "" if obj["kind"] in CLUSTER_SCOPED else obj["metadata"].get("namespace", "default")
    return f"{group + '.' if group else ''}{version}.{obj['kind']}.{namespace}.{obj['metadata']['name']}"


def server_changes(plane: ControlPlane, new: Plan) -> set[str]:
    """The manifests (file names) of ``new`` that would change what the server holds now."""
    proc = plane.kubectl("diff", "--server-side", f"--field-manager={FIELD_MANAGER}", "-f", "-",
                         input=yaml.safe_dump_all(kube_apply.in_order(new), sort_keys=False), check=False)
    if proc.returncode > 1:
        raise KubectlError(f"kubectl diff: {proc.stderr.strip()}")
    names = {diff_name(m): manifest_filename(m) for m in new.manifests}
    headers = [line.split()[-1].rsplit("/", 1)[-1] for line in proc.stdout.splitlines() if line.startswith("diff ")]
    return {names[h] for h in headers}


def planned_changes(old: Plan, new: Plan) -> set[str]:
    """The manifests ``tools.plan_diff`` reports as changed or new."""
    found = set()
    for line in plan_diff.diff(old.dir, new.dir):
        for prefix in ("manifest differs: ", "manifest only in new: "):
            if line.startswith(prefix):
                found.add(line.removeprefix(prefix).split(":")[0])
    return found


def added(old: Plan, new: Plan) -> set[str]:
    """The manifests only ``new`` has."""
    return {manifest_filename(m) for m in new.manifests} - {manifest_filename(m) for m in old.manifests}


def changed_paths(old, new, path: str = "") -> set[str]:
    """Dotted paths (``.spec.selector.matchLabels``) where two objects differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        return {p for k in old.keys() | new.keys() for p in changed_paths(old.get(k), new.get(k), f"{path}.{k}")}
    return set() if old == new else {path}


def _covered(paths: set[str], fields) -> bool:
    return any(p == f or p.startswith(f + ".") for p in paths for f in fields)


def replacement(resource: dict, old_obj: dict, new_obj: dict) -> str | None:
    """How Pulumi would replace this object (``"provider"``, ``"program"``), or None when it would update it."""
    paths = changed_paths(old_obj, new_obj)
    if _covered(paths, (*_METADATA_REPLACES, *PROVIDER_REPLACES.get(new_obj["kind"], ()))):
        return "provider"  # named objects: the provider asks for delete-before-replace itself
    options = resource["options"]
    declared = {"." + p.replace("[*]", "") for p in options.get("replaceOnChanges", [])}
    if _covered(paths, declared) and options.get("deleteBeforeReplace"):
        return "program"
    return None


def refused_updates(plane: ControlPlane, old: Plan, new: Plan) -> dict[str, str]:
    """Objects of both plans that differ and whose update the API server refuses (dry run): file -> its error."""
    before = {manifest_filename(m): m for m in old.manifests}
    refused = {}
    for obj in new.manifests:
        name = manifest_filename(obj)
        if name in before and before[name] != obj:
            try:
                plane.apply([obj], "--dry-run=server")
            except KubectlError as err:
                refused[name] = str(err)
    return refused


def replacements(plane: ControlPlane, old: Plan, new: Plan) -> tuple[dict[str, str], dict[str, str]]:
    """(replaced: file -> by whom, undeclared: file -> the server's refusal) for the updates the server refuses."""
    before = {manifest_filename(m): m for m in old.manifests}
    resources = {manifest_filename(m): r for r, m in kube_apply.registered(new)}
    replaced, undeclared = {}, {}
    for name, error in refused_updates(plane, old, new).items():
        new_obj = next(m for m in new.manifests if manifest_filename(m) == name)
        how = replacement(resources[name], before[name], new_obj)
        if how:
            replaced[name] = how
        else:
            undeclared[name] = error
    return replaced, undeclared


def upgrade(plane: ControlPlane, old: Plan, new: Plan, replaced: set[str]) -> None:
    """``pulumi up`` from ``old`` to ``new``: each replaced object deleted first (delete-before-replace), every object
    of ``new`` applied in dependency order, then the objects only ``old`` had deleted in reverse order."""
    before = {manifest_filename(m): m for m in old.manifests}
    kube_apply.delete(plane, [before[name] for name in sorted(replaced)])
    kube_apply.apply(plane, new)
    kept = {manifest_filename(m) for m in new.manifests}
    kube_apply.delete(plane, [m for m in kube_apply.in_order(old)[::-1] if manifest_filename(m) not in kept])

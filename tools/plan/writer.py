"""Writes a plan to disk: one YAML file per Kubernetes object, resources.json, outputs.json."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from .mocks import Registration, plain, redacted

CLUSTER_SCOPED = {
    "Namespace",
    "ClusterIssuer",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "IngressClass",
    "GatewayClass",
    "PriorityClass",
    "StorageClass",
    "PersistentVolume",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
}
_REDACTED_B64 = "cmVkYWN0ZWQ="  # base64("redacted"): keeps Secret.data schema-valid


def _keys_only(data: Any, hidden: str) -> Any:
    """A Secret's ``data``/``stringData`` with its keys kept and every value replaced by ``hidden``. A map not known
    yet (computed from a secret output) has no keys to show: one ``redacted`` key, so the object stays one the API
    server accepts (a key is ``[-._a-zA-Z0-9]+``; the real API server refused the characters of ``[secret]``)."""
    if isinstance(data, dict):
        return {key: hidden for key in data} or None
    return {"redacted": hidden} if data else None


def manifests(registrations: list[Registration], show_secrets: bool) -> list[dict]:
    """Every Kubernetes object (custom resources with apiVersion and kind), in registration order."""
    out = []
    for reg in registrations:
        if not reg.custom or not reg.type.startswith("kubernetes:") or "kind" not in reg.inputs:
            continue
        obj = plain(reg.inputs) if show_secrets else redacted(reg.inputs)
        obj = {k: v for k, v in obj.items() if k != "__defaults"}
        obj.setdefault("metadata", {}).setdefault("name", reg.name)
        if obj["kind"] == "Secret" and not show_secrets:
            # The keys are read from the unwrapped inputs: a whole data map made secret redacts to one marker string.
            shown = plain(reg.inputs)
            obj["data"] = _keys_only(shown.get("data"), _REDACTED_B64)
            obj["stringData"] = _keys_only(shown.get("stringData"), "<redacted>")
            obj = {k: v for k, v in obj.items() if v is not None}
        out.append(obj)
    return out


# Most file systems allow 255 bytes per file name; object names alone may be 253 characters.
NAME_MAX = 255


def manifest_filename(obj: dict) -> str:
    """``<kind>-<namespace or cluster>-<name>.yaml``; a name too long for the file system keeps its
    start and gets a hash of the whole, so two long names never share a file."""
    meta = obj["metadata"]
    namespace = "cluster" if obj["kind"] in CLUSTER_SCOPED else meta.get("namespace", "default")
    stem = f"{obj['kind'].lower()}-{namespace}-{meta['name']}"
    if len(stem.encode()) + len(".yaml") > NAME_MAX:
        digest = hashlib.sha256(stem.encode()).hexdigest()[:16]
        stem = f"{stem.encode()[:NAME_MAX - len('.yaml') - 17].decode(errors='ignore')}-{digest}"
    return f"{stem}.yaml"


def provider_urn(ref: str) -> str:
    """A provider reference is ``<provider urn>::<provider id>``."""
    return ref.rsplit("::", 1)[0]


def creation_edges(registrations: list[Registration]) -> dict[str, set[str]]:
    """urn -> the urns that must exist first: its dependencies and its provider."""
    edges = {r.urn: set(r.dependencies) | ({provider_urn(r.provider)} if r.provider else set()) for r in registrations}
    return {urn: deps & edges.keys() for urn, deps in edges.items()}


def longest_chain(registrations: list[Registration]) -> int:
    """Number of resources on the longest path of creation-order edges."""
    edges = creation_edges(registrations)
    memo: dict[str, int] = {}

    def depth(urn: str) -> int:
        if urn not in memo:
            memo[urn] = 0  # guards against cycles, which the engine would reject anyway
            memo[urn] = 1 + max((depth(d) for d in edges[urn]), default=0)
        return memo[urn]

    return max((depth(u) for u in edges), default=0)


def write(out_dir: Path, registrations: list[Registration], outputs: dict[str, Any], show_secrets: bool) -> dict:
    """Write the plan into a fresh directory that replaces ``out_dir`` only once it is complete."""
    partial = out_dir.with_name(f".{out_dir.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        summary = _write(partial, registrations, outputs, show_secrets)
        shutil.rmtree(out_dir, ignore_errors=True)
        partial.rename(out_dir)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return summary


def _write(out_dir: Path, registrations: list[Registration], outputs: dict[str, Any], show_secrets: bool) -> dict:
    manifest_dir = out_dir / "manifests"
    manifest_dir.mkdir(parents=True)
    objs = manifests(registrations, show_secrets)
    written: dict[str, dict] = {}
    for obj in objs:
        filename = manifest_filename(obj)
        if filename in written:  # the API server would refuse the second object; never overwrite the first
            meta = obj["metadata"]
            namespace = meta.get("namespace", "-")
            raise ValueError(f"two {obj['kind']} objects named {meta['name']!r} in namespace {namespace!r}")
        written[filename] = obj
        (manifest_dir / filename).write_text(yaml.safe_dump(obj, sort_keys=True))
    shown = plain if show_secrets else redacted
    resources = [
        {
            "type": r.type, "name": r.name, "urn": r.urn, "parent": r.parent or None, "provider": r.provider or None,
            "dependencies": r.dependencies, "custom": r.custom, "options": r.options, "inputs": shown(r.inputs),
        }
        # by URN: resources register concurrently, so their registration order changes from run to run
        for r in sorted(registrations, key=lambda r: r.urn)
    ]
    (out_dir / "resources.json").write_text(json.dumps(resources, indent=1, sort_keys=True))
    (out_dir / "outputs.json").write_text(json.dumps(shown(outputs), indent=1, sort_keys=True))
    return {
        "manifests": len(objs),
        "counts": Counter(r.type for r in registrations),
        "chain": longest_chain(registrations),
    }

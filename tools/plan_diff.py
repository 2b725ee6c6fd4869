"""``python -m tools.plan_diff OLD NEW``: what changed between two plan directories (``tools.plan --out``).

Compares the Kubernetes manifests, every resource of ``resources.json`` (keyed by type and name:
its inputs, dependencies, parent, provider and options) and ``outputs.json``. URNs are compared
through the (type, name) they name, so a refactor that keeps every resource shows no difference;
a changed URN (a new parent) shows as a changed ``urn``. Exit 0 when identical, 1 otherwise.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml


def _key(urn: str) -> str:
    """``urn:pulumi:stack::project::a$b$type::name`` -> ``type::name``."""
    qualified, _, name = urn.rpartition("::")
    return f"{qualified.rsplit('$', 1)[-1].rsplit('::', 1)[-1]}::{name}"


def _ref(value: str | None) -> str | None:
    return _key(value.rsplit("::", 1)[0]) if value else None


def _resources(plan: Path) -> dict[str, dict]:
    out = {}
    for r in json.loads((plan / "resources.json").read_text()):
        out[_key(r["urn"])] = {
            "urn": r["urn"], "parent": _key(r["parent"]) if r["parent"] else None, "provider": _ref(r["provider"]),
            "dependencies": sorted(_key(d) for d in r["dependencies"]), "custom": r["custom"],
            "options": r["options"], "inputs": r["inputs"],
        }
    return out


def _manifests(plan: Path) -> dict[str, object]:
    return {p.name: yaml.safe_load(p.read_text()) for p in sorted((plan / "manifests").glob("*.yaml"))}


def _compare(kind: str, old: dict, new: dict) -> list[str]:
    lines = [f"{kind} only in old: {k}" for k in sorted(old.keys() - new.keys())]
    lines += [f"{kind} only in new: {k}" for k in sorted(new.keys() - old.keys())]
    for k in sorted(old.keys() & new.keys()):
        a, b = old[k], new[k]
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            fields = sorted(f for f in a.keys() | b.keys() if a.get(f) != b.get(f))
            lines.append(f"{kind} differs: {k}: {', '.join(fields)}")
        else:
            lines.append(f"{kind} differs: {k}")
    return lines


def diff(old: Path, new: Path) -> list[str]:
    """One line per difference; empty when the plans are identical."""
    lines = _compare("manifest", _manifests(old), _manifests(new))
    lines += _compare("resource", _resources(old), _resources(new))
    lines += _compare("output", json.loads((old / "outputs.json").read_text()),
                      json.loads((new / "outputs.json").read_text()))
    return lines


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m tools.plan_diff OLD_PLAN_DIR NEW_PLAN_DIR", file=sys.stderr)
        return 2
    missing = [d for d in args if not (Path(d) / "resources.json").is_file()]
    if missing:
        print(f"{missing[0]} is not a plan directory (no resources.json): pass the folder `python -m tools.plan STACK"
              " --out DIR` wrote for the stack, DIR/STACK", file=sys.stderr)
        return 2
    lines = diff(Path(args[0]), Path(args[1]))
    print("\n".join(lines) if lines else "identical")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())

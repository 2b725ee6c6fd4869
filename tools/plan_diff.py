"""``python -m tools.plan_diff OLD NEW``: what changed between two plan directories (``tools.plan --out``).

Compares the Kubernetes manifests (a unified diff of each changed one), every resource of ``resources.json``
(keyed by type and name: its inputs, dependencies, parent, provider and options, each changed value by its path
as ``old -> new``) and ``outputs.json``. URNs are compared without their stack and project
(``urn:pulumi:STACK::PROJECT::``), so two stacks of different names, or a refactor that keeps every resource,
show no difference; a changed URN (a new parent) shows as a changed ``urn``. Exit 0 when identical, 1 otherwise,
2 for bad arguments.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterator

import yaml

_STACK_PART = re.compile(r"urn:pulumi:[^:]*::[^:]*::")
"""The stack and project of a URN (``urn:pulumi:<stack>::<project>::<type chain>::<name>``)."""
VALUE_WIDTH = 160
"""A changed value longer than this is cut in the ``old -> new`` line (a multi-line string gets a diff instead)."""


def _key(urn: str) -> str:
    """``urn:pulumi:stack::project::a$b$type::name`` -> ``type::name``."""
    qualified, _, name = urn.rpartition("::")
    kind = qualified.rsplit('$', 1)[-1].rsplit('::', 1)[-1]
    # The root resource is named <project>-<stack> by the engine: it is the stack's root whatever the names.
    return f"{kind}::{'(root)' if kind == 'pulumi:pulumi:Stack' else name}"


def _ref(value: str | None) -> str | None:
    return _key(value.rsplit("::", 1)[0]) if value else None


def _unstacked(value: Any) -> Any:
    """``value`` with every URN's stack and project removed, so the resource's name within the stack remains."""
    if isinstance(value, str):
        return _STACK_PART.sub("", value)
    if isinstance(value, dict):
        return {k: _unstacked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unstacked(v) for v in value]
    return value


def _resources(plan: Path) -> dict[str, dict]:
    out = {}
    for r in json.loads((plan / "resources.json").read_text()):
        out[_key(r["urn"])] = _unstacked({
            "urn": r["urn"], "parent": _key(r["parent"]) if r["parent"] else None, "provider": _ref(r["provider"]),
            "dependencies": sorted(_key(d) for d in r["dependencies"]), "custom": r["custom"],
            "options": r["options"], "inputs": r["inputs"],
        })
    return out


def _manifests(plan: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((plan / "manifests").glob("*.yaml"))}


def _shown(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) or "\n" in value else json.dumps(value)
    return text if len(text) <= VALUE_WIDTH else f"{text[:VALUE_WIDTH - 1]}…"


def _paths(old: Any, new: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    """(path, old, new) of every leaf that differs; a list that changed length is one value."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys(), key=str):
            if old.get(key, _MISSING) != new.get(key, _MISSING):
                yield from _paths(old.get(key, _MISSING), new.get(key, _MISSING), f"{path}.{key}" if path else key)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new)):
            if a != b:
                yield from _paths(a, b, f"{path}[{i}]")
    else:
        yield path, old, new


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


_MISSING = _Missing()


def _value_lines(path: str, old: Any, new: Any) -> list[str]:
    if isinstance(old, str) and isinstance(new, str) and ("\n" in old or "\n" in new):
        body = difflib.unified_diff(old.splitlines(), new.splitlines(), "old", "new", lineterm="", n=1)
        return [f"    {path}:", *(f"      {line}" for line in body)]
    shown = [repr(v) if v is _MISSING else _shown(v) for v in (old, new)]
    return [f"    {path}: {shown[0]} -> {shown[1]}"]


def _compare_manifests(old: dict[str, str], new: dict[str, str]) -> list[str]:
    lines = [f"manifest only in old: {k}" for k in sorted(old.keys() - new.keys())]
    lines += [f"manifest only in new: {k}" for k in sorted(new.keys() - old.keys())]
    for name in sorted(old.keys() & new.keys()):
        a, b = yaml.safe_load(old[name]), yaml.safe_load(new[name])
        if a == b:
            continue
        fields = sorted(f for f in a.keys() | b.keys() if a.get(f) != b.get(f)) if isinstance(a, dict) and \
            isinstance(b, dict) else []
        lines.append(f"manifest differs: {name}" + (f": {', '.join(fields)}" if fields else ""))
        texts = [yaml.safe_dump(doc, sort_keys=True).splitlines() for doc in (a, b)]
        lines += [f"    {line}" for line in difflib.unified_diff(*texts, f"old/{name}", f"new/{name}", lineterm="")]
    return lines


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
        for path, before, after in _paths(a, b, ""):
            lines += _value_lines(path or k, before, after)
    return lines


def diff(old: Path, new: Path) -> list[str]:
    """A line per difference, each followed by its changed values (indented); empty when the plans are identical."""
    lines = _compare_manifests(_manifests(old), _manifests(new))
    lines += _compare("resource", _resources(old), _resources(new))
    lines += _compare("output", json.loads((old / "outputs.json").read_text()),
                      json.loads((new / "outputs.json").read_text()))
    return lines


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="quicstack diff", description=__doc__.split("\n\n")[0],
                                epilog="example: python -m tools.plan local --out build/a; (change something); "
                                "python -m tools.plan local --out build/b; python -m tools.plan_diff build/a/local "
                                "build/b/local")
    p.add_argument("old", metavar="OLD_PLAN_DIR", help="a plan folder (tools.plan --out DIR writes DIR/STACK)")
    p.add_argument("new", metavar="NEW_PLAN_DIR", help="the plan folder to compare it with")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    missing = [d for d in (args.old, args.new) if not (Path(d) / "resources.json").is_file()]
    if missing:
        print(f"{missing[0]} is not a plan directory (no resources.json): pass the folder `python -m tools.plan STACK"
              " --out DIR` wrote for the stack, DIR/STACK", file=sys.stderr)
        return 2
    lines = diff(Path(args.old), Path(args.new))
    print("\n".join(lines) if lines else "identical")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())

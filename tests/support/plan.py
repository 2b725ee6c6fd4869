"""Runs ``python -m tools.plan`` in a subprocess and answers questions about its output.

A subprocess per plan keeps each stack's mocks, config and event loop apart from the test process
(Pulumi allows one ``set_mocks`` per process).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator

import yaml

ROOT = Path(__file__).resolve().parents[2]
TOOLS = Path(os.environ.get("QUICSTACK_TOOLS") or Path.home() / ".cache" / "quicstack")
"""Where ``make`` builds the tools the tests run (the Makefile's ``TOOLS``): outside the clone, shared by clones."""


@dataclass
class PlanRun:
    returncode: int
    stdout: str
    stderr: str


def run_plan(stack: str | Path, out: Path, *extra: str) -> PlanRun:
    proc = subprocess.run(
        [sys.executable, "-W", "ignore::DeprecationWarning", "-m", "tools.plan", str(stack), "--out", str(out), *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    return PlanRun(proc.returncode, proc.stdout, proc.stderr)


class Plan:
    """The files one plan wrote: manifests, resources.json, outputs.json."""

    def __init__(self, directory: Path):
        self.dir = directory

    @cached_property
    def manifests(self) -> list[dict]:
        return [yaml.safe_load(p.read_text()) for p in sorted((self.dir / "manifests").glob("*.yaml"))]

    @cached_property
    def resources(self) -> list[dict]:
        return json.loads((self.dir / "resources.json").read_text())

    @cached_property
    def outputs(self) -> dict[str, Any]:
        return json.loads((self.dir / "outputs.json").read_text())

    @cached_property
    def by_urn(self) -> dict[str, dict]:
        return {r["urn"]: r for r in self.resources}

    def of_type(self, type_: str) -> list[dict]:
        return [r for r in self.resources if r["type"] == type_]

    def one(self, type_: str, name: str | None = None) -> dict:
        found = [r for r in self.of_type(type_) if name is None or r["name"] == name]
        assert len(found) == 1, f"expected one {type_} {name or ''}, found {[r['name'] for r in found]}"
        return found[0]

    def objects(self, kind: str) -> list[dict]:
        return [m for m in self.manifests if m["kind"] == kind]

    def object(self, kind: str, name: str) -> dict:
        found = [m for m in self.objects(kind) if m["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
        return found[0]

    def depends_on(self, urn: str) -> set[str]:
        """Everything ``urn`` transitively waits for: dependencies, provider, and what those wait for."""
        seen: set[str] = set()
        stack = [urn]
        while stack:
            for dep in self._edges(self.by_urn[stack.pop()]):
                if dep not in seen and dep in self.by_urn:
                    seen.add(dep)
                    stack.append(dep)
        return seen

    @staticmethod
    def _edges(resource: dict) -> Iterator[str]:
        yield from resource["dependencies"]
        if resource["provider"]:
            yield resource["provider"].rsplit("::", 1)[0]

"""The shape of the code: imports run one way (``__main__``/``stacks`` -> ``components`` -> shared types),
no import cycles, small functions and short lines. Read from the source with ``ast``, nothing imported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.plan import ROOT

PACKAGES = ("components", "stacks", "tools")
MAX_FUNCTION_LINES = 60
MAX_LINE = 120


def sources() -> dict[str, Path]:
    """Project module name -> file, for every module of the program and its tools."""
    found = {"__main__": ROOT / "__main__.py"}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = sources()


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    is_package = MODULES[module].name == "__init__.py"
    base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(module: str) -> set[str]:
    """The project modules ``module`` imports (``from a import b`` counts ``a.b`` when that is a module)."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node)
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        found |= {name for name in names if name in MODULES}
    return found - {module}


GRAPH = {module: imports(module) for module in MODULES}


def test_the_walk_sees_the_project():
    assert "components.cluster.contract" in GRAPH["stacks.capabilities"]
    assert "stacks.config" in GRAPH["__main__"] and len(MODULES) > 50


def test_components_never_import_stacks_or_tools():
    wrong = {m: sorted(i for i in deps if i.split(".")[0] in ("stacks", "tools", "__main__"))
             for m, deps in GRAPH.items() if m.startswith("components")}
    assert {m: d for m, d in wrong.items() if d} == {}


def test_shared_types_import_nothing_of_the_project():
    shared = {m: sorted(d - {x for x in MODULES if x.startswith("components.shared")})
              for m, d in GRAPH.items() if m.startswith("components.shared")}
    assert shared and {m: d for m, d in shared.items() if d} == {}


def test_no_import_cycles():
    state: dict[str, int] = {}
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for dep in sorted(GRAPH[module]):
            if state.get(dep) == 1:
                cycles.append(path[path.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, path + [dep])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def _functions(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.lineno, node.end_lineno - node.lineno + 1


@pytest.mark.parametrize("module", sorted(MODULES))
def test_functions_are_short_and_lines_fit(module):
    path = MODULES[module]
    long_functions = [f"{name} (line {line}): {span} lines" for name, line, span in _functions(path) if span > MAX_FUNCTION_LINES]
    long_lines = [n for n, line in enumerate(path.read_text().splitlines(), 1) if len(line) > MAX_LINE]
    assert (long_functions, long_lines) == ([], []), path


def test_the_checks_can_fail(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    sample = tmp_path / "sample.py"
    sample.write_text(f"def long():\n{body}\n")
    assert [span for _, _, span in _functions(sample)] == [MAX_FUNCTION_LINES + 1]

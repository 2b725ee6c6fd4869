"""pyproject.toml and the requirements files agree: each set's ranges (pyproject) are met by its exact pins
(requirements*.txt), each requirements file pins exactly what its set needs (its direct dependencies and
everything they require, read from the installed packages' metadata), and the MoQ client stays out of the
runtime set the Pulumi program runs with."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.plan import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# requirements file -> the pyproject sets it pins, and the file it includes
SETS = {"requirements.txt": (["dependencies"], None),
        "requirements-tools.txt": (["dependencies", "tools"], "requirements.txt"),
        "requirements-dev.txt": (["dependencies", "tools", "test"], "requirements-tools.txt")}


def pins(name: str) -> dict[str, str]:
    """Package -> exact version, of the file and the files it includes (-r)."""
    found = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found.update(pins(line[3:].strip()))
        elif line:
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^\s;]+)", line)
            assert match, f"{name}: {line!r} is not an exact pin"
            found[canonicalize_name(match[1])] = match[2]
    return found


def declared(sets: list[str]) -> list[Requirement]:
    return [Requirement(r) for s in sets
            for r in (PYPROJECT["dependencies"] if s == "dependencies" else PYPROJECT["optional-dependencies"][s])]


def closure(requirements: list[Requirement]) -> set[str]:
    """The packages ``requirements`` install, through the installed distributions' own requirements."""
    seen, todo = set(), [r for r in requirements if r.marker is None or r.marker.evaluate()]
    while todo:
        name = canonicalize_name(todo.pop().name)
        if name in seen:
            continue
        seen.add(name)
        for text in metadata.distribution(name).requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req)
    return seen


@pytest.mark.parametrize("name", SETS)
def test_each_range_is_met_by_its_pin(name):
    pinned = pins(name)
    for req in declared(SETS[name][0]):
        version = pinned.get(canonicalize_name(req.name))
        assert version, f"{req.name} ({req}) is in pyproject.toml but not pinned in {name}"
        assert req.specifier.contains(version, prereleases=True), f"{name}: {req.name}=={version} is not {req}"


@pytest.mark.parametrize("name", SETS)
def test_each_file_pins_exactly_what_its_set_installs(name):
    pinned = set(pins(name))
    needed = closure(declared(SETS[name][0]))
    assert sorted(needed - pinned) == [], f"{name} misses pins of what pyproject's sets install"
    assert sorted(pinned - needed) == [], f"{name} pins what no set of pyproject.toml needs: add it there, or drop it"


@pytest.mark.parametrize("name", SETS)
def test_the_installed_versions_are_the_pins(name):
    wrong = {p: (v, metadata.version(p)) for p, v in pins(name).items() if metadata.version(p) != v}
    assert wrong == {}, "installed differ from the pins (make venv/.dev reinstalls)"


def test_the_runtime_set_has_no_moq_client():
    runtime = pins("requirements.txt")
    assert not {"moq-rs", "moq-ffi", "aioquic"} & set(runtime)
    assert {"moq-rs", "moq-ffi", "aioquic"} <= set(pins("requirements-tools.txt"))


def test_pulumi_installs_the_runtime_set():
    """Pulumi.yaml's python runtime installs requirements.txt into ./venv (the file the checks above keep lean)."""
    text = (ROOT / "Pulumi.yaml").read_text()
    assert re.search(r"runtime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: venv\n", text)


def test_the_program_imports_nothing_of_the_tools_set():
    """What Pulumi runs (__main__.py, stacks/, components/) imports only the runtime set."""
    import ast

    runtime = pins("requirements.txt")
    tools_only = {canonicalize_name(p) for p in pins("requirements-tools.txt")} - set(runtime)
    modules = {top for dist in tools_only for top in (metadata.distribution(dist).read_text("top_level.txt") or
                                                       dist.replace("-", "_")).split()}
    modules |= {"moq", "moq_ffi", "aioquic", "h2", "service_identity", "OpenSSL"}
    files = [ROOT / "__main__.py", *(ROOT / "stacks").rglob("*.py"), *(ROOT / "components").rglob("*.py")]
    found = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            found |= {f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in modules}
    assert found == set()


def test_plan_init_and_config_check_run_on_the_runtime_set_alone(tmp_path):
    """`make plan`, `make check` and `make init` install requirements.txt only: with the tools' packages made
    unimportable, they still run (the verifier's QUIC stack and the MoQ client are never loaded)."""
    import subprocess
    import sys

    blocked = ("aioquic", "moq", "moq_ffi", "h2", "service_identity", "OpenSSL", "pylsqpack")
    code = (f"import sys; sys.modules.update(dict.fromkeys({blocked!r}))\n"
            "from tools import cli\n"
            f"codes = [cli.main(['plan', 'local', '--out', {str(tmp_path)!r}]),\n"
            "         cli.main(['config', 'check', 'local']),\n"
            f"         cli.main(['init', 'dev', '--cloud', 'existing', '--stacks-dir', {str(tmp_path)!r}]),\n"
            "         cli.main(['config', 'reference']), cli.main(['outputs', 'reference'])]\n"
            "print(codes)")
    for example in (ROOT / "stacks").glob("Pulumi.*.yaml"):
        (tmp_path / example.name).write_text(example.read_text())
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert proc.stdout.strip().splitlines()[-1] == "[0, 0, 0, 0, 0]", proc.stderr

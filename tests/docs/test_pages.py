"""The README and the docs pages stand on their own: no reference outside the repository, no issue numbers,
every README link resolves, and the benchmarks' --help names no issue either."""

import re
import subprocess
import sys

import pytest

from tests.support.plan import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
ISSUE = re.compile(r"\bissues?[- ]?#?\d+|(?<![\w&])#\d+\b", re.I)
OUTSIDE = re.compile(r"\.\./shared|\bshared/seeds\b|project workspace|/work/")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_issue_numbers_or_places_outside_the_repository(page):
    text = page.read_text()
    assert not ISSUE.findall(text) and not OUTSIDE.findall(text)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_stay_inside_the_repository_and_exist(page):
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT) and path.exists(), f"{page.relative_to(ROOT)}: {target}"


def test_the_patterns_catch_what_they_should():
    assert ISSUE.search("the issue-12 restructuring") and ISSUE.search("(issue 14)") and ISSUE.search("see #21")
    assert not ISSUE.search("PKCS#8, `&#8203;`") and OUTSIDE.search("kept in `shared/seeds/`")


@pytest.mark.parametrize("module", ["bench.relay", "bench.tier"])
def test_bench_help_names_no_issue(module):
    run = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0 and "usage:" in run.stdout and not ISSUE.search(run.stdout), run.stdout + run.stderr

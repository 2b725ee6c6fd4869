"""Class 1 of issue 15, kept closed: every pattern that validates input matches the whole string.

``re.match`` with ``$`` accepts a trailing newline ("example.com\\n"), which then reaches Ingress hosts,
Secret names and startup scripts. The project validates with ``fullmatch`` (``matching`` in
components/shared/fields.py, and components/shared/grammar.py); this test fails on any other way back in.
"""

from __future__ import annotations

import re

from tests.support.plan import ROOT

# Where config is validated, and the code that consumes validated values.
SCOPES = ("stacks", "components", "tools/plan", "__main__.py")
FORBIDDEN = [
    (re.compile(r"\.match\("), "a prefix match: use fullmatch"),
    (re.compile(r"""\$["']\)?"""), "a pattern ending in $, which also matches before a trailing newline: drop it and use fullmatch"),
    (re.compile(r"""re\.compile\(r?["']\^"""), "an anchored pattern: drop ^ and use fullmatch"),
    (re.compile(r"""re\.compile\(rf?["'].*\\[dws](?!.*re\.ASCII)"""),
     "\\d, \\w or \\s without re.ASCII, which also match Unicode digits, letters and spaces"),
]


def sources():
    for scope in SCOPES:
        path = ROOT / scope
        yield from ([path] if path.is_file() else sorted(path.rglob("*.py")))


def test_no_prefix_matches_or_dollar_anchors():
    found = [f"{path.relative_to(ROOT)}:{number}: {why}"
             for path in sources() for number, line in enumerate(path.read_text().splitlines(), 1)
             for pattern, why in FORBIDDEN if pattern.search(line) and "noqa: fullmatch" not in line]
    assert not found, "\n".join(found)


def test_the_check_can_fail(tmp_path):
    bad = 'VERSION = re.compile(r"^\\d+$")\nif VERSION.match(value): pass\n'
    hits = [why for line in bad.splitlines() for pattern, why in FORBIDDEN if pattern.search(line)]
    assert len(hits) == 4
    assert not [p for p, _ in FORBIDDEN if p.search('ID = re.compile(r"\\d{12}", re.ASCII)')]

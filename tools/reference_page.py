"""The docs pages that embed a generated reference between two markers, and how to rewrite them in place.

``tools.config_reference`` and ``tools.outputs_reference`` render their tables; this module finds the block
between the markers in the page under ``docs/reference/`` and replaces it, so a regenerated reference never
needs pasting by hand. tests/test_readme.py reads the same pages and fails when a block is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference"


def embedded(page: Path, begin: str, end: str) -> str:
    """The generated block of ``page``, markers included."""
    text = page.read_text()
    start = text.index(begin)
    return text[start:text.index(end, start) + len(end)]


def rewrite(page: Path, begin: str, end: str, rendered: str) -> bool:
    """Replace the block of ``page`` with ``rendered``; True when the page changed."""
    text = page.read_text()
    current = embedded(page, begin, end)
    if current == rendered:
        return False
    page.write_text(text.replace(current, rendered, 1))
    return True


def main(page: Path, begin: str, end: str, render: Callable[[], str], argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=f"Print the generated block of {page.relative_to(ROOT)}.")
    parser.add_argument("--write", action="store_true", help=f"rewrite it in {page.relative_to(ROOT)} instead")
    args = parser.parse_args(argv)
    if not args.write:
        print(render())
        return 0
    changed = rewrite(page, begin, end, render())
    print(f"{page.relative_to(ROOT)}: {'updated' if changed else 'already up to date'}", file=sys.stderr)
    return 0

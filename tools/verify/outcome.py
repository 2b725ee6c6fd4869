"""How a check ends besides returning its verdict: shared by the checks and the modules they load on use."""

from __future__ import annotations

Verdict = tuple[str, str, dict]
"""(status, one-line summary, figures) of a check that ran to its end."""


class Failed(Exception):
    def __init__(self, summary: str, figures: dict | None = None):
        super().__init__(summary)
        self.summary, self.figures = summary, figures or {}


class Skipped(Exception):
    pass

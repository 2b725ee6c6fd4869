"""How results are shown: a table for people, JSON for CI, and a progress line while checks run."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TextIO

from .checks import Endpoint, Result
from .net import Trust

MARKS = {"pass": "✔", "warn": "!", "fail": "✘", "skip": "-"}
ASCII_MARKS = {"pass": "ok  ", "warn": "warn", "fail": "FAIL", "skip": "skip"}


def counts(results: list[Result]) -> dict[str, int]:
    return {status: sum(r.status == status for r in results) for status in MARKS}


def table(endpoints: list[Endpoint], results: list[Result], trust: Trust, seconds: float, encoding: str | None) -> str:
    try:
        "".join(MARKS.values()).encode(encoding or "ascii")
        marks = MARKS
    except (UnicodeEncodeError, LookupError):
        marks = ASCII_MARKS
    name_width = max(len(ep.name) for ep in endpoints)
    check_width = max(len(r.check) for r in results)
    lines = [f"quicstack verify: {len(endpoints)} endpoint{'s' if len(endpoints) != 1 else ''}, trust: {trust.label}"]
    lines += [f"  {ep.name:<{name_width}}  {ep.url}" for ep in endpoints]
    lines.append("")
    lines += [f"{marks[r.status]} {r.endpoint:<{name_width}}  {r.check:<{check_width}}  {r.summary}" for r in results]
    n = counts(results)
    lines.append("")
    lines.append(f"{n['pass']} passed, {n['warn']} warning{'s' if n['warn'] != 1 else ''}, {n['fail']} failed, "
                 f"{n['skip']} skipped in {seconds:.1f} s")
    return "\n".join(lines)


def as_json(endpoints: list[Endpoint], results: list[Result], trust: Trust, seconds: float, timeout: float) -> str:
    n = counts(results)
    return json.dumps({
        "ok": n["fail"] == 0,
        "passed": n["pass"], "warnings": n["warn"], "failed": n["fail"], "skipped": n["skip"],
        "seconds": round(seconds, 3),
        "timeout": timeout,
        "trust": trust.label,
        "endpoints": [{"name": ep.name, "role": ep.role, "url": ep.url} for ep in endpoints],
        "checks": [{"endpoint": r.endpoint, "check": r.check, "status": r.status, "summary": r.summary,
                    "ms": round(r.ms, 1), "figures": r.figures} for r in results],
    }, indent=2, ensure_ascii=False)


class Progress:
    """One self-rewriting line on a terminal (nothing when stderr is not a TTY): checks done, failures, time."""

    def __init__(self, total: int, stream: TextIO):
        self.total, self.stream = total, stream
        self.enabled = stream.isatty()
        self.done = self.failed = 0
        self.started = time.perf_counter()

    def __call__(self, result: Result) -> None:
        self.done += 1
        self.failed += result.status == "fail"
        self.draw()

    def draw(self) -> None:
        if self.enabled:
            failed = f", {self.failed} failed" if self.failed else ""
            self.stream.write(f"\rverifying: {self.done}/{self.total} checks done{failed}, "
                              f"{time.perf_counter() - self.started:.1f} s\x1b[K")
            self.stream.flush()

    async def tick(self) -> None:
        while True:
            self.draw()
            await asyncio.sleep(0.2)

    def clear(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

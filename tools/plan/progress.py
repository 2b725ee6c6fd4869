"""A progress line on stderr while a plan runs, when stderr is a terminal (never in a pipe or a log).

A plan of a cloud stack takes several seconds on a small machine (imports of the cloud SDKs, hundreds of
resources); after ``DELAY`` seconds of silence the line says what is happening and how many resources
are registered so far, rewritten in place, and is erased when the plan ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TextIO

DELAY = 1.0
INTERVAL = 0.25


class Progress:
    def __init__(self, stream: TextIO, stack: str, count: Callable[[], int], delay: float = DELAY):
        self.stream, self.stack, self.count, self.delay = stream, stack, count, delay
        self.started = time.perf_counter()
        self.shown = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if _is_terminal(self.stream):
            self._thread = threading.Thread(target=self._run, name="plan-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def line(self) -> str:
        seconds = time.perf_counter() - self.started
        count = self.count()
        what = f"{count} resource{'s' if count != 1 else ''} registered" if count else "loading the program"
        return f"planning {self.stack} offline (the program under mocks): {what}, {seconds:.0f} s"

    def _run(self) -> None:
        if self._stop.wait(self.delay):
            return
        shown = None
        while True:
            line = self.line()
            if line != shown:  # rewritten in place only when it changes
                self.stream.write(f"\r\033[K{line}")
                self.stream.flush()
                self.shown, shown = True, line
            if self._stop.wait(INTERVAL):
                return


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False

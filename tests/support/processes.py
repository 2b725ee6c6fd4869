"""Processes the tests (and the benchmark) start: output to a log file, waits bounded in time, and always
stopped again by PID (SIGTERM, then SIGKILL when the process does not exit in time)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator


# Set by an outer make (`make test`): an inner make would then print "Entering directory" lines and prefix its
# errors with `make[1]:`, which a user's shell never shows.
MAKE_VARIABLES = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")


def outside_make(drop: tuple[str, ...] = ()) -> dict[str, str]:
    """This process's environment as a user's shell has it (no outer make), without the ``drop`` variables."""
    return {k: v for k, v in os.environ.items() if k not in MAKE_VARIABLES + drop}


def stop(process: subprocess.Popen, grace: float = 10) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def started(command: list[str], log: Path, **popen) -> Iterator[subprocess.Popen]:
    """``command`` running with stdout and stderr in ``log`` until the block ends."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, **popen)
    try:
        yield process
    finally:
        stop(process)


def wait_for_output(log: Path, text: str, process: subprocess.Popen, timeout: float) -> None:
    """Wait until ``text`` appears in ``log``; fails with the log's tail if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            why = f"exited with {process.returncode}" if process.poll() is not None else f"not within {timeout} s"
            raise RuntimeError(f"{log.name}: no {text!r} ({why}):\n{log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.05)


def wait_until(ready: Callable[[], object], proc: subprocess.Popen, log: Path, what: str, timeout: float = 30) -> None:
    """Until ``ready()`` returns without OSError, or fail with the end of ``log``: "<what> exited with <code>" when
    ``proc`` ended, "<what> was not ready within <timeout> s" when time ran out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            ready()
            return
        except OSError:
            ended = proc.poll() is not None
            if ended or time.monotonic() > deadline:
                output = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                why = f"exited with {proc.returncode}" if ended else f"was not ready within {timeout} s"
                raise RuntimeError(f"{what} {why}:\n{output}") from None
            time.sleep(0.05)


def wait_for_tcp(port: int, proc: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    """Until 127.0.0.1:``port`` accepts a connection (like a kubelet TCP probe)."""
    wait_until(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close(), proc, log,
               f"the server on port {port}", timeout)

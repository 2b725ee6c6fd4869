"""A subprocess for the length of a ``with`` block: output to a log file, ended by PID (terminate, then kill)."""

from __future__ import annotations

import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Optional


def stop(proc: subprocess.Popen, timeout: float = 10) -> None:
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def running(command: list[str], log: Path, env: Optional[dict] = None,
            cwd: Optional[Path] = None) -> Iterator[subprocess.Popen]:
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
                                cwd=cwd)
    try:
        yield proc
    finally:
        stop(proc)


def wait_until(ready: Callable[[], object], proc: subprocess.Popen, log: Path, what: str, timeout: float = 30) -> None:
    """Until ``ready()`` returns without OSError, or fail (``proc`` ended, or ``timeout``) with the end of ``log``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            ready()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                output = log.read_text()[-3000:] if log.exists() else ""
                raise AssertionError(f"{what} (exit code {proc.poll()}):\n{output}") from None
            time.sleep(0.1)


def wait_for_tcp(port: int, proc: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    """Until 127.0.0.1:``port`` accepts a connection (like a kubelet TCP probe)."""
    wait_until(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close(), proc, log,
               f"nothing listens on {port}", timeout)

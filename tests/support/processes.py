"""Ending what a test started: by its PID, politely first."""

from __future__ import annotations

import subprocess


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if ``process`` is still there after ``timeout`` seconds; always reaped."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()

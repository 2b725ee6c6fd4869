"""Publish and subscribe with the real MoQ client (PyPI ``moq-rs``), each peer in its own process.

- :func:`session_url` builds the URL a peer dials: the relay, the session's root path, ``?jwt=``.
- :func:`publishing` starts a publisher of given frames on one track and stops it (by PID) when the
  block ends; it sends once a subscriber is there (a live track starts at its newest group).
- :func:`subscribe` reads ``count`` frames of a track back; :func:`announced` lists announced paths.
- :func:`round_trip` does both through a relay.

Every peer is bounded in time; results carry the peer's JSON events (``tests/support/moq_peer.py``)
and, on failure, the error kind (``Unauthorized``, ``timeout``, ...).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional
from urllib.parse import quote

from tests.support.moq_peer import read_frames, write_frames
from tests.support.plan import ROOT
from tests.support.processes import stop

PEER = [sys.executable, "-m", "tests.support.moq_peer"]


def session_url(relay_url: str, path: str = "", jwt: Optional[str] = None) -> str:
    """``<relay>/<path>[?jwt=<token>]``: the path is the session's root (broadcast paths are relative to it)."""
    url = f"{relay_url.rstrip('/')}/{path.strip('/')}" if path.strip("/") else relay_url.rstrip("/")
    return f"{url}?jwt={quote(jwt, safe='')}" if jwt else url


def sample_frames(count: int, size: int = 1000) -> list[bytes]:
    """``count`` distinct frames of ``size`` bytes (random, each starting with its index)."""
    return [i.to_bytes(4, "big") + os.urandom(size - 4) for i in range(count)]


@dataclass
class PeerResult:
    returncode: Optional[int]
    events: list[dict]
    stderr: str

    @property
    def error(self) -> Optional[dict]:
        return next((e for e in self.events if e["event"] == "error"), None)

    def has(self, event: str) -> bool:
        return any(e["event"] == event for e in self.events)

    def __str__(self) -> str:
        return f"rc={self.returncode} events={self.events} stderr={self.stderr[-2000:]}"


def _events(path: Path) -> list[dict]:
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    return [json.loads(line) for line in lines if line.startswith("{")]


def _peer_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


class Publisher:
    """A running publisher process (see :func:`publishing`)."""

    def __init__(self, process: subprocess.Popen, out: Path, err: Path):
        self.process, self._out, self._err = process, out, err

    def result(self) -> PeerResult:
        return PeerResult(self.process.poll(), _events(self._out), self._err.read_text(errors="replace"))

    def wait_for(self, event: str, timeout: float) -> PeerResult:
        """Wait until the publisher reports ``event`` (or fails, or exits); returns what it reported so far."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.result()
            if result.has(event) or result.error or result.returncode is not None or time.monotonic() > deadline:
                return result
            time.sleep(0.05)


@contextmanager
def publishing(url: str, ca: Path, broadcast: str, frames: list[bytes], workdir: Path, *, track: str = "data",
               group_size: int = 5, wait: float = 15, hold: float = 60) -> Iterator[Publisher]:
    """Publish ``frames`` on ``broadcast``/``track`` at ``url`` until the block ends (the process is then killed)."""
    workdir.mkdir(parents=True, exist_ok=True)
    tag = f"{broadcast.replace('/', '_')}-{time.time_ns()}"
    source, out, err = workdir / f"{tag}.frames", workdir / f"{tag}.pub.out", workdir / f"{tag}.pub.err"
    write_frames(source, frames)
    command = [*PEER, *peer_args("publish", url, ca, broadcast=broadcast, track=track, frames=source,
                                 group_size=group_size, wait=wait, hold=hold)]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, cwd=ROOT, env=_peer_env())
    try:
        yield Publisher(process, out, err)
    finally:
        stop(process)


def peer_args(command: str, url: str, ca: Path, **options) -> list[str]:
    """``moq_peer`` arguments: ``COMMAND --url URL --ca CA --option-name VALUE ...``."""
    return [command, "--url", url, "--ca", str(ca),
            *(item for name, value in options.items() for item in (f"--{name.replace('_', '-')}", str(value)))]


def _run(args: list[str], timeout: float) -> PeerResult:
    try:
        proc = subprocess.run(
            [*PEER, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=_peer_env()
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        return PeerResult(
            None, [*events, {"event": "error", "kind": "timeout", "message": f"killed after {timeout} s"}], ""
        )
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return PeerResult(proc.returncode, events, proc.stderr)


def subscribe(
    url: str, ca: Path, broadcast: str, count: int, workdir: Path, *, track: str = "data", wait: float = 15
) -> tuple[PeerResult, list[bytes]]:
    """Wait for ``broadcast`` to be announced at ``url``, read ``count`` frames of ``track``; (result, frames)."""
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / f"{broadcast.replace('/', '_')}-{time.time_ns()}.sub.frames"
    args = peer_args("subscribe", url, ca, broadcast=broadcast, track=track, count=count, out=out, wait=wait)
    result = _run(args, timeout=wait * 3 + 15)
    return result, read_frames(out) if out.exists() else []


def announced(url: str, ca: Path, prefix: str = "", wait: float = 3) -> PeerResult:
    """Collect the broadcast paths announced under ``prefix`` for ``wait`` seconds (event ``done`` has ``paths``)."""
    return _run(peer_args("announced", url, ca, prefix=prefix, wait=wait), timeout=wait + 30)


def round_trip(publish_url: str, subscribe_url: str, ca: Path, frames: list[bytes], workdir: Path, *,
               broadcast: str = "roundtrip", group_size: int = 5, wait: float = 15,
               ) -> tuple[PeerResult, PeerResult, list[bytes]]:
    """Publish ``frames`` at one URL and read them back at another: (publisher, subscriber, frames read)."""
    with publishing(publish_url, ca, broadcast, frames, workdir, group_size=group_size, wait=wait) as publisher:
        publisher.wait_for("announced", wait)
        subscriber, received = subscribe(subscribe_url, ca, broadcast, len(frames), workdir, wait=wait)
        return publisher.result(), subscriber, received

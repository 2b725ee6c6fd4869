"""A MoQ peer on the real client library (PyPI ``moq-rs``), run as its own process by ``moq_client.py``.

``python -m tests.support.moq_peer publish|subscribe|announced ...`` prints one JSON object per line
on stdout (``{"event": ...}``); a failure is ``{"event": "error", "kind": <MoqError variant or
timeout>, "message": ...}`` and exit code 1. The library runs its own Tokio runtime under asyncio;
a process per peer keeps it out of the pytest process (and its event loop) and lets a test kill a
peer that hangs.

Frames travel through files: 4-byte big-endian length, then the payload, per frame.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import struct
import sys
from pathlib import Path


def write_frames(path: Path, frames: list[bytes]) -> None:
    path.write_bytes(b"".join(struct.pack(">I", len(f)) + f for f in frames))


def read_frames(path: Path) -> list[bytes]:
    data, frames, at = path.read_bytes(), [], 0
    while at < len(data):
        (size,) = struct.unpack_from(">I", data, at)
        frames.append(data[at + 4 : at + 4 + size])
        at += 4 + size
    return frames


def emit(event: str, **fields) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


class SessionClosed(Exception):
    """The relay ended the session first (how it refuses a token after the handshake)."""


async def _unless_closed(client, awaitable, wait: float):
    """``awaitable``'s result, unless the session closes first (:class:`SessionClosed`) or ``wait`` passes."""
    work = asyncio.ensure_future(awaitable)
    closed = asyncio.ensure_future(client.session.closed())
    try:
        done, _ = await asyncio.wait({work, closed}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (work, closed):
            if not task.done():
                task.cancel()
    if work in done:
        return work.result()
    if closed in done:
        raise SessionClosed(f"the relay closed the session{_why(closed.exception())}")
    raise asyncio.TimeoutError


def _why(cause) -> str:
    """The relay's reason for a close (moq-rs 0.5 ends ``Session.closed()`` with it), as ``": reason"``."""
    if cause is None:
        return ""
    import moq

    details = moq.protocol_error(cause)
    return f": {details.message}" if details and details.message else f": {type(cause).__name__}"


def _client(args):
    import moq

    # Trust exactly the given CA, like a browser that imported it, and not the system store. An https:// URL is
    # QUIC only (no WebSocket fallback racing it): such peers test the relay's QUIC port; a ws:// or wss:// URL is
    # the WebSocket fallback itself. One dial, no reconnect loop: a relay that ends the session ends this peer.
    websocket = args.url.startswith(("ws://", "wss://"))
    return moq.Client(args.url, tls_roots=[args.ca], tls_system_roots=False, websocket_enabled=websocket,
                      reconnect=False)


async def publish(args) -> None:
    frames = read_frames(Path(args.frames))
    async with _client(args) as client:
        emit("connected")
        # Created unannounced: the track goes in first, then the announcement carries a complete broadcast.
        broadcast = client.create_broadcast(args.broadcast)
        track = broadcast.publish_track(args.track)
        broadcast.announce()
        emit("announced")
        # Live tracks start at the newest group: wait until the relay subscribes for someone.
        await _unless_closed(client, track.used(), args.wait)
        emit("subscribed")
        for start in range(0, len(frames), args.group_size):
            group = track.append_group()
            for i, frame in enumerate(frames[start : start + args.group_size], start):
                group.write_frame(frame, timestamp_us=i * 1000)
            group.finish()
            if args.interval:
                await asyncio.sleep(args.interval)
        emit("sent", frames=len(frames))
        await asyncio.sleep(args.hold)  # keep the broadcast up until the test has read it back
        track.finish()


async def subscribe(args) -> None:
    import moq

    async with _client(args) as client:
        emit("connected")
        broadcast = await _unless_closed(client, client.announced_broadcast(args.broadcast).available(), args.wait)
        emit("announced")
        # From the track's first group, every group: a live subscription starts at the newest group, and the
        # publisher may have written several by the time the relay forwards this subscription. The client skips a
        # group as soon as a newer one arrives unless max_age allows that much presentation time (the publisher's
        # track caps it, 5 s by default; these frames are 1 ms apart). Groups are read as they arrive (a relay
        # forwards them on parallel streams, and reading in sequence would wait on one that comes later or not at
        # all) and put back in sequence order.
        track = await broadcast.subscribe_track(args.track, moq.Subscription(group_start=0, max_age_us=60_000_000))
        emit("subscribed")
        groups: dict[int, list[bytes]] = {}
        async with track:
            while sum(map(len, groups.values())) < args.count:
                group = await asyncio.wait_for(track.recv_group(), args.wait)
                if group is None:
                    break
                async with group:
                    frames = groups.setdefault(group.sequence, [])
                    async for frame in group:
                        frames.append(bytes(frame.payload))
        received = [frame for sequence in sorted(groups) for frame in groups[sequence]]
        write_frames(Path(args.out), received)
        emit("received", frames=len(received))


async def announced(args) -> None:
    """Every broadcast path announced under ``--prefix`` within ``--wait`` seconds, once each (a retraction is
    reported as ``unannounced`` and leaves the path in the list)."""
    paths: list[str] = []
    async with _client(args) as client:
        emit("connected")

        async def collect():
            async for update in client.announced(args.prefix):
                if update.active:
                    if update.prefix not in paths:  # a repeated announcement is a route update, not a new path
                        paths.append(update.prefix)
                    emit("announcement", path=update.prefix)
                else:
                    emit("unannounced", path=update.prefix)

        try:
            await asyncio.wait_for(collect(), args.wait)
        except asyncio.TimeoutError:
            pass
    emit("done", paths=paths)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tests.support.moq_peer")
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("publish", "subscribe", "announced"):
        s = sub.add_parser(name)
        s.add_argument("--url", required=True, help="relay URL with the session path (and ?jwt=)")
        s.add_argument("--ca", required=True, help="PEM file of the CA to trust")
        s.add_argument("--wait", type=float, default=10, help="seconds to wait for the other side")
        if name != "announced":
            s.add_argument("--broadcast", required=True)
            s.add_argument("--track", default="data")
    pub = sub.choices["publish"]
    pub.add_argument("--frames", required=True, help="file of length-prefixed frames to send")
    pub.add_argument("--group-size", type=int, default=5)
    pub.add_argument("--interval", type=float, default=0.0, help="seconds between groups")
    pub.add_argument("--hold", type=float, default=30, help="seconds to stay up after sending")
    sub.choices["subscribe"].add_argument("--count", type=int, required=True, help="frames to read")
    sub.choices["subscribe"].add_argument("--out", required=True, help="file for the frames read")
    sub.choices["announced"].add_argument("--prefix", default="")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    import moq

    try:
        asyncio.run({"publish": publish, "subscribe": subscribe, "announced": announced}[args.command](args))
    except asyncio.TimeoutError:
        emit("error", kind="timeout", message=f"nothing within {args.wait} s")
        return 1
    except SessionClosed as exc:
        emit("error", kind="closed", message=str(exc))
        return 1
    except moq.Error as exc:
        emit("error", kind=type(exc).__name__, message=str(exc))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

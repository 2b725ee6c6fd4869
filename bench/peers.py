"""The benchmark's MoQ peers on the real client library (PyPI ``moq-rs``), each run as its own process.

``python -m bench.peers publish ...`` publishes one track at a video-like rate: ``fps`` frames a second,
a group (a "GOP") every ``group_seconds``, whose first frame (the "keyframe") is ``keyframe_ratio`` times
the size of the others, sized so the track averages ``bitrate``. Each frame starts with the publisher's
CLOCK_MONOTONIC time in nanoseconds and its sequence number, so a subscriber on the same machine reads
the publish-to-receipt latency off the frame itself. With ``--serve`` the publisher is a MoQ server that
subscribers dial directly (the no-relay baseline); otherwise it dials the relay. It appends one line
``seq send_ns`` per frame to ``--sent``.

``python -m bench.peers subscribe ...`` runs ``--clients`` subscribers in one process (one MoQ session
each, all on one asyncio loop: hundreds of subscribers cost a few processes), says ``subscribed`` once all
are in or ``--wait`` is over, and, on SIGTERM, writes ``--out`` (JSON: per client, ``[seq, send_ns,
receive_ns]`` per frame; how many had subscribed; the errors that ended a subscriber; and how often a group
was skipped, by error).
Both print ``{"event": ...}`` lines on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import struct
import sys
import time
from collections import Counter
from pathlib import Path

HEADER = struct.Struct(">QI")
BROADCAST, TRACK = "bench", "video"


def emit(event: str, **fields) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def frame_sizes(bitrate: int, fps: int, group_frames: int, keyframe_ratio: float) -> tuple[int, int]:
    """(keyframe, other frame) sizes in bytes so that a group averages ``bitrate``."""
    per_group = bitrate / 8 * group_frames / fps
    delta = per_group / (keyframe_ratio + group_frames - 1)
    return max(HEADER.size, round(delta * keyframe_ratio)), max(HEADER.size, round(delta))


def _client(moq, args):
    """QUIC only, like the load it measures (no WebSocket fallback racing it), and one dial (no reconnect loop)."""
    return moq.Client(args.url, tls_roots=[args.ca], tls_system_roots=False, websocket_enabled=False,
                      reconnect=False)


async def _send(track, args, sent) -> None:
    group_frames = round(args.fps * args.group_seconds)
    keyframe, delta = frame_sizes(args.bitrate, args.fps, group_frames, args.keyframe_ratio)
    filler = os.urandom(max(keyframe, delta))
    start, group = time.monotonic_ns(), None
    for seq in range(int(args.seconds * args.fps)):
        due = start + seq * 1_000_000_000 // args.fps
        await asyncio.sleep(max(0.0, (due - time.monotonic_ns()) / 1e9))
        if seq % group_frames == 0:
            if group is not None:
                group.finish()
            group = track.append_group()
        size = keyframe if seq % group_frames == 0 else delta
        now = time.monotonic_ns()
        payload = HEADER.pack(now, seq) + filler[:size - HEADER.size]
        group.write_frame(payload, timestamp_us=seq * 1_000_000 // args.fps)
        sent.write(f"{seq} {now}\n")
    if group is not None:
        group.finish()


async def publish(args) -> None:
    import moq

    with open(args.sent, "w", buffering=1) as sent:
        if args.serve:
            async with moq.Server(args.serve, tls_cert=[args.cert], tls_key=[args.key]) as server:
                producer = server.create_broadcast(BROADCAST)
                track = producer.publish_track(TRACK)
                producer.announce()  # created unannounced: the track first, then the announcement
                serving = asyncio.ensure_future(server.serve())
                emit("ready", url=f"https://{server.local_addr}")
                try:
                    await _send(track, args, sent)
                finally:
                    serving.cancel()
        else:
            async with _client(moq, args) as client:
                producer = client.create_broadcast(BROADCAST)  # held: dropping it ends the broadcast
                track = producer.publish_track(TRACK)
                producer.announce()  # created unannounced: the track first, then the announcement
                emit("ready", url=args.url)
                await _send(track, args, sent)
    emit("done")


async def _read_group(moq, group, frames: list, errors: Counter) -> None:
    try:
        async with group:
            async for frame in group:
                received = time.monotonic_ns()
                send_ns, seq = HEADER.unpack_from(frame.payload)
                frames.append((seq, send_ns, received))
    except moq.Error as exc:
        if not moq.is_shutdown(exc):
            errors[f"{type(exc).__name__}: {exc}"[:80]] += 1


async def _subscriber(moq, args, index: int, frames: list, errors: Counter, subscribed: asyncio.Queue) -> None:
    """One live subscriber: reads groups as they arrive, each on its own task, and gives up a group once two
    newer ones have started (a live player skips ahead too; its missing frames count as lost). Reading
    one group at a time would leave newer groups' streams unread, and the QUIC flow-control window with them."""
    async with _client(moq, args) as client:
        broadcast = await asyncio.wait_for(client.announced_broadcast(BROADCAST).available(), args.wait)
        track = await broadcast.subscribe_track(TRACK)
        subscribed.put_nowait(index)
        readers: dict[int, asyncio.Task] = {}
        try:
            async with track:
                while (group := await track.recv_group()) is not None:
                    newest = group.sequence
                    readers[newest] = asyncio.ensure_future(_read_group(moq, group, frames, errors))
                    for stale in [seq for seq in readers if seq < newest - 1 or readers[seq].done()]:
                        readers.pop(stale).cancel()
        finally:
            for reader in readers.values():
                reader.cancel()


async def _all_in(subscribed: asyncio.Queue, clients: int, wait: float) -> int:
    """How many sessions subscribed: all of them, or those in when ``wait`` seconds are over."""
    deadline, count = time.monotonic() + wait, 0
    while count < clients:
        try:
            await asyncio.wait_for(subscribed.get(), max(0.0, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            break
        count += 1
    return count


async def subscribe(args) -> None:
    import moq

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    frames: list[list] = [[] for _ in range(args.clients)]
    errors: Counter = Counter()
    subscribed: asyncio.Queue = asyncio.Queue()
    tasks = [asyncio.ensure_future(_subscriber(moq, args, i, frames[i], errors, subscribed))
             for i in range(args.clients)]
    count = 0
    try:
        count = await _all_in(subscribed, args.clients, args.wait)
        emit("subscribed", clients=count, of=args.clients)
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        failed = [repr(t.exception())[:200] for t in tasks if t.done() and not t.cancelled() and t.exception()]
        Path(args.out).write_text(json.dumps({"clients": frames, "subscribed": count, "errors": failed,
                                              "skips": errors}))
        emit("written", frames=sum(map(len, frames)))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.peers")
    sub = p.add_subparsers(dest="command", required=True)
    pub = sub.add_parser("publish")
    pub.add_argument("--url", help="relay session URL to publish at (or --serve)")
    pub.add_argument("--ca", help="PEM CA file the relay's certificate chains to")
    pub.add_argument("--serve", metavar="ADDRESS:PORT", help="be a MoQ server instead (no relay)")
    pub.add_argument("--cert", help="with --serve: PEM certificate chain")
    pub.add_argument("--key", help="with --serve: PEM private key")
    pub.add_argument("--sent", required=True, help="file for one `seq send_ns` line per frame")
    pub.add_argument("--bitrate", type=int, default=2_000_000)
    pub.add_argument("--fps", type=int, default=30)
    pub.add_argument("--group-seconds", type=float, default=1.0)
    pub.add_argument("--keyframe-ratio", type=float, default=10.0)
    pub.add_argument("--seconds", type=float, required=True, help="how long to publish")
    s = sub.add_parser("subscribe")
    s.add_argument("--url", required=True)
    s.add_argument("--ca", required=True)
    s.add_argument("--clients", type=int, default=1)
    s.add_argument("--wait", type=float, default=20, help="seconds to wait for the broadcast")
    s.add_argument("--out", required=True)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        asyncio.run(publish(args) if args.command == "publish" else subscribe(args))
    except asyncio.TimeoutError:
        emit("error", message="timed out waiting for the broadcast")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

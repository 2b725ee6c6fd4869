"""The ``moq`` check: a real MoQ session with the relay (PyPI ``moq-rs``, the upstream Rust client).

Without a token it finds a broadcast announced under the session path (the public prefix) and reads
frames of its first media track back. With ``--token`` it publishes a short probe broadcast of its
own and reads it back on a second session, so the round trip is measured from publish to receipt.

The client connects to the address the DNS check found, pinned to the certificate that a QUIC
handshake verified for the URL's host name with the same trust as every other check (the client
library resolves names itself and takes no separate TLS server name; ``*.localhost`` names would not
resolve there).

``run`` is the endpoint's ``checks.EndpointRun`` (not imported: ``checks`` loads this module on use).
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import time
from contextlib import AsyncExitStack
from urllib.parse import quote

from .outcome import Failed, Skipped, Verdict

PROBE_FRAMES = 5
PROBE_TRACK = "probe"
FRAMES_TO_READ = 10
SHARE_TO_FIND = 0.5
"""Share of the check's time bound spent waiting for an announcement (the rest reads frames)."""


def _library():
    try:
        import moq
    except ImportError:
        raise Skipped("not run: the MoQ client is not installed (make venv)") from None
    return moq


class Clock:
    """The check's time budget and its sessions: each step fails with its own reason when the budget runs
    out, or with the relay's reason when it closes a session meanwhile (the client library reports a
    refused session only as a close right after connecting)."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds
        self.closed: list[asyncio.Future] = []
        self.branches: list[asyncio.Future] = []

    def watch(self, session) -> None:
        self.closed.append(asyncio.ensure_future(session.closed()))

    def branch(self, session) -> "Clock":
        """The same budget, watching this clock's sessions and ``session`` as well: a step on one session does not
        fail because another, unrelated session closed."""
        watched = asyncio.ensure_future(session.closed())
        self.branches.append(watched)  # stopped with this clock
        other = Clock(0)
        other.end, other.closed = self.end, [*self.closed, watched]
        return other

    def left(self, share: float = 1.0) -> float:
        """``share`` of the seconds left in the budget."""
        return max(0.0, self.end - time.monotonic()) * share

    async def within(self, awaitable, reason: str, share: float = 1.0):
        step = asyncio.ensure_future(awaitable)
        done, _ = await asyncio.wait([step, *self.closed], timeout=self.left(share),
                                     return_when=asyncio.FIRST_COMPLETED)
        if step in done:
            return step.result()
        step.cancel()
        for closed in done:
            raise closed.exception() or Failed("the relay closed the MoQ session")
        raise Failed(reason)

    def stop(self) -> None:
        for closed in (*self.closed, *self.branches):
            if closed.done() and not closed.cancelled():
                closed.exception()  # retrieved: a session the relay closed ends closed() with its reason
            closed.cancel()


async def verified_fingerprint(run) -> str:
    """SHA-256 of the certificate the relay presents over QUIC, verified for the URL's host name."""
    from . import net

    return await net.quic_fingerprint(run.address, run.ep.port, run.opts.trust.quic_configuration(run.ep.host))


def session_url(run, token: str | None, via: int | None = None) -> str:
    """The session's URL at the relay's address, or at 127.0.0.1:``via`` (a ``forwarder.Forwarder``)."""
    host = "127.0.0.1" if via else f"[{run.address}]" if ":" in run.address else run.address
    url = f"https://{host}:{via or run.ep.port}/{run.session_path.split('?')[0].strip('/')}"
    return f"{url}?jwt={quote(token, safe='')}" if token else url


def client(moq, run, fingerprint: str, token: str | None, via: int | None = None):
    """QUIC only (the ``websocket`` row checks the relay's WebSocket side; a fallback racing QUIC here could pass
    this row on TCP) and one dial (no reconnect loop: a session the relay ends fails the step that waits on it)."""
    url = session_url(run, token, via)
    once = {"websocket_enabled": False, "reconnect": False}
    if run.opts.trust.insecure:
        return moq.Client(url, tls_verify=False, **once)
    return moq.Client(url, tls_fingerprints=[fingerprint], tls_system_roots=False, **once)


def refused(moq, exc: Exception, run) -> str | None:
    """The one line for a session the relay refused, or None when ``exc`` is something else."""
    if not (moq.is_auth(exc) or re.search(r"\b(unauthorized|forbidden)\b", str(exc), re.IGNORECASE)):
        return None
    path = run.session_path
    if run.opts.token:
        return (f"the relay refused the token on {path}: it expired, names another path, or was signed by a "
                "key the relay does not have")
    return f"the relay refused an anonymous session on {path}: that path needs a token (--token)"


async def with_sessions(run, body) -> Verdict:
    """``await body(moq, fingerprint, clock)`` within the check's time budget; a MoQ error ends in one line."""
    moq = _library()
    fingerprint = await verified_fingerprint(run)
    clock = Clock(run.opts.timeout)
    try:
        return await body(moq, fingerprint, clock)
    except moq.Error as exc:
        reason = refused(moq, exc, run)
        if reason:
            raise Failed(reason) from None
        details = moq.protocol_error(exc)  # a session the relay closed carries its reason here, not in str()
        reason = f"{details.kind.name.lower()} ({details.message})" if details else str(exc)
        raise Failed(f"the MoQ session failed: {type(exc).__name__}: {reason}".splitlines()[0]) from None
    finally:
        clock.stop()


async def check_moq(run) -> Verdict:
    steps = probe_round_trip if run.opts.token or run.opts.probe else read_announced
    return await with_sessions(run, lambda moq, fingerprint, clock: steps(moq, run, fingerprint, clock))


async def connect(stack: AsyncExitStack, moq, run, fingerprint: str, clock: Clock, via: int | None = None):
    session = await stack.enter_async_context(client(moq, run, fingerprint, run.opts.token, via))
    clock.watch(session.session)
    return session


async def _first_media_track(broadcast, clock: Clock, path: str) -> str:
    catalogs = await broadcast.subscribe_catalog()
    async with catalogs:
        catalog = await clock.within(catalogs.__anext__(), f"{path} is announced but sent no catalog: "
                                     "it is not a media broadcast the watch page can play", share=0.5)
    names = [*catalog.video, *catalog.audio]
    if not names:
        raise Failed(f"{path} is announced but its catalog lists no video or audio track")
    return names[0]


async def read(track, clock: Clock, count: int, reason: str) -> list:
    """Up to ``count`` frames from a track consumer (arrival of the first one is required)."""
    frames: list = []
    async with track:
        while len(frames) < count:
            try:
                group = await clock.within(track.next_group(), reason)
            except Failed:
                if frames:
                    break
                raise
            if group is None:
                break
            async with group:
                async for frame in group:
                    frames.append((time.perf_counter_ns(), bytes(frame.payload)))
                    if len(frames) >= count:
                        break
    return frames


async def _first_active(announced) -> str:
    """The path of the first announcement that is not a retraction."""
    async for update in announced:
        if update.active:
            return update.prefix
    raise Failed("the relay ended the announcements")


async def read_announced(moq, run, fingerprint: str, clock: Clock) -> Verdict:
    path = run.session_path
    async with AsyncExitStack() as stack:
        session = await connect(stack, moq, run, fingerprint, clock)
        announced = session.announced("")
        async with announced:
            found = await clock.within(_first_active(announced), (
                f"connected, but no broadcast is announced under {path}: nothing publishes "
                "(start python -m tools.publish, or pass --token to publish a probe)"), share=SHARE_TO_FIND)
        name = f"{path.rstrip('/')}/{found}"
        broadcast = await clock.within(session.request_broadcast(found),
                                       f"{name} is announced, but the relay did not serve it", share=0.5)
        track_name = await _first_media_track(broadcast, clock, name)
        started = time.perf_counter_ns()
        track = await broadcast.subscribe_track(track_name)
        frames = await read(track, clock, FRAMES_TO_READ,
                             f"subscribed to {name} track {track_name}, but no frame arrived in time")
    first_ms = (frames[0][0] - started) / 1e6
    figures = {"broadcast": name, "track": track_name, "frames": len(frames), "firstFrameMs": round(first_ms, 1)}
    return "pass", (f"{name}: {len(frames)} frames of {track_name}, first after {first_ms:.0f} ms "
                    "(subscribe round trip)"), figures


async def probe_round_trip(moq, run, fingerprint: str, clock: Clock) -> Verdict:
    """Publish ``PROBE_FRAMES`` timestamped frames and read them back through the relay on another session."""
    name = f"verify-{os.urandom(4).hex()}"
    async with AsyncExitStack() as stack:
        publisher = await connect(stack, moq, run, fingerprint, clock)
        subscriber = await connect(stack, moq, run, fingerprint, clock)
        producer = publisher.create_broadcast(name)  # held: dropping the last handle ends the broadcast
        track = producer.publish_track(PROBE_TRACK)
        producer.announce()  # created unannounced: the track first, then the announcement
        full = f"{run.session_path.rstrip('/')}/{name}"
        # Behind a QUIC-LB load balancer the two sessions may reach two pods of the relay tier.
        tier = (", or the sessions reached relay pods that do not share broadcasts (see fan-out)"
                if run.ep.quic_lb else "")
        broadcast = await clock.within(subscriber.announced_broadcast(name).available(), (
            f"published {full}, but the relay did not announce it back: the token may not allow "
            f"publishing or subscribing there{tier}"), share=SHARE_TO_FIND)
        consumer = await broadcast.subscribe_track(PROBE_TRACK)
        # The client subscribes once the consumer is read, so the reader runs before the publisher waits for it.
        reader = asyncio.ensure_future(read(consumer, clock, PROBE_FRAMES,
                                            f"published {full}, but no frame came back in time"))
        sender = None
        try:
            await clock.within(track.used(), f"subscribed to {full}, but the relay never asked the publisher for it")
            sender = asyncio.ensure_future(_send_probe(track))
            frames = await reader
        finally:
            for task in filter(None, (reader, sender)):
                task.cancel()
            await asyncio.gather(reader, return_exceptions=True)
    rtts = round_trips_ms(frames)
    figures = {"broadcast": full, "frames": len(frames), "sent": PROBE_FRAMES,
               "roundTripMs": round(statistics.median(rtts), 1), "maxMs": round(max(rtts), 1)}
    status = "pass" if len(frames) == PROBE_FRAMES else "warn"
    return status, (f"{full}: {len(frames)}/{PROBE_FRAMES} probe frames back through the relay, round trip "
                    f"{statistics.median(rtts):.0f} ms (max {max(rtts):.0f} ms)"), figures


def probe_frame() -> bytes:
    """A probe frame: the send time (``time.perf_counter_ns``, 8 octets) and padding."""
    return time.perf_counter_ns().to_bytes(8, "big") + os.urandom(56)


def round_trips_ms(frames: list) -> list[float]:
    """Publish-to-receipt times of probe frames read by :func:`read` in this process."""
    return [(received - int.from_bytes(payload[:8], "big")) / 1e6 for received, payload in frames]


async def _send_probe(track) -> None:
    group = track.append_group()
    for _ in range(PROBE_FRAMES):
        group.write_frame(probe_frame())
        await asyncio.sleep(0.02)
    group.finish()

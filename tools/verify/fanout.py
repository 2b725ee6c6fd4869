"""The ``fan-out`` check of a relay tier behind a QUIC-LB load balancer: a probe broadcast published through
one relay pod is read through the others, which proves the relays pass broadcasts between pods.

Every MoQ session runs through its own loopback :class:`~.forwarder.Forwarder`, so it is a new flow for the
load balancer and its first server packet names the pod it reached. The check opens a bounded number of
sessions at once (three per pod the ``quic-lb`` row saw), publishes on the first and reads on one session
per other pod. One pod reached is "not proven" (skipped), never a pass. It needs ``--token`` to publish.

``run`` is the endpoint's ``checks.EndpointRun`` (not imported: ``checks`` loads this module on use).
"""

from __future__ import annotations

import asyncio
import os
import statistics
from contextlib import AsyncExitStack

from . import quic_lb
from .forwarder import Forwarder
from .moq_check import PROBE_FRAMES, PROBE_TRACK, SHARE_TO_FIND, Clock, client, probe_frame, read, round_trips_ms, \
    with_sessions
from .outcome import Failed, Skipped, Verdict

SESSIONS_PER_POD = 3
MAX_SESSIONS = 24
SHARE_TO_CONNECT = 0.4
"""Share of the check's time bound spent opening sessions (the rest: announcement, then frames)."""
FRAME_INTERVAL = 0.05


def sessions_to_open(quic_lb_row, replicas: int | None) -> int:
    """Three per pod the quic-lb row counted (its figures; when it was skipped: per replica expected)."""
    pods = len(quic_lb_row.figures.get("serverIds", {})) or replicas or 1
    return min(MAX_SESSIONS, SESSIONS_PER_POD * pods)


async def check_fanout(run, quic_lb_row) -> Verdict:
    """``quic_lb_row``: the endpoint's finished quic-lb result."""
    if not run.opts.token:
        raise Skipped("not run: it publishes a probe broadcast, which needs --token")
    if quic_lb_row.status == "fail":
        raise Skipped("not run: the quic-lb check failed")
    attempts = sessions_to_open(quic_lb_row, run.ep.replicas)
    seen = set(quic_lb_row.figures.get("serverIds", {}))
    return await with_sessions(run, lambda moq, fingerprint, clock: _fan_out(moq, run, fingerprint, clock, attempts,
                                                                              seen))


async def _session_on_a_pod(stack: AsyncExitStack, moq, run, fingerprint: str) -> tuple[bytes, object]:
    forwarder = Forwarder(run.opts.server_id_length)
    stack.callback(forwarder.close)  # after the session's own exit (the stack unwinds in reverse); also if start fails
    await forwarder.start(run.address, run.ep.port)
    session = await stack.enter_async_context(client(moq, run, fingerprint, run.opts.token, forwarder.port))
    return await forwarder.server_id, session


async def _open(stack: AsyncExitStack, moq, run, fingerprint: str, clock: Clock, attempts: int) -> list:
    """(server ID, session) of each session that connected in time, in the order they were started."""
    tasks = [asyncio.ensure_future(_session_on_a_pod(stack, moq, run, fingerprint)) for _ in range(attempts)]
    wait = clock.left(SHARE_TO_CONNECT)
    try:
        done, _ = await asyncio.wait(tasks, timeout=wait)
    finally:  # also when this check is cancelled: no session may outlive the stack it registered with
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finished = [task for task in tasks if task in done]
    for task in finished:
        if isinstance(task.exception(), quic_lb.MalformedCid):
            raise Failed(f"the relay's {task.exception()}; sessions cannot be told apart by pod")
    sessions = [task.result() for task in finished if task.exception() is None]
    if not sessions:
        errors = [task.exception() for task in finished]
        if errors:
            raise errors[0]
        raise Failed(f"none of {attempts} MoQ sessions connected within {wait:.1f} s")
    return sessions


async def _fan_out(moq, run, fingerprint: str, clock: Clock, attempts: int, seen: set[str]) -> Verdict:
    """``seen``: the pods (hex server IDs) the quic-lb row reached; one this check's sessions missed is a warning."""
    async with AsyncExitStack() as stack:
        sessions = await _open(stack, moq, run, fingerprint, clock, attempts)
        publisher_pod, publisher = sessions[0]
        readers: dict[bytes, object] = {}
        for pod, session in sessions:
            if pod != publisher_pod:
                readers.setdefault(pod, session)
        if not readers:
            raise Skipped(f"not proven: all {len(sessions)} sessions reached pod {publisher_pod.hex()}, "
                          "so no second pod could read the probe (one relay, or the load balancer keeps this "
                          "client on one pod)")
        clock.watch(publisher.session)
        name = f"verify-fanout-{os.urandom(4).hex()}"
        full = f"{run.session_path.rstrip('/')}/{name}"
        producer = publisher.create_broadcast(name)  # held: dropping the last handle ends the broadcast
        track = producer.publish_track(PROBE_TRACK)
        producer.announce()  # created unannounced: the track first, then the announcement
        sender = asyncio.ensure_future(_send_until_cancelled(track))
        reasons = _reasons(clock.left(SHARE_TO_FIND), run.opts.timeout)
        try:
            reads = await asyncio.gather(*(_read_through(session, name, clock.branch(session.session), reasons)
                                           for session in readers.values()), return_exceptions=True)
        finally:
            sender.cancel()
            sent = (await asyncio.gather(sender, return_exceptions=True))[0]
        if not isinstance(sent, asyncio.CancelledError):
            raise Failed(f"publishing the probe {full} failed: {type(sent).__name__}: {sent}".splitlines()[0])
    return _verdict(full, publisher_pod, dict(zip(readers, reads)), len(sessions), attempts, seen)


async def _send_until_cancelled(track) -> None:
    """One probe frame per group, continuously: a reader that subscribes late still gets fresh groups."""
    while True:
        group = track.append_group()
        group.write_frame(probe_frame())
        group.finish()
        await asyncio.sleep(FRAME_INTERVAL)


def _reasons(announce_seconds: float, timeout: float) -> tuple[str, str]:
    """Why a pod's reader got no frames: (the broadcast never announced there, announced but no frame came)."""
    return (f"the broadcast was never announced there within {announce_seconds:.1f} s, so the relays do not pass "
            "it between pods (check the relay cluster's peer links)",
            f"the broadcast was announced there, but no frame came within the check's {timeout:g} s")


async def _read_through(session, name: str, clock: Clock, reasons: tuple[str, str]) -> list:
    broadcast = await clock.within(session.announced_broadcast(name).available(), reasons[0], share=SHARE_TO_FIND)
    consumer = await broadcast.subscribe_track(PROBE_TRACK)
    return await read(consumer, clock, PROBE_FRAMES, reasons[1])


def _no_frames(full: str, publisher_pod: bytes, failures: dict[bytes, BaseException]) -> str:
    """One line for the pods whose reader failed: the first reason, with every pod that failed for it."""
    why = {pod: exc.summary if isinstance(exc, Failed) else f"{type(exc).__name__}: {exc}".splitlines()[0]
           for pod, exc in failures.items()}
    first = next(iter(why.values()))
    pods = [pod.hex() for pod, reason in why.items() if reason == first]
    others = len(why) - len(pods)
    return (f"published {full} via pod {publisher_pod.hex()}, but pod{'s' if len(pods) > 1 else ''} "
            f"{', '.join(pods)} got no frames: {first}" + (f"; {others} more pod{'s' if others > 1 else ''} "
                                                           "failed otherwise" if others else ""))


def _verdict(full: str, publisher_pod: bytes, reads: dict[bytes, object], connected: int, attempts: int,
             seen: set[str] = frozenset()) -> Verdict:
    figures = {"broadcast": full, "publishedVia": publisher_pod.hex(), "sessions": attempts, "connected": connected,
               "readVia": {pod.hex(): len(r) if isinstance(r, list) else 0 for pod, r in reads.items()}}
    failures = {pod: r for pod, r in reads.items() if not isinstance(r, list)}
    if failures:
        raise Failed(_no_frames(full, publisher_pod, failures), figures)
    rtts = [ms for frames in reads.values() for ms in round_trips_ms(frames)]
    figures.update(roundTripMs=round(statistics.median(rtts), 1), maxMs=round(max(rtts), 1))
    counts = figures["readVia"]
    shown = ", ".join(f"{pod} ({n} frames)" for pod, n in counts.items())
    # A load balancer spreads new flows by hash: with many pods a few sessions may miss one. The pods reached
    # still prove fan-out, so a miss is said, not failed or warned.
    missed = sorted(seen - {publisher_pod.hex(), *counts})
    status = "pass" if all(n == PROBE_FRAMES for n in counts.values()) else "warn"
    untried = f"; pod{'s' if len(missed) > 1 else ''} {', '.join(missed)} (seen by quic-lb) not reached by its " \
              f"{connected} sessions, so not checked" if missed else ""
    return status, (f"{full} published via pod {publisher_pod.hex()}, read via pod{'s' if len(counts) > 1 else ''} "
                    f"{shown}, round trip {statistics.median(rtts):.0f} ms (max {max(rtts):.0f} ms){untried}"), figures

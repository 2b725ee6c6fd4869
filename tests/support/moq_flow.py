"""A live broadcast through real relays with the real MoQ client (PyPI ``moq-rs``): a publisher that keeps
sending numbered frames on one relay, a subscriber on another, and what arrived when.

Runs in a fresh event loop (never ``asyncio.run`` in the pytest process); every wait is bounded.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import moq

PERIOD = 0.05


@dataclass
class Flow:
    announced_after: float = 0.0
    received: list[tuple[float, int]] = field(default_factory=list)
    """(monotonic time, frame number) of every frame the subscriber read."""

    def numbers_after(self, moment: float) -> list[int]:
        return [n for t, n in self.received if t > moment]


def _client(url: str, ca: Path):
    """QUIC only (no WebSocket fallback racing it) and one dial (no reconnect loop hiding a relay that went away)."""
    return moq.Client(url, tls_roots=[str(ca)], websocket_enabled=False, reconnect=False)


async def _flow(publish_url: str, subscribe_url: str, ca: Path, broadcast: str, during: Callable[[Flow], None],
                before: float, after: float) -> Flow:
    flow = Flow()
    async with _client(publish_url, ca) as publisher, _client(subscribe_url, ca) as subscriber:
        # Keep the producer referenced: dropping it ends the broadcast. It is created unannounced: the track
        # first, then the announcement.
        producer = publisher.create_broadcast(broadcast)
        track = producer.publish_track("frames")
        producer.announce()

        async def publish() -> None:
            number = 0
            while True:
                group = track.append_group()
                group.write_frame(number.to_bytes(4, "big"), number * 1000)
                group.finish()
                number += 1
                await asyncio.sleep(PERIOD)

        async def read(consumer) -> None:
            # Every group: by default the client skips a group as soon as a newer one arrives (max_age 0), which on a
            # busy machine drops frames no relay lost. The publisher's track caps max_age (5 s of its timestamps,
            # 1 ms a frame here).
            async for group in await consumer.subscribe_track("frames", moq.Subscription(max_age_us=60_000_000)):
                async for frame in group:
                    flow.received.append((time.monotonic(), int.from_bytes(frame.payload[:4], "big")))

        sender = asyncio.create_task(publish())
        started = time.monotonic()
        try:
            consumer = await asyncio.wait_for(subscriber.announced_broadcast(broadcast).available(), 15)
            flow.announced_after = time.monotonic() - started
            reader = asyncio.create_task(read(consumer))
            await asyncio.sleep(before)
            during(flow)
            await asyncio.sleep(after)
            reader.cancel()
        finally:
            sender.cancel()
    return flow


def live_flow(publish_url: str, subscribe_url: str, ca: Path, broadcast: str, *, before: float = 2,
              after: float = 3, during: Callable[[Flow], None] = lambda flow: None) -> Flow:
    """Publish at ``publish_url``, subscribe at ``subscribe_url``; call ``during`` after ``before`` seconds of
    frames, keep reading for ``after`` seconds more."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(asyncio.wait_for(
            _flow(publish_url, subscribe_url, ca, broadcast, during, before, after), 40 + before + after))
    finally:
        loop.close()

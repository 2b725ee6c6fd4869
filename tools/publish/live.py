"""The publishing loop: connect, announce one broadcast, write pictures (and tone) in real time until stopped."""

from __future__ import annotations

import asyncio
import datetime
import time
from dataclasses import dataclass, replace
from typing import Callable, Optional
from urllib.parse import quote

from . import tone
from .pattern import Pattern


@dataclass(frozen=True)
class Target:
    url: str
    """The session root the player dials too: the relay's URL plus its public prefix (``https://relay/anon``)."""
    broadcast: str
    """The broadcast path relative to ``url`` (the watch page's ``name``)."""
    token: Optional[str] = None
    """A JWT for publishing, sent as ``?jwt=`` (the relay's only way to take one)."""
    ca_file: Optional[str] = None
    """A PEM file of CA certificates to trust instead of the system's (a ``selfsigned`` stack's CA)."""
    address_url: Optional[str] = None
    """``url`` with the relay's address for its host (``connect.pinned``); the client then dials that."""
    fingerprint: Optional[str] = None
    """SHA-256 of the certificate a handshake verified for the host name, which the client is pinned to."""

    @property
    def session_url(self) -> str:
        return f"{self.url}?jwt={quote(self.token, safe='')}" if self.token else self.url


@dataclass
class Stats:
    frames: int = 0
    audio_frames: int = 0
    started: float = 0.0
    ended_by_relay: bool = False
    """The relay closed the session (e.g. the token expired) before we were asked to stop."""


_ONE_QUIC_DIAL = {"websocket_enabled": False, "reconnect": False}
"""QUIC only: the certificate is pinned from a QUIC handshake, so a WebSocket fallback racing it could not help.
One dial, no reconnect loop: a relay ending the session (an expired token) ends the run, which says so."""


def _client(moq, target: Target):
    if target.address_url and target.fingerprint:
        url = replace(target, url=target.address_url).session_url
        return moq.Client(url, tls_fingerprints=[target.fingerprint], tls_system_roots=False, **_ONE_QUIC_DIAL)
    return moq.Client(target.session_url, tls_roots=[target.ca_file] if target.ca_file else None, **_ONE_QUIC_DIAL)


def _video(moq, broadcast, pattern: Pattern):
    # One keyframe (and group) a second: a viewer joining mid-stream waits at most a second.
    return broadcast.encode_video(
        moq.VideoEncoderInput(format=moq.VideoPixelFormat.I420, width=pattern.width, height=pattern.height,
                              framerate=pattern.fps),
        moq.VideoEncoderOutput(codec=moq.VideoCodec.H264, bitrate=None, gop=pattern.fps,
                               kind=moq.VideoEncoderKind.AUTO()),
    )


def _audio(moq, broadcast):
    return broadcast.encode_audio(
        "audio",
        moq.AudioEncoderInput(format=moq.AudioSampleFormat.S16, sample_rate=tone.RATE, channels=1),
        moq.AudioEncoderOutput(codec=moq.AudioCodec.opus(), sample_rate=None, channels=None, bitrate=None,
                               frame_duration_us=tone.FRAME_MS * 1000),
    )


async def _paced(interval: float, start: float, stop: asyncio.Event, step: Callable[[int, int], None]) -> None:
    """Call ``step(n, timestamp_us)`` every ``interval`` seconds from ``start`` until ``stop`` is set."""
    n = 0
    while not stop.is_set():
        due = start + n * interval
        delay = due - time.monotonic()
        if delay > 0:
            try:
                await asyncio.wait_for(stop.wait(), delay)
                break
            except asyncio.TimeoutError:
                pass
        step(n, int(n * interval * 1_000_000))
        n += 1


async def publish(target: Target, pattern: Pattern, stop: asyncio.Event, *, with_tone: bool = False,
                  on_live: Callable[[], None] = lambda: None) -> Stats:
    """Publish until ``stop`` is set or the session ends; returns what was sent."""
    import moq  # the client library is a runtime dependency of this tool only (not of the Pulumi program)

    stats = Stats(started=time.monotonic())
    async with _client(moq, target) as client:
        # Created unannounced: the tracks (and their catalog renditions) first, then the announcement.
        broadcast = client.create_broadcast(target.broadcast)
        video = _video(moq, broadcast, pattern)
        audio = _audio(moq, broadcast) if with_tone else None
        broadcast.announce()
        on_live()

        def picture(n: int, timestamp_us: int) -> None:
            clock = datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M:%S.%f")[:-3]
            video.write(moq.VideoFrame(timestamp_us=timestamp_us, data=pattern.frame(n, clock)))
            stats.frames += 1

        def sound(n: int, timestamp_us: int) -> None:
            audio.write(moq.AudioFrame(timestamp_us=timestamp_us, data=tone_frame))
            stats.audio_frames += 1

        tone_frame = tone.frame()
        tasks = [asyncio.ensure_future(_paced(1 / pattern.fps, stats.started, stop, picture))]
        if audio is not None:
            tasks.append(asyncio.ensure_future(_paced(tone.FRAME_MS / 1000, stats.started, stop, sound)))
        ended = asyncio.ensure_future(client.session.closed())
        try:
            done, _ = await asyncio.wait([*tasks, ended], return_when=asyncio.FIRST_COMPLETED)
            for task in done - {ended}:
                task.result()  # an encoder error surfaces here
            if ended in done:
                # The relay's reason ends closed(): a refusal (the auth server turned the token down after the
                # handshake) is an error of its own; any other close ends the run as the relay's doing.
                cause = ended.exception()
                if cause is not None and moq.is_auth(cause):
                    raise cause
                stats.ended_by_relay = True
        finally:
            stop.set()
            ended.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for track in filter(None, (video, audio)):
            track.finish()  # flush what the encoders hold, end the tracks cleanly
    return stats

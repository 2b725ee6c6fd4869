"""A small live H.264 broadcast, the kind the watch page plays: ``python -m tests.support.media_publisher``.

The real client library encodes the pictures (openh264 inside the ``moq-rs`` wheel) and publishes the
video track plus its catalog, as a media publisher does. Tiny frames (64x64, 15 fps) keep the encoder
cheap on a shared test machine. Prints ``{"event": "publishing"}`` once connected, then runs until
``--seconds`` pass or it is killed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

SIZE, FPS = 64, 15


async def publish(url: str, ca: str, broadcast: str, seconds: float) -> None:
    import moq

    async with moq.Client(url, tls_roots=[ca], tls_system_roots=False, websocket_enabled=False,
                          reconnect=False) as client:
        # Created unannounced: the encoder's track (and its catalog rendition) first, then the announcement.
        producer = client.create_broadcast(broadcast)
        video = producer.encode_video(
            moq.VideoEncoderInput(format=moq.VideoPixelFormat.I420, width=SIZE, height=SIZE, framerate=FPS),
            moq.VideoEncoderOutput(codec=moq.VideoCodec.H264, bitrate=100_000, gop=FPS,
                                   kind=moq.VideoEncoderKind.SOFTWARE()))
        producer.announce()
        print(json.dumps({"event": "publishing"}), flush=True)
        for n in range(int(seconds * FPS)):
            shade = (n * 8) % 256  # a picture that changes, so every frame encodes to something
            picture = bytes([shade]) * (SIZE * SIZE) + bytes([128]) * (SIZE * SIZE // 2)
            video.write(moq.VideoFrame(timestamp_us=n * 1_000_000 // FPS, data=picture))
            await asyncio.sleep(1 / FPS)
        video.finish()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.support.media_publisher")
    p.add_argument("--url", required=True, help="relay URL with the session path (and ?jwt=)")
    p.add_argument("--ca", required=True, help="PEM file of the CA to trust")
    p.add_argument("--broadcast", required=True)
    p.add_argument("--seconds", type=float, default=60)
    args = p.parse_args(argv)
    asyncio.run(publish(args.url, args.ca, args.broadcast, args.seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())

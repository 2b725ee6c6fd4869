"""A test tone: a 1 kHz sine at -20 dBFS, 48 kHz mono signed 16-bit PCM, in 20 ms frames (Opus's usual size)."""

from __future__ import annotations

import math
import struct

RATE = 48_000
FREQUENCY = 1_000
"""A whole number of periods per frame (48 samples each), so every frame is the same bytes and joins seamlessly."""
FRAME_MS = 20
SAMPLES = RATE * FRAME_MS // 1000
AMPLITUDE = 0.1 * 32767


def frame() -> bytes:
    """One 20 ms frame of the tone."""
    wave = (round(AMPLITUDE * math.sin(2 * math.pi * FREQUENCY * n / RATE)) for n in range(SAMPLES))
    return struct.pack(f"<{SAMPLES}h", *wave)

"""A live test pattern in raw I420: colour bars, a box sweeping across, and a running clock.

Pure Python (no numpy, no imaging library): each frame starts as a copy of the precomputed bars and
gets rectangles written row by row with slice assignment, which is fast enough for 640x360 at 30 fps.
The clock (UTC, to the millisecond) and a frame counter make every frame different, so a viewer (or a
test sampling pixels) sees at a glance that the picture is live.
"""

from __future__ import annotations

from dataclasses import dataclass

# 75 % colour bars (ITU-R BT.601 Y'CbCr, studio range): white, yellow, cyan, green, magenta, red, blue, black.
BARS = ((180, 128, 128), (162, 44, 142), (131, 156, 44), (112, 72, 58), (84, 184, 198), (65, 100, 212), (35, 212, 114),
        (16, 128, 128))
WHITE, BLACK = (235, 128, 128), (16, 128, 128)

# A 5x7 font for what the clock prints; each row is 5 bits, most significant bit on the left.
FONT = {
    "0": (14, 17, 19, 21, 25, 17, 14), "1": (4, 12, 4, 4, 4, 4, 14), "2": (14, 17, 1, 2, 4, 8, 31),
    "3": (31, 2, 4, 2, 1, 17, 14), "4": (2, 6, 10, 18, 31, 2, 2), "5": (31, 16, 30, 1, 1, 17, 14),
    "6": (6, 8, 16, 30, 17, 17, 14), "7": (31, 1, 2, 4, 8, 8, 8), "8": (14, 17, 17, 14, 17, 17, 14),
    "9": (14, 17, 17, 15, 1, 2, 12), ":": (0, 12, 12, 0, 12, 12, 0), ".": (0, 0, 0, 0, 0, 12, 12),
    " ": (0,) * 7, "#": (10, 10, 31, 10, 31, 10, 10),
}


@dataclass
class Pattern:
    width: int = 640
    height: int = 360
    fps: int = 30

    def __post_init__(self) -> None:
        if self.width % 2 or self.height % 2 or not (128 <= self.width <= 1920 and 72 <= self.height <= 1080):
            raise ValueError(f"{self.width}x{self.height}: even numbers from 128x72 to 1920x1080 "
                             "(I420 halves both for chroma)")
        if not 1 <= self.fps <= 60:
            raise ValueError(f"{self.fps} fps: 1 to 60")
        self._planes = self._bars()

    @property
    def frame_size(self) -> int:
        return self.width * self.height * 3 // 2

    def _bars(self) -> tuple[bytes, bytes, bytes]:
        """Y, U and V planes of the still background."""
        def row(width: int, channel: int) -> bytes:
            return bytes(BARS[x * len(BARS) // width][channel] for x in range(width))
        cw, ch = self.width // 2, self.height // 2
        return row(self.width, 0) * self.height, row(cw, 1) * ch, row(cw, 2) * ch

    def frame(self, index: int, clock: str) -> bytes:
        """Frame ``index`` (moves the box) with ``clock`` printed on it, as one I420 picture."""
        y, u, v = (bytearray(p) for p in self._planes)
        box = self.height // 6
        span = self.width - box
        period = 2 * span
        x = (index * 8) % period
        self._rect((y, u, v), (x if x < span else period - x), self.height - 2 * box, box, box, WHITE)
        text = f"{clock} #{index % 100000:05d}"
        scale = max(1, self.width * 9 // 10 // (len(text) * 6))  # the line fits the width, so nothing wraps
        tw, th = len(text) * 6 * scale, 9 * scale
        left, top = (self.width - tw) // 2 & ~1, self.height // 4 & ~1
        self._rect((y, u, v), left - scale, top - scale, tw + scale, th, BLACK)
        self._text(y, text, left, top, scale)
        return bytes(y) + bytes(u) + bytes(v)

    def _rect(self, planes, x: int, top: int, w: int, h: int, colour) -> None:
        """Fill a rectangle (clipped, snapped to even coordinates for the chroma planes)."""
        x, top = max(0, x) & ~1, max(0, top) & ~1
        w, h = min(w, self.width - x) & ~1, min(h, self.height - top) & ~1
        y, u, v = planes
        line = bytes([colour[0]]) * w
        for r in range(top, top + h):
            y[r * self.width + x:r * self.width + x + w] = line
        cw = self.width // 2
        for plane, value in ((u, colour[1]), (v, colour[2])):
            half = bytes([value]) * (w // 2)
            for r in range(top // 2, (top + h) // 2):
                plane[r * cw + x // 2:r * cw + x // 2 + w // 2] = half

    def _text(self, y: bytearray, text: str, left: int, top: int, scale: int) -> None:
        """White glyphs on the Y plane: each run of lit cells in a glyph row is one rectangle."""
        lit = bytes([WHITE[0]])
        for n, char in enumerate(text):
            gx = left + n * 6 * scale
            for gy, bits in enumerate(FONT.get(char, FONT[" "])):
                col = 0
                while col < 5:
                    if not bits >> (4 - col) & 1:
                        col += 1
                        continue
                    end = col
                    while end < 5 and bits >> (4 - end) & 1:
                        end += 1
                    x0, w = gx + col * scale, (end - col) * scale
                    for r in range(top + gy * scale, top + (gy + 1) * scale):
                        y[r * self.width + x0:r * self.width + x0 + w] = lit * w
                    col = end

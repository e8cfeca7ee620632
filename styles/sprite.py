"""The style's sprite: hatch patterns for fill-pattern, drawn in code (no image files to keep in
step with the palette). One 16×16 tile per hatch colour of styles/palette.py, and a 32×32 one
for ``@2x``; diagonal lines at 45° ("/"), the same as the QML's LinePatternFill at angle 45."""

from __future__ import annotations

import math
import struct
import zlib
from functools import lru_cache
from typing import Any

from styles.palette import pattern_image, patterns, rgb

TILE = 16       # CSS pixels; a multiple of the line period so the pattern tiles seamlessly
PERIOD = 8
LINE = 1.6


def png(width: int, height: int, pixels: bytes) -> bytes:
    """RGBA bytes (row-major) as a PNG file."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    stride = width * 4
    raw = b"".join(b"\x00" + pixels[y * stride:(y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def hatch(colour: str, ratio: int) -> bytes:
    size, period, width = TILE * ratio, PERIOD * ratio, LINE * ratio
    r, g, b = rgb(colour)
    out = bytearray()
    for y in range(size):
        for x in range(size):
            rest = (x + y + 1) % period
            distance = min(rest, period - rest) / math.sqrt(2)   # to the nearest line x + y = k·period
            alpha = max(0.0, min(1.0, width / 2 + 0.5 - distance))
            out += bytes((r, g, b, round(alpha * 255)))
    return bytes(out)


@lru_cache
def sprite(ratio: int = 1) -> tuple[dict[str, Any], bytes]:
    """(index JSON, PNG) for pixel ratio 1 or 2."""
    colours = patterns()
    size = TILE * ratio
    index: dict[str, Any] = {}
    rows = [bytearray() for _ in range(size)]
    for i, colour in enumerate(colours):
        index[pattern_image(colour)] = {"x": i * size, "y": 0, "width": size, "height": size, "pixelRatio": ratio}
        tile = hatch(colour, ratio)
        for y in range(size):
            rows[y] += tile[y * size * 4:(y + 1) * size * 4]
    width = max(1, len(colours)) * size
    pixels = b"".join(bytes(row).ljust(width * 4, b"\x00") for row in rows)
    return index, png(width, size, pixels)

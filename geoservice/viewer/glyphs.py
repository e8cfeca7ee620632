"""Map label glyphs: SDF glyph ranges in the MapLibre/Mapbox ``glyphs.proto`` format.

The viewer serves its glyphs itself (no font CDN). The PBFs under ``static/fonts/`` are generated
from Debian's Noto Sans (package fonts-noto-core) by ``python -m geoservice.viewer.glyphs``, the
way node-fontnik does it (24 px, 3 px buffer, 8 px radius, cutoff 0.25), so MapLibre draws them
exactly like glyphs from any other glyph server. Generating needs ``freetype-py`` (PyPI); serving
needs nothing but the files.

    message glyph { uint32 id = 1; bytes bitmap = 2; uint32 width = 3; uint32 height = 4;
                    sint32 left = 5; sint32 top = 6; uint32 advance = 7; }
    message fontstack { string name = 1; string range = 2; repeated glyph glyphs = 3; }
    message glyphs { repeated fontstack stacks = 1; }
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FONTS_DIR = Path(__file__).resolve().parent / "static" / "fonts"
SIZE, BUFFER, RADIUS, CUTOFF = 24, 3, 8.0, 0.25

# Latin-1, Latin Extended-A (Kazakh Latin letters), Cyrillic (incl. ә ғ қ ң ө ұ ү һ і),
# punctuation (– — ′ ″ ‰ …), letter-like symbols (№).
RANGES = (0, 256, 1024, 8192, 8448)
FONTS = {  # fontstack name -> Debian font file
    "Noto Sans Regular": "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "Noto Sans Bold": "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
}


@dataclass(frozen=True)
class Glyph:
    id: int
    bitmap: bytes
    width: int
    height: int
    left: int
    top: int
    advance: int


# --- protobuf, by hand: five field types are not worth a dependency ----------------------------

def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 63)


def _field_varint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _field_bytes(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def range_name(start: int) -> str:
    return f"{start}-{start + 255}"


def encode(fontstack: str, start: int, glyphs: list[Glyph]) -> bytes:
    stack = _field_bytes(1, fontstack.encode()) + _field_bytes(2, range_name(start).encode())
    for g in glyphs:
        body = _field_varint(1, g.id)
        if g.bitmap:
            body += _field_bytes(2, g.bitmap)
        body += (_field_varint(3, g.width) + _field_varint(4, g.height) + _field_varint(5, _zigzag(g.left))
                 + _field_varint(6, _zigzag(g.top)) + _field_varint(7, g.advance))
        stack += _field_bytes(3, body)
    return _field_bytes(1, stack)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        if key & 7 == 0:
            value, pos = _read_varint(data, pos)
            out.append((key >> 3, value))
        elif key & 7 == 2:
            length, pos = _read_varint(data, pos)
            out.append((key >> 3, data[pos:pos + length]))
            pos += length
        else:
            raise ValueError(f"unexpected wire type {key & 7}")
    return out


def decode(data: bytes) -> list[dict[str, Any]]:
    """The fontstacks of a glyph PBF (for tests and checks): name, range, glyphs."""
    stacks = []
    for _, raw in _fields(data):
        assert isinstance(raw, bytes)
        stack: dict[str, Any] = {"glyphs": []}
        for number, value in _fields(raw):
            if number == 1 and isinstance(value, bytes):
                stack["name"] = value.decode()
            elif number == 2 and isinstance(value, bytes):
                stack["range"] = value.decode()
            elif number == 3 and isinstance(value, bytes):
                g: dict[str, Any] = {"bitmap": b""}
                names = {1: "id", 2: "bitmap", 3: "width", 4: "height", 5: "left", 6: "top", 7: "advance"}
                for n, v in _fields(value):
                    if n in (5, 6) and isinstance(v, int):
                        v = (v >> 1) ^ -(v & 1)
                    g[names[n]] = v
                stack["glyphs"].append(g)
        stacks.append(stack)
    return stacks


# --- SDF rendering (generation only) ------------------------------------------------------------

def _flatten(outline: Any) -> list[list[tuple[float, float]]]:
    """The outline's contours as polylines in pixels (curves cut into short segments)."""
    contours: list[list[tuple[float, float]]] = []

    def pt(p: Any) -> tuple[float, float]:
        return p.x / 64.0, p.y / 64.0

    def move_to(p: Any, _: Any) -> int:
        contours.append([pt(p)])
        return 0

    def line_to(p: Any, _: Any) -> int:
        contours[-1].append(pt(p))
        return 0

    def conic_to(c: Any, p: Any, _: Any) -> int:
        (x0, y0), (cx, cy), (x1, y1) = contours[-1][-1], pt(c), pt(p)
        for i in range(1, 9):
            t = i / 8
            contours[-1].append(((1 - t) ** 2 * x0 + 2 * (1 - t) * t * cx + t * t * x1,
                                 (1 - t) ** 2 * y0 + 2 * (1 - t) * t * cy + t * t * y1))
        return 0

    def cubic_to(c1: Any, c2: Any, p: Any, _: Any) -> int:
        (x0, y0), (ax, ay), (bx, by), (x1, y1) = contours[-1][-1], pt(c1), pt(c2), pt(p)
        for i in range(1, 11):
            t = i / 10
            u = 1 - t
            contours[-1].append((u ** 3 * x0 + 3 * u * u * t * ax + 3 * u * t * t * bx + t ** 3 * x1,
                                 u ** 3 * y0 + 3 * u * u * t * ay + 3 * u * t * t * by + t ** 3 * y1))
        return 0

    outline.decompose(None, move_to=move_to, line_to=line_to, conic_to=conic_to, cubic_to=cubic_to)
    return [c for c in contours if len(c) > 1]


def _sdf(contours: list[list[tuple[float, float]]]) -> tuple[bytes, int, int, int, int]:
    import math

    import numpy as np

    segs = np.array([(a[0], a[1], b[0], b[1]) for c in contours
                     for a, b in zip(c, c[1:] + c[:1], strict=True) if a != b], dtype=np.float64)
    xs, ys = segs[:, [0, 2]], segs[:, [1, 3]]
    xmin, ymin = math.floor(xs.min()), math.floor(ys.min())
    xmax, ymax = math.ceil(xs.max()), math.ceil(ys.max())
    width, height = xmax - xmin, ymax - ymin
    bw, bh = width + 2 * BUFFER, height + 2 * BUFFER
    gx, gy = np.meshgrid(np.arange(bw) + xmin - BUFFER + 0.5, ymax + BUFFER - np.arange(bh) - 0.5)
    px, py = gx.ravel()[:, None], gy.ravel()[:, None]
    x0, y0, x1, y1 = (segs[:, i][None, :] for i in range(4))
    dx, dy = x1 - x0, y1 - y0
    t = np.clip(((px - x0) * dx + (py - y0) * dy) / np.maximum(dx * dx + dy * dy, 1e-12), 0, 1)
    dist = np.hypot(px - (x0 + t * dx), py - (y0 + t * dy)).min(axis=1)
    # Non-zero winding: TrueType contours of one glyph may overlap.
    cross = dx * (py - y0) - (px - x0) * dy
    up = (y0 <= py) & (py < y1) & (cross > 0)
    down = (y1 <= py) & (py < y0) & (cross < 0)
    inside = (up.sum(axis=1) - down.sum(axis=1)) != 0
    d = np.minimum(dist, RADIUS) * (256 / RADIUS)
    d = np.where(inside, -d, d) + CUTOFF * 256
    values = 255 - np.clip(d, 0, 255).astype(np.int32)
    return values.astype(np.uint8).tobytes(), width, height, xmin, ymax


def render_range(font_path: str, start: int) -> list[Glyph]:
    import freetype

    face = freetype.Face(font_path)
    face.set_char_size(SIZE * 64)
    ascender = face.size.ascender / 64.0
    glyphs = []
    for code in range(max(start, 32), start + 256):
        index = face.get_char_index(code)
        if index == 0:
            continue
        face.load_glyph(index, freetype.FT_LOAD_NO_HINTING | freetype.FT_LOAD_NO_BITMAP)
        advance = round(face.glyph.metrics.horiAdvance / 64.0)
        contours = _flatten(face.glyph.outline)
        if not contours:  # space and other blank glyphs: metrics only
            glyphs.append(Glyph(code, b"", 0, 0, 0, 0, advance))
            continue
        bitmap, width, height, left, top = _sdf(contours)
        # Like fontnik: top is measured from the ascender line, which is MapLibre's baseline.
        glyphs.append(Glyph(code, bitmap, width, height, left, round(top - ascender), advance))
    return glyphs


def build(out_dir: Path = FONTS_DIR, fonts: dict[str, str] | None = None,
          ranges: tuple[int, ...] = RANGES) -> list[Path]:
    written = []
    for name, path in (fonts or FONTS).items():
        (out_dir / name).mkdir(parents=True, exist_ok=True)
        for start in ranges:
            target = out_dir / name / f"{range_name(start)}.pbf"
            target.write_bytes(encode(name, start, render_range(path, start)))
            written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description="Generate SDF glyph PBFs for the map viewer")
    parser.add_argument("--out", type=Path, default=FONTS_DIR)
    args = parser.parse_args()
    for path in build(args.out):
        print(f"{path}  {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()

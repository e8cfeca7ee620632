"""The national 1'x1' block grid and its map-sheet nomenclature.

Licences for solid minerals are granted over *blocks*: cells bounded by meridians and parallels
one arc-minute apart, named in the Soviet map-sheet nomenclature, e.g. ``L-43-63-(10а-5б-14)``:

* ``L-43``  1:1,000,000 sheet: letter = 4° latitude band from the equator (A = 0–4° N … L = 44–48°),
  number = 6° column, ``floor((lon + 180) / 6) + 1``;
* ``63``    1:100,000 sheet, 20' x 30', numbered 1–144 row by row from the north-west;
* ``10а``   10' cell of that sheet, 2 rows x 3 columns lettered а б в / г д е from the north-west;
* ``5б``    5' cell of the 10' cell, lettered а б / в г from the north-west;
* ``14``    1' block of the 5' cell, numbered 1–25 row by row from the north-west.

Everything is computed in integer arc-minutes of the block's south-west corner,
``m_lon = floor(lon * 60)``, ``m_lat = floor(lat * 60)``; a block's stable integer key is
``id = m_lat * 21600 + m_lon + 10800`` (row-major, south to north, so keyset paging by id walks
the grid row by row). Only the northern hemisphere (sheets A–V, 0–88° N) is covered.

The same arithmetic exists in SQL (migration ``0002_block_grid``: ``gs_block_code``,
``gs_block_id``, ``gs_block_code_from_id``, ``gs_block_envelope``, ``gs_block_geom``,
``gs_block_list``); tests check that both agree block for block.

Grid datum (setting ``GEOSERVICE_GRID_DATUM``, ``Settings.grid_datum``)
-----------------------------------------------------------------------
Which datum the graticule minutes are read in is a legal choice, so it is a setting:

* ``EPSG:4326`` (default): block corners are minute multiples of WGS 84 degrees.
* ``EPSG:4284`` (Pulkovo 1942): block corners are minute multiples of Pulkovo 1942 degrees and
  are shifted to WGS 84 with EPSG transformation 1291 ("Pulkovo 1942 to WGS 84 (7)", a
  3-parameter geocentric translation dx=15 m, dy=-130 m, dz=-84 m on the Krassowsky ellipsoid,
  accuracy about 44 m), as the datum policy says (layers/datum.py). PostGIS does the same shift
  through the ``spatial_ref_sys`` row ``datum.PULKOVO_1291_SRID`` (904284) added by the migration,
  because ``ST_Transform(…, 4284 → 4326)`` would let PROJ pick another Pulkovo transformation.

Block *codes*, *ids* and ``block_bounds`` are always in grid-datum degrees; stored block
geometries (table ``blocks``) and ``blocks_geometry`` are always EPSG:4326. Changing the setting
needs a grid rebuild (``layers.grid_build.build_grid``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from geoservice.kernel.errors import Issue, Problem
from geoservice.kernel.i18n import translate
from layers.datum import PULKOVO_1291_SRID, onshore_transformer

ROW_WIDTH = 21600        # arc-minutes around the globe: ids are m_lat * ROW_WIDTH + m_lon + LON_OFFSET
LON_OFFSET = 10800       # makes the longitude index non-negative
MAX_M_LAT = 88 * 60      # sheets A–V: the grid ends at 88° N (polar sheet Z is not supported)
MAX_ID = MAX_M_LAT * ROW_WIDTH - 1

CELL10_LETTERS = "абвгде"
CELL5_LETTERS = "абвг"
SHEET_LETTERS = "ABCDEFGHIJKLMNOPQRSTUV"

SUPPORTED_DATUMS = ("EPSG:4326", "EPSG:4284")
DEFAULT_DATUM = "EPSG:4326"   # the grid_datum setting's default; callers pass the setting

# Cell letters may be typed in Latin transliteration or upper case; the map is explicit rather
# than str.lower() so that SQL (translate()) and Python accept exactly the same characters.
_CELL_LETTER_MAP = str.maketrans("ABVGDEabvgdeАБВГДЕ", "абвгдеабвгдеабвгде")
# Sheet letters are Latin; accept lower case and Cyrillic look-alikes (К, М … typed in Russian).
_SHEET_LETTER_MAP = str.maketrans("abcdefghijklmnopqrstuvАВЕКМНОРСТХ",
                                  "ABCDEFGHIJKLMNOPQRSTUVABEKMHOPCTX")
HYPHENS = "-\u2010\u2011\u2212"     # hyphen-minus, hyphen, non-breaking hyphen, minus sign
RANGE_DASHES = "\u2013\u2014"       # en dash, em dash (and "..")

_CANONICAL = re.compile(r"([A-V])-([0-9]{1,2})-([0-9]{1,3})-\(10([абвгде])-5([абвг])-([0-9]{1,2})\)")



class BlockListError(Problem):
    """A block code or block list that cannot be read. ``params``: ``token`` (the offending text),
    ``position`` (1-based character position of the token in the given text), ``reason`` (a
    stable code, ``blocks.reason.<reason>`` is its message)."""

    def __init__(self, token: str, position: int, reason: str) -> None:
        super().__init__("blocks.invalid_token", 422, token=token, position=position, reason=reason,
                         issues=[Issue(f"blocks.reason.{reason}", {"token": token, "position": position})])
        self.token = token
        self.position = position
        self.reason = reason

    def explain(self, lang: str) -> str:
        """The whole story in one language: which token, where, and why."""
        return f"{translate(self.key, lang, **self.params)} {translate(f'blocks.reason.{self.reason}', lang)}"

    def render(self, lang: str) -> dict[str, Any]:
        body = super().render(lang)
        body.update(detail=self.explain(lang), token=self.token, position=self.position, reason=self.reason)
        return body

    def __str__(self) -> str:
        return self.explain("en")


# --- Minutes <-> codes ------------------------------------------------------------------------

@dataclass(frozen=True)
class BlockName:
    """The parts of a block's name, from the 1:1,000,000 sheet down to the 1' block."""

    letter: str       # 'L'
    column: int       # 43
    sheet100k: int    # 63 (1–144)
    cell10: str       # 'а'..'е'
    cell5: str        # 'а'..'г'
    number: int       # 1–25

    @property
    def code(self) -> str:
        return f"{self.letter}-{self.column}-{self.sheet100k}-(10{self.cell10}-5{self.cell5}-{self.number})"

    @property
    def sheet(self) -> str:
        return f"{self.letter}-{self.column}"

    @property
    def sheet100k_code(self) -> str:
        return f"{self.sheet}-{self.sheet100k}"

    @property
    def cell10_code(self) -> str:
        """The 10' cell as a licence would list it whole: ``L-43-63-(10а)`` (table column cell10)."""
        return f"{self.sheet100k_code}-(10{self.cell10})"


def minute_index(deg: float) -> int:
    """floor(deg * 60), corrected so that ``m / 60 <= deg < (m + 1) / 60`` holds in floating
    point; then a block's own corner (as returned by ``block_bounds``) maps back to the block."""
    m = math.floor(deg * 60)
    if (m + 1) / 60 <= deg:
        return m + 1
    if m / 60 > deg:
        return m - 1
    return m


def _check_minutes(m_lon: int, m_lat: int) -> None:
    if not (0 <= m_lat < MAX_M_LAT and -LON_OFFSET <= m_lon < LON_OFFSET):
        raise ValueError(f"minute indices ({m_lon}, {m_lat}) are outside the grid (0–88° N, 180° W–180° E)")


def name_at(m_lon: int, m_lat: int) -> BlockName:
    """The name of the block whose south-west corner is at (m_lon, m_lat) arc-minutes."""
    _check_minutes(m_lon, m_lat)
    x = m_lon + LON_OFFSET
    r_lat, r_lon = m_lat % 240, x % 360            # minutes inside the 1:1M sheet, from its SW
    a_lat, a_lon = r_lat % 20, r_lon % 30          # … inside the 1:100k sheet
    b_lat, b_lon = a_lat % 10, a_lon % 10          # … inside the 10' cell
    return BlockName(
        letter=SHEET_LETTERS[m_lat // 240],
        column=x // 360 + 1,
        sheet100k=(239 - r_lat) // 20 * 12 + r_lon // 30 + 1,   # rows counted from the north
        cell10=CELL10_LETTERS[(19 - a_lat) // 10 * 3 + a_lon // 10],
        cell5=CELL5_LETTERS[(9 - b_lat) // 5 * 2 + b_lon // 5],
        number=(4 - b_lat % 5) * 5 + b_lon % 5 + 1,
    )


def code_at(m_lon: int, m_lat: int) -> str:
    return name_at(m_lon, m_lat).code


def minutes_of(name: BlockName) -> tuple[int, int]:
    """South-west corner (m_lon, m_lat) in arc-minutes of a (valid) block name."""
    lat0 = SHEET_LETTERS.index(name.letter) * 240
    lon0 = (name.column - 1) * 360 - LON_OFFSET
    row, col = divmod(name.sheet100k - 1, 12)
    r10, c10 = divmod(CELL10_LETTERS.index(name.cell10), 3)
    r5, c5 = divmod(CELL5_LETTERS.index(name.cell5), 2)
    r1, c1 = divmod(name.number - 1, 5)
    # Rows count from the north edge of each enclosing cell.
    m_lat = lat0 + 240 - 20 * row - 10 * r10 - 5 * r5 - r1 - 1
    m_lon = lon0 + 30 * col + 10 * c10 + 5 * c5 + c1
    return m_lon, m_lat


def block_minutes(code: str) -> tuple[int, int]:
    """South-west corner (m_lon, m_lat) in arc-minutes of one block code (variants accepted as in
    block lists: Latin cell letters, either case, spaces)."""
    return minutes_of(_parse_single(code))


def block_code(lon: float, lat: float) -> str:
    """Code of the block containing the point (grid-datum degrees); a point on a block edge
    belongs to the block to its north and east."""
    return code_at(minute_index(lon), minute_index(lat))


def block_bounds(code: str) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a block in grid-datum degrees, exact minute multiples."""
    m_lon, m_lat = block_minutes(code)
    return m_lon / 60, m_lat / 60, (m_lon + 1) / 60, (m_lat + 1) / 60


def block_id(code: str) -> int:
    m_lon, m_lat = block_minutes(code)
    return m_lat * ROW_WIDTH + m_lon + LON_OFFSET


def minutes_from_id(block: int) -> tuple[int, int]:
    if not 0 <= block <= MAX_ID:
        raise ValueError(f"{block} is not a block id (0–{MAX_ID})")
    m_lat, x = divmod(block, ROW_WIDTH)
    return x - LON_OFFSET, m_lat


def code_from_id(block: int) -> str:
    return code_at(*minutes_from_id(block))


def normalise_code(code: str) -> str:
    """The canonical spelling of one block code (Cyrillic lower-case letters, no spaces)."""
    return _parse_single(code).code


# --- Block lists ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Token:
    kind: str    # num word hyphen range comma semi newline open close end
    text: str
    position: int  # 1-based


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(text)
    simple = {",": "comma", ";": "semi", "(": "open", ")": "close", "\n": "newline"}
    while i < n:
        ch = text[i]
        if ch in simple:
            out.append(_Token(simple[ch], ch, i + 1))
            i += 1
        elif ch.isspace():
            i += 1
        elif "0" <= ch <= "9":
            j = i
            while j < n and "0" <= text[j] <= "9":
                j += 1
            out.append(_Token("num", text[i:j], i + 1))
            i = j
        elif ch.isalpha():
            j = i
            while j < n and text[j].isalpha():
                j += 1
            out.append(_Token("word", text[i:j], i + 1))
            i = j
        elif ch in HYPHENS:
            out.append(_Token("hyphen", ch, i + 1))
            i += 1
        elif ch in RANGE_DASHES:
            out.append(_Token("range", ch, i + 1))
            i += 1
        elif text.startswith("..", i):
            out.append(_Token("range", "..", i + 1))
            i += 2
        else:
            raise BlockListError(ch, i + 1, "unexpected_character")
    out.append(_Token("end", "", n + 1))
    return out


class _Parser:
    """Recursive descent over the tokens. Grammar (spaces allowed between any two tokens)::

        list   := [item] ((';' | ',' | newline) [item])*
        item   := LETTER '-' NUM '-' NUM '-' '(' group ((';' | ',')? group)* ')'
        group  := '10' LETTER '-' '5' LETTER '-' nums
        nums   := num (',' num)*          num := NUM [('–' | '—' | '..') NUM]

    Inside parentheses new lines are plain spaces; a comma followed by ``10<letter>`` starts a
    new group rather than continuing the numbers."""

    def __init__(self, text: str, *, newlines_are_spaces: bool = False) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0
        self.depth = 1 if newlines_are_spaces else 0  # depth > 0: new lines are plain spaces

    def _index(self, ahead: int = 0) -> int:
        i = self.i
        while True:
            if self.tokens[i].kind == "newline" and self.depth:
                i += 1  # inside parentheses a new line is just a space
                continue
            if ahead == 0 or self.tokens[i].kind == "end":
                return i
            ahead -= 1
            i += 1

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[self._index(ahead)]

    def take(self) -> _Token:
        i = self._index()
        self.i = i + 1
        return self.tokens[i]

    def expect(self, kind: str, reason: str) -> _Token:
        tok = self.peek()
        if tok.kind != kind:
            raise BlockListError(tok.text, tok.position, reason)
        return self.take()

    def number(self, low: int, high: int, reason: str) -> int:
        tok = self.expect("num", reason)
        value = int(tok.text)
        if not low <= value <= high:
            raise BlockListError(tok.text, tok.position, reason)
        return value

    def sheet(self) -> tuple[str, int, int]:
        tok = self.peek()
        if tok.kind != "word":
            raise BlockListError(tok.text, tok.position, "expected_sheet")
        letter = tok.text.translate(_SHEET_LETTER_MAP)
        if len(letter) != 1 or letter not in SHEET_LETTERS:
            raise BlockListError(tok.text, tok.position, "sheet_letter")
        self.take()
        self.expect("hyphen", "expected_hyphen")
        column = self.number(1, 60, "sheet_column")
        self.expect("hyphen", "expected_hyphen")
        sheet100k = self.number(1, 144, "sheet100k")
        return letter, column, sheet100k

    def cell(self, prefix: str, letters: str, reason: str) -> str:
        tok = self.peek()
        if tok.kind != "num" or tok.text != prefix:
            raise BlockListError(tok.text, tok.position, reason)
        self.take()
        tok = self.peek()
        letter = tok.text.translate(_CELL_LETTER_MAP) if tok.kind == "word" else ""
        if len(letter) != 1 or letter not in letters:
            raise BlockListError(tok.text, tok.position, reason)
        self.take()
        return letter

    def group_starts(self) -> bool:
        return self.peek().kind == "num" and self.peek(1).kind == "word"

    def group(self, single: bool = False) -> tuple[str, str, list[int]]:
        cell10 = self.cell("10", CELL10_LETTERS, "cell10")
        self.expect("hyphen", "expected_hyphen")
        cell5 = self.cell("5", CELL5_LETTERS, "cell5")
        self.expect("hyphen", "expected_hyphen")
        numbers: list[int] = []
        while True:
            first = self.peek()
            low = self.number(1, 25, "block_number")
            high = low
            if single and self.peek().kind != "close":
                raise BlockListError(self.peek().text, self.peek().position, "single_code")
            if self.peek().kind == "range":
                self.take()
                last = self.peek()
                high = self.number(1, 25, "block_number")
                if high < low:
                    span = self.text[first.position - 1:last.position - 1 + len(last.text)]
                    raise BlockListError(span, first.position, "range_order")
            numbers.extend(range(low, high + 1))
            if self.peek().kind != "comma" or (self.peek(1).kind == "num" and self.peek(2).kind == "word"):
                return cell10, cell5, numbers
            self.take()

    def item(self, single: bool = False) -> list[BlockName]:
        letter, column, sheet100k = self.sheet()
        self.expect("hyphen", "expected_hyphen")
        opening = self.expect("open", "expected_open")
        self.depth += 1
        names: list[BlockName] = []
        while True:
            cell10, cell5, numbers = self.group(single)
            names += [BlockName(letter, column, sheet100k, cell10, cell5, n) for n in numbers]
            tok = self.peek()
            if tok.kind != "close" and single:
                raise BlockListError(tok.text, tok.position, "single_code")
            separated = tok.kind in ("semi", "comma")
            if separated:
                tok = self.take() and self.peek()
            if tok.kind == "close":
                break
            if tok.kind in ("end", "word", "open"):  # text ended or a new sheet began
                raise BlockListError(opening.text, opening.position, "unclosed")
            if not separated and not self.group_starts():
                raise BlockListError(tok.text, tok.position, "expected_close")
        self.depth -= 1
        self.take()
        return names

    def block_list(self) -> list[BlockName]:
        names: list[BlockName] = []
        while True:
            while self.peek().kind in ("semi", "comma", "newline"):
                self.take()
            if self.peek().kind == "end":
                return names
            names += self.item()
            tok = self.peek()
            if tok.kind not in ("semi", "comma", "newline", "end"):
                raise BlockListError(tok.text, tok.position, "expected_separator")


def parse_block_list(text: str) -> list[str]:
    """Expand a block list as written in licences, e.g.
    ``L-43-63-(10а-5б-14,15,19,20); L-43-64-(10а-5а-1)``, into full canonical codes in the order
    written, without duplicates.

    Items are separated by ``;``, ``,`` or new lines; one parenthesis may hold several groups
    (``(10а-5б-14,15; 10а-5в-1)`` or separated by spaces); ranges are ``14–16``, ``14—16`` or
    ``14..16``; cell letters may be Latin (a b v g d e), either case; spaces are optional. An
    empty list gives ``[]``. Raises ``BlockListError`` naming the first bad token and its
    1-based character position."""
    names = _Parser(text).block_list()
    return list(dict.fromkeys(name.code for name in names))


def _parse_single(code: str) -> BlockName:
    match = _CANONICAL.fullmatch(code)
    if match:  # fast path for codes already in canonical form
        letter, column, sheet100k, cell10, cell5, number = match.groups()
        if 1 <= int(column) <= 60 and 1 <= int(sheet100k) <= 144 and 1 <= int(number) <= 25:
            return BlockName(letter, int(column), int(sheet100k), cell10, cell5, int(number))
    parser = _Parser(code, newlines_are_spaces=True)  # as gs_block_id, which allows any \s
    if parser.peek().kind == "end":
        raise BlockListError(code, 1, "single_code")
    names = parser.item(single=True)
    tok = parser.peek()
    if tok.kind != "end" or len(names) != 1:
        raise BlockListError(tok.text, tok.position, "single_code")
    return names[0]


# --- Geometry ---------------------------------------------------------------------------------

def resolve_datum(datum: str = DEFAULT_DATUM) -> str:
    datum = datum.strip().upper()
    if datum not in SUPPORTED_DATUMS:
        raise ValueError(f"grid datum {datum!r} is not supported (use one of {', '.join(SUPPORTED_DATUMS)})")
    return datum


def grid_srid(datum: str = DEFAULT_DATUM) -> int:
    """The PostGIS SRID block corners are written in before they are put into EPSG:4326."""
    return 4326 if resolve_datum(datum) == "EPSG:4326" else PULKOVO_1291_SRID


def to_wgs84(lon: Any, lat: Any, datum: str = DEFAULT_DATUM) -> tuple[Any, Any]:
    """Grid-datum degrees to EPSG:4326 degrees (identity for EPSG:4326)."""
    if resolve_datum(datum) == "EPSG:4326":
        return lon, lat
    lat84, lon84 = onshore_transformer().transform(lat, lon)
    return lon84, lat84


def blocks_geometry(codes: Iterable[str], *, datum: str = DEFAULT_DATUM) -> MultiPolygon:
    """Union of the blocks, as an EPSG:4326 MultiPolygon (empty for no codes)."""
    datum = resolve_datum(datum)
    corners = {block_minutes(code) for code in codes}
    if not corners:
        return MultiPolygon()
    # Union in integer minutes, where it is exact, then scale: the corners come out as the same
    # m / 60 floats as the blocks table and block_bounds.
    cells = [shapely.box(x, y, x + 1, y + 1) for x, y in corners]
    union = shapely.coverage_union_all(cells) if len(cells) > 1 else cells[0]
    if datum != "EPSG:4326":
        # Keep a vertex at every block corner so the shifted outline runs through exactly the
        # shifted corners of the stored blocks (segments are a whole number of minutes long).
        union = shapely.segmentize(union, 1)
    union = shapely.normalize(union)

    def shift(coords: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs84(coords[:, 0] / 60, coords[:, 1] / 60, datum)
        return np.column_stack((lon, lat))

    geom = shapely.transform(union, shift)
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    assert isinstance(geom, MultiPolygon)
    return geom

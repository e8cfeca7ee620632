"""SQL for OGC API – Features item queries, built from our own catalog identifiers with every
request value passed as a parameter.

Pages are cut by keyset (``WHERE (sort keys, id) > cursor``), never OFFSET, so page 1,000 of the
block grid costs what page 1 costs. Features are serialised to GeoJSON text inside PostgreSQL,
so Python only joins strings."""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import asyncpg

from geoservice.kernel.errors import Problem
from geoservice.ogc import crs as crsmod
from geoservice.ogc.cql2 import CompiledFilter, FilterShape, Queryable, compile_page_filter
from layers.access import public_filter
from layers.catalog import LAYERS, Attribute, Layer
from layers.registry import Collection
from layers.values import INT64_MAX, storable_text

QUERYABLE_TYPES = {"text": "string", "integer": "integer", "number": "number", "date": "date",
                   "boolean": "boolean"}
SQL_CASTS = {"string": "text", "integer": "bigint", "number": "double precision", "date": "date",
             "boolean": "boolean"}
# Sort keys never hold NULL (the cursor compares them): NULLs sort as these, first ascending.
SORT_FLOOR = {"string": "''", "integer": "(-9223372036854775807)::bigint", "number": "'-Infinity'::float8",
              "date": "'-infinity'::date", "boolean": "false"}
CACHED_FILTER_CHARS = 10_000
COUNT_CAP = 100_000  # beyond this numberMatched is the planner's estimate (documented)
MAX_LIMIT = 10_000


def column(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def queryables(source: Collection | Layer) -> dict[str, Any]:
    out = {a.name: Queryable(a.name, column(a.name), QUERYABLE_TYPES[a.type],  # type: ignore[arg-type]
                             tuple(c.value for c in a.choices))
           for a in source.attributes}
    out["geometry"] = Queryable("geometry", "geom", "geometry")
    return out


def attribute(collection: Collection, name: str) -> Attribute | None:
    for a in collection.attributes:
        if a.name == name:
            return a
    return None


@dataclass
class Cursor:
    direction: str            # "next" or "prev"
    keys: list[Any]           # sort key values then the id

    def encode(self) -> str:
        raw = json.dumps({"d": self.direction, "k": self.keys}, separators=(",", ":"), default=str)
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @staticmethod
    def decode(token: str) -> Cursor:
        """The cursor of a link of ours; anything else (a hand-made one too) is a 400 naming
        ``cursor``. Its keys become query parameters, so each must be a value PostgreSQL takes:
        finite numbers within bigint/double precision, text without NUL."""
        try:
            if len(token) > MAX_CURSOR_CHARS:
                raise ValueError
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            data = json.loads(raw, parse_constant=_no_constant, parse_float=_finite_float)
            if not isinstance(data, dict) or data["d"] not in ("next", "prev") or not isinstance(data["k"], list) \
                    or not 0 < len(data["k"]) <= MAX_CURSOR_KEYS or not all(map(_cursor_key_ok, data["k"])):
                raise ValueError
            return Cursor(data["d"], data["k"])
        except (ValueError, KeyError, TypeError, RecursionError):  # JSONDecodeError and UnicodeError are ValueErrors
            raise Problem("ogc.bad_cursor", 400) from None


MAX_CURSOR_CHARS = 64_000   # sort keys are attribute values; a text attribute may be long, not this long
MAX_CURSOR_KEYS = 64


def _no_constant(name: str) -> None:
    raise ValueError(name)   # NaN, Infinity


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400
        raise ValueError(text)
    return value


def _cursor_key_ok(value: Any) -> bool:
    if isinstance(value, bool) or isinstance(value, float):
        return True
    if isinstance(value, int):
        return -INT64_MAX - 1 <= value <= INT64_MAX
    if isinstance(value, str):
        return storable_text(value)
    return False   # null, lists, objects: never in our cursors


@dataclass
class ItemsQuery:
    collection: Collection
    limit: int = 100
    bbox: list[float] | None = None
    bbox_crs: crsmod.OutputCrs = field(default_factory=lambda: crsmod.parse(None))
    datetime: str | None = None
    out_crs: crsmod.OutputCrs = field(default_factory=lambda: crsmod.parse(None))
    properties: list[str] | None = None
    sortby: list[tuple[str, bool]] = field(default_factory=list)   # (attribute, descending)
    filter: str | None = None
    filter_lang: str = "cql2-text"
    filter_crs: str | None = None
    equals: dict[str, str] = field(default_factory=dict)
    cursor: Cursor | None = None
    authorised: bool = False


class Sql:
    """A WHERE clause under construction, with its parameter list."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.params: list[Any] = []
        self.pinned: str | None = None   # attribute held to one value by a closed range (see page_sql)

    def param(self, value: Any, cast: str | None = None) -> str:
        self.params.append(value)
        return f"${len(self.params)}" + (f"::{cast}" if cast else "")

    @property
    def where(self) -> str:
        return " AND ".join(self.conditions) if self.conditions else "TRUE"


def _typed(attr: Attribute, raw: str, parameter: str) -> Any:
    from layers.values import coerce

    try:
        value = coerce(attr, raw)
    except ValueError:
        raise _bad_value(attr, raw, parameter) from None
    return value


def _bad_value(attr: Attribute, raw: str, parameter: str) -> Problem:
    """Why ``raw`` is no value of ``attr``, naming the parameter."""
    shown = repr(raw if len(raw) <= 80 else raw[:79] + "…")
    if not storable_text(raw):
        return Problem("ogc.bad_text", 400, parameter=parameter)
    if attr.type in ("integer", "number") and not attr.choices:
        try:
            number = float(raw.strip().replace(",", ".").replace(" ", ""))
        except ValueError:
            number = None
        if number is not None and not math.isfinite(number):
            return Problem("ogc.not_finite", 400, parameter=parameter, value=shown)
        if number is not None and attr.type == "integer" and number.is_integer():
            return Problem("ogc.integer_out_of_range", 400, parameter=parameter, value=shown, low=-INT64_MAX - 1,
                           high=INT64_MAX)
    expected = ("one of " + ", ".join(c.value for c in attr.choices)) if attr.choices else f"a valid {attr.type}"
    return Problem("ogc.bad_parameter", 400, parameter=parameter, detail=f"{shown} is not {expected}")


def _conditions(q: ItemsQuery, pinnable: frozenset[str] = frozenset()) -> Sql:
    """The WHERE clause of ``q``. One equality on an attribute of ``pinnable`` is written as the
    closed range ``a >= v AND a <= v`` and named in ``Sql.pinned`` (why: page_sql)."""
    c = q.collection
    s = Sql()
    hidden = public_filter(c.access_column, q.authorised)
    if hidden:
        s.conditions.append(hidden)
    if q.bbox is not None:
        if len(q.bbox) == 6:  # 3D bbox: heights are ignored
            west, south, _, east, north, _ = q.bbox
        else:
            west, south, east, north = q.bbox
        if q.bbox_crs.flip:
            west, south, east, north = south, west, north, east
        if q.bbox_crs.epsg not in (None, 4326):
            # A box of no width or height (a line, a point) would reproject to a ring of one
            # point, which GEOS refuses: give it a micrometre (or a micro-degree).
            east, north = (east + 1e-6 if east == west else east), (north + 1e-6 if north == south else north)
        w, so, e, n = (s.param(v, "float8") for v in (west, south, east, north))
        envelope = f"ST_MakeEnvelope({w}, {so}, {e}, {n})"
        if q.bbox_crs.epsg in (None, 4326):
            s.conditions.append(f"ST_Intersects(geom, ST_SetSRID({envelope}, 4326))")
        else:
            # The numbers are already in x/y order: transform the envelope without flipping again.
            target = crsmod.OutputCrs(q.bbox_crs.uri, q.bbox_crs.epsg, False, q.bbox_crs.proj,
                                      q.bbox_crs.geographic)
            # Densified, so the box's edges stay where they are once reprojected (a box of no
            # width and height, a point, is left as it is: ST_Segmentize refuses a length of 0).
            step = s.param(max(abs(east - west), abs(north - south)) / 32 or 1.0, "float8")
            dense = f"ST_Segmentize({envelope}, {step})"
            s.conditions.append(f"ST_Intersects(geom, {crsmod.from_input_sql(dense, target)})")
    for name, raw in q.equals.items():
        attr = attribute(c, name)
        assert attr is not None
        cast = SQL_CASTS[QUERYABLE_TYPES[attr.type]]
        value = s.param(_typed(attr, raw, name), cast)
        if s.pinned is None and name in pinnable:
            s.pinned = name
            s.conditions.append(f"{column(name)} >= {value} AND {column(name)} <= {value}")
        else:
            s.conditions.append(f"{column(name)} = {value}")
    if q.datetime:
        s.conditions.extend(_datetime_conditions(q, s))
    if q.filter:
        args = (c.layer.id, q.filter, q.filter_lang, q.filter_crs, len(s.params) + 1,
                pinnable if s.pinned is None else frozenset())
        # Long filters (a district's outline: up to 2 MB) are not kept: 256 of them would be too much memory.
        compiled = (_compiled_filter if len(q.filter) <= CACHED_FILTER_CHARS else _compiled_filter.__wrapped__)(*args)
        s.params.extend(compiled.params)
        s.conditions.append(f"({compiled.sql})")
        s.pinned = s.pinned or compiled.pinned
    return s


@lru_cache(maxsize=256)
def _compiled_filter(layer_id: str, text: str, lang: str, crs: str | None, first_param: int,
                     pinnable: frozenset[str]) -> CompiledFilter:
    """A filter compiled once (0.2-0.7 ms for a polygon), not for the page and again for its
    count and each page of a walk. Compiling depends on nothing but these arguments."""
    return compile_page_filter(text, lang, queryables=queryables(LAYERS[layer_id]), filter_crs=crs,
                               first_param=first_param, pinnable=pinnable)


def filter_shape(q: ItemsQuery) -> FilterShape:
    """What ``q``'s filter asks of the database (geoservice.ogc.cost), from the cached compile
    (the shape does not depend on where its parameters start)."""
    assert q.filter is not None
    args = (q.collection.layer.id, q.filter, q.filter_lang, q.filter_crs, 1, frozenset[str]())
    compiled = (_compiled_filter if len(q.filter) <= CACHED_FILTER_CHARS else _compiled_filter.__wrapped__)(*args)
    return compiled.shape


# RFC 3339: full-date, or full-date "T" full-time with a "Z" or numeric offset (T and Z in either
# case; a space before the offset is a '+' the query string decoded as a space).
DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
DATE_TIME_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+\- ]\d{2}:\d{2})")


@dataclass(frozen=True)
class Instant:
    """One end of a datetime= value: a day (dates, and the UTC day of a date-time) for the
    layers' day and year attributes, and the span it covers, to order the two ends."""
    day: dt.date
    first: dt.datetime   # the earliest moment it stands for (a date: its first moment, UTC)
    last: dt.datetime    # the latest


def parse_instant(text: str) -> Instant | None:
    """An RFC 3339 date or date-time; None for an open end ('..' or empty). Anything else,
    a trailing word or quote included, is a 400 naming ``datetime``."""
    if text in ("", ".."):
        return None
    try:
        if DATE_RE.fullmatch(text):
            day = dt.date.fromisoformat(text)
            first = dt.datetime.combine(day, dt.time(), dt.UTC)
            return Instant(day, first, first + dt.timedelta(days=1, microseconds=-1))
        m = DATE_TIME_RE.fullmatch(text)
        if m is None:
            raise ValueError(text)
        year, month, day_, hour, minute, second = (int(g) for g in m.groups()[:6])
        fraction, offset = m.group(7) or "", m.group(8)
        micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
        if offset in ("Z", "z"):
            zone = dt.UTC
        else:
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            if hours > 23 or minutes > 59:
                raise ValueError(text)
            sign = -1 if offset[0] == "-" else 1
            zone = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
        # A leap second (:60) is the last moment of its minute here.
        moment = dt.datetime(year, month, day_, hour, minute, min(second, 59), micro if second < 60 else 999999,
                             tzinfo=zone).astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise Problem("ogc.bad_datetime", 400, value=_shown(text)) from None
    return Instant(moment.date(), moment, moment)


def parse_datetime(text: str) -> tuple[Instant | None, Instant | None]:
    """``datetime=``: an instant (start = end) or an interval start/end, either end open."""
    if "/" not in text:
        instant = parse_instant(text)
        if instant is None:   # '..' alone is no instant
            raise Problem("ogc.bad_datetime", 400, value=_shown(text))
        return instant, instant
    start_text, _, end_text = text.partition("/")
    if "/" in end_text:
        raise Problem("ogc.bad_datetime", 400, value=_shown(text))
    start, end = parse_instant(start_text), parse_instant(end_text)
    if start is not None and end is not None and start.first > end.last:
        raise Problem("ogc.datetime_reversed", 400, start=start_text, end=end_text)
    return start, end


def _shown(text: str) -> str:
    return text if len(text) <= 80 else text[:79] + "…"


def _datetime_conditions(q: ItemsQuery, s: Sql) -> list[str]:
    layer = q.collection.layer
    if not layer.temporal:
        raise Problem("ogc.bad_parameter", 400, parameter="datetime", detail=f"layer '{layer.id}' has no time")
    assert q.datetime is not None
    begins, ends = parse_datetime(q.datetime)
    start = begins.day if begins else None
    end = ends.day if ends else None
    first, last = layer.temporal
    is_year = attribute(q.collection, first).type == "integer"  # type: ignore[union-attr]

    def value(d: dt.date) -> str:
        return s.param(d.year, "bigint") if is_year else s.param(d, "date")

    out = []
    # The feature's interval [first, last] (open-ended where NULL) intersects the request's.
    if end is not None:
        out.append(f"({column(first)} IS NULL OR {column(first)} <= {value(end)})")
    if start is not None:
        out.append(f"(coalesce({column(last)}, {column(first)}) IS NULL OR "
                   f"coalesce({column(last)}, {column(first)}) >= {value(start)})")
    return out


def _sort_keys(q: ItemsQuery) -> list[tuple[str, bool, str]]:
    """(SQL expression, descending, queryable type) for every sort key, the id last."""
    keys = []
    for name, desc in q.sortby:
        attr = attribute(q.collection, name)
        assert attr is not None
        kind = QUERYABLE_TYPES[attr.type]
        # A NOT NULL column sorts as itself, so that an index on it can give the order.
        expr = column(name) if name in q.collection.not_null else f"coalesce({column(name)}, {SORT_FLOOR[kind]})"
        keys.append((expr, desc, kind))
    keys.append((column(q.collection.id_column), False, "integer"))
    return keys


def _keyset(keys: list[tuple[str, bool, str]], values: list[Any], s: Sql, reverse: bool) -> str:
    """Rows after the cursor in the page's order."""
    if len(values) != len(keys):
        raise Problem("ogc.bad_cursor", 400)  # made for another sortby
    bound = [s.param(_cursor_value(v, kind), SQL_CASTS[kind]) for v, (_, _, kind) in zip(values, keys, strict=True)]
    forwards = [desc == reverse for _, desc, _ in keys]  # True: the key grows along the page
    if all(forwards) or not any(forwards):
        # One direction: a row comparison, which a btree on the keys takes as its start position.
        op = ">" if forwards[0] else "<"
        return f"(({', '.join(expr for expr, _, _ in keys)}) {op} ({', '.join(bound)}))"
    ors = []
    for i, (expr, _, _) in enumerate(keys):
        parts = [f"{keys[j][0]} = {bound[j]}" for j in range(i)]
        parts.append(f"{expr} {'>' if forwards[i] else '<'} {bound[i]}")
        ors.append("(" + " AND ".join(parts) + ")")
    # Mixed directions: the expanded form, with the bound it implies on the first key stated
    # on its own, so that an index on that key starts at the cursor rather than at the top.
    lead = f"{keys[0][0]} {'>=' if forwards[0] else '<='} {bound[0]}"
    return f"({lead} AND (" + " OR ".join(ors) + "))"


def _cursor_value(value: Any, kind: str) -> Any:
    """A cursor key as the sort key's type (decode has checked it is a sound JSON scalar)."""
    try:
        if kind == "date":
            return dt.date.fromisoformat(str(value))
        if kind == "integer":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            number = int(value)
            if not -INT64_MAX - 1 <= number <= INT64_MAX:
                raise ValueError(value)
            return number
        if kind == "number":
            number = float(value)
            if not math.isfinite(number):  # the text 'inf'
                raise ValueError(value)
            return number
        if kind == "boolean":
            return bool(value)
        return str(value)
    except (TypeError, ValueError, OverflowError):
        raise Problem("ogc.bad_cursor", 400) from None


def feature_sql(q: ItemsQuery) -> str:
    """One Feature as GeoJSON text, built in PostgreSQL."""
    c = q.collection
    names = q.properties if q.properties is not None else [a.name for a in c.attributes]
    props = ", ".join(f"'{n}', {column(n)}" for n in names)
    properties = f"json_build_object({props})::text" if names else "'{}'"
    if c.schema == "layer_data" and q.properties is None:
        # Extra columns the authority sent ride along as properties too.
        properties = f"(json_build_object({props})::jsonb || coalesce(extra, '{{}}'::jsonb))::text"
    geometry = f"ST_AsGeoJSON({crsmod.to_output_sql('geom', q.out_crs)}, {q.out_crs.precision})"
    return ("'{\"type\":\"Feature\",\"id\":' || to_json(" + column(c.feature_id_column) + ")::text || "
            "',\"geometry\":' || " + geometry + " || ',\"properties\":' || " + properties + " || '}'")


@dataclass
class Page:
    features: list[bytes]   # each a GeoJSON Feature, UTF-8
    next: Cursor | None
    prev: Cursor | None


@dataclass
class PageSql:
    """The statement of one page: rows of (k0, k1, ..., f), limit + 1 of them."""
    sql: str
    params: list[Any]
    key_count: int
    reverse: bool


def page_sql(q: ItemsQuery) -> PageSql:
    """The page's statement. With an equality on an attribute that has an (attribute, id) index,
    the ORDER BY starts with that attribute -- the same order, as it holds one value -- and the
    equality is written as a closed range: ``a = v`` would let PostgreSQL drop ``a`` from the
    ORDER BY again and then weigh walking another index in page order (the primary key; code for
    sortby=code), filtering as it goes, which its LIMIT costing assumes finds the matches spread
    evenly along that index. They are not (sheet L-42 starts 142,792 blocks into the grid), and
    the walk was chosen: 60-75 ms a page instead of 6-8. Now the (attribute, id) index gives the
    page directly, or the matches to sort when sortby names another attribute."""
    s = _conditions(q, q.collection.paged_by)
    keys = _sort_keys(q)
    reverse = q.cursor is not None and q.cursor.direction == "prev"
    if q.cursor is not None:
        s.conditions.append(_keyset(keys, q.cursor.keys, s, reverse))
    order_keys = [(column(s.pinned), False)] if s.pinned else []
    order_keys += [(expr, desc) for expr, desc, _ in keys]
    order = ", ".join(f"{expr} {'DESC' if desc != reverse else 'ASC'}" for expr, desc in order_keys)
    key_columns = ", ".join(f"{expr} AS k{i}" for i, (expr, _, _) in enumerate(keys))
    # UTF-8 bytes, not text: joining a thousand features as bytes takes 0.04 ms, as str (Cyrillic
    # makes them UCS-2) and then encoding the page 1.6 ms.
    sql = (f"SELECT {key_columns}, convert_to({feature_sql(q)}, 'UTF8') AS f FROM {q.collection.table} "  # noqa: S608 - identifiers from the registry
           f"WHERE {s.where} ORDER BY {order} LIMIT {s.param(q.limit + 1, 'int')}")
    return PageSql(sql, s.params, len(keys), reverse)


async def fetch_page(conn: asyncpg.Connection, q: ItemsQuery) -> Page:
    p = page_sql(q)
    reverse = p.reverse
    rows = await conn.fetch(p.sql, *p.params)
    more = len(rows) > q.limit
    rows = rows[:q.limit]
    if reverse:
        rows.reverse()
    features = [r["f"] for r in rows]
    key_count = p.key_count

    def cursor(row: asyncpg.Record, direction: str) -> Cursor:
        return Cursor(direction, [_jsonable(row[f"k{i}"]) for i in range(key_count)])

    if not rows:
        return Page([], None, Cursor("prev", q.cursor.keys) if q.cursor and q.cursor.direction == "next" else None)
    has_next = more if not reverse else True
    has_prev = q.cursor is not None and (more if reverse else True)
    return Page(features, cursor(rows[-1], "next") if has_next else None,
                cursor(rows[0], "prev") if has_prev else None)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class CountCache:
    """numberMatched per (version, query): deep pages of one query reuse its count."""

    def __init__(self, size: int = 2048) -> None:
        self._data: OrderedDict[tuple[Any, ...], int] = OrderedDict()
        self._size = size

    def get(self, key: tuple[Any, ...]) -> int | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: tuple[Any, ...], value: int) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self._size:
            self._data.popitem(last=False)


COUNTS = CountCache()


async def number_matched(conn: asyncpg.Connection, q: ItemsQuery) -> int:
    """Exact up to COUNT_CAP matches; past that, PostgreSQL's planner estimate."""
    c = q.collection
    s = _conditions(q)
    if not s.conditions and c.feature_count is not None:
        return c.feature_count
    if s.conditions == [public_filter(c.access_column, q.authorised)] and c.public is not None:
        return c.public.count or 0  # counted once per version (registry)
    key = (c.version_key, s.where, tuple(map(str, s.params)))
    cached = COUNTS.get(key)
    if cached is not None:
        return cached
    capped = await conn.fetchval(
        f"SELECT count(*) FROM (SELECT 1 FROM {c.table} WHERE {s.where} LIMIT {COUNT_CAP + 1}) m",  # noqa: S608
        *s.params)
    if capped > COUNT_CAP:
        plan = await conn.fetchval(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {c.table} WHERE {s.where}",  # noqa: S608
                                   *s.params)
        plan_rows = json.loads(plan)[0]["Plan"]["Plan Rows"]
        capped = max(int(plan_rows), COUNT_CAP + 1)
    COUNTS.put(key, int(capped))
    return int(capped)


async def fetch_one(conn: asyncpg.Connection, collection: Collection, feature_id: str, out_crs: crsmod.OutputCrs,
                    authorised: bool) -> str | None:
    q = ItemsQuery(collection, out_crs=out_crs, authorised=authorised)
    s = _conditions(q)
    s.conditions.append(f"{column(collection.feature_id_column)} = {s.param(feature_id, 'text')}")
    return await conn.fetchval(f"SELECT {feature_sql(q)} FROM {collection.table} WHERE {s.where}",  # noqa: S608
                               *s.params)

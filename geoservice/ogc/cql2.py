"""OGC API – Features Part 3 filtering: CQL2 (text and JSON) compiled to a parameterised SQL
``WHERE`` fragment for PostgreSQL/PostGIS.

Every value the client wrote travels as an asyncpg parameter (``$n::type``); the SQL text holds
only trusted column expressions from the queryables, operators and fixed function names.

Parsing. The filter is read into pygeofilter's AST (``pygeofilter.ast`` / ``pygeofilter.values``)
and compiled from there, but not by pygeofilter's own 0.4 parsers: its cql2-text grammar gives
AND and OR the same precedence (``a OR b AND c`` becomes ``(a OR b) AND c`` -- silently wrong
rows), rejects ``'it''s'``, ``NOT (a OR b)``, one-letter names, function-style temporal
predicates and date intervals, and its cql2-json reader expects pre-1.0 shapes (``between``,
functions) and maps T_INTERSECTS to T_OVERLAPS. So the text grammar below follows the CQL2 1.0
BNF (on lark, pygeofilter's own parser library) and the JSON reader follows the CQL2 1.0 schema.

Semantics worth knowing:

* Property names are case-sensitive and must be queryables (``"quoted"`` names too).
* Literals are typed by their form and must fit the property they meet: ``year = '2000'`` is an
  error, ``height > 3`` binds ``3`` as double precision. A TIMESTAMP met by a date property is
  taken at that property's resolution (its UTC date).
* LIKE uses ``%``, ``_`` and ``\\`` escapes exactly as PostgreSQL does; CASEI is ``lower()``
  (the database's ``LC_CTYPE`` must be a UTF-8 locale for Cyrillic), ACCENTI strips combining
  marks after NFD normalisation (é → e, й → и; Kazakh ә, қ, ө... are letters, not accents).
* Geometry literals (WKT, GeoJSON, BBOX) are in ``filter-crs`` (default CRS84, lon/lat), in that
  CRS's axis order (EPSG:4326 is lat/lon); they are moved into the stored EPSG:4326 by the same
  SQL as ``bbox-crs`` (geoservice.ogc.crs: Pulkovo 1942 CRSs through EPSG:1291). A BBOX whose
  west edge lies east of its east edge crosses the antimeridian.
* Temporal functions work on date properties and on integer properties read as calendar years,
  on DATE/TIMESTAMP/INTERVAL literals and on ``INTERVAL(start_property, end_property)`` for a
  layer that keeps an interval in two queryables. Literals are taken at the resolution of the
  properties involved (a year when a year property takes part, else a date). Intervals are
  closed; ``'..'`` is an open end. The interval-only functions (T_MEETS, T_OVERLAPS, T_STARTS,
  ...) reject instants as CQL2 requires; as an extension T_DURING(instant, interval) and
  T_CONTAINS(interval, instant) mean "the instant lies in the closed interval".
* Arithmetic (+ - * / % div) runs in ``numeric``; a zero divisor gives NULL (no match), not an
  error. ``^`` is not supported, so the "arithmetic" conformance class is not declared.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, ClassVar, Literal

import shapely
import shapely.geometry
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from pygeofilter import ast, values

from geoservice.kernel.errors import Problem
from geoservice.ogc import crs as crsmod
from layers.values import storable_text

log = logging.getLogger(__name__)

CONFORMANCE: list[str] = [
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
]

FILTER_LANGS = ("cql2-text", "cql2-json")
MAX_FILTER_CHARS = 2_000_000   # a detailed district outline fits; a runaway request does not
MAX_DEPTH = 100                # nesting of parentheses / operators (AND/OR chains do not count)
MAX_PARAMS = 10_000            # PostgreSQL takes at most 65,535 parameters per statement


QueryableType = Literal["string", "integer", "number", "date", "boolean", "geometry"]


@dataclass(frozen=True)
class Queryable:
    name: str            # the name clients use (e.g. "name", "kind", "year_start", "geometry")
    sql: str             # trusted SQL expression (a quoted column, e.g. '"kind"', or 'geom')
    type: QueryableType
    values: tuple[str, ...] = ()   # allowed values of an enumeration (informational)


# --- AST nodes pygeofilter lacks -----------------------------------------------------------------

@dataclass
class TimeIntersects(ast.TemporalPredicate):
    # pygeofilter maps T_INTERSECTS onto TimeOverlaps, a different relation. (``op`` only feeds
    # pygeofilter's own renderer; T_INTERSECTS is NOT T_DISJOINT.)
    op: ClassVar[ast.TemporalComparisonOp] = ast.TemporalComparisonOp.DISJOINT


@dataclass
class Modulo(ast.Expression):
    lhs: Any
    rhs: Any


@dataclass
class IntDiv(ast.Expression):
    lhs: Any
    rhs: Any


@dataclass
class Power(ast.Expression):
    lhs: Any
    rhs: Any


@dataclass
class BoolValue(ast.Expression):
    """A value standing alone where a condition is expected (TRUE, a boolean property, f(x))."""

    value: Any


SPATIAL: dict[str, type[ast.SpatialComparisonPredicate]] = {
    "s_intersects": ast.GeometryIntersects, "s_equals": ast.GeometryEquals, "s_disjoint": ast.GeometryDisjoint,
    "s_touches": ast.GeometryTouches, "s_within": ast.GeometryWithin, "s_overlaps": ast.GeometryOverlaps,
    "s_crosses": ast.GeometryCrosses, "s_contains": ast.GeometryContains,
}
SPATIAL_SQL: dict[type[ast.SpatialComparisonPredicate], str] = {
    ast.GeometryIntersects: "ST_Intersects", ast.GeometryEquals: "ST_Equals", ast.GeometryDisjoint: "ST_Disjoint",
    ast.GeometryTouches: "ST_Touches", ast.GeometryWithin: "ST_Within", ast.GeometryOverlaps: "ST_Overlaps",
    ast.GeometryCrosses: "ST_Crosses", ast.GeometryContains: "ST_Contains",
}
TEMPORAL: dict[str, type[ast.TemporalPredicate]] = {
    "t_after": ast.TimeAfter, "t_before": ast.TimeBefore, "t_contains": ast.TimeContains,
    "t_disjoint": ast.TimeDisjoint, "t_during": ast.TimeDuring, "t_equals": ast.TimeEquals,
    "t_finishedby": ast.TimeEndedBy, "t_finishes": ast.TimeEnds, "t_intersects": TimeIntersects,
    "t_meets": ast.TimeMeets, "t_metby": ast.TimeMetBy, "t_overlappedby": ast.TimeOverlappedBy,
    "t_overlaps": ast.TimeOverlaps, "t_startedby": ast.TimeBegunBy, "t_starts": ast.TimeBegins,
}
TEMPORAL_NAME = {cls: name.upper() for name, cls in TEMPORAL.items()}
COMPARISON: dict[str, type[ast.Comparison]] = {
    "=": ast.Equal, "<>": ast.NotEqual, "<": ast.LessThan, "<=": ast.LessEqual, ">": ast.GreaterThan,
    ">=": ast.GreaterEqual,
}
COMPARISON_SQL = {cls: op for op, cls in COMPARISON.items()}
ARITHMETIC: dict[str, type] = {"+": ast.Add, "-": ast.Sub, "*": ast.Mul, "/": ast.Div, "%": Modulo,
                               "div": IntDiv, "^": Power}
ARRAY_OPS = ("a_equals", "a_contains", "a_containedby", "a_overlaps")


class _Invalid(Exception):
    """A problem found while reading the filter; becomes a Problem with this key and params."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def _invalid(detail: str) -> _Invalid:
    return _Invalid("cql2.invalid", detail=detail)


# --- literals shared by both encodings -----------------------------------------------------------

DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
TIMESTAMP_RE = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _date(text: Any) -> dt.date:
    if not isinstance(text, str) or not DATE_RE.fullmatch(text):
        raise _invalid(f"{text!r} is not a date; write DATE('YYYY-MM-DD')")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _invalid(f"{text!r} is not a calendar date") from None


def _timestamp(text: Any) -> dt.datetime:
    if not isinstance(text, str) or not TIMESTAMP_RE.fullmatch(text):
        raise _invalid(f"{text!r} is not a timestamp; write TIMESTAMP('YYYY-MM-DDThh:mm:ssZ')")
    try:
        value = dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(f"{text!r} is not a valid timestamp") from None
    return value.astimezone(dt.UTC)


def _instant(text: Any) -> dt.date | None:
    """An interval end: '..' (open), a date or a timestamp."""
    if text == "..":
        return None
    if isinstance(text, str) and DATE_RE.fullmatch(text):
        return _date(text)
    if isinstance(text, str) and TIMESTAMP_RE.fullmatch(text):
        return _timestamp(text)
    raise _invalid(f"{text!r} is not an interval end; use a date, a timestamp or '..'")


def _number(text: str) -> int | float:
    if re.fullmatch(r"\d+", text):
        return int(text)
    value = float(text)
    if not math.isfinite(value):
        raise _invalid(f"the number {text} is out of range")
    return value


# --- cql2-text -----------------------------------------------------------------------------------

_ID_START = ":_A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1ffe\u200c\u200d" \
            "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd"
_ID_PART = _ID_START + ".0-9\u0300-\u036f\u203f\u2040"
_KW_END = r"(?![\w.:\u0300-\u036f])"   # a keyword must not run on into a longer identifier


def _kw(name: str, pattern: str | None = None) -> str:
    return f"{name}.2: /{pattern or name}{_KW_END}/i"


_KEYWORDS = "\n".join([
    *(_kw(k) for k in ("AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS", "NULL", "CASEI", "ACCENTI", "DATE",
                       "TIMESTAMP", "INTERVAL", "BBOX", "DIV", "POINT", "LINESTRING", "POLYGON", "MULTIPOINT",
                       "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION", "Z")),
    _kw("BOOL", "(?:TRUE|FALSE)"),
    _kw("SPATIAL_FN", "S_(?:INTERSECTS|EQUALS|DISJOINT|TOUCHES|WITHIN|OVERLAPS|CROSSES|CONTAINS)"),
    _kw("TEMPORAL_FN", "T_(?:AFTER|BEFORE|CONTAINS|DISJOINT|DURING|EQUALS|FINISHEDBY|FINISHES|INTERSECTS|"
                       "MEETS|METBY|OVERLAPPEDBY|OVERLAPS|STARTEDBY|STARTS)"),
])

GRAMMAR = r"""
?start: or_expr

?or_expr: and_expr
        | or_expr OR and_expr                      -> or_
?and_expr: not_expr
         | and_expr AND not_expr                   -> and_
?not_expr: bool_primary
         | NOT not_expr                            -> not_
// A lone value as a condition (TRUE, a boolean property, f(x)). "(" value ")" could then close
// either parenthesis kind; lark resolves that one shift/reduce conflict as shift, same meaning.
?bool_primary: predicate
             | "(" or_expr ")"
             | expr                                -> bool_value

predicate: expr COMP_OP expr                       -> comparison
         | expr LIKE pattern                       -> like
         | expr NOT LIKE pattern                   -> not_like
         | expr BETWEEN expr AND expr              -> between
         | expr NOT BETWEEN expr AND expr          -> not_between
         | expr IN "(" expr ("," expr)* ")"        -> in_
         | expr NOT IN "(" expr ("," expr)* ")"    -> not_in
         | expr IS NULL                            -> is_null
         | expr IS NOT NULL                        -> is_not_null
         | SPATIAL_FN "(" expr "," expr ")"        -> spatial
         | TEMPORAL_FN "(" expr "," expr ")"       -> temporal

pattern: STRING                                    -> pattern_literal
       | CASEI "(" pattern ")"                     -> pattern_casei
       | ACCENTI "(" pattern ")"                   -> pattern_accenti

?expr: term
     | expr PLUS term                              -> arithmetic
     | expr MINUS term                             -> arithmetic
?term: power
     | term STAR power                             -> arithmetic
     | term SLASH power                            -> arithmetic
     | term PERCENT power                          -> arithmetic
     | term DIV power                              -> arithmetic
?power: unary
      | unary CARET unary                          -> arithmetic
?unary: atom
      | MINUS unary                                -> neg
      | PLUS unary                                 -> pos
?atom: NUMBER                                      -> number
     | STRING                                      -> string
     | BOOL                                        -> boolean
     | property
     | IDENT "(" [expr ("," expr)*] ")"            -> function
     | CASEI "(" expr ")"                          -> casei
     | ACCENTI "(" expr ")"                        -> accenti
     | DATE "(" STRING ")"                         -> date
     | TIMESTAMP "(" STRING ")"                    -> timestamp
     | INTERVAL "(" interval_end "," interval_end ")" -> interval
     | BBOX "(" SNUMBER "," SNUMBER "," SNUMBER "," SNUMBER ["," SNUMBER "," SNUMBER] ")" -> bbox
     | geometry                                    -> geometry_literal
     | "(" expr ")"

property: IDENT | QIDENT
?interval_end: STRING                              -> interval_string
             | property
             | IDENT "(" [expr ("," expr)*] ")"    -> function

geometry: POINT [Z] point_text                     -> point
        | LINESTRING [Z] line_text                 -> linestring
        | POLYGON [Z] polygon_text                 -> polygon
        | MULTIPOINT [Z] multipoint_text           -> multipoint
        | MULTILINESTRING [Z] multiline_text       -> multilinestring
        | MULTIPOLYGON [Z] multipolygon_text       -> multipolygon
        | GEOMETRYCOLLECTION [Z] "(" geometry ("," geometry)* ")" -> geometrycollection
point_text: "(" coord ")"
line_text: "(" coord ("," coord)* ")"
polygon_text: "(" line_text ("," line_text)* ")"
multipoint_text: "(" point_text ("," point_text)* ")"
               | "(" coord ("," coord)* ")"        -> multipoint_bare
multiline_text: "(" line_text ("," line_text)* ")"
multipolygon_text: "(" polygon_text ("," polygon_text)* ")"
coord: SNUMBER SNUMBER [SNUMBER]

COMP_OP: "<>" | "<=" | ">=" | "=" | "<" | ">"
PLUS: "+"
MINUS: "-"
STAR: "*"
SLASH: "/"
PERCENT: "%"
CARET: "^"
NUMBER: /(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/
SNUMBER: /[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/
STRING: /'(?:[^'\\]|''|\\.)*'/s
QIDENT: /"(?:[^"]|"")+"/
IDENT: /[ID_START][ID_PART]*/
%ignore /\s+/
""".replace("ID_START", _ID_START).replace("ID_PART", _ID_PART) + _KEYWORDS

# How terminals read in a syntax error message, most useful first.
TERMINAL_NAMES = {
    "IDENT": "a property name", "QIDENT": "\"property\"", "NUMBER": "a number", "SNUMBER": "a number",
    "STRING": "'text'", "BOOL": "TRUE/FALSE", "COMP_OP": "= <> < <= > >=", "LPAR": "(", "RPAR": ")",
    "COMMA": ",", "$END": "end of filter", "PLUS": "+", "MINUS": "-", "STAR": "*", "SLASH": "/",
    "PERCENT": "%", "CARET": "^", "DIV": "div", "SPATIAL_FN": "S_INTERSECTS(…)", "TEMPORAL_FN": "T_INTERSECTS(…)",
    "DATE": "DATE(…)", "TIMESTAMP": "TIMESTAMP(…)", "INTERVAL": "INTERVAL(…)", "CASEI": "CASEI(…)",
    "ACCENTI": "ACCENTI(…)",
}
GEOMETRY_KEYWORDS = {"POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON",
                     "GEOMETRYCOLLECTION", "BBOX"}


def _unquote_string(token: Token, *, pattern: bool = False) -> str:
    """The value of a '...' literal: '' and \\' are a quote; outside LIKE patterns \\\\ is one
    backslash (QGIS writes it so), inside them backslashes stay for LIKE's own escaping."""
    body = str(token)[1:-1]
    if pattern:
        return body.replace("''", "'").replace("\\'", "'")
    return re.sub(r"''|\\'|\\\\", lambda m: "\\" if m.group(0) == "\\\\" else "'", body)


@v_args(inline=True)
class _TextToAst(Transformer):
    """Lark parse tree → pygeofilter AST (values checked here, with their position)."""

    def or_(self, lhs: Any, _op: Token, rhs: Any) -> ast.Node:
        return ast.Or(lhs, rhs)

    def and_(self, lhs: Any, _op: Token, rhs: Any) -> ast.Node:
        return ast.And(lhs, rhs)

    def not_(self, _op: Token, node: Any) -> ast.Node:
        return ast.Not(node)

    def bool_value(self, value: Any) -> ast.Node:
        return BoolValue(value)

    def comparison(self, lhs: Any, op: Token, rhs: Any) -> ast.Node:
        return COMPARISON[str(op)](lhs, rhs)

    def like(self, lhs: Any, _kw: Token, pattern: Any) -> ast.Node:
        return ast.Like(lhs, pattern, False, "%", "_", "\\", False)

    def not_like(self, lhs: Any, _not: Token, _kw: Token, pattern: Any) -> ast.Node:
        return ast.Like(lhs, pattern, False, "%", "_", "\\", True)

    def between(self, lhs: Any, _kw: Token, low: Any, _and: Token, high: Any) -> ast.Node:
        return ast.Between(lhs, low, high, False)

    def not_between(self, lhs: Any, _not: Token, _kw: Token, low: Any, _and: Token, high: Any) -> ast.Node:
        return ast.Between(lhs, low, high, True)

    def in_(self, lhs: Any, _kw: Token, *items: Any) -> ast.Node:
        return ast.In(lhs, list(items), False)

    def not_in(self, lhs: Any, _not: Token, _kw: Token, *items: Any) -> ast.Node:
        return ast.In(lhs, list(items), True)

    def is_null(self, lhs: Any, _is: Token, _null: Token) -> ast.Node:
        return ast.IsNull(lhs, False)

    def is_not_null(self, lhs: Any, _is: Token, _not: Token, _null: Token) -> ast.Node:
        return ast.IsNull(lhs, True)

    def spatial(self, fn: Token, lhs: Any, rhs: Any) -> ast.Node:
        return SPATIAL[str(fn).lower()](lhs, rhs)

    def temporal(self, fn: Token, lhs: Any, rhs: Any) -> ast.Node:
        return TEMPORAL[str(fn).lower()](lhs, rhs)

    def pattern_literal(self, token: Token) -> str:
        return _unquote_string(token, pattern=True)

    def pattern_casei(self, _kw: Token, inner: Any) -> ast.Node:
        return ast.Function("casei", [inner])

    def pattern_accenti(self, _kw: Token, inner: Any) -> ast.Node:
        return ast.Function("accenti", [inner])

    def arithmetic(self, lhs: Any, op: Token, rhs: Any) -> ast.Node:
        return ARITHMETIC[str(op).lower()](lhs, rhs)

    def neg(self, _op: Token, value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value
        return ast.Mul(-1, value)

    def pos(self, _op: Token, value: Any) -> Any:
        return value

    def number(self, token: Token) -> int | float:
        return _number(str(token))

    def string(self, token: Token) -> str:
        return _unquote_string(token)

    def boolean(self, token: Token) -> bool:
        return str(token).upper() == "TRUE"

    def property(self, token: Token) -> ast.Node:
        name = str(token)
        if token.type == "QIDENT":
            name = name[1:-1].replace('""', '"')
        return ast.Attribute(name)

    def function(self, name: Token, *args: Any) -> ast.Node:
        return ast.Function(str(name), [a for a in args if a is not None])

    def casei(self, _kw: Token, value: Any) -> ast.Node:
        return ast.Function("casei", [value])

    def accenti(self, _kw: Token, value: Any) -> ast.Node:
        return ast.Function("accenti", [value])

    def date(self, _kw: Token, token: Token) -> dt.date:
        return _date(str(token)[1:-1])

    def timestamp(self, _kw: Token, token: Token) -> dt.datetime:
        return _timestamp(str(token)[1:-1])

    def interval_string(self, token: Token) -> dt.date | None:
        return _instant(str(token)[1:-1])

    def interval(self, _kw: Token, start: Any, end: Any) -> values.Interval:
        return values.Interval(start, end)

    def bbox(self, _kw: Token, *numbers: Token | None) -> values.Envelope:
        n = [float(t) for t in numbers if t is not None]
        if len(n) == 6:  # with elevations: minx, miny, minz, maxx, maxy, maxz
            n = [n[0], n[1], n[3], n[4]]
        return values.Envelope(n[0], n[2], n[1], n[3])

    def geometry_literal(self, geometry: dict[str, Any]) -> values.Geometry:
        return values.Geometry(geometry)

    # WKT pieces → GeoJSON-like dicts (the compiler validates them with shapely).
    def coord(self, *numbers: Token | None) -> tuple[float, ...]:
        return tuple(float(t) for t in numbers if t is not None)

    def point_text(self, coord: tuple[float, ...]) -> tuple[float, ...]:
        return coord

    def line_text(self, *coords: tuple[float, ...]) -> list[tuple[float, ...]]:
        return list(coords)

    def polygon_text(self, *rings: list[Any]) -> list[Any]:
        return list(rings)

    def multipoint_text(self, *points: tuple[float, ...]) -> list[Any]:
        return list(points)

    multipoint_bare = multipoint_text

    def multiline_text(self, *lines: list[Any]) -> list[Any]:
        return list(lines)

    def multipolygon_text(self, *polygons: list[Any]) -> list[Any]:
        return list(polygons)

    def point(self, _kw: Token, _z: Any, coords: Any) -> dict[str, Any]:
        return {"type": "Point", "coordinates": coords}

    def linestring(self, _kw: Token, _z: Any, coords: Any) -> dict[str, Any]:
        return {"type": "LineString", "coordinates": coords}

    def polygon(self, _kw: Token, _z: Any, coords: Any) -> dict[str, Any]:
        return {"type": "Polygon", "coordinates": coords}

    def multipoint(self, _kw: Token, _z: Any, coords: Any) -> dict[str, Any]:
        return {"type": "MultiPoint", "coordinates": coords}

    def multilinestring(self, _kw: Token, _z: Any, coords: Any) -> dict[str, Any]:
        return {"type": "MultiLineString", "coordinates": coords}

    def multipolygon(self, _kw: Token, _z: Any, coords: Any) -> dict[str, Any]:
        return {"type": "MultiPolygon", "coordinates": coords}

    def geometrycollection(self, _kw: Token, _z: Any, *geometries: dict[str, Any]) -> dict[str, Any]:
        return {"type": "GeometryCollection", "geometries": list(geometries)}


@lru_cache(maxsize=1)
def _text_parser() -> Lark:
    # maybe_placeholders: optional [Z] / [...] parts arrive as None, so callbacks see fixed arities.
    return Lark(GRAMMAR, parser="lalr", lexer="contextual", maybe_placeholders=True, transformer=_TextToAst())


def _describe_expected(names: set[str]) -> str:
    order = list(TERMINAL_NAMES)
    shown: list[str] = []
    for name in sorted(names - GEOMETRY_KEYWORDS, key=lambda n: (order.index(n) if n in order else len(order), n)):
        label = TERMINAL_NAMES.get(name, name.strip("_"))
        if label not in shown:
            shown.append(label)
    if names & GEOMETRY_KEYWORDS:
        shown.append("a geometry (POINT(…), POLYGON(…), BBOX(…), …)")
    return ", ".join(shown[:16]) + (", …" if len(shown) > 16 else "")


def _syntax_problem(text: str, exc: UnexpectedInput) -> _Invalid:
    position = exc.pos_in_stream if exc.pos_in_stream is not None else len(text)
    near = text[position:position + 25].replace("\n", " ")
    if isinstance(exc, UnexpectedCharacters):
        found = f"character '{text[position]}'" if position < len(text) else "end of filter"
        expected = _describe_expected(set(exc.allowed or ()))
        if text[position:position + 1] == "'":  # the text pattern takes any quoted run, so it never closed
            found = "an unterminated 'text' (a quote inside text is written '')"
    elif isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        found, position, near = "end of filter", len(text), text[-25:]
        expected = _describe_expected(set(exc.expected or ()))
    else:
        assert isinstance(exc, UnexpectedToken)
        found = f"'{exc.token}'"
        expected = _describe_expected(set(exc.accepts or exc.expected or ()))
    return _Invalid("cql2.syntax", found=found, position=position + 1, near=near, expected=expected or "-")


ARRAY_FN_RE = re.compile(r"(?<![\w.:])(A_(?:EQUALS|CONTAINS|CONTAINEDBY|OVERLAPS))\s*\(", re.IGNORECASE)


def parse_text(text: str) -> Any:
    """cql2-text → pygeofilter AST (raises _Invalid)."""
    if not text.strip():
        raise _invalid("the filter is empty")
    try:
        return _text_parser().parse(text)
    except VisitError as exc:
        if isinstance(exc.orig_exc, _Invalid):
            raise exc.orig_exc from None
        raise _invalid(str(exc.orig_exc)) from None
    except UnexpectedInput as exc:
        array = ARRAY_FN_RE.search(text)
        if array:  # array literals are not in the grammar; say why rather than where
            raise _Invalid("cql2.unsupported", what=f"the array function {array.group(1).upper()}") from None
        raise _syntax_problem(text, exc) from None


# --- cql2-json -----------------------------------------------------------------------------------

def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number CQL2 accepts")


def parse_json(text: str) -> Any:
    """cql2-json → pygeofilter AST (raises _Invalid)."""
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc) or "nested too deeply"
        raise _Invalid("cql2.bad_json", detail=f"{msg}{where}") from None
    return _JsonReader().condition(doc, 0)


def _jshow(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "…"


class _JsonReader:
    """CQL2 1.0 JSON (the schema's ``{"op": ..., "args": [...]}`` shapes) → pygeofilter AST."""

    def _args(self, node: dict[str, Any], count: int | None = None) -> list[Any]:
        args = node.get("args")
        if isinstance(args, dict) and count == 1:   # {"op": "not", "args": {...}} is seen in the wild
            args = [args]
        if not isinstance(args, list):
            raise _Invalid("cql2.bad_json", detail=f"'args' of {_jshow(node)} must be an array")
        if count is not None and len(args) != count:
            raise _Invalid("cql2.bad_json", detail=f"'{node.get('op')}' takes {count} arguments, got {len(args)}")
        return args

    def condition(self, node: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _Invalid("cql2.too_complex", detail=f"more than {MAX_DEPTH} nested levels")
        if isinstance(node, bool):
            return BoolValue(node)
        if not isinstance(node, dict) or not isinstance(node.get("op"), str):
            return BoolValue(self.value(node, depth))
        op = node["op"]
        low = op.lower()
        d = depth + 1
        if low in ("and", "or"):
            args = self._args(node)
            if len(args) < 2:
                raise _Invalid("cql2.bad_json", detail=f"'{op}' needs at least two arguments")
            items = [self.condition(a, d) for a in args]
            return (ast.And if low == "and" else ast.Or).from_items(*items)
        if low == "not":
            return ast.Not(self.condition(self._args(node, 1)[0], d))
        if op in COMPARISON:
            a, b = self._args(node, 2)
            return COMPARISON[op](self.value(a, d), self.value(b, d))
        if low == "like":
            a, b = self._args(node, 2)
            return ast.Like(self.value(a, d), self.pattern(b, d), False, "%", "_", "\\", False)
        if low == "between":
            args = self._args(node)
            if len(args) == 2 and isinstance(args[1], list) and len(args[1]) == 2:  # pre-1.0 shape
                args = [args[0], *args[1]]
            if len(args) != 3:
                raise _Invalid("cql2.bad_json", detail="'between' takes 3 arguments: value, low, high")
            return ast.Between(self.value(args[0], d), self.value(args[1], d), self.value(args[2], d), False)
        if low == "in":
            a, b = self._args(node, 2)
            if not isinstance(b, list) or not b:
                raise _Invalid("cql2.bad_json", detail="the second argument of 'in' must be a non-empty array")
            return ast.In(self.value(a, d), [self.value(x, d) for x in b], False)
        if low == "isnull":
            return ast.IsNull(self.value(self._args(node, 1)[0], d), False)
        if low in SPATIAL:
            a, b = self._args(node, 2)
            return SPATIAL[low](self.value(a, d), self.value(b, d))
        if low in TEMPORAL:
            a, b = self._args(node, 2)
            return TEMPORAL[low](self.value(a, d), self.value(b, d))
        return BoolValue(self.value(node, depth))

    def pattern(self, node: Any, depth: int) -> Any:
        if isinstance(node, str):
            return node
        if isinstance(node, dict) and str(node.get("op", "")).lower() in ("casei", "accenti") and depth < MAX_DEPTH:
            return ast.Function(node["op"].lower(), [self.pattern(self._args(node, 1)[0], depth + 1)])
        raise _invalid(f"a LIKE pattern must be a string (or CASEI/ACCENTI of one), not {_jshow(node)}")

    def value(self, node: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _Invalid("cql2.too_complex", detail=f"more than {MAX_DEPTH} nested levels")
        d = depth + 1
        if node is None:
            raise _invalid("null is not a CQL2 value; test for missing values with isNull")
        if isinstance(node, (bool, str)):
            return node
        if isinstance(node, (int, float)):
            if isinstance(node, float) and not math.isfinite(node):
                raise _invalid(f"the number {node} is out of range")
            return node
        if isinstance(node, list):
            raise _Invalid("cql2.unsupported", what=f"an array value ({_jshow(node)})")
        if not isinstance(node, dict):
            raise _Invalid("cql2.bad_json", detail=f"unexpected {_jshow(node)}")
        if "op" in node:
            op = node["op"]
            low = str(op).lower()
            if low in ("casei", "accenti"):
                return ast.Function(low, [self.value(self._args(node, 1)[0], d)])
            if low in ARITHMETIC:
                a, b = self._args(node, 2)
                return ARITHMETIC[low](self.value(a, d), self.value(b, d))
            if low in ARRAY_OPS:
                raise _Invalid("cql2.unsupported", what=f"the array function {op}")
            if low in ("and", "or", "not", "like", "between", "in", "isnull") or op in COMPARISON \
                    or low in SPATIAL or low in TEMPORAL:
                return BoolValue(self.condition(node, d))  # a condition used as a value: refused later
            return ast.Function(str(op), [self.value(a, d) for a in self._args(node)])
        if "property" in node:
            if not isinstance(node["property"], str):
                raise _Invalid("cql2.bad_json", detail=f"'property' must be a string in {_jshow(node)}")
            return ast.Attribute(node["property"])
        if "date" in node:
            return _date(node["date"])
        if "timestamp" in node:
            return _timestamp(node["timestamp"])
        if "interval" in node:
            ends = node["interval"]
            if not isinstance(ends, list) or len(ends) != 2:
                raise _invalid(f"an interval has two ends: {_jshow(node)}")
            return values.Interval(*(self.value(e, d) if isinstance(e, dict) else _instant(e) for e in ends))
        if "bbox" in node:
            box = node["bbox"]
            if not isinstance(box, list) or len(box) not in (4, 6) or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in box):
                raise _Invalid("cql2.bad_geometry", detail=f"a bbox is 4 (or 6) numbers, not {_jshow(box)}")
            n = [float(v) for v in box]
            if len(n) == 6:
                n = [n[0], n[1], n[3], n[4]]
            return values.Envelope(n[0], n[2], n[1], n[3])
        if "type" in node and ("coordinates" in node or "geometries" in node):
            return values.Geometry(node)
        raise _Invalid("cql2.bad_json", detail=f"{_jshow(node)} is not a CQL2 expression")


# --- compiler ------------------------------------------------------------------------------------

CASTS = {"string": "text", "integer": "bigint", "number": "double precision", "numeric": "numeric",
         "boolean": "boolean", "date": "date", "timestamp": "timestamptz", "year": "bigint"}
NUMERIC_TYPES = ("integer", "number")
INT64 = 2 ** 63 - 1
# Combining marks removed after canonical decomposition: accent-insensitive comparison.
ACCENTI_SQL = "regexp_replace(normalize({}, NFD), '[\\u0300-\\u036f]', '', 'g')"


@dataclass(frozen=True)
class _Term:
    """A value expression: SQL (``sql``) or, while still unbound, a literal (``value``)."""

    sql: str | None
    type: str            # string, integer, number, boolean, date, timestamp, geometry
    value: Any = None
    text: str = ""       # how the client wrote it, for messages
    numeric: bool = False  # an arithmetic result (SQL numeric)

    @property
    def literal(self) -> bool:
        return self.sql is None


_INF = "+inf"
_NINF = "-inf"


def _show(node: Any, limit: int = 100) -> str:
    """A short CQL2-text rendering of an AST node for error messages."""
    text = _render(node, 0)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _render(node: Any, depth: int) -> str:
    if depth > 6:
        return "…"
    r = lambda n: _render(n, depth + 1)  # noqa: E731
    if isinstance(node, bool):
        return "TRUE" if node else "FALSE"
    if isinstance(node, str):
        return "'" + node.replace("'", "''") + "'"
    if isinstance(node, dt.datetime):
        return f"TIMESTAMP('{node.isoformat().replace('+00:00', 'Z')}')"
    if isinstance(node, dt.date):
        return f"DATE('{node.isoformat()}')"
    if isinstance(node, (int, float)):
        return repr(node)
    if node is None:
        return "'..'"
    if isinstance(node, ast.Attribute):
        return node.name
    if isinstance(node, values.Interval):
        return f"INTERVAL({r(node.start)}, {r(node.end)})"
    if isinstance(node, values.Envelope):
        return f"BBOX({node.x1}, {node.y1}, {node.x2}, {node.y2})"
    if isinstance(node, values.Geometry):
        return str(node.geometry.get("type", "geometry")).upper() + "(…)"
    if isinstance(node, ast.Function):
        return f"{node.name.upper()}({', '.join(r(a) for a in node.arguments)})"
    if isinstance(node, BoolValue):
        return r(node.value)
    if isinstance(node, ast.Not):
        return f"NOT {r(node.sub_node)}"
    if isinstance(node, ast.Combination):
        return f"({r(node.lhs)} {node.op.value} {r(node.rhs)})"
    if isinstance(node, ast.Comparison):
        return f"{r(node.lhs)} {node.op.value} {r(node.rhs)}"
    if isinstance(node, ast.Like):
        return f"{r(node.lhs)} {'NOT ' if node.not_ else ''}LIKE {r(node.pattern)}"
    if isinstance(node, ast.Between):
        return f"{r(node.lhs)} {'NOT ' if node.not_ else ''}BETWEEN {r(node.low)} AND {r(node.high)}"
    if isinstance(node, ast.In):
        return f"{r(node.lhs)} {'NOT ' if node.not_ else ''}IN ({', '.join(r(x) for x in node.sub_nodes)})"
    if isinstance(node, ast.IsNull):
        return f"{r(node.lhs)} IS {'NOT ' if node.not_ else ''}NULL"
    if isinstance(node, ast.SpatialComparisonPredicate):
        return f"S_{node.op.name}({r(node.lhs)}, {r(node.rhs)})"
    if isinstance(node, ast.TemporalPredicate):
        return f"{TEMPORAL_NAME.get(type(node), 'T_?')}({r(node.lhs)}, {r(node.rhs)})"
    if isinstance(node, (ast.Arithmetic, Modulo, IntDiv, Power)):
        sym = {Modulo: "%", IntDiv: "div", Power: "^"}.get(type(node)) or node.op.value  # type: ignore[union-attr]
        return f"({r(node.lhs)} {sym} {r(node.rhs)})"
    return type(node).__name__


class _Lazy:
    """SQL made on first use (and then reused): a literal becomes a parameter only if needed."""

    def __init__(self, make: Callable[[], str]) -> None:
        self.make = make
        self.sql: str | None = None

    def __call__(self) -> str:
        if self.sql is None:
            self.sql = self.make()
        return self.sql


_End = _Lazy | str   # SQL, or _INF / _NINF for an open interval end


@dataclass
class _Temporal:
    start: _End
    end: _End
    instant: bool
    text: str


INTERVAL_ONLY = {ast.TimeMeets, ast.TimeMetBy, ast.TimeOverlaps, ast.TimeOverlappedBy, ast.TimeBegins,
                 ast.TimeBegunBy, ast.TimeEnds, ast.TimeEndedBy, ast.TimeDuring, ast.TimeContains}


class _Compiler:
    def __init__(self, queryables: Mapping[str, Queryable], crs: crsmod.OutputCrs, first_param: int,
                 pinnable: frozenset[str] = frozenset()) -> None:
        self.queryables = queryables
        self.crs = crs
        self.first_param = first_param
        self.params: list[object] = []
        self.depth = 0
        self.pinnable = pinnable
        self.pinned: str | None = None
        self.top_level: set[int] = set()   # ids of the conditions ANDed at the top of the filter

    # -- helpers --

    def param(self, value: object, cast: str) -> str:
        if len(self.params) >= MAX_PARAMS:
            raise _Invalid("cql2.too_complex", detail=f"more than {MAX_PARAMS} values")
        if isinstance(value, str) and not storable_text(value):
            raise _Invalid("cql2.bad_text", value=ascii(value[:40]))
        self.params.append(value)
        return f"${self.first_param + len(self.params) - 1}::{cast}"

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Invalid("cql2.too_complex", detail=f"more than {MAX_DEPTH} nested levels")

    def queryable(self, name: str) -> Queryable:
        q = self.queryables.get(name)
        if q is None:
            raise _Invalid("cql2.unknown_property", name=name, known=", ".join(sorted(self.queryables)) or "-")
        return q

    # -- conditions --

    def condition(self, node: Any) -> str:
        self._enter()
        try:
            return self._condition(node)
        finally:
            self.depth -= 1

    def _condition(self, node: Any) -> str:
        if isinstance(node, (ast.And, ast.Or)):
            # AND/OR chains are flattened without recursion: a long list of terms is not "deep".
            kind = type(node)
            items: list[Any] = []
            stack = [node]
            while stack:
                n = stack.pop()
                if type(n) is kind:
                    stack.extend((n.rhs, n.lhs))
                else:
                    items.append(n)
            joiner = " AND " if kind is ast.And else " OR "
            return "(" + joiner.join(self.condition(i) for i in items) + ")"
        if isinstance(node, ast.Not):
            return f"(NOT {self.condition(node.sub_node)})"
        if isinstance(node, BoolValue):
            return self.bool_value(node)
        if isinstance(node, ast.Comparison):
            a, b = self.term(node.lhs), self.term(node.rhs)
            t = self.unify([a, b], node)
            x, y = self.bind(a, t), self.bind(b, t)
            if self.pin(node, a, b, t):
                col, value = (x, y) if isinstance(node.lhs, ast.Attribute) else (y, x)
                return f"({col} >= {value} AND {col} <= {value})"
            return f"({x} {COMPARISON_SQL[type(node)]} {y})"
        if isinstance(node, ast.Like):
            return self.like(node)
        if isinstance(node, ast.Between):
            terms = [self.term(node.lhs), self.term(node.low), self.term(node.high)]
            t = self.unify(terms, node)
            if t == "boolean":
                raise _invalid(f"BETWEEN needs numbers, dates or text in `{_show(node)}`")
            lhs, low, high = (self.bind(x, t) for x in terms)
            return f"({lhs} {'NOT ' if node.not_ else ''}BETWEEN {low} AND {high})"
        if isinstance(node, ast.In):
            terms = [self.term(node.lhs), *(self.term(x) for x in node.sub_nodes)]
            t = self.unify(terms, node)
            lhs, *items = (self.bind(x, t) for x in terms)
            return f"({lhs} {'NOT ' if node.not_ else ''}IN ({', '.join(items)}))"
        if isinstance(node, ast.IsNull):
            a = self.term(node.lhs)
            return f"({self.bind(a, a.type)} IS {'NOT ' if node.not_ else ''}NULL)"
        if isinstance(node, ast.SpatialComparisonPredicate):
            return self.spatial(node)
        if isinstance(node, ast.TemporalPredicate):
            return self.temporal(node)
        raise _Invalid("cql2.unsupported", what=f"`{_show(node)}`")

    def pin(self, node: ast.Comparison, a: _Term, b: _Term, t: str) -> bool:
        """Whether this comparison is the first top-level ``property = literal`` on a pinnable
        property, compared in the property's own type (so its index applies); it is then
        written as a closed range (see geoservice.ogc.features.page_sql for why)."""
        if self.pinned is not None or type(node) is not ast.Equal or id(node) not in self.top_level:
            return False
        for side, term, other in ((node.lhs, a, b), (node.rhs, b, a)):
            if isinstance(side, ast.Attribute) and side.name in self.pinnable and other.literal and term.type == t:
                self.pinned = side.name
                return True
        return False

    def mark_top_level(self, node: Any) -> None:
        self.top_level.update(id(n) for n in top_level_conjuncts(node))

    def bool_value(self, node: BoolValue) -> str:
        value = node.value
        if isinstance(value, ast.Node) and not isinstance(value, (ast.Attribute, ast.Function, ast.Expression)):
            return self.condition(value)
        t = self.term(value)
        if t.type != "boolean":
            raise _invalid(f"`{_show(value)}` is a {t.type} value, not a condition; compare it with something")
        return f"({self.bind(t, 'boolean')})"

    def like(self, node: ast.Like) -> str:
        lhs = self.term(node.lhs)
        if lhs.type != "string":
            raise _Invalid("cql2.type_mismatch", left=lhs.text, left_type=lhs.type, right="a LIKE pattern",
                           right_type="string", where=_show(node))
        wrappers: list[str] = []
        pattern = node.pattern
        while isinstance(pattern, ast.Function) and pattern.name.lower() in ("casei", "lower", "accenti") \
                and len(pattern.arguments) == 1:
            wrappers.append(pattern.name.lower())
            pattern = pattern.arguments[0]
        if not isinstance(pattern, str):
            raise _invalid(f"a LIKE pattern must be a text literal in `{_show(node)}`")
        if (len(pattern) - len(pattern.rstrip("\\"))) % 2:
            raise _invalid(f"the LIKE pattern {_show(pattern)} ends with an escape character '\\'")
        sql = self.param(pattern, "text")
        for w in reversed(wrappers):
            sql = ACCENTI_SQL.format(sql) if w == "accenti" else f"lower({sql})"
        return f"({self.bind(lhs, 'string')} {'NOT ' if node.not_ else ''}LIKE {sql})"

    # -- values --

    def term(self, node: Any) -> _Term:
        self._enter()
        try:
            return self._term(node)
        finally:
            self.depth -= 1

    def _term(self, node: Any) -> _Term:
        text = _show(node, 60)
        if isinstance(node, bool):
            return _Term(None, "boolean", node, text)
        if isinstance(node, int):
            return _Term(None, "integer" if abs(node) <= INT64 else "number", node, text)
        if isinstance(node, float):
            if not math.isfinite(node):
                raise _invalid(f"the number {node} is out of range")
            return _Term(None, "number", node, text)
        if isinstance(node, str):
            return _Term(None, "string", node, text)
        if isinstance(node, dt.datetime):
            return _Term(None, "timestamp", node, text)
        if isinstance(node, dt.date):
            return _Term(None, "date", node, text)
        if isinstance(node, (values.Geometry, values.Envelope)):
            return _Term(self.geometry(node), "geometry", None, text)
        if isinstance(node, ast.Attribute):
            q = self.queryable(node.name)
            return _Term(q.sql, q.type, None, f"property '{q.name}'")
        if isinstance(node, ast.Function):
            name = node.name.lower()
            if name in ("casei", "lower", "accenti") and len(node.arguments) == 1:
                inner = self.term(node.arguments[0])
                if inner.type != "string":
                    raise _invalid(f"{name.upper()} takes text, not {inner.text} ({inner.type})")
                sql = self.bind(inner, "string")
                sql = ACCENTI_SQL.format(sql) if name == "accenti" else f"lower({sql})"
                return _Term(sql, "string", None, text)
            if name in ARRAY_OPS:
                raise _Invalid("cql2.unsupported", what=f"the array function {node.name.upper()}")
            raise _Invalid("cql2.unsupported", what=f"the function {node.name}()")
        if isinstance(node, Power):
            raise _Invalid("cql2.unsupported", what="the power operator ^")
        if isinstance(node, (ast.Arithmetic, Modulo, IntDiv)):
            return self.arithmetic(node)
        if isinstance(node, values.Interval):
            raise _invalid(f"an interval ({text}) can only be used in temporal functions (T_INTERSECTS, …)")
        if isinstance(node, BoolValue):
            return self.term(node.value)
        if isinstance(node, ast.Node):
            raise _invalid(f"a condition (`{text}`) cannot be used as a value")
        raise _invalid(f"unexpected value {text}")

    def arithmetic(self, node: Any) -> _Term:
        a, b = self.term(node.lhs), self.term(node.rhs)
        for t in (a, b):
            if t.type not in NUMERIC_TYPES:
                raise _Invalid("cql2.type_mismatch", left=t.text, left_type=t.type, right="arithmetic",
                               right_type="number", where=_show(node))
        x, y = self.bind(a, "numeric"), self.bind(b, "numeric")
        # A zero divisor yields NULL (the row does not match) rather than a failed query.
        if isinstance(node, ast.Add):
            sql = f"({x} + {y})"
        elif isinstance(node, ast.Sub):
            sql = f"({x} - {y})"
        elif isinstance(node, ast.Mul):
            sql = f"({x} * {y})"
        elif isinstance(node, ast.Div):
            sql = f"({x} / NULLIF({y}, 0))"
        elif isinstance(node, Modulo):
            sql = f"mod({x}, NULLIF({y}, 0))"
        else:
            sql = f"div({x}, NULLIF({y}, 0))"
        return _Term(sql, "number", None, _show(node, 60), numeric=True)

    def unify(self, terms: list[_Term], node: Any) -> str:
        """The type all ``terms`` are compared in, or a type-mismatch problem."""
        types = {t.type for t in terms}
        if "geometry" in types:
            raise _invalid(f"geometries are compared with spatial functions (S_INTERSECTS, S_EQUALS, …), "
                           f"not in `{_show(node)}`")
        if types <= {"integer", "number"}:
            if any(t.numeric for t in terms):
                return "numeric"
            return "number" if "number" in types else "integer"
        if types == {"date", "timestamp"}:
            # A timestamp meets a date property at that property's resolution (its date).
            return "date" if any(t.type == "date" and not t.literal for t in terms) else "timestamp"
        if len(types) == 1:
            return types.pop()
        group = {"integer": "number"}
        first = terms[0]
        other = next(t for t in terms[1:] if group.get(t.type, t.type) != group.get(first.type, first.type))
        raise _Invalid("cql2.type_mismatch", left=first.text, left_type=first.type, right=other.text,
                       right_type=other.type, where=_show(node))

    def bind(self, term: _Term, target: str) -> str:
        if term.sql is not None:
            return term.sql
        return self.param(self.coerce(term, target), CASTS[target])

    def coerce(self, term: _Term, target: str) -> object:
        v, t = term.value, term.type
        if target == "numeric" and t in NUMERIC_TYPES:
            return Decimal(str(v))
        if target == "number" and t in NUMERIC_TYPES:
            try:
                return float(v)
            except OverflowError:
                raise _invalid(f"the number {term.text} is out of range") from None
        if target == "date" and t == "timestamp":
            return v.astimezone(dt.UTC).date()
        if target == "timestamp" and t == "date":
            return dt.datetime.combine(v, dt.time(), dt.UTC)
        if target == "year" and t in ("date", "timestamp"):
            return (v.astimezone(dt.UTC) if t == "timestamp" else v).year
        if target == t:
            return v
        raise _invalid(f"{term.text} ({t}) cannot be used as {target}")

    # -- spatial --

    def spatial(self, node: ast.SpatialComparisonPredicate) -> str:
        a, b = self.term(node.lhs), self.term(node.rhs)
        for t in (a, b):
            if t.type != "geometry":
                raise _Invalid("cql2.type_mismatch", left=t.text, left_type=t.type, right="a geometry",
                               right_type="geometry", where=_show(node))
        return f"{SPATIAL_SQL[type(node)]}({a.sql}, {b.sql})"

    def geometry(self, node: values.Geometry | values.Envelope) -> str:
        crs = self.crs
        lon_axis = 1 if crs.flip else 0
        if isinstance(node, values.Envelope):
            shape = self._envelope(node, lon_axis)
        else:
            try:
                shape = shapely.geometry.shape(node.geometry)
            except Exception as exc:  # shapely raises a variety (ValueError, TypeError, GEOSException, ...)
                raise _Invalid("cql2.bad_geometry", detail=f"{_jshow(node.geometry)}: {exc}") from None
        if shape.is_empty:
            raise _Invalid("cql2.bad_geometry", detail="the geometry is empty")
        coords = shapely.get_coordinates(shape)
        if not all(math.isfinite(c) for c in coords.flat):
            raise _Invalid("cql2.bad_geometry", detail="a coordinate is not a finite number")
        if crs.geographic:
            lon, lat = coords[:, lon_axis], coords[:, 1 - lon_axis]
            if (abs(lon) > 180).any() or (abs(lat) > 90).any():
                order = "latitude, longitude" if crs.flip else "longitude, latitude"
                raise _Invalid("cql2.bad_geometry", detail=f"coordinates out of range for {crs.uri}, whose axis "
                                                            f"order is {order}")
        if not shape.is_valid:
            raise _Invalid("cql2.bad_geometry", detail=shapely.is_valid_reason(shape))
        if isinstance(node, values.Envelope) and crs.epsg not in (None, 4326):
            # Densified, so the box's edges stay where they are once reprojected.
            xmin, ymin, xmax, ymax = shape.bounds
            shape = shapely.segmentize(shape, max(xmax - xmin, ymax - ymin) / 32 or 1.0)
        wkt = shapely.to_wkt(shape, rounding_precision=-1, output_dimension=2)
        return crsmod.from_input_sql(f"ST_GeomFromText({self.param(wkt, 'text')})", crs)

    def _envelope(self, box: values.Envelope, lon_axis: int) -> Any:
        # Envelope(x1=min axis 1, x2=max axis 1, y1=min axis 2, y2=max axis 2), in the CRS's axis order.
        lo = [box.x1, box.y1]
        hi = [box.x2, box.y2]
        for axis in (0, 1):
            if lo[axis] > hi[axis] and not (self.crs.geographic and axis == lon_axis):
                raise _Invalid("cql2.bad_geometry", detail=f"BBOX({box.x1}, {box.y1}, {box.x2}, {box.y2}): "
                                                            "a minimum is greater than its maximum")
        if self.crs.geographic and lo[lon_axis] > hi[lon_axis]:
            # West edge east of the east edge: the box crosses the antimeridian, so it is two boxes.
            east_hi, west_lo = list(hi), list(lo)
            east_hi[lon_axis], west_lo[lon_axis] = 180.0, -180.0
            return shapely.MultiPolygon([shapely.box(lo[0], lo[1], east_hi[0], east_hi[1]),
                                         shapely.box(west_lo[0], west_lo[1], hi[0], hi[1])])
        return shapely.box(lo[0], lo[1], hi[0], hi[1])

    # -- temporal --

    def temporal(self, node: ast.TemporalPredicate) -> str:
        name = TEMPORAL_NAME.get(type(node), type(node).__name__)
        raw = [self._temporal_ends(node.lhs, node), self._temporal_ends(node.rhs, node)]
        domain = self._temporal_domain([e for ends, _ in raw for e in ends])
        a, b = (self._temporal_bind(ends, instant, domain) for ends, instant in raw)
        kind = type(node)
        c = self._cmp
        if kind in INTERVAL_ONLY and (a.instant or b.instant):
            # Extension: an instant during / contained in an interval (closed ends).
            if kind is ast.TimeDuring and a.instant and not b.instant:
                return self._all([c(b.start, "<=", a.start), c(a.end, "<=", b.end)])
            if kind is ast.TimeContains and b.instant and not a.instant:
                return self._all([c(a.start, "<=", b.start), c(b.end, "<=", a.end)])
            raise _invalid(f"{name} compares intervals, but {a.text if a.instant else b.text} is an instant "
                           f"(in `{_show(node)}`)")
        # Built on demand: a literal becomes a parameter only if the relation uses it.
        rules: dict[type, Callable[[], list[str]]] = {
            ast.TimeBefore: lambda: [c(a.end, "<", b.start)],
            ast.TimeAfter: lambda: [c(a.start, ">", b.end)],
            ast.TimeMeets: lambda: [c(a.end, "=", b.start)],
            ast.TimeMetBy: lambda: [c(a.start, "=", b.end)],
            ast.TimeOverlaps: lambda: [c(a.start, "<", b.start), c(a.end, ">", b.start), c(a.end, "<", b.end)],
            ast.TimeOverlappedBy: lambda: [c(b.start, "<", a.start), c(b.end, ">", a.start),
                                           c(b.end, "<", a.end)],
            ast.TimeBegins: lambda: [c(a.start, "=", b.start), c(a.end, "<", b.end)],
            ast.TimeBegunBy: lambda: [c(a.start, "=", b.start), c(a.end, ">", b.end)],
            ast.TimeDuring: lambda: [c(a.start, ">", b.start), c(a.end, "<", b.end)],
            ast.TimeContains: lambda: [c(a.start, "<", b.start), c(a.end, ">", b.end)],
            ast.TimeEnds: lambda: [c(a.start, ">", b.start), c(a.end, "=", b.end)],
            ast.TimeEndedBy: lambda: [c(a.start, "<", b.start), c(a.end, "=", b.end)],
            ast.TimeEquals: lambda: [c(a.start, "=", b.start), c(a.end, "=", b.end)],
            TimeIntersects: lambda: [c(a.start, "<=", b.end), c(a.end, ">=", b.start)],
        }
        if kind is ast.TimeDisjoint:
            return f"({c(a.end, '<', b.start)} OR {c(a.start, '>', b.end)})"
        if kind not in rules:
            raise _Invalid("cql2.unsupported", what=name)
        return self._all(rules[kind]())

    @staticmethod
    def _all(parts: list[str]) -> str:
        return "(" + " AND ".join(parts) + ")"

    def _temporal_ends(self, node: Any, where: Any) -> tuple[list[Any], bool]:
        """The raw (start, end) of a temporal operand and whether it is an instant."""
        if isinstance(node, values.Interval):
            ends = [node.start, node.end]
            instant = False
        else:
            ends = [node, node]
            instant = True
        for e in ends:
            if e is None and not instant:
                continue
            if isinstance(e, ast.Attribute):
                q = self.queryable(e.name)
                if q.type not in ("date", "integer"):
                    raise _invalid(f"{TEMPORAL_NAME.get(type(where), 'temporal functions')} need a date property "
                                   f"(or an integer year), but '{q.name}' is {q.type} (in `{_show(where)}`)")
            elif not isinstance(e, dt.date):
                raise _invalid(f"{_show(e)} is not a date, timestamp, interval or date property "
                               f"(in `{_show(where)}`)")
        return ends, instant

    def _temporal_domain(self, ends: list[Any]) -> str:
        props = [self.queryables[e.name].type for e in ends if isinstance(e, ast.Attribute)]
        if "integer" in props:
            return "year"
        if "date" in props:
            return "date"
        return "timestamp" if any(isinstance(e, dt.datetime) for e in ends) else "date"

    def _temporal_bind(self, ends: list[Any], instant: bool, domain: str) -> _Temporal:
        bound: list[_End] = []
        for i, e in enumerate(ends):
            if instant and i == 1:
                bound.append(bound[0])  # an instant's start and end are one value
            elif e is None:
                bound.append(_NINF if i == 0 else _INF)
            elif isinstance(e, ast.Attribute):
                q = self.queryables[e.name]
                sql = f"CAST(date_part('year', {q.sql}) AS bigint)" if domain == "year" and q.type == "date" \
                    else q.sql
                bound.append(_Lazy(lambda sql=sql: sql))
            else:
                term = _Term(None, "timestamp" if isinstance(e, dt.datetime) else "date", e, _show(e))
                bound.append(_Lazy(lambda term=term: self.bind(term, domain)))
        if not instant and all(isinstance(e, dt.date) for e in ends):
            lo, hi = (self.coerce(_Term(None, "timestamp" if isinstance(e, dt.datetime) else "date", e), domain)
                      for e in ends)
            if lo > hi:  # type: ignore[operator]
                raise _invalid(f"the interval {_show(values.Interval(*ends))} ends before it starts")
        return _Temporal(bound[0], bound[1], instant, _show(ends[0]) if instant else _show(values.Interval(*ends)))

    @staticmethod
    def _cmp(x: _End, op: str, y: _End) -> str:
        """``x op y`` where either side may be an open interval end (±infinity)."""
        rank = {_NINF: -1, _INF: 1}
        if isinstance(x, _Lazy) and isinstance(y, _Lazy):
            return f"({x()} {op} {y()})"
        if isinstance(x, str) and isinstance(y, str):
            rx, ry = rank[x], rank[y]
            truth = {"<": rx < ry, "<=": rx <= ry, ">": rx > ry, ">=": rx >= ry, "=": rx == ry}[op]
            return "TRUE" if truth else "FALSE"
        # One open end against a value: only the open end's sign matters.
        rx, ry = (rank[x], 0) if isinstance(x, str) else (0, rank[y])  # type: ignore[index]
        truth = {"<": rx < ry, "<=": rx <= ry, ">": rx > ry, ">=": rx >= ry, "=": False}[op]
        finite = y if isinstance(x, str) else x
        assert isinstance(finite, _Lazy)
        # A NULL property is not "after -infinity": keep SQL's unknown for missing values.
        return f"({finite()} IS NOT NULL)" if truth else "FALSE"


def compile_filter(filter_text: str, filter_lang: str = "cql2-text", *, queryables: Mapping[str, Queryable],
                   filter_crs: str | None = None, first_param: int = 1) -> tuple[str, list[object]]:
    """-> (sql, params) where sql uses asyncpg placeholders $first_param, $first_param+1, ...

    Raises ``Problem`` (400) for anything wrong with the filter; see the module docstring."""
    compiled = compile_page_filter(filter_text, filter_lang, queryables=queryables, filter_crs=filter_crs,
                                   first_param=first_param)
    return compiled.sql, compiled.params


@dataclass(frozen=True)
class FilterShape:
    """What a filter asks of the database, read before it runs (geoservice.ogc.cost decides from
    it whether the query is expensive). Only conditions ANDed at the top of the filter can narrow
    the rows an index hands over; anything under OR or NOT is evaluated on every row."""
    narrowing: frozenset[str] = frozenset()   # properties compared with a literal: =, <, BETWEEN, IN
    boxes: tuple[tuple[float, float, float, float], ...] = ()  # bounds (filter-crs, its axis order) of
    #                                                             spatial literals the geometry must meet
    heavy: tuple[str, ...] = ()               # per-row work no index helps: LIKE '%x', CASEI, ACCENTI, ...
    in_values: int = 0                        # the longest IN list
    vertices: int = 0                         # of all geometry literals together


def top_level_conjuncts(node: Any) -> list[Any]:
    """The terms ANDed at the top of a filter (through AND chains and boolean wrappers), left to
    right: what every matching row must satisfy, each on its own."""
    top: list[Any] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.And):
            stack.extend((n.rhs, n.lhs))
        elif isinstance(n, BoolValue) and isinstance(n.value, ast.Node) \
                and not isinstance(n.value, (ast.Attribute, ast.Function, ast.Expression)):
            stack.append(n.value)
        else:
            top.append(n)
    return top


MEETS = (ast.GeometryIntersects, ast.GeometryWithin, ast.GeometryEquals, ast.GeometryOverlaps, ast.GeometryTouches,
         ast.GeometryCrosses, ast.GeometryContains)


def filter_shape(node: Any) -> FilterShape:
    """The FilterShape of a parsed (and compiled, so valid) filter."""
    top = top_level_conjuncts(node)
    narrowing: set[str] = set()
    boxes: list[tuple[float, float, float, float]] = []
    for n in top:
        # LIKE never narrows: a btree serves a LIKE prefix only under the C collation.
        if isinstance(n, (ast.Comparison, ast.Between, ast.In)) and isinstance(n.lhs, ast.Attribute):
            if isinstance(n, ast.Comparison) and type(n) is ast.NotEqual or getattr(n, "not_", False):
                continue
            if isinstance(n, ast.Comparison) and isinstance(n.rhs, ast.Node):
                continue   # property against property, or a function of one
            narrowing.add(n.lhs.name)
        elif isinstance(n, MEETS):
            for side in (n.lhs, n.rhs):
                if isinstance(side, values.Envelope):
                    boxes.append((side.x1, side.y1, side.x2, side.y2))
                elif isinstance(side, values.Geometry):
                    boxes.append(tuple(shapely.geometry.shape(side.geometry).bounds))  # type: ignore[arg-type]
    heavy: set[str] = set()
    in_values = vertices = 0
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Like) and isinstance(n.pattern, str) and n.pattern[:1] in ("%", "_"):
            heavy.add("LIKE with a leading wildcard")
        if isinstance(n, ast.Function) and n.name.lower() in ("casei", "accenti", "lower"):
            heavy.add(n.name.upper())
        if isinstance(n, (ast.Arithmetic, Modulo, IntDiv)):
            heavy.add("arithmetic")
        if isinstance(n, ast.In):
            in_values = max(in_values, len(n.sub_nodes))
        if isinstance(n, values.Geometry):
            vertices += int(shapely.get_num_coordinates(shapely.geometry.shape(n.geometry)))
        if isinstance(n, (ast.Node, values.Interval)) or dataclasses.is_dataclass(n) and not isinstance(n, type):
            stack.extend(v for v in vars(n).values() if not isinstance(v, (str, int, float, bool, type(None))))
        elif isinstance(n, list):
            stack.extend(n)
    return FilterShape(frozenset(narrowing), tuple(boxes), tuple(sorted(heavy)), in_values, vertices)


@dataclass
class CompiledFilter:
    sql: str
    params: list[object]
    pinned: str | None = None   # the property whose top-level equality is written as a closed range
    shape: FilterShape = FilterShape()


def compile_page_filter(filter_text: str, filter_lang: str = "cql2-text", *, queryables: Mapping[str, Queryable],
                        filter_crs: str | None = None, first_param: int = 1,
                        pinnable: frozenset[str] = frozenset()) -> CompiledFilter:
    """compile_filter, and the first ``property = literal`` ANDed at the top of the filter on a
    property of ``pinnable`` written as ``property >= literal AND property <= literal`` (the
    same rows), named in ``pinned``."""
    if filter_lang not in FILTER_LANGS:
        raise Problem("cql2.bad_lang", 400, value=filter_lang)
    crs = crsmod.parse(filter_crs, parameter="filter-crs")
    if not isinstance(filter_text, str):
        raise Problem("cql2.invalid", 400, detail="the filter must be text")
    if len(filter_text) > MAX_FILTER_CHARS:
        raise Problem("cql2.too_complex", 400, detail=f"more than {MAX_FILTER_CHARS} characters")
    parse: Callable[[str], Any] = parse_text if filter_lang == "cql2-text" else parse_json
    try:
        node = parse(filter_text)
        compiler = _Compiler(queryables, crs, first_param, pinnable)
        if pinnable:
            compiler.mark_top_level(node)
        sql = compiler.condition(node)
    except _Invalid as exc:
        raise Problem(exc.key, 400, **exc.params) from None
    except Problem:
        raise
    except RecursionError:
        raise Problem("cql2.too_complex", 400, detail="nested too deeply") from None
    except Exception as exc:  # never a 500 for a bad filter; the log keeps what went wrong
        log.exception("unexpected error compiling CQL2 filter %r", filter_text[:500])
        raise Problem("cql2.invalid", 400, detail=f"{type(exc).__name__}: {exc}") from None
    return CompiledFilter(sql, compiler.params, compiler.pinned, filter_shape(node))

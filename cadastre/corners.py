"""The corner-point form of a parcel (issue 9): a polygon given as boundary acts write it, a table
of corner points, read as uploads read corner tables (``layers.corner_table`` for the columns,
``layers.dms`` for the angles) and brought to WGS 84 by the datum policy (``layers.datum``).

``{"corners": TEXT}`` or ``{"corners": {"table": TEXT, "crs": "EPSG:4284"}}``: the text of a
table as uploaded (comma, semicolon or tab separated, a header row): latitude and longitude
columns (``Широта``/``Долгота``, ``ендік``/``бойлық``, ``lat``/``lon``; ``x``/``y`` for metres
of a projected CRS: x the easting), optionally a point-number column (``№ точки``, ``нүкте``,
``point``: the ring's order) and a plot-number column (``№ участка``, ``учаске``, ``plot``:
several plots make a MultiPolygon; a number written only on a plot's first row carries down).

``{"corners": {"points": [{"lat": "49°12'30\\"", "lon": "72°30'"}, ...], "crs": ...}}``: one
ring, the points in order (``x``/``y`` instead of ``lat``/``lon`` in a projected CRS).

Angles may be decimal or degrees-minutes-seconds with hemisphere letters in kk/ru/en. The ring is
closed when the last point does not repeat the first. ``crs``: EPSG:4326 (the default), Pulkovo
1942 EPSG:4284, its Gauss-Krüger zones EPSG:28408–28415, UTM 38N–45N EPSG:32638–32645. Every
error names the place: ``parcel.corners.table[LINE].COLUMN`` (LINE as a spreadsheet numbers
it, the header being 1) or ``parcel.corners.points[i].lat``."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any

import shapely
from pyproj import CRS

from geoservice.kernel.errors import Location, Problem
from layers.corner_table import PROJECTED_NAMES, column_roles, normalise_label, sniff_delimiter
from layers.datum import GAUSS_KRUGER_ZONES, PULKOVO_1942, choose_transformer
from layers.dms import Axis, DMSError, parse_angle, parse_number

MAX_POINTS = 20_000
MAX_TEXT = 2_000_000
GEOGRAPHIC = (4326, PULKOVO_1942)
PROJECTED = (*GAUSS_KRUGER_ZONES, *range(32638, 32646))
CRS_NAMES = {"CRS84": 4326, "OGC:CRS84": 4326, "urn:ogc:def:crs:OGC:1.3:CRS84": 4326}


def _bad(key: str, where: str, feature: int | None = None, **params: Any) -> Problem:
    return Problem(key, 400, location=Location(field=where, feature=feature), field=where, **params)


def _epsg(value: Any, where: str) -> int:
    if value is None:
        return 4326
    code: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        code = value
    elif isinstance(value, str):
        text = value.strip()
        code = CRS_NAMES.get(text)
        for prefix in ("EPSG:", "urn:ogc:def:crs:EPSG::", "http://www.opengis.net/def/crs/EPSG/0/"):
            if code is None and text.upper().startswith(prefix.upper()) and text[len(prefix):].isdigit():
                code = int(text[len(prefix):])
    if code not in (*GEOGRAPHIC, *PROJECTED):
        raise _bad("parcel.corners_crs", where, crs=str(value)[:60],
                   known=f"EPSG:4326, EPSG:{PULKOVO_1942}, EPSG:{GAUSS_KRUGER_ZONES[0]}–{GAUSS_KRUGER_ZONES[-1]}, "
                         "EPSG:32638–32645")
    assert code is not None
    return code


def _coordinate(text: Any, axis: Axis, projected: bool, where: str, feature: int | None = None,
                **place: Any) -> float:
    """One coordinate: metres in a projected CRS, else an angle (decimal or DMS) on ``axis``."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
        if not math.isfinite(value):
            raise _bad("parcel.corners_bad_coordinate", where, feature, value=str(text), **place)
        text = repr(value)
    if not isinstance(text, str) or not text.strip():
        raise _bad("parcel.corners_bad_coordinate", where, feature, value=str(text)[:40] if text else "", **place)
    if projected:
        number = parse_number(text)
        if number is None:
            raise _bad("parcel.corners_bad_coordinate", where, feature, value=text[:40], **place)
        return number
    try:
        return parse_angle(text, axis)
    except DMSError as err:
        if err.reason in ("minutes", "seconds"):
            raise _bad("parcel.corners_dms_range", where, feature, value=text[:40], **place) from None
        if err.reason == "degrees":
            raise _bad("parcel.corners_out_of_range", where, feature, value=text[:40],
                       limit=90 if axis == "lat" else 180, **place) from None
        raise _bad("parcel.corners_bad_coordinate", where, feature, value=text[:40], **place) from None


@dataclass
class _Plot:
    id: str
    number: int
    points: list[tuple[float, int, float, float, str]] = field(default_factory=list)  # order, seq, x, y, where


def _ring(plot: _Plot, where: str) -> list[tuple[float, float]]:
    """The plot's ring in point-number order; a repeated closing point is dropped, the ring closed."""
    points = sorted(plot.points, key=lambda p: (p[0], p[1]))
    ring: list[tuple[float, float]] = []
    numbers: dict[float, tuple[float, float]] = {}
    for order, _seq, x, y, place in points:
        previous = numbers.get(order)
        if previous is not None and previous != (x, y):
            if (x, y) == (points[0][2], points[0][3]):
                continue  # the closing point under an existing number
            raise _bad("parcel.corners_duplicate_number", place, plot.number, plot=plot.id,
                       number=int(order) if order == int(order) else order)
        numbers[order] = (x, y)
        if previous is None:
            ring.append((x, y))
    if len(set(ring)) < 3:
        raise _bad("parcel.corners_too_few", where, plot.number, plot=plot.id, count=len(set(ring)))
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    return ring


def _table(text: str, where: str, projected: bool) -> list[_Plot]:
    if len(text) > MAX_TEXT:
        raise _bad("parcel.corners_too_many", where, limit=MAX_POINTS)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip() for c in cells]
            else:
                rows.append((reader.line_num, cells))
            if len(rows) > MAX_POINTS:
                raise _bad("parcel.corners_too_many", where, limit=MAX_POINTS)
    except csv.Error:
        raise _bad("parcel.corners_form", where) from None
    if header is None or not rows:
        raise _bad("parcel.corners_empty", where)
    roles = column_roles(header)
    if "lat" not in roles or "lon" not in roles:
        raise _bad("parcel.corners_columns", where, columns=", ".join(h for h in header if h)[:200])
    # x/y columns hold metres only in a projected CRS (as in uploads); lat/lon columns never do.
    metres = projected and normalise_label(header[roles["lon"]]) in PROJECTED_NAMES

    def cell(cells: list[str], index: int) -> str:
        return cells[index].strip() if index < len(cells) else ""

    plots: dict[str, _Plot] = {}
    current: str | None = None
    for seq, (line, cells) in enumerate(rows):
        plot_id = cell(cells, roles["id"]) if "id" in roles else "1"
        if not plot_id:
            if current is None:
                column = header[roles["id"]]
                raise _bad("parcel.corners_missing_plot", f"{where}[{line}].{column}", line=line, column=column)
            plot_id = current  # a merged cell: the number of the rows above
        current = plot_id
        plot = plots.setdefault(plot_id, _Plot(plot_id, len(plots) + 1))
        xy = []
        for axis in ("lon", "lat"):
            column = header[roles[axis]]
            place = f"{where}[{line}].{column}"
            xy.append(_coordinate(cell(cells, roles[axis]), axis, metres, place, plot.number, line=line,
                                  column=column))
        order = float(seq)
        if "order" in roles:
            column = header[roles["order"]]
            number = parse_number(cell(cells, roles["order"])) if cell(cells, roles["order"]) else None
            if number is None:
                raise _bad("parcel.corners_point_number", f"{where}[{line}].{column}", plot.number, line=line,
                           column=column, value=cell(cells, roles["order"])[:40])
            order = number
        plot.points.append((order, seq, xy[0], xy[1], f"{where}[{line}]"))
    return list(plots.values())


def _points(value: Any, where: str, projected: bool) -> list[_Plot]:
    if not isinstance(value, list) or not value:
        raise _bad("parcel.corners_empty", where)
    if len(value) > MAX_POINTS:
        raise _bad("parcel.corners_too_many", where, limit=MAX_POINTS)
    keys = ("x", "y") if projected else ("lon", "lat")
    plot = _Plot("1", 1)
    for i, point in enumerate(value):
        place = f"{where}[{i}]"
        if not isinstance(point, dict) or set(point) != set(keys):
            raise _bad("parcel.corners_point", place, keys=" ".join(keys))
        x = _coordinate(point[keys[0]], "lon", projected, f"{place}.{keys[0]}", line=i + 1, column=keys[0])
        y = _coordinate(point[keys[1]], "lat", projected, f"{place}.{keys[1]}", line=i + 1, column=keys[1])
        plot.points.append((float(i), i, x, y, place))
    return [plot]


def parse_corners(value: Any, where: str) -> shapely.Geometry:
    """The corners form as a (Multi)Polygon in WGS 84 longitude/latitude, not yet validated as a
    parcel (``cadastre.parcels`` does that as for GeoJSON)."""
    if isinstance(value, str):
        value = {"table": value}
    if not isinstance(value, dict) or len({"table", "points"} & value.keys()) != 1 or \
            set(value) - {"table", "points", "crs"}:
        raise _bad("parcel.corners_form", where)
    epsg = _epsg(value.get("crs"), f"{where}.crs")
    projected = epsg in PROJECTED
    if "table" in value:
        if not isinstance(value["table"], str):
            raise _bad("parcel.corners_form", f"{where}.table")
        plots = _table(value["table"], f"{where}.table", projected)
    else:
        plots = _points(value["points"], f"{where}.points", projected)
    part = f"{where}.table" if "table" in value else f"{where}.points"
    rings = [_ring(plot, part) for plot in plots]
    if epsg != 4326:
        xs = [x for ring in rings for x, _ in ring]
        ys = [y for ring in rings for _, y in ring]
        transformer, _ = choose_transformer(CRS.from_epsg(epsg), (min(xs), min(ys), max(xs), max(ys)))
        moved = []
        for ring in rings:
            lon, lat = transformer.transform([x for x, _ in ring], [y for _, y in ring])
            moved.append(list(zip(lon, lat, strict=True)))
        rings = moved
    if any(not math.isfinite(c) for ring in rings for xy in ring for c in xy):
        raise _bad("parcel.corners_out_of_crs", f"{where}.crs", crs=f"EPSG:{epsg}")
    polygons = [shapely.Polygon(ring) for ring in rings]
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)


__all__ = ["MAX_POINTS", "parse_corners"]

"""Coordinate tables (CSV / TXT) read with the csv module, not GDAL, so that every coordinate is
parsed here (degrees-minutes-seconds included) and every error names its row and column.

Three shapes of table:
* a WKT column -> one feature per row;
* longitude/latitude columns -> one point per row;
* a corner-point table (plot number, optional point number, latitude, longitude; several rows per
  plot, as boundaries are written in acts) -> one polygon per plot, ring closed if needed.

The plot-number column of a corner table is any of ``layers.corner_table.ID_NAMES`` or, for an upload,
a name the caller passes in ``id_names`` (the layer's key attribute and its aliases: a zone table
groups by ``zone_id``); ``Table.id_column`` says which column grouped the rows.

Locations: ``feature`` is the number of the feature the row belongs to (the row itself for
points and WKT, the plot in order of first appearance for corner tables); messages also give
``line``, the line of the file as a spreadsheet numbers it (header = 1)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import shapely
from shapely.geometry.base import BaseGeometry

from importers.messages import listing, note, upload_error
from layers.corner_table import (
    PROJECTED_NAMES,
    column_roles,
    names,
    normalise_label,
    sniff_delimiter,
)
from layers.dms import Axis, DMSError, parse_angle, parse_number

csv.field_size_limit(64 * 1024 * 1024)  # a WKT cell of a detailed boundary can be megabytes


@dataclass
class Table:
    geometries: list[BaseGeometry | None]
    columns: dict[str, list[Any]]
    kind: Literal["csv", "corner-table"]
    encoding: str
    crs_srid: int | None = None
    notes: list[dict[str, Any]] = field(default_factory=list)
    id_column: str | None = None    # the column that grouped the rows of a corner table


# ---------------------------------------------------------------------------------------- text


def decode(raw: bytes, file: str, encoding: str | None, notes: list[dict[str, Any]]) -> tuple[str, str]:
    """(text, encoding used): the given encoding, else UTF-8 (BOM or not), else cp1251."""
    if encoding:
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise upload_error("upload.encoding_mismatch", file, encoding=encoding, line=line) from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            raise upload_error("upload.encoding_mismatch", file, encoding="utf-16") from None
        notes.append(note("csv.encoding_utf16", file=file, encoding="utf-16"))
        return text, "utf-16"
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1251")
    except UnicodeDecodeError:
        raise upload_error("upload.encoding_mismatch", file, encoding="cp1251") from None
    notes.append(note("csv.encoding_cp1251", file=file, encoding="cp1251"))
    return text, "cp1251"


# --------------------------------------------------------------------------------------- table


@dataclass
class _Row:
    line: int           # spreadsheet line number
    cells: list[str]


def read_table(raw: bytes, file: str, encoding: str | None, notes: list[dict[str, Any]],
               id_names: Iterable[str] = ()) -> Table:
    """``id_names``: further accepted plot-number column names (the target layer's key)."""
    text, used = decode(raw, file, encoding, notes)
    if "\x00" in text:
        raise upload_error("upload.corrupt", file, format="CSV")
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[_Row] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = _header(cells, notes)
                continue
            rows.append(_Row(reader.line_num, cells))
    except csv.Error as exc:
        raise upload_error("upload.unreadable", file, detail=f"CSV line {reader.line_num}: {exc}") from None
    if header is None or not rows:
        raise upload_error("upload.empty", file)
    longer = [r.line for r in rows if len(r.cells) > len(header) and any(c.strip() for c in r.cells[len(header):])]
    if longer:
        notes.append(note("csv.extra_cells", count=len(longer), line=longer[0]))

    roles = column_roles(header, names(*id_names))
    if "wkt" in roles:
        if "lon" in roles or "lat" in roles:
            notes.append(note("csv.wkt_over_coordinates", column=header[roles["wkt"]]))
            roles.pop("lon", None)
            roles.pop("lat", None)
        table = _wkt_table(header, rows, roles["wkt"], file, notes)
    elif "lon" in roles and "lat" in roles:
        if "id" in roles and _is_corner_table(rows, roles):
            table = _corner_table(header, rows, roles, file, notes)
        else:
            if "order" in roles:
                notes.append(note("csv.points_not_polygons", column=header[roles["order"]]))
            table = _point_table(header, rows, roles, file)
    else:
        raise upload_error("csv.no_geometry", file, columns=", ".join(h for h in header if h))
    table.encoding = used
    return table


def _header(cells: list[str], notes: list[dict[str, Any]]) -> list[str]:
    header: list[str] = []
    seen: set[str] = set()
    for i, cell in enumerate(cells, start=1):
        base = label = cell.strip() or f"column_{i}"
        n = 2
        while label in seen:
            label, n = f"{base}_{n}", n + 1
        if label != base:
            notes.append(note("csv.duplicate_column", column=base, renamed=label))
        seen.add(label)
        header.append(label)
    return header


def _cell(row: _Row, index: int) -> str:
    return row.cells[index].strip() if index < len(row.cells) else ""


def _attributes(header: list[str], rows: Iterable[_Row], skip: set[int]) -> dict[str, list[Any]]:
    rows = list(rows)
    return {label: [(_cell(r, i) or None) for r in rows] for i, label in enumerate(header) if i not in skip}


def _is_corner_table(rows: list[_Row], roles: dict[str, int]) -> bool:
    """Several rows per plot number (or a point-number column, or plot numbers written only on
    the first row of each plot, as merged spreadsheet cells export)."""
    if "order" in roles:
        return True
    ids = [_cell(r, roles["id"]) for r in rows]
    filled = [v for v in ids if v]
    return len(set(filled)) < len(filled) or (bool(ids) and bool(ids[0]) and len(filled) < len(ids))


def _coordinate(row: _Row, index: int, header: list[str], axis: Axis, file: str, feature: int) -> float | None:
    text = _cell(row, index)
    if not text:
        return None
    column = header[index]
    if normalise_label(column) in PROJECTED_NAMES:
        number = parse_number(text)
        if number is not None:
            return number
    try:
        return parse_angle(text, axis)
    except DMSError as exc:
        params = {"line": row.line, "column": column, "value": text}
        if exc.reason in ("minutes", "seconds"):
            raise upload_error("csv.dms_out_of_range", file, feature=feature, field=column,
                               **params) from None
        if exc.reason == "degrees":
            raise upload_error("csv.coordinate_out_of_range", file, feature=feature, field=column,
                               limit=90 if axis == "lat" else 180, **params) from None
        raise upload_error("csv.bad_coordinate", file, feature=feature, field=column,
                           **params) from None


def _point(row: _Row, header: list[str], roles: dict[str, int], file: str,
           feature: int) -> tuple[float, float] | None:
    lon = _coordinate(row, roles["lon"], header, "lon", file, feature)
    lat = _coordinate(row, roles["lat"], header, "lat", file, feature)
    if lon is None and lat is None:
        return None
    if lon is None or lat is None:
        index = roles["lon"] if lon is None else roles["lat"]
        raise upload_error("csv.bad_coordinate", file, feature=feature, field=header[index],
                           line=row.line, column=header[index], value="")
    return lon, lat


def _point_table(header: list[str], rows: list[_Row], roles: dict[str, int], file: str) -> Table:
    geometries: list[BaseGeometry | None] = []
    for number, row in enumerate(rows, start=1):
        xy = _point(row, header, roles, file, number)
        geometries.append(None if xy is None else shapely.Point(xy))
    columns = _attributes(header, rows, {roles["lon"], roles["lat"]})
    return Table(geometries, columns, "csv", "")


_SRID = re.compile(r"^\s*SRID=(\d+)\s*;\s*", re.IGNORECASE)


def _wkt_table(header: list[str], rows: list[_Row], index: int, file: str, notes: list[dict[str, Any]]) -> Table:
    column = header[index]
    geometries: list[BaseGeometry | None] = []
    srids: set[int] = set()
    for number, row in enumerate(rows, start=1):
        text = _cell(row, index)
        if not text:
            geometries.append(None)
            continue
        m = _SRID.match(text)
        if m:  # EWKT as PostGIS writes it
            srids.add(int(m.group(1)))
            text = text[m.end():]
        try:
            geometries.append(shapely.from_wkt(text, on_invalid="raise"))
        except (shapely.errors.GEOSException, ValueError) as exc:
            detail = str(exc).splitlines()[0][:160] if str(exc) else "WKT"
            raise upload_error("csv.bad_wkt", file, feature=number, field=column, line=row.line,
                               column=column, detail=detail) from None
    table = Table(geometries, _attributes(header, rows, {index}), "csv", "")
    if len(srids) == 1:
        table.crs_srid = srids.pop()
        notes.append(note("csv.crs_from_ewkt", crs=f"EPSG:{table.crs_srid}"))
    elif srids:
        notes.append(note("csv.mixed_srids", srids=", ".join(map(str, sorted(srids)))))
    return table


@dataclass
class _Plot:
    id: str
    number: int                     # feature number, in order of first appearance
    first: _Row
    points: list[tuple[float, int, float, float, _Row]] = field(default_factory=list)
    rows: list[_Row] = field(default_factory=list)


def _corner_table(header: list[str], rows: list[_Row], roles: dict[str, int], file: str,
                  notes: list[dict[str, Any]]) -> Table:
    id_index, order_index = roles["id"], roles.get("order")
    id_column = header[id_index]
    plots: dict[str, _Plot] = {}
    current: str | None = None
    filled = False
    for sequence, row in enumerate(rows):
        plot_id = _cell(row, id_index)
        if not plot_id:
            if current is None:
                raise upload_error("csv.corner_missing_id", file, field=id_column, line=row.line,
                                   column=id_column)
            plot_id, filled = current, True  # merged cell: the plot number of the rows above
        current = plot_id
        plot = plots.get(plot_id)
        if plot is None:
            plot = plots[plot_id] = _Plot(plot_id, len(plots) + 1, row)
        plot.rows.append(row)
        xy = _point(row, header, roles, file, plot.number)
        if xy is None:
            raise upload_error("csv.bad_coordinate", file, feature=plot.number,
                               field=header[roles["lat"]], line=row.line, column=header[roles["lat"]],
                               value="")
        order = float(sequence)
        if order_index is not None:
            text = _cell(row, order_index)
            number = parse_number(text) if text else None
            if number is None:
                raise upload_error("csv.bad_point_number", file, feature=plot.number,
                                   field=header[order_index], line=row.line, column=header[order_index],
                                   value=text)
            order = number
        plot.points.append((order, sequence, xy[0], xy[1], row))
    if filled:
        notes.append(note("csv.corner_id_filled_down", column=id_column))

    geometries: list[BaseGeometry | None] = []
    closed: list[str] = []  # one note for the file, not one per polygon: reports stay small
    for plot in plots.values():
        geometries.append(_polygon(plot, id_column, file, closed))
    if closed:
        notes.append(note("csv.ring_closed", count=len(closed), polygons=listing([f"«{i}»" for i in closed])))
    skip = {roles["lon"], roles["lat"]} | ({order_index} if order_index is not None else set())
    columns: dict[str, list[Any]] = {}
    for i, label in enumerate(header):
        if i in skip:
            continue
        values: list[Any] = []
        differ: list[str] = []
        for plot in plots.values():
            if i == id_index:
                values.append(plot.id)
                continue
            seen = [v for v in (_cell(r, i) for r in plot.rows) if v]
            if len(set(seen)) > 1:
                differ.append(plot.id)
            values.append(seen[0] if seen else None)
        if differ:
            notes.append(note("csv.corner_values_differ", column=label, count=len(differ),
                              polygons=listing([f"«{i}»" for i in differ])))
        columns[label] = values
    return Table(geometries, columns, "corner-table", "", id_column=id_column)


def _polygon(plot: _Plot, id_column: str, file: str, closed: list[str]) -> BaseGeometry:
    points = sorted(plot.points, key=lambda p: (p[0], p[1]))
    ring: list[tuple[float, float]] = []
    numbers: dict[float, tuple[float, float]] = {}
    for order, _seq, x, y, _row in points:
        previous = numbers.get(order)
        if previous is not None and previous != (x, y):
            if (x, y) == (points[0][2], points[0][3]):
                continue  # closing point repeated under an existing number
            number = int(order) if order == int(order) else order
            raise upload_error("csv.corner_duplicate_point", file, feature=plot.number,
                               id=plot.id, number=number)
        numbers[order] = (x, y)
        if previous is None:
            ring.append((x, y))
    distinct = len(set(ring))
    if distinct < 3:
        raise upload_error("csv.corner_too_few_points", file, feature=plot.number, field=id_column,
                           id=plot.id, count=distinct, column=id_column)
    if ring[0] != ring[-1]:
        ring.append(ring[0])
        closed.append(plot.id)
    return shapely.Polygon(ring)

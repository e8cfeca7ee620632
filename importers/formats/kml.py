"""KML read with defusedxml, never handed to GDAL.

defusedxml refuses any DOCTYPE (and so every ENTITY declaration, internal or external) before a
single entity is expanded. Reading the placemarks here as well, rather than through GDAL's KML
drivers, keeps features in file order across folders (LIBKML reads one layer per folder) and
keeps untyped ``<Data>`` fields, which LIBKML drops."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import shapely
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from shapely.geometry.base import BaseGeometry

from importers.messages import listing, note, upload_error

_GEOMETRIES = {"Point", "LineString", "LinearRing", "Polygon", "MultiGeometry"}
# KML Schema field types -> how to read the text.
_TYPES: dict[str, Any] = {
    "int": int, "uint": int, "short": int, "ushort": int,
    "float": float, "double": float,
    "bool": lambda s: s.strip().lower() in ("1", "true"),
}


class _BadGeometry(ValueError):
    pass


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(elem: Element, name: str) -> list[Element]:
    return [c for c in elem if _local(c.tag) == name]


def _child_text(elem: Element, name: str) -> str | None:
    for c in elem:
        if _local(c.tag) == name:
            return (c.text or "").strip()
    return None


def read_kml(path: Path, file: str, notes: list[dict[str, Any]],
             ) -> tuple[list[BaseGeometry | None], dict[str, list[Any]]]:
    """Placemarks of a KML document as (geometries, columns), in document order."""
    schemas: dict[str, dict[str, str]] = {}   # schema id -> field name -> type
    rows: list[dict[str, Any]] = []
    geometries: list[BaseGeometry | None] = []
    order: dict[str, None] = {}               # column names in order of first appearance
    ignored: dict[str, int] = {}
    closed: set[int] = set()                  # placemarks whose rings we closed: one note for all
    root_checked = False
    depth = 0
    try:
        for event, elem in iterparse(str(path), events=("start", "end"), forbid_dtd=True,
                                     forbid_entities=True, forbid_external=True):
            name = _local(elem.tag)
            if event == "start":
                if not root_checked:
                    if name != "kml":
                        raise upload_error("upload.corrupt", file, format="KML")
                    root_checked = True
                if name == "Placemark":
                    depth += 1
                continue
            if name == "Schema":
                fields = {f.get("name", ""): (f.get("type") or "string").lower()
                          for f in _children(elem, "SimpleField")}
                for key in (elem.get("id"), elem.get("name")):
                    if key:
                        schemas[key] = fields
            elif name in ("NetworkLink", "GroundOverlay", "ScreenOverlay", "PhotoOverlay") and depth == 0:
                ignored[name] = ignored.get(name, 0) + 1
            elif name == "Placemark":
                depth -= 1
                number = len(rows) + 1
                row = _attributes(elem, schemas)
                for key in row:
                    order.setdefault(key)
                rows.append(row)
                geometries.append(_placemark_geometry(elem, file, number, closed))
                elem.clear()  # keep memory flat on big documents
    except DefusedXmlException:
        raise upload_error("kml.forbidden_dtd", file) from None
    except ParseError as exc:
        raise upload_error("upload.unreadable", file, detail=f"XML: {exc}") from None
    for kind, count in ignored.items():
        notes.append(note("kml.ignored_elements", element=kind, count=count))
    if closed:
        numbers = sorted(closed)
        notes.append(note("kml.ring_closed", count=len(numbers), features=listing(numbers)))
    columns = {key: [row.get(key) for row in rows] for key in order}
    return geometries, columns


def _attributes(placemark: Element, schemas: dict[str, dict[str, str]]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key in ("name", "description"):
        text = _child_text(placemark, key)
        if text is not None:
            row[key] = text or None
    for ext in _children(placemark, "ExtendedData"):
        for data in _children(ext, "Data"):
            key = data.get("name")
            if key:
                value = _child_text(data, "value")
                row[key] = value or None
        for schema_data in _children(ext, "SchemaData"):
            types = schemas.get((schema_data.get("schemaUrl") or "").lstrip("#"), {})
            for simple in _children(schema_data, "SimpleData"):
                key = simple.get("name")
                if key:
                    row[key] = _typed((simple.text or "").strip(), types.get(key, "string"))
    return row


def _typed(text: str, kind: str) -> Any:
    if not text:
        return None
    cast = _TYPES.get(kind)
    if cast is None:
        return text
    try:
        return cast(text)
    except ValueError:
        return text  # the validator reports it against the layer's attribute type


def _placemark_geometry(placemark: Element, file: str, number: int, closed: set[int]) -> BaseGeometry | None:
    for child in placemark:
        if _local(child.tag) in _GEOMETRIES:
            try:
                return _geometry(child, number, closed)
            except _BadGeometry as exc:
                raise upload_error("upload.bad_geometry", file, feature=number, detail=str(exc)) from None
    return None


def _coordinates(elem: Element) -> list[tuple[float, float]]:
    text = _child_text(elem, "coordinates")
    if text is None:
        raise _BadGeometry(f"{_local(elem.tag)} without <coordinates>")
    # Some writers put a space after the comma ("76.1, 49.2"); tuples are separated by whitespace.
    text = re.sub(r"\s*,\s*", ",", text)
    points = []
    for item in text.split():
        parts = item.split(",")
        try:
            if len(parts) not in (2, 3):
                raise ValueError
            points.append((float(parts[0]), float(parts[1])))  # altitude is not kept
        except ValueError:
            raise _BadGeometry(f"coordinates «{item[:60]}» are not «longitude,latitude[,altitude]»") from None
    return points


def _ring(elem: Element | None, number: int, closed: set[int]) -> list[tuple[float, float]]:
    if elem is None:
        raise _BadGeometry("polygon without <outerBoundaryIs><LinearRing>")
    points = _coordinates(elem)
    if len(set(points)) < 3:
        raise _BadGeometry(f"a ring has {len(set(points))} distinct points; at least 3 are needed")
    if points[0] != points[-1]:
        points.append(points[0])
        closed.add(number)
    return points


def _geometry(elem: Element, number: int, closed: set[int]) -> BaseGeometry:
    kind = _local(elem.tag)
    if kind == "Point":
        points = _coordinates(elem)
        if len(points) != 1:
            raise _BadGeometry(f"a point has {len(points)} coordinate tuples")
        return shapely.Point(points[0])
    if kind == "LineString":
        points = _coordinates(elem)
        if len(points) < 2:
            raise _BadGeometry("a line needs at least 2 points")
        return shapely.LineString(points)
    if kind == "LinearRing":
        return shapely.Polygon(_ring(elem, number, closed))
    if kind == "Polygon":
        outer = [r for b in _children(elem, "outerBoundaryIs") for r in _children(b, "LinearRing")]
        inner = [r for b in _children(elem, "innerBoundaryIs") for r in _children(b, "LinearRing")]
        return shapely.Polygon(_ring(outer[0] if outer else None, number, closed),
                               [_ring(r, number, closed) for r in inner])
    parts = [_geometry(c, number, closed) for c in elem if _local(c.tag) in _GEOMETRIES]
    if not parts:
        raise _BadGeometry("empty MultiGeometry")
    types = {p.geom_type for p in parts}
    if types == {"Polygon"}:
        return shapely.MultiPolygon(parts)
    if types == {"LineString"}:
        return shapely.MultiLineString(parts)
    if types == {"Point"}:
        return shapely.MultiPoint(parts)
    return shapely.GeometryCollection(parts)

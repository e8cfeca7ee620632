"""Validation stage: source arrays (importers/sources.py) → features ready to store.

Matches source columns to the layer's declared attributes, coerces values, builds geometries
from block lists, reprojects to EPSG:4326 with a recorded transformation, checks geometry type,
repairs invalid geometries only where the repair is faithful, and rejects features outside
Kazakhstan. Every problem found is collected with its location, so one failed upload tells the
uploader everything that is wrong, not just the first thing."""

from __future__ import annotations

import datetime as dt
import json
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import shapely
from pyproj import CRS
from pyproj.transformer import Transformer

from geoservice.kernel.errors import Issue, Location, Problem, UploadError
from geoservice.kernel.settings import Settings
from importers.messages import note
from importers.sources import SourceData
from layers.boundary import (  # noqa: F401 - moved to layers/ for cadastre/parcels.py; old names kept
    FAITHFUL_AREA_TOLERANCE,
    national_boundary,
    outside_country,
    polygonal_part,
    tolerant_boundary,
)
from layers.catalog import Attribute, Layer, normalise
from layers.datum import choose_transformer
from layers.store import ValidatedFeatures
from layers.values import coerce, is_blank

WGS84 = CRS.from_epsg(4326)
MAX_ISSUES = 200


class _Issues:
    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[Issue] = []

    def add(self, key: str, feature: int | None = None, field: str | None = None, **params: Any) -> None:
        if len(self.items) < MAX_ISSUES:
            self.items.append(Issue(key, params, Location(self.file, feature, field)))

    def raise_if_any(self) -> None:
        if self.items:
            # Two threads add issues; the uploader reads them in file order.
            self.items.sort(key=lambda i: (i.location.feature or 0))
            first = self.items[0]
            raise UploadError("upload.invalid_features", file=self.file, issues=self.items,
                              count=len(self.items), first=first.key)


# --- columns -----------------------------------------------------------------------------------

def match_columns(layer: Layer, columns: list[str], mapping: dict[str, str] | None,
                  file: str) -> tuple[dict[str, str], list[str]]:
    """Return {attribute: source column} and the unmatched source columns (kept as extras)."""
    matched: dict[str, str] = {}
    if mapping:
        for source, target in mapping.items():
            if target not in {a.name for a in layer.attributes}:
                raise UploadError("upload.mapping_unknown_attribute", file=file, field=target,
                                  attribute=target, layer=layer.id)
            if source not in columns:
                raise UploadError("upload.mapping_unknown_column", file=file, field=source, column=source)
            matched[target] = source
    labels = {}
    for attr in layer.attributes:
        if attr.name in matched:
            continue
        names = [attr.name, *attr.aliases, *attr.names.as_dict().values()]
        labels[attr.name] = {normalise(n) for n in names}
    used = set(matched.values())
    # Exact attribute names first, so "name" beats an alias of another attribute.
    for exact in (True, False):
        for column in columns:
            if column in used:
                continue
            key = normalise(column)
            for attr in layer.attributes:
                if attr.name in matched:
                    continue
                if (exact and key == normalise(attr.name)) or (not exact and key in labels.get(attr.name, ())):
                    matched[attr.name] = column
                    used.add(column)
                    break
    extras = [c for c in columns if c not in used]
    return matched, extras


_BAD = object()


def _coerce_column(attr: Attribute, values: list[Any], field: str, issues: _Issues, *, fill: Any = None,
                   required: bool | None = None) -> list[Any]:
    """Coerce a whole column; each distinct value is coerced once (layers repeat values a lot).
    Empty cells take ``fill`` (a value given for the whole file, already coerced), else the
    attribute's default; ``required`` (default: the attribute's) reports cells left empty."""
    default = fill if fill is not None else coerce(attr, attr.default) if attr.default is not None else None
    required = attr.required if required is None else required
    if attr.type == "text" and not attr.choices:
        # Free text is mostly unique (names, ids): strip it, skip the memo.
        out = [v.strip() or default if isinstance(v, str) else (default if is_blank(v) else str(v).strip())
               for v in values]
        if required:
            for i in (i for i, v in enumerate(out) if v is None):
                issues.add("attribute.required", i + 1, field, attribute=attr.name)
        return out
    try:
        distinct: dict[Any, Any] | None = dict.fromkeys(values)
    except TypeError:  # unhashable source values (lists in GeoJSON properties)
        distinct = None
    if distinct is not None:
        # Each distinct value is coerced once; enumerations and years repeat a lot.
        for raw in distinct:
            distinct[raw] = _coerce_or_bad(attr, raw)
        out = [distinct[v] for v in values]
        clean = all(v is not _BAD and v is not None for v in distinct.values())
    else:
        out = [_coerce_or_bad(attr, v) for v in values]
        clean = False
    if clean:
        return out
    for i, value in enumerate(out):
        if value is _BAD:
            allowed = ", ".join(c.value for c in attr.choices) if attr.choices else attr.type
            issues.add("attribute.bad_value", i + 1, field, value=str(values[i])[:80], attribute=attr.name,
                       expected=allowed)
            value = None
        if value is None:
            value = default
            if value is None and required:
                issues.add("attribute.required", i + 1, field, attribute=attr.name)
        out[i] = value
    return out


def _coerce_or_bad(attr: Attribute, raw: Any) -> Any:
    try:
        return coerce(attr, raw)
    except ValueError:
        return _BAD


def _json_safe(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, bytes):
        return value.hex()
    return value


# --- values for the whole file ----------------------------------------------------------------

def check_defaults(layer: Layer, defaults: dict[str, Any] | None) -> dict[str, Any]:
    """Values an upload gives for the whole file ({attribute: value}), coerced like the file's
    own; every unknown attribute and bad value is reported at the field ``defaults``. A null
    or empty value gives nothing."""
    if not defaults:
        return {}
    attributes = {a.name: a for a in layer.attributes}
    checked: dict[str, Any] = {}
    found: list[Issue] = []
    for name, raw in defaults.items():
        attr = attributes.get(name)
        if attr is None:
            found.append(Issue("defaults.unknown_attribute", {
                "attribute": name, "layer": layer.id, "attributes": ", ".join(attributes)},
                Location(field="defaults")))
            continue
        try:
            if isinstance(raw, dict | list):
                raise ValueError("structured")
            value = coerce(attr, raw)
        except ValueError:
            expected = ", ".join(c.value for c in attr.choices) if attr.choices else attr.type
            shown = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)
            found.append(Issue("defaults.bad_value", {"attribute": name, "value": shown[:80], "expected": expected},
                               Location(field="defaults")))
            continue
        if value is not None:
            checked[name] = value
    if len(found) == 1:
        raise UploadError(found[0].key, field="defaults", issues=found, **found[0].params)
    if found:
        raise UploadError("defaults.invalid", field="defaults", issues=found, count=len(found))
    return checked


def parse_defaults(text: str | None) -> dict[str, Any] | None:
    """The form field ``defaults``: a JSON object {attribute: value}."""
    if not text or not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise UploadError("upload.bad_defaults", field="defaults", status=400)
    return value


def parse_assignments(pairs: list[str] | None) -> dict[str, Any] | None:
    """``--set attribute=value`` options of the command line (the last one for an attribute wins)."""
    if not pairs:
        return None
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UploadError("upload.bad_defaults", field="defaults", status=400)
        values[name.strip()] = value.strip()
    return values


def json_defaults(defaults: dict[str, Any]) -> dict[str, Any]:
    """Checked values for the whole file as stored with the version (JSON-safe)."""
    return {k: _json_safe(v) for k, v in defaults.items()}


# --- CRS ---------------------------------------------------------------------------------------

def parse_crs(text: str) -> CRS:
    try:
        return CRS.from_user_input(text.strip())
    except Exception as exc:  # pyproj raises CRSError and friends
        raise UploadError("upload.bad_crs", field="crs", status=400, crs=text) from exc


def crs_label(crs: CRS) -> str:
    epsg = crs.to_epsg(min_confidence=70)
    return f"EPSG:{epsg}" if epsg else crs.name


def reproject(geoms: np.ndarray, transformer: Transformer) -> np.ndarray:
    def _apply(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, _apply)


# --- geometry ----------------------------------------------------------------------------------

def _to_multipolygons(geoms: np.ndarray, issues: _Issues, report: dict[str, Any]) -> np.ndarray:
    """Every geometry as a valid Polygon or MultiPolygon (the store writes all as MultiPolygons),
    or an issue. Valid ones pass untouched; only the odd ones (invalid, collections, wrong
    type) are looked at one by one."""
    if shapely.has_z(geoms).any():
        report["notes"].append(note("geometry.z_dropped", count=int(shapely.has_z(geoms).sum())))
        geoms = shapely.force_2d(geoms)
    out = np.empty(len(geoms), dtype=object)
    type_ids = shapely.get_type_id(geoms)
    valid = shapely.is_valid(geoms)
    fine = ((type_ids == 3) | (type_ids == 6)) & valid
    out[fine] = geoms[fine]
    for i in np.flatnonzero(~fine):
        out[i] = _repair_one(geoms[i], int(type_ids[i]), bool(valid[i]), int(i) + 1, issues, report)
    empty = np.array([g is not None for g in out]) & shapely.is_empty(out)
    for i in np.flatnonzero(empty):
        issues.add("geometry.empty", int(i) + 1)
        out[i] = None
    return out


def _repair_one(geom: shapely.Geometry, kind: int, ok: bool, number: int, issues: _Issues,
                report: dict[str, Any]) -> shapely.Geometry | None:
    if kind not in (3, 6):
        poly = polygonal_part(geom) if kind == 7 and ok else None
        if poly is None:
            issues.add("geometry.wrong_type", number, expected="Polygon/MultiPolygon", found_name=geom.geom_type)
            return None
        return poly
    if shapely.is_empty(geom):
        issues.add("geometry.empty", number)
        return None
    reason = shapely.is_valid_reason(geom)
    repaired = polygonal_part(shapely.make_valid(geom, method="structure"))
    before = float(shapely.area(geom))
    after = float(shapely.area(repaired)) if repaired is not None else 0.0
    change = abs(after - before) / max(before, after, 1e-18)
    if repaired is None or change > FAITHFUL_AREA_TOLERANCE:
        issues.add("geometry.unrepairable", number, reason=reason, change=round(change * 100, 2))
        return None
    # GEOS's reason ("Self-intersection[70.15 48]") is English and technical: kept beside the message.
    report["repairs"].append(note("geometry.repaired", feature=number, reason=reason,
                                  area_change_percent=round(change * 100, 4)))
    return repaired


# --- the stage ---------------------------------------------------------------------------------

def validate(source: SourceData, layer: Layer, *, crs: str | None = None, mapping: dict[str, str] | None = None,
             defaults: dict[str, Any] | None = None, boundary_tolerance_deg: float = Settings.boundary_tolerance_deg,
             grid_datum: str = Settings.grid_datum) -> ValidatedFeatures:
    """``defaults``: values for the whole file ({attribute: value}); they fill the cells the file
    leaves empty, or the whole column when the file has none (the file's own value wins)."""
    file = source.file
    defaults = check_defaults(layer, defaults)
    count = len(source.geometries)
    if count == 0:
        raise UploadError("upload.empty", file=file)
    report: dict[str, Any] = {"repairs": [], "notes": list(source.notes),
                              "format": source.format, "encoding": source.encoding}
    issues = _Issues(file)

    matched, extras = match_columns(layer, list(source.columns), mapping, file)
    grouping = source.id_column
    if layer.key and layer.key not in matched and grouping is not None and grouping in source.columns:
        # The column that numbered a corner table's polygons is their id: stable across versions.
        matched[layer.key] = grouping
        if grouping in extras:
            extras.remove(grouping)
        report["notes"].append(note("note.key_from_corner_column", column=grouping, attribute=layer.key))
    report["columns"] = {"matched": matched, "extra": extras}
    given = matched.keys() | defaults.keys()
    for attr in layer.attributes:
        if (attr.required and attr.name not in given and attr.default is None
                and not any(f in given for f in attr.fallback)):
            raise UploadError("upload.missing_attribute", file=file, field=attr.name, attribute=attr.name,
                              aliases=", ".join((attr.name, *attr.aliases[:4])))

    # Geometry checks (GEOS releases the GIL) run on the second core while this thread
    # coerces attributes; they only meet again for block-list geometries.
    with ThreadPoolExecutor(max_workers=1) as pool:
        geometry_job = pool.submit(_file_geometries, source, crs, report, issues, boundary_tolerance_deg)
        attributes: dict[str, list[Any]] = {}
        for attr in layer.attributes:
            column = matched.get(attr.name)
            fill = defaults.get(attr.name)
            if column is None:
                # No column: one value for the whole file, no per-feature work.
                value = fill if fill is not None else coerce(attr, attr.default) if attr.default is not None else None
                attributes[attr.name] = [value] * count
                filled = count
            else:
                values = source.columns[column]
                # Attributes with a fallback are checked once it has filled what it can.
                attributes[attr.name] = _coerce_column(attr, values, column, issues, fill=fill,
                                                       required=attr.required and not attr.fallback)
                filled = sum(map(is_blank, values)) if fill is not None else 0
            if fill is not None and filled:
                report["notes"].append(note("note.default_applied", attribute=attr.name, value=_json_safe(fill),
                                            count=filled))
        _apply_fallbacks(layer, attributes, matched, issues, report)
        extra = [
            ({c: _json_safe(source.columns[c][i]) for c in extras if not is_blank(source.columns[c][i])} or None)
            for i in range(count)
        ] if extras else [None] * count
        feature_ids = _feature_ids(layer, matched, attributes, issues, count, keyed=layer.key in given)
        cleaned, source_crs, transformation = geometry_job.result()

    # Features without a drawn geometry take the union of their block list, if the layer has one.
    lists = attributes.get(layer.block_list, [None] * count) if layer.block_list else [None] * count
    from_blocks = np.zeros(count, dtype=bool)
    for i in np.flatnonzero(shapely.is_missing(source.geometries)):
        if lists[i]:
            from layers.grid import blocks_geometry, parse_block_list

            try:
                cleaned[i] = blocks_geometry(parse_block_list(lists[i]), datum=grid_datum)
                from_blocks[i] = True
            except Problem as exc:
                issues.add(exc.key, int(i) + 1, matched.get(layer.block_list or ""), **exc.params)
        else:
            issues.add("geometry.missing", int(i) + 1)
    if from_blocks.any():
        _check_extent(cleaned, np.flatnonzero(from_blocks), issues, boundary_tolerance_deg)
        if source_crs is None:
            source_crs = "EPSG:4326"
    issues.raise_if_any()
    report["repaired"] = len(report["repairs"])
    return ValidatedFeatures(feature_ids, cleaned, attributes, extra, source_crs or "EPSG:4326", transformation,
                             report, ids_generated=not (layer.key and layer.key in given),
                             defaults=json_defaults(defaults))


def _apply_fallbacks(layer: Layer, attributes: dict[str, list[Any]], matched: dict[str, str], issues: _Issues,
                     report: dict[str, Any]) -> None:
    """Fill an attribute's empty values from its fallback attributes (a missing name from the
    key or the report reference), say so in the report, then check that it is filled."""
    for attr in layer.attributes:
        if not attr.fallback:
            continue
        values = attributes[attr.name]
        missing = values.count(None)
        for source in attr.fallback:
            if not missing:
                break
            values = [v if v is not None else s for v, s in zip(values, attributes[source], strict=True)]
            left = values.count(None)
            if left < missing:
                report["notes"].append(note("note.filled_from", attribute=attr.name, source=source,
                                            count=missing - left))
            missing = left
        attributes[attr.name] = values
        if missing and attr.required:
            for i in (i for i, v in enumerate(values) if v is None):
                issues.add("attribute.required", i + 1, matched.get(attr.name, attr.name), attribute=attr.name)


def _feature_ids(layer: Layer, matched: dict[str, str], attributes: dict[str, list[Any]], issues: _Issues,
                 count: int, keyed: bool) -> list[str]:
    """The layer's key attribute when the file has it (or the upload gives it for the whole
    file), stable across versions; otherwise the feature's number in the file."""
    if not (layer.key and keyed):
        return [str(i + 1) for i in range(count)]
    ids = attributes[layer.key]
    if None not in ids and len(set(ids)) == len(ids):
        # The usual case, checked in C; the loop below names the faults. Keys are text attributes.
        return ids if all(type(v) is str for v in ids) else [str(v) for v in ids]
    field = matched.get(layer.key, "defaults")
    seen: dict[str, int] = {}
    for i, value in enumerate(ids):
        if value is None:
            issues.add("attribute.required", i + 1, field, attribute=layer.key)
        elif value in seen:
            issues.add("feature.duplicate_id", i + 1, field, id=value, first=seen[value])
        else:
            seen[value] = i + 1
    return [str(v) for v in ids]


def _file_geometries(source: SourceData, crs: str | None, report: dict[str, Any], issues: _Issues,
                     tolerance_deg: float) -> tuple[np.ndarray, str | None, str | None]:
    """The file's own geometries in EPSG:4326, valid, of the layer's type and inside the country
    (None where a feature has none or is at fault); the source CRS and the transformation used."""
    geoms = np.asarray(source.geometries, dtype=object).copy()
    drawn = ~shapely.is_missing(geoms)
    source_crs = crs_label(source.crs) if source.crs is not None else None
    transformation: str | None = None
    if crs:
        given = parse_crs(crs)
        if source.crs is not None and not given.equals(source.crs, ignore_axis_order=True):
            report["notes"].append(note("crs.overridden", file_crs=source_crs, given=crs_label(given)))
        target_crs: CRS | None = given
    else:
        target_crs = source.crs
    cleaned = np.empty(len(geoms), dtype=object)
    if not drawn.any():
        return cleaned, crs_label(target_crs) if target_crs is not None else None, None
    if target_crs is None:
        if source.format not in ("csv", "corner-table"):
            raise UploadError("upload.no_crs", file=source.file, field="crs")
        target_crs = WGS84
        report["notes"].append(note("crs.assumed_wgs84"))
    source_crs = crs_label(target_crs)
    if not target_crs.equals(WGS84, ignore_axis_order=True):
        bounds = tuple(shapely.total_bounds(geoms[drawn]))
        transformer, transformation = choose_transformer(target_crs, bounds)  # type: ignore[arg-type]
        geoms[drawn] = reproject(geoms[drawn], transformer)
    positions = np.flatnonzero(drawn)
    cleaned[positions] = _to_multipolygons(geoms[positions], _ShiftedIssues(issues, positions), report)
    _check_extent(cleaned, positions, issues, tolerance_deg)
    return cleaned, source_crs, transformation


def _check_extent(cleaned: np.ndarray, positions: np.ndarray, issues: _Issues, tolerance_deg: float) -> None:
    checkable = positions[~shapely.is_missing(cleaned[positions])]
    if not len(checkable):
        return
    # A failed datum shift yields inf coordinates: say so, rather than "outside the country".
    broken = ~np.isfinite(shapely.bounds(cleaned[checkable])).all(axis=1)
    for i in checkable[broken]:
        issues.add("geometry.bad_coordinates", int(i) + 1)
        cleaned[i] = None
    checkable = checkable[~broken]
    for i in checkable[outside_country(cleaned[checkable], tolerance_deg)]:
        w, s, e, n = shapely.bounds(cleaned[i])
        issues.add("geometry.outside_country", int(i) + 1, bbox=f"{w:.4f}, {s:.4f}, {e:.4f}, {n:.4f}")


class _ShiftedIssues(_Issues):
    """Issues for a subset of features, reported with their numbers in the whole file."""

    def __init__(self, parent: _Issues, positions: np.ndarray) -> None:
        super().__init__(parent.file)
        self.parent, self.positions = parent, positions

    def add(self, key: str, feature: int | None = None, field: str | None = None, **params: Any) -> None:
        number = int(self.positions[feature - 1]) + 1 if feature is not None else None
        self.parent.add(key, number, field, **params)


def parse_mapping(text: str | None) -> dict[str, str] | None:
    """Column mapping sent with an upload: JSON object or 'source=attribute,...'."""
    if not text:
        return None
    text = text.strip()
    try:
        value = json.loads(text)
        if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            return value
    except json.JSONDecodeError:
        pairs = [p.split("=", 1) for p in re.split(r"[,;]", text) if "=" in p]
        if pairs:
            return {k.strip(): v.strip() for k, v in pairs}
    raise UploadError("upload.bad_mapping", field="mapping", status=400)

"""Formats read through GDAL (pyogrio): GeoJSON, Shapefile, GeoPackage.

GDAL picks a driver by content, and some drivers read other files or URLs named inside the
upload (OGR VRT, GDALG pipelines, a GeoJSON ``crs`` link). So callers sniff the content first and
open GeoJSON and GeoPackage with a driver prefix ("GeoJSON:", "GPKG:"), and shapefiles only after
checking the .shp magic number."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pyogrio
import pyogrio.errors
import pyogrio.raw
import shapely

from importers.messages import note, upload_error

# Shapefile text is read as ISO-8859-1 (each byte becomes the code point of the same number,
# losslessly) and decoded here, so any Python codec works and a wrong encoding is caught with
# the feature and field where it shows (GDAL's own iconv lacks e.g. KZ-1048 and never fails).
PASSTHROUGH = "ISO-8859-1"


class UnreadableCRS(Exception):
    """GDAL found a CRS declaration it cannot parse (a damaged .prj): the caller decides."""


def short_detail(exc: BaseException, scrub: Iterable[tuple[str, str]]) -> str:
    """The first line of a GDAL message, with our temp paths replaced by the user's file names."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for secret, shown in sorted(scrub, key=lambda p: -len(p[0])):
        text = text.replace(secret, shown)
    return text[:300]


def list_layers(source: str, file: str, scrub: Iterable[tuple[str, str]]) -> list[tuple[str, str | None]]:
    try:
        layers = pyogrio.list_layers(source)
    except MemoryError:
        raise
    except Exception as exc:  # every pyogrio/GDAL failure is the upload's fault here
        raise upload_error("upload.unreadable", file, detail=short_detail(exc, scrub)) from None
    return [(str(name), None if gtype is None else str(gtype)) for name, gtype in layers]


def read_layer(source: str, file: str, scrub: Iterable[tuple[str, str]], notes: list[dict[str, Any]], *,
               layer: str | None = None, text_encoding: str | None = None,
               ) -> tuple[np.ndarray, dict[str, list[Any]], str | None]:
    """(geometries, columns, crs as GDAL reports it) of one layer, in file order.

    ``text_encoding`` (shapefiles only) is the codec the DBF text is decoded with."""
    scrub = list(scrub)
    if text_encoding is None:
        return _read_arrow(source, file, scrub, layer)
    meta, _fids, wkb, values = _gdal(file, scrub, pyogrio.raw.read, source, layer=layer, datetime_as_string=True,
                                     encoding=PASSTHROUGH)

    geometries = _geometries(wkb, file)
    columns: dict[str, list[Any]] = {}
    for raw_name, ogr_type, subtype, array in zip(
            meta["fields"], meta["ogr_types"], meta["ogr_subtypes"], values, strict=True):
        name = str(raw_name)
        if text_encoding:
            name, cut = _recode(name, text_encoding, file, None, None)
            if cut:
                notes.append(note("shapefile.field_name_cut", file=file, field=name))
        column = _to_python(array, ogr_type, subtype)
        if text_encoding and ogr_type == "OFTString":
            # One note per field, not per value: a writer that cuts one value usually cuts many.
            cuts: list[int] = []
            for i, value in enumerate(column):
                if value is not None:
                    column[i], cut = _recode(value, text_encoding, file, i + 1, name)
                    if cut:
                        cuts.append(i + 1)
            if cuts:
                notes.append(note("shapefile.text_cut", file=file, field=name, count=len(cuts), feature=cuts[0]))
        columns[name] = column
    return geometries, columns, meta.get("crs")


def _gdal(file: str, scrub: list[tuple[str, str]], read: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a pyogrio reader; every GDAL failure is the upload's fault and says so in its terms."""
    try:
        return read(*args, **kwargs)
    except MemoryError:
        raise
    except pyogrio.errors.CRSError as exc:
        raise UnreadableCRS(short_detail(exc, scrub)) from None
    except Exception as exc:
        raise upload_error("upload.unreadable", file, detail=short_detail(exc, scrub)) from None


def _read_arrow(source: str, file: str, scrub: list[tuple[str, str]], layer: str | None,
                ) -> tuple[np.ndarray, dict[str, list[Any]], str | None]:
    """UTF-8 sources through Arrow: GDAL fills columnar buffers, ~6x faster than row by row."""
    meta, table = _gdal(file, scrub, pyogrio.read_arrow, source, layer=layer)
    geometry_column = meta.get("geometry_name") or "wkb_geometry"
    if geometry_column in table.column_names:
        wkb = table.column(geometry_column).to_numpy(zero_copy_only=False)
        geometries = _geometries(wkb, file)
    else:
        geometries = np.full(table.num_rows, None, dtype=object)
    columns = {str(name): _arrow_values(table.column(name)) for name in table.column_names
               if name != geometry_column}
    return geometries, columns, meta.get("crs")


def _arrow_values(column: Any) -> list[Any]:
    """Python values of an Arrow column. Text goes through NumPy (several times faster than
    ``to_pylist`` on some pyarrow releases); other types keep to_pylist's exact Python types."""
    import pyarrow as pa

    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return column.to_numpy(zero_copy_only=False).tolist()  # type: ignore[no-any-return]
    return column.to_pylist()  # type: ignore[no-any-return]


def _geometries(wkb: np.ndarray, file: str) -> np.ndarray:
    try:
        return shapely.from_wkb(wkb, on_invalid="raise")
    except (shapely.errors.GEOSException, ValueError, TypeError):
        pass
    out = np.empty(len(wkb), dtype=object)
    for i, item in enumerate(wkb):  # find the culprit to tell the user where it is
        try:
            out[i] = None if item is None else shapely.from_wkb(item, on_invalid="raise")
        except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
            raise upload_error("upload.bad_geometry", file, feature=i + 1,
                               detail=str(exc).splitlines()[0][:200]) from None
    return out


def _recode(value: str, encoding: str, file: str, feature: int | None, field: str | None) -> tuple[str, bool]:
    """(the text in ``encoding``, whether a character cut at its end was dropped)."""
    try:
        raw = value.encode(PASSTHROUGH)
    except UnicodeEncodeError:  # GDAL already gave real text; nothing to undo
        return value, False
    try:
        return raw.decode(encoding), False
    except UnicodeDecodeError as exc:
        # DBF fields have a byte width; writers cut UTF-8 text mid-letter at the end of a field.
        if exc.reason == "unexpected end of data" and exc.start >= len(raw) - 3:
            return raw[: exc.start].decode(encoding), True
        raise upload_error("upload.encoding_mismatch", file, feature=feature, field=field,
                           encoding=encoding) from None


def _to_python(array: Any, ogr_type: str, subtype: str) -> list[Any]:
    items = array.tolist() if isinstance(array, np.ndarray) else list(array)
    if ogr_type in ("OFTInteger", "OFTInteger64"):
        cast = bool if subtype == "OFSTBoolean" else int
        return [None if v is None or (isinstance(v, float) and math.isnan(v)) else cast(v) for v in items]
    if ogr_type == "OFTReal":
        return [None if v is None or math.isnan(v) else float(v) for v in items]
    if ogr_type == "OFTDate":
        return [_parse(v, dt.date.fromisoformat, 10) for v in items]
    if ogr_type == "OFTDateTime":
        return [_parse(v, dt.datetime.fromisoformat, None) for v in items]
    if ogr_type == "OFTTime":
        return [_parse(v, dt.time.fromisoformat, None) for v in items]
    if ogr_type.endswith("List"):
        return [None if v is None else [x.item() if isinstance(x, np.generic) else x for x in v]
                for v in items]
    return [v.item() if isinstance(v, np.generic) else v for v in items]


def _parse(value: Any, parse: Any, cut: int | None) -> Any:
    if value is None or value in ("NaT", ""):
        return None
    text = str(value)
    try:
        return parse(text[:cut] if cut else text)
    except ValueError:
        return text  # an odd date stays visible to the validator instead of vanishing

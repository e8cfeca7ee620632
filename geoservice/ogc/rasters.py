"""Raster layers over OGC API (issue 12): their collections, map tiles (OGC API – Tiles, map
tilesets, PNG/WebP) and coverages (OGC API – Coverages, a bbox subset as GeoTIFF, domainset and
rangetype), and the value at a point (/api/rasters/{layer}/value, geoservice/api/rasters.py).

Rendering and reading are in tiles/rasters.py; the grid ramps and legends in styles/rasters.py.
A rendered tile is cached under the layer's newest raster version (``raster_versions.id``), so
an upload makes new keys: old tiles are never found again and age out of the LRU."""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from rasterio.crs import CRS

from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import negotiate
from layers.catalog import RASTER_LAYERS, RasterLayer
from styles import rasters as looks
from tiles import rasters
from tiles.cache import TileCache
from tiles.tms import TILE_MATRIX_SETS, matrix_set

router = APIRouter(prefix="/ogc", tags=["rasters"])

JSON = "application/json"
GEOTIFF = "image/tiff; application=geotiff"
FORMATS = {"png": "image/png", "webp": "image/webp"}
REL = "http://www.opengis.net/def/rel/ogc/1.0/"
COVERAGES = "http://www.opengis.net/spec/ogcapi-coverages-1/1.0/conf"
MAPS_TILES = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf"
CONFORMANCE: tuple[str, ...] = (
    f"{MAPS_TILES}/png",               # map tiles as PNG (and WebP)
    f"{COVERAGES}/core",
    f"{COVERAGES}/geotiff",
    f"{COVERAGES}/coverage-bbox",
    f"{COVERAGES}/coverage-subset",    # subset=Lon(a:b),Lat(c:d)
    f"{COVERAGES}/coverage-scaling",   # width / height
)
# bbox/width/height as in OGC API - Features and Maps; subset and scale-size/scale-factor as
# OGC API - Coverages (GDAL's OGCAPI driver sends subset=Lon(a:b),Lat(c:d)&scaleSize=Lon(w),Lat(h),
# the draft's name of scale-size).
COVERAGE_PARAMETERS = {"bbox", "bbox-crs", "width", "height", "f", "subset", "scale-size", "scaleSize",
                       "scale-factor"}
# The coverage's axes (CRS84: longitude first) and the names clients give them.
X_AXIS = {"lon", "long", "longitude", "x", "e"}
Y_AXIS = {"lat", "latitude", "y", "n"}
AXIS_TERM = re.compile(r'\s*"?([A-Za-z]+)"?\s*\(([^()]*)\)\s*(?:,|$)')
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# bbox-crs offered: its CRS for the output grid, and whether its axes are lat/lon in the bbox.
BBOX_CRS: dict[str, tuple[int, bool]] = {
    CRS84: (4326, False),
    "http://www.opengis.net/def/crs/EPSG/0/4326": (4326, True),
    "http://www.opengis.net/def/crs/EPSG/0/3857": (3857, False),
}
KAZAKHSTAN = (46.4, 40.5, 87.4, 55.5)
MERCATOR_LIMIT = 20037508.342789244
TILE_CACHE_BUDGET = 64 * 1024 * 1024


def _cache(request: Request) -> TileCache:
    state = request.app.state
    cache: TileCache | None = getattr(state, "raster_tiles", None)
    if cache is None:
        cache = state.raster_tiles = TileCache(TILE_CACHE_BUDGET)
    return cache


def raster_root(request: Request) -> Any:
    return request.app.state.settings.raster_path


def raster_layer(collection_id: str) -> RasterLayer:
    layer = RASTER_LAYERS.get(collection_id)
    if layer is None:
        raise Problem("tiles.raster.unknown_collection", 404, collection=collection_id,
                      known=", ".join(RASTER_LAYERS))
    return layer


async def sheets_in(request: Request, layer: RasterLayer, box: tuple[float, float, float, float]
                    ) -> list[rasters.Sheet]:
    async with request.app.state.pool.acquire() as conn:
        rows = await conn.fetch(rasters.SHEETS_SQL, layer.id, *box)
    return [rasters.Sheet.of(r) for r in rows]


async def extent(request: Request, layer: RasterLayer) -> tuple[tuple[float, float, float, float] | None,
                                                                list[list[dict[str, Any]]]]:
    """The mosaic's bounding box (lon/lat) or None when empty, and each sheet's band statistics."""
    async with request.app.state.pool.acquire() as conn:
        row = await conn.fetchrow(rasters.EXTENT_SQL, layer.id)
    if row is None or not row["n"]:
        return None, []
    stats = row["stats"]
    stats = orjson.loads(stats) if isinstance(stats, str) else stats
    return (row[0], row[1], row[2], row[3]), list(stats or [])


async def ramp_stops(request: Request, layer: RasterLayer, latest: int | None = None) -> looks.Stops | None:
    """A grid's colour ramp; one taken from the sheets' statistics is kept per newest version
    (``latest``, when the caller has it), so a cold tile does not ask PostGIS for them again."""
    if layer.kind != "grid":
        return None
    ramp = looks.RAMPS[layer.id]
    if ramp.fixed is not None:
        return looks.stops(ramp, [])
    kept: dict[tuple[str, int], looks.Stops] | None = getattr(request.app.state, "raster_ramps", None)
    if kept is None:
        kept = request.app.state.raster_ramps = {}
    if latest is not None and (layer.id, latest) in kept:
        return kept[(layer.id, latest)]
    _, stats = await extent(request, layer)
    stops = looks.stops(ramp, stats)
    if latest is not None:
        if len(kept) > 64:   # older versions' ramps are never asked for again
            kept.clear()
        kept[(layer.id, latest)] = stops
    return stops


# --- collections -----------------------------------------------------------------------------------

def describe(base: str, layer: RasterLayer, lang: str, bbox: tuple[float, float, float, float] | None
             ) -> dict[str, Any]:
    """The collection document of a raster layer: map tilesets and the coverage, no items."""
    href = f"{base}/collections/{layer.id}"
    names = layer.names.as_dict()
    return {
        "id": layer.id,
        "title": names[lang],
        "description": " / ".join(names[x] for x in ("kk", "ru", "en")),
        "itemType": "coverage" if layer.kind == "grid" else "map",
        "links": [
            {"href": href, "rel": "self", "type": JSON, "title": names[lang]},
            {"href": f"{href}/map/tiles", "rel": f"{REL}tilesets-map", "type": JSON, "title": "Map tiles"},
            {"href": f"{href}/coverage", "rel": f"{REL}coverage", "type": GEOTIFF, "title": "Coverage (GeoTIFF)"},
            {"href": f"{href}/coverage/domainset", "rel": f"{REL}coverage-domainset", "type": JSON,
             "title": "Coverage domain set"},
            {"href": f"{href}/coverage/rangetype", "rel": f"{REL}coverage-rangetype", "type": JSON,
             "title": "Coverage range type"},
            {"href": f"{base.removesuffix('/ogc')}/api/rasters/{layer.id}/legend", "rel": "describedby",
             "type": JSON, "title": "Legend"},
        ],
        "extent": {"spatial": {"bbox": [list(bbox or KAZAKHSTAN)], "crs": CRS84}},
        "crs": [CRS84, "http://www.opengis.net/def/crs/EPSG/0/4326", "http://www.opengis.net/def/crs/EPSG/0/3857"],
        "storageCrs": CRS84,
    }


async def listed_collections(request: Request, base: str, lang: str) -> list[dict[str, Any]]:
    """Raster collections for /ogc/collections: those with data (served from the first upload on,
    as licences are from the first licence on)."""
    out = []
    for layer in RASTER_LAYERS.values():
        bbox, _ = await extent(request, layer)
        if bbox is not None:
            out.append(describe(base, layer, lang, bbox))
    return out


async def collection_doc(request: Request, base: str, collection_id: str) -> dict[str, Any]:
    layer = raster_layer(collection_id)
    bbox, _ = await extent(request, layer)
    return describe(base, layer, negotiate(request.headers.get("accept-language")), bbox)


# --- map tiles --------------------------------------------------------------------------------------

def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


@router.get("/collections/{collection_id}/map/tiles", summary="Map tilesets of a raster collection")
async def map_tilesets(request: Request, collection_id: str) -> Response:
    layer = raster_layer(collection_id)
    base = _base(request)
    sets = []
    for tms in TILE_MATRIX_SETS.values():
        href = f"{base}/collections/{layer.id}/map/tiles/{tms.id}"
        sets.append({
            "title": f"{layer.names.en} ({tms.id})", "dataType": "map", "crs": tms.crs,
            "tileMatrixSetURI": tms.uri,
            "links": [
                {"href": href, "rel": "self", "type": JSON, "title": tms.id},
                {"href": f"{base}/tileMatrixSets/{tms.id}", "rel": f"{REL}tiling-scheme", "type": JSON},
                *({"href": href + "/{tileMatrix}/{tileRow}/{tileCol}" + (f"?f={f}" if f != "png" else ""),
                   "rel": "item", "type": media, "templated": True} for f, media in FORMATS.items()),
            ]})
    return Response(orjson.dumps({"tilesets": sets}), media_type=JSON)


@router.get("/collections/{collection_id}/map/tiles/{tms_id}", summary="A map tileset of a raster collection")
async def map_tileset(request: Request, collection_id: str, tms_id: str) -> Response:
    layer = raster_layer(collection_id)
    tms = matrix_set(tms_id)
    base = _base(request)
    href = f"{base}/collections/{layer.id}/map/tiles/{tms.id}"
    bbox, _ = await extent(request, layer)
    doc = {
        "title": f"{layer.names.en} ({tms.id})", "dataType": "map", "crs": tms.crs, "tileMatrixSetURI": tms.uri,
        "boundingBox": {"lowerLeft": list((bbox or KAZAKHSTAN)[:2]), "upperRight": list((bbox or KAZAKHSTAN)[2:]),
                        "crs": CRS84},
        "tileMatrixSetLimits": tms.limits(),
        "links": [
            {"href": href, "rel": "self", "type": JSON},
            {"href": f"{base}/tileMatrixSets/{tms.id}", "rel": f"{REL}tiling-scheme", "type": JSON},
            *({"href": href + "/{tileMatrix}/{tileRow}/{tileCol}" + (f"?f={f}" if f != "png" else ""),
               "rel": "item", "type": media, "templated": True} for f, media in FORMATS.items()),
        ],
    }
    return Response(orjson.dumps(doc), media_type=JSON)


@router.get("/collections/{collection_id}/map/tiles/{tms_id}/{z}/{y}/{x}",
            summary="A map tile of a raster collection (PNG, or WebP with f=webp)", response_class=Response)
async def map_tile(request: Request, collection_id: str, tms_id: str, z: int, y: int, x: int,
                   f: str | None = None) -> Response:
    layer = raster_layer(collection_id)
    tms = matrix_set(tms_id)
    fmt = _format(request, f)
    if not tms.contains(z, x, y):
        cols, rows = tms.matrix_size(max(0, min(z, tms.serve_max_zoom)))
        raise Problem("tiles.out_of_range", 404, tms=tms.id, z=z, y=y, x=x, max_zoom=tms.serve_max_zoom,
                      max_row=rows - 1, max_col=cols - 1)
    async with request.app.state.pool.acquire() as conn:
        latest = await conn.fetchval(rasters.LATEST_SQL, layer.id)
    key = (f"raster:{layer.id}", (str(latest),), False, f"{tms.id}.{fmt}", z, y, x)

    async def build() -> bytes:
        if latest is None:
            return b""
        sheets = await sheets_in(request, layer, tms.bounds_lonlat(z, x, y))
        if not sheets:
            return b""
        stops = await ramp_stops(request, layer, latest)
        grid = rasters.tile_grid(tms, z, x, y)
        return await asyncio.to_thread(rasters.render_tile, raster_root(request), sheets, grid, layer.kind,
                                       stops, fmt)

    tile = await _cache(request).get_or_build(key, build)
    headers = {"ETag": tile.etag.decode(), "Cache-Control": "no-cache", "Vary": "Accept"}
    match = request.headers.get("if-none-match")
    if match is not None and tile.etag.decode() in [m.strip().removeprefix("W/") for m in match.split(",")]:
        return Response(status_code=304, headers=headers)
    if not tile.raw:
        # Like vector tiles: no data in the tile is an empty answer, which map clients draw as nothing.
        return Response(status_code=204, headers=headers)
    return Response(tile.raw, media_type=FORMATS[fmt], headers=headers)


def _format(request: Request, f: str | None) -> str:
    if f is not None:
        fmt = f.lower().removeprefix("image/")
        if fmt not in FORMATS:
            raise Problem("tiles.raster.bad_format", 400, format=f, formats=", ".join(FORMATS))
        return fmt
    accept = request.headers.get("accept", "")
    # WebP only when asked for by name and PNG is not preferred (browsers list webp for <img>).
    return "webp" if "image/webp" in accept and "image/png" not in accept else "png"


# --- coverages --------------------------------------------------------------------------------------

def _bbox(value: str, crs_uri: str) -> tuple[float, float, float, float]:
    epsg, flip = BBOX_CRS[crs_uri]
    try:
        parts = [float(p) for p in value.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise Problem("tiles.raster.bad_bbox", 400, value=value, crs=crs_uri)
    a, b, c, d = parts
    minx, miny, maxx, maxy = (b, a, d, c) if flip else (a, b, c, d)
    limit = (-180.0, -90.0, 180.0, 90.0) if epsg == 4326 else (-MERCATOR_LIMIT,) * 2 + (MERCATOR_LIMIT,) * 2
    if not (minx < maxx and miny < maxy and limit[0] <= minx and limit[1] <= miny and maxx <= limit[2]
            and maxy <= limit[3]):
        raise Problem("tiles.raster.bad_bbox", 400, value=value, crs=crs_uri)
    return minx, miny, maxx, maxy


def _size(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise Problem("tiles.raster.bad_size", 400, parameter=name, value=raw, max=rasters.MAX_COVERAGE_SIDE)
    return n


def _output_size(box: tuple[float, float, float, float], resolution: float, width: int | None,
                 height: int | None, explicit: bool = False) -> tuple[int, int]:
    """Width and height of the output: as asked (the other side keeping the aspect), or at the
    data's native resolution scaled down to fit the limits. Asked-for sizes past them (also
    through a scale-factor, ``explicit``) are 413."""
    span_x, span_y = box[2] - box[0], box[3] - box[1]
    if explicit and width is None and height is None:
        width, height = max(1, round(span_x / resolution)), max(1, round(span_y / resolution))
    if width is None and height is None:
        w, h = max(1, round(span_x / resolution)), max(1, round(span_y / resolution))
        scale = max(w / rasters.MAX_COVERAGE_SIDE, h / rasters.MAX_COVERAGE_SIDE,
                    math.sqrt(w * h / rasters.MAX_COVERAGE_PIXELS), 1.0)
        return max(1, int(w / scale)), max(1, int(h / scale))
    if width is None:
        assert height is not None
        width = max(1, round(height * span_x / span_y))
    elif height is None:
        height = max(1, round(width * span_y / span_x))
    if max(width, height) > rasters.MAX_COVERAGE_SIDE or width * height > rasters.MAX_COVERAGE_PIXELS:
        raise Problem("tiles.raster.too_large", 413, width=width, height=height,
                      max_side=rasters.MAX_COVERAGE_SIDE, max_pixels=rasters.MAX_COVERAGE_PIXELS)
    return width, height


@router.api_route("/collections/{collection_id}/coverage", methods=["GET", "HEAD"],
                  summary="The coverage of a raster collection (GeoTIFF; subset with bbox, bbox-crs; scale with "
                  "width, height)", response_class=Response)
async def coverage(request: Request, collection_id: str) -> Response:
    layer = raster_layer(collection_id)
    params = request.query_params
    for name in params:
        if name not in COVERAGE_PARAMETERS:
            raise Problem("tiles.raster.unknown_parameter", 400, parameter=name,
                          known=", ".join(sorted(COVERAGE_PARAMETERS)))
    if params.get("f") not in (None, "tif", "tiff", "geotiff", "image/tiff"):
        raise Problem("tiles.raster.bad_format", 400, format=params["f"], formats="geotiff")
    crs_uri = params.get("bbox-crs", CRS84)
    if crs_uri not in BBOX_CRS:
        raise Problem("tiles.raster.bad_crs", 400, crs=crs_uri, known=", ".join(BBOX_CRS))
    width, height = _size(request, "width"), _size(request, "height")
    box = _bbox(params["bbox"], crs_uri) if "bbox" in params else None
    subsets = params.getlist("subset")
    if subsets:
        if box is not None or crs_uri != CRS84:
            raise Problem("tiles.raster.bad_subset", 400, value="; ".join(subsets))
        full, _ = await extent(request, layer)
        box = _subset(subsets, full or KAZAKHSTAN)
    scale_name = "scale-size" if "scale-size" in params else "scaleSize"
    if scale_name in params:
        width, height = _scale_size(params[scale_name], scale_name, width, height)
    factor = _scale_factor(params["scale-factor"]) if "scale-factor" in params else None
    async with request.app.state.pool.acquire() as conn:
        latest = await conn.fetchval(rasters.LATEST_SQL, layer.id)
    # GDAL's /vsicurl/ asks for the size (HEAD) and then for byte ranges, each a request: the
    # subset is made once and kept, under the layer's newest version like the tiles.
    key = (f"coverage:{layer.id}", (str(latest),), False, f"{crs_uri} {box} {width} {height} {factor}", 0, 0, 0)
    body = (await _cache(request).get_or_build(
        key, lambda: _coverage_body(request, layer, crs_uri, box, width, height, factor))).raw
    if not body:
        raise Problem("tiles.raster.no_data", 404, collection=layer.id)
    headers = {"Content-Disposition": f'inline; filename="{layer.id}.tif"', "Content-Crs": f"<{crs_uri}>",
               "Accept-Ranges": "bytes", "ETag": f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'}
    span = _range(request.headers.get("range"), len(body))
    if span is not None:
        start, end = span
        headers["Content-Range"] = f"bytes {start}-{end}/{len(body)}"
        return Response(body[start:end + 1] if request.method == "GET" else b"", status_code=206,
                        media_type=GEOTIFF, headers=headers)
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        return Response(b"", media_type=GEOTIFF, headers=headers)
    return Response(body, media_type=GEOTIFF, headers=headers)


def _axis_terms(values: list[str], parameter: str) -> list[tuple[str, str]]:
    """``Lon(a:b),Lat(c:d)`` (one or more parameters) as [("x", "a:b"), ("y", "c:d")]."""
    terms: list[tuple[str, str]] = []
    for value in values:
        position = 0
        while position < len(value):
            match = AXIS_TERM.match(value, position)
            if match is None or match.end() == position:
                raise _bad_axes(parameter, value)
            name = match.group(1).lower()
            axis = "x" if name in X_AXIS else "y" if name in Y_AXIS else None
            if axis is None or any(a == axis for a, _ in terms):
                raise _bad_axes(parameter, value)
            terms.append((axis, match.group(2).strip()))
            position = match.end()
    return terms


def _bad_axes(parameter: str, value: str) -> Problem:
    if parameter == "subset":
        return Problem("tiles.raster.bad_subset", 400, value=value)
    return Problem("tiles.raster.bad_scale", 400, parameter=parameter, value=value)


def _subset(values: list[str], full: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """The box of ``subset=Lon(a:b),Lat(c:d)`` in CRS84; an axis left out, or ``*``, is the layer's edge."""
    box = list(full)
    for axis, text in _axis_terms(values, "subset"):
        low_text, colon, high_text = text.partition(":")
        if not colon:  # a slice (one value) would drop a dimension: a 2-D GeoTIFF cannot
            raise _bad_axes("subset", ",".join(values))
        index = 0 if axis == "x" else 1
        for offset, part in ((0, low_text.strip()), (2, high_text.strip())):
            if part in ("", "*"):
                continue
            try:
                box[index + offset] = float(part.strip('"'))
            except ValueError:
                raise _bad_axes("subset", ",".join(values)) from None
    minx, miny, maxx, maxy = box
    if not (all(math.isfinite(v) for v in box) and -180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
        raise _bad_axes("subset", ",".join(values))
    return minx, miny, maxx, maxy


def _scale_size(value: str, parameter: str, width: int | None, height: int | None) -> tuple[int | None, int | None]:
    """``scale-size=Lon(w),Lat(h)``: the output's width and height in pixels (either may be left out)."""
    for axis, text in _axis_terms([value], parameter):
        try:
            n = int(text)
        except ValueError:
            n = 0
        if n < 1:
            raise _bad_axes(parameter, value)
        if axis == "x":
            width = n
        else:
            height = n
    return width, height


def _scale_factor(value: str) -> float:
    try:
        factor = float(value)
    except ValueError:
        factor = 0.0
    if not (math.isfinite(factor) and factor > 0):
        raise Problem("tiles.raster.bad_scale", 400, parameter="scale-factor", value=value)
    return factor


def _range(header: str | None, size: int) -> tuple[int, int] | None:
    """One ``bytes=a-b`` (or ``a-``, ``-n``) range within the body, else None (the whole body)."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[6:].strip().partition("-")
    try:
        if first:
            start, end = int(first), int(last) if last else size - 1
        else:
            start, end = max(0, size - int(last)), size - 1
    except ValueError:
        return None
    end = min(end, size - 1)
    return (start, end) if 0 <= start <= end else None


async def _coverage_body(request: Request, layer: RasterLayer, crs_uri: str,
                         box: tuple[float, float, float, float] | None, width: int | None,
                         height: int | None, factor: float | None = None) -> bytes:
    """The GeoTIFF of a subset, or b"" when there is no data in it."""
    epsg, _ = BBOX_CRS[crs_uri]
    if box is None:   # the whole layer (a box given needs no extent: no sheet in it is no data)
        full, _ = await extent(request, layer)
        if full is None:
            return b""
        box = full if epsg == 4326 else _to_mercator(full)
    lonlat = box if epsg == 4326 else _to_lonlat(box)
    sheets = await sheets_in(request, layer, lonlat)
    if not sheets:
        return b""
    root = raster_root(request)
    resolution = await asyncio.to_thread(rasters.native_resolution, root, sheets)
    if epsg == 3857:  # degrees to metres at the box's latitude
        resolution *= 111319.49 * math.cos(math.radians((lonlat[1] + lonlat[3]) / 2))
    w, h = _output_size(box, resolution * (factor or 1.0), width, height, explicit=factor is not None)
    grid = rasters.Grid(CRS.from_epsg(epsg), box, w, h)
    return await asyncio.to_thread(rasters.coverage_tiff, root, sheets, grid, layer.kind) or b""


def _to_mercator(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    from rasterio.warp import transform_bounds

    return tuple(transform_bounds("EPSG:4326", "EPSG:3857", *box))  # type: ignore[return-value]


def _to_lonlat(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    from rasterio.warp import transform_bounds

    return tuple(transform_bounds("EPSG:3857", "EPSG:4326", *box))  # type: ignore[return-value]


@router.get("/collections/{collection_id}/coverage/domainset", summary="The domain set of a coverage")
async def domainset(request: Request, collection_id: str) -> Response:
    layer = raster_layer(collection_id)
    bbox, _ = await extent(request, layer)
    if bbox is None:
        raise Problem("tiles.raster.no_data", 404, collection=layer.id)
    sheets = await sheets_in(request, layer, bbox)
    resolution = await asyncio.to_thread(rasters.native_resolution, raster_root(request), sheets)
    if not math.isfinite(resolution) or resolution <= 0:
        raise Problem("tiles.raster.no_data", 404, collection=layer.id)
    # The grid at the finest sheet's resolution: a client (GDAL's OGCAPI driver) sizes the raster
    # and its overviews from it, and asks for pieces with subset and scale-size.
    width = max(1, round((bbox[2] - bbox[0]) / resolution))
    height = max(1, round((bbox[3] - bbox[1]) / resolution))
    doc = {"type": "DomainSet", "generalGrid": {
        "type": "GeneralGridCoverage", "srsName": CRS84, "axisLabels": ["Lon", "Lat"],
        "axis": [{"type": "RegularAxis", "axisLabel": "Lon", "lowerBound": bbox[0], "upperBound": bbox[2],
                  "uomLabel": "deg", "resolution": (bbox[2] - bbox[0]) / width},
                 {"type": "RegularAxis", "axisLabel": "Lat", "lowerBound": bbox[1], "upperBound": bbox[3],
                  "uomLabel": "deg", "resolution": -(bbox[3] - bbox[1]) / height}],
        "gridLimits": {"type": "GridLimits", "srsName": "http://www.opengis.net/def/crs/OGC/0/Index2D",
                       "axisLabels": ["i", "j"],
                       "axis": [{"type": "IndexAxis", "axisLabel": "i", "lowerBound": 0, "upperBound": width - 1},
                                {"type": "IndexAxis", "axisLabel": "j", "lowerBound": 0,
                                 "upperBound": height - 1}]}}}
    return Response(orjson.dumps(doc), media_type=JSON)


@router.get("/collections/{collection_id}/coverage/rangetype", summary="The range type of a coverage")
async def rangetype(request: Request, collection_id: str) -> Response:
    layer = raster_layer(collection_id)
    if layer.kind == "grid":
        unit = layer.unit.en if layer.unit else ""
        # ``definition`` names the data type as GDAL's OGCAPI driver reads it (ogcType:…).
        fields = [{"type": "Quantity", "name": "value", "definition": "ogcType:float32",
                   "description": layer.names.en, "uom": {"type": "UnitReference", "code": unit},
                   "encodingInfo": {"dataType": "http://www.opengis.net/def/dataType/OGC/0/float32"}}]
    else:   # the GeoTIFF's four bands: colour, and alpha 0 where no sheet has data
        fields = [{"type": "Quantity", "name": band, "definition": "ogcType:unsignedByte",
                   "description": f"{band} (0-255)",
                   "encodingInfo": {"dataType": "http://www.opengis.net/def/dataType/OGC/0/unsignedByte"}}
                  for band in ("red", "green", "blue", "alpha")]
    return Response(orjson.dumps({"type": "DataRecord", "field": fields}), media_type=JSON)

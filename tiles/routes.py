"""OGC API – Tiles routes: tile matrix sets, per-collection tilesets, the multi-layer map tileset,
TileJSON, and the tiles themselves (see tiles/README.md).

Tile responses:

* ``200`` MVT (``application/vnd.mapbox-vector-tile``), gzip-encoded when the client accepts
  gzip; ``204`` with no body when no layer has a feature in the tile (MapLibre, OpenLayers and
  GDAL treat it as an empty tile).
* ``ETag`` derived from the cache key (tileset, layer versions, authorised or not, address);
  ``If-None-Match`` with it answers ``304``.
* ``Cache-Control``: immutable for a year when the request's ``v`` is the tileset's current
  version (the URL then names one version for ever), otherwise ``no-cache`` (revalidate every
  time, so a stale tile is never used). Responses for authorised readers are ``private``.
* ``Vary: Accept-Encoding, Authorization``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

import tiles.messages  # noqa: F401 - registers the messages
from geoservice.access import reader_is_authorised
from geoservice.errors import Problem
from layers.catalog import LAYERS
from tiles import metadata
from tiles.layers import MAP, Tileset, collection_tileset
from tiles.service import get_service
from tiles.tms import TILE_MATRIX_SETS, TileMatrixSet

router = APIRouter(prefix="/ogc", tags=["tiles"])

IMMUTABLE = "public, max-age=31536000, immutable"
IMMUTABLE_PRIVATE = "private, max-age=31536000, immutable"
REVALIDATE = "no-cache"
REVALIDATE_PRIVATE = "private, no-cache"
VARY = "Accept-Encoding, Authorization"


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _tms(tms: str) -> TileMatrixSet:
    matrix = TILE_MATRIX_SETS.get(tms)
    if matrix is None:
        raise Problem("tiles.unknown_tms", 404, tms=tms, known=", ".join(TILE_MATRIX_SETS))
    return matrix


def _collection(collection_id: str) -> Tileset:
    tileset = collection_tileset(collection_id)
    if tileset is None:
        raise Problem("tiles.unknown_collection", 404, collection=collection_id, known=", ".join(LAYERS))
    return tileset


def _json(doc: object, *, cache: str = REVALIDATE) -> JSONResponse:
    return JSONResponse(doc, headers={"Cache-Control": cache})


def accepts_gzip(header: str | None) -> bool:
    if not header:
        return False
    for part in header.split(","):
        coding, _, params = part.partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip", "*"):
            params = params.strip().replace(" ", "")
            if params.startswith("q="):
                try:
                    return float(params[2:]) > 0
                except ValueError:
                    return False
            return True
    return False


def _not_modified(header: str, etags: tuple[str, str]) -> bool:
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") in etags for tag in header.split(","))


async def _tile(request: Request, tileset: Tileset, tms_id: str, z: int, y: int, x: int) -> Response:
    tms = TILE_MATRIX_SETS.get(tms_id) or _tms(tms_id)
    if not tms.contains(z, x, y):
        cols, rows = tms.matrix_size(max(0, min(z, tms.serve_max_zoom)))
        raise Problem("tiles.out_of_range", 404, tms=tms.id, z=z, y=y, x=x, max_zoom=tms.serve_max_zoom,
                      max_row=rows - 1, max_col=cols - 1)
    authorised = await reader_is_authorised(request)
    service = get_service(request)
    snapshot = service.snapshot(tileset)
    key, tile = await service.tile(tileset, snapshot, tms, z, x, y, authorised)
    current = request.query_params.get("v") == snapshot.v
    if authorised:
        cache = IMMUTABLE_PRIVATE if current else REVALIDATE_PRIVATE
    else:
        cache = IMMUTABLE if current else REVALIDATE
    gzip = bool(tile.raw) and accepts_gzip(request.headers.get("accept-encoding"))
    etag = tile.etag_gzip if gzip else tile.etag
    headers = {"ETag": etag, "Cache-Control": cache, "Vary": VARY}
    match = request.headers.get("if-none-match")
    if match and _not_modified(match, (tile.etag, tile.etag_gzip)):
        return Response(status_code=304, headers=headers)
    if not tile.raw:
        return Response(status_code=204, headers=headers)
    if gzip:
        headers["Content-Encoding"] = "gzip"
        return Response(await service.cache.gzipped(key, tile), media_type=metadata.MVT, headers=headers)
    return Response(tile.raw, media_type=metadata.MVT, headers=headers)


# --- Tile matrix sets ------------------------------------------------------------------------

@router.get("/tileMatrixSets", summary="Tile matrix sets")
async def tile_matrix_sets(request: Request) -> JSONResponse:
    return _json(metadata.tile_matrix_sets(_base(request)), cache="public, max-age=86400")


@router.get("/tileMatrixSets/{tms}", summary="A tile matrix set definition (OGC TMS 2.0)")
async def tile_matrix_set(request: Request, tms: str) -> JSONResponse:
    return _json(metadata.tile_matrix_set(_base(request), _tms(tms)), cache="public, max-age=86400")


# --- The multi-layer map tileset ---------------------------------------------------------------

@router.get("/tiles", summary="Tilesets of the subsoil-use map (all layers)")
async def map_tilesets(request: Request) -> JSONResponse:
    return _json(metadata.tileset_list(_base(request), MAP))


@router.get("/tiles/{tms}", summary="Tileset metadata of the subsoil-use map")
async def map_tileset(request: Request, tms: str) -> JSONResponse:
    return await _tileset_doc(request, MAP, tms)


@router.get("/tiles/{tms}/tilejson.json", summary="TileJSON 3.0.0 of the subsoil-use map")
async def map_tilejson(request: Request, tms: str) -> JSONResponse:
    return await _tilejson(request, MAP, tms)


@router.get("/tiles/{tms}/{z}/{y}/{x}", summary="A tile of the subsoil-use map (MVT, one layer per collection)",
            response_class=Response)
async def map_tile(request: Request, tms: str, z: int, y: int, x: int) -> Response:
    return await _tile(request, MAP, tms, z, y, x)


# --- Per-collection tilesets -------------------------------------------------------------------

@router.get("/collections/{collection_id}/tiles", summary="Tilesets of a collection")
async def collection_tilesets(request: Request, collection_id: str) -> JSONResponse:
    return _json(metadata.tileset_list(_base(request), _collection(collection_id)))


@router.get("/collections/{collection_id}/tiles/{tms}", summary="Tileset metadata of a collection")
async def collection_tileset_doc(request: Request, collection_id: str, tms: str) -> JSONResponse:
    return await _tileset_doc(request, _collection(collection_id), tms)


@router.get("/collections/{collection_id}/tiles/{tms}/tilejson.json", summary="TileJSON 3.0.0 of a collection")
async def collection_tilejson(request: Request, collection_id: str, tms: str) -> JSONResponse:
    return await _tilejson(request, _collection(collection_id), tms)


@router.get("/collections/{collection_id}/tiles/{tms}/{z}/{y}/{x}", summary="A tile of a collection (MVT)",
            response_class=Response)
async def collection_tile(request: Request, collection_id: str, tms: str, z: int, y: int, x: int) -> Response:
    tileset = collection_tileset(collection_id) or _collection(collection_id)
    return await _tile(request, tileset, tms, z, y, x)


async def _tileset_doc(request: Request, tileset: Tileset, tms_id: str) -> JSONResponse:
    tms = _tms(tms_id)
    service = get_service(request)
    snapshot = service.snapshot(tileset)
    bounds = await service.bounds(tileset, snapshot)
    return _json(metadata.tileset(_base(request), tileset, tms, snapshot.v, bounds))


async def _tilejson(request: Request, tileset: Tileset, tms_id: str) -> JSONResponse:
    tms = _tms(tms_id)
    if tms.id != "WebMercatorQuad":
        raise Problem("tiles.tilejson_web_mercator_only", 404, tms=tms.id)
    service = get_service(request)
    snapshot = service.snapshot(tileset)
    bounds = await service.bounds(tileset, snapshot)
    return _json(metadata.tilejson(_base(request), tileset, tms, snapshot.v, bounds))

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

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from geoservice.kernel.db import session_settings
from geoservice.kernel.errors import Problem
from layers.access import reader_is_authorised
from layers.catalog import LAYERS
from tiles import metadata
from tiles.layers import MAP, Tileset, collection_tileset
from tiles.service import get_service, service_for, warm_up
from tiles.tms import matrix_set


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Merged into the app's lifespan by include_router, inside it: the pool and registry exist.
    service = service_for(app)
    settings = app.state.settings
    # As the service's role, like the app's pool (README, "Roles"), with its timeouts and keepalives.
    await service.open(settings.service_database_url, settings.statement_timeout,
                       connect_timeout=settings.db_connect_timeout, server_settings=session_settings(settings))
    await warm_up(app)
    try:
        yield
    finally:
        await service.close()


router = APIRouter(prefix="/ogc", tags=["tiles"], lifespan=_lifespan)

IMMUTABLE = "public, max-age=31536000, immutable"
IMMUTABLE_PRIVATE = "private, max-age=31536000, immutable"
REVALIDATE = "no-cache"
REVALIDATE_PRIVATE = "private, no-cache"
VARY = "Accept-Encoding, Authorization"


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


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


def _not_modified(header: str, etags: tuple[bytes, bytes]) -> bool:
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/").encode() in etags for tag in header.split(","))


def _query_v(query: bytes) -> bytes | None:
    for part in query.split(b"&"):
        if part.startswith(b"v="):
            return part[2:]
    return None


_CACHE_CONTROL = {(False, True): IMMUTABLE.encode(), (False, False): REVALIDATE.encode(),
                  (True, True): IMMUTABLE_PRIVATE.encode(), (True, False): REVALIDATE_PRIVATE.encode()}
_MVT = metadata.MVT.encode()
_VARY = VARY.encode()


async def _answer(scope: Scope, tileset: Tileset, tms_id: str, z: int, y: int, x: int
                  ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers and body of a tile request. Works on the ASGI scope (no Request, no
    header dicts): this is the path every map pan takes, mostly answered from the cache."""
    tms = matrix_set(tms_id)
    if not tms.contains(z, x, y):
        cols, rows = tms.matrix_size(max(0, min(z, tms.serve_max_zoom)))
        raise Problem("tiles.out_of_range", 404, tms=tms.id, z=z, y=y, x=x, max_zoom=tms.serve_max_zoom,
                      max_row=rows - 1, max_col=cols - 1)
    accept = match = None
    authorised = False
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            accept = value
        elif name == b"if-none-match":
            match = value
        elif name == b"authorization":
            authorised = True
    if authorised:
        authorised = await reader_is_authorised(Request(scope))
    service = service_for(scope["app"])
    snapshot = service.snapshot(tileset)
    v = _query_v(scope["query_string"])
    if v is not None and v != snapshot.v.encode() and await service.catch_up():
        # A version we do not know: maybe another worker took the upload and our NOTIFY is
        # still on its way. Look (at most once a second), rather than serve the old tiles.
        snapshot = service.snapshot(tileset)
    key, tile = await service.tile(tileset, snapshot, tms, z, x, y, authorised)
    current = v == snapshot.v.encode()
    gzip = bool(tile.raw) and accept is not None and accepts_gzip(accept.decode("latin-1"))
    headers = [(b"etag", tile.etag_gzip if gzip else tile.etag),
               (b"cache-control", _CACHE_CONTROL[authorised, current]), (b"vary", _VARY)]
    if match is not None and _not_modified(match.decode("latin-1"), (tile.etag, tile.etag_gzip)):
        return 304, headers, b""
    if not tile.raw:
        return 204, headers, b""
    body = tile.raw
    if gzip:
        body = await service.cache.gzipped(key, tile)
        headers.append((b"content-encoding", b"gzip"))
    headers += [(b"content-type", _MVT), (b"content-length", str(len(body)).encode())]
    return 200, headers, body


class _TileApp:
    """The tile routes as bare ASGI apps behind Starlette's int path convertors: FastAPI's
    parameter machinery costs ~3x our whole warm path. Addresses the convertors do not match
    (negative, not a number) fall through to the documented routes below, which answer the same
    way or with the problem."""

    def __init__(self, tileset: Tileset | None) -> None:
        self.tileset = tileset

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        params = scope["path_params"]
        tileset = self.tileset or collection_tileset(params["collection_id"]) or _collection(params["collection_id"])
        status, headers, body = await _answer(scope, tileset, params["tms"], params["z"], params["y"], params["x"])
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


_TILE_PATH = re.compile(r"/ogc/(?:collections/([^/]+)/)?tiles/([^/]+)/([0-9]+)/([0-9]+)/([0-9]+)")


class TileFastPath:
    """Middleware that answers tile requests before the router: the same addresses the tile
    routes match (Starlette's ``str`` and ``int`` convertors), the same ``_answer``, and a
    ``Problem`` rendered by the app's own handler, as the exception middleware would. What it
    skips (exception middleware, exit stack, matching ~60 routes) is a third of a tile request's
    Python, which matters most on a cache miss, when it runs with CPU caches cold from the wait for
    PostgreSQL. Anything else, and any scope with a ``root_path``, goes the usual way."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = None
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and not scope.get("root_path"):
            match = _TILE_PATH.fullmatch(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        collection_id, tms_id, z, y, x = match.groups()
        try:
            tileset = MAP if collection_id is None else collection_tileset(collection_id) or _collection(collection_id)
            status, headers, body = await _answer(scope, tileset, tms_id, int(z), int(y), int(x))
        except Exception as exc:
            # Answered before the app's exception middleware: use its handlers the same way
            # (problems, a database outage or a statement timeout as 503, ...).
            handler = _handler_for(scope["app"], exc)
            if handler is None:
                raise
            response = await handler(Request(scope, receive), exc)
            await response(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


def _handler_for(app: Any, exc: Exception) -> Any:
    """The app's exception handler for ``exc``, as Starlette picks it (nearest class first)."""
    handlers = getattr(app, "exception_handlers", {})
    return next((handlers[cls] for cls in type(exc).__mro__ if cls in handlers), None)


async def _tile(request: Request, tileset: Tileset, tms_id: str, z: int, y: int, x: int) -> Response:
    status, headers, body = await _answer(request.scope, tileset, tms_id, z, y, x)
    response = Response(body, status_code=status)
    response.raw_headers = headers
    return response


for _path, _tileset in (("/tiles/{tms}/{z:int}/{y:int}/{x:int}", MAP),
                        ("/collections/{collection_id}/tiles/{tms}/{z:int}/{y:int}/{x:int}", None)):
    router.routes.append(Route(router.prefix + _path, _TileApp(_tileset), methods=["GET", "HEAD"],
                               include_in_schema=False))


# --- Tile matrix sets ------------------------------------------------------------------------

@router.get("/tileMatrixSets", summary="Tile matrix sets")
async def tile_matrix_sets(request: Request) -> JSONResponse:
    return _json(metadata.tile_matrix_sets(_base(request)), cache="public, max-age=86400")


@router.get("/tileMatrixSets/{tms}", summary="A tile matrix set definition (OGC TMS 2.0)")
async def tile_matrix_set(request: Request, tms: str) -> JSONResponse:
    return _json(metadata.tile_matrix_set(_base(request), matrix_set(tms)), cache="public, max-age=86400")


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
    tms = matrix_set(tms_id)
    service = get_service(request)
    snapshot = service.snapshot(tileset)
    bounds = await service.bounds(tileset, snapshot)
    return _json(metadata.tileset(_base(request), tileset, tms, snapshot.v, bounds))


async def _tilejson(request: Request, tileset: Tileset, tms_id: str) -> JSONResponse:
    tms = matrix_set(tms_id)
    if tms.id != "WebMercatorQuad":
        raise Problem("tiles.tilejson_web_mercator_only", 404, tms=tms.id)
    service = get_service(request)
    snapshot = service.snapshot(tileset)
    bounds = await service.bounds(tileset, snapshot)
    return _json(metadata.tilejson(_base(request), tileset, tms, snapshot.v, bounds))

"""Layer state and authority uploads: /api/layers..."""

from __future__ import annotations

import logging
import shutil
from pathlib import PurePath
from typing import Any

import psycopg
from cachetools import LRUCache
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from psycopg import sql
from starlette.datastructures import UploadFile

from geoservice.deps import PUBLIC, DatabaseDep, ReaderDep, SettingsDep, checked_inside
from geoservice.kernel.db import Database
from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import translate
from geoservice.kernel.settings import Settings
from geoservice.spool import spool
from importers.pipeline import UploadRequest, resolve_layer, run_upload
from importers.rasters import RasterRequest, list_raster_versions, run_raster_upload
from importers.validate import parse_defaults, parse_mapping
from layers import raster_versions, store
from layers.access import (
    AUTHORITY_TOKEN,
    Caller,
    Principal,
    caller,
    client_address,
    public_filter,
    reads_restricted,
    require_writer,
    writing_authority,
)
from layers.catalog import LAYERS, RASTER_LAYERS, Layer, RasterLayer

router = APIRouter(prefix="/api", tags=["layers"])
log = logging.getLogger("geoservice.uploads")


def _log_wait(key: str, params: dict[str, Any]) -> None:
    # The client hears of a lock wait only if it ends in a 409; the operator sees it here.
    log.warning("%s", translate(key, "en", **params))

UPLOAD_FORM = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary",
                         "description": "GeoJSON, zipped Shapefile, GeoPackage, KML/KMZ, CSV or corner-point table"},
                "crs": {"type": "string", "description": "Source CRS when the file has none, e.g. EPSG:28412"},
                "sheet": {"type": "string", "description":
                          "Raster layers: the sheet this GeoTIFF is (default: the file's name without extension)"},
                "encoding": {"type": "string", "description": "Attribute text encoding, e.g. cp1251"},
                "mode": {"type": "string", "enum": ["replace", "append"], "default": "replace"},
                "dry_run": {"type": "boolean", "default": False},
                "mapping": {"type": "string", "description": "JSON {\"source column\": \"attribute\"}"},
                "defaults": {"type": "string", "description":
                             "JSON {\"attribute\": value}: values for every feature where the file has none, "
                             "e.g. {\"kind\": \"settlement\", \"regime\": \"prohibited\"}. Checked like "
                             "the file's own values; the file's non-empty values win, these fill empty "
                             "cells. Recorded in the version."},
            }}}},
    }
}


# (version table, created) -> count and bbox of its public features: a version's table never
# changes, so this is computed once per version and process (bounded: old versions fall out).
_PUBLIC: LRUCache[tuple[str, str], tuple[int, list[float] | None]] = LRUCache(maxsize=1024)


def _as_seen(conn: psycopg.Connection, layer: Layer, info: store.VersionInfo, authorised: bool) -> dict[str, Any]:
    """The version as the reader may see it: for an anonymous reader of a layer with non-public
    features, count and extent of the public ones only, and no upload report (it counts and
    numbers every feature of the file)."""
    data = info.as_dict()
    condition = public_filter(layer.access, authorised)
    if condition is None:
        return data
    key = (info.table_name, data["created_at"])
    if key not in _PUBLIC:
        row = conn.execute(sql.SQL(
            "SELECT n, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT count(*) AS n, ST_Extent(geom) AS e FROM {} WHERE {}) s").format(
            sql.Identifier(store.SCHEMA, info.table_name), sql.SQL(condition))).fetchone()  # type: ignore[arg-type]
        assert row is not None
        _PUBLIC[key] = (int(row[0]), [float(v) for v in row[1:]] if row[1] is not None else None)
    data["feature_count"], data["bbox"] = _PUBLIC[key]
    data["report"] = None
    return data


def describe_layer(layer: Layer, current: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": layer.id,
        "names": layer.names.as_dict(),
        "geometry_type": layer.geometry_type,
        "uploadable": layer.uploadable,
        "writers": sorted(layer.writers | ({"operator"} if layer.uploadable else set())),
        "key": layer.key,
        "attributes": [
            {"name": a.name, "type": a.type, "required": a.required, "names": a.names.as_dict(),
             **({"values": [{"value": c.value, "names": c.names.as_dict()} for c in a.choices]}
                if a.choices else {}),
             **({"default": a.default} if a.default is not None else {}),
             # Where the file has no value, the first of these that has one stands in.
             **({"filled_from": list(a.fallback)} if a.fallback else {})}
            for a in layer.attributes
        ],
        "current_version": current,
    }


def _current(conn: psycopg.Connection, layer: Layer, authorised: bool) -> dict[str, Any] | None:
    info = store.current_version(conn, layer)
    return _as_seen(conn, layer, info, authorised) if info else None


def describe_raster_layer(conn: psycopg.Connection, layer: RasterLayer) -> dict[str, Any]:
    """A raster layer of the catalog (issue 12): what it takes and what the mosaic shows now; its
    tiles, coverage and legend are at /api/rasters and /ogc/collections/{id}."""
    row = conn.execute("SELECT max(version_id), count(*) FROM current_raster_sheets WHERE layer_id = %s",
                       (layer.id,)).fetchone()
    newest, sheets = (row[0], int(row[1])) if row else (None, 0)
    return {"id": layer.id, "names": layer.names.as_dict(), "kind": layer.kind,
            "unit": layer.unit.as_dict() if layer.unit else None, "uploadable": True,
            "writers": sorted(layer.writers | {"operator"}),
            "current": {"newest_version": int(newest), "sheets": sheets} if sheets else None}


@router.get("/layers", dependencies=[PUBLIC])
def list_layers(db: DatabaseDep, reader: ReaderDep) -> dict[str, Any]:
    authorised = reads_restricted(reader)
    # The connection is taken in this worker thread, not held from a dependency (see
    # tests/test_pool_concurrency.py).
    with db.connection() as conn:
        return {"layers": [describe_layer(layer, _current(conn, layer, authorised)) for layer in LAYERS.values()],
                # Raster layers apart: their answers have another shape (no attributes, no features).
                "raster_layers": [describe_raster_layer(conn, layer) for layer in RASTER_LAYERS.values()]}


@router.get("/layers/{layer_id}", dependencies=[PUBLIC])
def get_layer(layer_id: str, db: DatabaseDep, reader: ReaderDep) -> dict[str, Any]:
    if layer_id in RASTER_LAYERS:
        with db.connection() as conn:
            return describe_raster_layer(conn, RASTER_LAYERS[layer_id])
    layer = resolve_layer(layer_id)
    with db.connection() as conn:
        return describe_layer(layer, _current(conn, layer, reads_restricted(reader)))


@router.get("/layers/{layer_id}/versions", dependencies=[PUBLIC])
def list_versions(layer_id: str, db: DatabaseDep, reader: ReaderDep) -> dict[str, Any]:
    if layer_id in RASTER_LAYERS:  # a raster layer's versions and their sheets (issue 12)
        with db.connection() as conn:
            return {"layer": layer_id, "versions": list_raster_versions(conn, RASTER_LAYERS[layer_id])}
    layer = resolve_layer(layer_id)
    with db.connection() as conn:
        return {"layer": layer.id, "versions": [_as_seen(conn, layer, v, reads_restricted(reader))
                                                for v in store.list_versions(conn, layer)]}


def _flag(value: object) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


def _journal_refusal(db: Database, request: Request, action: str, layer_id: str, problem: Problem, *,
                     who: Caller | None, version: int | None = None) -> None:
    # Every attempt is journaled, refusals too (who, from where, why). A journal that cannot be
    # written must not hide the refusal itself.
    try:
        with db.connection() as conn:
            store.journal(conn, who.actor if who else "anonymous", action, "rejected",
                          layer_id=layer_id, version=version, client=client_address(request),
                          detail={"problem": problem.key, "status": problem.status})
    except Exception:  # noqa: S110
        pass


# An authority's token, or an officer of an authority that writes the layer (require_writer).
WRITERS = checked_inside(AUTHORITY_TOKEN, "officer")


@router.post("/layers/{layer_id}/uploads", status_code=201, openapi_extra=UPLOAD_FORM, dependencies=[WRITERS])
async def upload(layer_id: str, request: Request, response: Response, db: DatabaseDep,
                 settings: SettingsDep) -> dict[str, Any]:
    who: Caller | None = None  # the caller, once the token is known
    form = None
    handed_over = False  # from then on the pipeline journals its own refusals
    try:
        # Authorise before reading the body: an unauthorised client never gets to send us a file.
        # Writes check the token against the database, not the cache.
        layer: Layer | RasterLayer = RASTER_LAYERS[layer_id] if layer_id in RASTER_LAYERS else resolve_layer(layer_id)
        who = await caller(request, fresh=True)
        principal = require_writer(who, layer)
        form = await request.form(max_files=1, max_fields=20)
        upload_file = form.get("file")
        if not isinstance(upload_file, UploadFile):
            raise Problem("upload.no_file", 400)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        name = PurePath(upload_file.filename or "upload").name or "upload"
        with spool(settings.spool_path) as workdir:  # removed when done; swept at start if we die
            path = workdir / "upload.bin"
            with open(path, "wb") as out:
                await run_in_threadpool(shutil.copyfileobj, upload_file.file, out, 1 << 20)
            if isinstance(layer, RasterLayer):
                # A sheet of a raster layer (importers/rasters.py): a new version, or nothing.
                raster = RasterRequest(
                    layer_id=layer.id, path=path, file_name=name, crs=fields.get("crs") or None,
                    sheet=fields.get("sheet") or None, dry_run=_flag(fields.get("dry_run")), actor=principal.actor,
                    authority=writing_authority(principal, layer),
                    token_id=principal.token_id if isinstance(principal, Principal) else None,
                    client=client_address(request))
                handed_over = True
                return await run_in_threadpool(run_raster_upload, raster, db, settings)
            req = UploadRequest(
                layer_id=layer.id, path=path, file_name=name, crs=fields.get("crs") or None,
                encoding=fields.get("encoding") or None, mode=fields.get("mode") or "replace",
                dry_run=_flag(fields.get("dry_run")), mapping=parse_mapping(fields.get("mapping")),
                defaults=parse_defaults(fields.get("defaults")),
                actor=principal.actor, authority=writing_authority(principal, layer),
                token_id=principal.token_id if isinstance(principal, Principal) else None,
                client=client_address(request))
            handed_over = True
            result = await run_in_threadpool(run_upload, req, db, settings, _log_wait)
        if result.get("unchanged"):
            # The file is the current version already: nothing was created.
            response.status_code = 200
        elif not req.dry_run:
            # Served at once by this process, without waiting for the NOTIFY round trip.
            await request.app.state.registry.refresh()
    except Problem as problem:
        if not handed_over:
            await run_in_threadpool(_journal_refusal, db, request, "upload", layer_id, problem, who=who)
        raise
    finally:
        if form is not None:
            await form.close()
    return result


@router.post("/layers/{layer_id}/versions/{version}/restore", dependencies=[WRITERS])
async def restore(layer_id: str, version: int, request: Request, db: DatabaseDep,
                  settings: SettingsDep) -> dict[str, Any]:
    who: Caller | None = None
    try:
        if layer_id in RASTER_LAYERS:  # a raster layer's version restored (issue 12): same rights as its uploads
            raster = RASTER_LAYERS[layer_id]
            who = await caller(request, fresh=True)
            principal = require_writer(who, raster)
            return await run_in_threadpool(_restore_raster, db, raster, version, principal.actor,
                                           client_address(request))
        layer = resolve_layer(layer_id)
        who = await caller(request, fresh=True)
        principal = require_writer(who, layer)
        info = await run_in_threadpool(_restore, db, layer, version, principal.actor, client_address(request),
                                       settings)
    except Problem as problem:
        # A number past the journal's integer column is journaled without it, not lost.
        await run_in_threadpool(_journal_refusal, db, request, "restore", layer_id, problem, who=who,
                                version=version if abs(version) < 2**31 else None)
        raise
    await request.app.state.registry.refresh()
    return info.as_dict()


def _restore(db: Database, layer: Layer, version: int, actor: str, client: str | None,
             settings: Settings) -> store.VersionInfo:
    with db.connection() as conn:
        return store.restore_version(conn, layer, version, actor=actor, client=client,
                                     lock=store.LockPolicy.from_settings(settings, _log_wait))


def _restore_raster(db: Database, layer: RasterLayer, version: int, actor: str, client: str | None) -> dict[str, Any]:
    # Tiles need no refresh: they are cached under the layer's newest version, which this makes.
    with db.connection() as conn:
        restored = raster_versions.restore(conn, layer, version, actor=actor, client=client)
        conn.commit()
    return restored

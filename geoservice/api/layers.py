"""Layer state and authority uploads: /api/layers..."""

from __future__ import annotations

import logging
import shutil
from pathlib import PurePath
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from geoservice.deps import ConnectionDep, DatabaseDep, SettingsDep, WriterDep
from geoservice.kernel.db import Database
from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import translate
from geoservice.kernel.settings import Settings
from geoservice.spool import spool
from importers.pipeline import UploadRequest, resolve_layer, run_upload
from importers.validate import parse_defaults, parse_mapping
from layers import store
from layers.access import require_writer
from layers.catalog import LAYERS, Layer

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


def describe_layer(layer: Layer, current: store.VersionInfo | None) -> dict[str, Any]:
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
        "current_version": current.as_dict() if current else None,
    }


@router.get("/layers")
def list_layers(conn: ConnectionDep) -> dict[str, Any]:
    return {"layers": [describe_layer(layer, store.current_version(conn, layer)) for layer in LAYERS.values()]}


@router.get("/layers/{layer_id}")
def get_layer(layer_id: str, conn: ConnectionDep) -> dict[str, Any]:
    layer = resolve_layer(layer_id)
    return describe_layer(layer, store.current_version(conn, layer))


@router.get("/layers/{layer_id}/versions")
def list_versions(layer_id: str, conn: ConnectionDep) -> dict[str, Any]:
    layer = resolve_layer(layer_id)
    return {"layer": layer.id, "versions": [v.as_dict() for v in store.list_versions(conn, layer)]}


def _flag(value: object) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


@router.post("/layers/{layer_id}/uploads", status_code=201, openapi_extra=UPLOAD_FORM)
async def upload(layer_id: str, request: Request, caller: WriterDep, db: DatabaseDep,
                 settings: SettingsDep) -> dict[str, Any]:
    # Authorise before reading the body: an unauthorised client never gets to send us a file.
    layer = resolve_layer(layer_id)
    principal = require_writer(caller, layer)
    form = await request.form(max_files=1, max_fields=20)
    upload_file = form.get("file")
    if not isinstance(upload_file, UploadFile):
        raise Problem("upload.no_file", 400)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    name = PurePath(upload_file.filename or "upload").name or "upload"
    try:
        with spool(settings.spool_path) as workdir:  # removed when done; swept at start if we die
            path = workdir / "upload.bin"
            with open(path, "wb") as out:
                await run_in_threadpool(shutil.copyfileobj, upload_file.file, out, 1 << 20)
            req = UploadRequest(
                layer_id=layer.id, path=path, file_name=name, crs=fields.get("crs") or None,
                encoding=fields.get("encoding") or None, mode=fields.get("mode") or "replace",
                dry_run=_flag(fields.get("dry_run")), mapping=parse_mapping(fields.get("mapping")),
                defaults=parse_defaults(fields.get("defaults")),
                actor=principal.actor, authority=principal.authority, token_id=principal.token_id)
            result = await run_in_threadpool(run_upload, req, db, settings, _log_wait)
        if not req.dry_run:
            # Served at once by this process, without waiting for the NOTIFY round trip.
            await request.app.state.registry.refresh()
    finally:
        await form.close()
    return result


@router.post("/layers/{layer_id}/versions/{version}/restore")
async def restore(layer_id: str, version: int, request: Request, caller: WriterDep,
                  db: DatabaseDep, settings: SettingsDep) -> dict[str, Any]:
    layer = resolve_layer(layer_id)
    principal = require_writer(caller, layer)
    info = await run_in_threadpool(_restore, db, layer, version, principal.actor, settings)
    await request.app.state.registry.refresh()
    return info.as_dict()


def _restore(db: Database, layer: Layer, version: int, actor: str, settings: Settings) -> store.VersionInfo:
    with db.connection() as conn:
        return store.restore_version(conn, layer, version, actor=actor,
                                     lock=store.LockPolicy.from_settings(settings, _log_wait))

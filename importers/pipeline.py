"""One upload, start to end: read → validate → store. Used by the HTTP API and the CLI alike.
Either the upload becomes a new version whole, or nothing changes (a failed attempt is written
to the journal only)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geoservice.kernel.db import Database, libpq_params
from geoservice.kernel.errors import Problem
from geoservice.kernel.settings import Settings
from importers.archive import Limits
from importers.sources import read_upload
from importers.validate import check_defaults, validate
from layers import store
from layers.catalog import Layer, get_layer


@dataclass
class UploadRequest:
    layer_id: str
    path: Path
    file_name: str
    crs: str | None = None
    encoding: str | None = None
    mode: str = "replace"
    dry_run: bool = False
    mapping: dict[str, str] | None = None
    defaults: dict[str, Any] | None = None  # {attribute: value} for every feature the file leaves empty
    actor: str = "cli"
    authority: str | None = None
    token_id: int | None = None


def resolve_layer(layer_id: str) -> Layer:
    layer = get_layer(layer_id)
    if layer is None:
        raise Problem("layer.not_found", 404, layer=layer_id)
    return layer


def polygon_number_columns(layer: Layer, mapping: dict[str, str] | None) -> list[str]:
    """Column names that number the polygons of a corner table for this layer, besides the
    generic ones the table reader knows: the key attribute, its aliases and names in kk/ru/en,
    and any column the mapping sends to the key."""
    if not layer.key:
        return []
    key = layer.attribute(layer.key)
    mapped = [source for source, target in (mapping or {}).items() if target == key.name]
    return [*mapped, key.name, *key.aliases, *key.names.as_dict().values()]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def run_upload(req: UploadRequest, db: Database | str, settings: Settings | None = None,
               on_wait: Callable[[str, dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """``db``: where to store (a URL or the server's pooled Database); ``settings``: the limits,
    tolerance, grid datum and timeouts to apply (the code's defaults when not given);
    ``on_wait(key, params)``: told, as a message, when the upload waits for its layer's lock."""
    settings = settings or Settings()
    db = Database(db, params=libpq_params(settings)) if isinstance(db, str) else db
    layer = resolve_layer(req.layer_id)
    if not layer.uploadable:
        raise Problem("layer.not_uploadable", 405, layer=layer.id)
    if req.mode not in ("replace", "append"):
        raise Problem("upload.bad_mode", 400, mode=req.mode)
    checksum = sha256_file(req.path)
    try:
        # Values for the whole file are checked before the file is read: a typo costs nothing.
        defaults = check_defaults(layer, req.defaults)
        source = read_upload(req.path, req.file_name, encoding=req.encoding, limits=Limits.from_settings(settings),
                             id_columns=polygon_number_columns(layer, req.mapping))
        features = validate(source, layer, crs=req.crs, mapping=req.mapping, defaults=defaults,
                            boundary_tolerance_deg=settings.boundary_tolerance_deg, grid_datum=settings.grid_datum)
        result: dict[str, Any] = {
            "layer": layer.id, "dry_run": req.dry_run, "mode": req.mode, "checksum": checksum,
            "file": req.file_name, "format": source.format, "features_in_file": len(features),
            "source_crs": features.source_crs, "transformation": features.transformation,
            "repaired": len(features.report["repairs"]), "report": features.report,
            "defaults": features.defaults,
        }
        if req.dry_run:
            return result
        with db.connection() as conn:
            version = store.write_version(
                conn, layer, features, mode=req.mode, actor=req.actor, authority=req.authority,
                token_id=req.token_id, source_file=req.file_name, source_format=source.format, checksum=checksum,
                lock=store.LockPolicy.from_settings(settings, on_wait))
            conn.commit()
        result.update(version=version.version, feature_count=version.feature_count,
                      created_at=version.created_at.isoformat(), bbox=version.bbox)
        return result
    except Problem as problem:
        if not req.dry_run:
            _journal_failure(req, layer, checksum, problem, db)
        raise


def _journal_failure(req: UploadRequest, layer: Layer, checksum: str, problem: Problem, db: Database) -> None:
    try:
        with db.connection() as conn:
            store.journal(conn, req.actor, "upload", "rejected", layer_id=layer.id,
                          detail={"file": req.file_name, "checksum": checksum, "problem": problem.key,
                                  "status": problem.status})
    except Exception:  # noqa: S110 - the journal must never hide the upload's own error
        pass

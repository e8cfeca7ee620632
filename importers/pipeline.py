"""One upload, start to end: read → validate → store. Used by the HTTP API and the CLI alike.
Either the upload becomes a new version whole, or nothing changes (a failed attempt is written
to the journal only)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geoservice.kernel.db import Database, libpq_params
from geoservice.kernel.errors import Problem
from geoservice.kernel.settings import Settings
from importers.archive import Limits
from importers.messages import note
from importers.sources import read_upload
from importers.validate import check_defaults, json_defaults, validate
from layers import store
from layers.catalog import Layer, get_layer

log = logging.getLogger("geoservice.pipeline")
# An upload does not wait long for readers of an old version before dropping its table: what
# cannot be dropped now is pruned after a later upload or by `geoservice layers prune`.
PRUNE_LOCK_TIMEOUT_MS = 2000


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
    client: str | None = "cli"  # where the upload came from: the caller's address, or cli


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
    checksum: str | None = None
    try:
        layer = resolve_layer(req.layer_id)
        if not layer.uploadable:
            raise Problem("layer.not_uploadable", 405, layer=layer.id)
        if req.mode not in ("replace", "append"):
            raise Problem("upload.bad_mode", 400, mode=req.mode)
        checksum = sha256_file(req.path)
        # Values for the whole file are checked before the file is read: a typo costs nothing.
        defaults = check_defaults(layer, req.defaults)
        options = {"crs": req.crs or None, "encoding": req.encoding or None, "mode": req.mode,
                   "mapping": req.mapping or {}, "defaults": json_defaults(defaults)}
        if not req.dry_run:
            # The file that is current already, sent again with the same options (a retry, a
            # second click): answered with that version, without reading the file again.
            with db.connection() as conn:
                same = store.same_as_current(conn, layer, checksum, options, actor=req.actor, client=req.client,
                                             source_file=req.file_name)
            if same is not None:
                return unchanged_result(req, same)
        source = read_upload(req.path, req.file_name, encoding=req.encoding, limits=Limits.from_settings(settings),
                             id_columns=polygon_number_columns(layer, req.mapping))
        features = validate(source, layer, crs=req.crs, mapping=req.mapping, defaults=defaults,
                            boundary_tolerance_deg=settings.boundary_tolerance_deg, grid_datum=settings.grid_datum)
        result: dict[str, Any] = {
            "layer": layer.id, "dry_run": req.dry_run, "mode": req.mode, "checksum": checksum,
            "file": req.file_name, "format": source.format, "features_in_file": len(features),
            "source_crs": features.source_crs, "transformation": features.transformation,
            "repaired": len(features.report["repairs"]), "report": features.report,
            "defaults": features.defaults, "unchanged": False,
        }
        if req.dry_run:
            return result
        with db.connection() as conn:
            version = store.write_version(
                conn, layer, features, mode=req.mode, actor=req.actor, authority=req.authority,
                token_id=req.token_id, source_file=req.file_name, source_format=source.format, checksum=checksum,
                client=req.client, options=options, lock=store.LockPolicy.from_settings(settings, on_wait))
            conn.commit()
        if version.unchanged:
            return unchanged_result(req, version)
        _apply_retention(db, layer, req, settings)
        result.update(version=version.version, feature_count=version.feature_count,
                      created_at=version.created_at.isoformat(), bbox=version.bbox)
        return result
    except Problem as problem:
        if not req.dry_run:
            journal_rejected_upload(db, actor=req.actor, layer_id=req.layer_id, client=req.client,
                                    file_name=req.file_name, checksum=checksum, problem=problem)
        raise


def _apply_retention(db: Database, layer: Layer, req: UploadRequest, settings: Settings) -> None:
    """After a new version: drop the data of versions beyond the retention policy. Best effort,
    in a transaction of its own: the upload is committed and stays so whatever happens here."""
    policy = store.Retention(settings.keep_versions, settings.keep_days)
    try:
        with db.connection() as conn:
            store.prune(conn, layer, policy, actor=req.actor, client=req.client,
                        lock_timeout_ms=PRUNE_LOCK_TIMEOUT_MS)
    except Exception:  # noqa: BLE001 - logged; `geoservice layers prune` catches up
        log.exception("retention after the upload to %s failed", layer.id)


def unchanged_result(req: UploadRequest, version: store.VersionInfo) -> dict[str, Any]:
    """The answer to an upload of the file that is already current: that version, in the shape
    of an upload's answer, with ``unchanged`` set and a note saying so."""
    report = dict(version.report)
    report["notes"] = [*report.get("notes", []), note("note.unchanged", layer=version.layer_id,
                                                       version=version.version)]
    return {
        "layer": version.layer_id, "dry_run": False, "mode": req.mode, "checksum": version.checksum,
        "file": req.file_name, "format": version.source_format,
        "features_in_file": report.get("features_in_file", version.feature_count),
        "source_crs": version.source_crs, "transformation": version.transformation,
        "repaired": len(report.get("repairs", [])), "report": report, "defaults": version.defaults,
        "unchanged": True, "version": version.version, "feature_count": version.feature_count,
        "created_at": version.created_at.isoformat(), "bbox": version.bbox,
    }


def journal_rejected_upload(db: Database, *, actor: str, layer_id: str, client: str | None, file_name: str,
                            checksum: str | None, problem: Problem) -> None:
    """An upload refused by the pipeline (vector or raster), on record: who, which file, why."""
    try:
        with db.connection() as conn:
            store.journal(conn, actor, "upload", "rejected", layer_id=layer_id, client=client,
                          detail={"file": file_name, "checksum": checksum, "problem": problem.key,
                                  "status": problem.status})
    except Exception:  # noqa: S110 - the journal must never hide the upload's own error
        pass

"""Raster layers' versions (issue 12) restored and pruned, like vector versions (layers/store.py).

History is append-only. A restore of version N is a new version (``restored_from`` = N) whose
sheet rows copy N's: same COG files, same checksums, so the restored sheets are the newest again
(current_raster_sheets) and no file is copied. Pruning marks versions beyond the retention policy
(``pruned_at``; they stay listed, no longer restorable) and then deletes the files that no
unpruned version points at any more (a restore shares its original's files)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from geoservice.kernel.errors import Problem
from layers.catalog import RasterLayer
from layers.journal import journal
from layers.store import Retention, pruned_problem

log = logging.getLogger("geoservice.rasters")


def _lock(conn: psycopg.Connection, layer: RasterLayer) -> None:
    # Restores and prunes of one layer one at a time (both are short): a version being pruned
    # cannot be restored half-way, and a restore's new references are seen by the prune after it.
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"raster:{layer.id}",))


def describe(conn: psycopg.Connection, layer: RasterLayer, version: int | None = None) -> list[dict[str, Any]]:
    """The layer's versions (or only ``version``), newest first, each with its sheets, whether each
    is shown now, when it was pruned and which version it restores."""
    # One statement for both: a NULL version means every version.
    params = {"layer": layer.id, "version": version}
    versions = conn.execute(
        "SELECT id, created_at, actor, source_file, source_format, checksum, sheets, pruned_at, restored_from "
        "FROM raster_versions WHERE layer_id = %(layer)s AND (%(version)s::bigint IS NULL OR id = %(version)s) "
        "ORDER BY id DESC", params).fetchall()
    sheets: dict[int, list[dict[str, Any]]] = {}
    for r in conn.execute(
            "SELECT s.version_id, s.sheet, s.checksum, s.crs, s.width, s.height, s.bands, s.dtype, s.nodata, "
            "s.stats, ST_XMin(s.footprint), ST_YMin(s.footprint), ST_XMax(s.footprint), ST_YMax(s.footprint), "
            "c.id IS NOT NULL FROM raster_sheets s LEFT JOIN current_raster_sheets c ON c.id = s.id "
            "WHERE s.layer_id = %(layer)s AND (%(version)s::bigint IS NULL OR s.version_id = %(version)s) "
            "ORDER BY s.id", params):
        sheets.setdefault(int(r[0]), []).append({
            "sheet": r[1], "checksum": r[2], "crs": r[3], "width": r[4], "height": r[5], "bands": r[6],
            "dtype": r[7], "nodata": r[8], "stats": r[9], "bbox": [float(v) for v in r[10:14]], "current": r[14]})
    return [{"version": int(v[0]), "created_at": v[1].isoformat(), "actor": v[2], "source_file": v[3],
             "source_format": v[4], "checksum": v[5] or None, "sheets": sheets.get(int(v[0]), []),
             "current": any(s["current"] for s in sheets.get(int(v[0]), [])),
             "pruned_at": v[7].isoformat() if v[7] else None,
             "restored_from": int(v[8]) if v[8] is not None else None} for v in versions]


def restore(conn: psycopg.Connection, layer: RasterLayer, version: int, *, actor: str,
            client: str | None = None) -> dict[str, Any]:
    """Show ``version`` of the layer again, in the caller's transaction: a new version whose sheet
    rows copy that version's (its files, not copies of them). Returns the new version as
    ``describe`` gives it, with ``unchanged`` false; a version whose sheets are all shown already
    is answered as it is, ``unchanged`` true, and no version is made. 404 for a version the layer
    does not have, 410 for a pruned one."""
    _lock(conn, layer)
    row = conn.execute("SELECT checksum, sheets, pruned_at FROM raster_versions WHERE layer_id = %s AND id = %s",
                       (layer.id, version)).fetchone()
    if row is None:
        raise Problem("version.not_found", 404, layer=layer.id, version=version)
    if row[2] is not None:
        raise pruned_problem(layer.id, version, row[2])
    hidden = conn.execute(
        "SELECT count(*) FROM raster_sheets s LEFT JOIN current_raster_sheets c ON c.id = s.id "
        "WHERE s.version_id = %s AND c.id IS NULL", (version,)).fetchone()
    if hidden is not None and hidden[0] == 0:
        # Every sheet of it is shown already: nothing to restore, and no new version (which would
        # only make the tiles' cache keys new).
        journal(conn, actor, "restore", "ok", layer_id=layer.id, version=version, client=client,
                detail={"kind": "raster", "unchanged": True})
        [shown] = describe(conn, layer, version)
        return {**shown, "unchanged": True}
    new = conn.execute(
        "INSERT INTO raster_versions (layer_id, actor, client, source_file, source_format, checksum, sheets, "
        "restored_from) VALUES (%s, %s, %s, %s, 'restore', %s, %s, %s) RETURNING id",
        (layer.id, actor, client, f"restore of version {version}", row[0], row[1], version)).fetchone()
    assert new is not None
    new_version = int(new[0])
    # Same order as the original's rows: among sheets of one name the last one stays on top.
    conn.execute(
        "INSERT INTO raster_sheets (layer_id, version_id, sheet, path, checksum, crs, footprint, width, height, "
        "bands, dtype, nodata, stats) SELECT layer_id, %s, sheet, path, checksum, crs, footprint, width, height, "
        "bands, dtype, nodata, stats FROM raster_sheets WHERE version_id = %s ORDER BY id",
        (new_version, version))
    journal(conn, actor, "restore", "ok", layer_id=layer.id, version=version, client=client,
            detail={"kind": "raster", "new_version": new_version})
    [described] = describe(conn, layer, new_version)
    return {**described, "unchanged": False}


# --- retention ------------------------------------------------------------------------------------

@dataclass
class PrunedVersion:
    version: int
    created_at: dt.datetime
    sheets: int
    pruned_at: dt.datetime | None = None
    files: list[str] = field(default_factory=list)   # paths under the raster store removed (or to be)


# Beyond the policy (not among the last keep_versions, older than keep_days), no sheet shown now,
# not pruned yet; oldest first.
_PRUNABLE_SQL = """
    SELECT v.id, v.created_at, v.sheets
      FROM raster_versions v
      JOIN (SELECT id, row_number() OVER (ORDER BY id DESC) AS recent
              FROM raster_versions WHERE layer_id = %(layer)s) r ON r.id = v.id
     WHERE v.pruned_at IS NULL AND r.recent > %(keep)s
       AND v.created_at < now() - make_interval(secs => %(secs)s)
       AND NOT EXISTS (SELECT 1 FROM current_raster_sheets c WHERE c.layer_id = %(layer)s AND c.version_id = v.id)
     ORDER BY v.id"""
# Files of the layer's pruned versions (and of ``victims``, as if pruned) that no other version
# still unpruned points at. Pruned versions' files come again: a file an interrupted prune left
# behind is removed the next time.
_DOOMED_SQL = """
    SELECT DISTINCT s.version_id, s.path
      FROM raster_sheets s JOIN raster_versions v ON v.id = s.version_id
     WHERE s.layer_id = %(layer)s AND (v.pruned_at IS NOT NULL OR v.id = ANY(%(victims)s))
       AND NOT EXISTS (SELECT 1 FROM raster_sheets o JOIN raster_versions ov ON ov.id = o.version_id
                        WHERE o.path = s.path AND ov.pruned_at IS NULL AND NOT ov.id = ANY(%(victims)s))"""


def prunable(conn: psycopg.Connection, layer: RasterLayer, policy: Retention) -> list[PrunedVersion]:
    rows = conn.execute(_PRUNABLE_SQL, {"layer": layer.id, "keep": max(policy.keep_versions, 0),
                                        "secs": max(policy.keep_days, 0) * 86400.0}).fetchall()
    return [PrunedVersion(int(r[0]), r[1], int(r[2])) for r in rows]


def prune(conn: psycopg.Connection, layer: RasterLayer, policy: Retention, root: Path, *, actor: str,
          client: str | None = None, dry_run: bool = False) -> list[PrunedVersion]:
    """Prune the layer's versions beyond ``policy`` and remove the COG files (under ``root``, the
    raster store) that no unpruned version uses any more. COMMITS the connection's transaction
    before touching a file: a crash after it leaves files nobody shows (removed by the next
    prune), never a row pointing at a deleted file. With ``dry_run``: what would be pruned and
    removed, nothing changed. Returns the versions, oldest first."""
    _lock(conn, layer)
    victims = prunable(conn, layer, policy)
    ids = [v.version for v in victims]
    doomed = conn.execute(_DOOMED_SQL, {"layer": layer.id, "victims": ids}).fetchall()
    by_id = {v.version: v for v in victims}
    for version_id, path in doomed:
        if int(version_id) in by_id:
            by_id[int(version_id)].files.append(path)
    if dry_run:
        return victims
    if victims:
        stamped = dict(conn.execute("UPDATE raster_versions SET pruned_at = now() WHERE id = ANY(%s) "
                                    "RETURNING id, pruned_at", (ids,)).fetchall())
        for v in victims:
            v.pruned_at = stamped[v.version]
            journal(conn, actor, "prune", "ok", layer_id=layer.id, version=v.version, client=client,
                    detail={"kind": "raster", "files": v.files, "keep_versions": policy.keep_versions,
                            "keep_days": policy.keep_days})
    conn.commit()
    # Files only now, after the commit: the rows that pointed at them are pruned for good.
    for path in sorted({p for _, p in doomed}):
        _remove(root, path)
    return victims


def _remove(root: Path, relative: str) -> None:
    base = root.resolve()
    target = (base / relative).resolve()
    if base not in target.parents:  # the table's CHECK already refuses such paths
        log.warning("raster file %s is outside the store: not removed", relative)
        return
    try:
        target.unlink(missing_ok=True)
    except OSError as exc:  # left for the next prune
        log.warning("raster file %s not removed now: %s", relative, exc)
        return
    folder = target.parent
    while folder != base:  # the version's folder, then the layer's, when emptied
        try:
            folder.rmdir()
        except OSError:
            break
        folder = folder.parent

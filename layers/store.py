"""The versioned layer store.

Each successful upload becomes a new version: its features go into a fresh table
``layer_data.<layer>_v<N>`` (loaded with COPY, indexed once), the version is recorded in
``layer_versions``, and ``layers.current_version_id`` plus the public view ``public.<layer>`` are
switched in the same transaction. Readers therefore see either the old version or the new one,
never a half-written one; old versions stay queryable and can be made current again.
Writers to one layer are serialised by a transaction-scoped advisory lock, waited for a bounded
time (``LockPolicy``); a waiting writer says whom it waits for."""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psycopg
import shapely
from psycopg import sql
from psycopg.types.json import Jsonb

from geoservice.kernel.errors import Problem
from geoservice.kernel.settings import Settings
from layers import copy_text
from layers.catalog import Layer
from layers.journal import journal  # the journal's writer lives there; callers use store.journal

SCHEMA = "layer_data"
log = logging.getLogger("geoservice.store")


def table_stem(layer: Layer) -> str:
    return layer.id.replace("-", "_")


def view_name(layer: Layer) -> sql.Identifier:
    return sql.Identifier("public", table_stem(layer))


def data_columns(layer: Layer) -> list[str]:
    return ["fid", "feature_id", *[a.name for a in layer.attributes], "extra", "geom"]


def create_table_sql(layer: Layer, table: str) -> sql.Composed:
    cols = [sql.SQL("fid bigint PRIMARY KEY"), sql.SQL("feature_id text NOT NULL UNIQUE")]
    cols += [sql.SQL("{} {}").format(sql.Identifier(a.name), sql.SQL(a.sql_type)) for a in layer.attributes]
    cols += [sql.SQL("extra jsonb"),
             sql.SQL("geom geometry({}, 4326) NOT NULL").format(sql.SQL(layer.geometry_type))]
    return sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(SCHEMA, table), sql.SQL(", ").join(cols))


@dataclass
class ValidatedFeatures:
    """What the store takes: features already validated (importers/validate.py), in EPSG:4326."""

    feature_ids: list[str]
    geometries: np.ndarray
    attributes: dict[str, list[Any]]
    extra: list[dict[str, Any] | None]
    source_crs: str | None
    transformation: str | None
    report: dict[str, Any] = field(default_factory=dict)
    ids_generated: bool = False  # True when ids are feature numbers, not the layer's key
    defaults: dict[str, Any] = field(default_factory=dict)  # values given for the whole file (JSON-safe)

    def __len__(self) -> int:
        return len(self.feature_ids)

    @property
    def bbox(self) -> list[float] | None:
        if len(self.geometries) == 0:
            return None
        return [float(v) for v in shapely.total_bounds(self.geometries)]


@dataclass
class VersionInfo:
    layer_id: str
    version: int
    table_name: str
    feature_count: int
    created_at: dt.datetime
    mode: str
    based_on: int | None
    authority: str | None
    source_file: str | None
    source_format: str | None
    checksum: str | None
    source_crs: str | None
    transformation: str | None
    bbox: list[float] | None
    report: dict[str, Any]
    defaults: dict[str, Any]  # attribute values the upload gave for the whole file
    # What the upload asked for (crs, encoding, mode, mapping, defaults): with the checksum, what
    # makes a re-sent file "the same". None for versions stored before it was recorded.
    options: dict[str, Any] | None = None
    # When the retention policy dropped the version's data (it stays listed, not restorable).
    pruned_at: dt.datetime | None = None
    current: bool = False
    unchanged: bool = False  # answered for an upload of the file that is already current

    def as_dict(self) -> dict[str, Any]:
        data = self.__dict__.copy()
        data["created_at"] = self.created_at.isoformat()
        for internal in ("options", "unchanged"):
            del data[internal]
        data["pruned"] = self.pruned_at is not None
        data["pruned_at"] = self.pruned_at.isoformat() if self.pruned_at else None
        return data


_SELECT_VERSION = ("SELECT v.layer_id, v.version, v.table_name, v.feature_count, v.created_at, v.mode, v.based_on, "
                   "v.authority, v.source_file, v.source_format, v.checksum, v.source_crs, v.transformation, "
                   "v.bbox, v.report, v.defaults, v.options, v.pruned_at FROM layer_versions v ")


@dataclass
class LockPolicy:
    """How a writer waits for its layer's lock. ``wait``: give up after this many seconds (409
    "being written by someone else"). ``stall``: a holder whose COPY received nothing from its
    client for this long (the client process was stopped) has its session ended, because the
    server cannot time that COPY out itself (statement_timeout is not checked while it waits
    for client data); 0 never does. ``on_wait(key, params)`` hears, as a message, that we wait
    and for whom, and when a stalled holder is stopped."""

    wait: float = 30.0
    stall: float = 20.0
    retry_after: int = 5
    on_wait: Callable[[str, dict[str, Any]], None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings,
                      on_wait: Callable[[str, dict[str, Any]], None] | None = None) -> LockPolicy:
        return cls(settings.lock_wait_seconds, settings.writer_stall_seconds, settings.retry_after_seconds, on_wait)


@dataclass(frozen=True)
class LockHolder:
    pid: int                       # the holder's backend
    application_name: str          # "geoservice <actor> pid <N>" for our writers
    since: dt.datetime | None      # its transaction's start
    waiting_for_client: bool       # in a COPY, waiting for data from its client
    copy_bytes: int | None         # what its COPY has received so far

    def describe(self) -> str:
        return f"{self.application_name or 'a session'} (backend {self.pid})"

    def params(self) -> dict[str, Any]:
        return {"holder": self.describe(),
                "since": self.since.isoformat(timespec="seconds") if self.since else "?"}


# Who holds the advisory lock of a key: pg_locks shows a bigint key as its high and low halves.
_HOLDER_SQL = (
    "WITH k AS (SELECT hashtextextended(%s, 0) AS k) "
    "SELECT a.pid, coalesce(a.application_name, ''), a.xact_start, "
    "a.wait_event = 'ClientRead' AND left(a.query, 4) = 'COPY', p.bytes_processed "
    "FROM k, pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "LEFT JOIN pg_stat_progress_copy p ON p.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND l.classid::bigint = (k.k >> 32) & 4294967295 AND l.objid::bigint = k.k & 4294967295")
_LOCK_SLICE = 1.0  # seconds of each blocking attempt between looks at the holder


def _holder(conn: psycopg.Connection, key: str) -> LockHolder | None:
    row = conn.execute(_HOLDER_SQL, (key,)).fetchone()
    return LockHolder(int(row[0]), row[1], row[2], bool(row[3]), row[4]) if row else None


def _lock(conn: psycopg.Connection, layer: Layer, actor: str, policy: LockPolicy | None) -> None:
    """Take the layer's write lock in the caller's transaction, or raise 409 after
    ``policy.wait`` seconds naming who holds it."""
    policy = policy or LockPolicy()
    key = f"layer:{layer.id}"
    # Name this session for whoever will wait for us (reverts at the end of the transaction).
    name = f"geoservice {actor} pid {os.getpid()}"[:63]
    row = conn.execute("SELECT set_config('application_name', %s, true), "
                       "pg_try_advisory_xact_lock(hashtextextended(%s, 0)), current_setting('lock_timeout')",
                       (name, key)).fetchone()
    assert row is not None
    if row[1]:
        return
    previous_timeout = row[2]
    deadline = time.monotonic() + policy.wait
    reported: LockHolder | None = None
    progress: tuple[int, int | None, float] | None = None  # holder pid, its COPY bytes, since when
    while True:
        holder = _holder(conn, key)
        now = time.monotonic()
        if holder is not None:
            if policy.on_wait and (reported is None or holder.pid != reported.pid):
                policy.on_wait("layer.lock_wait", {"layer": layer.id, "seconds": round(policy.wait),
                                                   **holder.params()})
            reported = holder
            if not holder.waiting_for_client or holder.copy_bytes is None:
                progress = None
            elif progress is None or progress[:2] != (holder.pid, holder.copy_bytes):
                progress = (holder.pid, holder.copy_bytes, now)
            elif policy.stall and now - progress[2] >= policy.stall:
                _end_stalled(conn, holder, layer, policy)
                progress = None
        remaining = deadline - now
        if remaining <= 0:
            params = reported.params() if reported else {"holder": "?", "since": "?"}
            raise Problem("layer.busy", 409, retry_after=policy.retry_after, layer=layer.id,
                          seconds=round(policy.wait), **params)
        try:
            # Blocking (handed the lock the moment it is free), in slices, inside a savepoint:
            # a slice that times out must not abort the writer's transaction.
            with conn.transaction():
                conn.execute("SELECT set_config('lock_timeout', %s, true)",
                             (f"{max(1, int(min(_LOCK_SLICE, remaining) * 1000))}ms",))
                conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))
        except psycopg.errors.LockNotAvailable:
            continue
        conn.execute("SELECT set_config('lock_timeout', %s, true)", (previous_timeout,))
        return


def _end_stalled(conn: psycopg.Connection, holder: LockHolder, layer: Layer, policy: LockPolicy) -> None:
    try:
        with conn.transaction():
            conn.execute("SELECT pg_terminate_backend(%s)", (holder.pid,))
    except psycopg.Error:  # not ours to end (another role): keep waiting, the wait is bounded
        return
    if policy.on_wait:
        policy.on_wait("layer.lock_stalled", {"layer": layer.id, "seconds": round(policy.stall), **holder.params()})


def _switch(conn: psycopg.Connection, layer: Layer, version_id: int, table: str) -> None:
    conn.execute("UPDATE layers SET current_version_id = %s, updated_at = now() WHERE id = %s",
                 (version_id, layer.id))
    # Delivered at commit: every server process refreshes this layer's state and tile cache.
    conn.execute("SELECT pg_notify('geoservice_layers', %s)", (layer.id,))
    # public.<layer> follows the version (in place when the columns match, so open sessions such
    # as QGIS on the database keep their view). The views belong to the schema's owner, not to
    # the service's role: the owner's function gs_switch_view (migration 0006) points them.
    conn.execute("SELECT gs_switch_view(%s, %s)", (layer.id, table))


def current_version(conn: psycopg.Connection, layer: Layer) -> VersionInfo | None:
    row = conn.execute(
        _SELECT_VERSION + "JOIN layers l ON l.current_version_id = v.id WHERE l.id = %s", (layer.id,)).fetchone()
    return VersionInfo(*row, current=True) if row else None


def list_versions(conn: psycopg.Connection, layer: Layer) -> list[VersionInfo]:
    current = current_version(conn, layer)
    rows = conn.execute(_SELECT_VERSION + "WHERE v.layer_id = %s ORDER BY v.version DESC", (layer.id,)).fetchall()
    return [VersionInfo(*r, current=current is not None and r[1] == current.version) for r in rows]


def get_version(conn: psycopg.Connection, layer: Layer, version: int) -> VersionInfo | None:
    row = conn.execute(_SELECT_VERSION + "WHERE v.layer_id = %s AND v.version = %s", (layer.id, version)).fetchone()
    return VersionInfo(*row) if row else None


# Hex EWKB header of a one-part MultiPolygon in EPSG:4326 (little endian, SRID flag set); a
# Polygon's hex WKB appended to it is that MultiPolygon, without building shapely objects.
_MULTI_HEADER = (bytes([1]) + (6 | 0x20000000).to_bytes(4, "little") + (4326).to_bytes(4, "little")).hex()
_ONE_PART = _MULTI_HEADER + (1).to_bytes(4, "little").hex()


def ewkb_hex_4326(geoms: np.ndarray) -> list[str]:
    """Hex EWKB (SRID 4326) of each geometry, Polygons written as one-part MultiPolygons."""
    wkb = shapely.to_wkb(geoms, byte_order=1)  # GEOS's own hex writer is 5x slower than bytes.hex
    is_polygon = shapely.get_type_id(geoms) == 3
    return [_ONE_PART + w.hex() if p else _MULTI_HEADER + w[5:].hex()
            for w, p in zip(wkb.tolist(), is_polygon.tolist(), strict=True)]


def _copy_formatter(layer: Layer, features: ValidatedFeatures, start_fid: int) -> Callable[[int, int], list[list[str]]]:
    formatters = [(copy_text.FORMATTERS[a.type], features.attributes[a.name]) for a in layer.attributes]

    def rows(lo: int, hi: int) -> list[list[str]]:
        columns = [[str(f) for f in range(start_fid + lo, start_fid + hi)],
                   copy_text.text_column(features.feature_ids[lo:hi])]
        columns += [fmt(values[lo:hi]) for fmt, values in formatters]
        columns += [copy_text.json_column(features.extra[lo:hi]), ewkb_hex_4326(features.geometries[lo:hi])]
        return columns

    return rows


def same_as_current(conn: psycopg.Connection, layer: Layer, checksum: str | None, options: dict[str, Any] | None, *,
                    actor: str, client: str | None = None, source_file: str | None = None) -> VersionInfo | None:
    """The current version when it was made from this very file (checksum) with the same options:
    sending it again changes nothing, so no version is made (journaled as 'unchanged')."""
    if checksum is None or options is None:
        return None
    current = current_version(conn, layer)
    if current is None or current.checksum != checksum or current.options != options:
        return None
    journal(conn, actor, "upload", "unchanged", layer_id=layer.id, version=current.version, client=client,
            detail={"file": source_file, "checksum": checksum})
    current.unchanged = True
    return current


def write_version(conn: psycopg.Connection, layer: Layer, features: ValidatedFeatures, *, mode: str,
                  actor: str, authority: str | None = None, token_id: int | None = None,
                  source_file: str | None = None, source_format: str | None = None,
                  checksum: str | None = None, client: str | None = None,
                  options: dict[str, Any] | None = None, lock: LockPolicy | None = None) -> VersionInfo:
    """Store ``features`` as the layer's next version and make it current, in the caller's
    transaction (commit makes it visible; any exception leaves the store as it was). With
    ``options`` given, a file that is already current with the same options makes no version:
    the current one is returned with ``unchanged`` set."""
    if mode not in ("replace", "append"):
        raise Problem("upload.bad_mode", 400, mode=mode)
    _lock(conn, layer, actor, lock)
    # Checked again under the lock: two identical uploads at once make one version.
    same = same_as_current(conn, layer, checksum, options, actor=actor, client=client, source_file=source_file)
    if same is not None:
        return same
    previous = current_version(conn, layer)
    row = conn.execute("SELECT coalesce(max(version), 0) + 1 FROM layer_versions WHERE layer_id = %s",
                       (layer.id,)).fetchone()
    assert row is not None
    version = int(row[0])
    table = f"{table_stem(layer)}_v{version}"
    target = sql.Identifier(SCHEMA, table)
    conn.execute(create_table_sql(layer, table))
    columns = data_columns(layer)
    column_list = sql.SQL(", ").join(map(sql.Identifier, columns))

    start_fid = 1
    if mode == "append" and previous is not None:
        # Append keeps every current feature whose id the upload does not bring again; an id
        # that comes again is an update of that feature.
        # Numbered ids (no key column) are new features, numbered on after the current ones.
        replaced = [] if features.ids_generated else features.feature_ids
        conn.execute(sql.SQL("INSERT INTO {t} ({c}) SELECT {c} FROM {p} WHERE NOT (feature_id = ANY(%s))").format(
            t=target, c=column_list, p=sql.Identifier(SCHEMA, previous.table_name)), (replaced,))
        row = conn.execute(sql.SQL("SELECT coalesce(max(fid), 0) + 1 FROM {}").format(target)).fetchone()
        assert row is not None
        start_fid = int(row[0])
        if features.ids_generated:
            features.feature_ids = [str(start_fid + i) for i in range(len(features))]

    try:
        with conn.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(target, column_list)) as copy:
            for chunk in copy_text.chunks(len(features), _copy_formatter(layer, features, start_fid)):
                copy.write(chunk)
    except psycopg.errors.UniqueViolation as exc:
        raise Problem("feature.id_clash", 409, layer=layer.id) from exc

    conn.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom)").format(target))
    # No ANALYZE here: it costs as much as the index on a large upload, the planner copes with
    # a fresh table's size estimate, and autovacuum analyses the table shortly after commit.
    if mode == "replace":
        total, bbox = len(features), features.bbox
    else:
        count_row = conn.execute(sql.SQL("SELECT count(*), ST_Extent(geom)::box2d::text FROM {}").format(
            target)).fetchone()
        assert count_row is not None
        total, bbox = int(count_row[0]), _parse_box(count_row[1])
    report = dict(features.report)
    report["features_in_file"] = len(features)
    vrow = conn.execute(
        "INSERT INTO layer_versions (layer_id, version, table_name, authority, token_id, mode, based_on, "
        "source_file, source_format, checksum, source_crs, transformation, feature_count, bbox, report, defaults, "
        "options) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id, created_at",
        (layer.id, version, table, authority, token_id, mode,
         previous.version if (previous and mode == "append") else None, source_file, source_format, checksum,
         features.source_crs, features.transformation, total, bbox, Jsonb(report),
         Jsonb(features.defaults), Jsonb(options) if options is not None else None)).fetchone()
    assert vrow is not None
    _switch(conn, layer, int(vrow[0]), table)
    journal(conn, actor, "upload", "ok", layer_id=layer.id, version=version, client=client,
            detail={"mode": mode, "features": total, "file": source_file, "checksum": checksum})
    return VersionInfo(layer.id, version, table, total, vrow[1], mode,
                       previous.version if (previous and mode == "append") else None, authority, source_file,
                       source_format, checksum, features.source_crs, features.transformation, bbox, report,
                       dict(features.defaults), options, None, current=True)


def _parse_box(text: str | None) -> list[float] | None:
    if not text:
        return None
    inner = text[text.index("(") + 1:text.rindex(")")]
    lo, hi = inner.split(",")
    return [float(v) for v in (*lo.split(), *hi.split())]


def pruned_problem(layer_id: str, version: int, pruned_at: dt.datetime) -> Problem:
    """410: the version's data is gone by the retention policy (vector and raster layers)."""
    return Problem("version.pruned", 410, layer=layer_id, version=version,
                   pruned_at=pruned_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))


def restore_version(conn: psycopg.Connection, layer: Layer, version: int, *, actor: str,
                    client: str | None = None, lock: LockPolicy | None = None) -> VersionInfo:
    """Make an earlier version current again (in the caller's transaction)."""
    _lock(conn, layer, actor, lock)
    row = conn.execute("SELECT id, table_name, pruned_at FROM layer_versions WHERE layer_id = %s AND version = %s",
                       (layer.id, version)).fetchone()
    if row is None:
        raise Problem("version.not_found", 404, layer=layer.id, version=version)
    if row[2] is not None:
        raise pruned_problem(layer.id, version, row[2])
    _switch(conn, layer, int(row[0]), row[1])
    journal(conn, actor, "restore", "ok", layer_id=layer.id, version=version, client=client)
    info = get_version(conn, layer, version)
    assert info is not None
    info.current = True
    return info


# --- retention ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Retention:
    """Keep the last ``keep_versions`` versions of a layer and every version made in the last
    ``keep_days`` days (and the current one, however old); drop the data of the others."""

    keep_versions: int
    keep_days: float


def prunable(conn: psycopg.Connection, layer: Layer, policy: Retention) -> list[VersionInfo]:
    """Versions beyond the policy whose data is still there, oldest first."""
    rows = conn.execute(
        "SELECT v.version FROM layer_versions v "
        "JOIN (SELECT id, row_number() OVER (ORDER BY version DESC) AS recent "
        "      FROM layer_versions WHERE layer_id = %s) r ON r.id = v.id "
        "WHERE v.pruned_at IS NULL AND r.recent > %s "
        "AND v.created_at < now() - make_interval(secs => %s) "
        "AND v.id IS DISTINCT FROM (SELECT current_version_id FROM layers WHERE id = %s) "
        "ORDER BY v.version",
        (layer.id, max(policy.keep_versions, 0), max(policy.keep_days, 0) * 86400.0, layer.id)).fetchall()
    found = [get_version(conn, layer, int(r[0])) for r in rows]
    return [v for v in found if v is not None]


def prune(conn: psycopg.Connection, layer: Layer, policy: Retention, *, actor: str, client: str | None = None,
          dry_run: bool = False, lock_timeout_ms: int | None = None) -> list[VersionInfo]:
    """Drop the data tables of the versions beyond ``policy`` (in the caller's transaction); they
    stay listed with ``pruned_at`` set. Returns them (with a dry run: the ones it would drop). A
    table that cannot be dropped now (a reader holds it past ``lock_timeout_ms``, or another
    object depends on it) is left for the next time."""
    # Best effort after an upload: wait for the layer's lock no longer than for the tables.
    wait = lock_timeout_ms / 1000 if lock_timeout_ms is not None else LockPolicy.wait
    _lock(conn, layer, actor, LockPolicy(wait=wait, stall=0))
    victims = prunable(conn, layer, policy)
    if dry_run or not victims:
        return victims
    if lock_timeout_ms is not None:
        conn.execute("SELECT set_config('lock_timeout', %s, true)", (f"{int(lock_timeout_ms)}ms",))
    pruned: list[VersionInfo] = []
    for info in victims:
        try:
            with conn.transaction():
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(SCHEMA, info.table_name)))
                row = conn.execute("UPDATE layer_versions SET pruned_at = now() WHERE layer_id = %s AND version = %s "
                                   "RETURNING pruned_at", (layer.id, info.version)).fetchone()
        except psycopg.errors.DatabaseError as exc:
            log.warning("version %s of %s not pruned now: %s", info.version, layer.id, exc)
            continue
        assert row is not None
        info.pruned_at = row[0]
        pruned.append(info)
    if pruned:
        journal(conn, actor, "prune", "ok", layer_id=layer.id, client=client,
                detail={"versions": [v.version for v in pruned], "keep_versions": policy.keep_versions,
                        "keep_days": policy.keep_days})
    return pruned

"""The licence registry: licences on parcels (blocks or a polygon), their valid-time history with
the basis of every change, and publishing them to the map.

Storage (migration 0014): ``licence_records`` (identity), ``licence_states`` (the whole licence as
it stood from ``valid_from`` to ``valid_to``), ``licence_changes`` (old and new values, basis,
who, when). Every write takes the registry's lock, journals ``licence.issue``/``licence.change``
(object ``licence:<number>``; the change feed reads these journal rows, numbered after commit)
and publishes the registry's current licences as the next version of the catalog layer
``licences``: the layers' own version switch and NOTIFY bring it to OGC API, tiles and styles.

``issue_licence`` is what turns an approved application into a licence."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
import shapely
from psycopg.types.json import Jsonb
from shapely.geometry import MultiPolygon, Polygon, shape

from cadastre import obligations
from geoservice.kernel.errors import Issue, Location, Problem
from layers import store
from layers.catalog import LICENCES
from layers.grid import DEFAULT_DATUM, BlockListError, blocks_geometry, parse_block_list
from layers.store import journal

KINDS = ("exploration", "mining", "geological-study", "common-minerals")
STATUSES = ("active", "suspended", "terminated", "expired")
# What a change may touch (issued_on and the number never change: a new licence is a new number).
CHANGEABLE = ("holder", "kind", "mineral", "blocks", "geometry", "term_until", "conditions", "status")
TWELVE_DIGITS = re.compile(r"^[0-9]{12}$")
LOCK_KEY = "licences"
# Publishing makes a layer version per change: the history is in licence_states, so the layer
# keeps only a few versions (the previous ones for readers that are mid-request).
RETENTION = store.Retention(keep_versions=3, keep_days=0)
PRUNE_LOCK_MS = 2000
MAX_ISSUES = 100
MAX_LIMIT = 1000

Basis = int | str  # a document id of the document store, or a reference text


@dataclass(frozen=True)
class LicenceFilter:
    holder: str | None = None    # an IIN/BIN (exact) or part of the holder's name (any case)
    kind: str | None = None
    mineral: str | None = None   # any case
    status: str | None = None    # as of the date asked (an active licence past its term is expired)
    bbox: tuple[float, float, float, float] | None = None  # W, S, E, N in EPSG:4326


# --- values -----------------------------------------------------------------------------------

def today(conn: psycopg.Connection) -> dt.date:
    """Today in Kazakhstan (dates of the registry are Almaty dates)."""
    row = conn.execute("SELECT (now() AT TIME ZONE 'Asia/Almaty')::date").fetchone()
    assert row is not None
    return row[0]


def _kind(value: str) -> str:
    # An application's kind ("exploration-licence") names the licence it asks for.
    kind = value.strip().removesuffix("-licence")
    if kind not in KINDS:
        raise Problem("licences.bad_value", 422, field="kind", value=value[:80], allowed=", ".join(KINDS))
    return kind


def _status(value: str) -> str:
    if value not in STATUSES:
        raise Problem("licences.bad_value", 422, field="status", value=value[:80], allowed=", ".join(STATUSES))
    return value


def _holder(holder: Mapping[str, Any]) -> dict[str, str | None]:
    iin, bin_, name = holder.get("iin"), holder.get("bin"), str(holder.get("name") or "").strip()
    if (iin is None) == (bin_ is None) or not TWELVE_DIGITS.match(str(iin or bin_)):
        raise Problem("licences.bad_holder", 422, field="holder")
    if not name:
        raise Problem("licences.missing", 422, field="holder.name")
    return {"holder_iin": iin, "holder_bin": bin_, "holder_name": name[:500]}


def _codes(blocks: str | Sequence[str]) -> list[str]:
    texts = [blocks] if isinstance(blocks, str) else list(blocks)
    codes: list[str] = []
    for text in texts:
        codes += parse_block_list(str(text))
    codes = list(dict.fromkeys(codes))
    if not codes:
        raise Problem("licences.missing", 422, field="blocks")
    return codes


def _polygon(geometry: Mapping[str, Any] | str | shapely.Geometry) -> MultiPolygon:
    try:
        if isinstance(geometry, str):
            geom = shapely.from_wkt(geometry)
        elif isinstance(geometry, shapely.Geometry):
            geom = geometry
        else:
            geom = shape(geometry)
    except (shapely.errors.ShapelyError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise Problem("licences.bad_geometry", 422, field="geometry", reason=str(exc)[:200]) from None
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    if not isinstance(geom, MultiPolygon) or geom.is_empty:
        raise Problem("licences.bad_geometry", 422, field="geometry", reason=geom.geom_type)
    if not geom.is_valid:
        raise Problem("licences.bad_geometry", 422, field="geometry", reason=shapely.is_valid_reason(geom))
    bounds = geom.bounds
    if not (-180 <= bounds[0] <= bounds[2] <= 180 and -90 <= bounds[1] <= bounds[3] <= 90):
        raise Problem("licences.bad_geometry", 422, field="geometry", reason="outside lon/lat")
    return geom


def _parcel(blocks: str | Sequence[str] | None, geometry: Any, datum: str) -> tuple[list[str], MultiPolygon]:
    if (blocks is None) == (geometry is None):
        raise Problem("licences.blocks_or_geometry", 422, field="blocks")
    if blocks is not None:
        codes = _codes(blocks)
        return codes, blocks_geometry(codes, datum=datum)
    return [], _polygon(geometry)


def _basis(conn: psycopg.Connection, basis: Basis) -> tuple[int | None, str | None]:
    if isinstance(basis, int) and not isinstance(basis, bool):
        if conn.execute("SELECT 1 FROM documents WHERE id = %s", (basis,)).fetchone() is None:
            raise Problem("licences.basis_unknown", 422, field="basis", document=basis)
        return basis, None
    text = str(basis or "").strip()
    if not text or len(text) > 1000:
        raise Problem("licences.missing", 422, field="basis")
    return None, text


def _basis_text(reference: tuple[int | None, str | None]) -> str:
    return reference[1] if reference[1] is not None else f"document {reference[0]}"


def _geojson(geom: MultiPolygon) -> dict[str, Any]:
    return json.loads(shapely.to_geojson(shapely.set_precision(geom, 1e-9)))


def _lock(conn: psycopg.Connection) -> None:
    # One writer of the registry at a time: a change reads the open state and closes it.
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (LOCK_KEY,))


# --- writing ----------------------------------------------------------------------------------

_STATE_COLUMNS = ("holder_iin", "holder_bin", "holder_name", "kind", "mineral", "blocks", "issued_on",
                  "term_until", "conditions", "status")


def _insert_state(conn: psycopg.Connection, number: str, valid_from: dt.date, state: dict[str, Any],
                  geom: MultiPolygon) -> None:
    conn.execute(
        "INSERT INTO licence_states (number, valid_from, holder_iin, holder_bin, holder_name, kind, mineral, "
        "blocks, issued_on, term_until, conditions, status, geom) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, ST_GeomFromWKB(%s, 4326))",
        (number, valid_from, *(Jsonb(state[c]) if c == "conditions" else state[c] for c in _STATE_COLUMNS),
         shapely.to_wkb(geom)))


def _record_change(conn: psycopg.Connection, number: str, action: str, effective_on: dt.date,
                   changes: dict[str, Any], basis: tuple[int | None, str | None], actor: str,
                   client: str | None) -> int:
    row = conn.execute(
        "INSERT INTO licence_changes (number, effective_on, action, changes, basis_document, basis_text, actor) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (number, effective_on, action, Jsonb(changes), basis[0], basis[1], actor)).fetchone()
    assert row is not None
    journal(conn, actor, f"licence.{action}", "ok", object=f"licence:{number}", client=client,
            detail={"change": int(row[0]), "effective_on": effective_on.isoformat(),
                    "fields": sorted(changes)})
    return int(row[0])


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _issue(conn: psycopg.Connection, *, number: str, holder: Mapping[str, Any], kind: str, mineral: str | None,
           blocks: str | Sequence[str] | None, geometry: Any, issued_on: dt.date, term_until: dt.date | None,
           conditions: Mapping[str, Any] | None, source: str, basis: Basis, actor: str, client: str | None,
           status: str, datum: str) -> None:
    number = str(number).strip()
    if not number or len(number) > 100 or any(ord(ch) < 32 for ch in number):
        raise Problem("licences.bad_value", 422, field="number", value=number[:80], allowed="1-100 characters")
    if term_until is not None and term_until < issued_on:
        raise Problem("licences.term_before_issue", 422, field="term_until")
    codes, geom = _parcel(blocks, geometry, datum)
    state = {**_holder(holder), "kind": _kind(kind), "mineral": (mineral or "").strip() or None, "blocks": codes,
             "issued_on": issued_on, "term_until": term_until, "conditions": dict(conditions or {}),
             "status": _status(status)}
    reference = _basis(conn, basis)
    if conn.execute("SELECT 1 FROM licence_records WHERE number = %s", (number,)).fetchone():
        raise Problem("licences.exists", 409, number=number)
    conn.execute("INSERT INTO licence_records (number, source) VALUES (%s, %s)", (number, str(source)[:200]))
    _insert_state(conn, number, issued_on, state, geom)
    changes = {k: {"old": None, "new": _jsonable(v)} for k, v in state.items()}
    changes["geometry"] = {"old": None, "new": _geojson(geom)}
    changes["source"] = {"old": None, "new": str(source)[:200]}
    _record_change(conn, number, "issue", issued_on, changes, reference, actor, client)
    obligations.recompute(conn, number, actor=actor, basis=_basis_text(reference))


def issue_licence(conn: psycopg.Connection, *, number: str, holder: Mapping[str, Any], kind: str,
                  mineral: str | None, blocks: str | Sequence[str] | None = None, geometry: Any = None,
                  issued_on: dt.date, term_until: dt.date | None, conditions: Mapping[str, Any] | None = None,
                  source: str, basis: Basis, actor: str, client: str | None = None, status: str = "active",
                  datum: str = DEFAULT_DATUM, publish_now: bool = True) -> dict[str, Any]:
    """Record a new licence, in the caller's transaction, and publish it to the map (it is served
    once the caller commits). ``holder``: ``{"iin"|"bin": "…", "name": "…"}``; the parcel is
    ``blocks`` (a list text like ``L-43-63-(10а-5б-14,15)``, or codes / list texts) or
    ``geometry`` (GeoJSON, WKT or shapely; EPSG:4326); ``kind`` is one of ``KINDS`` (an
    application kind such as ``exploration-licence`` is taken too); ``source``: the application
    number (or ``import``); ``basis``: a document id of the document store or a reference text.
    Returns the licence as ``get_licence`` answers it. ``publish_now=False`` leaves publishing to
    one ``publish()`` call after several licences in one transaction (one layer version for all)."""
    _lock(conn)
    _issue(conn, number=number, holder=holder, kind=kind, mineral=mineral, blocks=blocks, geometry=geometry,
           issued_on=issued_on, term_until=term_until, conditions=conditions, source=source, basis=basis,
           actor=actor, client=client, status=status, datum=datum)
    if publish_now:
        publish(conn, actor=actor, client=client)
    found = get_licence(conn, str(number).strip())
    assert found is not None
    return found


def change_licence(conn: psycopg.Connection, number: str, changes: Mapping[str, Any], *, basis: Basis,
                   actor: str, effective_on: dt.date | None = None, client: str | None = None,
                   datum: str = DEFAULT_DATUM) -> dict[str, Any]:
    """Change a licence from ``effective_on`` (default today; not before its current state began,
    not in the future), in the caller's transaction: the current state is closed and a new one
    opened, the fields' old and new values are recorded with ``basis`` and ``actor``, and the
    map is republished. ``changes`` may hold ``holder``, ``kind``, ``mineral``, ``blocks`` or
    ``geometry``, ``term_until``, ``conditions``, ``status``."""
    _lock(conn)
    unknown = sorted(set(changes) - set(CHANGEABLE))
    if unknown:
        raise Problem("licences.bad_value", 422, field="changes", value=unknown[0][:80], allowed=", ".join(CHANGEABLE))
    row = conn.execute(
        "SELECT id, valid_from, holder_iin, holder_bin, holder_name, kind, mineral, blocks, issued_on, term_until, "
        "conditions, status, ST_AsBinary(geom) FROM licence_states WHERE number = %s AND valid_to IS NULL FOR UPDATE",
        (number,)).fetchone()
    if row is None:
        raise Problem("licences.not_found", 404, number=number[:100])
    state_id, valid_from = row[0], row[1]
    old = dict(zip(_STATE_COLUMNS, row[2:12], strict=True))
    old_geom = shapely.from_wkb(row[12])
    if old["status"] == "terminated":
        raise Problem("licences.terminated", 409, number=number)
    on = effective_on or today(conn)
    if on < valid_from or on > today(conn):
        raise Problem("licences.bad_effective_date", 422, field="effective_on", value=on.isoformat(),
                      since=valid_from.isoformat())
    new = dict(old)
    geom = old_geom
    if "holder" in changes:
        new.update(_holder(changes["holder"]))
    if "kind" in changes:
        new["kind"] = _kind(str(changes["kind"]))
    if "mineral" in changes:
        new["mineral"] = (str(changes["mineral"] or "")).strip() or None
    if "status" in changes:
        new["status"] = _status(str(changes["status"]))
    if "conditions" in changes:
        if not isinstance(changes["conditions"], Mapping):
            raise Problem("licences.bad_value", 422, field="conditions", value="", allowed="a JSON object")
        new["conditions"] = dict(changes["conditions"])
    if "term_until" in changes:
        term = changes["term_until"]
        new["term_until"] = dt.date.fromisoformat(term) if isinstance(term, str) else term
        if new["term_until"] is not None and new["term_until"] < new["issued_on"]:
            raise Problem("licences.term_before_issue", 422, field="term_until")
    if "blocks" in changes or "geometry" in changes:
        new["blocks"], geom = _parcel(changes.get("blocks"), changes.get("geometry"), datum)
    diff = {k: {"old": _jsonable(old[k]), "new": _jsonable(new[k])} for k in _STATE_COLUMNS if old[k] != new[k]}
    if not geom.equals(old_geom):
        diff["geometry"] = {"old": _geojson(old_geom), "new": _geojson(geom)}
    if not diff:
        raise Problem("licences.no_change", 422, number=number)
    reference = _basis(conn, basis)
    # The open state ends where the new one begins (an empty range when both start the same day).
    conn.execute("UPDATE licence_states SET valid_to = %s WHERE id = %s", (on, state_id))
    _insert_state(conn, number, on, new, geom)
    _record_change(conn, number, "change", on, diff, reference, actor, client)
    obligations.recompute(conn, number, actor=actor, basis=_basis_text(reference), effective_on=on)
    publish(conn, actor=actor, client=client)
    found = get_licence(conn, number)
    assert found is not None
    return found


def publish(conn: psycopg.Connection, *, actor: str, client: str | None = None) -> store.VersionInfo:
    """Make the registry's current licences (the open states) the next version of the layer
    ``licences`` (in the caller's transaction; switched and NOTIFYed at commit, like an upload)."""
    rows = conn.execute(
        "SELECT s.number, s.holder_name, coalesce(s.holder_iin, s.holder_bin), s.kind, s.mineral, s.status, "
        "s.blocks, s.issued_on, s.term_until, r.source, ST_AsBinary(s.geom) FROM licence_states s "
        "JOIN licence_records r USING (number) WHERE s.valid_to IS NULL ORDER BY s.number").fetchall()
    names = ("number", "holder_name", "holder_id", "kind", "mineral", "status", "blocks", "issued_on",
             "term_until", "source")
    attributes: dict[str, list[Any]] = {n: [] for n in names}
    for r in rows:
        for i, n in enumerate(names):
            attributes[n].append(", ".join(r[i]) if n == "blocks" else r[i])
    geoms = np.array([shapely.from_wkb(r[10]) for r in rows], dtype=object)
    features = store.ValidatedFeatures(
        feature_ids=[r[0] for r in rows], geometries=geoms, attributes=attributes, extra=[None] * len(rows),
        source_crs="EPSG:4326", transformation=None)
    info = store.write_version(conn, LICENCES, features, mode="replace", actor=actor, source_format="licences",
                               source_file="licence registry", client=client)
    store.prune(conn, LICENCES, RETENTION, actor=actor, client=client, lock_timeout_ms=PRUNE_LOCK_MS)
    return info


# --- reading ----------------------------------------------------------------------------------

_SELECT = (
    "SELECT s.number, s.holder_iin, s.holder_bin, s.holder_name, s.kind, s.mineral, s.blocks, s.issued_on, "
    "s.term_until, s.conditions, "
    # An active licence past its term is expired as of that day.
    "CASE WHEN s.status = 'active' AND s.term_until < %(at)s THEN 'expired' ELSE s.status END AS status, "
    "r.source, s.valid_from, ST_AsGeoJSON(s.geom, 9)::json, ST_XMin(s.geom), ST_YMin(s.geom), ST_XMax(s.geom), "
    "ST_YMax(s.geom) FROM licence_states s JOIN licence_records r USING (number) "
    "WHERE s.valid_from <= %(at)s AND (s.valid_to IS NULL OR s.valid_to > %(at)s)")


def _licence(row: Sequence[Any]) -> dict[str, Any]:
    holder = {"iin": row[1]} if row[1] else {"bin": row[2]}
    holder["name"] = row[3]
    return {
        "number": row[0], "holder": holder, "kind": row[4], "mineral": row[5], "blocks": list(row[6]),
        "issued_on": row[7].isoformat(), "term_until": row[8].isoformat() if row[8] else None,
        "conditions": row[9], "status": row[10], "source": row[11], "state_since": row[12].isoformat(),
        "bbox": [row[14], row[15], row[16], row[17]], "geometry": row[13],
    }


def licences_at(conn: psycopg.Connection, at: dt.date | None = None, filters: LicenceFilter | None = None, *,
                after: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The licences as they stood on ``at`` (default today), filtered, ordered by number; keyset
    paging: ``after`` is the last number of the previous page."""
    f = filters or LicenceFilter()
    params: dict[str, Any] = {"at": at or today(conn), "limit": max(1, min(limit, MAX_LIMIT))}
    where = ""
    if f.holder:
        params["holder"] = f.holder
        params["holder_like"] = "%" + f.holder.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where += (" AND (s.holder_iin = %(holder)s OR s.holder_bin = %(holder)s "
                  "OR s.holder_name ILIKE %(holder_like)s)")
    if f.kind:
        params["kind"] = f.kind
        where += " AND s.kind = %(kind)s"
    if f.mineral:
        params["mineral"] = f.mineral
        where += " AND lower(s.mineral) = lower(%(mineral)s)"
    if f.bbox:
        params.update(w=f.bbox[0], s=f.bbox[1], e=f.bbox[2], n=f.bbox[3])
        where += " AND ST_Intersects(s.geom, ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326))"
    if after is not None:
        params["after"] = after
        where += " AND s.number COLLATE \"C\" > %(after)s"
    query = f"SELECT * FROM ({_SELECT}{where}) q"  # noqa: S608 - fixed SQL, values are parameters
    if f.status:
        params["status"] = f.status
        query += " WHERE q.status = %(status)s"
    query += " ORDER BY q.number COLLATE \"C\" LIMIT %(limit)s"
    return [_licence(r) for r in conn.execute(query, params).fetchall()]


def iter_licences(conn: psycopg.Connection, at: dt.date | None = None, filters: LicenceFilter | None = None,
                  page: int = MAX_LIMIT) -> Iterator[dict[str, Any]]:
    """Every licence matching, page by page (for the bulk downloads)."""
    after: str | None = None
    while True:
        rows = licences_at(conn, at, filters, after=after, limit=page)
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1]["number"]


def history(conn: psycopg.Connection, number: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT id, at, effective_on, action, changes, basis_document, basis_text, actor FROM licence_changes "
        "WHERE number = %s ORDER BY id", (number,)).fetchall()
    return [{"change": r[0], "at": r[1].isoformat(), "effective_on": r[2].isoformat(), "action": r[3],
             "changes": r[4], "basis": {"document": r[5], "text": r[6]}, "actor": r[7]} for r in rows]


def get_licence(conn: psycopg.Connection, number: str, at: dt.date | None = None) -> dict[str, Any] | None:
    """The licence as it stood on ``at`` (default today) with its whole change history; None when
    there is no such licence on that day."""
    row = conn.execute(_SELECT + " AND s.number = %(number)s",
                       {"at": at or today(conn), "number": number}).fetchone()
    if row is None:
        return None
    return {**_licence(row), "history": history(conn, number)}


def feed(conn: psycopg.Connection, since: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    """Changes recorded after journal row ``since``, in journal order (rows are numbered after
    they commit, so a mirror that asks again from its last number misses nothing)."""
    rows = conn.execute(
        "SELECT j.seq, j.at, c.number, c.action, c.effective_on, c.changes, c.basis_document, c.basis_text, "
        "c.actor, c.id FROM journal j JOIN licence_changes c ON c.id = (j.detail->>'change')::bigint "
        "WHERE j.action LIKE 'licence.%%' AND j.seq > %s AND j.result = 'ok' ORDER BY j.seq LIMIT %s",
        (since, max(1, min(limit, MAX_LIMIT)))).fetchall()
    return [{"seq": r[0], "at": r[1].isoformat(), "number": r[2], "action": r[3], "effective_on": r[4].isoformat(),
             "changes": r[5], "basis": {"document": r[6], "text": r[7]}, "actor": r[8], "change": r[9]}
            for r in rows]


# --- importing the existing registry ---------------------------------------------------------

REQUIRED_COLUMNS = ("number", "holder_name", "kind", "issued_on", "status")
KNOWN_COLUMNS = ("number", "holder_iin", "holder_bin", "holder_name", "kind", "mineral", "blocks", "wkt",
                 "issued_on", "term_until", "status")


@dataclass
class _Row:
    line: int
    values: dict[str, Any]


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def parse_import(text: str, file_name: str, datum: str = DEFAULT_DATUM) -> list[_Row]:
    """The rows of a registry CSV, or a problem naming every faulty row and column."""
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in KNOWN_COLUMNS]
    if missing or unknown or ("holder_iin" not in header and "holder_bin" not in header) or \
            ("blocks" not in header and "wkt" not in header) or len(set(header)) != len(header):
        raise Problem("licences.import_header", 422, location=Location(file=file_name),
                      expected=", ".join(KNOWN_COLUMNS), found=", ".join(header)[:300])
    issues: list[Issue] = []
    rows: list[_Row] = []
    seen: dict[str, int] = {}

    def fault(key: str, line: int, column: str, **params: object) -> None:
        issues.append(Issue(key, {"line": line, "column": column, **params}, Location(file=file_name, field=column)))

    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            fault("licences.import_columns", line, "-", count=len(cells), expected=len(header))
            continue
        v = {h: c.strip() for h, c in zip(header, cells, strict=True)}
        before = len(issues)
        out: dict[str, Any] = {"number": v["number"], "mineral": v.get("mineral") or None}
        if not v["number"]:
            fault("licences.import_empty", line, "number")
        elif v["number"] in seen:
            fault("licences.import_duplicate", line, "number", value=v["number"], first=seen[v["number"]])
        iin, bin_ = v.get("holder_iin", ""), v.get("holder_bin", "")
        if bool(iin) == bool(bin_):
            fault("licences.import_holder", line, "holder_iin/holder_bin")
        elif not TWELVE_DIGITS.match(iin or bin_):
            fault("licences.import_bad_id", line, "holder_iin" if iin else "holder_bin", value=(iin or bin_)[:40])
        if not v["holder_name"]:
            fault("licences.import_empty", line, "holder_name")
        out["holder"] = {"iin": iin} if iin else {"bin": bin_}
        out["holder"]["name"] = v["holder_name"]
        kind = v["kind"].removesuffix("-licence")
        if kind not in KINDS:
            fault("licences.import_value", line, "kind", value=v["kind"][:80], allowed=", ".join(KINDS))
        out["kind"] = kind
        if v["status"] not in STATUSES:
            fault("licences.import_value", line, "status", value=v["status"][:80], allowed=", ".join(STATUSES))
        out["status"] = v["status"]
        for column in ("issued_on", "term_until"):
            if not v.get(column):
                if column == "issued_on":
                    fault("licences.import_empty", line, column)
                out[column] = None
                continue
            try:
                out[column] = _date(v[column])
            except ValueError:
                fault("licences.import_date", line, column, value=v[column][:40])
        if out.get("issued_on") and out.get("term_until") and out["term_until"] < out["issued_on"]:
            fault("licences.import_term", line, "term_until")
        blocks, wkt = v.get("blocks", ""), v.get("wkt", "")
        if bool(blocks) == bool(wkt):
            fault("licences.import_parcel", line, "blocks/wkt")
        elif blocks:
            try:
                out["blocks"] = parse_block_list(blocks)
                out["geometry"] = None
                if not out["blocks"]:
                    fault("licences.import_empty", line, "blocks")
            except BlockListError as exc:
                fault("licences.import_blocks", line, "blocks", token=exc.token[:40], position=exc.position)
        else:
            try:
                out["geometry"], out["blocks"] = _polygon(wkt), None
            except Problem as exc:
                fault("licences.import_wkt", line, "wkt", reason=str(exc.params.get("reason", ""))[:200])
        if len(issues) == before:
            seen[v["number"]] = line
            rows.append(_Row(line, out))
        if len(issues) >= MAX_ISSUES:
            break
    if not rows and not issues:
        raise Problem("licences.import_no_rows", 422, location=Location(file=file_name))
    if issues:
        raise Problem("licences.import_invalid", 422, issues=issues, location=Location(file=file_name),
                      count=len(issues))
    return rows


def import_licences(conn: psycopg.Connection, data: bytes, file_name: str, *, actor: str = "cli",
                    client: str | None = "cli", datum: str = DEFAULT_DATUM) -> int:
    """Add the licences of a registry CSV, in the caller's transaction: every row or, on any fault,
    none (the refusal is journaled: commit it before passing the error on). Returns how many."""
    checksum = hashlib.sha256(data).hexdigest()
    try:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise Problem("licences.import_not_utf8", 422, location=Location(file=file_name),
                          offset=exc.start) from None
        rows = parse_import(text, file_name, datum)
        _lock(conn)
        taken = {r[0] for r in conn.execute("SELECT number FROM licence_records WHERE number = ANY(%s)",
                                            ([r.values["number"] for r in rows],)).fetchall()}
        clashes = [Issue("licences.import_exists", {"line": r.line, "column": "number", "value": r.values["number"]},
                         Location(file=file_name, field="number")) for r in rows if r.values["number"] in taken]
        if clashes:
            raise Problem("licences.import_invalid", 422, issues=clashes[:MAX_ISSUES],
                          location=Location(file=file_name), count=len(clashes))
    except Problem as problem:
        journal(conn, actor, "licence.import", "rejected", object="licences", client=client,
                detail={"file": file_name, "sha256": checksum, "problem": problem.key, "faults": len(problem.issues)})
        raise
    basis = f"import of {file_name} (sha256 {checksum})"
    for r in rows:
        v = r.values
        _issue(conn, number=v["number"], holder=v["holder"], kind=v["kind"], mineral=v["mineral"],
               blocks=v["blocks"], geometry=v["geometry"], issued_on=v["issued_on"], term_until=v["term_until"],
               conditions=None, source="import", basis=basis, actor=actor, client=client, status=v["status"],
               datum=datum)
    publish(conn, actor=actor, client=client)
    journal(conn, actor, "licence.import", "ok", object="licences", client=client,
            detail={"file": file_name, "sha256": checksum, "licences": len(rows)})
    return len(rows)

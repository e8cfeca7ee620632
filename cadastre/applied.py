"""The applied-for blocks on the public map (issue 9): the blocks under pending claims, one feature
per application, published as the next version of the catalog layer ``applied-blocks``, the way
cadastre/licences.py publishes licences: the layers' version switch and NOTIFY bring it to OGC API,
tiles (new cache keys) and styles at commit.

Called in the transaction that changes claims: a filing that claims blocks
(cadastre/applications.py) and a run that finishes granted or refused (cadastre/workbench.py), so
the map changes exactly when the claim does, or not at all.

Public content only: the application's number, kind, receipt time and whether it was filed in an
area's opening month (equal priority); never the applicant."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import psycopg

from layers import store
from layers.catalog import APPLIED_BLOCKS
from layers.grid import DEFAULT_DATUM, blocks_geometry

# A version per change: the claims table is the history, the layer keeps the previous versions
# only for readers that are mid-request.
RETENTION = store.Retention(keep_versions=3, keep_days=0)
PRUNE_LOCK_MS = 2000

PENDING = (
    "SELECT a.number, a.kind, a.received_at, a.in_window, array_agg(c.code ORDER BY c.code) "
    "FROM application_claims c JOIN applications a ON a.id = c.application_id "
    "WHERE c.state = 'pending' GROUP BY a.id ORDER BY a.id")


def _received(moment: dt.datetime) -> str:
    # RFC 3339 in UTC with microseconds (as the filing's answer): the receipt time decides priority.
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def features(rows: Sequence[Sequence[Any]], datum: str) -> store.ValidatedFeatures:
    names = ("number", "kind", "received_at", "in_window", "priority", "blocks", "block_count")
    attributes: dict[str, list[Any]] = {n: [] for n in names}
    geoms = []
    for number, kind, received_at, in_window, codes in rows:
        values = (number, kind, _received(received_at), bool(in_window), "window" if in_window else "queue",
                  ", ".join(codes), len(codes))
        for name, value in zip(names, values, strict=True):
            attributes[name].append(value)
        geoms.append(blocks_geometry(codes, datum=datum))
    return store.ValidatedFeatures(
        feature_ids=[r[0] for r in rows], geometries=np.array(geoms, dtype=object), attributes=attributes,
        extra=[None] * len(rows), source_crs="EPSG:4326", transformation=None)


def publish_applied(conn: psycopg.Connection, *, actor: str, client: str | None = None,
                    datum: str = DEFAULT_DATUM) -> store.VersionInfo:
    """Make the blocks of every pending claim the next version of ``applied-blocks`` (in the
    caller's transaction; switched and NOTIFYed at commit, like an upload)."""
    rows = conn.execute(PENDING).fetchall()
    info = store.write_version(conn, APPLIED_BLOCKS, features(rows, datum), mode="replace", actor=actor,
                               source_format="applications", source_file="pending applications", client=client)
    store.prune(conn, APPLIED_BLOCKS, RETENTION, actor=actor, client=client, lock_timeout_ms=PRUNE_LOCK_MS)
    return info

"""The applied-for blocks on the public map (issue 9): the blocks under pending claims, one feature
per application, published as the next version of the catalog layer ``applied-blocks`` the way
cadastre/licences.py publishes licences, so the layers' version switch and NOTIFY bring them to
OGC API, tiles (new cache keys) and styles.

Not in the filing's transaction: filings are serialised from the number on
(cadastre/applications.py), and a layer version (a table, its index, the switch, pruning) there
doubled the filing time of 200 equal-priority applicants. A transaction that changes claims (a
filing that claims blocks, a run finishing granted or refused in cadastre/workbench.py) calls
``claims_changed``: a NOTIFY, sent at its commit. Each server process listens and publishes
(geoservice/applied_watch.py), a burst of filings making one version; ``publish_if_changed``
compares a digest of the pending claims with the current version's, so a process that was late,
or a poll, publishes nothing twice.

Public content only: the application's number, kind, receipt time and whether it was filed in an
area's opening month (equal priority); never the applicant."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import psycopg

from cadastre import derived_layers
from layers import store
from layers.catalog import APPLIED_BLOCKS
from layers.grid import DEFAULT_DATUM, blocks_geometry

CHANNEL = "applied_blocks"
# The pending claims' digest: the published content follows from it (an application's kind,
# receipt time and window never change while its claims are pending).
DIGEST = ("SELECT md5(coalesce(string_agg(a.number || '/' || c.code, ',' ORDER BY a.number, c.code), '')) "
          "FROM application_claims c JOIN applications a ON a.id = c.application_id WHERE c.state = 'pending'")
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


def claims_changed(conn: psycopg.Connection) -> None:
    """Tell the map's publishers, at this transaction's commit, that pending claims changed."""
    conn.execute("SELECT pg_notify(%s, '')", (CHANNEL,))


def digest(conn: psycopg.Connection) -> str:
    row = conn.execute(DIGEST).fetchone()
    assert row is not None
    return str(row[0])


def derived(datum: str = DEFAULT_DATUM) -> derived_layers.DerivedLayer:
    """The layer as cadastre/derived_layers.py publishes it: the pending claims' blocks in ``datum``."""
    return derived_layers.DerivedLayer(
        APPLIED_BLOCKS, digest, lambda conn: features(conn.execute(PENDING).fetchall(), datum),
        source_format="applications", source_file="pending applications")


def publish_if_changed(conn: psycopg.Connection, *, actor: str = "system", datum: str = DEFAULT_DATUM
                       ) -> store.VersionInfo | None:
    """Publish the pending claims when they differ from what the current version shows."""
    return derived_layers.publish_if_changed(conn, derived(datum), actor=actor)

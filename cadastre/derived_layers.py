"""Catalog layers made from the platform's own tables rather than uploaded: the applied-for blocks
(cadastre/applied.py) and the auction lots (cadastre/auction_lots.py). Each is published as the
next version of its layer, so the layers' version switch and NOTIFY bring it to OGC API, tiles
and styles like any upload, and only when what it shows changed: a digest of its content is kept
as the version's checksum and compared under the layer's lock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from layers import store
from layers.catalog import Layer

# A version per change: the source table is the history, the layer keeps the previous versions
# only for readers that are mid-request.
RETENTION = store.Retention(keep_versions=3, keep_days=0)
PRUNE_LOCK_MS = 2000
EMPTY_DIGEST = "d41d8cd98f00b204e9800998ecf8427e"  # md5 of '': nothing to show


@dataclass(frozen=True)
class DerivedLayer:
    layer: Layer
    digest: Callable[[psycopg.Connection], str]                       # md5 of what the layer shows
    features: Callable[[psycopg.Connection], store.ValidatedFeatures]  # what it shows now
    source_format: str
    source_file: str


def publish(conn: psycopg.Connection, derived: DerivedLayer, *, actor: str, client: str | None = None
            ) -> store.VersionInfo:
    """Make the layer's content the next version (in the caller's transaction; switched and
    NOTIFYed at commit, like an upload)."""
    # The digest before the rows: a change committed in between is then in the rows but not in the
    # stored digest, so the next look publishes again (the other order could miss it for good).
    checksum = derived.digest(conn)
    info = store.write_version(conn, derived.layer, derived.features(conn), mode="replace", actor=actor,
                               source_format=derived.source_format, source_file=derived.source_file,
                               checksum=checksum, client=client)
    store.prune(conn, derived.layer, RETENTION, actor=actor, client=client, lock_timeout_ms=PRUNE_LOCK_MS)
    return info


def publish_if_changed(conn: psycopg.Connection, derived: DerivedLayer, *, actor: str = "system"
                       ) -> store.VersionInfo | None:
    """Publish when the content differs from what the current version shows (checked again under
    the layer's lock, so two processes woken by one change make one version)."""
    # Publishers queue here (until commit), then each sees what the one before it committed.
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"publish:{derived.layer.id}",))
    current = store.current_version(conn, derived.layer)
    now = derived.digest(conn)
    if current is not None and current.checksum == now:
        return None
    if current is None and now == EMPTY_DIGEST:
        return None  # nothing was ever there: no empty layer in the collections
    return publish(conn, derived, actor=actor)

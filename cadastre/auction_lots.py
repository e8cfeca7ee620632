"""Auction lots on the public map (issue 10 follow-up): the lots being sold, published as the next
version of the catalog layer ``auction-lots`` the way cadastre/applied.py publishes the applied-for
blocks, so the layers' version switch and NOTIFY bring them to OGC API, tiles and styles.

On the layer: lots ``published`` (registration open) and ``open`` (bidding); a lot that closes,
fails or is cancelled leaves it. A trigger on ``auctions`` (migration 0028) sends a NOTIFY on
``auction_lots`` at the commit of any transaction that puts a lot up or changes what the layer
shows (status, name, start, end, figures): the officer's ``create_auction``, the ticker's
``open_due`` and closing, an extension moving the end. The trigger rather than calls in those
places, so no path that changes a lot (the ticker, the demo, the CLI) can forget the map. Each
server process listens and publishes (geoservice/lots_watch.py); ``publish_if_changed`` compares
a digest of the lots' public content with the current version's, so nothing is published twice.

Public content only: number, name, status, kind, mineral, start, end, starting bonus, step and
the blocks; never who asked for the lot, who registered, the leader or the bids."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import psycopg
import shapely

from cadastre.auction_journal import money, stamp
from layers import store
from layers.catalog import AUCTION_LOTS

# A version per change: the auctions table is the history, the layer keeps the previous versions
# only for readers that are mid-request.
RETENTION = store.Retention(keep_versions=3, keep_days=0)
PRUNE_LOCK_MS = 2000

CHANNEL = "auction_lots"
ON_MAP = ("published", "open")
# Everything the layer shows, so that any change of it (and only that) makes a new version.
# Times as epochs: the digest must not depend on a session's TimeZone.
_ROW = ("concat_ws('|', a.number, a.status, a.name, a.kind, a.mineral, extract(epoch FROM a.starts_at), "
        "extract(epoch FROM a.ends_at), a.starting_bonus, a.step, array_to_string(a.codes, ','), "
        "md5(ST_AsBinary(a.geom)))")
DIGEST = (f"SELECT md5(coalesce(string_agg({_ROW}, ',' ORDER BY a.number), '')) "  # noqa: S608 - constants only
          "FROM auctions a WHERE a.status = ANY(%s)")
EMPTY_DIGEST = "d41d8cd98f00b204e9800998ecf8427e"  # md5 of ''
LOTS = ("SELECT a.number, a.name, a.status, a.kind, a.mineral, a.starts_at, a.ends_at, a.starting_bonus, a.step, "
        "a.codes, a.block_count, ST_AsBinary(a.geom) FROM auctions a WHERE a.status = ANY(%s) ORDER BY a.id")
NAMES = ("name", "status", "kind", "mineral", "starts_at", "ends_at", "starting_bonus", "step", "blocks",
         "block_count")


def features(rows: Sequence[Sequence[Any]]) -> store.ValidatedFeatures:
    attributes: dict[str, list[Any]] = {n: [] for n in ("number", *NAMES)}
    geoms = []
    for number, name, status, kind, mineral, starts_at, ends_at, bonus, step, codes, blocks, wkb in rows:
        # Times and amounts as GET /api/auctions gives them (RFC 3339 UTC, two-decimal strings).
        values = (number, name, status, kind, mineral, stamp(starts_at), stamp(ends_at), money(bonus), money(step),
                  ", ".join(codes), int(blocks))
        for key, value in zip(("number", *NAMES), values, strict=True):
            attributes[key].append(value)
        geoms.append(shapely.from_wkb(bytes(wkb)))
    return store.ValidatedFeatures(
        feature_ids=[r[0] for r in rows], geometries=np.array(geoms, dtype=object), attributes=attributes,
        extra=[None] * len(rows), source_crs="EPSG:4326", transformation=None)


def digest(conn: psycopg.Connection) -> str:
    row = conn.execute(DIGEST, (list(ON_MAP),)).fetchone()
    assert row is not None
    return str(row[0])


def publish_lots(conn: psycopg.Connection, *, actor: str, client: str | None = None) -> store.VersionInfo:
    """Make the lots being sold the next version of ``auction-lots`` (in the caller's
    transaction; switched and NOTIFYed at commit, like an upload)."""
    # The digest before the rows: a change committed in between is then in the rows but not in
    # the stored digest, so the next look publishes again (the other order could miss it).
    checksum = digest(conn)
    rows = conn.execute(LOTS, (list(ON_MAP),)).fetchall()
    info = store.write_version(conn, AUCTION_LOTS, features(rows), mode="replace", actor=actor,
                               source_format="auctions", source_file="auction lots", checksum=checksum,
                               client=client)
    store.prune(conn, AUCTION_LOTS, RETENTION, actor=actor, client=client, lock_timeout_ms=PRUNE_LOCK_MS)
    return info


def publish_if_changed(conn: psycopg.Connection, *, actor: str = "system") -> store.VersionInfo | None:
    """Publish when the lots differ from what the current version shows (checked again under the
    layer's lock, so two processes woken by one change make one version)."""
    # Publishers queue here (until commit), then each sees what the one before it committed.
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"publish:{AUCTION_LOTS.id}",))
    current = store.current_version(conn, AUCTION_LOTS)
    now = digest(conn)
    if current is not None and current.checksum == now:
        return None
    if current is None and now == EMPTY_DIGEST:
        return None  # no lot was ever put up: no empty layer in the collections
    return publish_lots(conn, actor=actor)

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

from cadastre import derived_layers
from cadastre.auction_journal import money, stamp
from layers import store
from layers.catalog import AUCTION_LOTS

CHANNEL = "auction_lots"
ON_MAP = ("published", "open")
# Everything the layer shows, so that any change of it (and only that) makes a new version.
# Times as epochs: the digest must not depend on a session's TimeZone.
_ROW = ("concat_ws('|', a.number, a.status, a.name, a.kind, a.mineral, extract(epoch FROM a.starts_at), "
        "extract(epoch FROM a.ends_at), a.starting_bonus, a.step, array_to_string(a.codes, ','), "
        "md5(ST_AsBinary(a.geom)))")
DIGEST = (f"SELECT md5(coalesce(string_agg({_ROW}, ',' ORDER BY a.number), '')) "  # noqa: S608 - constants only
          "FROM auctions a WHERE a.status = ANY(%s)")
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


LOTS_LAYER = derived_layers.DerivedLayer(
    AUCTION_LOTS, digest, lambda conn: features(conn.execute(LOTS, (list(ON_MAP),)).fetchall()),
    source_format="auctions", source_file="auction lots")


def publish_if_changed(conn: psycopg.Connection, *, actor: str = "system") -> store.VersionInfo | None:
    """Publish the lots being sold when they differ from what the current version shows."""
    return derived_layers.publish_if_changed(conn, LOTS_LAYER, actor=actor)

"""What a parcel overlaps beyond the layers (issue 9): active licences, pending applications and
lots at auction, as overlap sources of ``cadastre.parcels`` (so ``POST /api/parcels/check``
answers them before anyone files), and the blocks they hold as claims (so the programme's free
blocks leave them out). Registered when imported (geoservice/api/parcels.py imports it).

Each overlap comes with its geometry: the licence's part inside the parcel, or the parcel's
blocks that the application or lot holds."""

from __future__ import annotations

import json
from typing import Any

import psycopg
from psycopg import sql

from cadastre.parcels import Overlap, ParcelSQL, overlap_source, register_claims

DIGITS = 6
SHOWN_BLOCKS = 50


def _geojson(text: str | None) -> dict[str, Any] | None:
    return json.loads(text) if text else None


@overlap_source
def active_licences(conn: psycopg.Connection, parcel: ParcelSQL) -> list[Overlap]:
    """Licences in force (active or suspended) whose area the parcel's interior meets: a refusal."""
    if conn.execute("SELECT to_regclass('public.licence_states') IS NULL").fetchone()[0]:  # type: ignore[index]
        return []
    query = sql.SQL("""
        WITH p AS (SELECT {geom} AS g)
        SELECT s.number, s.holder_name, ST_AsGeoJSON(ST_CollectionExtract(ST_Intersection(s.geom, p.g), 3), {digits}),
               ST_Area(ST_Intersection(s.geom, p.g)::geography) / 1e6
        FROM licence_states s, p
        WHERE s.valid_to IS NULL AND s.status IN ('active', 'suspended')
          AND s.geom && p.g AND ST_Relate(s.geom, p.g, 'T********')
        ORDER BY s.number""").format(geom=parcel.geom, digits=sql.Literal(DIGITS))
    return [Overlap("licence", "refusal", "parcel.overlaps_licence", {"number": number}, _geojson(geometry),
                    id=number, name=holder, area_km2=round(float(area), 4))
            for number, holder, geometry, area in conn.execute(query, parcel.params).fetchall()]


@overlap_source
def pending_applications(conn: psycopg.Connection, parcel: ParcelSQL) -> list[Overlap]:
    """Applications still being decided that hold some of the parcel's blocks: a refusal (they
    came first), naming the application and its receipt time; with the blocks' geometry."""
    query = sql.SQL("""
        WITH b AS ({blocks}),
        held AS (
          SELECT a.number, a.received_at, c.code, b.geom
          FROM application_claims c JOIN applications a ON a.id = c.application_id JOIN b ON b.code = c.code
          WHERE c.state = 'pending' AND c.code = ANY({codes}))
        SELECT number, received_at, array_agg(code ORDER BY code), count(*),
               ST_AsGeoJSON(ST_Multi(ST_Union(geom)), {digits})
        FROM held GROUP BY number, received_at ORDER BY received_at""").format(
        blocks=parcel.blocks, codes=parcel.codes, digits=sql.Literal(DIGITS))
    return [Overlap("application", "refusal", "parcel.overlaps_application",
                    {"number": number, "received_at": received.isoformat(timespec="microseconds")},
                    _geojson(geometry), id=number, blocks=list(codes[:SHOWN_BLOCKS]), block_count=int(count))
            for number, received, codes, count, geometry in conn.execute(query, parcel.params).fetchall()]


@overlap_source
def lots_at_auction(conn: psycopg.Connection, parcel: ParcelSQL) -> list[Overlap]:
    """Lots formed for auction (blocks several window applicants want) that hold some of the
    parcel's blocks: a refusal; the blocks go to the auction."""
    query = sql.SQL("""
        WITH b AS ({blocks}),
        held AS (
          SELECT l.id, b.code, b.geom FROM lots l CROSS JOIN LATERAL unnest(l.codes) AS lc(code)
          JOIN b ON b.code = lc.code
          WHERE l.status IN ('forming', 'auction') AND lc.code = ANY({codes}))
        SELECT id, array_agg(code ORDER BY code), count(*), ST_AsGeoJSON(ST_Multi(ST_Union(geom)), {digits})
        FROM held GROUP BY id ORDER BY id""").format(
        blocks=parcel.blocks, codes=parcel.codes, digits=sql.Literal(DIGITS))
    return [Overlap("lot", "refusal", "parcel.overlaps_lot", {"lot": lot_id}, _geojson(geometry), id=str(lot_id),
                    blocks=list(codes[:SHOWN_BLOCKS]), block_count=int(count))
            for lot_id, codes, count, geometry in conn.execute(query, parcel.params).fetchall()]


# Blocks pending or granted to an application are not free in the programme.
register_claims(sql.SQL("SELECT code FROM application_claims WHERE state IN ('pending', 'granted')"))

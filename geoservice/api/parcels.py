"""Parcels before anyone files: ``POST /api/parcels/check`` (area, blocks, contiguity, overlaps)
and the state subsoil fund programme's areas with their free blocks, ``GET /api/programme``.
Both public. The work is in cadastre/parcels.py."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from cadastre import parcel_conflicts
from cadastre.parcels import OVERLAP_SOURCES, check_parcel, parse_parcel, programme_areas
from geoservice.deps import PUBLIC, DatabaseDep, SettingsDep
from geoservice.kernel import clock
from geoservice.kernel.errors import Location, Problem
from geoservice.kernel.i18n import negotiate

# Licences, pending applications and lots are overlaps too: importing the module registers them.
assert parcel_conflicts.active_licences in OVERLAP_SOURCES

router = APIRouter(prefix="/api", tags=["parcels"])

MAX_AREAS = 100
MAX_AREA_BLOCKS = 1000


def _today() -> dt.date:
    """The day in Kazakhstan: zones and programme areas change by its calendar dates."""
    return clock.today_in_kazakhstan()


def _body(raw: bytes) -> Any:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Problem("parcel.body", 400, location=Location(field="parcel")) from None
    if not isinstance(body, dict) or "parcel" not in body:
        raise Problem("parcel.body", 400, location=Location(field="parcel"))
    return body["parcel"]


@router.post("/parcels/check", dependencies=[PUBLIC], summary="Check a parcel: area, blocks, contiguity, overlaps",
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "required": ["parcel"], "properties": {"parcel": {"type": "object", "properties": {
                     "blocks": {"description": "a block list like L-43-63-(10а-5б-14,15), or an array of codes "
                                               "and lists"},
                     "geometry": {"type": "object", "description": "GeoJSON Polygon or MultiPolygon (CRS84)"}}}}}}}}})
async def check(request: Request, db: DatabaseDep, settings: SettingsDep) -> dict[str, Any]:
    """``{"parcel": {"blocks": ...} | {"geometry": ...}}`` → area (km²), blocks (count, codes),
    contiguity, overlaps (restriction zones, outside the programme's open areas, and whatever the
    registered sources add), each with its geometry and a message in the request's language;
    ``ok`` when none refuses."""
    parcel = parse_parcel(_body(await request.body()), boundary_tolerance_deg=settings.boundary_tolerance_deg)
    lang = negotiate(request.headers.get("accept-language"))

    def work() -> dict[str, Any]:
        with db.connection() as conn:
            return check_parcel(conn, parcel, grid_datum=settings.grid_datum, today=_today()).as_dict(lang)

    return await run_in_threadpool(work)


def _int(name: str, value: str | None, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise Problem("programme.bad_parameter", 400, location=Location(field=name), parameter=name,
                      value=value[:40], expected=f"{low}–{high}")
    return int(value)


@router.get("/programme", dependencies=[PUBLIC], summary="The state subsoil fund programme: areas and free blocks")
def programme(request: Request, db: DatabaseDep, settings: SettingsDep, limit: str | None = None,
              after: str | None = None, blocks: str | None = None) -> dict[str, Any]:
    """The programme's areas (subsoil plots of kind ``fund-area`` not closed), by id: ``limit``
    (1–100, 20) areas after the id ``after`` (the ``next`` link carries it), each with its
    opening date (``valid_from``), whether it is open now, its blocks and the free ones
    (``blocks``: 0–1000 codes listed per area, 200)."""
    size = _int("limit", limit, 20, 1, MAX_AREAS)
    shown = _int("blocks", blocks, 200, 0, MAX_AREA_BLOCKS)
    if after is not None and ("\x00" in after or len(after) > 200 or not after.isprintable()):
        raise Problem("programme.bad_parameter", 400, location=Location(field="after"), parameter="after",
                      value=after[:40].encode("unicode_escape").decode(), expected="an area id")
    with db.connection() as conn:
        areas, total = programme_areas(conn, grid_datum=settings.grid_datum, today=_today(), after=after,
                                       limit=size + 1, blocks_limit=shown)
    more = len(areas) > size
    areas = areas[:size]
    nxt = None
    if more:
        query = {"limit": size, "blocks": shown, "after": areas[-1].id}
        nxt = f"{request.url.path}?{urlencode(query)}"
    return {"areas": [a.as_dict() for a in areas], "count": len(areas), "total": total, "next": nxt,
            "collection": "/ogc/collections/subsoil-plots/items?kind=fund-area"}

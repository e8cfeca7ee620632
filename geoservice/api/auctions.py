"""Auction lots (issue 10): the public list (also as GeoJSON, the map's auction layer) and one lot,
an officer putting a lot up, and signed registrations (cadastre/auctions.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from cadastre import auctions
from cadastre.payments import TablePayments
from cadastre.registers import TableRegisters
from geoservice.api.base64_field import decode_base64
from geoservice.deps import PUBLIC, DatabaseDep, ReaderDep, SettingsDep, admits
from geoservice.kernel import clock
from geoservice.kernel.db import Database
from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import negotiate
from geoservice.kernel.settings import Settings
from geoservice.trust import trust_cache
from layers.access import Person, client_address
from layers.store import journal

router = APIRouter(prefix="/api", tags=["auctions"])
MAX_LIMIT = 200
GEOJSON = "application/geo+json"


def _positive(request: Request, name: str, default: int | None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise Problem("auctions.bad_cursor", 400, parameter=name)
    return int(raw)


@router.get("/auctions", dependencies=[PUBLIC],
            summary="Auction lots, newest first (?status=, ?limit=, ?cursor=; ?f=geojson: the map layer)")
def list_auctions(request: Request, db: DatabaseDep) -> Any:
    limit = min(_positive(request, "limit", 50) or 50, MAX_LIMIT)
    before = _positive(request, "cursor", None)
    status = request.query_params.get("status") or None
    with db.connection() as conn:
        page = auctions.list_auctions(conn, status=status, limit=limit, before=before)
    cursor = page.pop("next")
    if request.query_params.get("f") == "geojson":
        collection = auctions.as_geojson(page)
        if cursor:
            collection["links"] = [{"rel": "next", "type": GEOJSON,
                                    "href": str(request.url.include_query_params(cursor=cursor))}]
        return JSONResponse(collection, media_type=GEOJSON)
    page["next"] = str(request.url.include_query_params(cursor=cursor)) if cursor else None
    return page


@router.get("/auctions/{auction}", dependencies=[PUBLIC],
            summary="One lot by id or number; a signed-in registrant also sees their own participant number")
def get_auction(auction: str, request: Request, db: DatabaseDep, who: ReaderDep) -> dict[str, Any]:
    person = who if isinstance(who, Person) else None
    with db.connection() as conn:
        return auctions.get_auction(conn, auction, person, lang=negotiate(request.headers.get("accept-language")))


def _create(db: Database, settings: Settings, body: Any, who: Person, client: str | None) -> dict[str, Any]:
    with db.connection() as conn:
        try:
            return auctions.create_auction(conn, body, caller=who, defaults=auctions.Defaults.from_settings(settings),
                                           now=clock.now(), grid_datum=settings.grid_datum, client=client)
        except Problem as problem:
            conn.rollback()
            journal(conn, who.actor, "auction.create", "rejected", client=client,
                    detail={"problem": problem.key, "status": problem.status})
            conn.commit()
            raise


@router.post("/auctions", status_code=201,
             summary="Put a lot up for auction (an officer of the competent authority): a window lot or a parcel")
async def create_auction(request: Request, response: Response, db: DatabaseDep, settings: SettingsDep,
                         body: Any = Body(...), who: Person = admits("officer")) -> dict[str, Any]:
    created = await run_in_threadpool(_create, db, settings, body, who, client_address(request))
    response.headers["Location"] = f"/api/auctions/{created['number']}"
    return created


def _signature(value: Any) -> bytes:
    return decode_base64(value, "auctions.bad_signature")


def _register(request: Request, db: Database, auction: str, body: Any, who: Person, lang: str,
              client: str | None) -> tuple[dict[str, Any], bool]:
    with db.connection() as conn:
        try:
            if not isinstance(body, dict) or set(body) != {"registration", "signature"}:
                raise Problem("auctions.bad_registration", 422)
            signature = _signature(body["signature"])
            trust, revocation = trust_cache(request).get(conn)
            return auctions.register_participant(
                conn, auction, body["registration"], signature, caller=who, trust=trust, revocation=revocation,
                now=clock.now(), registers=TableRegisters(conn), payments=TablePayments(conn), lang=lang,
                client=client)
        except Problem as problem:
            # A refused registration leaves nothing behind but its journal row.
            conn.rollback()
            journal(conn, who.actor, "auction.register", "rejected", object=f"auction:{auction[:40]}", client=client,
                    detail={"problem": problem.key, "status": problem.status,
                            "reasons": [i.key for i in problem.issues]})
            conn.commit()
            raise


@router.post("/auctions/{auction}/registrations", status_code=201,
             summary="Register for an auction: a detached CMS over the RFC 8785 JSON of `registration`")
async def register_for_auction(auction: str, request: Request, response: Response, db: DatabaseDep,
                               body: Any = Body(...), who: Person = admits("applicant")) -> dict[str, Any]:
    lang = negotiate(request.headers.get("accept-language"))
    answer, created = await run_in_threadpool(_register, request, db, auction, body, who, lang,
                                              client_address(request))
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"/api/auctions/{answer['auction']}"
    return answer

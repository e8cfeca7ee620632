"""E-applications: filing a signed application, the caller's list, one application with what
was signed (cadastre/applications.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request, Response
from fastapi.concurrency import run_in_threadpool

from cadastre import applications
from cadastre.registers import TableRegisters
from geoservice.api.base64_field import decode_base64
from geoservice.deps import DatabaseDep, SettingsDep, admits
from geoservice.kernel import clock
from geoservice.kernel.db import Database
from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import negotiate
from geoservice.kernel.settings import Settings
from geoservice.trust import trust_cache
from layers.access import Person, client_address
from layers.store import journal

router = APIRouter(prefix="/api", tags=["applications"])
# Everyone signed in is an applicant; officers, admins and auditors read through the same routes.
SIGNED_IN = admits("applicant")
MAX_LIMIT = 100


def _signature(value: Any) -> bytes:
    return decode_base64(value, "applications.bad_signature")


def _file(request: Request, db: Database, settings: Settings, body: dict[str, Any], who: Person,
          client: str | None) -> applications.Filed:
    with db.connection() as conn:
        try:
            if set(body) - {"application", "signature"} or "application" not in body:
                raise Problem("applications.not_an_object", 422)
            signature = _signature(body.get("signature"))
            trust, revocation = trust_cache(request).get(conn)
            return applications.file_application(
                conn, body["application"], signature, caller=who, trust=trust, revocation=revocation,
                now=clock.now(), registers=TableRegisters(conn), datum=settings.grid_datum, client=client)
        except Problem as problem:
            # A malformed request leaves nothing behind but its journal row.
            conn.rollback()
            journal(conn, who.actor, "application.file", "rejected", client=client,
                    detail={"problem": problem.key, "status": problem.status})
            conn.commit()
            raise


@router.post("/applications", status_code=201,
             summary="File a signed application: a detached CMS over the RFC 8785 JSON of `application`")
async def file_application(request: Request, response: Response, db: DatabaseDep, settings: SettingsDep,
                           body: dict[str, Any] = Body(...), who: Person = SIGNED_IN) -> dict[str, Any]:
    filed = await run_in_threadpool(_file, request, db, settings, body, who, client_address(request))
    response.headers["Location"] = f"/api/applications/{filed.number}"
    return filed.answer(negotiate(request.headers.get("accept-language")))


def _positive(request: Request, name: str, default: int | None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise Problem("applications.bad_cursor", 400, parameter=name)
    return int(raw)


@router.get("/applications", summary="The caller's applications (officers: those routed to their authority; "
                                     "admins and auditors: all), newest first")
def list_applications(request: Request, db: DatabaseDep, who: Person = SIGNED_IN) -> dict[str, Any]:
    limit = min(_positive(request, "limit", 50) or 50, MAX_LIMIT)
    before = _positive(request, "cursor", None)
    with db.connection() as conn:
        page = applications.list_applications(conn, who, lang=negotiate(request.headers.get("accept-language")),
                                              limit=limit, before=before)
    cursor = page.pop("next")
    page["next"] = str(request.url.include_query_params(cursor=cursor)) if cursor else None
    return page


@router.get("/applications/{number}", summary="One application with its signed canonical JSON, signature, "
                                             "verification, claims and lots")
def get_application(number: str, request: Request, db: DatabaseDep, who: Person = SIGNED_IN) -> dict[str, Any]:
    with db.connection() as conn:
        try:
            return applications.get_application(conn, who, number, client=client_address(request),
                                                lang=negotiate(request.headers.get("accept-language")))
        except Problem:
            conn.commit()  # the refusal's journal row
            raise

"""Officers' signed decisions on a licence's obligations (cadastre/obligation_decisions.py):
record one (met, waived, open again) and list them with what was signed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.concurrency import run_in_threadpool

from cadastre import obligation_decisions, reports
from geoservice.api.workbench import decode_signature
from geoservice.deps import DatabaseDep, admits
from geoservice.kernel import clock
from geoservice.kernel.db import Database
from geoservice.kernel.errors import Problem
from geoservice.trust import trust_cache
from layers.access import Person, client_address
from layers.store import journal

router = APIRouter(prefix="/api", tags=["obligations"])
DECIDERS = admits("officer", "admin")
SIGNED_IN = admits("applicant")


def _decide(request: Request, db: Database, number: str, key: str, body: Any, who: Person) -> dict[str, Any]:
    client = client_address(request)
    with db.connection() as conn:
        try:
            if not isinstance(body, dict) or set(body) - {"decision", "signature"} or "decision" not in body:
                raise Problem("obligation_decisions.bad_decision", 422, field="body")
            signature = decode_signature(body.get("signature"))
            trust, revocation = trust_cache(request).get(conn)
            decided = obligation_decisions.decide(conn, number, key, body["decision"], signature, caller=who,
                                                  trust=trust, revocation=revocation, now=clock.now(),
                                                  today=clock.today_in_kazakhstan())
            journal(conn, who.actor, "obligations.decide", "ok", object=f"obligations:{number[:100]}", client=client,
                    detail={"key": key[:100], "status": decided["status"], "decision": decided["id"]})
            return decided
        except Problem as problem:
            # A refused decision changes nothing; its journal row stays.
            conn.rollback()
            journal(conn, who.actor, "obligations.decide", "rejected", object=f"obligations:{number[:100]}",
                    client=client, detail={"key": key[:100], "problem": problem.key, "status": problem.status})
            conn.commit()
            raise


@router.post("/licences/{number}/obligations/{key}/decisions", status_code=201,
             summary="An officer of the licence's authority records, signed, that an obligation is met, waived or "
                     "open again: {decision: {licence, obligation, status, basis, effective_on, document, "
                     "amount_kzt}, signature} with a detached CMS over the RFC 8785 JSON of the decision")
async def post_decision(number: str, key: str, request: Request, db: DatabaseDep, body: Any = Body(...),
                        who: Person = DECIDERS) -> dict[str, Any]:
    return await run_in_threadpool(_decide, request, db, number, key, body, who)


@router.get("/licences/{number}/obligations/decisions",
            summary="The licence's signed obligation decisions with what was signed and the signature (its holder, "
                    "the officers of its authority, admins and auditors)")
def list_decisions(number: str, db: DatabaseDep, who: Person = SIGNED_IN) -> dict[str, Any]:
    with db.connection() as conn:
        licence = reports.licence_of(conn, number)
        if licence is None:
            raise Problem("licences.not_found", 404, number=number[:100])
        if not reports.may_read(who, licence):
            raise Problem("obligation_decisions.not_your_authority", 403, licence=number[:100])
        return {"licence": number, "decisions": obligation_decisions.decisions(conn, number)}

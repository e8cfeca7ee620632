"""The obligation checker's findings (issue 11): a licence's findings for its holder and its
authority, the holder's obligations at a glance, and an officer's findings under supervision.
The public licence answer (api/licences.py) carries the due and overdue ones already."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from cadastre import obligation_findings
from geoservice.deps import DatabaseDep, admits
from geoservice.kernel.i18n import negotiate
from layers.access import Person

router = APIRouter(prefix="/api", tags=["findings"])
# Everyone signed in (as api/reports.py); who may read a licence's findings is checked inside.
SIGNED_IN = admits("applicant")
SUPERVISORS = admits("officer", "admin", "auditor")


def _lang(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


@router.get("/licences/{number}/findings",
            summary="A licence's findings (coming due, overdue, deviations of its reports) with their status and "
                    "message (its holder, the officers of its authority, admins and auditors)")
def licence_findings(number: str, request: Request, db: DatabaseDep, who: Person = SIGNED_IN) -> dict[str, Any]:
    with db.connection() as conn:
        return obligation_findings.licence_findings(conn, who, number, _lang(request))


@router.get("/obligations/mine",
            summary="The licences the signed-in account holds, with their pending obligations and open findings")
def my_obligations(request: Request, db: DatabaseDep, who: Person = SIGNED_IN) -> dict[str, Any]:
    with db.connection() as conn:
        return obligation_findings.holder_overview(conn, who, _lang(request))


@router.get("/obligations/supervised",
            summary="Open findings of the licences of the officer's authorities, newest first "
                    "(admins and auditors: of every licence)")
def supervised(request: Request, db: DatabaseDep, who: Person = SUPERVISORS) -> dict[str, Any]:
    with db.connection() as conn:
        return obligation_findings.supervised(conn, who, _lang(request))

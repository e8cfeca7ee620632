"""Holders' reports of work and spend (cadastre/reports.py, issue 11): a licence's reports for
its holder and its authority's officers, and the licences the caller may report on. A report is
filed as a signed application of kind ``obligation-report`` (POST /api/applications) and decided
through the workbench (POST /api/applications/{number}/decisions)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from cadastre import reports, workbench
from geoservice.deps import DatabaseDep, admits
from geoservice.kernel.i18n import negotiate
from layers.access import Person

# Importing cadastre.reports registers its hook: a decision on a report updates the report.
assert reports.report_decided in workbench.ON_DECIDED

router = APIRouter(prefix="/api", tags=["reports"])
# Everyone signed in (officers, admins and auditors too); who may read what is checked inside.
SIGNED_IN = admits("applicant")


@router.get("/reports/licences", summary="The licences the signed-in account holds (it may report on them)")
def my_licences(request: Request, db: DatabaseDep, who: Person = SIGNED_IN) -> dict[str, Any]:
    with db.connection() as conn:
        return {"licences": reports.my_licences(conn, who)}


@router.get("/licences/{number}/reports",
            summary="A licence's reports of work and spend with their status and the reason of a return "
                    "(its holder, the officers of its authority, admins and auditors)")
def licence_reports(number: str, request: Request, db: DatabaseDep, who: Person = SIGNED_IN) -> dict[str, Any]:
    with db.connection() as conn:
        return reports.list_reports(conn, who, number, lang=negotiate(request.headers.get("accept-language")))

"""An approved application becomes a licence (issue 9): the workbench's ``on_granted`` hook issues
it in the deciding transaction, so the licence, its history row and the map's new version commit
with the officer's last signed decision, or not at all.

Which kinds make a licence, and for how long, is data (``LICENCE_TERMS``). The Subsoil Code's
terms: an exploration licence for solid minerals is issued for six years, a geological study
licence for up to six, a mining licence for up to twenty-five (the applicant may ask for less;
the application's ``term_years`` is honoured within the maximum). Other kinds (pledge
registration, the seed-003 services, the recognition) end in their decision, not in a licence.
Imported by the app edge (geoservice/api/workbench.py) so that the hook is registered."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import shapely.geometry

from cadastre.licences import issue_licence
from cadastre.parcels import parse_parcel
from cadastre.workbench import GrantedApplication, on_granted
from geoservice.kernel import clock

# kind -> the longest term in years (the applicant may ask for a shorter one).
LICENCE_TERMS: dict[str, int] = {
    "exploration-licence": 6,
    "geological-study-licence": 6,
    "mining-licence": 25,
}


def licence_number(application_number: str) -> str:
    """``APP-2026-000123`` → ``LIC-2026-000123``: the licence keeps its application's number."""
    return "LIC-" + application_number.removeprefix("APP-")


def _holder(conn: psycopg.Connection, granted: GrantedApplication) -> dict[str, Any]:
    row = conn.execute("SELECT name, organisation FROM accounts WHERE id = %s", (granted.account_id,)).fetchone()
    name, organisation = row if row else (None, None)
    if granted.applicant_bin:
        return {"bin": granted.applicant_bin, "name": organisation or name}
    return {"iin": granted.applicant_iin, "name": name}


def _term_until(issued_on: dt.date, kind: str, application: dict[str, Any]) -> dt.date:
    longest = LICENCE_TERMS[kind]
    asked = application.get("term_years")
    years = min(longest, asked) if isinstance(asked, int) and not isinstance(asked, bool) and asked > 0 else longest
    try:
        return issued_on.replace(year=issued_on.year + years) - dt.timedelta(days=1)
    except ValueError:  # 29 February
        return issued_on.replace(year=issued_on.year + years, day=28)


@on_granted
def licence_from_application(conn: psycopg.Connection, granted: GrantedApplication) -> None:
    if granted.kind not in LICENCE_TERMS:
        return
    issued_on = granted.granted_at.astimezone(clock.KAZAKHSTAN).date()
    parcel = granted.application.get("parcel") or {}
    geometry = parcel.get("geometry") if not granted.blocks else None
    if geometry is None and not granted.blocks and "corners" in parcel:
        # A corner-point table: the polygon it describes, in WGS 84, as the parcel check read it.
        geometry = shapely.geometry.mapping(parse_parcel({"corners": parcel["corners"]}).geometry)
    issue_licence(conn, number=licence_number(granted.number), holder=_holder(conn, granted), kind=granted.kind,
                  mineral=granted.mineral, blocks=granted.blocks or None, geometry=geometry,
                  issued_on=issued_on, term_until=_term_until(issued_on, granted.kind, granted.application),
                  conditions={"application": granted.number}, source=granted.number,
                  basis=f"application {granted.number}: the approving decision of {granted.granted_by}",
                  actor=granted.granted_by, client=None)

"""What becomes of a window lot's applications when its auction does not happen (open_due):
cancelled for a single requester, the right goes to that requester, whose application goes on
(its claims on the lot's blocks stay pending) while the others' claims on those blocks are
released; failed for want of any participant, every one of the lot's applications gives up its
claims on the lot's blocks (their claims elsewhere stay). Both settle in open_due's own
transaction, and the protocol made afterwards changes nothing more."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from cadastre import auction_protocol
from cadastre.applications import window_ends
from cadastre.auctions import Defaults, create_auction, open_due
from cadastre.eds.pki import DEMO_COMPANY_BIN, DemoPki
from geoservice.kernel.settings import get_settings
from tests.applicants import (
    WINDOW_AREA,
    app_client,
    application,
    bearer,
    demo_people,
    person,
    programme_database,
    signed,
    square,
)
from tests.helpers import sealed
from tests.test_auction_lots import OFFICER, pay, registration_body


@pytest.fixture(scope="module")
def app_db(database_url: str) -> Iterator[str]:
    with programme_database(database_url, "geoservice_outcomes") as url:
        yield url


@pytest.fixture(scope="module")
def pki(app_db: str, tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    return demo_people(app_db, Path(tmp_path_factory.mktemp("auction_outcomes")) / "pki")


@pytest.fixture(scope="module")
def api(app_db: str, pki: DemoPki) -> Iterator[TestClient]:
    with app_client(app_db) as c:
        yield c


@pytest.fixture
def db(app_db: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(app_db, autocommit=True) as conn:
        yield conn


def window_apps(api: TestClient, db: psycopg.Connection, pki: DemoPki, dx: int, dy: int) -> dict[str, int]:
    """Two window applications (a person's and a company's) over 2x2 squares one block apart:
    their overlap makes a lot. Returns the applications' ids."""
    apps = {}
    for (key, bin_), shift in zip((("applicant", None), ("head", DEMO_COMPANY_BIN)), (0, 1), strict=True):
        holder = pki.person(key)
        body = application(square(WINDOW_AREA, dx + shift, dy, 2), None if bin_ else holder.person.iin, bin_)
        r = api.post("/api/applications", json=signed(body, holder.sign("rsa")),
                     headers=bearer(db, holder.person.iin, bin_))
        assert r.status_code == 201 and r.json()["window"], r.text
        found = db.execute("SELECT id FROM applications WHERE number = %s", (r.json()["number"],)).fetchone()
        apps[key] = int(found[0])
    return apps


def auction_of(db: psycopg.Connection, apps: dict[str, int]) -> int:
    """The lot of these applications put up for auction, opening after the window has closed."""
    lot_id, opened = db.execute("SELECT id, area_opened FROM lots WHERE status = 'forming' "
                                "AND applications @> %s::bigint[]", (list(apps.values()),)).fetchone()
    after = window_ends(opened) + timedelta(days=1)
    with db.transaction():
        lot = create_auction(db, {"lot": lot_id, "starting_bonus": "5000000",
                                  "starts_at": (after + timedelta(days=1)).isoformat()},
                             caller=person(db, OFFICER), defaults=Defaults.from_settings(get_settings()), now=after)
    return int(lot["id"])


def claims(db: psycopg.Connection, application_id: int, auction_id: int) -> dict[str, set[str]]:
    """The application's claim states, on the lot's blocks and elsewhere."""
    rows = db.execute("SELECT c.state, c.block_id = ANY(a.block_ids) FROM application_claims c, auctions a "
                      "WHERE c.application_id = %s AND a.id = %s", (application_id, auction_id)).fetchall()
    return {"lot": {s for s, on in rows if on}, "elsewhere": {s for s, on in rows if not on}}


def test_cancelled_for_the_single_requester_and_failed_settle_the_lot_applications(api, db, pki):
    cancelled_apps, failed_apps = window_apps(api, db, pki, 20, 20), window_apps(api, db, pki, 20, 24)
    cancelled, failed = auction_of(db, cancelled_apps), auction_of(db, failed_apps)
    for auction_id, apps in ((cancelled, cancelled_apps), (failed, failed_apps)):
        for app in apps.values():
            assert claims(db, app, auction_id) == {"lot": {"pending"}, "elsewhere": {"pending"}}
    # Only the person registers (and pays) for the first lot; nobody for the second.
    me = pki.person("applicant")
    number = db.execute("SELECT number FROM auctions WHERE id = %s", (cancelled,)).fetchone()[0]
    pay(db, cancelled, me.person.iin)
    r = api.post(f"/api/auctions/{cancelled}/registrations",
                 json=registration_body(number, me.sign("rsa"), iin=me.person.iin),
                 headers=bearer(db, me.person.iin))
    assert r.status_code == 201, r.text
    starts_at = db.execute("SELECT max(starts_at) FROM auctions WHERE id = ANY(%s)",
                           ([cancelled, failed],)).fetchone()[0]
    with db.transaction():
        outcomes = {o["id"]: o["outcome"] for o in open_due(db, starts_at + timedelta(seconds=1))}
    assert (outcomes[cancelled], outcomes[failed]) == ("cancelled", "failed")
    # Cancelled: the requester's application goes on; the company's claims on the lot end.
    assert claims(db, cancelled_apps["applicant"], cancelled) == {"lot": {"pending"}, "elsewhere": {"pending"}}
    assert claims(db, cancelled_apps["head"], cancelled) == {"lot": {"released"}, "elsewhere": {"pending"}}
    # Failed: both give up the lot's blocks, and keep the rest of what they asked for.
    for app in failed_apps.values():
        assert claims(db, app, failed) == {"lot": {"released"}, "elsewhere": {"pending"}}
    results = {r[0]: r[1] for r in sealed(db).execute(
        "SELECT object, detail FROM journal WHERE action = 'auction.result' AND object = ANY(%s)",
        ([f"auction:{cancelled}", f"auction:{failed}"],))}
    assert results[f"auction:{failed}"]["winner"] is None and results[f"auction:{failed}"]["continues"] == []
    assert results[f"auction:{cancelled}"]["continues"] == [cancelled_apps["applicant"]]
    # The protocols made afterwards settle nothing more (one result each in the journal).
    signer = auction_protocol.demo_operator(Path(get_settings().var_dir) / "operator")
    with db.transaction():
        for auction_id in (cancelled, failed):
            auction_protocol.make_protocol(db, auction_id, signer)
    count = sealed(db).execute("SELECT count(*) FROM journal WHERE action = 'auction.result' AND object = ANY(%s)",
                       ([f"auction:{cancelled}", f"auction:{failed}"],)).fetchone()[0]
    assert count == 2
    assert claims(db, cancelled_apps["applicant"], cancelled)["lot"] == {"pending"}

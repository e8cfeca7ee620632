"""Auction lots and registration (issue 10, cadastre/auctions.py) on a database of this module's own
(it files window applications in programme areas): an officer's lot with its figures from the
settings and its minimum spend from the rules file, a lot from a first-month conflict, signed
registrations (ok, wrong signer, a company's right-to-sign holder, tax debt, unpaid then admitted
by `geoservice payments confirm`), anonymity in the public answers, what `open_due` does
(failed, cancelled for a single requester, opened), and who may do what."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
import rfc8785
from fastapi.testclient import TestClient

from cadastre import accounts
from cadastre.applications import window_ends
from cadastre.auctions import Defaults, create_auction, minimum_spend, open_due, spend_rules
from cadastre.eds.pki import DEMO_COMPANY_BIN, DemoPki, Identity, Issued, sign_cms
from cadastre.registers import TableRegisters
from geoservice.kernel import clock
from geoservice.kernel.errors import Problem
from geoservice.kernel.settings import get_settings
from tests.applicants import (
    FCFS_AREA,
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
from tests.people import add_person

NUMBER = re.compile(r"^AUC-\d{4}-\d{4}$")
OFFICER = "880409400785"        # the demo officer, of solid-minerals
AKIMAT_OFFICER = "010101500099"
# Lots of the registration tests start far ahead, so that open_due's tests (ten days ahead)
# never touch them.
FAR = timedelta(days=300)


@pytest.fixture(scope="module")
def app_db(database_url: str) -> Iterator[str]:
    with programme_database(database_url, "geoservice_lots") as url:
        yield url


@pytest.fixture(scope="module")
def pki(app_db: str, tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    return demo_people(app_db, Path(tmp_path_factory.mktemp("auction_lots")) / "pki")


@pytest.fixture(scope="module")
def api(app_db: str, pki: DemoPki) -> Iterator[TestClient]:
    with app_client(app_db) as c:
        yield c


@pytest.fixture
def db(app_db: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(app_db, autocommit=True) as conn:
        yield conn


def right_to_sign_bearer(db: psycopg.Connection, iin: str, bin_: str) -> dict[str, str]:
    """A session for a company's holder of the right to sign (as their certificate proves at sign-in)."""
    result = accounts.sign_in(db, TableRegisters(db), accounts.Identity(iin, bin_, rights=frozenset({"right_to_sign"})),
                              method="demo", lifetime=timedelta(hours=1), client="test")
    return {"Authorization": f"Bearer {result.token}", "Accept-Language": "en"}


def when(delta: timedelta) -> str:
    return (clock.now() + delta).isoformat()


def new_lot(api: TestClient, db: psycopg.Connection, blocks: list[str], *, starts: timedelta = FAR,
            **more: Any) -> dict[str, Any]:
    body = {"parcel": {"blocks": blocks}, "kind": "exploration-licence", "mineral": "gold", "name": "Тест учаскесі",
            "starting_bonus": "1000000", "starts_at": when(starts), **more}
    r = api.post("/api/auctions", json=body, headers=bearer(db, OFFICER))
    assert r.status_code == 201, r.text
    return r.json()


def registration_body(number: str, signer: Issued, *, iin: str | None = None, bin_: str | None = None,
                      over: bytes | None = None) -> dict[str, Any]:
    registration = {"auction": number, "applicant": {"iin": iin} if iin else {"bin": bin_}}
    cms = sign_cms(rfc8785.dumps(registration) if over is None else over, signer, detached=True)
    return {"registration": registration, "signature": base64.b64encode(cms).decode()}


def confirm(app_db: str, lot: str, payer: str, *more: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": app_db, "PYTHONPATH": str(Path(__file__).parents[1])}
    return subprocess.run([sys.executable, "-m", "geoservice.cli", "payments", "confirm", lot, payer, *more],
                          capture_output=True, text=True, env=env, timeout=120)


def pay(db: psycopg.Connection, auction_id: int, payer: str) -> None:
    for purpose, column in (("fee", "participation_fee"), ("deposit", "deposit")):
        db.execute(f"INSERT INTO payments (auction_id, payer, purpose, amount, confirmed_by) "  # noqa: S608
                   f"SELECT id, %s, %s, {column}, 'test' FROM auctions WHERE id = %s", (payer, purpose, auction_id))


def kinds(db: psycopg.Connection, auction_id: int) -> list[tuple[str, int | None]]:
    return [(k, p) for k, p in db.execute("SELECT kind, participant FROM auction_events WHERE auction_id = %s "
                                          "ORDER BY seq", (auction_id,))]


# --- the rules ------------------------------------------------------------------------------------

def test_minimum_spend_is_the_domain_table_read_from_the_rules_file():
    assert minimum_spend("exploration-licence", 1) == {"years_1_3": 1200, "years_4_6": 1200}
    assert minimum_spend("exploration-licence", 2) == {"years_1_3": 1800, "years_4_6": 2300}
    assert minimum_spend("exploration-licence", 5) == {"years_1_3": 1800, "years_4_6": 2300}
    assert minimum_spend("exploration-licence", 6) == {"years_1_3": 2300, "years_4_6": 3500}
    assert minimum_spend("exploration-licence", 10) == {"years_1_3": 2300, "years_4_6": 3500}
    assert minimum_spend("exploration-licence", 12) == {"years_1_3": 2540, "years_4_6": 3860}
    assert minimum_spend("mining-licence", 12) == {}
    # The figures are the file's: the table is data, not code.
    assert spend_rules().above == 10 and [b[:2] for b in spend_rules().bands] == [(1, 1), (2, 5), (6, 10)]


# --- making lots ------------------------------------------------------------------------------------

def test_an_officer_puts_up_a_parcel_with_the_figures_of_the_settings(api, db, pki):
    settings = get_settings()
    blocks = square(FCFS_AREA, 20, 20, 2)
    lot = new_lot(api, db, blocks)
    assert NUMBER.match(lot["number"]) and lot["status"] == "published"
    bonus = Decimal("1000000")
    for field, ratio in (("participation_fee", settings.auction_fee_ratio), ("deposit", settings.auction_deposit_ratio),
                         ("step", settings.auction_step_ratio)):
        assert Decimal(lot[field]) == (bonus * Decimal(str(ratio))).quantize(Decimal("0.01")), field
    assert (lot["duration_minutes"], lot["extension_minutes"]) == (settings.auction_duration_minutes,
                                                                 settings.auction_extension_minutes)
    assert (lot["block_count"], sorted(lot["codes"])) == (4, sorted(blocks))
    assert lot["minimum_spend"] == {"years_1_3": 1800, "years_4_6": 2300, "unit": "MCI"}
    assert 5 < lot["area_km2"] < 20 and lot["geometry"]["type"] == "MultiPolygon"
    assert (lot["kind"], lot["mineral"], lot["authority"]) == ("exploration-licence", "gold", "solid-minerals")
    # Published in the auction's own journal, the officer in the platform's.
    assert kinds(db, lot["id"]) == [("auction.published", None)]
    sealed(db)
    (actor, result), = db.execute("SELECT actor, result FROM journal WHERE object = %s AND action = 'auction.create'",
                                  (f"auction:{lot['number']}",)).fetchall()
    assert (actor, result) == (f"IIN{OFFICER}", "ok")
    # The officer's own figures win; numbers follow without gaps.
    other = new_lot(api, db, square(FCFS_AREA, 24, 20, 1), participation_fee="777.5", step="1000",
                    duration_minutes=30, extension_minutes=2)
    assert (other["participation_fee"], other["step"], other["duration_minutes"], other["extension_minutes"]) == (
        "777.50", "1000.00", 30.0, 2.0)
    assert int(other["number"][-4:]) == int(lot["number"][-4:]) + 1
    assert other["minimum_spend"]["years_1_3"] == 1200
    # Public: the list (with a status filter), one by id or number, the map layer.
    listed = api.get("/api/auctions?status=published").json()["auctions"]
    assert {lot["number"], other["number"]} <= {a["number"] for a in listed}
    assert api.get("/api/auctions?status=closed").json()["auctions"] == []
    assert api.get(f"/api/auctions/{lot['id']}").json()["number"] == lot["number"]
    assert api.get(f"/api/auctions/{lot['number']}").json()["id"] == lot["id"]
    r = api.get("/api/auctions?f=geojson")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    feature = next(f for f in r.json()["features"] if f["id"] == lot["id"])
    assert feature["geometry"]["type"] == "MultiPolygon" and feature["properties"]["starting_bonus"] == "1000000.00"
    r = api.get("/api/auctions/AUC-1999-9999", headers={"Accept-Language": "ru"})
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("auctions.not_found") and "Аукциона" in r.json()["detail"]


def test_who_may_put_up_a_lot_and_what_is_refused(api, db, pki):
    body = {"parcel": {"blocks": square(FCFS_AREA, 26, 20, 1)}, "kind": "exploration-licence", "mineral": "gold",
            "name": "x", "starting_bonus": "100", "starts_at": when(FAR)}
    assert api.post("/api/auctions", json=body).status_code == 401
    r = api.post("/api/auctions", json=body, headers=bearer(db, "900315300123"))
    assert r.status_code == 403 and r.json()["type"].endswith("auth.role_required")
    # An officer of another authority: common minerals go to the akimat.
    r = api.post("/api/auctions", json={**body, "kind": "geological-study-licence", "mineral": "clay"},
                 headers=bearer(db, OFFICER))
    assert r.status_code == 403 and r.json()["type"].endswith("auctions.not_competent")
    for change, code in (({"starting_bonus": "-5"}, "auctions.bad_amount"),
                         ({"starts_at": when(-timedelta(minutes=1))}, "auctions.starts_in_past"),
                         ({"starts_at": "tomorrow"}, "auctions.bad_time"),
                         ({"mineral": "oil"}, "auctions.unknown_mineral"),
                         ({"lot": 1}, "auctions.bad_request")):
        r = api.post("/api/auctions", json={**body, **change}, headers=bearer(db, OFFICER))
        assert r.status_code in (400, 422) and r.json()["type"].endswith(code), (change, r.text)
    assert db.execute("SELECT count(*) FROM auctions WHERE name = 'x'").fetchone()[0] == 0
    # Blocks being sold are not put up twice, and a parcel check shows the lot.
    taken = new_lot(api, db, square(FCFS_AREA, 28, 20, 1))
    r = api.post("/api/auctions", json={**body, "parcel": {"blocks": square(FCFS_AREA, 28, 20, 2)}},
                 headers=bearer(db, OFFICER))
    assert r.status_code == 409 and r.json()["type"].endswith("auctions.parcel_taken"), r.text
    assert [e["code"] for e in r.json()["errors"]] == ["parcel.overlaps_auction"]
    check = api.post("/api/parcels/check", json={"parcel": {"blocks": square(FCFS_AREA, 28, 20, 2)}}).json()
    assert taken["number"] in [o["id"] for o in check["overlaps"] if o["kind"] == "auction"]


def test_a_window_conflict_lot_goes_to_auction_once_its_window_has_closed(api, db, pki):
    people = [("applicant", None), ("head", DEMO_COMPANY_BIN)]
    for (key, bin_), dx in zip(people, (10, 11), strict=True):
        holder = pki.person(key)
        app = application(square(WINDOW_AREA, dx, 10, 2), None if bin_ else holder.person.iin, bin_)
        r = api.post("/api/applications", json=signed(app, holder.sign("rsa")),
                     headers=bearer(db, holder.person.iin, bin_))
        assert r.status_code == 201 and r.json()["window"], r.text
    lot_id, opened, codes = db.execute("SELECT id, area_opened, codes FROM lots WHERE status = 'forming' "
                                       "AND codes && %s", (square(WINDOW_AREA, 11, 10, 1),)).fetchone()
    officer = person(db, OFFICER)
    defaults = Defaults.from_settings(get_settings())
    # While the window is open the lot still changes: refused.
    with pytest.raises(Problem) as refused:
        create_auction(db, {"lot": lot_id, "starting_bonus": "5000000", "starts_at": when(FAR)}, caller=officer,
                       defaults=defaults, now=clock.now())
    assert getattr(refused.value, "key", None) == "auctions.window_open"
    after = window_ends(opened) + timedelta(days=1)
    # An officer of another authority: refused, and the lot is left as it was.
    add_person(db, AKIMAT_OFFICER, "Тест әкімдік")
    accounts.grant_role(db, AKIMAT_OFFICER, "officer", "akimat", actor="test")
    with pytest.raises(Problem) as foreign:
        create_auction(db, {"lot": lot_id, "starting_bonus": "5000000", "starts_at": (after + FAR).isoformat()},
                       caller=person(db, AKIMAT_OFFICER), defaults=defaults, now=after)
    assert foreign.value.key == "auctions.not_competent"
    assert db.execute("SELECT status FROM lots WHERE id = %s", (lot_id,)).fetchone()[0] == "forming"
    with db.transaction():
        lot = create_auction(db, {"lot": lot_id, "starting_bonus": "5000000",
                                  "starts_at": (after + FAR).isoformat()},
                             caller=officer, defaults=defaults, now=after)
    assert lot["lot"] == lot_id and sorted(lot["codes"]) == sorted(codes) and lot["block_count"] == len(codes)
    assert db.execute("SELECT status FROM lots WHERE id = %s", (lot_id,)).fetchone()[0] == "auction"
    requested = db.execute("SELECT requested_by FROM auctions WHERE id = %s", (lot["id"],)).fetchone()[0]
    assert sorted(map(str, requested)) == sorted(map(str, [{"iin": pki.person("applicant").person.iin},
                                                           {"bin": DEMO_COMPANY_BIN}]))
    # Who asked is never public.
    public = str(api.get(f"/api/auctions/{lot['id']}").json())
    assert DEMO_COMPANY_BIN not in public and pki.person("applicant").person.iin not in public
    # A lot goes to auction once.
    with pytest.raises(Problem) as again:
        create_auction(db, {"lot": lot_id, "starting_bonus": "1", "starts_at": (after + FAR).isoformat()},
                       caller=officer, defaults=defaults, now=after)
    assert getattr(again.value, "key", None) == "auctions.lot_not_forming"


# --- registration -------------------------------------------------------------------------------------

def test_registration_signed_unpaid_then_admitted_by_payments_confirm(api, db, pki, app_db):
    lot = new_lot(api, db, square(FCFS_AREA, 0, 25, 1))
    me = pki.person("applicant")
    iin = me.person.iin
    headers = bearer(db, iin)
    r = api.post(f"/api/auctions/{lot['id']}/registrations", json=registration_body(lot["number"], me.sign("rsa"),
                                                                                   iin=iin), headers=headers)
    assert r.status_code == 201, r.text
    answer = r.json()
    assert answer["status"] == "registered" and answer["missing_payments"] == ["fee", "deposit"]
    number = answer["participant"]
    assert 100_000 <= number <= 999_999
    # Stored as signed: what was signed verifies again.
    canonical, = db.execute("SELECT canonical FROM auction_participants WHERE auction_id = %s", (lot["id"],)).fetchone()
    assert canonical.encode() == rfc8785.dumps({"auction": lot["number"], "applicant": {"iin": iin}})
    # A second registration answers the first.
    r = api.post(f"/api/auctions/{lot['number']}/registrations",
                 json=registration_body(lot["number"], me.sign("gost"), iin=iin), headers=headers)
    assert r.status_code == 200 and r.json()["participant"] == number
    # The fee alone does not admit; the deposit too does.
    done = confirm(app_db, lot["number"], iin, "--purpose", "fee")
    assert done.returncode == 0, done.stderr
    assert api.get(f"/api/auctions/{lot['id']}", headers=headers).json()["you"]["status"] == "registered"
    done = confirm(app_db, str(lot["id"]), iin, "--purpose", "deposit")
    assert done.returncode == 0 and "admitted" in done.stdout, done.stdout + done.stderr
    you = api.get(f"/api/auctions/{lot['id']}", headers=headers).json()["you"]
    assert you == {"participant": number, "status": "admitted", "reasons": []}
    assert kinds(db, lot["id"]) == [("auction.published", None), ("participant.registered", number),
                                    ("participant.admitted", number)]
    # Confirming again changes nothing; an unknown lot is an error.
    assert confirm(app_db, lot["number"], iin).returncode == 0
    assert db.execute("SELECT count(*) FROM payments WHERE auction_id = %s", (lot["id"],)).fetchone()[0] == 2
    assert confirm(app_db, "AUC-1999-0001", iin).returncode == 1
    notes = {n[0] for n in db.execute("SELECT code FROM notifications n JOIN accounts a ON a.id = n.account_id "
                                      "WHERE a.iin = %s AND a.bin IS NULL", (iin,))}
    assert {"notice.auction_registered", "notice.auction_admitted"} <= notes


def test_paid_before_registering_is_admitted_at_once_and_a_company_signs_by_its_right_to_sign(api, db, pki):
    lot = new_lot(api, db, square(FCFS_AREA, 2, 25, 1))
    pay(db, lot["id"], DEMO_COMPANY_BIN)
    signer = pki.person("signer")       # right to sign for the company, not its head
    r = api.post(f"/api/auctions/{lot['id']}/registrations",
                 json=registration_body(lot["number"], signer.sign("rsa"), bin_=DEMO_COMPANY_BIN),
                 headers=right_to_sign_bearer(db, signer.person.iin, DEMO_COMPANY_BIN))
    assert r.status_code == 201 and r.json()["status"] == "admitted", r.text


def test_a_registration_not_signed_by_the_applicant_is_refused_and_leaves_nothing(api, db, pki):
    lot = new_lot(api, db, square(FCFS_AREA, 4, 25, 1))
    me, other = pki.person("applicant"), pki.person("head")
    url = f"/api/auctions/{lot['id']}/registrations"
    headers = bearer(db, me.person.iin)
    r = api.post(url, json=registration_body(lot["number"], other.sign("rsa"), iin=me.person.iin), headers=headers)
    assert r.status_code == 422 and r.json()["type"].endswith("auctions.signature_refused"), r.text
    assert [e["code"] for e in r.json()["errors"]] == ["reason.signer_not_applicant"]
    r = api.post(url, json=registration_body(lot["number"], me.sign("rsa"), iin=me.person.iin, over=b"{}"),
                 headers=headers)
    assert r.status_code == 422 and "eds.content_mismatch" in [e["code"] for e in r.json()["errors"]]
    # Another auction's number, someone else as applicant, a broken body, no sign-in.
    r = api.post(url, json=registration_body("AUC-2000-0001", me.sign("rsa"), iin=me.person.iin), headers=headers)
    assert r.json()["type"].endswith("auctions.wrong_auction")
    r = api.post(url, json=registration_body(lot["number"], other.sign("rsa"), iin=other.person.iin), headers=headers)
    assert r.status_code == 403 and r.json()["type"].endswith("auctions.not_your_applicant")
    r = api.post(url, json={"registration": {}, "signature": "AAAA"}, headers=headers)
    assert r.status_code == 422 and r.json()["type"].endswith("auctions.bad_registration")
    good = registration_body(lot["number"], me.sign("rsa"), iin=me.person.iin)
    r = api.post(url, json={**good, "signature": "%%%"}, headers=headers)
    assert r.status_code == 400 and r.json()["type"].endswith("auctions.bad_signature")
    assert api.post(url, json=registration_body(lot["number"], me.sign("rsa"), iin=me.person.iin)).status_code == 401
    stored = db.execute("SELECT count(*) FROM auction_participants WHERE auction_id = %s", (lot["id"],)).fetchone()
    assert stored[0] == 0
    assert kinds(db, lot["id"]) == [("auction.published", None)]
    sealed(db)
    assert db.execute("SELECT count(*) FROM journal WHERE action = 'auction.register' AND result = 'rejected' "
                      "AND object = %s", (f"auction:{lot['id']}",)).fetchone()[0] >= 4


def test_tax_debt_refuses_with_the_reason_in_every_language(api, db, pki):
    lot = new_lot(api, db, square(FCFS_AREA, 6, 25, 1))
    # A person of the register with a valid signing certificate and a tax debt.
    iin = "020202500777"
    db.execute("INSERT INTO register_entries (type, id, name, status, tax_debt) VALUES ('individual', %s, "
               "'ҚАРЫЗДАР', 'active', true) ON CONFLICT (type, id) DO UPDATE SET tax_debt = true", (iin,))
    cert = pki.authorities["nca-rsa"].issue(Identity("ҚАРЫЗДАР", iin=iin), purpose="signature")
    pay(db, lot["id"], iin)
    for lang, word in (("en", "tax debt"), ("ru", "налоговая задолженность"), ("kk", "салық берешегі")):
        headers = {**bearer(db, iin), "Accept-Language": lang}
        r = api.post(f"/api/auctions/{lot['id']}/registrations",
                     json=registration_body(lot["number"], cert, iin=iin), headers=headers)
        assert r.status_code in (200, 201) and r.json()["status"] == "refused", r.text
        (reason,) = r.json()["reasons"]
        assert reason["code"] == "auctions.reason.tax_debt" and word in reason["message"]
    number = r.json()["participant"]
    assert kinds(db, lot["id"])[-1] == ("participant.refused", number)
    detail = db.execute("SELECT detail FROM auction_events WHERE auction_id = %s ORDER BY seq DESC LIMIT 1",
                        (lot["id"],)).fetchone()[0]
    assert detail == {"reasons": "auctions.reason.tax_debt"}


def test_participants_are_anonymous_in_every_public_answer(api, db, pki):
    lot = new_lot(api, db, square(FCFS_AREA, 8, 25, 1))
    numbers = {}
    for key in ("applicant", "head"):
        holder = pki.person(key)
        pay(db, lot["id"], holder.person.iin)
        r = api.post(f"/api/auctions/{lot['id']}/registrations",
                     json=registration_body(lot["number"], holder.sign("rsa"), iin=holder.person.iin),
                     headers=bearer(db, holder.person.iin))
        assert r.json()["status"] == "admitted", r.text
        numbers[key] = r.json()["participant"]
    identities = [pki.person(k).person.iin for k in numbers] + [pki.person(k).person.surname for k in numbers]
    answers = [api.get(f"/api/auctions/{lot['id']}").text, api.get("/api/auctions").text,
               api.get("/api/auctions?f=geojson").text]
    for key, number in numbers.items():
        mine = api.get(f"/api/auctions/{lot['id']}", headers=bearer(db, pki.person(key).person.iin))
        assert mine.json()["you"]["participant"] == number
        answers.append(mine.text)
    assert not any(ident in text for ident in identities for text in answers)
    # Another signed-in person is nobody here; the auction's journal names numbers only.
    assert api.get(f"/api/auctions/{lot['id']}", headers=bearer(db, OFFICER)).json()["you"] is None
    journal_text = str(db.execute("SELECT array_agg(detail::text) FROM auction_events WHERE auction_id = %s",
                                  (lot["id"],)).fetchone()[0])
    assert not any(ident in journal_text for ident in identities)
    assert {p for _, p in kinds(db, lot["id"]) if p} == set(numbers.values())


# --- opening -------------------------------------------------------------------------------------------

def test_open_due_fails_cancels_for_a_single_requester_and_opens(api, db, pki):
    me, other = pki.person("applicant"), pki.person("head")
    starts = timedelta(days=10)
    empty = new_lot(api, db, square(FCFS_AREA, 0, 28, 1), starts=starts)
    single = new_lot(api, db, square(FCFS_AREA, 2, 28, 1), starts=starts,
                     requested_by=[{"iin": me.person.iin}])
    lone = new_lot(api, db, square(FCFS_AREA, 4, 28, 1), starts=starts)   # one participant, who did not ask
    both = new_lot(api, db, square(FCFS_AREA, 6, 28, 1), starts=starts, requested_by=[{"iin": me.person.iin}])
    registered: dict[int, dict[str, int]] = {}
    for lot, who, paid in ((single, (me,), (me,)), (lone, (other,), (other,)), (both, (me, other, pki.person("signer")),
                                                                                 (me, other))):
        registered[lot["id"]] = {}
        for holder in who:
            if holder in paid:
                pay(db, lot["id"], holder.person.iin)
            r = api.post(f"/api/auctions/{lot['id']}/registrations",
                         json=registration_body(lot["number"], holder.sign("rsa"), iin=holder.person.iin),
                         headers=bearer(db, holder.person.iin))
            assert r.status_code == 201, r.text
            registered[lot["id"]][holder.person.key] = r.json()["participant"]
    # Not yet due: nothing happens.
    with db.transaction():
        assert [o for o in open_due(db, clock.now()) if o["id"] in registered or o["id"] == empty["id"]] == []
    starts_at = db.execute("SELECT max(starts_at) FROM auctions WHERE id = ANY(%s)",
                           ([empty["id"], *registered],)).fetchone()[0]
    with db.transaction():
        outcomes = {o["id"]: o["outcome"] for o in open_due(db, starts_at + timedelta(seconds=1))}
    assert {k: outcomes[k] for k in (empty["id"], single["id"], lone["id"], both["id"])} == {
        empty["id"]: "failed", single["id"]: "cancelled", lone["id"]: "open", both["id"]: "open"}
    assert kinds(db, empty["id"]) == [("auction.published", None), ("auction.failed", None)]
    n = registered[single["id"]]["applicant"]
    assert kinds(db, single["id"])[-2:] == [("auction.cancelled", n), ("deal.concluded", n)]
    status, winner, final = db.execute("SELECT status, winner, final_bonus FROM auctions WHERE id = %s",
                                       (single["id"],)).fetchone()
    assert (status, winner, final) == ("cancelled", n, Decimal("1000000.00"))
    # Opened: every admitted participant identified; the unpaid one refused before the opening.
    ids = registered[both["id"]]
    tail = kinds(db, both["id"])
    assert ("participant.refused", ids["signer"]) in tail
    opened = tail.index(("auction.opened", None))
    assert sorted(tail[opened + 1:]) == sorted([("participant.identified", ids["applicant"]),
                                                ("participant.identified", ids["head"])])
    assert db.execute("SELECT status FROM auctions WHERE id = %s", (both["id"],)).fetchone()[0] == "open"
    assert api.get(f"/api/auctions/{both['id']}").json()["status"] == "open"
    # Final auctions are frozen; registering for an open one is closed.
    with pytest.raises(psycopg.DatabaseError) as frozen:
        db.execute("UPDATE auctions SET name = 'x' WHERE id = %s", (empty["id"],))
    assert frozen.value.sqlstate == "GSA00"
    r = api.post(f"/api/auctions/{both['id']}/registrations",
                 json=registration_body(both["number"], me.sign("rsa"), iin=me.person.iin),
                 headers=bearer(db, me.person.iin))
    assert r.status_code == 409 and r.json()["type"].endswith("auctions.registration_closed")
    # Nothing is due twice.
    with db.transaction():
        again = open_due(db, starts_at + timedelta(seconds=2))
    assert not {o["id"] for o in again} & {empty["id"], single["id"], lone["id"], both["id"]}
    notes = {r[0] for r in db.execute("SELECT code FROM notifications n JOIN accounts a ON a.id = n.account_id "
                                      "WHERE a.iin = %s AND a.bin IS NULL", (me.person.iin,))}
    assert {"notice.auction_granted_single", "notice.auction_opened"} <= notes


# --- the demo ------------------------------------------------------------------------------------------

def test_demo_auction_has_two_demo_bidders_registered_and_paid(db, pki, app_db, tmp_path):
    var = tmp_path / "var"
    var.mkdir()
    (var / "demo-pki").symlink_to(pki.directory)
    env = {**os.environ, "DATABASE_URL": app_db, "PYTHONPATH": str(Path(__file__).parents[1]),
           "GEOSERVICE_DEMO": "1", "GEOSERVICE_VAR_DIR": str(var)}
    done = subprocess.run([sys.executable, "-m", "geoservice.cli", "demo", "auction", "--minutes", "3"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    number = re.search(r"AUC-\d{4}-\d{4}", done.stdout).group(0)  # type: ignore[union-attr]
    auction_id, starts_at, status = db.execute("SELECT id, starts_at, status FROM auctions WHERE number = %s",
                                               (number,)).fetchone()
    assert status == "published" and timedelta(minutes=2) < starts_at - clock.now() <= timedelta(minutes=3)
    people = db.execute("SELECT iin, status FROM auction_participants WHERE auction_id = %s ORDER BY iin",
                        (auction_id,)).fetchall()
    assert people == sorted([(pki.person("applicant").person.iin, "admitted"),
                             (pki.person("head").person.iin, "admitted")])
    # The sign-in commands for the two browsers are printed.
    assert done.stdout.count("geoservice demo sign-in") == 2

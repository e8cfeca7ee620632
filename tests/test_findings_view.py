"""The checker's findings shown on the licence (issue 11), on a database of this module's own: a
licence of the demo applicant with an obligation overdue and one due in 7 days (the checker run
on an explicit day, today's), and a report of spend below the minimum. The open licence answer
carries the due and overdue findings and the badges (and not the deviation); its ``?at=`` view
gives them as they stood then; ``/findings`` serves every finding, in the request's language, to
the holder and the authority's officers only; the cabinet's lists (the holder's obligations, the
officer's findings under supervision); and a real browser shows the holder's cabinet."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from cadastre import accounts, checker, licences, obligations
from cadastre.eds.pki import DemoPki
from geoservice.kernel.i18n import translate
from geoservice.kernel.settings import get_settings
from tests.applicants import FCFS_AREA, app_client, bearer, demo_people, make_applicants, programme_database, square
from tests.live import live_server

LICENCE = "LIC-TEST-FINDINGS-1"
RESOLVED = "LIC-TEST-FINDINGS-2"


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:   # 29 February
        return day.replace(year=day.year - years, day=28)


@pytest.fixture(scope="module")
def app_db(database_url: str) -> Iterator[str]:
    with programme_database(database_url, "geoservice_findings") as url:
        yield url


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(tmp_path_factory.mktemp("findings-var"))


def pending(conn: psycopg.Connection, number: str) -> dict[str, tuple[int, dt.date, dict[str, Any]]]:
    return {r["key"]: (r["id"], r["due_on"], r["parameters"]) for r in obligations.at(conn, number, None)}


@pytest.fixture(scope="module")
def story(app_db: str, var_dir: Path) -> dict[str, Any]:
    """The licences, the deviating report and the checker's run on today; what the tests expect."""
    pki = demo_people(app_db, var_dir / "demo-pki")
    holder = pki.person("applicant").person.iin
    with psycopg.connect(app_db, autocommit=True) as conn:
        today = licences.today(conn)
        # Issued two licence years (and 8 days) before: year 1 ended a year ago less 7 days
        # (overdue), year 2 ends in 7 days.
        issued = _years_before(today + dt.timedelta(days=8), 2)
        # Year 2's minimum spend needs the MCI of the year it starts in (shipped: 2025-2027); a
        # later run of the suite gets a projected test value.
        conn.execute("INSERT INTO mci_values (year, value, basis, projected) VALUES (%s, 4000, 'test', true) "
                     "ON CONFLICT (year) DO NOTHING", (_years_before(issued, -1).year,))
        for number, dx in ((LICENCE, 30), (RESOLVED, 34)):
            with conn.transaction():
                licences.issue_licence(conn, number=number, holder={"iin": holder, "name": "АХМЕТОВ СЕРІК"},
                                       kind="exploration", mineral="gold", blocks=square(FCFS_AREA, dx, 30, 2),
                                       issued_on=issued, term_until=issued + dt.timedelta(days=6 * 366),
                                       source="import", basis="test licence", actor="test")
        rows = pending(conn, LICENCE)
        year_one_due = rows["minimum_spend:1"][1]
        _, year_two_due, year_two = rows["minimum_spend:2"]
        assert year_two_due == today + dt.timedelta(days=7)
        assert year_one_due < today
        # A report of the year 2's spend (its minimum has an MCI value) below the minimum.
        minimum = Decimal(str(year_two["amount_kzt"]))
        conn.execute("INSERT INTO obligation_reports (number, report_year, spend_kzt, blocks, status) "
                     "VALUES (%s, %s, %s, %s, 'submitted')",
                     (LICENCE, year_two_due.year, minimum - 1, square(FCFS_AREA, 30, 30, 1)))
        counts = checker.check(conn, today, numbers=[LICENCE, RESOLVED])
        assert counts["overdue"] >= 2 and counts["due"] >= 2 and counts["deviation"] == 1
        # The second licence's year-2 spend is met: its warning is resolved by the next run.
        met_id = pending(conn, RESOLVED)["minimum_spend:2"][0]
        with conn.transaction():
            obligations.set_status(conn, met_id, "met", actor="test", basis="paid", effective_on=today)
        assert checker.check(conn, today, numbers=[RESOLVED])["resolved"] == 1
    return {"today": today, "year_one_due": year_one_due, "pki": pki, "holder": holder}


@pytest.fixture(scope="module")
def api(app_db: str, story: dict[str, Any]) -> Iterator[TestClient]:
    with app_client(app_db) as c:
        yield c


@pytest.fixture
def db(app_db: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(app_db, autocommit=True) as conn:
        yield conn


def by_key(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in rows}


def test_the_open_licence_carries_the_badges(api: TestClient, story: dict[str, Any]) -> None:
    today = story["today"]
    body = api.get(f"/api/licences/{LICENCE}", headers={"Accept-Language": "ru"}).json()
    rows = by_key(body["obligations"])
    late, soon = rows["minimum_spend:1"], rows["minimum_spend:2"]
    assert late["status"] == "overdue"
    assert late["alert"] == {"level": "overdue", "days": (today - story["year_one_due"]).days}
    assert late["findings"] == [{"kind": "overdue", "threshold": None, "due_on": story["year_one_due"].isoformat(),
                                 "found_on": today.isoformat(), "status": "open", "resolved_on": None}]
    assert soon["status"] == "open" and soon["alert"] == {"level": "due", "days": 7}
    assert [(f["kind"], f["threshold"], f["status"]) for f in soon["findings"]] == [("due", 7, "open")]
    # Registry facts only: the deviation of the holder's report is not in the open answer.
    kinds = {f["kind"] for o in body["obligations"] for f in o["findings"]}
    assert kinds <= {"due", "overdue"} and "deviation" not in str(body["obligations"])
    assert rows["expiry"]["alert"] is None and rows["expiry"]["findings"] == []
    # The history's view of today agrees.
    history = by_key(api.get(f"/api/licences/{LICENCE}/history").json()["obligations"])
    assert history["minimum_spend:2"]["alert"] == {"level": "due", "days": 7}


def test_as_of_a_date_the_findings_stand_as_they_were(api: TestClient, story: dict[str, Any]) -> None:
    today = story["today"]
    before = by_key(api.get(f"/api/licences/{LICENCE}/history",
                            params={"at": (today - dt.timedelta(days=1)).isoformat()}).json()["obligations"])
    # The day before the checker's run: nothing found yet, the obligation was still open.
    assert before["minimum_spend:1"]["status"] == "open"
    assert before["minimum_spend:1"]["findings"] == [] and before["minimum_spend:1"]["alert"] is None
    assert before["minimum_spend:2"]["findings"] == [] and before["minimum_spend:2"]["alert"] is None
    on = by_key(api.get(f"/api/licences/{LICENCE}", params={"at": today.isoformat()}).json()["obligations"])
    assert on["minimum_spend:1"]["alert"]["level"] == "overdue"
    assert on["minimum_spend:2"]["alert"] == {"level": "due", "days": 7}
    # A met obligation: its warning resolved that day, no badge.
    met = api.get(f"/api/licences/{RESOLVED}/history", params={"at": today.isoformat()}).json()["obligations"]
    (row,) = [o for o in met if o["key"] == "minimum_spend:2"]
    assert row["status"] == "met" and row["alert"] is None
    assert [(f["kind"], f["status"], f["resolved_on"]) for f in row["findings"]] == [
        ("due", "resolved", today.isoformat())]


def test_findings_for_the_holder_and_the_authority_only(api: TestClient, db: psycopg.Connection,
                                                        story: dict[str, Any]) -> None:
    pki: DemoPki = story["pki"]
    url = f"/api/licences/{LICENCE}/findings"
    r = api.get(url, headers=bearer(db, story["holder"], lang="ru"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["holder"] is True and body["authority"] == "solid-minerals"
    found = {(f["key"], f["kind"]): f for f in body["findings"]}
    deviation = found[("minimum_spend:2", "deviation")]
    assert deviation["code"] == "spend_below_minimum" and deviation["status"] == "open"
    assert deviation["message"] == translate("notice.obligation_spend_below_minimum", "ru", **deviation["params"])
    assert "ниже минимума" in deviation["message"]
    overdue = found[("minimum_spend:1", "overdue")]
    assert overdue["message"].startswith(f"Лицензия {LICENCE}") and "просрочка" in overdue["message"]
    assert found[("minimum_spend:2", "due")]["threshold"] == 7
    # Newest first.
    assert [f["id"] for f in body["findings"]] == sorted((f["id"] for f in body["findings"]), reverse=True)

    kk = api.get(url, headers=bearer(db, pki.person("officer").person.iin, lang="kk"))
    assert kk.status_code == 200 and kk.json()["holder"] is False
    kk_found = {(f["key"], f["kind"]): f["message"] for f in kk.json()["findings"]}
    assert "кешіктірілген күн" in kk_found[("minimum_spend:1", "overdue")]
    assert "қалған күн: 7" in kk_found[("minimum_spend:2", "due")]
    assert set(kk_found) == set(found)

    (other_iin, _), = make_applicants(db, pki, 1, prefix="0606067")
    r = api.get(url, headers=bearer(db, other_iin, lang="ru"))
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert LICENCE in r.json()["detail"]
    assert api.get(url).status_code == 401
    assert api.get("/api/licences/NO-SUCH/findings", headers=bearer(db, story["holder"])).status_code == 404


def test_the_cabinets_lists(api: TestClient, db: psycopg.Connection, story: dict[str, Any]) -> None:
    pki: DemoPki = story["pki"]
    mine = api.get("/api/obligations/mine", headers=bearer(db, story["holder"], lang="en"))
    assert mine.status_code == 200, mine.text
    held = {x["number"]: x for x in mine.json()["licences"]}
    rows = by_key(held[LICENCE]["obligations"])
    assert rows["minimum_spend:1"]["alert"]["level"] == "overdue"
    assert rows["minimum_spend:2"]["alert"] == {"level": "due", "days": 7}
    assert all(o["status"] in ("open", "overdue") for o in held[LICENCE]["obligations"])
    assert "minimum_spend:2" not in by_key(held[RESOLVED]["obligations"])      # met: nothing to do
    kinds = {(f["key"], f["kind"]) for f in held[LICENCE]["findings"]}
    assert {("minimum_spend:1", "overdue"), ("minimum_spend:2", "due"), ("minimum_spend:2", "deviation")} <= kinds
    assert all(f["status"] == "open" for f in held[RESOLVED]["findings"])

    officer = api.get("/api/obligations/supervised", headers=bearer(db, pki.person("officer").person.iin, lang="ru"))
    assert officer.status_code == 200, officer.text
    listed = officer.json()["findings"]
    assert {f["licence"] for f in listed} >= {LICENCE, RESOLVED}
    assert all(f["status"] == "open" and f["authority"] == "solid-minerals" for f in listed)
    assert [(f["found_at"], f["id"]) for f in listed] == sorted(((f["found_at"], f["id"]) for f in listed),
                                                                reverse=True)
    assert any(f["kind"] == "deviation" and "ниже минимума" in f["message"] for f in listed)
    # An officer of another authority supervises none of them; an applicant may not ask.
    (other_iin, _), = make_applicants(db, pki, 1, prefix="0707077")
    accounts.grant_role(db, other_iin, "officer", "hydrocarbons", actor="test")
    assert api.get("/api/obligations/supervised", headers=bearer(db, other_iin)).json()["findings"] == []
    assert api.get("/api/obligations/supervised", headers=bearer(db, story["holder"])).status_code == 403
    assert api.get("/api/obligations/supervised").status_code == 401
    assert api.get("/api/obligations/mine").status_code == 401
    # The officer holds no licence.
    assert api.get("/api/obligations/mine",
                   headers=bearer(db, pki.person("officer").person.iin)).json()["licences"] == []


# --- the cabinet in a real browser --------------------------------------------------------------------

@pytest.fixture(scope="module")
def live(app_db: str, var_dir: Path, story: dict[str, Any]) -> Iterator[str]:

    get_settings.cache_clear()
    settings = dataclasses.replace(get_settings(), database_url=app_db, demo=True, var_dir=var_dir)
    with live_server(settings) as url:
        yield url


def _chromium_missing() -> bool:
    from tests.test_cabinet_browser import CHROMIUM

    return not Path(CHROMIUM).exists() or shutil.which("chromium") is None


@pytest.mark.skipif(_chromium_missing(), reason="Debian's chromium is not installed (make system installs it)")
def test_the_holders_cabinet_shows_the_overdue_and_the_coming_due(live: str, app_db: str,
                                                                  story: dict[str, Any]) -> None:
    from playwright.sync_api import expect, sync_playwright

    from tests.test_cabinet_applications_browser import OFFICER, _link, sign_out
    from tests.test_cabinet_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1400})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(f"{live}/cabinet?lang=en")
            page.wait_for_selector("body[data-ready=true]")
            page.goto(_link(app_db, live, story["holder"]))
            page.wait_for_url(f"{live}/cabinet")
            page.wait_for_selector("#obligations[data-ready=true]")
            expect(page.locator("#ob-mine-title")).to_have_text("My licences' obligations")
            table = page.locator(f".ob-list[data-licence='{LICENCE}']")
            late = table.locator("tr[data-key='minimum_spend:1']")
            expect(late).to_have_attribute("data-alert", "overdue")
            expect(late.locator(".ob-badge.overdue")).to_contain_text("Overdue")
            soon = table.locator("tr[data-key='minimum_spend:2']")
            expect(soon.locator(".ob-badge.due")).to_have_text("in 7 days")
            expect(soon.locator(".due-on")).to_have_text((story["today"] + dt.timedelta(days=7)).isoformat())
            findings = page.locator(f".ob-licence[data-licence='{LICENCE}'] .ob-findings")
            expect(findings.locator("tr[data-kind=deviation] .message")).to_contain_text("below the minimum")
            page.click("#langs [data-lang=ru]")
            expect(soon.locator(".ob-badge.due")).to_have_text("через 7 дн.")
            expect(findings.locator("tr[data-kind=deviation] .message")).to_contain_text("ниже минимума")
            page.click("#langs [data-lang=kk]")
            expect(page.locator("#ob-mine-title")).to_have_text("Лицензияларымның міндеттемелері")
            page.click("#langs [data-lang=en]")
            expect(page.locator("#ob-supervised")).to_have_count(0)   # a holder supervises nothing
            page.screenshot(path=str(SCREENSHOTS / "cabinet-obligations.png"), full_page=True)

            sign_out(page)
            page.goto(_link(app_db, live, OFFICER))
            page.wait_for_url(f"{live}/cabinet")
            page.wait_for_selector("#obligations[data-ready=true]")
            expect(page.locator("#ob-supervised-title")).to_have_text("Obligations under supervision")
            listed = page.locator(f"#ob-supervised tr[data-licence='{LICENCE}']")
            expect(listed.filter(has=page.locator(".ob-kind.overdue")).first).to_be_visible()
            coming = f"#ob-supervised tr[data-licence='{LICENCE}'][data-key='minimum_spend:2'][data-kind=due]"
            expect(page.locator(f"{coming} .message")).to_contain_text("7 days left")
            expect(page.locator("#ob-mine-title")).to_have_count(0)   # the officer holds no licence

            # The map's licence panel (anyone): the badges, in the page's language.
            page.goto(f"{live}/?lang=ru&licence={LICENCE}")
            view = page.locator("#licence-view[data-state=ready]")
            view.wait_for(timeout=60_000)
            late = view.locator("table.obligations tr[data-key='minimum_spend:1']")
            expect(late).to_have_attribute("data-alert", "overdue")
            expect(late.locator(".badge.overdue")).to_have_text(
                f"на {(story['today'] - story['year_one_due']).days} дн.")
            expect(view.locator("table.obligations tr[data-key='minimum_spend:2'] .badge.due")).to_have_text(
                "через 7 дн.")
            expect(view.locator("table.obligations tr[data-key=expiry] .badge")).to_have_count(0)
            page.screenshot(path=str(SCREENSHOTS / "licence-badges-ru.png"))

            # The officer records the overdue spend as met: signed in the page (the demo signer),
            # the obligation's next row and the finding resolved at once (NOTIFY -> checker).
            page.goto(f"{live}/cabinet?lang=en")
            page.wait_for_selector("#obligations[data-ready=true]")
            row = page.locator(f"#ob-supervised tr[data-licence='{LICENCE}'][data-key='minimum_spend:1']"
                               "[data-kind=overdue]")
            row.locator(".ob-met").click()
            expect(row.locator(".ob-out")).to_have_text("Give the basis")
            row.locator(".ob-basis").fill("Spend confirmed by audit report No. 12")
            row.locator(".ob-amount").fill("4 730 000,50")
            row.locator(".ob-met").click()
            expect(row.locator(".ob-out[data-done=true]")).to_have_text("The decision is signed and saved")
        finally:
            browser.close()
    assert problems == []
    with psycopg.connect(app_db) as conn:
        met = conn.execute("SELECT status, opened_basis FROM obligations WHERE number = %s AND key = 'minimum_spend:1' "
                           "AND valid_to IS NULL", (LICENCE,)).fetchone()
        decided = conn.execute("SELECT status, amount_kzt, basis FROM obligation_decisions WHERE number = %s",
                               (LICENCE,)).fetchall()
    assert met == ("met", "signed decision: Spend confirmed by audit report No. 12")
    assert [(d[0], str(d[1]), d[2]) for d in decided] == [
        ("met", "4730000.50", "Spend confirmed by audit report No. 12")]

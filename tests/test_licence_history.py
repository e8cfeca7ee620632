"""A licence's history with its obligations (issue 11, "Change history as of a date"), against
real PostGIS and a real HTTP server: a licence issued, its term and blocks changed on later
effective dates, an obligation's status set; ``GET /api/licences/{number}/history`` lists every
change with its basis and actor in order, ``?at=`` gives the licence and its obligations as they
stood before and after each change, the licence itself carries its obligations, and every
change to obligations is in the platform journal with its author."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from cadastre import licences as reg
from cadastre import obligations
from geoservice.kernel.settings import PROJECT_ROOT, get_settings
from tests.live import live_server

NUMBER = "KZ-HIST-0001"
OFFICER = "IIN870101300111"
CHANGER = "IIN880409400785"
ACCEPTOR = "IIN910202400333"


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[str]:
    with live_server() as url:
        yield url
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def story(database_url: str) -> dict[str, Any]:
    """One licence with two changes and a status, on dates relative to today (a change cannot be
    in the future); returns the days."""
    get_settings.cache_clear()
    with psycopg.connect(get_settings().service_database_url) as conn:
        today = reg.today(conn)
        days = {"issued": today - dt.timedelta(days=400), "term": today - dt.timedelta(days=200),
                "blocks": today - dt.timedelta(days=100), "status": today - dt.timedelta(days=50), "today": today}
        days["term_until"] = days["issued"].replace(year=days["issued"].year + 6)
        days["new_term"] = days["term_until"].replace(year=days["term_until"].year + 1)
        reg.issue_licence(conn, number=NUMBER, holder={"bin": "210940077001", "name": "ТОО Тарих"},
                          kind="exploration", mineral="copper", blocks="L-43-63-(10а-5б-14,15)",
                          issued_on=days["issued"], term_until=days["term_until"],
                          conditions={"signature_bonus": 5000000}, source="APP-HIST-1",
                          basis="Order No. 1", actor=OFFICER)
        conn.commit()
        reg.change_licence(conn, NUMBER, {"term_until": days["new_term"]}, basis="Order No. 2", actor=CHANGER,
                           effective_on=days["term"])
        conn.commit()
        reg.change_licence(conn, NUMBER, {"blocks": "L-43-63-(10а-5б-1,2,3,4,5)"}, basis="Order No. 3",
                           actor=CHANGER, effective_on=days["blocks"])
        conn.commit()
        bonus = next(o for o in obligations.at(conn, NUMBER) if o["kind"] == "signature_bonus")
        days["bonus_id"] = bonus["id"]
        days["bonus_new"] = obligations.set_status(conn, bonus["id"], "met", actor=ACCEPTOR,
                                                   basis="Payment order No. 9", effective_on=days["status"])
        conn.commit()
    return days


def get(server: str, path: str, lang: str = "en", **params: Any) -> httpx.Response:
    return httpx.get(f"{server}{path}", params=params, headers={"Accept-Language": lang}, timeout=60)


def by_kind(found: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in found if o["kind"] == kind]


def test_history_order_basis_and_actor(server: str, story: dict[str, Any]) -> None:
    r = get(server, f"/api/licences/{NUMBER}/history")
    assert r.status_code == 200, r.text
    body = r.json()
    events = body["history"]
    assert body["at"] == story["today"].isoformat() and body["licence"]["number"] == NUMBER
    # Recorded order: each licence change, then the obligations it closed and opened.
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    licence_events = [(i, e) for i, e in enumerate(events) if e["type"] == "licence"]
    assert [e["action"] for _, e in licence_events] == ["issue", "change", "change"]
    assert [e["basis"]["text"] for _, e in licence_events] == ["Order No. 1", "Order No. 2", "Order No. 3"]
    assert [e["actor"] for _, e in licence_events] == [OFFICER, CHANGER, CHANGER]
    assert licence_events[1][1]["changes"]["term_until"] == {
        "old": story["term_until"].isoformat(), "new": story["new_term"].isoformat()}
    assert licence_events[1][1]["effective_on"] == story["term"].isoformat()
    assert licence_events[0][0] == 0
    # Between two licence changes: the obligation changes that licence change made, on its basis.
    bounds = [i for i, _ in licence_events] + [len(events)]
    for (start, change), end in zip(licence_events, bounds[1:], strict=True):
        made = [e for e in events[start + 1:end] if e["basis"]["text"] == change["basis"]["text"]]
        assert made and all(e["type"] == "obligation" and e["actor"] == change["actor"] for e in made)
        assert all(e["effective_on"] == change["effective_on"] for e in made)
    issued = events[1:bounds[1]]
    assert {e["action"] for e in issued} == {"opened"}
    assert {"minimum_spend", "work_report", "signature_bonus", "expiry"} <= {e["obligation"]["kind"] for e in issued}
    # The term change moved the expiry: the old row closed, the new opened with the new due date.
    term_events = [e for e in events[bounds[1] + 1:bounds[2]] if e["obligation"]["kind"] == "expiry"]
    assert [(e["action"], e["obligation"]["due_on"]) for e in term_events] == [
        ("closed", story["term_until"].isoformat()), ("opened", story["new_term"].isoformat())]
    assert term_events[1]["previous"]["due_on"] == story["term_until"].isoformat()
    # The status: the last two events, on the payment's basis, by the one who accepted it.
    closed, opened = events[-2:]
    assert (closed["action"], opened["action"]) == ("closed", "opened")
    assert closed["obligation"]["id"] == story["bonus_id"] and opened["obligation"]["id"] == story["bonus_new"]
    assert opened["obligation"]["status"] == "met" and opened["previous"]["status"] == "open"
    assert opened["actor"] == ACCEPTOR and opened["basis"] == {"document": None, "text": "Payment order No. 9"}
    assert opened["effective_on"] == story["status"].isoformat()
    assert opened["obligation"]["amount_kzt"] == "5000000"
    assert opened["obligation"]["legal_basis"] == obligations.basis_texts("signature_bonus")["en"]


def test_at_before_and_after_each_change(server: str, story: dict[str, Any]) -> None:
    def at(day: dt.date) -> dict[str, Any]:
        r = get(server, f"/api/licences/{NUMBER}/history", at=day.isoformat())
        assert r.status_code == 200, r.text
        return r.json()

    one = dt.timedelta(days=1)
    first = at(story["issued"])
    assert first["licence"]["term_until"] == story["term_until"].isoformat()
    assert len(first["licence"]["blocks"]) == 2
    assert by_kind(first["obligations"], "expiry")[0]["due_on"] == story["term_until"].isoformat()
    assert {e["basis"]["text"] for e in first["history"]} == {"Order No. 1"}

    before_term, after_term = at(story["term"] - one), at(story["term"])
    assert before_term["licence"]["term_until"] == story["term_until"].isoformat()
    assert after_term["licence"]["term_until"] == story["new_term"].isoformat()
    assert by_kind(before_term["obligations"], "expiry")[0]["due_on"] == story["term_until"].isoformat()
    assert by_kind(after_term["obligations"], "expiry")[0]["due_on"] == story["new_term"].isoformat()
    assert "Order No. 2" not in {e["basis"]["text"] for e in before_term["history"]}
    assert "Order No. 2" in {e["basis"]["text"] for e in after_term["history"]}

    before_blocks, after_blocks = at(story["blocks"] - one), at(story["blocks"])
    assert len(before_blocks["licence"]["blocks"]) == 2 and len(after_blocks["licence"]["blocks"]) == 5
    assert {o["parameters"]["blocks"] for o in by_kind(before_blocks["obligations"], "minimum_spend")} == {2}
    assert {o["parameters"]["blocks"] for o in by_kind(after_blocks["obligations"], "minimum_spend")} == {5}

    before_status, after_status = at(story["status"] - one), at(story["status"])
    assert [o["status"] for o in by_kind(before_status["obligations"], "signature_bonus")] == ["open"]
    assert [o["status"] for o in by_kind(after_status["obligations"], "signature_bonus")] == ["met"]
    # Before the licence was issued it did not stand: 404, in the request's language.
    r = get(server, f"/api/licences/{NUMBER}/history", "ru", at=(story["issued"] - one).isoformat())
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("licences.not_found") and "В реестре нет лицензии" in r.json()["detail"]


def test_errors_are_problems_in_the_language(server: str, story: dict[str, Any]) -> None:
    r = get(server, f"/api/licences/{NUMBER}/history", "ru", at="2025-13-40")
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("licences.bad_param") and r.json()["detail"].startswith("Параметр at")
    r = get(server, f"/api/licences/{NUMBER}/history", "kk", at="yesterday")
    assert r.status_code == 400 and "параметрі" in r.json()["detail"]
    r = get(server, "/api/licences/NO-SUCH-LICENCE/history", "ru")
    assert r.status_code == 404 and "NO-SUCH-LICENCE" in r.json()["detail"]


def test_the_licence_carries_its_obligations(server: str, story: dict[str, Any]) -> None:
    plain = get(server, f"/api/licences/{NUMBER}", "ru").json()
    # Every field it had stays, the history too; the obligations are new.
    assert {"number", "holder", "kind", "mineral", "blocks", "issued_on", "term_until", "conditions", "status",
            "source", "state_since", "bbox", "geometry", "history"} < set(plain)
    assert [h["action"] for h in plain["history"]] == ["issue", "change", "change"]
    found = plain["obligations"]
    assert [o["due_on"] for o in found] == sorted(o["due_on"] for o in found)
    bonus = by_kind(found, "signature_bonus")[0]
    assert bonus["status"] == "met" and bonus["amount_kzt"] == "5000000"
    assert bonus["legal_basis"] == obligations.basis_texts("signature_bonus")["ru"]
    spends = by_kind(found, "minimum_spend")
    assert spends and all(o["amount_kzt"] is None or int(o["amount_kzt"]) > 0 for o in spends)
    assert all("opened_by" not in o and "actor" not in o for o in found)   # no actors in the public list
    kk = get(server, f"/api/licences/{NUMBER}", "kk").json()
    assert by_kind(kk["obligations"], "expiry")[0]["legal_basis"] == obligations.basis_texts("expiry")["kk"]
    # As of a date, the obligations of that date.
    old = get(server, f"/api/licences/{NUMBER}", at=story["issued"].isoformat()).json()
    assert by_kind(old["obligations"], "signature_bonus")[0]["status"] == "open"
    assert by_kind(old["obligations"], "expiry")[0]["due_on"] == story["term_until"].isoformat()


def test_obligation_changes_are_journaled(story: dict[str, Any]) -> None:
    with psycopg.connect(get_settings().effective_database_url) as owner:
        from layers.journal import seal

        seal(owner)
        # The licence's own rows name the licence, its obligations' rows name its obligations.
        rows = owner.execute("SELECT action, actor, detail FROM journal WHERE object IN (%s, %s) ORDER BY seq",
                             (f"licence:{NUMBER}", f"obligations:{NUMBER}")).fetchall()
    assert [(a, who) for a, who, _ in rows] == [
        ("licence.issue", OFFICER), ("obligations.recompute", OFFICER),
        ("licence.change", CHANGER), ("obligations.recompute", CHANGER),
        ("licence.change", CHANGER), ("obligations.recompute", CHANGER),
        ("obligations.status", ACCEPTOR)]
    issued, term = rows[1][2], rows[3][2]
    assert issued["closed"] == 0 and issued["opened"] > 0 and "expiry" in issued["opened_keys"]
    assert "expiry" in term["closed_keys"] and "expiry" in term["opened_keys"] and term["basis"] == "Order No. 2"
    assert rows[6][2]["key"] == "signature_bonus" and rows[6][2]["status"] == "met"
    assert rows[6][2]["closed"] == story["bonus_id"] and rows[6][2]["opened"] == story["bonus_new"]


CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("GEOSERVICE_SCREENSHOT_DIR", PROJECT_ROOT / "var" / "screenshots"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make system installs it)")
def test_history_and_as_of_in_the_browser(server: str, story: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    west, south, east, north = get(server, f"/api/licences/{NUMBER}").json()["bbox"]
    expected = get(server, f"/api/licences/{NUMBER}/history").json()
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            # The licence on the map: a click on it, then its popup's button opens the panel.
            lon, lat = (west + east) / 2, (south + north) / 2
            page.goto(f"{server}/?lang=ru#map=12/{lat}/{lon}")
            page.wait_for_function("() => window.geoservice && window.geoservice.idle === true", timeout=60_000)
            box = page.locator("#map").bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            # Clicked once the popup has its full record: it may grow and flip sides when that
            # comes, and a click at the button's old place would land on the map.
            page.locator(f".popup .feature[data-complete=true] .licence-more[data-licence='{NUMBER}']"
                         ).click(timeout=30_000)
            page.locator("#licence-view[data-state=ready], #licence-view[data-state=error]").wait_for(timeout=30_000)
            assert page.locator("#licence-view").get_attribute("data-state") == "ready", \
                page.locator("#licence-view").inner_text()
            view = page.locator("#licence-view[data-state=ready]")
            assert view.locator("h2").inner_text() == f"Лицензия {NUMBER}"
            bonus = view.locator("table.obligations tr[data-key=signature_bonus]")
            assert bonus.get_attribute("data-status") == "met" and "Исполнено" in bonus.inner_text()
            assert view.locator("table.obligations tr[data-key]").count() == len(
                get(server, f"/api/licences/{NUMBER}").json()["obligations"])
            items = view.locator("ol.history li")
            assert items.count() == len(expected["history"])
            assert view.locator("ol.history li[data-type=licence]").count() == 3
            assert "Лицензия выдана" in items.nth(0).inner_text() and "Order No. 1" in items.nth(0).inner_text()
            assert "Открыто → Исполнено" in items.nth(items.count() - 1).inner_text()
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "licence-history-ru.png"))

            # As of the day before the payment was accepted: the bonus open, the change not yet there.
            day = (story["status"] - dt.timedelta(days=1)).isoformat()
            view.locator("#licence-at").fill(day)
            view.locator("#licence-at-show").click()
            page.locator(f"#licence-view[data-state=ready] .summary[data-at='{day}']").wait_for(timeout=30_000)
            assert bonus.get_attribute("data-status") == "open"
            assert "Payment order No. 9" not in view.locator("ol.history").inner_text()
            # Before the licence was issued: the service's problem, in the page's language.
            view.locator("#licence-at").fill((story["issued"] - dt.timedelta(days=1)).isoformat())
            view.locator("#licence-at-show").click()
            page.locator("#licence-view[data-state=error]").wait_for(timeout=30_000)
            assert "В реестре нет лицензии" in page.locator("#licence-view .error").inner_text()
            # Today again, and in Kazakh: the panel asks again in the new language.
            page.locator("#licence-at-today").click()
            page.locator("#langs button[data-lang=kk]").click()
            page.wait_for_function(
                "() => document.querySelector('#licence-view[data-state=ready] h2')"
                "?.textContent.includes('лицензиясы')",
                timeout=30_000)
            assert page.locator("#licence-view tr[data-key=signature_bonus]").get_attribute("data-status") == "met"
            assert "Орындалды" in page.locator("#licence-view tr[data-key=signature_bonus]").inner_text()
        finally:
            browser.close()
    assert problems == []

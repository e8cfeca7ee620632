"""The cabinet's NCALayer path in a real browser (Debian's Chromium driven by Playwright) against
the real app, with a protocol-level test NCALayer (tests/ncalayer.py) on a free port that the
page is pointed at (GEOSERVICE_NCALAYER_URL): sign-in with the AUTHENTICATION key over the
server's nonce, an application signed with the SIGNATURE key (the demo signer, on here, is not
used while NCALayer answers), the person cancelling in NCALayer, and, with the demo off, NCALayer
absent. Own database with open programme areas and the demo people."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from cadastre.demo import load_people
from cadastre.eds.pki import DemoPki, demo_pki
from geoservice.kernel.settings import Settings, get_settings
from tests.applicants import FCFS_AREA, programme_database, square
from tests.live import live_server
from tests.ncalayer import NcaLayerPeer, running_ncalayer
from tests.test_cabinet_browser import CHROMIUM, CHROMIUM_ARGS

APPLICANT = "900315300123"  # АХМЕТОВ СЕРІК БОЛАТҰЛЫ (cadastre/eds/pki.py DEMO_PEOPLE)
APPLICANT_NAME = "АХМЕТОВ СЕРІК БОЛАТҰЛЫ"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                                reason="Debian's chromium is not installed (make system installs it)")


@pytest.fixture(scope="module")
def app_db(database_url: str) -> Iterator[str]:
    with programme_database(database_url, "geoservice_ncal") as url:
        yield url


@pytest.fixture(scope="module")
def pki_settings(app_db: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoPki, Settings]:
    """The demo PKI under this module's var dir, trusted by its database (as `geoservice demo
    load` does), and the settings of a server on that database with the demo on."""
    var_dir = Path(tmp_path_factory.mktemp("ncalayer-var"))
    with psycopg.connect(app_db) as conn:
        load_people(conn, var_dir / "demo-pki")
        conn.commit()
    get_settings.cache_clear()
    return demo_pki(var_dir / "demo-pki"), dataclasses.replace(get_settings(), database_url=app_db, demo=True,
                                                               var_dir=var_dir)


@pytest.fixture(scope="module")
def module_peer(pki_settings: tuple[DemoPki, Settings]) -> Iterator[NcaLayerPeer]:
    with running_ncalayer(pki_settings[0].by_iin(APPLICANT)) as peer:
        yield peer


@pytest.fixture
def peer(module_peer: NcaLayerPeer) -> NcaLayerPeer:
    """The module's test NCALayer, answering and with no requests yet."""
    module_peer.cancel = False
    module_peer.requests.clear()
    return module_peer


@pytest.fixture(scope="module")
def live(pki_settings: tuple[DemoPki, Settings], module_peer: NcaLayerPeer) -> Iterator[str]:
    """The app with the demo on (its signer would answer) and the page pointed at the test NCALayer."""
    with live_server(dataclasses.replace(pki_settings[1], ncalayer_url=module_peer.url)) as url:
        yield url


@dataclasses.dataclass
class Browsing:
    page: Any
    problems: list[str]
    demo_signs: list[str]  # POST /api/demo/sign the page made: none while NCALayer answers


@contextmanager
def cabinet(base: str, lang: str) -> Iterator[Browsing]:
    """A fresh browser on the cabinet in ``lang``, not signed in. The context ignores HTTPS errors:
    Playwright's ignore_https_errors covers wss:// too, so the page accepts the test NCALayer's
    self-signed certificate (as a person's browser accepts NCALayer's own)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(ignore_https_errors=True, viewport={"width": 1100, "height": 900}).new_page()
            seen = Browsing(page, [], [])
            page.on("pageerror", lambda e: seen.problems.append(f"page error: {e}"))
            page.on("request", lambda r: seen.demo_signs.append(r.url)
                    if r.method == "POST" and r.url.endswith("/api/demo/sign") else None)
            page.goto(f"{base}/cabinet?lang={lang}")
            page.wait_for_selector("body[data-ready=true]")
            yield seen
        finally:
            browser.close()


def sign_in(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#signin")).to_be_visible()
    page.click("#signin-button")
    expect(page.locator("#profile")).to_be_visible(timeout=20_000)


def _one(db_url: str, query: str, *params: Any) -> Any:
    with psycopg.connect(db_url) as conn:
        return conn.execute(query, params).fetchone()


def test_sign_in_with_ncalayer(live: str, app_db: str, peer: NcaLayerPeer):
    from playwright.sync_api import expect

    with cabinet(live, "en") as seen:
        page = seen.page
        sign_in(page)
        expect(page.locator("#profile-fields")).to_contain_text(APPLICANT)
        expect(page.locator("#profile-fields")).to_contain_text(APPLICANT_NAME)
        expect(page.locator("#profile-fields")).to_contain_text("DEMO NCA RSA")   # the login certificate's issuer
        expect(page.locator("#signin-status")).to_be_empty()
    assert seen.problems == []
    # NCALayer was asked once: the login key, the content inside, over the nonce the server issued
    # (and has now used up), from the PKCS12 storage.
    (request,) = peer.requests
    assert (request.storage, request.key_type, request.attached) == ("PKCS12", "AUTHENTICATION", True)
    nonce = request.data.decode()
    assert _one(app_db, "SELECT used_at IS NOT NULL FROM signin_challenges WHERE nonce = %s", nonce) == (True,)
    # The session is an EDS sign-in of this person, not a development link.
    assert _one(app_db, "SELECT s.method FROM sessions s JOIN accounts a ON a.id = s.account_id "
                        "WHERE a.iin = %s ORDER BY s.id DESC LIMIT 1", APPLICANT) == ("eds",)


def test_file_an_application_signed_with_ncalayer(live: str, app_db: str, peer: NcaLayerPeer):
    import rfc8785
    from playwright.sync_api import expect

    codes = square(FCFS_AREA, 3, 3, 2)
    with cabinet(live, "en") as seen:
        page = seen.page
        sign_in(page)
        page.wait_for_selector("#applications[data-ready=true]")
        page.fill("#app-blocks", "; ".join(codes))
        page.select_option("#app-mineral", "gold")
        page.click("#app-file")
        filed = page.locator("#app-filed")
        expect(filed).to_be_visible(timeout=20_000)
        number = filed.get_attribute("data-number")
        assert number and number.startswith("APP-"), page.locator("#applications").inner_text()
    assert seen.problems == []
    assert seen.demo_signs == []   # NCALayer answered: the demo signer was never asked

    login, signing = peer.requests
    assert (login.key_type, login.attached) == ("AUTHENTICATION", True)
    assert (signing.storage, signing.key_type, signing.attached) == ("PKCS12", "SIGNATURE", False)
    canonical, signature, valid, signer_iin, signer_name = _one(
        app_db, "SELECT canonical, signature, signature_valid, signer_iin, signer_name FROM applications "
                "WHERE number = %s", number)
    # What NCALayer signed is the RFC 8785 JSON the server stored, and the stored signature is the
    # very CMS NCALayer answered (the demo signer's would be another), verified as this person's.
    assert signing.data == canonical.encode()
    assert rfc8785.dumps(json.loads(canonical)) == signing.data
    assert json.loads(canonical)["applicant"] == {"iin": APPLICANT}
    assert bytes(signature) == signing.cms
    assert (valid, signer_iin) == (True, APPLICANT)
    assert signer_name and "АХМЕТОВ" in signer_name


def test_cancelling_in_ncalayer(live: str, app_db: str, peer: NcaLayerPeer):
    from playwright.sync_api import expect

    applications = _one(app_db, "SELECT count(*) FROM applications")
    with cabinet(live, "kk") as seen:
        page = seen.page
        # Sign-in cancelled: said in Kazakh, nobody signed in.
        peer.cancel = True
        page.click("#signin-button")
        expect(page.locator("#signin-status")).to_have_text("Кіру сәтсіз аяқталды: Қол қою тоқтатылды.",
                                                            timeout=20_000)
        expect(page.locator("#signin-status")).to_have_class("error")
        expect(page.locator("#profile")).to_be_hidden()
        assert page.evaluate("fetch('/api/me').then((r) => r.status)") == 401

        # Signed in, the application's signing cancelled: said in Russian, nothing filed.
        peer.cancel = False
        sign_in(page)
        page.click("#langs [data-lang=ru]")
        page.wait_for_selector("#applications[data-ready=true]")
        page.fill("#app-blocks", "; ".join(square(FCFS_AREA, 6, 6, 2)))
        page.select_option("#app-mineral", "gold")
        peer.cancel = True
        page.click("#app-file")
        status = page.locator("#app-status")
        expect(status).to_contain_text("Подписание отменено.", timeout=20_000)
        expect(status).to_have_class("error")
        expect(page.locator("#app-filed")).to_have_count(0)
    assert seen.problems == []
    assert seen.demo_signs == []   # a cancel is the person's answer: no falling back to the demo signer
    assert [(r.key_type, r.cms is None) for r in peer.requests] == [
        ("AUTHENTICATION", True), ("AUTHENTICATION", False), ("SIGNATURE", True)]
    assert _one(app_db, "SELECT count(*) FROM applications") == applications


def test_without_demo_and_without_ncalayer(pki_settings: tuple[DemoPki, Settings], app_db: str):
    """Production's configuration (no demo signer): NCALayer gone after sign-in, signing says it
    is not running and nothing falls back to the demo signer; signing in says so too."""
    from playwright.sync_api import expect

    pki, settings = pki_settings
    applications = _one(app_db, "SELECT count(*) FROM applications")
    with ExitStack() as stack:
        peer = stack.enter_context(running_ncalayer(pki.by_iin(APPLICANT)))
        off = dataclasses.replace(settings, demo=False, ncalayer_url=peer.url)
        with live_server(off) as base, cabinet(base, "en") as seen:
            page = seen.page
            sign_in(page)
            page.wait_for_selector("#applications[data-ready=true]")
            stack.close()   # NCALayer quits
            page.fill("#app-blocks", "; ".join(square(FCFS_AREA, 9, 9, 2)))
            page.select_option("#app-mineral", "gold")
            page.click("#app-file")
            expect(page.locator("#app-status")).to_contain_text("NCALayer is not running: nothing can be signed.",
                                                                timeout=20_000)
            expect(page.locator("#app-filed")).to_have_count(0)
            page.click("#logout")
            expect(page.locator("#signin")).to_be_visible()
            page.click("#signin-button")
            expect(page.locator("#signin-status")).to_contain_text("NCALayer is not running on this computer",
                                                                   timeout=20_000)
            expect(page.locator("#profile")).to_be_hidden()
        assert seen.problems == []
        assert seen.demo_signs == []
        assert [r.key_type for r in peer.requests] == ["AUTHENTICATION"]
    assert _one(app_db, "SELECT count(*) FROM applications") == applications

"""EDS sign-in end to end: a challenge, an attached CMS over its nonce made with a login key of
the demo PKI (as NCALayer's createCAdESFromBase64 makes it), the login, the session; and every
refusal with its reason: unknown CA, expired, revoked, wrong key usage, content not the nonce,
nonce reused or expired, not in the register, a liquidated company, neither head nor right to
sign."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from cadastre.demo import LIQUIDATED, load_people
from cadastre.eds.pki import DEMO_COMPANY_BIN, DemoPki, Identity, Issued, demo_pki, sign_cms
from layers.access import SESSION_COOKIE
from tests.helpers import sealed


@pytest.fixture(scope="module")
def pki(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    """The demo PKI, its CAs and CRLs trusted by this database, its people in the register."""
    directory = Path(tmp_path_factory.mktemp("signin")) / "pki"
    with psycopg.connect(database_url) as conn:
        load_people(conn, directory)
        conn.commit()
    return demo_pki(directory)


@pytest.fixture
def browser(client: TestClient) -> Iterator[TestClient]:
    client.cookies.clear()
    yield client
    client.cookies.clear()


def login_cms(client: TestClient, signer: Issued, content: bytes | None = None) -> tuple[str, bytes]:
    nonce = client.get("/api/auth/challenge").json()["nonce"]
    return nonce, sign_cms(nonce.encode() if content is None else content, signer)


def login(client: TestClient, cms: bytes, lang: str = "en") -> Any:
    return client.post("/api/auth/login", json={"cms": base64.b64encode(cms).decode()},
                       headers={"Accept-Language": lang})


def journal_since(db: psycopg.Connection, seq: int) -> list[tuple[Any, ...]]:
    sealed(db)  # rows are in the journal once sealed (layers/journal.py)
    return db.execute("SELECT actor, action, result, detail, at FROM journal WHERE seq > %s "
                      "AND action LIKE 'account.log%%' ORDER BY seq", (seq,)).fetchall()


def last_seq(db: psycopg.Connection) -> int:
    sealed(db)  # rows are in the journal once sealed (layers/journal.py)
    return int(db.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0])


def test_sign_in_with_an_rsa_login_key(pki, browser, db):
    person = pki.person("applicant")
    before = last_seq(db)
    _, cms = login_cms(browser, person.auth("rsa"))
    r = login(browser, cms)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token"].startswith("gss_") and body["expires_at"]
    assert body["user"] == {"iin": person.person.iin, "bin": None, "name": person.person.full_name,
                            "organisation": None, "roles": ["applicant"]}
    cookie = r.headers["set-cookie"]
    assert f"{SESSION_COOKIE}={body['token']}" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    me = browser.get("/api/me").json()
    assert "DEMO NCA RSA" in me["certificate"]["issuer"] and me["certificate"]["serial"]
    assert me["register"]["person"]["name"] == person.person.full_name
    assert browser.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"}).status_code == 200
    assert browser.post("/api/auth/logout").status_code == 200
    assert browser.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"}).status_code == 401
    # Login and logout are journaled with their times (auctions need them).
    rows = journal_since(db, before)
    assert [(a, act, res) for a, act, res, _, _ in rows] == [
        (f"IIN{person.person.iin}", "account.login", "ok"), (f"IIN{person.person.iin}", "account.logout", "ok")]
    assert rows[0][3]["method"] == "eds" and rows[0][4] <= rows[1][4]


def test_sign_in_for_a_company_with_a_gost_key(pki, browser):
    head = pki.person("head")
    _, cms = login_cms(browser, head.auth("gost"))
    r = login(browser, cms)
    assert r.status_code == 200, r.text
    assert (r.json()["user"]["bin"], r.json()["user"]["organisation"]) == (DEMO_COMPANY_BIN, "ТОО «ДЕМО ГЕОРЕСУРС»")
    # Not the head, but the right to sign (EKU): admitted too.
    _, cms = login_cms(browser, pki.person("signer").auth("rsa"))
    r = login(browser, cms)
    assert r.status_code == 200, r.text
    assert r.json()["user"]["bin"] == DEMO_COMPANY_BIN


def _issue(pki: DemoPki, identity: Identity, roles: list[str]) -> Issued:
    return pki.authorities["nca-rsa"].issue(identity, purpose="authentication", roles=roles)  # type: ignore[arg-type]


REFUSALS = [
    # (case, code, a word of the Russian text)
    ("unknown_ca", "signin.unknown_ca", "доверенным"),
    ("expired", "signin.expired", "недействителен"),
    ("revoked", "signin.revoked", "отозван"),
    ("wrong_key_usage", "signin.wrong_key_usage", "аутентификации"),
    ("not_the_nonce", "signin.not_the_nonce", "не являются запросом"),
    ("not_in_register", "signin.not_in_register", "отсутствует в государственном реестре"),
    ("liquidated", "signin.company_liquidated", "ликвидировано"),
    ("not_head", "signin.not_head", "права подписи"),
]


@pytest.mark.parametrize(("case", "code", "text"), REFUSALS, ids=[c for c, *_ in REFUSALS])
def test_refusals_say_why(pki, browser, db, case, code, text):
    applicant = pki.person("applicant").person
    signer = {
        "unknown_ca": lambda: pki.person("stranger").auth("rsa"),
        "expired": lambda: pki.person("expired").auth("rsa"),
        "revoked": lambda: pki.person("revoked").auth("rsa"),
        "wrong_key_usage": lambda: pki.person("applicant").sign("rsa"),   # the SIGNATURE key
        "not_the_nonce": lambda: pki.person("applicant").auth("rsa"),
        "not_in_register": lambda: pki.person("unregistered").auth("rsa"),
        "liquidated": lambda: _issue(pki, Identity("АХМЕТОВ СЕРІК", applicant.iin, bin=LIQUIDATED.id,
                                                   organisation=LIQUIDATED.name), ["first_head"]),
        "not_head": lambda: _issue(pki, Identity("АХМЕТОВ СЕРІК", applicant.iin, bin=DEMO_COMPANY_BIN,
                                                 organisation="ТОО «ДЕМО ГЕОРЕСУРС»"), ["employee"]),
    }[case]()
    before = last_seq(db)
    nonce, cms = login_cms(browser, signer, b"test123" if case == "not_the_nonce" else None)
    r = login(browser, cms, "ru")
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == f"urn:geoservice:problem:{code}" and text in r.json()["detail"], r.json()
    assert SESSION_COOKIE not in r.cookies
    (row,) = journal_since(db, before)
    assert row[1:3] == ("account.login", "rejected") and row[3]["problem"] == code


def test_a_nonce_signs_in_once_and_not_after_it_expired(pki, browser, db):
    signer = pki.person("applicant").auth("rsa")
    _, cms = login_cms(browser, signer)
    assert login(browser, cms).status_code == 200
    r = login(browser, cms, "kk")
    assert r.status_code == 401 and r.json()["type"].endswith("signin.nonce_reused")
    assert "бұрын пайдаланылған" in r.json()["detail"]
    nonce, cms = login_cms(browser, signer)
    db.execute("UPDATE signin_challenges SET expires_at = now() - interval '1 second' WHERE nonce = %s", (nonce,))
    r = login(browser, cms)
    assert r.status_code == 401 and r.json()["type"].endswith("signin.nonce_expired")


def test_a_login_is_one_attached_signer(pki, browser):
    from cadastre.eds.pki import add_signer

    nonce, cms = login_cms(browser, pki.person("applicant").auth("rsa"))
    two = add_signer(cms, pki.person("officer").auth("rsa"))
    r = login(browser, two)
    assert r.status_code == 401 and r.json()["type"].endswith("signin.one_signer")
    detached = sign_cms(nonce.encode(), pki.person("applicant").auth("rsa"), detached=True)
    assert login(browser, detached).status_code == 400
    r = login(browser, b"\x30\x03\x02\x01\x01")
    assert r.status_code == 400 and r.json()["type"].endswith("eds.malformed")


def test_the_cookie_is_secure_over_https(pki, browser):
    _, cms = login_cms(browser, pki.person("applicant").auth("rsa"))
    r = browser.post("https://testserver/api/auth/login", json={"cms": base64.b64encode(cms).decode()})
    assert r.status_code == 200, r.text
    assert "Secure" in r.headers["set-cookie"]
    _, cms = login_cms(browser, pki.person("applicant").auth("rsa"))
    assert "Secure" not in login(browser, cms).headers["set-cookie"]

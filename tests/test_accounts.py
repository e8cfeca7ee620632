"""Accounts of the cabinet: the state register file, role grants, development sign-in, sessions
by cookie and Bearer, logout taking effect at once in every server, the profile and contacts,
notifications, and the register checks of a sign-in."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from cadastre import accounts
from cadastre.demo import load_people
from cadastre.registers import TableRegisters, load_register
from geoservice.kernel.errors import Problem
from geoservice.kernel.settings import get_settings
from layers.access import CACHE_SECONDS, SESSION_COOKIE, create_token
from tests.helpers import sealed, write_json, zones
from tests.people import add_company, add_person

GEOSERVICE = [str(Path(sys.executable).with_name("geoservice"))]
# The demo people (cadastre/eds/pki.py DEMO_PEOPLE, loaded by cadastre/demo.py).
DEMO_PERSON = "850721400341"          # head of ТОО «ДЕМО ГЕОРЕСУРС»
DEMO_OFFICER = "880409400785"         # officer of solid-minerals
DEMO_EMPLOYEE = "921102300564"        # works there with the right to sign (EKU), not its head
DEMO_GOLD, LIQUIDATED = "150140000121", "090340000105"


def cli(args: list[str], database_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DATABASE_URL": database_url, **env}
    if "GEOSERVICE_DEMO" not in env:
        environment.pop("GEOSERVICE_DEMO", None)
    return subprocess.run(GEOSERVICE + args, capture_output=True, text=True, env=environment, timeout=120)


def journal_rows(db: psycopg.Connection, action: str, since: int) -> list[tuple]:
    sealed(db)  # rows are in the journal once sealed (layers/journal.py)
    return db.execute("SELECT actor, result, object, detail, client FROM journal WHERE action = %s AND seq > %s "
                      "ORDER BY seq", (action, since)).fetchall()


def last_seq(db: psycopg.Connection) -> int:
    sealed(db)  # rows are in the journal once sealed (layers/journal.py)
    return int(db.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0])


@pytest.fixture(scope="module")
def demo_client(database_url: str) -> Iterator[TestClient]:
    """The app with development sign-in on, and the demo people in the register."""
    from geoservice.app import create_app

    with psycopg.connect(database_url) as conn:
        load_people(conn)
        conn.commit()
    os.environ["GEOSERVICE_DEMO"] = "1"
    get_settings.cache_clear()
    try:
        with TestClient(create_app()) as c:
            yield c
    finally:
        os.environ.pop("GEOSERVICE_DEMO", None)
        get_settings.cache_clear()


@contextmanager
def another_browser(client: TestClient) -> Iterator[TestClient]:
    """The same app (its event loop and pools) with a cookie jar of its own for a while."""
    saved = list(client.cookies.jar)
    client.cookies.clear()
    try:
        yield client
    finally:
        client.cookies.clear()
        for cookie in saved:
            client.cookies.jar.set_cookie(cookie)


def demo_link(database_url: str, iin: str, bin_: str | None = None) -> str:
    with psycopg.connect(database_url) as conn:
        token = accounts.create_demo_link(conn, TableRegisters(conn), iin, bin_, lifetime=timedelta(minutes=5))
        conn.commit()
    return token


def signed_in(client: TestClient, database_url: str, iin: str, bin_: str | None = None) -> str:
    """Sign in through a development link; the session token (also left in the client's cookie)."""
    r = client.get("/cabinet/demo-sign-in", params={"token": demo_link(database_url, iin, bin_)},
                   follow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/cabinet"
    return r.cookies[SESSION_COOKIE]


# --- the register file ----------------------------------------------------------------------------

GOOD_REGISTER = """type,id,name,head_iin,status,tax_debt
individual,111111111111,Иванов Иван,,active,false
individual,222222222222,Сейітов Сейіт,,liquidated,false
legal-entity,333333333333,ТОО «Тест»,111111111111,active,true
"""
BAD_REGISTER = """type,id,name,head_iin,status,tax_debt
individual,111111111111,Иванов Иван,,active,false
person,44444444444,,,alive,maybe
legal-entity,333333333333,ТОО «Тест»,,active,true
individual,111111111111,Дубль,,active,false
"""


def test_registry_load_replaces_the_register_or_changes_nothing(database_url, db, tmp_path):
    try:
        good = tmp_path / "register.csv"
        good.write_text(GOOD_REGISTER, encoding="utf-8")
        before = last_seq(db)
        r = cli(["registry", "load", str(good)], database_url)
        assert r.returncode == 0, r.stderr
        assert "2 individuals, 1 legal entities" in r.stdout
        rows = db.execute("SELECT type, id, name, head_iin, status, tax_debt FROM register_entries "
                          "ORDER BY id").fetchall()
        assert rows == [("individual", "111111111111", "Иванов Иван", None, "active", False),
                        ("individual", "222222222222", "Сейітов Сейіт", None, "liquidated", False),
                        ("legal-entity", "333333333333", "ТОО «Тест»", "111111111111", "active", True)]
        assert [(a, res) for a, res, *_ in journal_rows(db, "register.load", before)] == [("cli", "ok")]

        bad = tmp_path / "bad.csv"
        bad.write_text(BAD_REGISTER, encoding="utf-8")
        r = cli(["registry", "load", str(bad), "--lang", "ru"], database_url)
        assert r.returncode == 2
        # Every fault, by line and column, in the language asked for.
        for text in ("Строка 3, столбец type", "Строка 3, столбец id", "Строка 3, столбец name",
                     "Строка 3, столбец status", "Строка 3, столбец tax_debt", "Строка 4, столбец head_iin",
                     "Строка 5, столбец id: 111111111111 уже указан в строке 2", "ничего не загружено"):
            assert text in r.stderr, (text, r.stderr)
        # Nothing changed, and the refusal is journaled.
        assert db.execute("SELECT count(*) FROM register_entries").fetchone() == (3,)
        assert [res for _, res, *_ in journal_rows(db, "register.load", before)] == ["ok", "rejected"]

        with pytest.raises(Problem) as caught:
            with psycopg.connect(database_url) as conn:
                load_register(conn, b"id,type\n1,2\n", "wrong.csv")
        assert caught.value.key == "registry.bad_header"
        with pytest.raises(Problem) as caught:
            with psycopg.connect(database_url) as conn:
                load_register(conn, b"type,id,name,head_iin,status,tax_debt\n\xff\xfe", "x.csv")
        assert caught.value.key == "registry.not_utf8"
    finally:
        with psycopg.connect(database_url) as conn:  # other tests sign the demo people in
            load_people(conn)
            conn.commit()


# --- role grants ----------------------------------------------------------------------------------

def test_users_grant_revoke_and_list(database_url, db):
    iin = "010101600001"
    before = last_seq(db)
    r = cli(["users", "grant", iin, "officer", "--authority", "akimat"], database_url)
    assert r.returncode == 0 and "granted" in r.stdout, r.stderr
    r = cli(["users", "grant", iin, "officer", "--authority", "akimat"], database_url)
    assert r.returncode == 0 and "already holds" in r.stdout
    r = cli(["users", "grant", iin, "auditor"], database_url)
    assert r.returncode == 0, r.stderr
    for args, text in ((["users", "grant", iin, "officer"], "--authority"),
                       (["users", "grant", iin, "auditor", "--authority", "akimat"], "takes no --authority"),
                       (["users", "grant", iin, "king"], "Unknown role 'king'"),
                       (["users", "grant", "12345", "auditor"], "12 digits"),
                       (["users", "grant", iin, "officer", "--authority", "nobody"], "Unknown authority")):
        r = cli(args, database_url)
        assert r.returncode == 1 and text in r.stderr, (args, r.stderr)
    listing = cli(["users", "list"], database_url).stdout
    assert any(line.split()[:1] == [iin] and "officer" in line and "akimat" in line for line in listing.splitlines())
    r = cli(["users", "revoke", iin, "officer"], database_url)
    assert r.returncode == 0 and "revoked" in r.stdout
    assert db.execute("SELECT role, authority FROM role_grants WHERE iin = %s", (iin,)).fetchall() == \
        [("auditor", None)]
    results = [(res, detail.get("role"), detail.get("problem")) for _, res, _, detail, _ in
               journal_rows(db, "users.grant", before)]
    assert results[:3] == [("ok", "officer", None), ("unchanged", "officer", None), ("ok", "auditor", None)]
    assert [p for res, _, p in results[3:]] == ["accounts.officer_needs_authority",
                                                "accounts.authority_only_for_officers", "accounts.unknown_role",
                                                "accounts.bad_number", "auth.unknown_authority"]
    assert [res for _, res, *_ in journal_rows(db, "users.revoke", before)] == ["ok"]


def test_a_grant_reaches_a_signed_in_session_at_once(demo_client, database_url):
    token = signed_in(demo_client, database_url, DEMO_PERSON)
    bearer = {"Authorization": f"Bearer {token}"}
    assert demo_client.get("/api/me", headers=bearer).json()["roles"] == ["applicant"]
    with psycopg.connect(database_url) as conn:
        accounts.grant_role(conn, DEMO_PERSON, "auditor", actor="test")
        conn.commit()
    try:
        assert demo_client.get("/api/me", headers=bearer).json()["roles"] == ["applicant", "auditor"]
    finally:
        with psycopg.connect(database_url) as conn:
            accounts.revoke_role(conn, DEMO_PERSON, "auditor", actor="test")
            conn.commit()


# --- development sign-in --------------------------------------------------------------------------

def test_demo_sign_in_command_is_refused_without_the_demo_setting(database_url):
    with psycopg.connect(database_url) as conn:
        load_people(conn)
        conn.commit()
    r = cli(["demo", "sign-in", DEMO_PERSON], database_url)
    assert r.returncode == 1 and "GEOSERVICE_DEMO=1" in r.stderr and r.stdout == ""
    r = cli(["demo", "sign-in", DEMO_PERSON], database_url, GEOSERVICE_DEMO="1", GEOSERVICE_PORT="8123")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("http://127.0.0.1:8123/cabinet/demo-sign-in?token=gsd_")
    r = cli(["demo", "sign-in", "010101999999"], database_url, GEOSERVICE_DEMO="1")
    assert r.returncode == 1 and "not in the state register of individuals" in r.stderr


def test_demo_sign_in_route_is_refused_without_the_demo_setting(database_url):
    import dataclasses

    from geoservice.app import create_app

    with psycopg.connect(database_url) as conn:
        load_people(conn)
        conn.commit()
    token = demo_link(database_url, DEMO_PERSON)
    with TestClient(create_app(dataclasses.replace(get_settings(), demo=False))) as client:
        r = client.get("/cabinet/demo-sign-in", params={"token": token}, follow_redirects=False,
                       headers={"Accept-Language": "kk"})
    assert r.status_code == 403
    assert r.json()["type"].endswith("signin.demo_off") and "GEOSERVICE_DEMO=1" in r.json()["detail"]
    assert SESSION_COOKIE not in r.cookies


def test_demo_link_signs_in_once_and_is_journaled(demo_client, database_url, db):
    before = last_seq(db)
    token = demo_link(database_url, DEMO_OFFICER)
    r = demo_client.get("/cabinet/demo-sign-in", params={"token": token}, follow_redirects=False)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    me = demo_client.get("/api/me").json()
    assert (me["iin"], me["roles"], me["authorities"]) == (DEMO_OFFICER, ["applicant", "officer"], ["solid-minerals"])
    r = demo_client.get("/cabinet/demo-sign-in", params={"token": token}, follow_redirects=False,
                        headers={"Accept-Language": "ru"})
    assert r.status_code == 401 and "уже использована" in r.json()["detail"]
    logins = journal_rows(db, "account.login", before)
    assert [(actor, res, det["method"]) for actor, res, _, det, _ in logins] == [
        (f"IIN{DEMO_OFFICER}", "ok", "demo"), ("anonymous", "rejected", "demo")]
    assert logins[1][3]["problem"] == "signin.demo_link_invalid"


def test_register_checks_refuse_with_reasons(demo_client, database_url):
    with psycopg.connect(database_url) as conn:
        registers = TableRegisters(conn)
        cases = [(accounts.Identity("010101999998"), "signin.not_in_register"),
                 (accounts.Identity(DEMO_EMPLOYEE, DEMO_GOLD), "signin.not_head"),
                 (accounts.Identity(DEMO_EMPLOYEE, LIQUIDATED), "signin.company_liquidated"),
                 (accounts.Identity(DEMO_PERSON, "999999999999"), "signin.company_not_in_register")]
        for who, code in cases:
            with pytest.raises(Problem) as caught:
                accounts.check_registers(registers, who)
            assert (caught.value.key, caught.value.status) == (code, 401)
        # The right to sign (from the certificate's EKU) stands in for being the head.
        accounts.check_registers(registers, accounts.Identity(DEMO_EMPLOYEE, DEMO_GOLD,
                                                              rights=frozenset({"right_to_sign"})))
        accounts.check_registers(registers, accounts.Identity(DEMO_PERSON, DEMO_GOLD))
        # Someone who left the register between the link and its use is refused at sign-in.
        add_person(conn, "010101999997", "Уходящий")
        conn.commit()
    token = demo_link(database_url, "010101999997")
    with psycopg.connect(database_url) as conn:
        add_person(conn, "010101999997", "Уходящий", status="liquidated")
        conn.commit()
    r = demo_client.get("/cabinet/demo-sign-in", params={"token": token}, follow_redirects=False,
                        headers={"Accept-Language": "kk"})
    assert r.status_code == 401 and r.json()["type"].endswith("signin.person_inactive")
    assert "010101999997" in r.json()["detail"] and "белсенді емес" in r.json()["detail"]


def test_a_company_account_is_apart_from_the_persons_own(demo_client, database_url):
    with psycopg.connect(database_url) as conn:
        add_company(conn, "010140000001", "ТОО «Отдельная»", DEMO_PERSON)
        conn.commit()
    with another_browser(demo_client) as c:
        signed_in(c, database_url, DEMO_PERSON)
        own = c.get("/api/me").json()
        signed_in(c, database_url, DEMO_PERSON, "010140000001")
        company = c.get("/api/me").json()
    assert own["bin"] is None and company["bin"] == "010140000001"
    assert company["organisation"] == "ТОО «Отдельная»"
    assert company["register"]["legal_entity"]["head_iin"] == DEMO_PERSON


# --- sessions -------------------------------------------------------------------------------------

def test_cookie_and_bearer_and_a_stale_cookie(demo_client, database_url):
    token = signed_in(demo_client, database_url, DEMO_PERSON)
    assert token.startswith("gss_")
    with another_browser(demo_client) as other:   # no cookie: the token as a Bearer token
        assert other.get("/api/me").status_code == 401
        assert other.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()["iin"] == DEMO_PERSON
        r = other.get("/api/me", headers={"Authorization": "Bearer gss_forged"})
        assert r.status_code == 401 and r.json()["type"].endswith("auth.invalid_token")
        # A cookie of an ended session leaves the browser anonymous: public pages keep working.
        other.cookies.set(SESSION_COOKIE, "gss_ended", domain="testserver.local")
        assert other.get("/api/layers").status_code == 200
        r = other.get("/api/me", headers={"Accept-Language": "ru"})
        assert r.status_code == 401 and r.json()["detail"] == "Сначала войдите в кабинет с помощью ЭЦП."
    # An authority's token is no person.
    with psycopg.connect(database_url) as conn:
        _, authority = create_token(conn, "operator", "accounts test")
        conn.commit()
    r = demo_client.get("/api/me", headers={"Authorization": f"Bearer {authority}"})
    assert r.status_code == 403 and r.json()["type"].endswith("auth.role_required")


def test_logout_ends_the_session_at_once_in_every_server(demo_client, database_url, db):
    from geoservice.app import create_app

    token = signed_in(demo_client, database_url, DEMO_PERSON)
    bearer = {"Authorization": f"Bearer {token}"}
    before = last_seq(db)
    with TestClient(create_app()) as second:   # another server process: its own cache and listener
        deadline = time.monotonic() + 10
        while not second.app.state.tokens.listening and time.monotonic() < deadline:
            time.sleep(0.05)
        # Reads there cache the session (cached answers are used while the listener is up).
        cached_at = time.monotonic()
        assert second.get("/api/layers", headers=bearer).status_code == 200
        r = demo_client.post("/api/auth/logout")
        assert r.status_code == 200 and 'gs_session=""' in r.headers["set-cookie"]
        assert demo_client.get("/api/me").status_code == 401
        assert demo_client.get("/api/me", headers=bearer).status_code == 401
        # Only the NOTIFY ends the cached session there before the cache's own expiry: wait for it
        # as long as that proves something (not 2 s, which a loaded machine may exceed).
        deadline = cached_at + CACHE_SECONDS - 1
        while second.get("/api/layers", headers=bearer).status_code == 200:
            assert time.monotonic() < deadline, "the other server still accepts the ended session"
            time.sleep(0.05)
        assert second.get("/api/layers", headers=bearer).json()["type"].endswith("auth.invalid_token")
    (actor, result, obj, detail, client), = journal_rows(db, "account.logout", before)
    assert (actor, result, client) == (f"IIN{DEMO_PERSON}", "ok", "testclient") and obj.startswith("account:")
    assert db.execute("SELECT revoked_at IS NOT NULL FROM sessions WHERE id = %s",
                      (detail["session_id"],)).fetchone() == (True,)


def test_an_expired_session_is_refused(demo_client, database_url, db):
    token = signed_in(demo_client, database_url, DEMO_PERSON)
    bearer = {"Authorization": f"Bearer {token}"}
    assert demo_client.get("/api/layers", headers=bearer).status_code == 200   # cached now
    db.execute("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = "
               "(SELECT max(id) FROM sessions)")
    assert demo_client.get("/api/me", headers=bearer).status_code == 401
    assert demo_client.get("/api/layers", headers=bearer).status_code == 401


# --- challenges -----------------------------------------------------------------------------------

def test_challenges_are_random_single_use_and_expire(client, db):
    first, second = client.get("/api/auth/challenge").json(), client.get("/api/auth/challenge").json()
    assert first["nonce"] != second["nonce"] and len(first["nonce"]) >= 40
    assert db.execute("SELECT expires_at - created_at FROM signin_challenges WHERE nonce = %s",
                      (first["nonce"],)).fetchone()[0] == timedelta(seconds=300)
    with psycopg.connect(db.info.dsn) as conn:
        accounts.consume_challenge(conn, first["nonce"].encode())
        for content, code in ((first["nonce"].encode(), "signin.nonce_reused"), (b"test123", "signin.not_the_nonce"),
                              (b"\xff\xfe", "signin.not_the_nonce")):
            with pytest.raises(Problem) as caught:
                accounts.consume_challenge(conn, content)
            assert caught.value.key == code
        conn.execute("UPDATE signin_challenges SET expires_at = now() - interval '1 second' WHERE nonce = %s",
                     (second["nonce"],))
        with pytest.raises(Problem) as caught:
            accounts.consume_challenge(conn, second["nonce"].encode())
        assert caught.value.key == "signin.nonce_expired"


def test_login_refuses_what_is_not_a_cms(client, db):
    before = last_seq(db)
    for body in ({"cms": "not base64!"}, {"cms": ""}):
        r = client.post("/api/auth/login", json=body, headers={"Accept-Language": "kk"})
        assert r.status_code == 400 and r.json()["type"].endswith("signin.bad_cms"), r.text
    assert client.post("/api/auth/login", json={}).status_code == 400
    assert [(res, d["problem"]) for _, res, _, d, _ in journal_rows(db, "account.login", before)] == \
        [("rejected", "signin.bad_cms")] * 2


# --- the profile, contacts and notifications -------------------------------------------------------

def test_profile_contacts_and_notifications(demo_client, database_url, db):
    from cadastre.notifications import notify

    iin = "010101700001"
    with psycopg.connect(database_url) as conn:
        add_person(conn, iin, "Новичок Тест")
        conn.commit()
    with another_browser(demo_client) as c:
        signed_in(c, database_url, iin)
        me = c.get("/api/me").json()
        assert (me["name"], me["register"]["person"]["status"], me["unread"]) == ("Новичок Тест", "active", 1)
        # The welcome is delivered when the inbox reaches the cabinet, once, with that time.
        assert db.execute("SELECT delivered_at FROM notifications n JOIN accounts a ON a.id = n.account_id "
                          "WHERE a.iin = %s", (iin,)).fetchone() == (None,)
        inbox = c.get("/api/me/notifications", headers={"Accept-Language": "kk"}).json()
        (welcome,) = inbox["notifications"]
        assert welcome["code"] == "notice.welcome" and welcome["delivered_at"] is not None
        assert welcome["text"].startswith("Кабинетке қош келдіңіз, Новичок Тест")
        assert welcome["texts"]["ru"].startswith("Добро пожаловать в кабинет")
        again = c.get("/api/me/notifications").json()["notifications"][0]
        assert again["delivered_at"] == welcome["delivered_at"] and again["text"].startswith("Welcome")
        with psycopg.connect(database_url) as conn:
            other = notify(conn, me_id := _account(conn, DEMO_PERSON), "notice.welcome", name="x")
            notify(conn, _account(conn, iin), "notice.welcome", name="второй")
            conn.commit()
        assert me_id != _account(db, iin)
        assert c.get("/api/me").json()["unread"] == 2
        r = c.post(f"/api/me/notifications/{welcome['id']}/read")
        assert r.status_code == 200 and r.json()["unread"] == 1
        assert c.post(f"/api/me/notifications/{other}/read").status_code == 404   # someone else's
        assert c.get("/api/me").json()["unread"] == 1

        before = last_seq(db)
        r = c.patch("/api/me", json={"email": "nov@example.kz", "phone": "+7 (701) 234-56-78", "address": "Астана"})
        assert r.status_code == 200
        assert r.json()["contacts"] == {"email": "nov@example.kz", "phone": "+77012345678", "address": "Астана"}
        assert c.get("/api/me").json()["contacts"]["phone"] == "+77012345678"
        for change, code in (({"email": "not-an-email"}, "cabinet.bad_email"), ({"phone": "12"}, "cabinet.bad_phone"),
                             ({"address": "x" * 501}, "cabinet.bad_address"), ({"email": 5}, "cabinet.bad_contact"),
                             ({"address": "a\nb"}, "cabinet.bad_contact")):
            r = c.patch("/api/me", json=change, headers={"Accept-Language": "ru"})
            assert r.status_code == 422 and r.json()["type"].endswith(code), r.text
        assert c.patch("/api/me", json={"address": ""}).json()["contacts"]["address"] is None
        assert [d["changed"] for _, _, _, d, _ in journal_rows(db, "account.contacts", before)] == [
            ["address", "email", "phone"], ["address"]]


def _account(conn: psycopg.Connection, iin: str) -> int:
    return int(conn.execute("SELECT id FROM accounts WHERE iin = %s AND bin IS NULL", (iin,)).fetchone()[0])


# --- officers write layers -------------------------------------------------------------------------

def test_an_officer_uploads_for_their_authority(demo_client, database_url, db, tmp_path, keep_current):
    path = write_json(tmp_path / "zones.geojson", zones(2, prefix="OFF"))
    files = {"file": (path.name, path.read_bytes())}
    with another_browser(demo_client) as c:
        signed_in(c, database_url, DEMO_OFFICER)   # solid-minerals: may not write restriction zones
        r = c.post("/api/layers/restriction-zones/uploads", files=files)
        assert r.status_code == 403 and r.json()["type"].endswith("auth.forbidden_layer")
    with psycopg.connect(database_url) as conn:
        accounts.grant_role(conn, DEMO_OFFICER, "officer", "environment", actor="test")
        conn.commit()
    try:
        with another_browser(demo_client) as c:
            signed_in(c, database_url, DEMO_OFFICER)
            r = c.post("/api/layers/restriction-zones/uploads", files=files)
            assert r.status_code == 201, r.text
        row = db.execute("SELECT authority, token_id FROM layer_versions WHERE layer_id = 'restriction-zones' "
                         "AND version = %s", (r.json()["version"],)).fetchone()
        assert row == ("environment", None)
        sealed(db)  # rows are in the journal once sealed (layers/journal.py)
        assert db.execute("SELECT actor FROM journal WHERE action = 'upload' AND result = 'ok' AND version = %s "
                          "AND layer_id = 'restriction-zones'", (r.json()["version"],)).fetchone() == \
            (f"IIN{DEMO_OFFICER}",)
    finally:
        with psycopg.connect(database_url) as conn:
            accounts.revoke_role(conn, DEMO_OFFICER, "officer", "environment", actor="test")
            conn.commit()


def test_the_local_settings_file_turns_the_demo_on_for_the_next_command(database_url, tmp_path):
    """`make serve` writes GEOSERVICE_DEMO=1 into var/local.env: a newcomer's next command,
    `geoservice demo sign-in IIN`, then works without setting anything; the environment wins
    over the file, and production never reads it."""
    from geoservice.kernel.settings import Settings, local_settings

    with psycopg.connect(database_url) as conn:
        load_people(conn)
        conn.commit()
    local = tmp_path / "local.env"
    local.write_text("# written by make serve\nGEOSERVICE_DEMO=1\nNOT_OURS=1\n", encoding="utf-8")
    assert local_settings({"GEOSERVICE_LOCAL_SETTINGS": str(local)}) == {"GEOSERVICE_DEMO": "1"}
    assert local_settings({"GEOSERVICE_LOCAL_SETTINGS": str(local), "GEOSERVICE_PRODUCTION": "1"}) == {}
    assert local_settings({"GEOSERVICE_LOCAL_SETTINGS": ""}) == {}
    r = cli(["demo", "sign-in", DEMO_PERSON], database_url, GEOSERVICE_LOCAL_SETTINGS=str(local))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("http://127.0.0.1:8000/cabinet/demo-sign-in?token=gsd_")
    r = cli(["demo", "sign-in", DEMO_PERSON], database_url, GEOSERVICE_LOCAL_SETTINGS=str(local), GEOSERVICE_DEMO="0")
    assert r.returncode == 1 and "GEOSERVICE_DEMO=1" in r.stderr
    assert Settings.from_env({"GEOSERVICE_DEMO": "1"}).demo  # an explicit mapping reads no file


def test_another_sites_page_cannot_write_with_the_cookie(demo_client, database_url):
    """The session cookie is not the person's word for a write from another site (Origin or
    Fetch metadata naming it): the write is anonymous (401); from the cabinet itself it works."""
    signed_in(demo_client, database_url, DEMO_PERSON)
    contacts = {"email": "a@example.kz"}
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}):
        r = demo_client.patch("/api/me", json=contacts, headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert demo_client.get("/api/me", headers=headers).status_code == 200  # reads are not writes
    r = demo_client.patch("/api/me", json=contacts,
                          headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 200, r.text
    assert demo_client.get("/api/me").json()["contacts"]["email"] == "a@example.kz"

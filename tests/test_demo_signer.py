"""The development signer (POST /api/demo/sign): refused unless GEOSERVICE_DEMO is on; with it,
a signed-in demo person gets a detached CMS made with their own SIGNATURE key, which verifies
with the SIGNATURE purpose against the trusted demo CA and names the caller as its signer."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import rfc8785
from fastapi.testclient import TestClient

from cadastre.demo import load_people
from cadastre.eds.pki import DEMO_PEOPLE, demo_pki
from cadastre.eds.verify import verify_cms
from cadastre.eds_trust import load_trust
from geoservice.kernel import clock
from geoservice.kernel.settings import get_settings
from tests.applicants import session_token
from tests.people import add_person

APPLICANT = DEMO_PEOPLE[0].iin     # АХМЕТОВ СЕРІК, an applicant with a signing key
OFFICER = "880409400785"           # the demo officer
REVOKED = "950505301010"           # a demo person with a revoked login key and no signing key
STRANGER = "020202500777"          # in the register, not a demo person


@pytest.fixture(scope="module")
def var_dir(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = Path(tmp_path_factory.mktemp("demo-signer"))
    with psycopg.connect(database_url) as conn:
        load_people(conn, directory / "demo-pki")   # the demo CA trusted, as `demo load` does
        conn.commit()
    return directory


def _client(var_dir: Path, demo: bool) -> TestClient:
    from geoservice.app import create_app

    get_settings.cache_clear()
    return TestClient(create_app(dataclasses.replace(get_settings(), demo=demo, var_dir=var_dir)))


@pytest.fixture(scope="module")
def demo_on(var_dir: Path) -> Iterator[TestClient]:
    with _client(var_dir, True) as c:
        yield c


@pytest.fixture(scope="module")
def demo_off(var_dir: Path) -> Iterator[TestClient]:
    with _client(var_dir, False) as c:
        yield c


def _bearer(database_url: str, iin: str) -> dict[str, str]:
    with psycopg.connect(database_url) as conn:
        token = session_token(conn, iin)
        conn.commit()
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


DATA = rfc8785.dumps({"kind": "exploration-licence", "applicant": {"iin": APPLICANT}, "documents": []})
BODY = {"data": base64.b64encode(DATA).decode()}


def test_refused_when_demo_is_off(demo_off, database_url):
    r = demo_off.post("/api/demo/sign", json=BODY, headers=_bearer(database_url, APPLICANT))
    assert r.status_code == 403
    assert r.json()["type"].endswith("signin.demo_off")
    assert "cms" not in r.json()


def test_refused_without_a_session(demo_on):
    r = demo_on.post("/api/demo/sign", json=BODY)
    assert r.status_code == 401


@pytest.mark.parametrize("iin", [APPLICANT, OFFICER])
def test_signs_with_the_callers_own_signature_key(demo_on, database_url, iin):
    r = demo_on.post("/api/demo/sign", json=BODY, headers=_bearer(database_url, iin))
    assert r.status_code == 200, r.text
    cms = base64.b64decode(r.json()["cms"])
    with psycopg.connect(database_url) as conn:
        trust, revocation = load_trust(conn)
    result = verify_cms(cms, DATA, trust=trust, revocation=revocation, now=clock.now(), purpose="signature")
    assert result.valid, [s.problems for s in result.signers]
    assert result.content is None                       # detached: the data is not inside
    (signer,) = result.signers
    assert signer.iin == iin
    # Over other bytes the same signature does not verify: it is a signature over DATA.
    other = verify_cms(cms, DATA + b" ", trust=trust, revocation=revocation, now=clock.now(), purpose="signature")
    assert not other.valid


def test_bad_bodies_and_people_without_a_key(demo_on, database_url, var_dir):
    headers = _bearer(database_url, APPLICANT)
    for body in ({}, {"data": 5}, {"data": "not base64!"}, {"data": ""}, {"data": "QQ==", "more": 1}):
        r = demo_on.post("/api/demo/sign", json=body, headers=headers)
        assert r.status_code == 400 and r.json()["type"].endswith("signin.demo_sign_bad_data"), (body, r.text)
    # A demo person whose only key is a (revoked) login key, and a person who is not in the demo.
    assert set(demo_pki(var_dir / "demo-pki").by_iin(REVOKED).certificates) == {"rsa-auth", "gost-auth"}
    with psycopg.connect(database_url) as conn:
        add_person(conn, STRANGER, "БӨТЕН АДАМ")
        conn.commit()
    for iin in (REVOKED, STRANGER):
        r = demo_on.post("/api/demo/sign", json=BODY, headers=_bearer(database_url, iin))
        assert r.status_code == 404 and r.json()["type"].endswith("signin.demo_no_signing_key"), r.text
        assert iin in r.json()["detail"]

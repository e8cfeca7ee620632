"""POST /api/signatures/verify through the app, with the NCA test CAs and CRLs in the database."""

from __future__ import annotations

import base64

import psycopg
import pytest
from cryptography.hazmat.primitives import serialization

from cadastre import eds_trust
from tests.eds_helpers import CA_FILES, CRL_FILES, Pki, sign_cms, vector

URL = "/api/signatures/verify"
AT = "2022-09-27T21:18:00Z"


@pytest.fixture(scope="module")
def trusted(database_url):
    with psycopg.connect(database_url) as conn:
        for name in CA_FILES:
            eds_trust.add_certificate(conn, vector(name), actor="test", client="test")
        for name in CRL_FILES:
            eds_trust.add_crl(conn, vector(name), actor="test", client="test")
        conn.commit()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_attached_cms_as_of_signing_time(client, trusted):
    res = client.post(URL, json={"cms": b64(vector("cms_attached_two_signers.der")), "at": AT},
                      headers={"Accept-Language": "ru"})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["valid"] is False
    gost, rsa = body["signers"]
    assert set(gost) >= {"iin", "bin", "organisation", "name", "algorithm", "roles", "certificate", "checks",
                         "problems"}
    assert (gost["iin"], gost["algorithm"], gost["roles"]) == ("123456789012", "GOST34.10-2015-512", ["individual"])
    assert {k: v["result"] for k, v in gost["checks"].items()} == dict.fromkeys(
        ("signature", "chain", "validity", "revocation", "key_usage"), "ok")
    assert gost["problems"] == []
    assert rsa["checks"]["validity"]["problem"] == "eds.expired_at_signing"
    assert rsa["problems"][0]["code"] == "eds.expired_at_signing"
    assert "Сертификат не действовал" in rsa["problems"][0]["message"]
    assert rsa["certificate"]["serial"] == "4279390A141F5353A62947B61ED65E81741467D1"


def test_detached_cms_and_xml(client, trusted):
    res = client.post(URL, json={"cms": b64(vector("cms_detached_two_signers.der")),
                                 "data": b64(vector("cms_detached_content.txt")), "at": "2022-09-27T21:30:00+00:00"})
    assert res.status_code == 200 and res.json()["signers"][0]["checks"]["signature"]["result"] == "ok"
    res = client.post(URL, json={"cms": b64(vector("cms_detached_two_signers.der")), "data": b64(b"test124"),
                                 "at": AT}, headers={"Accept-Language": "kk"})
    assert res.status_code == 200
    assert [s["checks"]["signature"]["problem"] for s in res.json()["signers"]] == ["eds.content_mismatch"] * 2
    res = client.post(URL, json={"xml": vector("xmldsig_two_signers.xml").decode(), "at": AT})
    rsa, gost = res.json()["signers"]
    assert res.status_code == 200 and rsa["checks"]["signature"]["result"] == gost["checks"]["signature"]["result"]
    assert gost["checks"]["revocation"]["result"] == "ok" and gost["algorithm"] == "GOST34.10-2015-512"


def test_as_of_now_expired(client, trusted):
    res = client.post(URL, json={"cms": b64(vector("cms_attached_rsa.der"))})
    (signer,) = res.json()["signers"]
    assert signer["checks"]["validity"]["at_check"] == "expired"
    assert "eds.expired_now" in [p["code"] for p in signer["problems"]]


@pytest.mark.parametrize(("body", "code"), [
    ({"cms": "not base64!"}, "eds.malformed"),
    ({"cms": b64(b"garbage")}, "eds.malformed"),
    ({"cms": b64(vector("cms_detached_two_signers.der"))}, "eds.malformed"),  # detached without data
    ({"xml": "<a><b/>"}, "eds.malformed"),
    ({"xml": "<a/>"}, "eds.malformed"),
    ({}, "eds.input_required"),
    ({"cms": b64(vector("cms_attached_rsa.der")), "xml": "<a/>"}, "eds.input_required"),
    ({"cms": b64(vector("cms_attached_rsa.der")), "at": "yesterday"}, "eds.at_invalid"),
    ({"cms": b64(vector("cms_attached_rsa.der")), "at": "2022-09-27T21:18:00"}, "eds.at_invalid"),
])
def test_malformed_is_a_400_problem(client, body, code):
    res = client.post(URL, json=body, headers={"Accept-Language": "en"})
    assert res.status_code == 400, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["type"] == f"urn:geoservice:problem:{code}"


def test_trust_added_later_is_seen(client, database_url):
    pki = Pki("API TEST CA")
    cert, key = pki.issue()
    cms_b64 = b64(sign_cms(b"hello", cert, key))
    first = client.post(URL, json={"cms": cms_b64}).json()["signers"][0]
    assert first["checks"]["chain"]["problem"] == "eds.unknown_ca"
    with psycopg.connect(database_url) as conn:
        eds_trust.add_certificate(conn, pki.cert.public_bytes(serialization.Encoding.PEM), actor="test")
        conn.commit()
    second = client.post(URL, json={"cms": cms_b64}).json()
    assert second["signers"][0]["checks"]["chain"]["result"] == "ok"
    assert second["signers"][0]["checks"]["revocation"]["result"] == "unknown"  # no CRL of it stored
    with psycopg.connect(database_url) as conn:
        eds_trust.add_crl(conn, pki.crl([]), actor="test")
        conn.commit()
    third = client.post(URL, json={"cms": cms_b64}).json()
    assert third["valid"] is True, third

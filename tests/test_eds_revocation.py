"""Revocation through the real NCA CRLs and OCSP responses, the HTTP adapter against a local
HTTP server, and the cases a generated RSA PKI covers: revoked, expired, unknown CA, wrong key
usage or purpose."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from cadastre.eds.certificates import Certificate
from cadastre.eds.revocation import ChainRevocation, FileRevocation, HttpRevocation
from cadastre.eds.trust import TrustStore
from cadastre.eds.verify import verify_cms
from tests.eds_helpers import CLIENT_AUTH, Pki, sign_cms, vector

GOST2015_CA = Certificate(vector("nca_gost2015_test.cer"))
GOST2004_CA = Certificate(vector("nca_gost_test.crt"))
RSA_CA = Certificate(vector("nca_rsa_test.crt"))
RSA_SIGNER = 0x4279390A141F5353A62947B61ED65E81741467D1  # the RSA signer of the CMS vectors


def stand_in(issuer: Certificate, serial: int) -> Certificate:
    """A certificate with ``serial`` under ``issuer``'s name: the OCSP responses of the vectors
    name certificates that are not among the vectors, and revocation is asked by issuer and
    serial only (its own signature is the chain check's business)."""
    pki = Pki()
    issuer_name = x509.load_der_x509_certificate(issuer.der).subject
    cert = (x509.CertificateBuilder().subject_name(pki.name).issuer_name(issuer_name)
            .public_key(pki.key.public_key()).serial_number(serial)
            .not_valid_before(datetime(2022, 1, 1, tzinfo=UTC)).not_valid_after(datetime(2023, 12, 1, tzinfo=UTC))
            .sign(pki.key, hashes.SHA256()))
    return Certificate(cert.public_bytes(serialization.Encoding.DER))


def ocsp(name: str) -> FileRevocation:
    return FileRevocation([], [vector(f"ocsp_response_{name}.bin")])


def test_first_head_2015_revoked_by_ocsp_and_by_crl():
    cert = stand_in(GOST2015_CA, 0x3A90343E720594C55204B19CB9A402422EF0E622)
    at = datetime(2022, 9, 1, tzinfo=UTC)
    answer = ocsp("ceo_2015_revoked").status(cert, GOST2015_CA, at)
    assert (answer.state, answer.source, answer.reason) == ("revoked", "ocsp", "certificate_hold")
    assert answer.revoked_at == datetime(2022, 7, 27, 10, 25, 30, tzinfo=UTC)
    answer = FileRevocation([vector("nca_gost2022_test.crl")]).status(cert, GOST2015_CA, at)
    assert (answer.state, answer.source) == ("revoked", "crl")
    # Before it was revoked, it was good (the CRL was issued later and lists the date).
    crl = FileRevocation([vector("nca_gost2022_test.crl")])
    assert crl.status(cert, GOST2015_CA, datetime(2022, 7, 1, tzinfo=UTC)).state == "good"


def test_first_head_2004_revoked_by_a_delegated_gost_2004_responder():
    cert = stand_in(GOST2004_CA, 0x12E3E7B9966D09EB9CDA64251457E815C2A8DDED)
    answer = ocsp("ceo_sign_2004_revoked").status(cert, GOST2004_CA, datetime(2022, 9, 1, tzinfo=UTC))
    assert (answer.state, answer.source, answer.reason) == ("revoked", "ocsp", "superseded")
    assert FileRevocation([vector("nca_gost_test.crl")]).status(
        cert, GOST2004_CA, datetime(2022, 9, 1, tzinfo=UTC)).state == "revoked"


def test_individual_good_by_ocsp_while_the_answer_is_fresh():
    cert = stand_in(RSA_CA, RSA_SIGNER)
    source = ocsp("individual_sign_2004")
    answer = source.status(cert, RSA_CA, datetime(2022, 9, 2, tzinfo=UTC))
    assert (answer.state, answer.source) == ("good", "ocsp")
    # The response (2022-09-02 16:53, no nextUpdate) says nothing about a later time.
    assert source.status(cert, RSA_CA, datetime(2022, 9, 27, tzinfo=UTC)).state == "unknown"
    # Another CA's certificate with the same serial is not this response's business.
    other = stand_in(GOST2004_CA, RSA_SIGNER)
    assert source.status(other, GOST2004_CA, datetime(2022, 9, 2, tzinfo=UTC)).state == "unknown"


def test_ocsp_response_is_checked_against_the_issuer():
    """The response for the RSA CA's certificate, asked with an issuer whose name matches but
    whose key is another: the CertID does not match and the responder was not delegated by it."""
    cert = stand_in(RSA_CA, RSA_SIGNER)
    pki = Pki()
    fake_ca = x509.load_der_x509_certificate(RSA_CA.der)
    impostor = Certificate((x509.CertificateBuilder().subject_name(fake_ca.subject).issuer_name(fake_ca.subject)
                            .public_key(pki.key.public_key()).serial_number(1)
                            .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
                            .not_valid_after(datetime(2030, 1, 1, tzinfo=UTC))
                            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                            .sign(pki.key, hashes.SHA256())).public_bytes(serialization.Encoding.DER))
    assert ocsp("individual_sign_2004").status(cert, impostor, datetime(2022, 9, 2, tzinfo=UTC)).state == "unknown"
    assert FileRevocation([vector("nca_rsa_test.crl")]).status(cert, impostor,
                                                                datetime(2022, 9, 2, tzinfo=UTC)).state == "unknown"


def test_responder_never_issued_marker_counts_as_revoked():
    # The "individual 2015" response answers revoked / 1970-01-01 / certificateHold for the
    # GOST-2015 signer of the CMS vectors: RFC 6960's form for a certificate it never issued.
    cert = stand_in(GOST2015_CA, 0x0FF06211DC82BEB00253FFA000F1DE84ABEF454F)
    answer = ocsp("individual_2015").status(cert, GOST2015_CA, datetime(2022, 9, 1, tzinfo=UTC))
    assert (answer.state, answer.reason) == ("revoked", "not_issued")


def test_nothing_decides_unknown():
    cert = stand_in(RSA_CA, RSA_SIGNER)
    at = datetime(2022, 9, 27, tzinfo=UTC)
    assert FileRevocation().status(cert, RSA_CA, at).state == "unknown"
    # The RSA CRL's nextUpdate is 2022-09-25: stale on the 27th.
    assert FileRevocation([vector("nca_rsa_test.crl")]).status(cert, RSA_CA, at).state == "unknown"
    assert FileRevocation([vector("nca_rsa_test.crl")]).status(cert, RSA_CA, at - timedelta(days=3)).state == "good"
    chained = ChainRevocation([FileRevocation(), ocsp("individual_sign_2004")])
    assert chained.status(cert, RSA_CA, at).state == "unknown"
    assert chained.status(cert, RSA_CA, datetime(2022, 9, 1, tzinfo=UTC)).state == "good"


# --- HTTP ---------------------------------------------------------------------------------------

@pytest.fixture
def crl_server() -> Iterator[tuple[str, list[str]]]:
    files = {"/rsa.crl": vector("nca_rsa_test.crl"), "/gost.crl": vector("nca_gost_test.crl")}
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            seen.append(self.path)
            body = files.get(self.path)
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def do_POST(self) -> None:  # noqa: N802
            seen.append("POST " + self.path)
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(vector("ocsp_response_individual_sign_2004.bin"))  # a stale nonce

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_http_crl_fetched_once_until_next_update(crl_server):
    base, seen = crl_server
    cert = stand_in(RSA_CA, RSA_SIGNER)
    clock = [datetime(2022, 9, 1, tzinfo=UTC)]
    source = HttpRevocation(crl_urls=[f"{base}/rsa.crl"], use_ocsp=False, now=lambda: clock[0], timeout=2)
    assert source.status(cert, RSA_CA, clock[0]).state == "good"
    assert source.status(cert, RSA_CA, clock[0]).state == "good"
    assert seen == ["/rsa.crl"]
    clock[0] = datetime(2022, 9, 26, tzinfo=UTC)  # past the CRL's nextUpdate: fetched again
    assert source.status(cert, RSA_CA, clock[0]).state == "unknown"  # and still stale
    assert seen == ["/rsa.crl", "/rsa.crl"]
    revoked = stand_in(GOST2004_CA, 0x12E3E7B9966D09EB9CDA64251457E815C2A8DDED)
    gost = HttpRevocation(crl_urls=[f"{base}/gost.crl"], use_ocsp=False, timeout=2)
    assert gost.status(revoked, GOST2004_CA, datetime(2022, 9, 1, tzinfo=UTC)).state == "revoked"


def test_http_ocsp_with_a_wrong_nonce_and_unreachable_sources_are_unknown(crl_server):
    base, seen = crl_server
    cert = stand_in(RSA_CA, RSA_SIGNER)
    source = HttpRevocation(ocsp_url=f"{base}/ocsp", use_crl=False, timeout=2)
    answer = source.status(cert, RSA_CA, datetime(2022, 9, 2, tzinfo=UTC))
    assert answer.state == "unknown" and seen == ["POST /ocsp"]
    dead = HttpRevocation(ocsp_url="http://127.0.0.1:9/ocsp", crl_urls=["http://127.0.0.1:9/x.crl"], timeout=1)
    answer = dead.status(cert, RSA_CA, datetime(2022, 9, 2, tzinfo=UTC))
    assert answer.state == "unknown" and "127.0.0.1:9" in (answer.detail or "")


# --- a generated PKI: revoked, expired, unknown CA, key usage, purpose ---------------------------

@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


def verify(pki: Pki, cert, user_key, *, revoked=(), purpose=None, trust=None, crl=True):
    cms_der = sign_cms(b"nonce-123", cert, user_key)
    trust = trust or TrustStore([pki.der])
    source = FileRevocation([pki.crl(list(revoked))] if crl else [])
    return verify_cms(cms_der, trust=trust, revocation=source, now=datetime.now(UTC), purpose=purpose)


def test_generated_valid_signer(pki):
    cert, user_key = pki.issue(bin_="123456789021", org='ТОО "ТЕСТ"', eku=("1.3.6.1.5.5.7.3.4", "1.2.398.3.3.4.1.2",
                                                                         "1.2.398.3.3.4.1.2.2"))
    v = verify(pki, cert, user_key, purpose="signature")
    (signer,) = v.signers
    assert v.valid and v.content == b"nonce-123", signer.problems
    assert (signer.iin, signer.bin, signer.organisation) == ("123456789011", "123456789021", 'ТОО "ТЕСТ"')
    assert signer.roles == ["legal_entity", "right_to_sign"] and signer.algorithm == "RSA-SHA256"
    assert signer.signed_at is not None


def test_generated_revoked(pki):
    cert, user_key = pki.issue()
    v = verify(pki, cert, user_key, revoked=[cert])
    assert not v.valid and v.signers[0].checks["revocation"]["problem"] == "eds.revoked"
    v = verify(pki, cert, user_key, crl=False)
    assert not v.valid and v.signers[0].checks["revocation"]["result"] == "unknown"


def test_generated_expired_and_not_yet_valid(pki):
    now = datetime.now(UTC)
    cert, user_key = pki.issue(not_before=now - timedelta(days=400), not_after=now - timedelta(days=1))
    assert verify(pki, cert, user_key).signers[0].checks["validity"]["problem"] == "eds.expired_at_signing"
    cert, user_key = pki.issue(not_before=now + timedelta(days=1), not_after=now + timedelta(days=400))
    assert verify(pki, cert, user_key).signers[0].checks["validity"]["problem"] == "eds.not_yet_valid"


def test_generated_unknown_ca(pki):
    cert, user_key = pki.issue()
    v = verify(pki, cert, user_key, trust=TrustStore([Pki("OTHER CA").der]))
    assert v.signers[0].checks["chain"]["problem"] == "eds.unknown_ca"


def test_generated_wrong_key_usage_and_purpose(pki):
    cert, user_key = pki.issue(usage="encrypt")
    assert verify(pki, cert, user_key).signers[0].checks["key_usage"]["problem"] == "eds.key_usage"
    cert, user_key = pki.issue()  # a signing key (emailProtection), used to sign in
    v = verify(pki, cert, user_key, purpose="authentication")
    assert v.signers[0].checks["key_usage"]["problem"] == "eds.wrong_purpose"
    cert, user_key = pki.issue(eku=(CLIENT_AUTH, "1.2.398.3.3.4.1.1"))
    assert verify(pki, cert, user_key, purpose="authentication").valid


def test_generated_issuer_that_is_not_a_ca(pki):
    leaf, leaf_key = pki.issue()
    # A certificate "issued" by the end-entity leaf: its issuer has no CA flag.
    from tests.eds_helpers import key, name

    sub_key = key()
    sub = (x509.CertificateBuilder().subject_name(name("SUB", iin="123456789099")).issuer_name(leaf.subject)
           .public_key(sub_key.public_key()).serial_number(7)
           .not_valid_before(datetime.now(UTC) - timedelta(days=1))
           .not_valid_after(datetime.now(UTC) + timedelta(days=9))
           .sign(leaf_key, hashes.SHA256()))
    cms_der = sign_cms(b"x", sub, sub_key)
    trust = TrustStore([pki.der])
    chain = trust.chain(Certificate(sub.public_bytes(serialization.Encoding.DER)),
                        [Certificate(leaf.public_bytes(serialization.Encoding.DER))])
    assert chain.problem == "eds.issuer_not_ca"
    v = verify_cms(cms_der, trust=trust, revocation=FileRevocation(), now=datetime.now(UTC))
    assert v.signers[0].checks["chain"]["problem"] == "eds.unknown_ca"

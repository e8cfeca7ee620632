"""Signature verification on the real NCA test vectors (../shared/data/eds-nca-test), tampered
copies of them, and their real CRLs and OCSP responses."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from asn1crypto import cms

from cadastre.eds import algorithms, oids
from cadastre.eds.certificates import Certificate
from cadastre.eds.gost3411_94 import gost3411_94
from cadastre.eds.revocation import Crl, FileRevocation
from cadastre.eds.trust import TrustStore
from cadastre.eds.verify import verify_cms, verify_xml
from geoservice.kernel.errors import Problem
from tests.eds_helpers import CA_FILES, CRL_FILES, SIGNED_AT, Pki, vector

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def trust() -> TrustStore:
    return TrustStore([vector(f) for f in CA_FILES])


@pytest.fixture(scope="module")
def crls() -> FileRevocation:
    return FileRevocation([vector(f) for f in CRL_FILES])


def results(signer) -> dict[str, str]:
    return {name: check["result"] for name, check in signer.checks.items()}


def codes(signer) -> list[str]:
    return [p["code"] for p in signer.problems]


# --- primitives ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("message", "expected"), [
    (b"abc", "f3134348c44fb1b2a277729e2285ebb5cb5e0f29c975bc753b70497c06a4d51d"),
    (b"", "ce85b99cc46752fffee35cab9a7b0278abb4c2d2055cff685af4912c49490f8d"),
    (b"message digest", "ad4434ecb18f2c99b60cbe59ec3d2469582b65273f48de72db2fde16a4889a4d"),
    (b"The quick brown fox jumps over the lazy dog",
     "77b7fa410c9ac58a25f49bca7d0468c9296529315eaca76bd1a10f376d1f4294"),
])
def test_gost_34_311_95_test_vectors(message, expected):
    assert gost3411_94(message).hex() == expected


def test_gost_2004_certificate_signed_by_its_ca(trust):
    ceo = Certificate(vector("ceo_valid_sign_2004_gost.cer"))
    ca = Certificate(vector("nca_gost_test.crt"))
    assert ceo.signature_algorithm == oids.GOST2004_SIGNATURE
    assert algorithms.verify_signature(ceo.signature_algorithm, ca.spki_der, ceo.signature, ceo.tbs_der, None)
    broken = bytearray(ceo.tbs_der)
    broken[-40] ^= 1
    assert not algorithms.verify_signature(ceo.signature_algorithm, ca.spki_der, ceo.signature, bytes(broken), None)
    chain = trust.chain(ceo)
    assert chain.ok and chain.issuer == ca
    assert (ceo.iin, ceo.bin, ceo.organisation) == ("123456789011", "123456789021", 'АО "ТЕСТ"')
    assert ceo.roles == ["legal_entity", "first_head"]


def test_gost_2004_crl_signed_by_its_ca():
    crl = Crl(vector("nca_gost_test.crl"))
    assert crl.signature_algorithm == oids.GOST2004_SIGNATURE and len(crl.entries) == 31
    assert crl.issued_by(Certificate(vector("nca_gost_test.crt")))
    assert not crl.issued_by(Certificate(vector("nca_rsa_test.crt")))
    assert Crl(vector("nca_gost2022_test.crl")).issued_by(Certificate(vector("nca_gost2015_test.cer")))
    assert Crl(vector("nca_rsa_test.crl")).issued_by(Certificate(vector("nca_rsa_test.crt")))


# --- the real CMS and XMLDSig as of their signing time ------------------------------------------

def check_two_signers(v, *, signed_at=SIGNED_AT):
    gost, rsa_ = v.signers
    assert gost.algorithm == "GOST34.10-2015-512" and rsa_.algorithm == "RSA-SHA256"
    assert (gost.iin, gost.roles, gost.signed_at) == ("123456789012", ["individual"], signed_at)
    # The GOST-2015 signer is valid in every respect as of its signing time; its CRL covers it.
    assert results(gost) == dict.fromkeys(("signature", "chain", "validity", "revocation", "key_usage"), "ok")
    assert gost.checks["revocation"]["source"] == "crl" and gost.valid
    # The RSA signer's signature and chain hold, but its certificate (2021-01-18…2022-01-18) had
    # expired eight months before it signed, and the RSA CRL was stale by then (next update
    # 2022-09-25): the vector itself says so.
    assert rsa_.iin == "123456789011" and rsa_.certificate["serial"] == "4279390A141F5353A62947B61ED65E81741467D1"
    assert results(rsa_) == {"signature": "ok", "chain": "ok", "validity": "failed", "revocation": "unknown",
                             "key_usage": "ok"}
    assert rsa_.checks["validity"]["problem"] == "eds.expired_at_signing"
    assert rsa_.checks["validity"]["at_signing"] == "expired"
    assert codes(rsa_) == ["eds.expired_at_signing", "eds.expired_now", "eds.revocation_unknown"]
    assert not v.valid


def test_attached_two_signers_as_of_signing_time(trust, crls):
    v = verify_cms(vector("cms_attached_two_signers.der"), trust=trust, revocation=crls, at=SIGNED_AT, now=NOW)
    assert v.content == b"test123"
    check_two_signers(v)


def test_detached_two_signers_as_of_signing_time(trust, crls):
    data = vector("cms_detached_content.txt")
    signed_at = datetime(2022, 9, 27, 21, 29, 41, tzinfo=UTC)
    v = verify_cms(vector("cms_detached_two_signers.der"), data, trust=trust, revocation=crls, at=signed_at, now=NOW)
    assert v.content is None
    check_two_signers(v, signed_at=signed_at)
    with pytest.raises(Problem) as caught:
        verify_cms(vector("cms_detached_two_signers.der"), trust=trust, revocation=crls, now=NOW)
    assert caught.value.key == "eds.malformed" and caught.value.status == 400
    wrong = verify_cms(vector("cms_detached_two_signers.der"), b"test124", trust=trust, revocation=crls,
                       at=signed_at, now=NOW)
    assert [s.checks["signature"]["problem"] for s in wrong.signers] == ["eds.content_mismatch"] * 2


def test_attached_rsa(trust, crls):
    v = verify_cms(vector("cms_attached_rsa.der"), trust=trust, revocation=crls,
                   at=datetime(2022, 9, 28, 14, 40, 30, tzinfo=UTC), now=NOW)
    (signer,) = v.signers
    assert v.content == b"test123"
    assert results(signer)["signature"] == results(signer)["chain"] == "ok"
    assert signer.checks["validity"]["problem"] == "eds.expired_at_signing"


def test_rsa_xmldsig(trust, crls):
    v = verify_xml(vector("xmldsig_rsa.xml"), trust=trust, revocation=crls, at=SIGNED_AT, now=NOW)
    (signer,) = v.signers
    assert signer.algorithm == "RSA-SHA256" and signer.signed_at is None
    assert results(signer)["signature"] == results(signer)["chain"] == results(signer)["key_usage"] == "ok"
    # No signing time in XMLDSig: validity is judged at the time checked only.
    assert signer.checks["validity"]["at_signing"] is None
    assert signer.checks["validity"]["problem"] == "eds.expired_now"


def test_two_signer_xmldsig_gost_2015_and_rsa(trust, crls):
    v = verify_xml(vector("xmldsig_two_signers.xml").decode(), trust=trust, revocation=crls, at=SIGNED_AT, now=NOW)
    rsa_, gost = v.signers
    assert (rsa_.algorithm, gost.algorithm) == ("RSA-SHA256", "GOST34.10-2015-512")
    assert results(gost) == dict.fromkeys(("signature", "chain", "validity", "revocation", "key_usage"), "ok")
    assert results(rsa_)["signature"] == "ok"


def test_as_of_today_the_vectors_are_expired(trust, crls):
    v = verify_cms(vector("cms_attached_two_signers.der"), trust=trust, revocation=crls, now=NOW)
    for signer in v.signers:
        assert signer.checks["validity"]["result"] == "failed"
        assert signer.checks["validity"]["at_check"] == "expired"
        assert "eds.expired_now" in codes(signer)
    assert v.signers[0].checks["validity"]["at_signing"] == "ok"
    assert not v.valid


# --- tampering ------------------------------------------------------------------------------------

def tampered(old: bytes, new: bytes, count: int = 1) -> bytes:
    """The two-signer CMS with bytes replaced in place (same length: no re-encoding, which
    asn1crypto cannot do for the GOST certificate inside)."""
    der = vector("cms_attached_two_signers.der")
    assert der.count(old) == count and len(old) == len(new)
    return der.replace(old, new)


def test_tampered_content(trust, crls):
    v = verify_cms(tampered(b"test123", b"test124"), trust=trust, revocation=crls, at=SIGNED_AT, now=NOW)
    assert v.content == b"test124"
    assert [s.checks["signature"]["problem"] for s in v.signers] == ["eds.content_mismatch"] * 2
    assert not v.valid


def test_tampered_signed_attribute(trust, crls):
    # signingTime 2022-09-27 21:17:59 becomes 2022-09-26 in both signers' signed attributes.
    v = verify_cms(tampered(b"220927211759Z", b"220926211759Z", 2), trust=trust, revocation=crls, at=SIGNED_AT,
                   now=NOW)
    assert [s.checks["signature"]["problem"] for s in v.signers] == ["eds.signature_invalid"] * 2
    assert v.signers[0].signed_at == datetime(2022, 9, 26, 21, 17, 59, tzinfo=UTC)


def test_flipped_signature_bytes(trust, crls):
    signed = cms.ContentInfo.load(vector("cms_attached_two_signers.der"))["content"]
    for si in signed["signer_infos"]:
        value = si["signature"].native
        flipped = value[:10] + bytes([value[10] ^ 0x40]) + value[11:]
        v = verify_cms(tampered(value, flipped), trust=trust, revocation=crls, at=SIGNED_AT, now=NOW)
        problems = [s.checks["signature"]["problem"] for s in v.signers]
        assert problems.count("eds.signature_invalid") == 1 and problems.count(None) == 1


def test_swapped_certificate(trust, crls):
    # The RSA signer's certificate replaced by another certificate of the same person and CA.
    from asn1crypto import x509

    other = x509.Certificate.load(Certificate(vector("individual_valid_sign_2004_rsa.cer")).der)
    info = cms.ContentInfo.load(vector("cms_attached_rsa.der"))
    info["content"]["certificates"] = [cms.CertificateChoices(name="certificate", value=other)]
    v = verify_cms(info.dump(force=True), trust=trust, revocation=crls, at=SIGNED_AT, now=NOW)
    (signer,) = v.signers
    assert signer.checks["signature"]["problem"] == "eds.signer_not_found"
    assert signer.certificate is None and not v.valid


def test_forged_certificate_with_the_signers_issuer_and_serial(trust, crls):
    """A certificate claiming the RSA signer's issuer and serial, with another key: the signature
    does not verify under it, and the CA never signed it."""
    from asn1crypto import x509 as ax509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    real = x509.load_der_x509_certificate(Certificate(vector("individual_valid_sign_2004_rsa.cer")).der)
    pki = Pki()
    forged = (x509.CertificateBuilder().subject_name(real.subject).issuer_name(real.issuer)
              .public_key(pki.key.public_key()).serial_number(0x4279390A141F5353A62947B61ED65E81741467D1)
              .not_valid_before(datetime(2021, 1, 1, tzinfo=UTC)).not_valid_after(datetime(2030, 1, 1, tzinfo=UTC))
              .sign(pki.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
    info = cms.ContentInfo.load(vector("cms_attached_rsa.der"))
    info["content"]["certificates"][0] = cms.CertificateChoices(name="certificate",
                                                                value=ax509.Certificate.load(forged))
    v = verify_cms(info.dump(force=True), trust=trust, revocation=crls, at=SIGNED_AT, now=NOW)
    (signer,) = v.signers
    assert signer.checks["signature"]["problem"] == "eds.signature_invalid"
    assert signer.checks["chain"]["problem"] == "eds.chain_bad_signature"


def test_tampered_xml(trust, crls):
    text = vector("xmldsig_rsa.xml")
    v = verify_xml(text.replace(b"<b>test</b>", b"<b>tess</b>"), trust=trust, revocation=crls, at=SIGNED_AT, now=NOW)
    assert v.signers[0].checks["signature"]["problem"] == "eds.content_mismatch"
    start = text.index(b"<ds:SignatureValue>") + len(b"<ds:SignatureValue>\n")
    flipped = text[:start] + (b"b" if text[start:start + 1] != b"b" else b"c") + text[start + 1:]
    v = verify_xml(flipped, trust=trust, revocation=crls, at=SIGNED_AT, now=NOW)
    assert v.signers[0].checks["signature"]["problem"] == "eds.signature_invalid"


@pytest.mark.parametrize("bad", [b"", b"not der", base64.b64encode(b"x" * 40), vector("nca_rsa_test.crl")])
def test_malformed_cms_is_a_400_problem(trust, crls, bad):
    with pytest.raises(Problem) as caught:
        verify_cms(bad, b"x", trust=trust, revocation=crls, now=NOW)
    assert caught.value.key == "eds.malformed" and caught.value.status == 400 and caught.value.params["reason"]


@pytest.mark.parametrize("bad", [
    b"<a>", b"<a/>",
    b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
])
def test_malformed_xml_is_a_400_problem(trust, crls, bad):
    with pytest.raises(Problem) as caught:
        verify_xml(bad, trust=trust, revocation=crls, now=NOW)
    assert caught.value.key == "eds.malformed"


def test_unknown_ca(crls):
    only_gost = TrustStore([vector("nca_gost2015_test.cer")])
    v = verify_cms(vector("cms_attached_two_signers.der"), trust=only_gost, revocation=crls, at=SIGNED_AT, now=NOW)
    assert v.signers[0].checks["chain"]["result"] == "ok"
    assert v.signers[1].checks["chain"]["problem"] == "eds.unknown_ca"
    assert v.signers[1].checks["revocation"]["result"] == "unknown"

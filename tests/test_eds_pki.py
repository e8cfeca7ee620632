"""The test and demo PKI (cadastre.eds.pki) makes what the NCA makes: RSA material is checked by
openssl and signxml, GOST material by gostcrypto through cadastre.eds.gost_sign, whose byte
layout is first proven on the real NCA vectors. Every check is also shown to fail on a
flipped byte. Nothing here uses the project's verifier."""

from __future__ import annotations

import base64
import copy
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import cms, core, crl, ocsp, x509
from lxml import etree
from signxml import XMLVerifier
from signxml.exceptions import InvalidSignature

from cadastre.eds import gost_sign
from cadastre.eds.pki import (
    DEMO_PEOPLE,
    ROLE_OIDS,
    Authority,
    Identity,
    Issued,
    KeyPair,
    add_signer,
    demo_pki,
    demo_register_rows,
    kz_id_valid,
    make_ca,
    sign_cms,
    sign_xml,
)
from tests.eds_helpers import VECTORS

DS = {"ds": "http://www.w3.org/2000/09/xmldsig#"}
START, END = datetime(2025, 1, 1, tzinfo=UTC), datetime(2035, 1, 1, tzinfo=UTC)
SIGNED_AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ATTIME = str(int(SIGNED_AT.timestamp()))

HEAD = Identity(
    "СӘТБАЕВА АЙГҮЛ",
    iin="850721400341",
    surname="СӘТБАЕВА",
    given_name="МАРАТҚЫЗЫ",
    bin="150140000121",
    organisation="ТОО «ДЕМО ГЕОРЕСУРС»",
)
PERSON = Identity("АХМЕТОВ СЕРІК", iin="900315300123", surname="АХМЕТОВ", given_name="БОЛАТҰЛЫ")


def vector(name: str) -> bytes:
    return (VECTORS / name).read_bytes()


def flip(data: bytes, at: int) -> bytes:
    changed = bytearray(data)
    changed[at] ^= 0x01
    return bytes(changed)


def openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, timeout=60)


def write_pem(path: Path, *ders: bytes) -> Path:
    path.write_text(
        "".join(
            "-----BEGIN CERTIFICATE-----\n"
            + "\n".join(base64.b64encode(d).decode()[i : i + 64] for i in range(0, len(base64.b64encode(d)), 64))
            + "\n-----END CERTIFICATE-----\n"
            for d in ders
        )
    )
    return path


# --- what the NCA's GOST layout is (independent of the PKI's signing) -------------------------


def gost_public(certificate: bytes) -> bytes:
    """The OCTET STRING X‖Y of a GOST certificate's key, read as a plain sequence."""
    tbs = core.Sequence.load(core.Sequence.load(certificate)[0].dump())
    info = core.Sequence.load(tbs[6].dump())
    return core.OctetString.load(core.BitString.load(info[1].dump()).contents[1:]).native


def signed_attributes_set(signer_info: cms.SignerInfo) -> bytes:
    der = bytearray(signer_info["signed_attrs"].dump())
    der[0] = 0x31  # signed over as a DER SET, not as the [0] it is stored as
    return bytes(der)


def test_the_gost_layout_verifies_the_real_nca_vectors() -> None:
    ca = vector("nca_gost2015_test.cer")
    signed = cms.ContentInfo.load(vector("cms_attached_two_signers.der"))["content"]
    info = signed["signer_infos"][0]
    assert info["signature_algorithm"]["algorithm"].dotted == "1.2.398.3.10.1.1.2.3.2"
    user = signed["certificates"][0].chosen
    public = gost_public(user.dump())
    attributes = signed_attributes_set(info)
    signature = info["signature"].native
    assert gost_sign.verify(public, attributes, signature)
    assert not gost_sign.verify(public, flip(attributes, 40), signature)
    assert not gost_sign.verify(public, attributes, flip(signature, 5))
    digest = next(a["values"][0].native for a in info["signed_attrs"] if a["type"].native == "message_digest")
    assert digest == gost_sign.streebog(b"test123", 512)

    # the certificate and the CRL of the NCA's GOST-2015 test CA
    assert gost_sign.verify(gost_public(ca), user["tbs_certificate"].dump(), user["signature_value"].native)
    tampered = flip(user["tbs_certificate"].dump(), 200)
    assert not gost_sign.verify(gost_public(ca), tampered, user["signature_value"].native)
    revocations = crl.CertificateList.load(vector("nca_gost2022_test.crl"))
    assert gost_sign.verify(gost_public(ca), revocations["tbs_cert_list"].dump(), revocations["signature"].native)

    # the second signature of the two-signer XMLDSig is GOST-2015-512
    document = etree.fromstring(vector("xmldsig_two_signers.xml"))
    gost = document.findall("ds:Signature", DS)[1]
    certificate = base64.b64decode("".join(gost.find(".//ds:X509Certificate", DS).text.split()))
    value = base64.b64decode("".join(gost.find("ds:SignatureValue", DS).text.split()))
    signed_info = etree.tostring(gost.find("ds:SignedInfo", DS), method="c14n")
    assert gost_sign.verify(gost_public(certificate), signed_info, value)
    assert not gost_sign.verify(gost_public(certificate), signed_info.replace(b"512", b"513", 1), value)


# --- the test PKI ------------------------------------------------------------------------------


class Pki:
    """One test PKI per module: RSA root → issuing CA → people; GOST-2015-512 root → issuing CA
    → person; a GOST-2015-256 root → person."""

    def __init__(self) -> None:
        self.rsa_root = make_ca("TEST ROOT RSA", "RSA-SHA256", not_before=START, not_after=END)
        self.rsa_ca = make_ca("TEST NCA RSA", "RSA-SHA256", parent=self.rsa_root, not_before=START, not_after=END)
        self.rsa_auth = self.rsa_ca.issue(PERSON, not_before=START, not_after=END)
        self.rsa_head = self.rsa_ca.issue(
            HEAD, purpose="signature", roles=["first_head"], not_before=START, not_after=END
        )
        self.rsa_responder = self.rsa_ca.ocsp_responder(not_before=START, not_after=END)
        self.gost_root = make_ca("TEST ROOT GOST", "GOST34.10-2015-512", not_before=START, not_after=END)
        self.gost_ca = make_ca(
            "TEST NCA GOST", "GOST34.10-2015-512", parent=self.gost_root, not_before=START, not_after=END
        )
        self.gost_head = self.gost_ca.issue(
            HEAD, purpose="signature", roles=["first_head"], not_before=START, not_after=END
        )
        self.gost256_root = make_ca("TEST ROOT GOST 256", "GOST34.10-2015-256", not_before=START, not_after=END)
        self.gost256_person = self.gost256_root.issue(PERSON, not_before=START, not_after=END)


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


@pytest.fixture
def rsa_files(pki: Pki, tmp_path: Path) -> dict[str, Path]:
    return {
        "root": write_pem(tmp_path / "root.pem", pki.rsa_root.certificate),
        "ca": write_pem(tmp_path / "ca.pem", pki.rsa_ca.certificate),
        "chain": write_pem(tmp_path / "chain.pem", pki.rsa_ca.certificate, pki.rsa_root.certificate),
        "auth": write_pem(tmp_path / "auth.pem", pki.rsa_auth.certificate),
        "head": write_pem(tmp_path / "head.pem", pki.rsa_head.certificate),
    }


def test_rsa_certificates_carry_the_identity_and_verify(pki: Pki, rsa_files: dict[str, Path], tmp_path: Path) -> None:
    text = openssl("x509", "-in", rsa_files["head"], "-noout", "-text", "-nameopt", "utf8,sep_comma_plus").stdout
    assert "serialNumber=IIN850721400341" in text and "OU=BIN150140000121" in text
    assert "O=ТОО «ДЕМО ГЕОРЕСУРС»" in text and "SN=СӘТБАЕВА" in text and "GN=МАРАТҚЫЗЫ" in text
    assert "E-mail Protection, 1.2.398.3.3.4.1.2, 1.2.398.3.3.4.1.2.1" in text
    assert "Digital Signature, Non Repudiation" in text
    assert "OCSP - URI:http://pki.demo.invalid/ocsp/" in text and "test-nca-rsa.crl" in text
    auth = openssl("x509", "-in", rsa_files["auth"], "-noout", "-text").stdout
    assert "TLS Web Client Authentication, 1.2.398.3.3.4.1.1" in auth
    assert "Digital Signature, Key Encipherment" in auth
    ca = openssl("x509", "-in", rsa_files["ca"], "-noout", "-text").stdout
    assert "CA:TRUE" in ca and "Certificate Sign, CRL Sign" in ca

    verify = ["verify", "-attime", ATTIME, "-CAfile", rsa_files["root"], "-untrusted", rsa_files["ca"]]
    assert openssl(*verify, rsa_files["head"]).returncode == 0
    tampered = write_pem(tmp_path / "tampered.pem", flip(pki.rsa_head.certificate, 300))
    assert openssl(*verify, tampered).returncode != 0


@pytest.mark.parametrize("detached", [False, True])
def test_rsa_cms_is_accepted_by_openssl(pki: Pki, rsa_files: dict[str, Path], tmp_path: Path, detached: bool) -> None:
    content = b"nonce-0123456789"
    signed = tmp_path / "signed.der"
    signed.write_bytes(sign_cms(content, pki.rsa_auth, detached=detached, signing_time=SIGNED_AT))
    (tmp_path / "content").write_bytes(content)
    # the bag holds only the signer's certificate, as NCALayer's, so the issuing CA is trusted
    # along with the root (openssl cms takes untrusted intermediates only from the message)
    args = ["cms", "-verify", "-inform", "DER", "-in", signed, "-CAfile", rsa_files["chain"]]
    args += ["-purpose", "any", "-attime", ATTIME]
    if detached:
        args += ["-content", tmp_path / "content", "-binary"]
    result = openssl(*args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.encode() == content

    if detached:
        (tmp_path / "content").write_bytes(b"nonce-0123456780")
    else:
        der = signed.read_bytes()
        signed.write_bytes(der.replace(content, b"nonce-0123456780"))
    assert openssl(*args).returncode != 0


def test_a_second_signer_is_added(pki: Pki, rsa_files: dict[str, Path], tmp_path: Path) -> None:
    first = sign_cms(b"test123", pki.rsa_auth, signing_time=SIGNED_AT)
    both = add_signer(first, pki.rsa_head, signing_time=SIGNED_AT)
    data = cms.ContentInfo.load(both)["content"]
    assert len(data["signer_infos"]) == 2 and len(data["certificates"]) == 2
    (tmp_path / "both.der").write_bytes(both)
    args = ["cms", "-verify", "-inform", "DER", "-in", tmp_path / "both.der", "-CAfile", rsa_files["chain"]]
    args += ["-purpose", "any", "-attime", ATTIME]
    assert openssl(*args).returncode == 0
    signature = data["signer_infos"][1]["signature"].native
    (tmp_path / "both.der").write_bytes(both.replace(signature, flip(signature, 10)))
    assert openssl(*args).returncode != 0


def test_cms_has_the_shape_of_ncalayer(pki: Pki) -> None:
    real = cms.ContentInfo.load(vector("cms_attached_two_signers.der"))["content"]
    ours = cms.ContentInfo.load(sign_cms(b"test123", pki.gost_head, signing_time=SIGNED_AT))["content"]
    real_info, info = real["signer_infos"][0], ours["signer_infos"][0]
    for name in ("version", "digest_algorithm", "signature_algorithm"):
        assert info[name].dump() == real_info[name].dump(), name
    assert [a["type"].native for a in info["signed_attrs"]] == [a["type"].native for a in real_info["signed_attrs"]]
    assert ours["digest_algorithms"][0].dump() == real["digest_algorithms"][0].dump()
    assert [c.chosen.dump() for c in ours["certificates"]] == [pki.gost_head.certificate]
    assert ours["encap_content_info"]["content"].native == b"test123"


def test_rsa_crl_is_accepted_by_openssl(pki: Pki, rsa_files: dict[str, Path], tmp_path: Path) -> None:
    der = pki.rsa_ca.crl(
        [(pki.rsa_auth, datetime(2026, 2, 1, tzinfo=UTC), "key_compromise"), (12345, SIGNED_AT, None)],
        this_update=SIGNED_AT,
        next_update=END,
        number=7,
    )
    path = tmp_path / "ca.crl"
    path.write_bytes(der)
    result = openssl("crl", "-inform", "DER", "-in", path, "-CAfile", rsa_files["ca"], "-noout", "-text")
    assert result.returncode == 0 and "verify OK" in result.stderr + result.stdout
    assert f"{pki.rsa_auth.serial:X}" in result.stdout and "Key Compromise" in result.stdout
    assert "3039" in result.stdout  # 12345
    path.write_bytes(flip(der, len(der) - 20))
    result = openssl("crl", "-inform", "DER", "-in", path, "-CAfile", rsa_files["ca"], "-noout")
    assert "verify OK" not in result.stderr + result.stdout


@pytest.mark.parametrize("status", ["good", "revoked", "unknown"])
@pytest.mark.parametrize("delegated", [False, True])
def test_rsa_ocsp_is_read_by_openssl(
    pki: Pki, rsa_files: dict[str, Path], tmp_path: Path, status: str, delegated: bool
) -> None:
    der = pki.rsa_ca.ocsp_response(
        pki.rsa_auth,
        status,  # type: ignore[arg-type]
        revoked_at=datetime(2026, 2, 1, tzinfo=UTC),
        reason="key_compromise",
        this_update=SIGNED_AT,
        nonce=b"\x01\x02\x03\x04\x05\x06\x07\x08",
        responder=pki.rsa_responder if delegated else None,
    )
    basic = ocsp.OCSPResponse.load(der).basic_ocsp_response
    signer = pki.rsa_responder if delegated else pki.rsa_ca
    assert [c.dump() for c in basic["certs"]] == [signer.certificate]
    path = tmp_path / "response.der"
    path.write_bytes(der)
    args = ["ocsp", "-respin", path, "-CAfile", rsa_files["chain"], "-issuer", rsa_files["ca"]]
    args += ["-sha256", "-cert", rsa_files["auth"], "-no_nonce"]
    result = openssl(*args)
    assert "Response verify OK" in result.stderr + result.stdout, result.stderr
    assert f"auth.pem: {status}" in result.stdout
    path.write_bytes(flip(der, der.index(b"\x01\x02\x03\x04\x05\x06\x07\x08")))  # the signed nonce
    result = openssl(*args)
    assert "Response verify OK" not in result.stderr + result.stdout


def test_rsa_xmldsig_is_accepted_by_signxml(pki: Pki, rsa_files: dict[str, Path]) -> None:
    signed = sign_xml("<a><b>test</b></a>", pki.rsa_head)
    result = XMLVerifier().verify(signed, ca_pem_file=str(rsa_files["chain"]))
    assert etree.tostring(result.signed_xml) == b"<a><b>test</b></a>"
    with pytest.raises(InvalidSignature):
        XMLVerifier().verify(signed.replace(b"<b>test</b>", b"<b>tesT</b>"), ca_pem_file=str(rsa_files["chain"]))

    # the same elements and algorithms as NCALayer's (the real vector), and its declaration
    real = etree.fromstring(vector("xmldsig_rsa.xml"))
    ours = etree.fromstring(signed)
    assert [(e.tag, e.get("Algorithm"), e.get("URI")) for e in ours.iter()] == [
        (e.tag, e.get("Algorithm"), e.get("URI")) for e in real.iter()
    ]
    assert signed.startswith(b'<?xml version="1.0" encoding="utf-8" standalone="no"?><a>')


# --- GOST: each signature checked with gostcrypto in the layout proven above ------------------


@pytest.mark.parametrize("which", ["gost_head", "gost256_person"])
def test_gost_certificates_cms_and_xmldsig_verify(pki: Pki, which: str) -> None:
    issued: Issued = getattr(pki, which)
    issuer = issued.issuer
    bits = 512 if issued.algorithm == "GOST34.10-2015-512" else 256
    certificate = x509.Certificate.load(issued.certificate)
    spki = core.Sequence.load(core.Sequence.load(core.Sequence.load(issued.certificate)[0].dump())[6].dump())
    parameters = core.Sequence.load(core.Sequence.load(spki[0].dump())[1].dump())
    assert [core.ObjectIdentifier.load(parameters[i].dump()).dotted for i in range(2)] == (
        ["1.2.398.3.10.1.1.2.2.1", "1.2.398.3.10.1.3.3"]
        if bits == 512
        else ["1.2.398.3.10.1.1.2.1.1", "1.2.398.3.10.1.3.2"]
    )
    tbs, signature = certificate["tbs_certificate"].dump(), certificate["signature_value"].native
    assert gost_sign.verify(gost_public(issuer.certificate), tbs, signature)
    assert not gost_sign.verify(gost_public(issuer.certificate), flip(tbs, 100), signature)
    assert not gost_sign.verify(gost_public(issued.certificate), tbs, signature)  # not self-signed

    # CMS: the signer over the DER SET of the signed attributes, and the content digest
    info = cms.ContentInfo.load(sign_cms(b"test123", issued, signing_time=SIGNED_AT))["content"]["signer_infos"][0]
    attributes, value = signed_attributes_set(info), info["signature"].native
    assert gost_sign.verify(gost_public(issued.certificate), attributes, value)
    assert not gost_sign.verify(gost_public(issued.certificate), flip(attributes, 30), value)
    digest = next(a["values"][0].native for a in info["signed_attrs"] if a["type"].native == "message_digest")
    assert digest == gost_sign.streebog(b"test123", bits)
    signing_time = next(a["values"][0].native for a in info["signed_attrs"] if a["type"].native == "signing_time")
    assert signing_time == SIGNED_AT

    # XMLDSig: SignedInfo signature and the enveloped document's digest
    document = etree.fromstring(sign_xml(b'<?xml version="1.0"?><a xmlns="urn:x"><b>test</b></a>', issued))
    signature_element = document.find("ds:Signature", DS)
    assert signature_element.find(".//ds:SignatureMethod", DS).get("Algorithm").endswith(f"gostr34112015-{bits}")
    signed_info = etree.tostring(signature_element.find("ds:SignedInfo", DS), method="c14n")
    value = base64.b64decode("".join(signature_element.find("ds:SignatureValue", DS).text.split()))
    assert gost_sign.verify(gost_public(issued.certificate), signed_info, value)
    tampered = signed_info.replace(b"Reference", b"Referencf", 1)
    assert not gost_sign.verify(gost_public(issued.certificate), tampered, value)
    bare = copy.deepcopy(document)
    bare.remove(bare.find("ds:Signature", DS))
    digest_value = base64.b64decode("".join(signature_element.find(".//ds:DigestValue", DS).text.split()))
    assert gost_sign.streebog(etree.tostring(bare, method="c14n", with_comments=True), bits) == digest_value


def test_gost_crl_and_ocsp_verify(pki: Pki) -> None:
    public = gost_public(pki.gost_ca.certificate)
    revocations = crl.CertificateList.load(pki.gost_ca.crl([(pki.gost_head, SIGNED_AT, "key_compromise")]))
    assert revocations["tbs_cert_list"]["revoked_certificates"][0]["user_certificate"].native == pki.gost_head.serial
    tbs, signature = revocations["tbs_cert_list"].dump(), revocations["signature"].native
    assert gost_sign.verify(public, tbs, signature)
    assert not gost_sign.verify(public, flip(tbs, 60), signature)

    response = ocsp.OCSPResponse.load(pki.gost_ca.ocsp_response(pki.gost_head, "revoked", revoked_at=SIGNED_AT))
    basic = response.basic_ocsp_response
    single = basic["tbs_response_data"]["responses"][0]
    assert single["cert_status"].name == "revoked"
    assert single["cert_id"]["serial_number"].native == pki.gost_head.serial
    assert basic["signature_algorithm"]["algorithm"].dotted == "1.2.398.3.10.1.1.2.3.2"
    data, signature = basic["tbs_response_data"].dump(), basic["signature"].native
    assert gost_sign.verify(public, data, signature)
    assert not gost_sign.verify(public, flip(data, 50), signature)


def test_keys_and_certificates_survive_save_and_load(pki: Pki, tmp_path: Path) -> None:
    pki.gost_ca.save(tmp_path, "ca")
    pki.gost_head.save(tmp_path, "head")
    ca = Authority.load(tmp_path, "ca", parent=pki.gost_root)
    head = Issued.load(tmp_path, "head", ca)
    assert head.certificate == pki.gost_head.certificate and head.roles == ("legal_entity", "first_head")
    assert head.identity == HEAD and ca.crl_url == pki.gost_ca.crl_url
    signature = head.key.sign(b"payload")
    assert gost_sign.verify(gost_public(head.certificate), b"payload", signature)
    # a certificate issued by the loaded CA chains to the original CA key
    issued = ca.issue(PERSON, key=head.key)
    tbs, signature = issued.x509["tbs_certificate"].dump(), issued.x509["signature_value"].native
    assert gost_sign.verify(gost_public(pki.gost_ca.certificate), tbs, signature)
    pki.rsa_auth.save(tmp_path, "rsa")
    assert KeyPair.from_pem((tmp_path / "rsa.key").read_bytes()).public_key_info() == pki.rsa_auth.key.public_key_info()
    assert (tmp_path / "rsa.key").stat().st_mode & 0o077 == 0


def test_identity_and_roles_are_checked() -> None:
    with pytest.raises(ValueError):
        Identity("X", iin="12345")
    assert kz_id_valid("900315300123") and not kz_id_valid("900315300124") and not kz_id_valid("123456789011")
    roles = {"individual", "legal_entity", "first_head", "right_to_sign", "financial", "hr", "employee"}
    assert set(ROLE_OIDS) == roles


# --- the demo ----------------------------------------------------------------------------------


def test_the_demo_people_have_valid_numbers() -> None:
    iins = [p.iin for p in DEMO_PEOPLE]
    assert len(set(iins)) == len(iins) and all(kz_id_valid(i) for i in iins)
    assert all(kz_id_valid(p.bin) for p in DEMO_PEOPLE if p.bin)
    rows = demo_register_rows()
    assert {r["id"] for r in rows if r["type"] == "individual"} == {p.iin for p in DEMO_PEOPLE if p.in_register}
    company = next(r for r in rows if r["type"] == "legal-entity")
    assert company["head_iin"] == next(p.iin for p in DEMO_PEOPLE if p.key == "head")


def test_the_demo_pki_is_made_once_and_behaves_as_its_table_says(tmp_path: Path) -> None:
    demo = demo_pki(tmp_path / "pki")
    assert all(path.exists() for path in demo.trusted + demo.crls)
    names = [x509.Certificate.load(p.read_bytes()).subject.native["common_name"] for p in demo.trusted]
    assert all("DEMO" in n and "NOT FOR PRODUCTION" in n for n in names)
    # the revoked person's certificates are on their CAs' CRLs, nobody else's
    listed = set()
    for path in demo.crls:
        entries = crl.CertificateList.load(path.read_bytes())["tbs_cert_list"]["revoked_certificates"]
        listed |= {e["user_certificate"].native for e in entries}
    revoked = demo.person("revoked")
    assert listed == {issued.serial for issued in revoked.certificates.values()}
    assert demo.person("expired").auth("gost").x509.not_valid_after < datetime.now(UTC)
    assert demo.person("stranger").auth().issuer.name.startswith("DEMO UNTRUSTED")
    head = demo.by_iin("850721400341")
    assert head.sign("gost").roles == ("legal_entity", "first_head") and head.sign("gost").purpose == "signature"
    with pytest.raises(KeyError):
        demo.person("revoked").sign()
    rsa_user = demo.person("applicant").auth()
    assert rsa_user.issuer.parent is not None and rsa_user.chain[-1] == demo.authorities["root-rsa"].certificate
    # a second call loads what is there instead of making a new PKI
    again = demo_pki(tmp_path / "pki")
    assert again.person("head").sign("gost").certificate == head.sign("gost").certificate
    assert again.authorities["nca-gost"].key.public_key_info() == demo.authorities["nca-gost"].key.public_key_info()

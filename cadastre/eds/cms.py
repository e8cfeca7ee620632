"""CMS SignedData (CAdES-BES as NCALayer makes it), read into what verify.py checks: the content
(attached or not), the certificates carried, and for every SignerInfo its certificate, algorithms,
signed attributes and signature."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms

from . import oids
from .certificates import Certificate, Malformed, der_of


@dataclass
class CmsSigner:
    certificate: Certificate | None  # None: the CMS does not carry the signer's certificate
    digest_algorithm: str
    signature_algorithm: str
    signature: bytes
    signed_attrs: bytes | None  # DER as hashed: a SET (0x31)
    message_digest: bytes | None
    signing_time: datetime | None
    content_type: str | None


@dataclass
class SignedData:
    content: bytes | None  # attached content
    content_type: str
    certificates: list[Certificate]
    signers: list[CmsSigner]


def parse(data: bytes) -> SignedData:
    data = der_of(data, "CMS")
    try:
        info = cms.ContentInfo.load(data, strict=True)
        if info["content_type"].dotted != oids.SIGNED_DATA:
            raise Malformed(f"CMS content is {info['content_type'].dotted}, not signedData")
        signed = info["content"]
        encap = signed["encap_content_info"]
        content = encap["content"].native if encap["content"] else None
        if content is not None and not isinstance(content, bytes):
            content = encap["content"].parsed.dump() if hasattr(encap["content"], "parsed") else bytes(content)
        certificates = [Certificate(c.chosen.dump()) for c in signed["certificates"] or []
                        if c.name == "certificate"]
        signers = [_signer(si, certificates) for si in signed["signer_infos"]]
        content_type = encap["content_type"].dotted
    except Malformed:
        raise
    except Exception as exc:  # noqa: BLE001 - asn1crypto raises many kinds on broken input
        raise Malformed(f"not a CMS SignedData: {exc}") from None
    if not signers:
        raise Malformed("the CMS has no signer")
    return SignedData(content, content_type, certificates, signers)


def _signer(si: cms.SignerInfo, certificates: list[Certificate]) -> CmsSigner:
    sid = si["sid"]
    if sid.name == "issuer_and_serial_number":
        issuer, serial = sid.chosen["issuer"].hashable, sid.chosen["serial_number"].native
        cert = next((c for c in certificates if c.serial == serial and c.issuer.hashable == issuer), None)
    else:
        key_id = sid.chosen.native
        cert = next((c for c in certificates if c.subject_key_id == key_id), None)
    attrs = si["signed_attrs"]
    signed_attrs = message_digest = signing_time = content_type = None
    if attrs:
        raw = attrs.dump()
        signed_attrs = b"\x31" + raw[1:]  # hashed as a SET, not as the [0] it is stored as
        for attr in attrs:
            kind, values = attr["type"].dotted, attr["values"]
            if len(values) != 1:
                raise Malformed(f"signed attribute {kind} must have one value")
            if kind == oids.MESSAGE_DIGEST:
                message_digest = values[0].native
            elif kind == oids.SIGNING_TIME:
                signing_time = values[0].native
            elif kind == oids.CONTENT_TYPE:
                content_type = values[0].dotted
    return CmsSigner(cert, si["digest_algorithm"]["algorithm"].dotted, si["signature_algorithm"]["algorithm"].dotted,
                     si["signature"].native, signed_attrs, message_digest, signing_time, content_type)

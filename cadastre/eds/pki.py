"""A PKI for tests and for the demo that issues what the NCA issues, in the NCA's layout.

Certificate authorities (roots and intermediates), people's authentication and signing
certificates carrying IIN, BIN and role EKUs, CRLs, OCSP answers (signed by the CA or by a
delegated responder), CMS SignedData as NCALayer makes it (attached or detached; signed
attributes contentType, signingTime, messageDigest; only the signer's certificate in the bag)
and enveloped XMLDSig as NCALayer's `signXml` makes it. Algorithms: RSA-SHA256 and
GOST 34.10-2015 with Streebog, 256 and 512 bits (GOST 34.310-2004 is only ever verified, from
the real NCA vectors).

The layouts follow the real NCA test vectors in `shared/data/eds-nca-test/` (see
`tests/test_eds_pki.py`, which proves the GOST byte layout on them). Private keys are written
unencrypted: this is test and demo material, never production trust.

    root = make_ca("DEMO ROOT", "GOST34.10-2015-512")
    ca = make_ca("DEMO NCA", "GOST34.10-2015-512", parent=root)
    person = ca.issue(Identity("АХМЕТОВ СЕРІК", iin="900315300123", surname="АХМЕТОВ"))
    cms = sign_cms(b"nonce", person)
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal, get_args

from asn1crypto import cms, core, crl, ocsp, pem, x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from cadastre.eds.gost_sign import GostKey, streebog

Algorithm = Literal["RSA-SHA256", "GOST34.10-2015-256", "GOST34.10-2015-512"]
ALGORITHMS: tuple[Algorithm, ...] = get_args(Algorithm)
Purpose = Literal["authentication", "signature"]
Role = Literal[
    "individual", "legal_entity", "first_head", "right_to_sign", "financial", "hr", "employee"
]
OcspStatus = Literal["good", "revoked", "unknown"]

# Role EKUs of the NCA (EDS.md). Every role of an organisation's employee implies legal_entity,
# as in the NCA's first-head certificate (legal entity + first head).
ROLE_OIDS: dict[str, str] = {
    "individual": "1.2.398.3.3.4.1.1",
    "legal_entity": "1.2.398.3.3.4.1.2",
    "first_head": "1.2.398.3.3.4.1.2.1",
    "right_to_sign": "1.2.398.3.3.4.1.2.2",
    "financial": "1.2.398.3.3.4.1.2.3",
    "hr": "1.2.398.3.3.4.1.2.4",
    "employee": "1.2.398.3.3.4.1.2.5",
}
PURPOSE_OIDS: dict[str, str] = {
    "authentication": "1.3.6.1.5.5.7.3.2",  # clientAuth: login keys
    "signature": "1.3.6.1.5.5.7.3.4",  # emailProtection: signing keys
}
OCSP_SIGNING_OID = "1.3.6.1.5.5.7.3.9"
# Key usage as the NCA sets it: signing keys digitalSignature + nonRepudiation (03 02 06 c0),
# login keys digitalSignature + keyEncipherment (03 02 05 a0).
_KEY_USAGE: dict[str, set[str]] = {
    "authentication": {"digital_signature", "key_encipherment"},
    "signature": {"digital_signature", "non_repudiation"},
}


@dataclass(frozen=True)
class _Gost:
    bits: int
    key_oid: str
    curve_oid: str
    digest_oid: str
    signature_oid: str
    xml_signature: str
    xml_digest: str


_XML_GOST = "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:"
_GOST: dict[str, _Gost] = {
    "GOST34.10-2015-256": _Gost(
        256,
        "1.2.398.3.10.1.1.2.1",
        "1.2.398.3.10.1.1.2.1.1",
        "1.2.398.3.10.1.3.2",
        "1.2.398.3.10.1.1.2.3.1",
        _XML_GOST + "gostr34102015-gostr34112015-256",
        _XML_GOST + "gostr34112015-256",
    ),
    "GOST34.10-2015-512": _Gost(
        512,
        "1.2.398.3.10.1.1.2.2",
        "1.2.398.3.10.1.1.2.2.1",
        "1.2.398.3.10.1.3.3",
        "1.2.398.3.10.1.1.2.3.2",
        _XML_GOST + "gostr34102015-gostr34112015-512",
        _XML_GOST + "gostr34112015-512",
    ),
}
_RSA_SIGNATURE_OID = "1.2.840.113549.1.1.11"
_SHA256_OID = "2.16.840.1.101.3.4.2.1"
_XML_DSIG = "http://www.w3.org/2000/09/xmldsig#"
_XML_C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
DEMO_BASE_URL = "http://pki.demo.invalid"  # .invalid never resolves: demo URLs fetch nothing


# --- ASN.1 of GOST keys (asn1crypto raises on them, so they get their own small specs) ------


class _GostParameters(core.Sequence):
    _fields = [("curve", core.ObjectIdentifier), ("digest", core.ObjectIdentifier)]


class _GostAlgorithmIdentifier(core.Sequence):
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", _GostParameters)]


class _GostPublicKeyInfo(core.Sequence):
    _fields = [("algorithm", _GostAlgorithmIdentifier), ("public_key", core.OctetBitString)]


class _GostPrivateKeyInfo(core.Sequence):
    # PKCS#8 with the GOST algorithm identifier; the key is an OCTET STRING holding the
    # little-endian scalar, as RFC 9215 does for GOST keys.
    _fields = [
        ("version", core.Integer),
        ("algorithm", _GostAlgorithmIdentifier),
        ("private_key", core.OctetString),
    ]


# --- keys -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class KeyPair:
    """A private key of one of the `ALGORITHMS` (its public half is derived)."""

    algorithm: Algorithm
    rsa_key: rsa.RSAPrivateKey | None = None
    gost_key: GostKey | None = None

    @classmethod
    def generate(cls, algorithm: Algorithm, *, rsa_bits: int = 2048) -> KeyPair:
        if algorithm == "RSA-SHA256":
            return cls(algorithm, rsa_key=rsa.generate_private_key(65537, rsa_bits))
        if algorithm in _GOST:
            bits = 256 if _GOST[algorithm].bits == 256 else 512
            return cls(algorithm, gost_key=GostKey.generate(bits))
        raise ValueError(f"unknown algorithm {algorithm!r}; one of {ALGORITHMS}")

    def public_key_info(self) -> bytes:
        """DER SubjectPublicKeyInfo as the NCA writes it."""
        if self.rsa_key is not None:
            return self.rsa_key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        assert self.gost_key is not None
        spec = _GOST[self.algorithm]
        return _GostPublicKeyInfo(
            {
                "algorithm": self._gost_algorithm(spec),
                "public_key": core.OctetString(self.gost_key.public_octets()).dump(),
            }
        ).dump()

    def public_key_bits(self) -> bytes:
        """The subjectPublicKey BIT STRING's bytes (what SKI and OCSP key hashes cover)."""
        info = core.Sequence.load(self.public_key_info())
        return bytes(core.BitString.load(info[1].dump()).contents[1:])

    @property
    def signature_oid(self) -> str:
        return _RSA_SIGNATURE_OID if self.rsa_key is not None else _GOST[self.algorithm].signature_oid

    @property
    def digest_oid(self) -> str:
        return _SHA256_OID if self.rsa_key is not None else _GOST[self.algorithm].digest_oid

    def digest(self, data: bytes) -> bytes:
        """The digest the algorithm signs with: SHA-256 or Streebog of the key's size."""
        if self.rsa_key is not None:
            return hashlib.sha256(data).digest()
        return streebog(data, _GOST[self.algorithm].bits)

    def sign(self, data: bytes) -> bytes:
        """The signature value over `data` as certificates, CRLs, OCSP and CMS carry it."""
        if self.rsa_key is not None:
            return self.rsa_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        assert self.gost_key is not None
        return self.gost_key.sign(data)

    def private_pem(self) -> bytes:
        """Unencrypted PKCS#8 PEM (test and demo material only)."""
        if self.rsa_key is not None:
            return self.rsa_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        assert self.gost_key is not None
        der = _GostPrivateKeyInfo(
            {
                "version": 0,
                "algorithm": self._gost_algorithm(_GOST[self.algorithm]),
                "private_key": core.OctetString(self.gost_key.scalar[::-1]).dump(),
            }
        ).dump()
        return pem.armor("PRIVATE KEY", der)

    @classmethod
    def from_pem(cls, data: bytes) -> KeyPair:
        _, _, der = pem.unarmor(data)
        algorithm_oid = core.Sequence.load(core.Sequence.load(der)[1].dump())[0].dotted
        for name, spec in _GOST.items():
            if algorithm_oid == spec.key_oid:
                info = _GostPrivateKeyInfo.load(der)
                scalar = core.OctetString.load(info["private_key"].native).native[::-1]
                return cls(name, gost_key=GostKey(spec.bits, scalar))  # type: ignore[arg-type]
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("not an RSA or GOST 34.10-2015 private key")
        return cls("RSA-SHA256", rsa_key=key)

    @staticmethod
    def _gost_algorithm(spec: _Gost) -> _GostAlgorithmIdentifier:
        return _GostAlgorithmIdentifier(
            {
                "algorithm": spec.key_oid,
                "parameters": {"curve": spec.curve_oid, "digest": spec.digest_oid},
            }
        )


# --- names and identities ---------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who a certificate names, in the NCA's subject fields.

    `common_name` is "SURNAME NAME" (CN), `surname` goes to SN and `given_name` to G, where the
    NCA puts the patronymic. `iin` (12 digits) becomes serialNumber=IIN…, `bin` (12 digits)
    OU=BIN…, `organisation` O.
    """

    common_name: str
    iin: str | None = None
    surname: str | None = None
    given_name: str | None = None
    bin: str | None = None
    organisation: str | None = None

    def __post_init__(self) -> None:
        for label, value in (("iin", self.iin), ("bin", self.bin)):
            if value is not None and not re.fullmatch(r"\d{12}", value):
                raise ValueError(f"{label} must be 12 digits, got {value!r}")


def kz_id_valid(value: str) -> bool:
    """Whether a 12-digit IIN or BIN has the right check digit (the Kazakh algorithm: weights
    1..11 mod 11; on 10, weights 3..11,1,2; a second 10 means the number is never issued)."""
    if not re.fullmatch(r"\d{12}", value):
        return False
    digits = [int(c) for c in value]
    check = sum(d * w for d, w in zip(digits, range(1, 12), strict=False)) % 11
    if check == 10:
        weights = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
        check = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11
        if check == 10:
            return False
    return check == digits[11]


def _utf8(value: str) -> x509.DirectoryString:
    return x509.DirectoryString(name="utf8_string", value=value)


def _name(pairs: Sequence[tuple[str, core.Asn1Value]]) -> x509.Name:
    return x509.Name(
        name="",
        value=x509.RDNSequence(
            [
                x509.RelativeDistinguishedName([x509.NameTypeAndValue({"type": t, "value": v})])
                for t, v in pairs
            ]
        ),
    )


def _subject(identity: Identity) -> x509.Name:
    # The NCA's order: CN, SN, serialNumber, C, O, OU, G.
    pairs: list[tuple[str, core.Asn1Value]] = [("common_name", _utf8(identity.common_name))]
    if identity.surname:
        pairs.append(("surname", _utf8(identity.surname)))
    if identity.iin:
        pairs.append(("serial_number", core.PrintableString("IIN" + identity.iin)))
    pairs.append(("country_name", core.PrintableString("KZ")))
    if identity.organisation:
        pairs.append(("organization_name", _utf8(identity.organisation)))
    if identity.bin:
        pairs.append(("organizational_unit_name", _utf8("BIN" + identity.bin)))
    if identity.given_name:
        pairs.append(("given_name", _utf8(identity.given_name)))
    return _name(pairs)


def _ca_subject(name: str) -> x509.Name:
    return _name([("common_name", _utf8(name)), ("country_name", core.PrintableString("KZ"))])


# --- times, serials, signing ------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    """Naive times are taken as UTC; certificate times carry whole seconds."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def _now() -> datetime:
    return _utc(datetime.now(UTC))


def _x509_time(moment: datetime) -> x509.Time:
    moment = _utc(moment)
    return x509.Time(name="utc_time" if moment.year < 2050 else "general_time", value=moment)


def _serial() -> int:
    # 20 bytes like the NCA's serials, positive and with a non-zero first byte.
    return int.from_bytes(os.urandom(20), "big") >> 1 | 1 << 152


def _algorithm_id(oid: str) -> dict[str, object]:
    return {"algorithm": oid, "parameters": core.Null()}  # the NCA writes NULL parameters


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or hashlib.sha256(name.encode()).hexdigest()[:16]


def _extension(extn_id: str, value: object, critical: bool = False) -> dict[str, object]:
    return {"extn_id": extn_id, "critical": critical, "extn_value": value}


def _uri(url: str) -> x509.GeneralName:
    return x509.GeneralName(name="uniform_resource_identifier", value=url)


def _sign_certificate(tbs: x509.TbsCertificate, key: KeyPair) -> bytes:
    signature = key.sign(tbs.dump())
    return x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": _algorithm_id(key.signature_oid),
            "signature_value": signature,
        }
    ).dump()


def _certificate_key_bits(certificate: bytes) -> bytes:
    tbs = core.Sequence.load(core.Sequence.load(certificate)[0].dump())
    # tbs: [0] version, serial, signature, issuer, validity, subject, subjectPublicKeyInfo
    info = core.Sequence.load(tbs[6].dump())
    return bytes(core.BitString.load(info[1].dump()).contents[1:])


def _b64_lines(data: bytes) -> str:
    # Base64 in 76-character lines ending CR LF, as NCALayer (Apache Santuario) writes it.
    text = base64.b64encode(data).decode()
    return "\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))


# --- issued certificates and authorities ------------------------------------------------------


@dataclass(eq=False)
class Issued:
    """A certificate with its private key, and the authority that issued it."""

    certificate: bytes  # DER
    key: KeyPair
    issuer: Authority
    identity: Identity
    purpose: str  # "authentication", "signature" or "ocsp"
    roles: tuple[str, ...] = ()

    @property
    def x509(self) -> x509.Certificate:
        return x509.Certificate.load(self.certificate)

    @property
    def serial(self) -> int:
        return int(self.x509.serial_number)

    @property
    def algorithm(self) -> Algorithm:
        return self.key.algorithm

    @property
    def pem(self) -> bytes:
        return pem.armor("CERTIFICATE", self.certificate)

    @property
    def chain(self) -> list[bytes]:
        """This certificate, then its issuers up to the root (DER)."""
        return [self.certificate, *self.issuer.chain]

    def save(self, directory: Path, stem: str) -> Path:
        """Write `stem`.cer (DER), .pem, .key (PKCS#8 PEM) and .json (identity) in `directory`."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{stem}.cer").write_bytes(self.certificate)
        (directory / f"{stem}.pem").write_bytes(self.pem)
        _write_key(directory / f"{stem}.key", self.key)
        meta = {"identity": self.identity.__dict__, "purpose": self.purpose, "roles": self.roles}
        (directory / f"{stem}.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1))
        return directory / f"{stem}.cer"

    @classmethod
    def load(cls, directory: Path, stem: str, issuer: Authority) -> Issued:
        meta = json.loads((directory / f"{stem}.json").read_text())
        return cls(
            certificate=(directory / f"{stem}.cer").read_bytes(),
            key=KeyPair.from_pem((directory / f"{stem}.key").read_bytes()),
            issuer=issuer,
            identity=Identity(**meta["identity"]),
            purpose=meta["purpose"],
            roles=tuple(meta["roles"]),
        )


def _write_key(path: Path, key: KeyPair) -> None:
    path.write_bytes(key.private_pem())
    path.chmod(0o600)


@dataclass(eq=False)
class Authority:
    """A certification authority (root or intermediate) that issues, revokes and answers OCSP.

    Its URLs (CRL distribution point, OCSP, CA certificate) sit under `base_url`, named by
    `slug`; they go into the certificates it issues, as the NCA's do.
    """

    name: str
    key: KeyPair
    certificate: bytes  # DER
    parent: Authority | None = None
    base_url: str = DEMO_BASE_URL
    slug: str = ""
    _key_id: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.slug = self.slug or _slug(self.name)
        self._key_id = hashlib.sha1(_certificate_key_bits(self.certificate)).digest()

    @property
    def algorithm(self) -> Algorithm:
        return self.key.algorithm

    @property
    def x509(self) -> x509.Certificate:
        return x509.Certificate.load(self.certificate)

    @property
    def pem(self) -> bytes:
        return pem.armor("CERTIFICATE", self.certificate)

    @property
    def chain(self) -> list[bytes]:
        """This CA's certificate, then its parents up to the root (DER)."""
        return [self.certificate, *(self.parent.chain if self.parent else [])]

    @property
    def root(self) -> Authority:
        return self.parent.root if self.parent else self

    @property
    def crl_url(self) -> str:
        return f"{self.base_url}/crl/{self.slug}.crl"

    @property
    def ocsp_url(self) -> str:
        return f"{self.base_url}/ocsp/"

    @property
    def certificate_url(self) -> str:
        return f"{self.base_url}/cert/{self.slug}.cer"

    def _links(self) -> list[dict[str, object]]:
        """CRL distribution point and authority information access of what this CA signs."""
        return [
            _extension(
                "crl_distribution_points",
                [{"distribution_point": x509.DistributionPointName(
                    name="full_name", value=[_uri(self.crl_url)])}],
            ),
            _extension(
                "authority_information_access",
                [
                    {"access_method": "ca_issuers", "access_location": _uri(self.certificate_url)},
                    {"access_method": "ocsp", "access_location": _uri(self.ocsp_url)},
                ],
            ),
        ]

    def _issue_certificate(
        self,
        subject: x509.Name,
        key: KeyPair,
        extensions: list[dict[str, object]],
        not_before: datetime,
        not_after: datetime,
    ) -> bytes:
        key_id = hashlib.sha1(key.public_key_bits()).digest()
        tbs = x509.TbsCertificate(
            {
                "version": "v3",
                "serial_number": _serial(),
                "signature": _algorithm_id(self.key.signature_oid),
                "issuer": self.x509.subject,
                "validity": {
                    "not_before": _x509_time(not_before),
                    "not_after": _x509_time(not_after),
                },
                "subject": subject,
                "subject_public_key_info": _public_key_info(key),
                "extensions": [
                    *extensions,
                    _extension("key_identifier", key_id),
                    _extension("authority_key_identifier", {"key_identifier": self._key_id}),
                    *self._links(),
                ],
            }
        )
        return _sign_certificate(tbs, self.key)

    def issue(
        self,
        identity: Identity,
        *,
        purpose: Purpose = "authentication",
        roles: Iterable[Role] | None = None,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        key: KeyPair | None = None,
    ) -> Issued:
        """A person's certificate for login ("authentication": clientAuth, digitalSignature +
        keyEncipherment) or signing ("signature": emailProtection, digitalSignature +
        nonRepudiation), with the role EKUs. Without `roles`: individual for a person without
        a BIN, employee for one with. Any organisation role adds legal_entity, as the NCA does.
        The key is generated in the CA's algorithm unless given. Validity defaults to one year
        from now."""
        if purpose not in PURPOSE_OIDS:
            raise ValueError(f"purpose must be one of {sorted(PURPOSE_OIDS)}")
        chosen = list(roles) if roles is not None else (["employee"] if identity.bin else ["individual"])
        unknown = [r for r in chosen if r not in ROLE_OIDS]
        if unknown:
            raise ValueError(f"unknown roles {unknown}; known: {sorted(ROLE_OIDS)}")
        if any(r not in ("individual", "legal_entity") for r in chosen) and "legal_entity" not in chosen:
            chosen.insert(0, "legal_entity")
        ordered = tuple(r for r in ROLE_OIDS if r in chosen)
        start = _utc(not_before) if not_before else _now() - timedelta(minutes=5)
        end = _utc(not_after) if not_after else start + timedelta(days=365)
        key = key or KeyPair.generate(self.algorithm)
        extensions = [
            _extension("key_usage", _KEY_USAGE[purpose], critical=True),
            _extension(
                "extended_key_usage", [PURPOSE_OIDS[purpose], *(ROLE_OIDS[r] for r in ordered)]
            ),
        ]
        der = self._issue_certificate(_subject(identity), key, extensions, start, end)
        return Issued(der, key, self, identity, purpose, ordered)

    def ocsp_responder(
        self,
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        key: KeyPair | None = None,
    ) -> Issued:
        """A delegated OCSP responder's certificate, as the NCA's: CN=OCSP RESPONDER, O=the CA,
        digitalSignature, id-kp-OCSPSigning and id-pkix-ocsp-nocheck."""
        start = _utc(not_before) if not_before else _now() - timedelta(minutes=5)
        end = _utc(not_after) if not_after else start + timedelta(days=365)
        key = key or KeyPair.generate(self.algorithm)
        subject = _name(
            [
                ("common_name", _utf8("OCSP RESPONDER")),
                ("country_name", core.PrintableString("KZ")),
                ("organization_name", _utf8(self.name)),
            ]
        )
        extensions = [
            _extension("key_usage", {"digital_signature"}),
            _extension("ocsp_no_check", None),
            _extension("extended_key_usage", [OCSP_SIGNING_OID]),
        ]
        der = self._issue_certificate(subject, key, extensions, start, end)
        return Issued(der, key, self, Identity("OCSP RESPONDER", organisation=self.name), "ocsp")

    def crl(
        self,
        revoked: Iterable[tuple[Issued | int, datetime, str | None]] = (),
        *,
        this_update: datetime | None = None,
        next_update: datetime | None = None,
        number: int = 1,
    ) -> bytes:
        """A DER CRL (v2) listing (certificate or serial, revoked at, reason or None); reasons
        as asn1crypto names them: key_compromise, certificate_hold, superseded, …
        Defaults: this update now, next update a week later."""
        start = _utc(this_update) if this_update else _now()
        end = _utc(next_update) if next_update else start + timedelta(days=7)
        entries = []
        for item, revoked_at, reason in revoked:
            entry: dict[str, object] = {
                "user_certificate": item.serial if isinstance(item, Issued) else item,
                "revocation_date": _x509_time(revoked_at),
            }
            if reason:
                entry["crl_entry_extensions"] = [{"extn_id": "crl_reason", "extn_value": reason}]
            entries.append(entry)
        tbs_fields: dict[str, object] = {
            "version": "v2",
            "signature": _algorithm_id(self.key.signature_oid),
            "issuer": self.x509.subject,
            "this_update": _x509_time(start),
            "next_update": _x509_time(end),
            "crl_extensions": [
                {"extn_id": "crl_number", "extn_value": number},
                {"extn_id": "authority_key_identifier", "extn_value": {"key_identifier": self._key_id}},
            ],
        }
        if entries:  # an empty list would encode an empty SEQUENCE, which DER forbids here
            tbs_fields["revoked_certificates"] = entries
        tbs = crl.TbsCertList(tbs_fields)
        return crl.CertificateList(
            {
                "tbs_cert_list": tbs,
                "signature_algorithm": _algorithm_id(self.key.signature_oid),
                "signature": self.key.sign(tbs.dump()),
            }
        ).dump()

    def ocsp_response(
        self,
        certificate: Issued | bytes,
        status: OcspStatus = "good",
        *,
        revoked_at: datetime | None = None,
        reason: str | None = None,
        this_update: datetime | None = None,
        next_update: datetime | None = None,
        produced_at: datetime | None = None,
        nonce: bytes | None = None,
        responder: Issued | None = None,
    ) -> bytes:
        """A DER OCSPResponse (successful, BasicOCSPResponse) about one certificate of this CA.

        As the NCA's: responder id by name, certificate id with SHA-256, the nonce echoed in a
        response extension, the signer's certificate included. Signed by `responder` (from
        `ocsp_responder()`) or, without one, by the CA itself."""
        der = certificate.certificate if isinstance(certificate, Issued) else certificate
        cert = x509.Certificate.load(der)
        if status not in ("good", "revoked", "unknown"):
            raise ValueError("status must be good, revoked or unknown")
        signer_key = responder.key if responder else self.key
        signer_cert = responder.certificate if responder else self.certificate
        moment = _utc(this_update) if this_update else _now()
        cert_id = ocsp.CertId(
            {
                "hash_algorithm": _algorithm_id(_SHA256_OID),
                "issuer_name_hash": hashlib.sha256(cert.issuer.dump()).digest(),
                "issuer_key_hash": hashlib.sha256(_certificate_key_bits(self.certificate)).digest(),
                "serial_number": cert.serial_number,
            }
        )
        if status == "revoked":
            info: dict[str, object] = {"revocation_time": _utc(revoked_at or moment)}
            if reason:
                info["revocation_reason"] = reason
            cert_status = ocsp.CertStatus(name="revoked", value=info)
        else:
            cert_status = ocsp.CertStatus(name=status, value=core.Null())
        single: dict[str, object] = {
            "cert_id": cert_id,
            "cert_status": cert_status,
            "this_update": moment,
        }
        if next_update:
            single["next_update"] = _utc(next_update)
        data: dict[str, object] = {
            "responder_id": ocsp.ResponderId(
                name="by_name", value=x509.Certificate.load(signer_cert).subject
            ),
            "produced_at": _utc(produced_at) if produced_at else moment,
            "responses": [single],
        }
        if nonce is not None:
            data["response_extensions"] = [{"extn_id": "nonce", "extn_value": nonce}]
        response_data = ocsp.ResponseData(data)
        basic = ocsp.BasicOCSPResponse(
            {
                "tbs_response_data": response_data,
                "signature_algorithm": _algorithm_id(signer_key.signature_oid),
                "signature": signer_key.sign(response_data.dump()),
                "certs": [x509.Certificate.load(signer_cert)],
            }
        )
        return ocsp.OCSPResponse(
            {
                "response_status": "successful",
                "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
            }
        ).dump()

    def save(self, directory: Path, stem: str | None = None) -> Path:
        """Write `stem`.cer (DER), .pem, .key (PKCS#8 PEM) and .json in `directory`; the stem
        defaults to the slug. Returns the path of the DER certificate (what to trust)."""
        stem = stem or self.slug
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{stem}.cer").write_bytes(self.certificate)
        (directory / f"{stem}.pem").write_bytes(self.pem)
        _write_key(directory / f"{stem}.key", self.key)
        meta = {"name": self.name, "base_url": self.base_url, "slug": self.slug}
        (directory / f"{stem}.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1))
        return directory / f"{stem}.cer"

    @classmethod
    def load(cls, directory: Path, stem: str, *, parent: Authority | None = None) -> Authority:
        meta = json.loads((directory / f"{stem}.json").read_text())
        return cls(
            name=meta["name"],
            key=KeyPair.from_pem((directory / f"{stem}.key").read_bytes()),
            certificate=(directory / f"{stem}.cer").read_bytes(),
            parent=parent,
            base_url=meta["base_url"],
            slug=meta["slug"],
        )


def _public_key_info(key: KeyPair) -> x509.PublicKeyInfo:
    # Loaded from DER and never re-encoded, so asn1crypto need not understand GOST keys.
    return x509.PublicKeyInfo.load(key.public_key_info())


def make_ca(
    name: str,
    algorithm: Algorithm,
    *,
    parent: Authority | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    key: KeyPair | None = None,
    base_url: str = DEMO_BASE_URL,
) -> Authority:
    """A root CA (self-signed) or, with `parent`, an intermediate CA signed by it. Subject
    CN=`name`, C=KZ; basicConstraints CA (critical); keyCertSign + cRLSign (critical).
    Validity defaults to ten years from now."""
    start = _utc(not_before) if not_before else _now() - timedelta(minutes=5)
    end = _utc(not_after) if not_after else start + timedelta(days=3650)
    key = key or KeyPair.generate(algorithm)
    if key.algorithm != algorithm:
        raise ValueError(f"the key is {key.algorithm}, not {algorithm}")
    subject = _ca_subject(name)
    extensions = [
        _extension("basic_constraints", {"ca": True}, critical=True),
        _extension("key_usage", {"key_cert_sign", "crl_sign"}, critical=True),
    ]
    if parent is not None:
        der = parent._issue_certificate(subject, key, extensions, start, end)
        return Authority(name, key, der, parent, base_url)
    key_id = hashlib.sha1(key.public_key_bits()).digest()
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": _serial(),
            "signature": _algorithm_id(key.signature_oid),
            "issuer": subject,
            "validity": {"not_before": _x509_time(start), "not_after": _x509_time(end)},
            "subject": subject,
            "subject_public_key_info": _public_key_info(key),
            "extensions": [
                *extensions,
                _extension("key_identifier", key_id),
                _extension("authority_key_identifier", {"key_identifier": key_id}),
            ],
        }
    )
    return Authority(name, key, _sign_certificate(tbs, key), None, base_url)


# --- CMS -----------------------------------------------------------------------------------


def _signer_info(content: bytes, signer: Issued, signing_time: datetime | None) -> cms.SignerInfo:
    cert = signer.x509
    moment = _utc(signing_time) if signing_time else _now()
    time_kind = "utc_time" if moment.year < 2050 else "generalized_time"  # RFC 5652, 11.3
    attributes = [
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute(
            {"type": "signing_time", "values": [cms.Time(name=time_kind, value=moment)]}
        ),
        cms.CMSAttribute({"type": "message_digest", "values": [signer.key.digest(content)]}),
    ]
    # DER orders a SET OF by encoding; for these three that is also the NCA's order.
    attributes.sort(key=lambda a: a.dump())
    signed_attrs = cms.CMSAttributes(attributes)
    return cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": cert.issuer, "serial_number": cert.serial_number},
            ),
            "digest_algorithm": _algorithm_id(signer.key.digest_oid),
            "signed_attrs": signed_attrs,
            "signature_algorithm": _algorithm_id(signer.key.signature_oid),
            # the signature covers the attributes as a DER SET (tag 0x31), not as [0]
            "signature": signer.key.sign(signed_attrs.dump()),
        }
    )


def _signed_data(
    digest_algorithms: list[object],
    encap: object,
    certificates: list[object],
    signer_infos: list[object],
) -> bytes:
    return cms.ContentInfo(
        {
            "content_type": "signed_data",
            "content": cms.SignedData(
                {
                    "version": "v1",
                    "digest_algorithms": digest_algorithms,
                    "encap_content_info": encap,
                    "certificates": certificates,
                    "signer_infos": signer_infos,
                }
            ),
        }
    ).dump()


def sign_cms(
    data: bytes,
    signer: Issued,
    *,
    detached: bool = False,
    signing_time: datetime | None = None,
) -> bytes:
    """DER ContentInfo/SignedData over `data`, as NCALayer's createCAdESFromBase64 makes it:
    one SignerInfo (issuer and serial; signed attributes contentType, signingTime,
    messageDigest), only the signer's certificate in the bag, the content inside unless
    `detached`. `signing_time` defaults to now."""
    info = _signer_info(data, signer, signing_time)
    encap = {"content_type": "data", "content": None if detached else data}
    return _signed_data(
        [_algorithm_id(signer.key.digest_oid)],
        encap,
        [signer.x509],
        [info],
    )


def add_signer(
    signed: bytes,
    signer: Issued,
    *,
    data: bytes | None = None,
    signing_time: datetime | None = None,
) -> bytes:
    """Add a signature by `signer` to an existing CMS (as the NCA's two-signer vectors are
    made); `data` is the content when the CMS is detached."""
    content_info = cms.ContentInfo.load(signed)
    sd = content_info["content"]
    inner = sd["encap_content_info"]["content"].native
    if inner is None and data is None:
        raise ValueError("a detached CMS needs `data` to add a signer")
    content = inner if inner is not None else data
    assert content is not None
    info = _signer_info(content, signer, signing_time)
    digests = list(sd["digest_algorithms"])
    if all(d["algorithm"].dotted != signer.key.digest_oid for d in digests):
        digests.append(cms.DigestAlgorithm(_algorithm_id(signer.key.digest_oid)))
    certificates = list(sd["certificates"])
    if all(c.chosen.dump() != signer.certificate for c in certificates):
        certificates.append(cms.CertificateChoices(name="certificate", value=signer.x509))
    return _signed_data(
        digests, sd["encap_content_info"], certificates, [*sd["signer_infos"], info]
    )


# --- XMLDSig ---------------------------------------------------------------------------------


def _xml_algorithms(key: KeyPair) -> tuple[str, str]:
    if key.rsa_key is not None:
        return (
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            "http://www.w3.org/2001/04/xmlenc#sha256",
        )
    spec = _GOST[key.algorithm]
    return spec.xml_signature, spec.xml_digest


def sign_xml(xml: str | bytes, signer: Issued) -> bytes:
    """Enveloped XMLDSig as NCALayer's signXml makes it: a ds:Signature appended to the root
    with C14N 1.0 SignedInfo, one Reference URI="" with the enveloped-signature and
    C14N-with-comments transforms, and the signer's certificate in KeyInfo. NCALayer puts no
    signing time into XMLDSig, so neither does this. Returns the signed document (UTF-8)."""
    raw = xml.encode() if isinstance(xml, str) else xml
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
    root = etree.fromstring(raw, parser)
    document = root.getroottree()
    signature_uri, digest_uri = _xml_algorithms(signer.key)
    # The enveloped transform removes this very signature, so the digest is over the
    # document as it is now (earlier signatures included, as in the two-signer vector).
    digest = signer.key.digest(etree.tostring(document, method="c14n", with_comments=True))

    def element(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
        child = etree.SubElement(parent, f"{{{_XML_DSIG}}}{tag}", attributes)
        child.text = "\n"
        child.tail = "\n"
        return child

    signature = etree.SubElement(root, f"{{{_XML_DSIG}}}Signature", nsmap={"ds": _XML_DSIG})
    signature.text = "\n"
    signed_info = element(signature, "SignedInfo")
    element(signed_info, "CanonicalizationMethod", Algorithm=_XML_C14N).text = None
    element(signed_info, "SignatureMethod", Algorithm=signature_uri).text = None
    reference = element(signed_info, "Reference", URI="")
    transforms = element(reference, "Transforms")
    element(
        transforms, "Transform", Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"
    ).text = None
    element(transforms, "Transform", Algorithm=_XML_C14N + "#WithComments").text = None
    element(reference, "DigestMethod", Algorithm=digest_uri).text = None
    element(reference, "DigestValue").text = _b64_lines(digest)
    value = element(signature, "SignatureValue")
    key_info = element(signature, "KeyInfo")
    x509_data = element(key_info, "X509Data")
    element(x509_data, "X509Certificate").text = "\n" + _b64_lines(signer.certificate) + "\n"
    # SignedInfo is canonicalised in place: inclusive C14N takes in the namespaces in scope.
    signed = signer.key.sign(etree.tostring(signed_info, method="c14n"))
    value.text = "\n" + _b64_lines(signed) + "\n"
    # The declaration exactly as NCALayer writes it (lxml would use single quotes and a newline).
    body = etree.tostring(document, xml_declaration=False, encoding="utf-8")
    return b'<?xml version="1.0" encoding="utf-8" standalone="no"?>' + body


# --- the demo PKI -------------------------------------------------------------------------

DemoStatus = Literal["valid", "revoked", "expired", "unknown_ca"]


@dataclass(frozen=True)
class DemoPerson:
    """One person of the demo: who they are, what the demo grants them, and how their
    certificates behave (valid, revoked, expired, or issued by a CA nobody trusts)."""

    key: str
    surname: str
    name: str
    patronymic: str
    iin: str
    platform_role: str  # a role of layers.access.ROLES, or "" for none
    roles: tuple[Role, ...] = ("individual",)
    bin: str | None = None
    organisation: str | None = None
    in_register: bool = True
    status: DemoStatus = "valid"

    @property
    def full_name(self) -> str:
        return f"{self.surname} {self.name} {self.patronymic}"

    @property
    def identity(self) -> Identity:
        return Identity(
            common_name=f"{self.surname} {self.name}",
            iin=self.iin,
            surname=self.surname,
            given_name=self.patronymic,  # the NCA puts the patronymic in G
            bin=self.bin,
            organisation=self.organisation,
        )


DEMO_COMPANY_BIN = "150140000121"
DEMO_COMPANY_NAME = "ТОО «ДЕМО ГЕОРЕСУРС»"
# The demo people. Every IIN and BIN has a valid check digit (kz_id_valid). Everyone has RSA
# and GOST-2015-512 login certificates; valid people also have signing certificates; the
# stranger has only an RSA login certificate from DEMO UNTRUSTED CA.
#
# | key          | person                    | IIN          | EKU roles                 | grants     | note
# |--------------|---------------------------|--------------|---------------------------|------------|-----------------
# | applicant    | АХМЕТОВ СЕРІК БОЛАТҰЛЫ    | 900315300123 | individual                | applicant  |
# | head         | СӘТБАЕВА АЙГҮЛ МАРАТҚЫЗЫ  | 850721400341 | legal_entity, first_head  | applicant  | BIN 150140000121
# | signer       | ЖАНҰЗАҚОВ ДӘУЛЕТ ЕРЛАНҰЛЫ | 921102300564 | legal_entity,             | applicant  | BIN 150140000121
# |              |                           |              | right_to_sign, employee   |            |
# | officer      | ОМАРОВА ГҮЛНАР СЕРІКҚЫЗЫ  | 880409400785 | individual                | officer    |
# | commission   | ИСАЕВА МАДИНА ТАЛҒАТҚЫЗЫ  | 830612402012 | individual                | commission |
# | admin        | ЕСЕНОВ ТИМУР ҒАЛЫМҰЛЫ     | 870827302230 | individual                | admin      |
# | auditor      | ҚАСЫМОВ НҰРЛАН ӘДІЛҰЛЫ    | 791230300908 | individual                | auditor    |
# | revoked      | ТЕМІРОВ АСҚАР НҰРЛАНҰЛЫ   | 950505301010 | individual                | applicant  | revoked
# | expired      | БЕКОВА ДИНА ЕРЛАНҚЫЗЫ     | 990919401233 | individual                | applicant  | expired
# | unregistered | НҰРЛАНОВ ЕРБОЛ ДӘУЛЕТҰЛЫ  | 010101501458 | individual                | —          | not registered
# | stranger     | ЖОҚОВ БЕЙТАНЫС САПАРҰЛЫ   | 800202301678 | individual                | —          | unknown CA
#
# BIN 150140000121 is ТОО «ДЕМО ГЕОРЕСУРС» (head: СӘТБАЕВА). "grants" is the platform role
# (layers.access.ROLES) the demo loader grants. Valid people's certificates run
# 2026-01-01…2036-01-01; the revoked person is in the issuing CAs' CRLs (key compromise).
DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("applicant", "АХМЕТОВ", "СЕРІК", "БОЛАТҰЛЫ", "900315300123", "applicant"),
    DemoPerson(
        "head", "СӘТБАЕВА", "АЙГҮЛ", "МАРАТҚЫЗЫ", "850721400341", "applicant",
        roles=("legal_entity", "first_head"), bin=DEMO_COMPANY_BIN, organisation=DEMO_COMPANY_NAME,
    ),
    DemoPerson(
        "signer", "ЖАНҰЗАҚОВ", "ДӘУЛЕТ", "ЕРЛАНҰЛЫ", "921102300564", "applicant",
        roles=("legal_entity", "right_to_sign", "employee"), bin=DEMO_COMPANY_BIN,
        organisation=DEMO_COMPANY_NAME,
    ),
    DemoPerson("officer", "ОМАРОВА", "ГҮЛНАР", "СЕРІКҚЫЗЫ", "880409400785", "officer"),
    DemoPerson("commission", "ИСАЕВА", "МАДИНА", "ТАЛҒАТҚЫЗЫ", "830612402012", "commission"),
    DemoPerson("admin", "ЕСЕНОВ", "ТИМУР", "ҒАЛЫМҰЛЫ", "870827302230", "admin"),
    DemoPerson("auditor", "ҚАСЫМОВ", "НҰРЛАН", "ӘДІЛҰЛЫ", "791230300908", "auditor"),
    DemoPerson("revoked", "ТЕМІРОВ", "АСҚАР", "НҰРЛАНҰЛЫ", "950505301010", "applicant", status="revoked"),
    DemoPerson("expired", "БЕКОВА", "ДИНА", "ЕРЛАНҚЫЗЫ", "990919401233", "applicant", status="expired"),
    DemoPerson("unregistered", "НҰРЛАНОВ", "ЕРБОЛ", "ДӘУЛЕТҰЛЫ", "010101501458", "", in_register=False),
    DemoPerson("stranger", "ЖОҚОВ", "БЕЙТАНЫС", "САПАРҰЛЫ", "800202301678", "", status="unknown_ca"),
)

# Fixed dates, so a cached demo directory stays the same PKI until 2036.
DEMO_VALID_FROM = datetime(2026, 1, 1, tzinfo=UTC)
DEMO_VALID_UNTIL = datetime(2036, 1, 1, tzinfo=UTC)
DEMO_CA_UNTIL = datetime(2046, 1, 1, tzinfo=UTC)
DEMO_EXPIRED = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))
DEMO_REVOKED_AT = datetime(2026, 6, 1, tzinfo=UTC)
DEMO_CRL_ISSUED = datetime(2026, 6, 2, tzinfo=UTC)
_DEMO_VERSION = 1
_DEMO_CAS = {  # stem: (name, algorithm, parent stem)
    "root-rsa": ("DEMO ROOT RSA (NOT FOR PRODUCTION)", "RSA-SHA256", None),
    "nca-rsa": ("DEMO NCA RSA (NOT FOR PRODUCTION)", "RSA-SHA256", "root-rsa"),
    "root-gost": ("DEMO ROOT GOST 2015 (NOT FOR PRODUCTION)", "GOST34.10-2015-512", None),
    "nca-gost": ("DEMO NCA GOST 2015 (NOT FOR PRODUCTION)", "GOST34.10-2015-512", "root-gost"),
    "untrusted": ("DEMO UNTRUSTED CA (NOT FOR PRODUCTION)", "RSA-SHA256", None),
}
_TRUSTED_CAS = ("root-rsa", "nca-rsa", "root-gost", "nca-gost")


def demo_register_rows() -> list[dict[str, str]]:
    """The demo's state-register rows, in the CSV layout of `geoservice registry load`
    (type,id,name,head_iin,status,tax_debt): the people in the register and the demo LLP."""
    rows = [
        {"type": "individual", "id": p.iin, "name": p.full_name, "head_iin": "",
         "status": "active", "tax_debt": "false"}
        for p in DEMO_PEOPLE
        if p.in_register
    ]
    head = next(p for p in DEMO_PEOPLE if "first_head" in p.roles)
    rows.append({"type": "legal-entity", "id": DEMO_COMPANY_BIN, "name": DEMO_COMPANY_NAME,
                 "head_iin": head.iin, "status": "active", "tax_debt": "false"})
    return rows


@dataclass
class DemoHolder:
    """A demo person with their certificates, keyed "rsa-auth", "rsa-sign", "gost-auth",
    "gost-sign" (those the table above gives them)."""

    person: DemoPerson
    certificates: dict[str, Issued]

    def auth(self, family: Literal["rsa", "gost"] = "rsa") -> Issued:
        """The login (AUTHENTICATION) certificate and key."""
        return self._get(f"{family}-auth")

    def sign(self, family: Literal["rsa", "gost"] = "rsa") -> Issued:
        """The signing (SIGNATURE) certificate and key."""
        return self._get(f"{family}-sign")

    def _get(self, name: str) -> Issued:
        if name not in self.certificates:
            raise KeyError(f"demo person {self.person.key!r} has no {name} certificate")
        return self.certificates[name]


@dataclass
class DemoPki:
    """The demo PKI as saved under `directory`: CAs in ca/, CRLs in crl/, people in
    people/<key>/ (DER .cer, .pem, PKCS#8 .key and .json each)."""

    directory: Path
    authorities: dict[str, Authority]  # root-rsa, nca-rsa, root-gost, nca-gost, untrusted
    people: dict[str, DemoHolder]

    @property
    def trusted(self) -> list[Path]:
        """The CA certificates to trust (roots and intermediates; not the untrusted CA)."""
        return [self.directory / "ca" / f"{stem}.cer" for stem in _TRUSTED_CAS]

    @property
    def crls(self) -> list[Path]:
        """The CRLs of the trusted CAs (the issuing CAs list the revoked person)."""
        return [self.directory / "crl" / f"{stem}.crl" for stem in _TRUSTED_CAS]

    def person(self, key: str) -> DemoHolder:
        return self.people[key]

    def by_iin(self, iin: str) -> DemoHolder:
        for holder in self.people.values():
            if holder.person.iin == iin:
                return holder
        raise KeyError(f"no demo person with IIN {iin}")


def demo_pki(directory: Path) -> DemoPki:
    """The demo PKI under `directory`: loaded if already there, made and saved otherwise (a
    lock file keeps concurrent callers from making two). Making it takes some seconds
    (pure-Python GOST); loading it is quick."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        manifest = directory / "manifest.json"
        if manifest.exists() and json.loads(manifest.read_text()).get("version") == _DEMO_VERSION:
            return _load_demo(directory)
        for stale in ("ca", "crl", "people"):
            shutil.rmtree(directory / stale, ignore_errors=True)
        _make_demo(directory)
        table = [p.__dict__ for p in DEMO_PEOPLE]
        manifest.write_text(
            json.dumps({"version": _DEMO_VERSION, "people": table}, ensure_ascii=False, indent=1)
        )
        return _load_demo(directory)


def _make_demo(directory: Path) -> None:
    cas: dict[str, Authority] = {}
    for stem, (name, algorithm, parent) in _DEMO_CAS.items():
        cas[stem] = make_ca(
            name,
            algorithm,  # type: ignore[arg-type]
            parent=cas[parent] if parent else None,
            not_before=DEMO_VALID_FROM - timedelta(days=365),
            not_after=DEMO_CA_UNTIL,
        )
        cas[stem].save(directory / "ca", stem)
    revoked: dict[str, list[Issued]] = {"nca-rsa": [], "nca-gost": []}
    for person in DEMO_PEOPLE:
        start, end = DEMO_EXPIRED if person.status == "expired" else (DEMO_VALID_FROM, DEMO_VALID_UNTIL)
        families = {"rsa": "untrusted"} if person.status == "unknown_ca" else {"rsa": "nca-rsa", "gost": "nca-gost"}
        purposes: tuple[Purpose, ...] = (
            ("authentication", "signature") if person.status == "valid" else ("authentication",)
        )
        for family, stem in families.items():
            for purpose in purposes:
                issued = cas[stem].issue(
                    person.identity, purpose=purpose, roles=person.roles, not_before=start, not_after=end
                )
                issued.save(directory / "people" / person.key, f"{family}-{purpose[:4]}")
                if person.status == "revoked":
                    revoked[stem].append(issued)
    for stem in _TRUSTED_CAS:
        entries = [(issued, DEMO_REVOKED_AT, "key_compromise") for issued in revoked.get(stem, [])]
        der = cas[stem].crl(entries, this_update=DEMO_CRL_ISSUED, next_update=DEMO_CA_UNTIL)
        (directory / "crl").mkdir(parents=True, exist_ok=True)
        (directory / "crl" / f"{stem}.crl").write_bytes(der)


def _load_demo(directory: Path) -> DemoPki:
    cas: dict[str, Authority] = {}
    for stem, (_, _, parent) in _DEMO_CAS.items():
        cas[stem] = Authority.load(directory / "ca", stem, parent=cas[parent] if parent else None)
    people: dict[str, DemoHolder] = {}
    for person in DEMO_PEOPLE:
        folder = directory / "people" / person.key
        issuer = {"rsa": cas["untrusted" if person.status == "unknown_ca" else "nca-rsa"], "gost": cas["nca-gost"]}
        certificates = {
            path.stem: Issued.load(folder, path.stem, issuer[path.stem.split("-")[0]])
            for path in sorted(folder.glob("*.cer"))
        }
        people[person.key] = DemoHolder(person, certificates)
    return DemoPki(directory, cas, people)


__all__ = [
    "ALGORITHMS",
    "Algorithm",
    "Authority",
    "DEMO_BASE_URL",
    "DEMO_PEOPLE",
    "DemoHolder",
    "DemoPerson",
    "DemoPki",
    "Identity",
    "Issued",
    "KeyPair",
    "ROLE_OIDS",
    "add_signer",
    "demo_pki",
    "demo_register_rows",
    "kz_id_valid",
    "make_ca",
    "sign_cms",
    "sign_xml",
]

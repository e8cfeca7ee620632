"""X.509 certificates of the NCA as the verifier needs them: names, validity, key usage, EKU,
identity (IIN, BIN, organisation, name) and roles. Parsed with asn1crypto, except the public key,
which is kept as the raw SubjectPublicKeyInfo (asn1crypto raises on GOST keys)."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from functools import cached_property
from typing import Any

from asn1crypto import pem, x509

from . import oids


class Malformed(ValueError):
    """Input that is not what it claims to be (not DER, not a certificate, not a CMS…); the
    message says what is wrong. The service answers it with eds.malformed."""


# Short names of attribute types, for subjects printed the way NCA tools print them.
_SHORT = {"common_name": "CN", "surname": "SN", "serial_number": "serialNumber", "country_name": "C",
          "organization_name": "O", "organizational_unit_name": "OU", "given_name": "G",
          "locality_name": "L", "state_or_province_name": "ST", "email_address": "E",
          "business_category": "businessCategory", "title": "T"}
_KEY_USAGE_ORDER = ("digital_signature", "non_repudiation", "key_encipherment", "data_encipherment",
                    "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
_READ_EXTENSIONS = ("2.5.29.14", "2.5.29.35", "2.5.29.19", "2.5.29.15", "2.5.29.37", "2.5.29.31",
                    "1.3.6.1.5.5.7.1.1")
_DIGITS = re.compile(r"\d{12}")


def der_of(data: bytes, kind: str = "CERTIFICATE") -> bytes:
    """DER bytes of ``data``, which is DER or PEM (auto-detected)."""
    if pem.detect(data):
        try:
            _, _, der = pem.unarmor(data)
        except ValueError as exc:
            raise Malformed(f"broken PEM {kind.lower()}: {exc}") from None
        return der
    return data


def name_text(name: x509.Name) -> str:
    """``CN=…, SN=…, serialNumber=…`` in the certificate's order."""
    parts = []
    for rdn in name.chosen:
        for attr in rdn:
            kind = attr["type"].native
            value = attr["value"].native
            parts.append(f"{_SHORT.get(kind, attr['type'].dotted)}={value}")
    return ", ".join(parts)


def name_values(name: x509.Name, kind: str) -> list[str]:
    return [str(attr["value"].native) for rdn in name.chosen for attr in rdn if attr["type"].native == kind]


class Certificate:
    """One X.509 certificate over its DER bytes (or PEM, converted)."""

    def __init__(self, data: bytes) -> None:
        self.der = der_of(data)
        try:
            self._x = x509.Certificate.load(self.der, strict=True)
            tbs = self._x["tbs_certificate"]
            self.subject: x509.Name = tbs["subject"]
            self.issuer: x509.Name = tbs["issuer"]
            self.serial: int = tbs["serial_number"].native
            validity = tbs["validity"]
            self.not_before: datetime = validity["not_before"].native
            self.not_after: datetime = validity["not_after"].native
            self.tbs_der: bytes = tbs.dump()
            self.spki_der: bytes = tbs["subject_public_key_info"].dump()
            self.signature_algorithm: str = self._x["signature_algorithm"]["algorithm"].dotted
            self.signature: bytes = self._x["signature_value"].native
            self._extensions = {e["extn_id"].dotted: e for e in (tbs["extensions"] or [])}
            # Touch what later properties read, so that a broken certificate fails here.
            self.subject.hashable, self.issuer.hashable  # noqa: B018
            # Only the extensions we read: NCA responder certificates carry an empty OCSP
            # No Check value that asn1crypto cannot parse, and nothing needs it.
            for oid in _READ_EXTENSIONS:
                if oid in self._extensions:
                    self._extensions[oid]["extn_value"].parsed.native  # noqa: B018
        except Malformed:
            raise
        except Exception as exc:  # noqa: BLE001 - asn1crypto raises many kinds on broken input
            raise Malformed(f"not an X.509 certificate: {exc}") from None

    def __repr__(self) -> str:
        return f"Certificate({self.subject_text!r}, serial={self.serial_hex})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Certificate) and other.der == self.der

    def __hash__(self) -> int:
        return hash(self.der)

    # --- names and keys ---------------------------------------------------------------------
    @cached_property
    def subject_text(self) -> str:
        return name_text(self.subject)

    @cached_property
    def issuer_text(self) -> str:
        return name_text(self.issuer)

    @property
    def serial_hex(self) -> str:
        return format(self.serial, "X").rjust(2, "0")

    @cached_property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.der).hexdigest()

    def _ext(self, oid: str) -> Any:
        ext = self._extensions.get(oid)
        return None if ext is None else ext["extn_value"].parsed

    @cached_property
    def subject_key_id(self) -> bytes | None:
        value = self._ext("2.5.29.14")
        return None if value is None else value.native

    @cached_property
    def authority_key_id(self) -> bytes | None:
        value = self._ext("2.5.29.35")
        return None if value is None else value["key_identifier"].native

    @cached_property
    def is_ca(self) -> bool:
        value = self._ext("2.5.29.19")
        return bool(value is not None and value["ca"].native)

    @cached_property
    def self_issued(self) -> bool:
        return self.subject.hashable == self.issuer.hashable

    @cached_property
    def key_usage(self) -> list[str]:
        value = self._ext("2.5.29.15")
        if value is None:
            return []
        names = value.native
        return [n for n in _KEY_USAGE_ORDER if n in names]

    @property
    def has_key_usage(self) -> bool:
        return "2.5.29.15" in self._extensions

    @cached_property
    def extended_key_usage(self) -> list[str]:
        """EKU OIDs, dotted, in the certificate's order."""
        value = self._ext("2.5.29.37")
        return [] if value is None else [oid.dotted for oid in value]

    @cached_property
    def crl_urls(self) -> list[str]:
        value = self._ext("2.5.29.31")
        urls = []
        for point in value or []:
            name = point["distribution_point"]
            if name.name == "full_name":
                urls += [g.native for g in name.chosen if g.name == "uniform_resource_identifier"]
        return urls

    @cached_property
    def ocsp_urls(self) -> list[str]:
        value = self._ext("1.3.6.1.5.5.7.1.1")
        return [d["access_location"].native for d in value or []
                if d["access_method"].dotted == "1.3.6.1.5.5.7.48.1"
                and d["access_location"].name == "uniform_resource_identifier"]

    # --- identity ---------------------------------------------------------------------------
    @cached_property
    def iin(self) -> str | None:
        for value in name_values(self.subject, "serial_number"):
            if value.upper().startswith("IIN") and _DIGITS.fullmatch(value[3:]):
                return value[3:]
        return None

    @cached_property
    def bin(self) -> str | None:
        for value in name_values(self.subject, "organizational_unit_name"):
            if value.upper().startswith("BIN") and _DIGITS.fullmatch(value[3:]):
                return value[3:]
        return None

    @cached_property
    def organisation(self) -> str | None:
        values = name_values(self.subject, "organization_name")
        return values[0] if values else None

    @cached_property
    def name(self) -> str | None:
        """The person's name: CN as NCA writes it (surname and given name), with the patronymic
        (G) when CN lacks it; SN and G when there is no CN."""
        cn = name_values(self.subject, "common_name")
        given = name_values(self.subject, "given_name")
        if cn:
            full = cn[0]
            if given and given[0] not in full:
                full = f"{full} {given[0]}"
            return full
        parts = name_values(self.subject, "surname") + given
        return " ".join(parts) or None

    @cached_property
    def roles(self) -> list[str]:
        return [oids.ROLES[oid] for oid in self.extended_key_usage if oid in oids.ROLES]

    def valid_at(self, at: datetime) -> bool:
        return self.not_before <= at <= self.not_after

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject_text,
            "issuer": self.issuer_text,
            "serial": self.serial_hex,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "fingerprint": self.fingerprint,
            "key_usage": self.key_usage,
            "extended_key_usage": [oids.EKU_NAMES.get(oid, oid) for oid in self.extended_key_usage],
        }

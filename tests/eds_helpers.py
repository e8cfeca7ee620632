"""Shared by the EDS tests: the real NCA vectors (read in place from ../shared, never copied) and
a small RSA PKI made with ``cryptography`` for the cases the vectors do not cover."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The real NCA vectors live beside the project (../shared); GEOSERVICE_EDS_VECTORS points
# elsewhere, e.g. for a clone outside the work tree. Missing vectors fail the tests, never skip.
VECTORS = Path(os.environ.get("GEOSERVICE_EDS_VECTORS")
               or Path(__file__).resolve().parents[2] / "shared" / "data" / "eds-nca-test")
SIGNED_AT = datetime(2022, 9, 27, 21, 17, 59, tzinfo=UTC)  # both signers of the two-signer CMS
CA_FILES = ("nca_gost_test.crt", "nca_rsa_test.crt", "nca_gost2015_test.cer")
CRL_FILES = ("nca_gost_test.crl", "nca_rsa_test.crl", "nca_gost2022_test.crl")


def vector(name: str) -> bytes:
    return (VECTORS / name).read_bytes()


def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def name(cn: str, *, iin: str | None = None, bin_: str | None = None, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if iin:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{iin}"))
    attrs.append(x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"))
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    if bin_:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{bin_}"))
    return x509.Name(attrs)


class Pki:
    """An RSA test CA issuing user certificates, a CRL, and CMS signatures (cryptography's PKCS7
    builder: signed attributes with signingTime)."""

    def __init__(self, cn: str = "TEST CA", *, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)
        self.key = key()
        self.name = name(cn)
        ski = x509.SubjectKeyIdentifier.from_public_key(self.key.public_key())
        self.cert = (x509.CertificateBuilder().subject_name(self.name).issuer_name(self.name)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(self.now - timedelta(days=365)).not_valid_after(self.now + timedelta(days=3650))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), True)
                     .add_extension(ski, critical=False)
                     .sign(self.key, hashes.SHA256()))

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    def issue(self, cn: str = "ТЕСТОВ ТЕСТ", *, iin: str = "123456789011", bin_: str | None = None,
              org: str | None = None, eku: tuple[str, ...] = ("1.3.6.1.5.5.7.3.4", "1.2.398.3.3.4.1.1"),
              usage: str = "sign", not_before: datetime | None = None, not_after: datetime | None = None,
              ca: bool = False, serial: int | None = None) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
        user_key = key()
        ku = (x509.KeyUsage(True, True, False, False, False, False, False, False, False) if usage == "sign"
              else x509.KeyUsage(False, False, True, False, False, False, False, False, False))
        builder = (x509.CertificateBuilder().subject_name(name(cn, iin=iin, bin_=bin_, org=org))
                   .issuer_name(self.name).public_key(user_key.public_key())
                   .serial_number(serial or x509.random_serial_number())
                   .not_valid_before(not_before or self.now - timedelta(days=30))
                   .not_valid_after(not_after or self.now + timedelta(days=335))
                   .add_extension(ku, critical=True)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False))
        if ca:
            builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier(o) for o in eku]), False)
        return builder.sign(self.key, hashes.SHA256()), user_key

    def crl(self, revoked: list[x509.Certificate], *, this_update: datetime | None = None,
            next_update: datetime | None = None) -> bytes:
        this_update = this_update or self.now - timedelta(hours=1)
        builder = (x509.CertificateRevocationListBuilder().issuer_name(self.name).last_update(this_update)
                   .next_update(next_update or this_update + timedelta(days=7)))
        for cert in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(cert.serial_number)
                .revocation_date(this_update - timedelta(minutes=5)).build())
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def sign_cms(data: bytes, cert: x509.Certificate, user_key: rsa.RSAPrivateKey, *, detached: bool = False) -> bytes:
    options = [pkcs7.PKCS7Options.Binary] + ([pkcs7.PKCS7Options.DetachedSignature] if detached else [])
    return (pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(cert, user_key, hashes.SHA256())
            .sign(serialization.Encoding.DER, options))


CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH.dotted_string

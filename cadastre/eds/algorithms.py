"""Signature mathematics: RSA PKCS#1 v1.5 (``cryptography``), GOST 34.310-2004 with GOST
34.311-95 and GOST 34.10-2015 256/512 with Streebog (gost_curve.py, gost3411_94.py,
streebog.py: pure Python).

Byte order (EDS.md, checked on the NCA vectors): the public key is the OCTET STRING X‖Y of the
certificate, the signature r‖s, each half a little-endian number, and the digest is read as a
little-endian number (gostcrypto takes each of them reversed, i.e. big-endian)."""

from __future__ import annotations

import hashlib

from asn1crypto import core
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from . import gost_curve, oids
from .gost3411_94 import gost3411_94
from .streebog import streebog


class UnsupportedAlgorithm(ValueError):
    """An algorithm (or curve, or key) we cannot verify: reported, never taken as valid."""


_HASHLIB = {oids.SHA1: "sha1", oids.SHA256: "sha256", oids.SHA384: "sha384", oids.SHA512: "sha512"}
_STREEBOG = {oids.STREEBOG256: 256, oids.STREEBOG512: 512, oids.RU_STREEBOG256: 256, oids.RU_STREEBOG512: 512}
_RSA_HASHES = {oids.SHA1: hashes.SHA1, oids.SHA256: hashes.SHA256, oids.SHA384: hashes.SHA384,
               oids.SHA512: hashes.SHA512}
_FAMILY_DIGESTS = {oids.GOST2004: {oids.GOST3411_94},
                   oids.GOST2015_256: {oids.STREEBOG256, oids.RU_STREEBOG256},
                   oids.GOST2015_512: {oids.STREEBOG512, oids.RU_STREEBOG512}}


def digest(oid: str, data: bytes) -> bytes:
    """``data`` hashed with the digest algorithm ``oid`` (SHA-*, GOST 34.311-95, Streebog)."""
    if oid in _HASHLIB:
        return hashlib.new(_HASHLIB[oid], data).digest()
    if oid == oids.GOST3411_94:
        return gost3411_94(data)
    if oid in _STREEBOG:
        return streebog(data, _STREEBOG[oid])
    raise UnsupportedAlgorithm(f"digest {oid}")


def family(signature_algorithm_oid: str) -> tuple[str, str | None]:
    """(family, the digest the OID implies or None) of a signature or public-key OID."""
    try:
        return oids.SIGNATURE_FAMILIES[signature_algorithm_oid]
    except KeyError:
        raise UnsupportedAlgorithm(f"signature {signature_algorithm_oid}") from None


def spki_parts(spki_der: bytes) -> tuple[str, core.Asn1Value | None, bytes]:
    """(key algorithm OID, its parameters, the BIT STRING's bytes) of a SubjectPublicKeyInfo,
    read as plain sequences: asn1crypto's typed parser raises on GOST keys (EDS.md)."""
    seq = core.Sequence.load(spki_der)
    algorithm = core.Sequence.load(seq[0].dump())
    oid = core.ObjectIdentifier.load(algorithm[0].dump()).dotted
    params = algorithm[1] if len(algorithm) > 1 else None
    bits = core.BitString.load(seq[1].dump())
    raw = bits.contents
    if not raw or raw[0] != 0:
        raise ValueError("public key bit string has unused bits")
    return oid, params, raw[1:]


def verify_signature(signature_algorithm_oid: str, spki_der: bytes, signature: bytes, data: bytes,
                     digest_oid: str | None) -> bool:
    """Whether ``signature`` signs ``data`` under the public key ``spki_der``. ``digest_oid``
    names the digest when the signature OID does not imply one (CMS with rsaEncryption); when
    both are given they must agree. Raises UnsupportedAlgorithm for what we cannot check."""
    kind, implied = family(signature_algorithm_oid)
    if implied is not None and digest_oid is not None and digest_oid != implied \
            and not (kind != oids.RSA_FAMILY and digest_oid in _FAMILY_DIGESTS[kind]):
        raise UnsupportedAlgorithm(f"digest {digest_oid} with signature {signature_algorithm_oid}")
    digest_oid = implied or digest_oid
    if digest_oid is None:
        raise UnsupportedAlgorithm(f"signature {signature_algorithm_oid} without a digest")
    key_oid, params, key_bits = spki_parts(spki_der)
    if kind == oids.RSA_FAMILY:
        if key_oid != oids.RSA or digest_oid not in _RSA_HASHES:
            raise UnsupportedAlgorithm(f"key {key_oid} / digest {digest_oid} for RSA")
        key = load_der_public_key(spki_der)
        if not isinstance(key, rsa.RSAPublicKey):
            raise UnsupportedAlgorithm(f"key {key_oid} for RSA")
        try:
            key.verify(signature, data, padding.PKCS1v15(), _RSA_HASHES[digest_oid]())
        except InvalidSignature:
            return False
        return True
    key_family, _ = family(key_oid)
    if key_family != kind:
        raise UnsupportedAlgorithm(f"key {key_oid} for signature {signature_algorithm_oid}")
    curve = gost_curve.CURVES[_curve(params)]
    size = 64 if kind == oids.GOST2015_512 else 32
    point = core.OctetString.load(key_bits).native
    if len(point) != 2 * size or len(signature) != 2 * size:
        return False
    hashed = digest(digest_oid, data)
    if len(hashed) != size:  # a digest of another size than the key's: as gostcrypto, no match
        return False
    public = (int.from_bytes(point[:size], "little"), int.from_bytes(point[size:], "little"))
    r, s = int.from_bytes(signature[:size], "little"), int.from_bytes(signature[size:], "little")
    return gost_curve.verify(curve, public, int.from_bytes(hashed, "little"), r, s)


def _curve(params: core.Asn1Value | None) -> str:
    """gostcrypto's name of the curve named in a GOST key's parameters (a SEQUENCE whose first
    element is the curve's OID, or the OID alone)."""
    if params is None:
        raise UnsupportedAlgorithm("GOST key without parameters")
    raw = params.dump()
    if raw[:1] == b"\x30":
        raw = core.Sequence.load(raw)[0].dump()
    oid = core.ObjectIdentifier.load(raw).dotted
    if oid not in oids.CURVES:
        raise UnsupportedAlgorithm(f"curve {oid}")
    return oids.CURVES[oid]

"""GOST 34.10-2015 signing for the test and demo PKI, in the byte layout of the NCA.

The curve maths is gost_curve.py's (numbers); NCA certificates, CMS and XMLDSig carry the
numbers little-endian. The layout, proven by the tests on the real NCA test vectors:

* public key: the OCTET STRING inside the certificate's BIT STRING is X‖Y, each half
  little-endian;
* signature (certificate, CRL, OCSP, CMS SignerInfo, XMLDSig SignatureValue): r‖s, each half
  little-endian;
* the signed number is Streebog's output read little-endian (gostcrypto takes the digest
  reversed), while the XMLDSig DigestValue is Streebog's output as it is.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

from . import gost_curve
from .streebog import streebog as _streebog

GostBits = Literal[256, 512]

# The NCA's GOST-2015 parameter sets (EDS.md and Kalkan's named curves): 1.2.398.3.10.1.1.2.1.1
# is tc26 256 paramSetA (a twisted Edwards curve), 1.2.398.3.10.1.1.2.2.1 is tc26 512 paramSetA.
_CURVE_NAMES: dict[int, str] = {
    256: "id-tc26-gost-3410-2012-256-paramSetA",
    512: "id-tc26-gost-3410-12-512-paramSetA",
}


def _curve(bits: int) -> gost_curve.Curve:
    return gost_curve.CURVES[_CURVE_NAMES[bits]]


def _little_halves(a: int, b: int, bits: int) -> bytes:
    """a‖b, each half little-endian, `bits` // 8 bytes each (X‖Y or r‖s)."""
    return a.to_bytes(bits // 8, "little") + b.to_bytes(bits // 8, "little")


def streebog(data: bytes, bits: int) -> bytes:
    """Streebog (GOST 34.11-2012) of `data`, as the standard prints it (the XMLDSig digest)."""
    return _streebog(data, 256 if bits == 256 else 512)


@dataclass(frozen=True)
class GostKey:
    """A GOST 34.10-2015 private key: the scalar, big-endian, `bits` // 8 bytes."""

    bits: int
    scalar: bytes

    @classmethod
    def generate(cls, bits: GostBits) -> GostKey:
        q = _curve(bits).q  # the subgroup order: the key must lie in [1, q - 1]
        value = secrets.randbelow(q - 1) + 1
        return cls(bits, value.to_bytes(bits // 8, "big"))

    def public_octets(self) -> bytes:
        """The public key as the certificate carries it: X‖Y, each half little-endian."""
        x, y = gost_curve.public_key(_curve(self.bits), int.from_bytes(self.scalar, "big"))
        return _little_halves(x, y, self.bits)

    def sign(self, data: bytes) -> bytes:
        """Sign `data` (hashed here with Streebog of the key's size); r‖s little-endian."""
        digest = int.from_bytes(streebog(data, self.bits), "little")
        r, s = gost_curve.sign(_curve(self.bits), int.from_bytes(self.scalar, "big"), digest)
        return _little_halves(r, s, self.bits)


def verify(public_octets: bytes, data: bytes, signature: bytes) -> bool:
    """Check a GOST 34.10-2015 signature in the NCA layout over `data` (hashed here)."""
    bits = len(public_octets) * 4
    if bits not in (256, 512) or len(signature) != len(public_octets):
        return False
    size = bits // 8
    key = (int.from_bytes(public_octets[:size], "little"), int.from_bytes(public_octets[size:], "little"))
    r, s = int.from_bytes(signature[:size], "little"), int.from_bytes(signature[size:], "little")
    digest = int.from_bytes(streebog(data, bits), "little")
    return gost_curve.verify(_curve(bits), key, digest, r, s)

"""GOST 34.10-2015 signing for the test and demo PKI, in the byte layout of the NCA.

gostcrypto computes with big-endian numbers; NCA certificates, CMS and XMLDSig carry them
little-endian. The layout, proven by the tests on the real NCA test vectors:

* public key: the OCTET STRING inside the certificate's BIT STRING is X‖Y, each half
  little-endian;
* signature (certificate, CRL, OCSP, CMS SignerInfo, XMLDSig SignatureValue): r‖s, each half
  little-endian;
* gostcrypto takes the Streebog digest reversed (Streebog's output is the little-endian
  number), while the XMLDSig DigestValue is Streebog's output as it is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from gostcrypto import gosthash, gostsignature

GostBits = Literal[256, 512]

# The NCA's GOST-2015 parameter sets (EDS.md and Kalkan's named curves): 1.2.398.3.10.1.1.2.1.1
# is tc26 256 paramSetA (a twisted Edwards curve), 1.2.398.3.10.1.1.2.2.1 is tc26 512 paramSetA.
_CURVE_NAMES: dict[int, str] = {
    256: "id-tc26-gost-3410-2012-256-paramSetA",
    512: "id-tc26-gost-3410-12-512-paramSetA",
}


def _engine(bits: int) -> gostsignature.GOST34102012:
    mode = gostsignature.MODE_256 if bits == 256 else gostsignature.MODE_512
    return gostsignature.new(mode, gostsignature.CURVES_R_1323565_1_024_2019[_CURVE_NAMES[bits]])


def _swap_halves(value: bytes) -> bytes:
    """Reverse each half: X‖Y (or r‖s) between big-endian and little-endian."""
    half = len(value) // 2
    return value[:half][::-1] + value[half:][::-1]


def streebog(data: bytes, bits: int) -> bytes:
    """Streebog (GOST 34.11-2012) of `data`, as the standard prints it (the XMLDSig digest)."""
    return bytes(gosthash.new("streebog256" if bits == 256 else "streebog512", data=data).digest())


@dataclass(frozen=True)
class GostKey:
    """A GOST 34.10-2015 private key: the scalar, big-endian, `bits` // 8 bytes."""

    bits: int
    scalar: bytes

    @classmethod
    def generate(cls, bits: GostBits) -> GostKey:
        engine = _engine(bits)
        q = engine._q  # the subgroup order: the key must lie in [1, q - 1]
        while True:
            value = int.from_bytes(os.urandom(bits // 8), "big")
            if 0 < value < q:
                return cls(bits, value.to_bytes(bits // 8, "big"))

    def public_octets(self) -> bytes:
        """The public key as the certificate carries it: X‖Y, each half little-endian."""
        return _swap_halves(bytes(_engine(self.bits).public_key_generate(bytearray(self.scalar))))

    def sign(self, data: bytes) -> bytes:
        """Sign `data` (hashed here with Streebog of the key's size); r‖s little-endian."""
        digest = streebog(data, self.bits)[::-1]
        raw = _engine(self.bits).sign(bytearray(self.scalar), bytearray(digest))
        return _swap_halves(bytes(raw))


def verify(public_octets: bytes, data: bytes, signature: bytes) -> bool:
    """Check a GOST 34.10-2015 signature in the NCA layout over `data` (hashed here)."""
    bits = len(public_octets) * 4
    if bits not in (256, 512) or len(signature) != len(public_octets):
        return False
    digest = streebog(data, bits)[::-1]
    try:
        return bool(
            _engine(bits).verify(
                bytearray(_swap_halves(public_octets)),
                bytearray(digest),
                bytearray(_swap_halves(signature)),
            )
        )
    except gostsignature.GOSTSignatureError:  # a malformed key or signature is a failed check
        return False

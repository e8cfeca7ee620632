"""cadastre.eds.gost_curve against gostcrypto (the reference it replaced), both ways, on every curve
the EDS code maps; plus the edges gostcrypto never reaches (infinity, small-order keys, bad r/s);
and the hashes beside it (streebog against gostcrypto's, GOST 34.311-95 on a multi-block vector).
No database. gostcrypto takes ~0.1-0.5 s per operation, so a few iterations per curve."""

from __future__ import annotations

import secrets

import pytest
from gostcrypto import gosthash, gostsignature

from cadastre.eds import gost_curve, gost_sign, oids
from cadastre.eds.gost3411_94 import gost3411_94
from cadastre.eds.gost_curve import CURVES, Curve
from cadastre.eds.streebog import streebog

NAMES = sorted(CURVES)


def engine(name: str) -> gostsignature.GOST34102012:
    mode = gostsignature.MODE_512 if CURVES[name].p.bit_length() > 256 else gostsignature.MODE_256
    return gostsignature.new(mode, gostsignature.CURVES_R_1323565_1_024_2019[name])


def size(c: Curve) -> int:
    return 64 if c.p.bit_length() > 256 else 32


def be(value: int, c: Curve) -> bytearray:
    return bytearray(value.to_bytes(size(c), "big"))


def scalar(c: Curve) -> int:
    return secrets.randbelow(c.q - 1) + 1


def reference_multiply(c: Curve, k: int, point: gost_curve.Affine) -> gost_curve.Affine | None:
    """Affine double-and-add from the textbook formulas, with infinity as None."""
    def add(a: gost_curve.Affine | None, b: gost_curve.Affine | None) -> gost_curve.Affine | None:
        if a is None:
            return b
        if b is None:
            return a
        p = c.p
        if a[0] == b[0]:
            if (a[1] + b[1]) % p == 0:
                return None
            slope = (3 * a[0] * a[0] + c.a) * pow(2 * a[1], -1, p) % p
        else:
            slope = (b[1] - a[1]) * pow(b[0] - a[0], -1, p) % p
        x = (slope * slope - a[0] - b[0]) % p
        return x, (slope * (a[0] - x) - a[1]) % p

    result: gost_curve.Affine | None = None
    addend: gost_curve.Affine | None = point
    while k:
        if k & 1:
            result = add(result, addend)
        addend = add(addend, addend)
        k >>= 1
    return result


def random_point(c: Curve) -> gost_curve.Affine:
    """A random point of the whole curve (not necessarily of the order-q subgroup)."""
    assert c.p % 4 == 3  # square roots by one power
    while True:
        x = secrets.randbelow(c.p)
        rhs = (x ** 3 + c.a * x + c.b) % c.p
        y = pow(rhs, (c.p + 1) // 4, c.p)
        if y * y % c.p == rhs:
            return x, y


def test_every_mapped_curve_is_here_with_gostcryptos_parameters() -> None:
    assert set(oids.CURVES.values()) <= set(CURVES)
    for name in NAMES:
        c, ref = CURVES[name], engine(name)  # gostcrypto converts the twisted Edwards set itself
        assert (c.p, c.a, c.b, c.q, c.generator) == (ref._p, ref._a, ref._b, ref._q, (ref._x, ref._y))
        assert c.on_curve(c.generator)
        assert gost_curve.base_multiply(c, c.q) is None  # the generator's order is q
        assert gost_curve.base_multiply(c, c.q + 1) == c.generator


@pytest.mark.parametrize("name", NAMES)
def test_scalar_multiplication_matches_the_textbook(name: str) -> None:
    c = CURVES[name]
    edges = [1, 2, 3, 2 ** 64 + 1, c.q - 1, c.q - 2, (1 << c.q.bit_length() - 1) - 1]
    for k in edges + [scalar(c) for _ in range(4)]:
        assert gost_curve.base_multiply(c, k) == reference_multiply(c, k, c.generator), k
    assert gost_curve.base_multiply(c, c.q - 1) == (c.generator[0], c.p - c.generator[1])


@pytest.mark.parametrize("name", NAMES)
def test_public_keys_and_signatures_match_gostcrypto_byte_for_byte(name: str) -> None:
    c, ref = CURVES[name], engine(name)
    for _ in range(2):
        d, k, digest = scalar(c), scalar(c), secrets.randbits(8 * size(c))
        x, y = gost_curve.public_key(c, d)
        assert bytes(ref.public_key_generate(be(d, c))) == bytes(be(x, c) + be(y, c))
        r, s = gost_curve.sign(c, d, digest, k)  # the same k: the same signature
        assert bytes(ref.sign(be(d, c), be(digest, c), be(k, c))) == bytes(be(r, c) + be(s, c))


@pytest.mark.parametrize("name", NAMES)
def test_signatures_cross_verify_both_ways(name: str) -> None:
    c, ref = CURVES[name], engine(name)
    for _ in range(2):
        d, digest = scalar(c), secrets.randbits(8 * size(c))
        key = gost_curve.public_key(c, d)
        public = be(key[0], c) + be(key[1], c)
        r, s = gost_curve.sign(c, d, digest)  # ours, random k: gostcrypto accepts it
        assert ref.verify(public, be(digest, c), be(r, c) + be(s, c))
        theirs = bytes(ref.sign(be(d, c), be(digest, c)))  # gostcrypto's: we accept it
        r2, s2 = int.from_bytes(theirs[:size(c)], "big"), int.from_bytes(theirs[size(c):], "big")
        assert gost_curve.verify(c, key, digest, r2, s2)
        assert not gost_curve.verify(c, key, digest ^ 1, r2, s2)
        assert not ref.verify(public, be(digest ^ 1, c), be(r, c) + be(s, c))


@pytest.mark.parametrize("name", NAMES)
def test_tampering_fails(name: str) -> None:
    c = CURVES[name]
    d, digest = scalar(c), secrets.randbits(8 * size(c))
    key = gost_curve.public_key(c, d)
    r, s = gost_curve.sign(c, d, digest)
    for _ in range(3):  # first use, the use that builds the key's wide table, then the cached one
        assert gost_curve.verify(c, key, digest, r, s)
        assert not gost_curve.verify(c, key, digest + 1, r, s)
        assert not gost_curve.verify(c, key, digest, r ^ 4, s)
        assert not gost_curve.verify(c, key, digest, r, s ^ 1 << 20)
        assert not gost_curve.verify(c, key, digest, s, r)
    other = gost_curve.public_key(c, scalar(c))
    assert not gost_curve.verify(c, other, digest, r, s)
    assert not gost_curve.verify(c, (key[0], c.p - key[1]), digest, r, s)  # −Q
    assert not gost_curve.verify(c, (key[0], key[1] ^ 1), digest, r, s)  # off the curve
    assert not gost_curve.verify(c, (key[0] + c.p, key[1]), digest, r, s)  # not reduced


@pytest.mark.parametrize("name", NAMES)
def test_r_and_s_out_of_range_are_rejected(name: str) -> None:
    c = CURVES[name]
    d, digest = scalar(c), secrets.randbits(8 * size(c))
    key = gost_curve.public_key(c, d)
    r, s = gost_curve.sign(c, d, digest)
    for bad_r, bad_s in [(0, s), (r, 0), (0, 0), (r + c.q, s), (r, s + c.q), (c.q, s), (r, c.q), (-r, s)]:
        assert not gost_curve.verify(c, key, digest, bad_r, bad_s)
        if 0 <= bad_r < 1 << 8 * size(c) and 0 <= bad_s < 1 << 8 * size(c):  # gostcrypto agrees
            assert not engine(name).verify(be(key[0], c) + be(key[1], c), be(digest, c),
                                           be(bad_r, c) + be(bad_s, c))


@pytest.mark.parametrize("name", NAMES)
def test_a_digest_of_zero_mod_q_signs_as_one(name: str) -> None:
    c = CURVES[name]
    d = scalar(c)
    key = gost_curve.public_key(c, d)
    r, s = gost_curve.sign(c, d, 1)
    assert gost_curve.verify(c, key, 0, r, s) and gost_curve.verify(c, key, c.q, r, s)
    assert engine(name).verify(be(key[0], c) + be(key[1], c), be(c.q, c), be(r, c) + be(s, c))


@pytest.mark.parametrize("name", NAMES)
def test_infinity(name: str) -> None:
    c = CURVES[name]
    g = c.generator
    jacobian = (g[0], g[1], 1)
    assert gost_curve._add_affine(c, jacobian, (g[0], c.p - g[1]))[2] == 0  # P + (−P)
    assert gost_curve._to_affine(c, gost_curve._add_affine(c, jacobian, g)) == gost_curve.base_multiply(c, 2)
    assert gost_curve._add_affine(c, gost_curve._INFINITY, g) == jacobian
    assert gost_curve._double(c, gost_curve._INFINITY)[2] == 0
    assert gost_curve._to_affine(c, gost_curve._INFINITY) is None
    with pytest.raises(ValueError):
        gost_curve.public_key(c, 0)
    with pytest.raises(ValueError):
        gost_curve.public_key(c, c.q)
    with pytest.raises(ValueError):
        gost_curve.sign(c, 1, 5, k=c.q)
    # A signature whose check lands on infinity (z1·P = −z2·Q) is false, not an error: with Q = P,
    # r = s makes z1 + z2 = (s − r)·v = 0.
    assert not gost_curve.verify(c, g, 7, 5, 5)
    assert gost_curve._multiply(c, [([1], [g]), ([-1], [g])])[2] == 0


def test_small_order_keys_are_refused_not_crashed() -> None:
    """tc26 256 paramSetA has cofactor 4: points of order 2 and 4 lie on it, off the subgroup."""
    c = CURVES["id-tc26-gost-3410-2012-256-paramSetA"]
    assert c.cofactor == 4
    small = []
    while len(small) < 3:
        point = reference_multiply(c, c.q, random_point(c))
        if point is not None:
            small.append(point)
    for point in small:
        assert c.on_curve(point)
        assert reference_multiply(c, 4, point) is None
        for _ in range(2):  # uncached and the wide table of a key seen twice
            assert not gost_curve.verify(c, point, 12345, 1, 1)


def test_the_nca_layout_against_gostcrypto() -> None:
    """gost_sign (NCA byte order) against gostcrypto given each half and the digest reversed."""
    for bits in (256, 512):
        key = gost_sign.GostKey.generate(bits)  # type: ignore[arg-type]
        public, data = key.public_octets(), secrets.token_bytes(100)
        signature = key.sign(data)

        def swap(value: bytes) -> bytearray:
            half = len(value) // 2
            return bytearray(value[:half][::-1] + value[half:][::-1])

        ref = engine(gost_sign._CURVE_NAMES[bits])
        assert swap(public) == ref.public_key_generate(bytearray(key.scalar))
        digest = bytearray(gost_sign.streebog(data, bits)[::-1])
        assert ref.verify(swap(public), digest, swap(signature))
        assert gost_sign.verify(public, data, signature)
        assert not gost_sign.verify(public, data + b"x", signature)
        theirs = bytes(swap(bytes(ref.sign(bytearray(key.scalar), digest))))
        assert gost_sign.verify(public, data, theirs)


def test_gost_34_311_95_over_several_blocks() -> None:
    """The published test-parameter vector of 128 'U' (four blocks, the sum's carries), beside the
    short ones in test_eds_vectors.py: pins the table-driven rounds and the ψ maps."""
    expected = "53a3a3ed25180cef0c1d85a074273e551c25660a87062a52d926a9e8fe5733a4"
    assert gost3411_94(b"U" * 128).hex() == expected
    assert gost3411_94(b"U" * 127).hex() != expected


def test_streebog_matches_gostcrypto_and_the_standard() -> None:
    """cadastre.eds.streebog against gostcrypto's gosthash on every length over a few blocks (the
    padding, the last full block, N and Σ carrying), and example 1 of GOST R 34.11-2012."""
    for length in [*range(0, 140), 191, 192, 193, 1000]:
        data = secrets.token_bytes(length)
        for bits in (256, 512):
            assert streebog(data, bits) == bytes(gosthash.new(f"streebog{bits}", data=data).digest())
    m1 = b"012345678901234567890123456789012345678901234567890123456789012"  # printed reversed there
    assert streebog(m1, 512)[::-1].hex() == (
        "486f64c1917879417fef082b3381a4e211c324f074654c38823a7b76f830ad00"
        "fa1fbae42b1285c0352f227524bc9ab16254288dd6863dccd5b9f54a1ad0541b")
    assert streebog(m1, 256)[::-1].hex() == "00557be5e584fd52a449b16b0251d05d27f94ab76cbaa6da890b59d8ef1e159d"
    assert streebog(m1[:-1], 512) != streebog(m1, 512)

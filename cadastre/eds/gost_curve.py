"""GOST R 34.10-2012 / GOST 34.10-2015 / GOST 34.310-2004 elliptic-curve signatures in plain
Python integers: the maths behind algorithms.py (verification) and gost_sign.py (signing).

gostcrypto does the same in affine coordinates with a recursive extended GCD for every point
addition (~0.7 s per 512-bit verification). Here: Jacobian coordinates, one ``pow(x, -1, p)``
per result, width-w NAF scalars, the generator's odd multiples precomputed once per curve (for
8 slices of the scalar: 64 doublings at 512 bits, not 512), verification as one interleaved
(Shamir) loop over both scalars, so the doublings are shared, and a small LRU that gives a key
seen twice (a CA's) a sliced table of its own. bench/gost_curve.py: 40-150x gostcrypto.

Results are gostcrypto's for every valid input (tests/test_gost_curve.py compares them byte for
byte); where gostcrypto computes garbage, this refuses: a public key off the curve or with a
coordinate ≥ p, or a sum at infinity, is a failed verification.

Numbers only: the byte layouts (little-endian halves, reversed digests) stay with the callers.
Not constant-time: a verifier handles public data; the signer is the test and demo PKI's
(gost_sign.py), which gostcrypto's variable-time code was too.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from threading import Lock

Affine = tuple[int, int]
Jacobian = tuple[int, int, int]  # (X, Y, Z) is the affine point (X/Z², Y/Z³); Z = 0 is infinity

_INFINITY: Jacobian = (1, 1, 0)


class Curve:
    """A short Weierstrass curve y² = x³ + ax + b over GF(p) with a base point of prime order q."""

    def __init__(self, name: str, p: int, a: int, b: int, q: int, x: int, y: int,
                 cofactor: int = 1) -> None:
        self.name, self.p, self.a, self.b, self.q = name, p, a % p, b % p, q
        self.generator: Affine = (x, y)
        self.cofactor = cofactor
        self.a_is_minus_3 = self.a == p - 3  # the cheaper doubling (CryptoPro-A, tc26 512 A)
        self._fixed: Table | None = None  # the generator's table, built on first use
        self._lock = Lock()

    def __repr__(self) -> str:
        return f"Curve({self.name})"

    def on_curve(self, point: Affine) -> bool:
        x, y = point
        p = self.p
        return 0 <= x < p and 0 <= y < p and (y * y - (x * x * x + self.a * x + self.b)) % p == 0

    def fixed_table(self) -> Table:
        """The generator's table (GENERATOR_PARTS × 2^(GENERATOR_WIDTH-2) points, ~10 ms once)."""
        if self._fixed is None:
            with self._lock:
                if self._fixed is None:
                    self._fixed = Table(self, self.generator, GENERATOR_WIDTH, GENERATOR_PARTS)
        return self._fixed


def _from_twisted_edwards(name: str, p: int, q: int, e: int, d: int, u: int, v: int,
                          cofactor: int) -> Curve:
    """The Weierstrass form of a twisted Edwards curve eu² + v² = 1 + du²v² with base point (u, v),
    by the map of R 1323565.1.024-2019 (the one gostcrypto uses, so its points are ours)."""
    s = (e - d) * pow(4, -1, p) % p
    t = (e + d) * pow(6, -1, p) % p
    a = (s * s - 3 * t * t) % p
    b = (2 * t ** 3 - t * s * s) % p
    x = (s * (1 + v) * pow(1 - v, -1, p) + t) % p
    y = s * (1 + v) * pow((1 - v) * u, -1, p) % p
    return Curve(name, p, a, b, q, x, y, cofactor)


# The parameter sets of R 1323565.1.024-2019 (RFC 7836) that oids.CURVES maps, under gostcrypto's
# names. CryptoPro-A (GOST 34.310-2004's 1.2.398.3.10.1.1.1.1.1) is tc26 256 paramSetB.
_P256 = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97
_P512 = int("F" * 125 + "DC7", 16)
CURVES: dict[str, Curve] = {
    "id-tc26-gost-3410-2012-256-paramSetB": Curve(
        "id-tc26-gost-3410-2012-256-paramSetB", _P256, _P256 - 3, 0xA6,
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF6C611070995AD10045841B09B761B893,
        1, 0x8D91E471E0989CDA27DF505A453F2B7635294F2DDF23E3B122ACC99C9E9F1E14),
    "id-tc26-gost-3410-2012-256-paramSetA": _from_twisted_edwards(
        "id-tc26-gost-3410-2012-256-paramSetA", _P256,
        0x400000000000000000000000000000000FD8CDDFC87B6635C115AF556C360C67,
        1, 0x0605F6B7C183FA81578BC39CFAD518132B9DF62897009AF7E522C32D6DC7BFFB,
        0x0D, 0x60CA1E32AA475B348488C38FAB07649CE7EF8DBE87F22E81F92B2592DBA300E7, 4),
    "id-tc26-gost-3410-12-512-paramSetA": Curve(
        "id-tc26-gost-3410-12-512-paramSetA", _P512, _P512 - 3,
        int("E8C2505DEDFC86DDC1BD0B2B6667F1DA34B82574761CB0E879BD081CFD0B6265"
            "EE3CB090F30D27614CB4574010DA90DD862EF9D4EBEE4761503190785A71C760", 16),
        int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
            "27E69532F48D89116FF22B8D4E0560609B4B38ABFAD2B85DCACDB1411F10B275", 16),
        3, int("7503CFE87A836AE3A61B8816E25450E6CE5E1C93ACF1ABC1778064FDCBEFA921"
               "DF1626BE4FD036E93D75E6A50E3A41E98028FE5FC235F5B889A589CB5215F2A4", 16)),
}

# Tables (see Table): the generator's is built once per curve; a public key's is narrow and
# single-part for its first verification, and the wide, split one once it is seen again (a CA's
# key checks many certificates, CRLs and OCSP answers; a signer's key usually one CMS).
GENERATOR_WIDTH, GENERATOR_PARTS = 7, 8
KEY_WIDTH = 5
CACHED_KEY_WIDTH, CACHED_KEY_PARTS = 6, 4
KEY_CACHE_SIZE = 32


# --- point arithmetic (Jacobian, "dbl-2001-b"/"madd-2007-bl" shapes of the EFD) ---------------

def _double(c: Curve, point: Jacobian) -> Jacobian:
    x, y, z = point
    if z == 0 or y == 0:
        return _INFINITY
    p = c.p
    yy = y * y % p
    s = 4 * x * yy % p
    zz = z * z % p
    if c.a_is_minus_3:
        m = 3 * (x - zz) * (x + zz) % p
    else:
        m = (3 * x * x + c.a * zz * zz) % p
    x3 = (m * m - 2 * s) % p
    return x3, (m * (s - x3) - 8 * yy * yy) % p, 2 * y * z % p


def _add_affine(c: Curve, point: Jacobian, other: Affine) -> Jacobian:
    """point + other, other affine (mixed addition: Z₂ = 1 saves a quarter of the products)."""
    x1, y1, z1 = point
    x2, y2 = other
    if z1 == 0:
        return x2, y2, 1
    p = c.p
    zz = z1 * z1 % p
    h = (x2 * zz - x1) % p
    r = (y2 * zz * z1 - y1) % p
    if h == 0:  # same x: the same point (double it) or its negative (the sum is infinity)
        return _double(c, point) if r == 0 else _INFINITY
    hh = h * h % p
    hhh = h * hh % p
    v = x1 * hh % p
    x3 = (r * r - hhh - 2 * v) % p
    return x3, (r * (v - x3) - y1 * hhh) % p, z1 * h % p


def _to_affine(c: Curve, point: Jacobian) -> Affine | None:
    x, y, z = point
    if z == 0:
        return None
    p = c.p
    zi = pow(z, -1, p)
    zi2 = zi * zi % p
    return x * zi2 % p, y * zi2 * zi % p


def _to_affine_many(c: Curve, points: list[Jacobian]) -> list[Affine]:
    """Many points to affine with one inversion (Montgomery's trick); none may be infinity."""
    p = c.p
    prefix = []
    acc = 1
    for _, _, z in points:
        prefix.append(acc)
        acc = acc * z % p
    inv = pow(acc, -1, p)  # raises ValueError when some Z is 0
    out: list[Affine] = [(0, 0)] * len(points)
    for i in range(len(points) - 1, -1, -1):
        x, y, z = points[i]
        zi = inv * prefix[i] % p
        inv = inv * z % p
        zi2 = zi * zi % p
        out[i] = (x * zi2 % p, y * zi2 * zi % p)
    return out


def _odd_multiples(c: Curve, point: Affine, width: int) -> list[Affine]:
    """point, 3·point, …, (2^(width-1) - 1)·point, affine. ValueError when one of them is
    infinity (a point of small order: never a valid public key)."""
    twice = _to_affine(c, _double(c, (point[0], point[1], 1)))
    if twice is None:
        raise ValueError("point of order 2")
    multiples: list[Jacobian] = [(point[0], point[1], 1)]
    for _ in range((1 << (width - 2)) - 1):
        multiples.append(_add_affine(c, multiples[-1], twice))
    try:
        return _to_affine_many(c, multiples)
    except ValueError:
        raise ValueError("point of small order") from None


def _wnaf(k: int, width: int) -> list[int]:
    """k's width-w non-adjacent form, least significant digit first: odd digits in
    (-2^(w-1), 2^(w-1)), at least w - 1 zeros after each non-zero one."""
    digits = []
    full, half = 1 << width, 1 << (width - 1)
    while k:
        if k & 1:
            d = k & (full - 1)
            if d >= half:
                d -= full
            k -= d
        else:
            d = 0
        digits.append(d)
        k >>= 1
    return digits


class Table:
    """Precomputed odd multiples of a point for scalar multiplication: the scalar is cut into
    `parts` chunks of `span` bits, chunk j multiplies 2^(j·span)·point, and all chunks run in one
    loop, so a multiplication costs `span` doublings instead of the scalar's length (the
    additions stay about length / (width + 1))."""

    def __init__(self, c: Curve, point: Affine, width: int, parts: int = 1) -> None:
        self.width, self.parts = width, parts
        self.span = -(-c.q.bit_length() // parts)
        self.tables: list[list[Affine]] = []
        base = point
        for j in range(parts):
            if j:
                shifted: Jacobian = (base[0], base[1], 1)
                for _ in range(self.span):
                    shifted = _double(c, shifted)
                next_base = _to_affine(c, shifted)
                if next_base is None:
                    raise ValueError("point of small order")
                base = next_base
            self.tables.append(_odd_multiples(c, base, width))

    def terms(self, k: int) -> list[tuple[list[int], list[Affine]]]:
        """(k's chunks in width-w NAF, the table each multiplies), k ≥ 0 below 2^(parts·span)."""
        mask = (1 << self.span) - 1
        return [(_wnaf(k >> (j * self.span) & mask, self.width), table)
                for j, table in enumerate(self.tables)]


def _multiply(c: Curve, terms: list[tuple[list[int], list[Affine]]]) -> Jacobian:
    """Σ dᵢ·Pᵢ for (dᵢ in width-w NAF, the odd multiples of Pᵢ), in one interleaved loop: the
    doublings are shared by all terms (Shamir's trick)."""
    p = c.p
    result = _INFINITY
    for i in range(max(len(digits) for digits, _ in terms) - 1, -1, -1):
        result = _double(c, result)
        for digits, table in terms:
            if i < len(digits):
                d = digits[i]
                if d > 0:
                    result = _add_affine(c, result, table[d >> 1])
                elif d < 0:
                    x, y = table[-d >> 1]
                    result = _add_affine(c, result, (x, p - y))
    return result


# Public keys seen: None once seen, their wide table from the second time on; least recent first.
_keys: OrderedDict[tuple[str, int, int], Table | None] = OrderedDict()
_keys_lock = Lock()


def _key_table(c: Curve, key: Affine) -> Table:
    """The table of a public key for one verification (ValueError for a point of small order)."""
    ident = (c.name, key[0], key[1])
    with _keys_lock:
        seen = ident in _keys
        table = _keys.get(ident)
        _keys[ident] = table
        _keys.move_to_end(ident)
        while len(_keys) > KEY_CACHE_SIZE:
            _keys.popitem(last=False)
    if table is not None:
        return table
    if not seen:
        return Table(c, key, KEY_WIDTH)
    table = Table(c, key, CACHED_KEY_WIDTH, CACHED_KEY_PARTS)
    with _keys_lock:
        if ident in _keys:
            _keys[ident] = table
    return table


# --- the public interface --------------------------------------------------------------------

def base_multiply(c: Curve, k: int) -> Affine | None:
    """k·P for the curve's base point P (None for infinity)."""
    return _to_affine(c, _multiply(c, c.fixed_table().terms(k % c.q)))


def public_key(c: Curve, private: int) -> Affine:
    """The public key d·P of the private key d, 0 < d < q."""
    if not 0 < private < c.q:
        raise ValueError("private key out of range")
    point = base_multiply(c, private)
    assert point is not None  # d·P is infinity only for d ≡ 0 (mod q)
    return point


def digest_scalar(c: Curve, digest: int) -> int:
    """e: the digest (as a number) mod q, 0 taken as 1 (GOST R 34.10, step 2)."""
    return digest % c.q or 1


def sign(c: Curve, private: int, digest: int, k: int | None = None) -> tuple[int, int]:
    """(r, s) over the digest read as a number; k random unless given (tests)."""
    q = c.q
    if not 0 < private < q:
        raise ValueError("private key out of range")
    e = digest_scalar(c, digest)
    while True:
        nonce = secrets.randbelow(q - 1) + 1 if k is None else k
        if not 0 < nonce < q:
            raise ValueError("k out of range")
        point = base_multiply(c, nonce)
        r = point[0] % q if point is not None else 0
        s = (r * private + nonce * e) % q
        if r and s:
            return r, s
        if k is not None:
            raise ValueError("this k gives r = 0 or s = 0")


def verify(c: Curve, key: Affine, digest: int, r: int, s: int) -> bool:
    """Whether (r, s) signs the digest (as a number) under the public key (x, y)."""
    q = c.q
    if not (0 < r < q and 0 < s < q) or not c.on_curve(key):
        return False
    v = pow(digest_scalar(c, digest), -1, q)
    z1 = s * v % q
    z2 = -r * v % q
    try:
        table = _key_table(c, key)
    except ValueError:  # a point of small order: not a key anything can be signed with
        return False
    point = _to_affine(c, _multiply(c, c.fixed_table().terms(z1) + table.terms(z2)))
    return point is not None and point[0] % q == r

"""GOST 34.311-95, Kazakhstan's hash for GOST 34.310-2004 signatures: GOST R 34.11-94 with the
*test* S-box of GOST 28147-89 (not the CryptoPro one). No package on PyPI has it (EDS.md).

Words are little-endian integers throughout: the first byte of a block is its least significant
byte, as the standard's reference implementations read the message. Pure Python; the inputs are
signed attributes and CRLs of a few kilobytes."""

from __future__ import annotations

# S-box of GOST R 34.11-94's test parameters; row i transforms the i-th 4-bit nibble (0 = lowest).
SBOX = (
    (4, 10, 9, 2, 13, 8, 0, 14, 6, 11, 1, 12, 7, 15, 5, 3),
    (14, 11, 4, 12, 6, 13, 15, 10, 2, 3, 8, 1, 0, 7, 5, 9),
    (5, 8, 1, 13, 10, 3, 4, 2, 14, 15, 12, 7, 6, 0, 9, 11),
    (7, 13, 10, 1, 0, 8, 9, 15, 14, 4, 6, 12, 11, 2, 5, 3),
    (6, 12, 7, 1, 5, 15, 13, 8, 4, 10, 9, 14, 0, 3, 11, 2),
    (4, 11, 10, 0, 7, 2, 1, 13, 3, 6, 8, 5, 9, 12, 15, 14),
    (13, 11, 4, 1, 3, 15, 5, 9, 0, 10, 14, 7, 6, 8, 2, 12),
    (1, 15, 13, 0, 5, 7, 10, 4, 9, 2, 3, 14, 6, 11, 8, 12),
)
# The S-box applied to a whole byte at once (two nibbles): four lookups per round, not eight.
_BYTE_SBOX = tuple(tuple(SBOX[2 * k][b & 15] | SBOX[2 * k + 1][b >> 4] << 4 for b in range(256)) for k in range(4))
_M32, _M64, _M256 = (1 << 32) - 1, (1 << 64) - 1, (1 << 256) - 1
_C3 = 0xFF00FFFF000000FFFF0000FF00FFFF0000FF00FF00FF00FFFF00FF00FF00FF00
# P: byte i + 1 + 4(k - 1) of the result (1-based, lowest first) is byte 8i + k of the input.
_P = tuple(8 * i + k - 1 for k in range(1, 9) for i in range(4))


def _f(x: int) -> int:
    y = (_BYTE_SBOX[0][x & 255] | _BYTE_SBOX[1][x >> 8 & 255] << 8
         | _BYTE_SBOX[2][x >> 16 & 255] << 16 | _BYTE_SBOX[3][x >> 24] << 24)
    return (y << 11 | y >> 21) & _M32


def _encrypt(key: int, block: int) -> int:
    """GOST 28147-89 in simple substitution mode: one 64-bit block under a 256-bit key."""
    k = [key >> (32 * i) & _M32 for i in range(8)]
    n1, n2 = block & _M32, block >> 32
    for sub in k * 3 + k[::-1]:
        n1, n2 = n2 ^ _f((n1 + sub) & _M32), n1
    return n1 << 32 | n2  # the last round does not swap: undo it


def _a(y: int) -> int:
    y1, y2, y3, y4 = (y >> (64 * i) & _M64 for i in range(4))
    return y2 | y3 << 64 | y4 << 128 | (y1 ^ y2) << 192


def _p(y: int) -> int:
    data = y.to_bytes(32, "little")
    return int.from_bytes(bytes(data[j] for j in _P), "little")


def _psi(y: int, times: int = 1) -> int:
    for _ in range(times):
        w = y
        top = (w ^ w >> 16 ^ w >> 32 ^ w >> 48 ^ w >> 192 ^ w >> 240) & 0xFFFF
        y = w >> 16 | top << 240
    return y


def _step(h: int, m: int) -> int:
    u, v = h, m
    keys = [_p(u ^ v)]
    for c in (0, _C3, 0):
        u, v = _a(u) ^ c, _a(_a(v))
        keys.append(_p(u ^ v))
    s = 0
    for i, key in enumerate(keys):
        s |= _encrypt(key, h >> (64 * i) & _M64) << (64 * i)
    return _psi(h ^ _psi(m ^ _psi(s, 12)), 61)


def gost3411_94(data: bytes) -> bytes:
    """The 32-byte digest, in the byte order signatures and published test vectors use."""
    h = total = 0
    for i in range(0, len(data), 32):
        block = int.from_bytes(data[i:i + 32], "little")
        total = (total + block) & _M256
        h = _step(h, block)
    h = _step(h, len(data) * 8 & _M256)
    h = _step(h, total)
    return h.to_bytes(32, "little")

"""GOST 34.311-95, Kazakhstan's hash for GOST 34.310-2004 signatures: GOST R 34.11-94 with the
*test* S-box of GOST 28147-89 (not the CryptoPro one). No package on PyPI has it (EDS.md).

Words are little-endian integers throughout: the first byte of a block is its least significant
byte, as the standard's reference implementations read the message. Pure Python, ~2 s per MB on
the shared build machine: fine for signed attributes, certificates and CRLs of a few kilobytes,
slow for the content of a large detached document."""

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


def _rotl11(y: int) -> int:
    return (y << 11 | y >> 21) & _M32


# The round function f(x) = rotl11(S(x)) is a XOR of one lookup per byte of x: the rotation
# distributes over the bytes, so each table holds its byte's S-box output already in place and
# rotated (the inner loop of the hash: about half its time).
_F0, _F1, _F2, _F3 = (tuple(_rotl11(_BYTE_SBOX[k][b] << 8 * k) for b in range(256)) for k in range(4))


def _encrypt(key: int, block: int) -> int:
    """GOST 28147-89 in simple substitution mode: one 64-bit block under a 256-bit key."""
    k = [key >> (32 * i) & _M32 for i in range(8)]
    n1, n2 = block & _M32, block >> 32
    f0, f1, f2, f3 = _F0, _F1, _F2, _F3
    for sub in k * 3 + k[::-1]:
        x = (n1 + sub) & _M32
        n1, n2 = n2 ^ f0[x & 255] ^ f1[x >> 8 & 255] ^ f2[x >> 16 & 255] ^ f3[x >> 24], n1
    return n1 << 32 | n2  # the last round does not swap: undo it


def _a(y: int) -> int:
    y1, y2, y3, y4 = (y >> (64 * i) & _M64 for i in range(4))
    return y2 | y3 << 64 | y4 << 128 | (y1 ^ y2) << 192


def _p(y: int) -> int:
    data = y.to_bytes(32, "little")
    return int.from_bytes(bytes(data[j] for j in _P), "little")


def _psi_power(times: int) -> tuple[int, ...]:
    """ψ^times as a linear map of the sixteen 16-bit words: mask j has a 1 at bit 16·i when
    input word j is XORed into output word i. ψ shifts the words down and puts
    w0 ⊕ w1 ⊕ w2 ⊕ w3 ⊕ w12 ⊕ w15 on top."""
    words = [1 << i for i in range(16)]  # output word i as the set of input words XORed into it
    for _ in range(times):
        words = words[1:] + [words[0] ^ words[1] ^ words[2] ^ words[3] ^ words[12] ^ words[15]]
    return tuple(sum(1 << 16 * i for i in range(16) if words[i] >> j & 1) for j in range(16))


def _linear(masks: tuple[int, ...], y: int) -> int:
    """Apply a _psi_power map: word j times its mask puts a copy of it in every output word it
    feeds (the copies are 16 bits apart, so the product has no carries)."""
    out = 0
    for j, mask in enumerate(masks):
        out ^= (y >> 16 * j & 0xFFFF) * mask
    return out


# The step's ψ^61(h ⊕ ψ(m ⊕ ψ^12(s))) = ψ^61(h) ⊕ ψ^62(m) ⊕ ψ^74(s): three maps, not 74 shifts.
_PSI61, _PSI62, _PSI74 = _psi_power(61), _psi_power(62), _psi_power(74)


def _step(h: int, m: int) -> int:
    u, v = h, m
    keys = [_p(u ^ v)]
    for c in (0, _C3, 0):
        u, v = _a(u) ^ c, _a(_a(v))
        keys.append(_p(u ^ v))
    s = 0
    for i, key in enumerate(keys):
        s |= _encrypt(key, h >> (64 * i) & _M64) << (64 * i)
    return _linear(_PSI61, h) ^ _linear(_PSI62, m) ^ _linear(_PSI74, s)


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

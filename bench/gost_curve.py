"""GOST signature maths: ours (cadastre/eds/gost_curve.py, Jacobian coordinates, wNAF, Shamir's
trick) against gostcrypto (affine coordinates, the code it replaced), side by side in one process
on the same keys, digests and signatures. Prints the median time per operation of each, the
ratio (gostcrypto / ours) and the goal (verification ≥ 10 ×). No database.

    .venv/bin/python bench/gost_curve.py [--runs 5] [--ours 40] [--theirs 2] [--only verify,sign,...]

Rows, for GOST 34.10-2015 512 (tc26 512 paramSetA), 256 (tc26 256 paramSetA, twisted Edwards in
Weierstrass form) and GOST 34.310-2004 (CryptoPro-A):

* `keygen`: the public key d·P of a private key;
* `sign`: a signature over a digest (random k);
* `verify-new-key`: a verification by a key seen for the first time (each operation a different
  key: a person's certificate, a CMS signer);
* `verify-same-key`: verifications by one key again and again (a CA's key over certificates, CRLs
  and OCSP answers: ours keeps a wider table of a key seen twice; gostcrypto has no such state);
* `nca-*`: `algorithms.verify_signature` on the real NCA test vectors (../shared/data/eds-nca-test:
  the GOST-2015-512 CRL of the 2022 test CA, the GOST-2004 certificate of a first head by its CA),
  against the same check the old algorithms.py made with gostcrypto; hashing included in both;
* `streebog-*`: the digest of 1 KB and 64 KB of random bytes, ours (cadastre/eds/streebog.py) vs
  gostcrypto's gosthash.

Each run times `--ours` operations of ours and `--theirs` of gostcrypto (~0.1–0.7 s each), the order
alternating between runs; the median of the per-run means is printed. The load average at the
start and the end is printed too: other work on the machine moves the numbers.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gostcrypto import gosthash, gostsignature  # noqa: E402

from cadastre.eds import algorithms, gost_curve, oids  # noqa: E402
from cadastre.eds.certificates import Certificate  # noqa: E402
from cadastre.eds.revocation import Crl  # noqa: E402
from cadastre.eds.streebog import streebog  # noqa: E402

VECTORS = ROOT.parent / "shared/data/eds-nca-test"
CURVES = {  # row label -> gostcrypto's curve name
    "2015-512": "id-tc26-gost-3410-12-512-paramSetA",
    "2015-256": "id-tc26-gost-3410-2012-256-paramSetA",
    "2004": "id-tc26-gost-3410-2012-256-paramSetB",
}
GOAL = 10.0


def per_op(fn: Callable[[int], object], count: int) -> float:
    """Seconds per call of fn(i) for i in range(count)."""
    start = time.perf_counter()
    for i in range(count):
        fn(i)
    return (time.perf_counter() - start) / count


Row = tuple[Callable[[int], object], Callable[[int], object]]  # (ours(i), gostcrypto(i))


def curve_rows(label: str, name: str, count: int) -> dict[str, Row]:
    """The rows of one curve; every call checks its answer, so a broken one stops the run."""
    c = gost_curve.CURVES[name]
    size = 64 if c.p.bit_length() > 256 else 32
    ref = gostsignature.new(gostsignature.MODE_512 if size == 64 else gostsignature.MODE_256,
                            gostsignature.CURVES_R_1323565_1_024_2019[name])

    def be(value: int) -> bytearray:
        return bytearray(value.to_bytes(size, "big"))

    privates = [secrets.randbelow(c.q - 1) + 1 for _ in range(count)]
    publics = [gost_curve.public_key(c, d) for d in privates]
    digests = [secrets.randbits(8 * size) for _ in range(count)]
    signatures = [gost_curve.sign(c, d, e) for d, e in zip(privates, digests, strict=True)]
    public_bytes = [be(x) + be(y) for x, y in publics]
    signature_bytes = [be(r) + be(s) for r, s in signatures]
    same = [gost_curve.sign(c, privates[0], e) for e in digests]  # all by the first key
    same_bytes = [be(r) + be(s) for r, s in same]

    def keygen_ours(i: int) -> None:
        assert gost_curve.public_key(c, privates[i]) == publics[i]

    def keygen_theirs(i: int) -> None:
        assert ref.public_key_generate(be(privates[i])) == public_bytes[i]

    def sign_ours(i: int) -> None:
        gost_curve.sign(c, privates[i], digests[i])

    def sign_theirs(i: int) -> None:
        ref.sign(be(privates[i]), be(digests[i]))

    def new_key_ours(i: int) -> None:
        assert gost_curve.verify(c, publics[i], digests[i], *signatures[i])

    def new_key_theirs(i: int) -> None:
        assert ref.verify(public_bytes[i], be(digests[i]), signature_bytes[i])

    def same_key_ours(i: int) -> None:
        assert gost_curve.verify(c, publics[0], digests[i], *same[i])

    def same_key_theirs(i: int) -> None:
        assert ref.verify(public_bytes[0], be(digests[i]), same_bytes[i])

    return {f"{label} keygen": (keygen_ours, keygen_theirs),
            f"{label} sign": (sign_ours, sign_theirs),
            f"{label} verify-new-key": (new_key_ours, new_key_theirs),
            f"{label} verify-same-key": (same_key_ours, same_key_theirs)}


def nca_row(signature_oid: str, spki_der: bytes, signature: bytes, data: bytes) -> Row:
    def ours(i: int) -> None:
        assert algorithms.verify_signature(signature_oid, spki_der, signature, data, None)

    def theirs(i: int) -> None:
        assert old_verify_signature(signature_oid, spki_der, signature, data)

    return ours, theirs


def rows(count: int) -> dict[str, Row]:
    out: dict[str, Row] = {}
    for label, name in CURVES.items():
        out.update(curve_rows(label, name, count))
    crl = Crl((VECTORS / "nca_gost2022_test.crl").read_bytes())
    ca2015 = Certificate((VECTORS / "nca_gost2015_test.cer").read_bytes())
    ceo = Certificate((VECTORS / "ceo_valid_sign_2004_gost.cer").read_bytes())
    ca2004 = Certificate((VECTORS / "nca_gost_test.crt").read_bytes())
    nca = {"nca-2015-512 CRL": (crl.signature_algorithm, ca2015.spki_der, crl.signature, crl.tbs_der),
           "nca-2004 certificate": (ceo.signature_algorithm, ca2004.spki_der, ceo.signature, ceo.tbs_der)}
    for label, args in nca.items():
        out[label] = nca_row(*args)
    for bits, size in ((512, 1024), (256, 1024), (512, 65536)):
        out[f"streebog-{bits} {size // 1024} KB"] = hash_row(bits, secrets.token_bytes(size))
    return out


def hash_row(bits: int, data: bytes) -> Row:
    expected = bytes(gosthash.new(f"streebog{bits}", data=data).digest())

    def ours(i: int) -> None:
        assert streebog(data, bits) == expected

    def theirs(i: int) -> None:
        assert bytes(gosthash.new(f"streebog{bits}", data=data).digest()) == expected

    return ours, theirs


def old_verify_signature(signature_oid: str, spki_der: bytes, signature: bytes, data: bytes) -> bool:
    """The GOST path of algorithms.verify_signature before gost_curve (commit d1de1d8): gostcrypto's
    Streebog and curve maths; GOST 34.311-95 is today's."""
    from asn1crypto import core

    kind, digest_oid = algorithms.family(signature_oid)
    _, params, key_bits = algorithms.spki_parts(spki_der)
    curve = algorithms._curve(params)
    size = 64 if kind == "gost2015-512" else 32
    point = core.OctetString.load(key_bits).native
    public = point[:size][::-1] + point[size:][::-1]
    r_s = signature[:size][::-1] + signature[size:][::-1]
    assert digest_oid is not None
    if digest_oid == oids.GOST3411_94:  # ours (1.8x faster than at d1de1d8: the peer gains)
        hashed = algorithms.digest(digest_oid, data)[::-1]
    else:  # Streebog as it was: gostcrypto's
        name = "streebog512" if digest_oid in (oids.STREEBOG512, oids.RU_STREEBOG512) else "streebog256"
        hashed = bytes(gosthash.new(name, data=data).digest())[::-1]
    mode = gostsignature.MODE_512 if size == 64 else gostsignature.MODE_256
    signer = gostsignature.new(mode, gostsignature.CURVES_R_1323565_1_024_2019[curve])
    return bool(signer.verify(bytearray(public), bytearray(hashed), bytearray(r_s)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ours", type=int, default=40, help="operations of ours per run")
    parser.add_argument("--theirs", type=int, default=2, help="operations of gostcrypto per run")
    parser.add_argument("--only", default="", help="comma-separated substrings of row names")
    args = parser.parse_args()
    ours_n = args.ours
    load_start = os.getloadavg()
    for c in gost_curve.CURVES.values():
        c.fixed_table()  # built once per process (~5–15 ms), not part of an operation
    table = rows(max(ours_n, args.theirs))
    wanted = [w for w in args.only.split(",") if w]
    print(f"load average at start {load_start[0]:.1f}; {args.runs} runs; ours {ours_n} ops/run, "
          f"gostcrypto {args.theirs} ops/run; ms per operation, medians of the runs")
    print(f"{'row':<28} {'gostcrypto':>11} {'ours':>9} {'ratio':>8}  goal")
    verdicts = []
    for name, (ours, theirs) in table.items():
        if wanted and not any(w in name for w in wanted):
            continue
        mine: list[float] = []
        peer: list[float] = []
        for run in range(args.runs):
            gost_curve._keys.clear()  # new-key rows: every key of the run is seen for the first time
            if "same-key" in name or name.startswith("nca"):
                ours(0)  # the key seen before, as a CA's is: its wide table is made here
                ours(1)
            pair = [(mine, ours, ours_n), (peer, theirs, args.theirs)]
            for times, fn, n in pair if run % 2 == 0 else pair[::-1]:
                times.append(per_op(fn, n))
        m, t = statistics.median(mine) * 1000, statistics.median(peer) * 1000
        ratio = t / m
        goal = ""
        if "verify" in name or name.startswith("nca"):
            goal = f"≥ {GOAL:.0f}× {'met' if ratio >= GOAL else 'NOT MET'}"
            verdicts.append(ratio >= GOAL)
        print(f"{name:<28} {t:>11.2f} {m:>9.3f} {ratio:>7.1f}×  {goal}", flush=True)
    load_end = os.getloadavg()
    print(f"load average at end {load_end[0]:.1f}; verification goal met on "
          f"{sum(verdicts)}/{len(verdicts)} rows")


if __name__ == "__main__":
    main()

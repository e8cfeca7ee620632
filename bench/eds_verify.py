"""Signature verification throughput on one core: an RSA-2048 attached CMS against `openssl cms
-verify`, and the GOST-2015-512 signer of the real NCA vector (ours only: no peer verifies it).

    .venv/bin/python bench/eds_verify.py [--runs 5] [--count 200] [--gost-count 10]

Rows (each run times `count` verifications; medians of `runs` runs; per-signature milliseconds):

* `openssl cms -verify -noverify` and `-CAfile` (chain checked): a process per verification (a
  shell loop), the way a service shelling out to openssl would pay; the loop of `openssl version`
  processes is timed too and subtracted for the `openssl, work only` rows;
* `openssl speed rsa2048` verify: the RSA mathematics alone, in process: the floor;
* ours, `verify_cms` in a loop in this process with every check (signature, chain, validity,
  revocation from a CRL, key usage): warm (the trust store remembers chain links already
  verified, as in the service) and cold (a new trust store and revocation source per signature,
  so the CA's signature and the CRL's are verified every time).
No database and no network; everything runs on one core (`taskset -c 0` when available)."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

VECTORS = ROOT.parent / "shared/data/eds-nca-test"


def pin_one_core() -> str:
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        return f"pinned to CPU {min(os.sched_getaffinity(0))}"
    except (AttributeError, OSError):
        return "not pinned"


def make_rsa_material(folder: Path) -> dict[str, Path]:
    """A CA, a user certificate with NCA-like identity and key usage, a CRL, and an attached CMS
    over "test123" made by `openssl cms -sign`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "BENCH CA"),
                         x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
          .sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    user = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ТЕСТОВ ТЕСТ"),
                                     x509.NameAttribute(NameOID.SERIAL_NUMBER, "IIN123456789011"),
                                     x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=300))
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), True)
            .add_extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier("1.3.6.1.5.5.7.3.4"),
                                                  x509.ObjectIdentifier("1.2.398.3.3.4.1.1")]), False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False)
            .sign(ca_key, hashes.SHA256()))
    crl = (x509.CertificateRevocationListBuilder().issuer_name(ca_name).last_update(now - timedelta(hours=1))
           .next_update(now + timedelta(days=7)).sign(ca_key, hashes.SHA256()))
    paths = {name: folder / name for name in ("ca.pem", "user.pem", "user.key", "crl.der", "data.txt", "cms.der")}
    paths["ca.pem"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["user.pem"].write_bytes(user.public_bytes(serialization.Encoding.PEM))
    paths["user.key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    paths["crl.der"].write_bytes(crl.public_bytes(serialization.Encoding.DER))
    paths["data.txt"].write_bytes(b"test123")
    subprocess.run(["openssl", "cms", "-sign", "-binary", "-nodetach", "-md", "sha256", "-in", str(paths["data.txt"]),
                    "-signer", str(paths["user.pem"]), "-inkey", str(paths["user.key"]), "-outform", "DER",
                    "-out", str(paths["cms.der"])], check=True)
    return paths


def shell_loop(command: str, count: int) -> float:
    """Seconds for `count` runs of `command` in one shell loop (a process each)."""
    script = f"for i in $(seq {count}); do {command} >/dev/null 2>&1 || exit 1; done"
    start = time.perf_counter()
    subprocess.run(["sh", "-c", script], check=True)
    return time.perf_counter() - start


def openssl_speed_verify() -> float:
    """RSA-2048 verifications per second, in process (`openssl speed`)."""
    out = subprocess.run(["openssl", "speed", "-seconds", "2", "rsa2048"], capture_output=True, text=True,
                         check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("rsa 2048"))
    return float(re.split(r"\s+", line.strip())[-1])


def ours_loop(cms_der: bytes, count: int, *, trust_blobs: list[bytes], crls: list[bytes], warm: bool,
              at: datetime | None = None) -> tuple[float, bool]:
    from cadastre.eds.revocation import FileRevocation
    from cadastre.eds.trust import TrustStore
    from cadastre.eds.verify import verify_cms

    now = datetime.now(UTC)
    trust, revocation = TrustStore(trust_blobs), FileRevocation(crls)
    verify_cms(cms_der, trust=trust, revocation=revocation, at=at, now=now)  # warm-up
    valid = True
    start = time.perf_counter()
    for _ in range(count):
        if not warm:
            trust, revocation = TrustStore(trust_blobs), FileRevocation(crls)
        result = verify_cms(cms_der, trust=trust, revocation=revocation, at=at, now=now)
        valid = valid and all(s.checks["signature"]["result"] == "ok" for s in result.signers)
    return time.perf_counter() - start, valid


def gost_only_vector() -> bytes:
    """The GOST-2015-512 signer of the two-signer vector alone (the RSA SignerInfo, digest
    algorithm and certificate dropped; every other byte as NCALayer made it)."""
    from asn1crypto import cms

    info = cms.ContentInfo.load((VECTORS / "cms_attached_two_signers.der").read_bytes())
    signed = info["content"]
    signed["signer_infos"] = cms.SignerInfos([signed["signer_infos"][0]])
    signed["digest_algorithms"] = cms.DigestAlgorithms([signed["digest_algorithms"][0]])
    signed["certificates"] = cms.CertificateSet([signed["certificates"][0]])
    return info.dump()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--count", type=int, default=200, help="RSA verifications per run")
    parser.add_argument("--gost-count", type=int, default=10, help="GOST verifications per run")
    args = parser.parse_args()
    if not shutil.which("openssl"):
        sys.exit("needs openssl")
    pinned = pin_one_core()
    print(f"load average {os.getloadavg()[0]:.2f}; {pinned}; {args.runs} runs; "
          f"{subprocess.run(['openssl', 'version'], capture_output=True, text=True).stdout.strip()}")
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        p = make_rsa_material(Path(tmp))
        cms_der = p["cms.der"].read_bytes()
        base = f"openssl cms -verify -binary -inform DER -in {p['cms.der']} -out /dev/null"
        trust_blobs, crls = [p["ca.pem"].read_bytes()], [p["crl.der"].read_bytes()]
        gost = gost_only_vector()
        gost_trust = [(VECTORS / "nca_gost2015_test.cer").read_bytes()]
        gost_crls = [(VECTORS / "nca_gost2022_test.crl").read_bytes()]
        gost_at = datetime(2022, 9, 27, 21, 18, tzinfo=UTC)
        for run in range(args.runs):
            # Alternate who goes first: a neighbour's burst should not always hit the same side.
            order = ["openssl", "ours"] if run % 2 == 0 else ["ours", "openssl"]
            for side in order:
                if side == "openssl":
                    n = args.count
                    rows.setdefault("openssl cms -verify -noverify (process each)", []).append(
                        shell_loop(f"{base} -noverify -no-CAfile -no-CApath -no-CAstore", n) / n)
                    rows.setdefault("openssl cms -verify -CAfile (process each)", []).append(
                        shell_loop(f"{base} -CAfile {p['ca.pem']} -purpose any", n) / n)
                    rows.setdefault("openssl version (process start only)", []).append(
                        shell_loop("openssl version", n) / n)
                else:
                    seconds, ok = ours_loop(cms_der, args.count, trust_blobs=trust_blobs, crls=crls, warm=True)
                    assert ok
                    rows.setdefault("ours verify_cms, warm trust store", []).append(seconds / args.count)
                    seconds, ok = ours_loop(cms_der, args.count, trust_blobs=trust_blobs, crls=crls, warm=False)
                    assert ok
                    rows.setdefault("ours verify_cms, cold (CA and CRL signatures each time)", []).append(
                        seconds / args.count)
            seconds, ok = ours_loop(gost, args.gost_count, trust_blobs=gost_trust, crls=gost_crls, warm=True,
                                    at=gost_at)
            assert ok
            rows.setdefault("ours GOST-2015-512 (NCA vector), warm", []).append(seconds / args.gost_count)
            seconds, ok = ours_loop(gost, max(2, args.gost_count // 3), trust_blobs=gost_trust, crls=gost_crls,
                                    warm=False, at=gost_at)
            assert ok
            rows.setdefault("ours GOST-2015-512 (NCA vector), cold", []).append(seconds / max(2, args.gost_count // 3))
        speed = openssl_speed_verify()
    med = {name: statistics.median(values) for name, values in rows.items()}
    start_only = med["openssl version (process start only)"]
    med["openssl cms -verify -noverify, work only"] = med["openssl cms -verify -noverify (process each)"] - start_only
    med["openssl cms -verify -CAfile, work only"] = med["openssl cms -verify -CAfile (process each)"] - start_only
    med["openssl speed rsa2048 verify (RSA maths only)"] = 1 / speed
    reference = med["openssl cms -verify -CAfile (process each)"]
    print(f"\n{'row':58} {'ms/signature':>12} {'per second':>11} {'vs openssl -CAfile':>19}")
    for name, value in med.items():
        print(f"{name:58} {value * 1000:12.3f} {1 / value if value > 0 else float('inf'):11.0f} "
              f"{reference / value if value > 0 else float('inf'):18.2f}x")
    ours = med["ours verify_cms, warm trust store"]
    print(f"\nours warm / openssl -CAfile (process each): {reference / ours:.2f}x the throughput; "
          f"ours warm / openssl -CAfile work only: {med['openssl cms -verify -CAfile, work only'] / ours:.2f}x; "
          f"ours warm / RSA maths floor: {ours * speed:.1f}x the time")
    print(f"GOST-2015-512 (ours only, no goal): {1 / med['ours GOST-2015-512 (NCA vector), warm']:.2f}/s warm, "
          f"{1 / med['ours GOST-2015-512 (NCA vector), cold']:.2f}/s cold")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

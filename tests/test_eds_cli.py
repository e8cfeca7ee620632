"""`geoservice eds trust add|list` and `geoservice eds crl add`, run as a user runs them, on the
real NCA certificates and CRLs."""

from __future__ import annotations

from tests.eds_helpers import VECTORS, Pki
from tests.test_cli import run


def test_help(database_url):
    for args in (["eds", "--help"], ["eds", "trust", "add", "--help"], ["eds", "trust", "list", "--help"],
                 ["eds", "crl", "add", "--help"]):
        res = run(args, database_url)
        assert res.returncode == 0 and "Usage" in res.stdout, res.stderr


def test_trust_and_crls(database_url, db, tmp_path):
    for name in ("nca_rsa_test.crt", "nca_gost_test.crt", "nca_gost2015_test.cer"):  # PEM, PEM, DER
        res = run(["eds", "trust", "add", str(VECTORS / name)], database_url)
        assert res.returncode == 0, res.stderr
        assert "intermediate" in res.stdout and ("added" in res.stdout or "already trusted" in res.stdout)
    again = run(["eds", "trust", "add", str(VECTORS / "nca_rsa_test.crt")], database_url)
    assert again.returncode == 0 and "already trusted" in again.stdout

    # A user's certificate is not a CA: refused, and the refusal journaled.
    res = run(["eds", "trust", "add", str(VECTORS / "individual_valid_sign_2004_rsa.cer")], database_url)
    assert res.returncode == 1 and "not a certification authority" in res.stderr
    assert db.execute("SELECT count(*) FROM eds_ca_certificates WHERE subject LIKE %s",
                      ("%IIN123456789011%",)).fetchone()[0] == 0
    res = run(["eds", "trust", "add", str(VECTORS / "cms_detached_content.txt")], database_url)
    assert res.returncode == 1 and "neither a certificate nor a CRL" in res.stderr

    for name in ("nca_rsa_test.crl", "nca_gost_test.crl", "nca_gost2022_test.crl"):
        res = run(["eds", "crl", "add", str(VECTORS / name)], database_url)
        assert res.returncode == 0, res.stderr
        assert "next update 2022" in res.stdout or "next update 2023" in res.stdout
    # A CRL no trusted CA signed is refused.
    pki = Pki("UNTRUSTED CA")
    stray = tmp_path / "stray.crl"
    stray.write_bytes(pki.crl([]))
    res = run(["eds", "crl", "add", str(stray)], database_url)
    assert res.returncode == 1 and "not signed by a trusted" in res.stderr
    # A root CA is listed as one.
    root = tmp_path / "root.pem"
    from cryptography.hazmat.primitives import serialization

    root.write_bytes(pki.cert.public_bytes(serialization.Encoding.PEM))
    res = run(["eds", "trust", "add", str(root)], database_url)
    assert res.returncode == 0 and "root" in res.stdout

    res = run(["eds", "trust", "list"], database_url)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "ҰКО 3.0 (RSA TEST)" in out and "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST 2022" in out
    assert "UNTRUSTED CA" in out and "root, valid" in out and "intermediate, valid 2019-03-15 to 2024-03-13" in out
    assert "next update 2022-09-25" in out and "next update 2023-01-23" in out

    rows = db.execute("SELECT action, result, object, client FROM journal WHERE action LIKE 'eds.%' "
                      "ORDER BY seq").fetchall()
    assert ("eds.trust.add", "refused") in {(a, r) for a, r, _, _ in rows}
    assert ("eds.crl.add", "refused") in {(a, r) for a, r, _, _ in rows}
    oks = [(a, o) for a, r, o, c in rows if r == "ok" and c == "cli"]
    assert any(a == "eds.trust.add" and o.startswith("certificate:") and len(o) == 12 + 64 for a, o in oks)
    assert any(a == "eds.crl.add" and o.startswith("crl:") for a, o in oks)

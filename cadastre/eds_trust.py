"""Trust material in PostgreSQL (migration 0007): the CA certificates signatures must chain to
and the CRLs added for them. Loading gives the pure verifier its ``TrustStore`` and
``FileRevocation``; adding checks what is added (a CA certificate, a CRL signed by a trusted CA)
and journals it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from cadastre.eds.certificates import Certificate, Malformed
from cadastre.eds.revocation import Crl, FileRevocation
from cadastre.eds.trust import TrustStore
from geoservice.kernel.errors import Problem
from layers.store import journal

TRUST_ADD = "eds.trust.add"
CRL_ADD = "eds.crl.add"


@dataclass(frozen=True)
class TrustedCa:
    id: int
    subject: str
    fingerprint: str
    not_before: datetime
    not_after: datetime
    is_root: bool
    added_at: datetime
    added: bool = True  # False: it was already there


@dataclass(frozen=True)
class StoredCrl:
    id: int
    issuer: str
    fingerprint: str
    this_update: datetime
    next_update: datetime | None
    added_at: datetime
    entries: int | None = None
    added: bool = True


def trust_version(conn: psycopg.Connection) -> tuple[Any, ...]:
    """Changes whenever a certificate or CRL is added or removed: what a cache compares."""
    row = conn.execute("SELECT (SELECT count(*) FROM eds_ca_certificates), (SELECT max(id) FROM eds_ca_certificates), "
                       "(SELECT count(*) FROM eds_crls), (SELECT max(id) FROM eds_crls)").fetchone()
    assert row is not None
    return tuple(row)


def load_trust(conn: psycopg.Connection) -> tuple[TrustStore, FileRevocation]:
    """The trusted CAs and the stored CRLs, ready for ``verify_cms`` / ``verify_xml``."""
    certs = [bytes(r[0]) for r in conn.execute("SELECT der FROM eds_ca_certificates ORDER BY id")]
    crls = [bytes(r[0]) for r in conn.execute("SELECT der FROM eds_crls ORDER BY id")]
    return TrustStore(certs, crls), FileRevocation(crls)


def _is_root(cert: Certificate) -> bool:
    return cert.self_issued and TrustStore([]).signed_by(cert, cert)


def add_certificate(conn: psycopg.Connection, data: bytes, *, actor: str, client: str | None = "cli") -> TrustedCa:
    """Trust a CA certificate (DER or PEM). A certificate without the CA flag is refused
    (``eds.not_a_ca``); one already trusted is reported as such, not added twice."""
    try:
        cert = Certificate(data)
    except Malformed as exc:
        journal(conn, actor, TRUST_ADD, "refused", detail={"reason": str(exc)}, client=client)
        raise Problem("eds.not_readable", 422, reason=str(exc)) from None
    where = f"certificate:{cert.fingerprint}"
    if not cert.is_ca:
        journal(conn, actor, TRUST_ADD, "refused", object=where, client=client,
                detail={"subject": cert.subject_text, "reason": "not a CA"})
        raise Problem("eds.not_a_ca", 422, name=cert.subject_text)
    root = _is_root(cert)
    row = conn.execute(
        "INSERT INTO eds_ca_certificates (der, subject, fingerprint, not_before, not_after, is_root) "
        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (fingerprint) DO NOTHING "
        "RETURNING id, subject, fingerprint, not_before, not_after, is_root, added_at",
        (cert.der, cert.subject_text, cert.fingerprint, cert.not_before, cert.not_after, root)).fetchone()
    if row is None:
        existing = conn.execute("SELECT id, subject, fingerprint, not_before, not_after, is_root, added_at "
                                "FROM eds_ca_certificates WHERE fingerprint = %s", (cert.fingerprint,)).fetchone()
        assert existing is not None
        return TrustedCa(*existing, added=False)
    journal(conn, actor, TRUST_ADD, "ok", object=where, client=client,
            detail={"subject": cert.subject_text, "serial": cert.serial_hex, "is_root": root,
                    "not_after": cert.not_after.isoformat()})
    return TrustedCa(*row)


def add_crl(conn: psycopg.Connection, data: bytes, *, actor: str, client: str | None = "cli") -> StoredCrl:
    """Store a CRL (DER or PEM) once its signature checks out against a trusted CA
    (``eds.crl_not_trusted`` otherwise)."""
    try:
        crl = Crl(data)
    except Malformed as exc:
        journal(conn, actor, CRL_ADD, "refused", detail={"reason": str(exc)}, client=client)
        raise Problem("eds.not_readable", 422, reason=str(exc)) from None
    where = f"crl:{crl.fingerprint}"
    trust, _ = load_trust(conn)
    if not any(crl.issued_by(ca) for ca in trust.certificates):
        journal(conn, actor, CRL_ADD, "refused", object=where, client=client,
                detail={"issuer": crl.issuer_text, "reason": "no trusted CA signed it"})
        raise Problem("eds.crl_not_trusted", 422, name=crl.issuer_text)
    row = conn.execute(
        "INSERT INTO eds_crls (der, issuer, fingerprint, this_update, next_update) VALUES (%s, %s, %s, %s, %s) "
        "ON CONFLICT (fingerprint) DO NOTHING RETURNING id, issuer, fingerprint, this_update, next_update, added_at",
        (crl.der, crl.issuer_text, crl.fingerprint, crl.this_update, crl.next_update)).fetchone()
    if row is None:
        existing = conn.execute("SELECT id, issuer, fingerprint, this_update, next_update, added_at FROM eds_crls "
                                "WHERE fingerprint = %s", (crl.fingerprint,)).fetchone()
        assert existing is not None
        return StoredCrl(*existing, entries=len(crl.entries), added=False)
    journal(conn, actor, CRL_ADD, "ok", object=where, client=client,
            detail={"issuer": crl.issuer_text, "entries": len(crl.entries), "this_update": crl.this_update.isoformat(),
                    "next_update": crl.next_update.isoformat() if crl.next_update else None})
    return StoredCrl(*row, entries=len(crl.entries))


def list_trust(conn: psycopg.Connection) -> tuple[list[TrustedCa], list[StoredCrl]]:
    cas = [TrustedCa(*r) for r in conn.execute(
        "SELECT id, subject, fingerprint, not_before, not_after, is_root, added_at FROM eds_ca_certificates "
        "ORDER BY id")]
    crls = [StoredCrl(*r) for r in conn.execute(
        "SELECT id, issuer, fingerprint, this_update, next_update, added_at FROM eds_crls ORDER BY id")]
    return cas, crls

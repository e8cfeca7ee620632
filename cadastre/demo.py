"""The cabinet's part of the demo data set (`geoservice demo load`, only with GEOSERVICE_DEMO=1):
the demo people of the demo PKI (cadastre/eds/pki.py, ``DEMO_PEOPLE``) and their company in the
state register, the roles the demo grants them, and the demo CA itself: made under var/ (once;
kept for later starts) and trusted with its CRLs, so that the demo people's login certificates
sign in through the real EDS path, and `geoservice demo sign-in IIN` lets a newcomer in without
NCALayer. The people are invented; no IIN or BIN belongs to anybody."""

from __future__ import annotations

from pathlib import Path

import psycopg

from cadastre.accounts import grant_role
from cadastre.commission import add_member
from cadastre.eds.pki import DEMO_COMPANY_BIN, DEMO_PEOPLE, demo_pki, demo_register_rows
from cadastre.eds_trust import add_certificate, add_crl
from cadastre.registers import RegisterEntry
from layers.store import journal

DEMO_ACTOR = "demo"
# The demo's officer belongs to this competent authority.
OFFICER_AUTHORITY = "solid-minerals"
# A company of the register that has been liquidated (its head is the demo applicant): signing
# in for it shows the refusal.
LIQUIDATED = RegisterEntry("legal-entity", "090340000105", "ТОО «ЕСКІ КЕНІШ» (ликвидировано)",
                           DEMO_PEOPLE[0].iin, "liquidated", False)


def entries() -> list[RegisterEntry]:
    rows = [RegisterEntry(r["type"], r["id"], r["name"], r["head_iin"] or None, r["status"], r["tax_debt"] == "true")
            for r in demo_register_rows()]
    return [*rows, LIQUIDATED]


def load_people(conn: psycopg.Connection, pki_directory: Path | None = None) -> str:
    """Add (or refresh) the demo people and companies in the register, grant their roles and,
    with ``pki_directory``, make (or load) the demo PKI there and trust its CAs and CRLs; in the
    caller's transaction. Other rows of the register are left as they are."""
    for e in entries():
        conn.execute("INSERT INTO register_entries (type, id, name, head_iin, status, tax_debt) "
                     "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (type, id) DO UPDATE SET name = EXCLUDED.name, "
                     "head_iin = EXCLUDED.head_iin, status = EXCLUDED.status, tax_debt = EXCLUDED.tax_debt, "
                     "loaded_at = now()", (e.type, e.id, e.name, e.head_iin, e.status, e.tax_debt))
    granted = sum(grant_role(conn, p.iin, p.platform_role, OFFICER_AUTHORITY if p.platform_role == "officer" else None,
                             actor=DEMO_ACTOR)
                  for p in DEMO_PEOPLE if p.platform_role not in ("", "applicant"))
    # The demo commission member chairs the seed 004 commission, so a recognition can be voted on.
    for p in DEMO_PEOPLE:
        if p.platform_role == "commission":
            add_member(conn, "recognition", p.iin, "chair", actor=DEMO_ACTOR, client="cli")
    trusted = 0
    if pki_directory is not None:
        pki = demo_pki(pki_directory)
        trusted = sum(add_certificate(conn, path.read_bytes(), actor=DEMO_ACTOR).added for path in pki.trusted)
        trusted += sum(add_crl(conn, path.read_bytes(), actor=DEMO_ACTOR).added for path in pki.crls)
    journal(conn, DEMO_ACTOR, "demo.people", "ok", object="registry", client="cli",
            detail={"people": len(DEMO_PEOPLE), "grants": granted, "trusted": trusted})
    lines = ["demo people (sign in with `.venv/bin/geoservice demo sign-in IIN [--bin BIN]` after `make serve`"
             + (f", or with their certificates under {pki_directory}/people" if pki_directory else "") + "):"]
    for p in DEMO_PEOPLE:
        role = p.platform_role + (f" ({OFFICER_AUTHORITY})" if p.platform_role == "officer" else "")
        note = {"revoked": "certificate revoked", "expired": "certificate expired",
                "unknown_ca": "certificate from an untrusted CA"}.get(p.status, "")
        if not p.in_register:
            note = "not in the register"
        company = f", BIN {p.bin}" if p.bin else ""
        lines.append(f"  {p.iin}  {p.full_name}: {role or 'no role'}{company}{'; ' + note if note else ''}")
    lines.append(f"  company BIN {DEMO_COMPANY_BIN}; liquidated company BIN {LIQUIDATED.id}")
    return "\n".join(lines)

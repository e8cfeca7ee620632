"""People of the cabinet for tests: register entries, role grants and real sessions (made the
way a sign-in makes them, through cadastre.accounts)."""

from __future__ import annotations

from datetime import timedelta

import psycopg

from cadastre import accounts
from cadastre.registers import TableRegisters

# One person per role (IINs well-formed, belonging to nobody); officers of the operator, who may
# write every uploadable layer.
PEOPLE = {
    "applicant": "010101500001",
    "officer": "010101500002",
    "commission": "010101500003",
    "admin": "010101500004",
    "auditor": "010101500005",
}
OFFICER_AUTHORITY = "operator"


def add_person(conn: psycopg.Connection, iin: str, name: str, *, status: str = "active") -> None:
    conn.execute("INSERT INTO register_entries (type, id, name, status) VALUES ('individual', %s, %s, %s) "
                 "ON CONFLICT (type, id) DO UPDATE SET name = EXCLUDED.name, status = EXCLUDED.status",
                 (iin, name, status))


def add_company(conn: psycopg.Connection, bin_: str, name: str, head: str, *, status: str = "active") -> None:
    conn.execute("INSERT INTO register_entries (type, id, name, head_iin, status) "
                 "VALUES ('legal-entity', %s, %s, %s, %s) ON CONFLICT (type, id) DO UPDATE SET "
                 "name = EXCLUDED.name, head_iin = EXCLUDED.head_iin, status = EXCLUDED.status",
                 (bin_, name, head, status))


def ensure_people(database_url: str) -> dict[str, int]:
    """The people of PEOPLE in the register with their roles; their account ids by role."""
    ids = {}
    with psycopg.connect(database_url) as conn:
        for role, iin in PEOPLE.items():
            add_person(conn, iin, f"Тест {role}")
            if role != "applicant":
                accounts.grant_role(conn, iin, role, OFFICER_AUTHORITY if role == "officer" else None, actor="test")
            result = accounts.sign_in(conn, TableRegisters(conn), accounts.Identity(iin), method="demo",
                                      lifetime=timedelta(hours=1), client="test")
            ids[role] = result.account_id
        conn.commit()
    return ids


def session_for(database_url: str, account_id: int) -> str:
    """A fresh session token of the account."""
    with psycopg.connect(database_url) as conn:
        _, token, _ = accounts.open_session(conn, account_id, method="demo", lifetime=timedelta(hours=1),
                                            client="test")
        conn.commit()
    return token

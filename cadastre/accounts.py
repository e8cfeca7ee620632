"""Accounts of the personal cabinet: who may sign in (the state registers), the account made at
the first sign-in, sessions, role grants and one-time demo sign-in links.

Signing in has two doors, both ending in ``sign_in``: an EDS login (cadastre/signin.py checks
the signature over a challenge nonce and yields the signer's ``Identity``) and, in development
only, a one-time link printed by ``geoservice demo sign-in``. Every sign-in, sign-out and refusal
is journaled with its time (auctions need participants' login and logout times)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from cadastre.notifications import notify, unread
from cadastre.registers import RegisterEntry, StateRegisters
from geoservice.kernel.errors import Problem
from layers.access import CHANNEL, ROLES, SESSION_PREFIX, digest
from layers.catalog import AUTHORITIES
from layers.store import journal

IIN = re.compile(r"^[0-9]{12}$")
DEMO_LINK_PREFIX = "gsd_"
# Extended key usage of the "right to sign" for a legal entity (EDS.md, 1.2.398.3.3.4.1.2.2).
RIGHT_TO_SIGN = "right_to_sign"


@dataclass(frozen=True)
class Identity:
    """Who is signing in: from a verified certificate, or (demo links) from the register."""
    iin: str
    bin: str | None = None
    name: str | None = None
    organisation: str | None = None
    # Roles the certificate's EKU grants (``right_to_sign``, ``first_head``…).
    rights: frozenset[str] = frozenset()
    # What the profile shows of the certificate (subject, issuer, serial, validity).
    certificate: dict[str, Any] | None = None

    @property
    def actor(self) -> str:
        return f"IIN{self.iin}" + (f"/BIN{self.bin}" if self.bin else "")


@dataclass(frozen=True)
class SignIn:
    account_id: int
    session_id: int
    token: str
    expires_at: datetime
    created: bool
    user: dict[str, Any] = field(default_factory=dict)


def check_iin(value: str, what: str = "iin") -> str:
    value = value.strip()
    if not IIN.match(value):
        raise Problem("accounts.bad_number", 400, what=what.upper(), value=value)
    return value


# --- who may sign in ------------------------------------------------------------------------------

def check_registers(registers: StateRegisters, who: Identity) -> tuple[RegisterEntry, RegisterEntry | None]:
    """The person (and company) as the registers know them; a 401 problem saying why not."""
    person = registers.person(who.iin)
    if person is None:
        raise Problem("signin.not_in_register", 401, iin=who.iin)
    if not person.active:
        raise Problem("signin.person_inactive", 401, iin=who.iin)
    if who.bin is None:
        return person, None
    company = registers.legal_entity(who.bin)
    if company is None:
        raise Problem("signin.company_not_in_register", 401, bin=who.bin)
    if not company.active:
        raise Problem("signin.company_liquidated", 401, bin=who.bin, name=company.name)
    if company.head_iin != who.iin and RIGHT_TO_SIGN not in who.rights:
        raise Problem("signin.not_head", 401, iin=who.iin, bin=who.bin, name=company.name)
    return person, company


def granted_roles(conn: psycopg.Connection, iin: str) -> tuple[list[str], list[str]]:
    """The person's roles (applicant for everyone signed in, plus the granted ones) and the
    authorities they are an officer of."""
    rows = conn.execute("SELECT role, authority FROM role_grants WHERE iin = %s", (iin,)).fetchall()
    roles = sorted({"applicant", *(r[0] for r in rows)}, key=ROLES.index)
    return roles, sorted({r[1] for r in rows if r[1]})


def sign_in(conn: psycopg.Connection, registers: StateRegisters, who: Identity, *, method: str,
            lifetime: timedelta, client: str | None) -> SignIn:
    """Check the registers, make or update the account (the first sign-in registers it), open a
    session. In the caller's transaction; a refusal is a Problem (journal it with ``refused``)."""
    person, company = check_registers(registers, who)
    name = who.name or person.name
    organisation = company.name if company else None
    row = conn.execute(
        "INSERT INTO accounts (iin, bin, name, organisation, certificate, last_sign_in_at) "
        "VALUES (%s, %s, %s, %s, %s, now()) "
        "ON CONFLICT (iin, (coalesce(bin, ''))) DO UPDATE SET name = EXCLUDED.name, "
        "organisation = EXCLUDED.organisation, certificate = coalesce(EXCLUDED.certificate, accounts.certificate), "
        "last_sign_in_at = EXCLUDED.last_sign_in_at RETURNING id, xmax = 0",
        (who.iin, who.bin, name, organisation, Jsonb(who.certificate) if who.certificate else None)).fetchone()
    assert row is not None
    account_id, created = int(row[0]), bool(row[1])
    session_id, token, expires_at = open_session(conn, account_id, method=method, lifetime=lifetime, client=client)
    if created:
        notify(conn, account_id, "notice.welcome", name=name)
    journal(conn, who.actor, "account.login", "ok", object=f"account:{account_id}", client=client,
            detail={"session_id": session_id, "method": method, "registered": created,
                    "expires_at": expires_at.isoformat()})
    roles, _ = granted_roles(conn, who.iin)
    return SignIn(account_id, session_id, token, expires_at, created,
                  {"iin": who.iin, "bin": who.bin, "name": name, "organisation": organisation, "roles": roles})


def refused(conn: psycopg.Connection, problem: Problem, who: Identity | None, *, method: str,
            client: str | None) -> None:
    """Journal a refused sign-in (who, if the signature named them; why)."""
    journal(conn, who.actor if who else "anonymous", "account.login", "rejected", client=client,
            detail={"problem": problem.key, "method": method, **({"iin": who.iin} if who else {})})


# --- sessions -------------------------------------------------------------------------------------

def open_session(conn: psycopg.Connection, account_id: int, *, method: str, lifetime: timedelta,
                 client: str | None) -> tuple[int, str, datetime]:
    """A new session; its token is returned once (only its SHA-256 is stored)."""
    token = SESSION_PREFIX + secrets.token_urlsafe(32)
    row = conn.execute("INSERT INTO sessions (token_hash, account_id, method, expires_at, client) "
                       "VALUES (%s, %s, %s, now() + %s, %s) RETURNING id, expires_at",
                       (digest(token), account_id, method, lifetime, client)).fetchone()
    assert row is not None
    return int(row[0]), token, row[1]


def sign_out(conn: psycopg.Connection, session_id: int, *, actor: str, client: str | None) -> None:
    """End a session: at commit every server process hears of it (NOTIFY) and refuses it."""
    row = conn.execute("UPDATE sessions SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL "
                       "RETURNING account_id", (session_id,)).fetchone()
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"session:{session_id}"))
    journal(conn, actor, "account.logout", "ok" if row else "unchanged",
            object=f"account:{row[0]}" if row else None, client=client, detail={"session_id": session_id})


# --- challenges -----------------------------------------------------------------------------------

def issue_challenge(conn: psycopg.Connection, *, lifetime: timedelta, client: str | None) -> tuple[str, datetime]:
    """A random nonce to sign, usable once until it expires."""
    # Challenges a day past their end are of no use, not even to say "expired".
    conn.execute("DELETE FROM signin_challenges WHERE expires_at < now() - interval '1 day'")
    nonce = secrets.token_urlsafe(32)
    row = conn.execute("INSERT INTO signin_challenges (nonce, expires_at, client) VALUES (%s, now() + %s, %s) "
                       "RETURNING expires_at", (nonce, lifetime, client)).fetchone()
    assert row is not None
    return nonce, row[0]


def consume_challenge(conn: psycopg.Connection, content: bytes) -> None:
    """Use up the nonce the signature was made over: refused when the content is no nonce we
    gave, or one used already or expired."""
    try:
        nonce = content.decode("ascii")
    except UnicodeDecodeError:
        raise Problem("signin.not_the_nonce", 401) from None
    row = conn.execute("UPDATE signin_challenges SET used_at = now() WHERE nonce = %s AND used_at IS NULL "
                       "AND expires_at > now() RETURNING nonce", (nonce,)).fetchone()
    if row is not None:
        return
    found = conn.execute("SELECT used_at FROM signin_challenges WHERE nonce = %s", (nonce,)).fetchone()
    if found is None:
        raise Problem("signin.not_the_nonce", 401)
    raise Problem("signin.nonce_reused" if found[0] is not None else "signin.nonce_expired", 401)


# --- development sign-in --------------------------------------------------------------------------

def create_demo_link(conn: psycopg.Connection, registers: StateRegisters, iin: str, bin_: str | None, *,
                     lifetime: timedelta, actor: str = "cli") -> str:
    """A one-time sign-in token for a person of the register (development only: the caller
    checks the demo setting). The person must be able to sign in at all."""
    who = Identity(check_iin(iin), check_iin(bin_, "bin") if bin_ else None)
    check_registers(registers, who)
    token = DEMO_LINK_PREFIX + secrets.token_urlsafe(32)
    conn.execute("INSERT INTO demo_links (token_hash, iin, bin, expires_at) VALUES (%s, %s, %s, now() + %s)",
                 (digest(token), who.iin, who.bin, lifetime))
    journal(conn, actor, "demo.sign_in_link", "ok", object=f"person:{who.actor}", client="cli",
            detail={"iin": who.iin, "bin": who.bin})
    return token


def consume_demo_link(conn: psycopg.Connection, token: str) -> Identity:
    row = conn.execute("UPDATE demo_links SET used_at = now() WHERE token_hash = %s AND used_at IS NULL "
                       "AND expires_at > now() RETURNING iin, bin", (digest(token),)).fetchone()
    if row is None:
        raise Problem("signin.demo_link_invalid", 401)
    return Identity(row[0], row[1])


# --- role grants ----------------------------------------------------------------------------------

def _grant_args(iin: str, role: str, authority: str | None) -> tuple[str, str, str | None]:
    iin = check_iin(iin)
    if role not in ROLES:
        raise Problem("accounts.unknown_role", 400, role=role, known=", ".join(ROLES))
    if role == "officer" and authority is None:
        raise Problem("accounts.officer_needs_authority", 400, known=", ".join(sorted(AUTHORITIES)))
    if role != "officer" and authority is not None:
        raise Problem("accounts.authority_only_for_officers", 400, role=role)
    if authority is not None and authority not in AUTHORITIES:
        raise Problem("auth.unknown_authority", 400, authority=authority, known=", ".join(sorted(AUTHORITIES)))
    return iin, role, authority


def grant_role(conn: psycopg.Connection, iin: str, role: str, authority: str | None = None, *,
               actor: str = "cli", client: str | None = "cli") -> bool:
    """Grant a role (officers: of one authority); False when the person had it already. Signed-in
    sessions of the person get it at once (NOTIFY). Journaled, a refusal too."""
    try:
        iin, role, authority = _grant_args(iin, role, authority)
    except Problem as problem:
        journal(conn, actor, "users.grant", "rejected", object=f"person:IIN{iin}", client=client,
                detail={"role": role, "authority": authority, "problem": problem.key})
        raise
    row = conn.execute("INSERT INTO role_grants (iin, role, authority, granted_by) VALUES (%s, %s, %s, %s) "
                       "ON CONFLICT (iin, role, (coalesce(authority, ''))) DO NOTHING RETURNING id",
                       (iin, role, authority, actor)).fetchone()
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"iin:{iin}"))
    journal(conn, actor, "users.grant", "ok" if row else "unchanged", object=f"person:IIN{iin}", client=client,
            detail={"role": role, "authority": authority})
    return row is not None


def revoke_role(conn: psycopg.Connection, iin: str, role: str, authority: str | None = None, *,
                actor: str = "cli", client: str | None = "cli") -> bool:
    """Take a role back (an officer's of one authority, or of all when none is named); False
    when the person did not have it."""
    try:
        iin = check_iin(iin)
        if role not in ROLES:
            raise Problem("accounts.unknown_role", 400, role=role, known=", ".join(ROLES))
    except Problem as problem:
        journal(conn, actor, "users.revoke", "rejected", object=f"person:IIN{iin}", client=client,
                detail={"role": role, "authority": authority, "problem": problem.key})
        raise
    rows = conn.execute("DELETE FROM role_grants WHERE iin = %s AND role = %s AND (%s::text IS NULL OR authority = %s) "
                        "RETURNING id", (iin, role, authority, authority)).fetchall()
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"iin:{iin}"))
    journal(conn, actor, "users.revoke", "ok" if rows else "unchanged", object=f"person:IIN{iin}", client=client,
            detail={"role": role, "authority": authority})
    return bool(rows)


@dataclass(frozen=True)
class Grant:
    iin: str
    role: str
    authority: str | None
    granted_at: datetime
    name: str | None


def list_grants(conn: psycopg.Connection) -> list[Grant]:
    """Every grant, with the person's name from the register when it has them."""
    rows = conn.execute("SELECT g.iin, g.role, g.authority, g.granted_at, r.name FROM role_grants g "
                        "LEFT JOIN register_entries r ON r.type = 'individual' AND r.id = g.iin "
                        "ORDER BY g.iin, g.role, g.authority").fetchall()
    return [Grant(*row) for row in rows]


# --- the profile ----------------------------------------------------------------------------------

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9]{10,15}$")
MAX_ADDRESS = 500


def profile(conn: psycopg.Connection, registers: StateRegisters, account_id: int) -> dict[str, Any]:
    """The account as the cabinet shows it: from the certificate, the registers and the person."""
    row = conn.execute("SELECT iin, bin, name, organisation, email, phone, address, certificate, created_at, "
                       "last_sign_in_at FROM accounts WHERE id = %s", (account_id,)).fetchone()
    assert row is not None
    iin, bin_, name, organisation, email, phone, address, certificate, created_at, last = row
    roles, authorities = granted_roles(conn, iin)
    person, company = registers.person(iin), registers.legal_entity(bin_) if bin_ else None
    return {
        "iin": iin, "bin": bin_, "name": name, "organisation": organisation, "roles": roles,
        "authorities": authorities, "authority_names": {a: AUTHORITIES[a].names.as_dict() for a in authorities},
        "certificate": certificate,
        "register": {"person": person.as_dict() if person else None,
                     "legal_entity": company.as_dict() if company else None},
        "contacts": {"email": email, "phone": phone, "address": address},
        "created_at": created_at.isoformat(), "last_sign_in_at": last.isoformat() if last else None,
        "unread": unread(conn, account_id),
    }


def clean_contacts(changes: dict[str, Any]) -> dict[str, str | None]:
    """The contact fields sent, checked: an empty value clears a field."""
    out: dict[str, str | None] = {}
    for key in ("email", "phone", "address"):
        if key not in changes:
            continue
        value = changes[key]
        if value is not None and not isinstance(value, str):
            raise Problem("cabinet.bad_contact", 422, field=key)
        value = (value or "").strip() or None
        if value is not None:
            if any(ord(c) < 32 for c in value):
                raise Problem("cabinet.bad_contact", 422, field=key)
            if key == "email" and (len(value) > 254 or not EMAIL.match(value)):
                raise Problem("cabinet.bad_email", 422, value=value)
            if key == "phone":
                digits = re.sub(r"[\s()-]", "", value)
                if not PHONE.match(digits):
                    raise Problem("cabinet.bad_phone", 422, value=value)
                value = digits
            if key == "address" and len(value) > MAX_ADDRESS:
                raise Problem("cabinet.bad_address", 422, limit=MAX_ADDRESS)
        out[key] = value
    return out


def update_contacts(conn: psycopg.Connection, account_id: int, changes: dict[str, Any], *, actor: str,
                    client: str | None) -> dict[str, str | None]:
    """Change the contacts the person keeps (email, phone, address), journaled."""
    clean = clean_contacts(changes)
    if clean:
        columns = ", ".join(f"{key} = %s" for key in clean)  # keys from the fixed list above
        conn.execute(f"UPDATE accounts SET {columns} WHERE id = %s",  # noqa: S608
                     (*clean.values(), account_id))
        journal(conn, actor, "account.contacts", "ok", object=f"account:{account_id}", client=client,
                detail={"changed": sorted(clean)})
    row = conn.execute("SELECT email, phone, address FROM accounts WHERE id = %s", (account_id,)).fetchone()
    assert row is not None
    return dict(zip(("email", "phone", "address"), row, strict=True))

"""Signed decisions on a licence's obligations (issue 11): an officer of the licence's competent
authority records that an obligation is met (the signature bonus or rent received, a
relinquishment done), waived, or open again, with its basis (a text, and optionally a document
of the document store and the amount paid).

The officer signs ``{licence, obligation, status, basis, effective_on, document, amount_kzt}``
as a detached CMS over its RFC 8785 JSON; the decision is stored with what was signed, the
signature and its verification (``obligation_decisions``, migration 0023), the obligation's row
is closed and reopened with the new status (``obligations.set_status``: its history and journal
row, and ``NOTIFY obligations_changed``, so the checker resolves its findings at once), and the
holder and the authority's officers get a notice."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import psycopg
import rfc8785
from psycopg.types.json import Jsonb

from cadastre import obligations
from cadastre.checker import obligation_name, recipients
from cadastre.eds.revocation import RevocationSource
from cadastre.eds.trust import TrustStore
from cadastre.notifications import notify
from cadastre.workbench import verify_signed
from geoservice.kernel.errors import Problem
from layers.access import Person

# What an officer may decide; "overdue" is the checker's finding, not a decision.
DECIDABLE = ("met", "waived", "open")
FIELDS = ("licence", "obligation", "status", "basis", "effective_on", "document", "amount_kzt")
_AMOUNT = re.compile(r"^[0-9]{1,18}(\.[0-9]{1,2})?$")


def payload(decision: Mapping[str, Any]) -> dict[str, Any]:
    """What is signed: every field, absent ones as null (so the signed text is one and only one)."""
    return {f: decision.get(f) for f in FIELDS}


def canonical(decision: Mapping[str, Any]) -> bytes:
    return rfc8785.dumps(payload(decision))


def parse(body: Any, number: str, key: str, today: dt.date) -> dict[str, Any]:
    """The decision as sent, checked field by field (a Problem names the field)."""
    if not isinstance(body, dict) or set(body) - set(FIELDS):
        raise Problem("obligation_decisions.bad_decision", 422, field="decision")
    if body.get("licence") != number or body.get("obligation") != key:
        raise Problem("obligation_decisions.bad_decision", 422, field="licence")
    if body.get("status") not in DECIDABLE:
        raise Problem("obligation_decisions.bad_decision", 422, field="status")
    basis = body.get("basis")
    if not isinstance(basis, str) or not 1 <= len(basis.strip()) <= 1000:
        raise Problem("obligation_decisions.bad_decision", 422, field="basis")
    try:
        day = dt.date.fromisoformat(str(body.get("effective_on")))
    except ValueError:
        raise Problem("obligation_decisions.bad_decision", 422, field="effective_on") from None
    if day > today:
        raise Problem("obligation_decisions.future_date", 422, day=day.isoformat(), today=today.isoformat())
    document = body.get("document")
    if document is not None and (not isinstance(document, int) or isinstance(document, bool) or document <= 0):
        raise Problem("obligation_decisions.bad_decision", 422, field="document")
    amount = body.get("amount_kzt")
    if amount is not None and not (isinstance(amount, str) and _AMOUNT.match(amount)):
        raise Problem("obligation_decisions.bad_decision", 422, field="amount_kzt")
    return dict(body)


def _authority(conn: psycopg.Connection, number: str) -> str:
    row = conn.execute("SELECT kind, mineral FROM licence_states WHERE number = %s AND valid_to IS NULL",
                       (number,)).fetchone()
    if row is None:
        raise Problem("licences.not_found", 404, number=number[:100])
    return obligations.authority_of(row[0], row[1])


def may_decide(conn: psycopg.Connection, caller: Person, number: str) -> bool:
    """An officer of the licence's authority (or an administrator)."""
    authority = _authority(conn, number)
    return "admin" in caller.roles or ("officer" in caller.roles and authority in caller.authorities)


def decide(conn: psycopg.Connection, number: str, key: str, decision: Mapping[str, Any], signature: bytes, *,
           caller: Person, trust: TrustStore, revocation: RevocationSource, now: dt.datetime,
           today: dt.date) -> dict[str, Any]:
    """Record the caller's signed decision on the licence's obligation ``key``, in the caller's
    transaction; the decision as stored. Refusals are Problems and change nothing."""
    checked = parse(decision, number, key, today)
    if not may_decide(conn, caller, number):
        raise Problem("obligation_decisions.not_your_authority", 403, licence=number[:100])
    row = conn.execute("SELECT id, kind, status, valid_from FROM obligations WHERE number = %s AND key = %s "
                       "AND valid_to IS NULL FOR UPDATE", (number, key)).fetchone()
    if row is None:
        raise Problem("obligation_decisions.not_found", 404, licence=number[:100], obligation=key[:100])
    obligation_id, kind, status, since = row
    if status == checked["status"]:
        raise Problem("obligation_decisions.same_status", 409, obligation=key[:100], state=status)
    effective_on = dt.date.fromisoformat(checked["effective_on"])
    if effective_on < since:
        raise Problem("obligation_decisions.before_state", 422, day=effective_on.isoformat(), since=since.isoformat())
    if checked.get("document") is not None and conn.execute(
            "SELECT 1 FROM documents WHERE id = %s", (checked["document"],)).fetchone() is None:
        raise Problem("obligation_decisions.bad_decision", 422, field="document")
    data = canonical(checked)
    result, signer = verify_signed(signature, data, caller=caller, trust=trust, revocation=revocation, now=now)
    basis = checked["basis"].strip()
    opened = obligations.set_status(conn, obligation_id, checked["status"], actor=caller.actor,
                                    basis=f"signed decision: {basis}"[:1000], effective_on=effective_on)
    amount = Decimal(checked["amount_kzt"]) if checked.get("amount_kzt") is not None else None
    stored = conn.execute(
        "INSERT INTO obligation_decisions (number, key, closed_obligation, opened_obligation, status, effective_on, "
        "basis, document_id, amount_kzt, actor, actor_iin, account_id, canonical, signature, verification) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id, at",
        (number, key, obligation_id, opened, checked["status"], effective_on, basis, checked.get("document"), amount,
         caller.actor, caller.iin, caller.account_id, data.decode(), signature, Jsonb(result.as_dict()))).fetchone()
    assert stored is not None
    for account in recipients(conn, number):
        notify(conn, account, "notice.obligation_decided", number=number, obligation=obligation_name(kind, key),
               status={"message": f"obligation.status.{checked['status']}"}, basis=basis[:200])
    return {"id": int(stored[0]), "at": stored[1].isoformat(), "licence": number, "obligation": key,
            "status": checked["status"], "effective_on": effective_on.isoformat(), "basis": basis,
            "document": checked.get("document"), "amount_kzt": checked.get("amount_kzt"),
            "signer": {"iin": signer.iin, "name": signer.name}}


def decisions(conn: psycopg.Connection, number: str) -> list[dict[str, Any]]:
    """The licence's obligation decisions, oldest first, with what was signed and the signature."""
    rows = conn.execute("SELECT id, key, status, effective_on, basis, document_id, amount_kzt, actor, at, canonical, "
                        "encode(signature, 'base64') FROM obligation_decisions WHERE number = %s ORDER BY id",
                        (number,)).fetchall()
    return [{"id": r[0], "obligation": r[1], "status": r[2], "effective_on": r[3].isoformat(), "basis": r[4],
             "document": r[5], "amount_kzt": None if r[6] is None else str(r[6]), "actor": r[7],
             "at": r[8].isoformat(), "canonical": r[9], "signature": r[10].replace("\n", "")} for r in rows]


__all__ = ["DECIDABLE", "canonical", "decide", "decisions", "may_decide", "parse", "payload"]

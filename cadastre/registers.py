"""The state registers the cabinet checks at sign-in: individuals by IIN (in production the
e-government's ГБД ФЛ) and legal entities by BIN (ГБД ЮЛ).

``StateRegisters`` is the adapter; ``TableRegisters`` is the one that ships, reading the table
``register_entries`` that ``geoservice registry load FILE`` fills from a CSV. A production
adapter asks the government registers through the SHEP (ШЭП) integration bus instead and is
passed where ``TableRegisters`` is now (cadastre/README.md)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Protocol

import psycopg

from geoservice.kernel.errors import Issue, Location, Problem
from layers.store import journal

HEADER = ("type", "id", "name", "head_iin", "status", "tax_debt")
TYPES = ("individual", "legal-entity")
STATUSES = ("active", "liquidated")
TWELVE_DIGITS = re.compile(r"^[0-9]{12}$")
MAX_ISSUES = 100


@dataclass(frozen=True)
class RegisterEntry:
    type: str
    id: str
    name: str
    head_iin: str | None
    status: str
    tax_debt: bool

    @property
    def active(self) -> bool:
        return self.status == "active"

    def as_dict(self) -> dict[str, object]:
        return {"type": self.type, "id": self.id, "name": self.name, "head_iin": self.head_iin,
                "status": self.status, "tax_debt": self.tax_debt}


class StateRegisters(Protocol):
    """What sign-in asks of the state registers."""

    def person(self, iin: str) -> RegisterEntry | None:
        """The individual with this IIN, None when the register has no such person."""

    def legal_entity(self, bin_: str) -> RegisterEntry | None:
        """The legal entity with this BIN, None when the register has none."""


class TableRegisters:
    """The registers as loaded into ``register_entries`` (``geoservice registry load``)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def _entry(self, kind: str, key: str) -> RegisterEntry | None:
        row = self.conn.execute("SELECT type, id, name, head_iin, status, tax_debt FROM register_entries "
                                "WHERE type = %s AND id = %s", (kind, key)).fetchone()
        return RegisterEntry(*row) if row else None

    def person(self, iin: str) -> RegisterEntry | None:
        return self._entry("individual", iin)

    def legal_entity(self, bin_: str) -> RegisterEntry | None:
        return self._entry("legal-entity", bin_)


def parse_register(text: str, file_name: str) -> list[RegisterEntry]:
    """The rows of a register CSV, every fault found (line and column named) or none loaded."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != HEADER:
        raise Problem("registry.bad_header", 422, location=Location(file=file_name), expected=",".join(HEADER),
                      found=",".join(header or []))
    entries: list[RegisterEntry] = []
    issues: list[Issue] = []
    seen: dict[tuple[str, str], int] = {}

    def fault(key: str, line: int, column: str, **params: object) -> None:
        issues.append(Issue(key, {"line": line, "column": column, **params},
                            Location(file=file_name, field=column)))

    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(HEADER):
            fault("registry.bad_columns", line, "-", count=len(row), expected=len(HEADER))
            continue
        kind, key, name, head, status, debt = (cell.strip() for cell in row)
        before = len(issues)
        if kind not in TYPES:
            fault("registry.bad_value", line, "type", value=kind, allowed=", ".join(TYPES))
        if not TWELVE_DIGITS.match(key):
            fault("registry.bad_id", line, "id", value=key)
        if not name:
            fault("registry.empty", line, "name")
        if head and not TWELVE_DIGITS.match(head):
            fault("registry.bad_id", line, "head_iin", value=head)
        if kind == "legal-entity" and not head:
            fault("registry.empty", line, "head_iin")
        if kind == "individual" and head:
            fault("registry.head_of_person", line, "head_iin")
        if status not in STATUSES:
            fault("registry.bad_value", line, "status", value=status, allowed=", ".join(STATUSES))
        if debt.lower() not in ("true", "false"):
            fault("registry.bad_value", line, "tax_debt", value=debt, allowed="true, false")
        if (kind, key) in seen:
            fault("registry.duplicate", line, "id", value=key, first=seen[(kind, key)])
        if len(issues) == before:
            seen[(kind, key)] = line
            entries.append(RegisterEntry(kind, key, name, head or None, status, debt.lower() == "true"))
        if len(issues) >= MAX_ISSUES:
            break
    if issues:
        raise Problem("registry.invalid", 422, issues=issues, location=Location(file=file_name), count=len(issues))
    return entries


def load_register(conn: psycopg.Connection, data: bytes, file_name: str, *, actor: str = "cli",
                  client: str | None = "cli") -> dict[str, int]:
    """Replace the register with the file's rows, in the caller's transaction: all of them or,
    on any fault, none (the refusal is journaled; commit it before passing the error on)."""
    try:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise Problem("registry.not_utf8", 422, location=Location(file=file_name), offset=exc.start) from None
        entries = parse_register(text, file_name)
    except Problem as problem:
        journal(conn, actor, "register.load", "rejected", object="registry", client=client,
                detail={"file": file_name, "problem": problem.key, "faults": len(problem.issues)})
        raise
    conn.execute("DELETE FROM register_entries")
    with conn.cursor().copy("COPY register_entries (type, id, name, head_iin, status, tax_debt) FROM STDIN") as copy:
        for e in entries:
            copy.write_row((e.type, e.id, e.name, e.head_iin, e.status, e.tax_debt))
    counts = {kind: sum(1 for e in entries if e.type == kind) for kind in TYPES}
    journal(conn, actor, "register.load", "ok", object="registry", client=client,
            detail={"file": file_name, **counts})
    return counts

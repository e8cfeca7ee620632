"""The cabinet's part of the demo data set (`geoservice demo load`, only with GEOSERVICE_DEMO=1):
demo people and companies in the state register and the roles they hold, so that a newcomer can
sign in (`geoservice demo sign-in 900101300123`) and see each kind of cabinet. The people are
invented; their IINs and BINs are well-formed but belong to nobody."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from cadastre.accounts import grant_role
from cadastre.registers import RegisterEntry
from layers.store import journal

DEMO_ACTOR = "demo"


@dataclass(frozen=True)
class DemoPerson:
    iin: str
    name: str
    # What the person does in the demo: (role, authority) grants besides "applicant".
    grants: tuple[tuple[str, str | None], ...] = ()
    note: str = ""


PEOPLE = (
    DemoPerson("900101300123", "Асанов Ерлан Серікұлы", (), "applicant; head of ТОО «Demo Gold»"),
    DemoPerson("850505400456", "Садықова Айгүл Маратқызы", (("officer", "solid-minerals"),),
               "officer of the solid-minerals authority"),
    DemoPerson("780303300789", "Петров Иван Сергеевич", (("commission", None),), "commission member"),
    DemoPerson("920202400111", "Жұмабаева Динара Асқарқызы", (("auditor", None),), "auditor"),
    DemoPerson("870707300222", "Ким Виктор Алексеевич", (("admin", None), ("officer", "operator")),
               "operator administrator; head of АО «Demo Oil»"),
    DemoPerson("950909300333", "Нұрланов Арман Бекұлы", (),
               "employee of ТОО «Demo Gold»; head of a liquidated company"),
)
COMPANIES = (
    RegisterEntry("legal-entity", "180140000123", "ТОО «Demo Gold»", "900101300123", "active", False),
    RegisterEntry("legal-entity", "050540000789", "АО «Demo Oil»", "870707300222", "active", True),
    RegisterEntry("legal-entity", "100140000999", "ТОО «Старый рудник»", "950909300333", "liquidated", False),
)


def entries() -> list[RegisterEntry]:
    return [RegisterEntry("individual", p.iin, p.name, None, "active", False) for p in PEOPLE] + list(COMPANIES)


def load_people(conn: psycopg.Connection) -> str:
    """Add (or refresh) the demo people and companies in the register and grant their roles, in
    the caller's transaction. Rows of other people in the register are left as they are."""
    for e in entries():
        conn.execute("INSERT INTO register_entries (type, id, name, head_iin, status, tax_debt) "
                     "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (type, id) DO UPDATE SET name = EXCLUDED.name, "
                     "head_iin = EXCLUDED.head_iin, status = EXCLUDED.status, tax_debt = EXCLUDED.tax_debt, "
                     "loaded_at = now()", (e.type, e.id, e.name, e.head_iin, e.status, e.tax_debt))
    granted = sum(grant_role(conn, p.iin, role, authority, actor=DEMO_ACTOR)
                  for p in PEOPLE for role, authority in p.grants)
    journal(conn, DEMO_ACTOR, "demo.people", "ok", object="registry", client="cli",
            detail={"people": len(PEOPLE), "companies": len(COMPANIES), "grants": granted})
    lines = [f"demo register: {len(PEOPLE)} people, {len(COMPANIES)} companies; sign in with "
             "`geoservice demo sign-in IIN [--bin BIN]`:"]
    lines += [f"  {p.iin}  {p.name}: {p.note}" for p in PEOPLE]
    lines += [f"  BIN {c.id}  {c.name} ({c.status})" for c in COMPANIES]
    return "\n".join(lines)

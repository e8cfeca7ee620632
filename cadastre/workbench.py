"""The procedure run of an accepted application and the officer's workbench (issue 9).

* **Runs.** ``start_run`` starts the procedure of the application's kind (``Kind.procedure`` in
  cadastre/applications.py; cadastre/procedures.toml) at its receipt time, when it is filed and
  accepted. The run's state is ``procedures.State`` as JSON (migration 0015); its current stage,
  role and due time are repeated in columns for the queue.
* **Decisions.** ``decide``: an officer of the authority the application was routed to (a
  commission member at a stage whose role is ``commission``; the applicant who owns it at a stage
  whose role is ``applicant``, i.e. ``revision``) acts through ``procedures.act``.
  Every decision is signed like an application: a detached CMS (SIGNATURE purpose, signer = the
  caller) over the RFC 8785 JSON of ``{"application", "stage", "action", "reason"}``; the text,
  the CMS and the verification are stored, so anyone allowed can verify it again. Journaled
  (``object="application:<number>"``). The applicant is notified of a return (with the reason)
  and of the outcome when the run finishes (a refusal with its reason, or the approval); the
  authority's officers, of a revision sent back.
* **Outcomes.** A run finishing ``granted`` turns the application's pending claims ``granted``
  and calls every hook in ``ON_GRANTED`` (below), in the same transaction. A run finishing
  ``refused`` releases the claims and marks the application refused with the reason. A refusal
  is final when its run finishes (the engine still runs the preparing/approving/signing stages
  of a refusal), so the blocks stay claimed until then.
* **Queue.** ``queue``: the runs waiting for the caller (officer: their authorities' officer
  stages; the commission stages of the commissions they sit on, ``commission_members``), the
  least time left first, overdue ones flagged.
  ``notify_overdue``: each stage past its deadline is notified once (a row in
  ``procedure_overdue``) to the officers of its authority (or the commission's members); the
  queue read runs it, and so may a background task.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import rfc8785
from psycopg.types.json import Jsonb

from cadastre import procedures
from cadastre.applications import KINDS, Reason, _visible_sql, rfc3339
from cadastre.applied import claims_changed
from cadastre.calendar import load_calendar
from cadastre.eds.revocation import RevocationSource
from cadastre.eds.trust import TrustStore
from cadastre.eds.verify import CHECKS, verify_cms
from cadastre.notifications import notify
from geoservice.kernel.errors import Problem
from layers.access import Person
from layers.store import journal

ACTING_ROLES = ("officer", "commission")
MAX_REASON = 4000


# --- the hook for granted applications --------------------------------------------------------------

@dataclass(frozen=True)
class GrantedApplication:
    """What a hook learns about an application whose run finished ``granted``: its claims are
    already ``granted`` when the hook runs."""
    id: int
    number: str
    kind: str
    mineral: str | None
    applicant_iin: str | None
    applicant_bin: str | None
    account_id: int
    routed_to: str | None
    received_at: dt.datetime
    application: dict[str, Any]  # the signed application object (parsed from its canonical JSON)
    blocks: list[str]  # block codes of its granted claims
    block_ids: list[int]
    granted_at: dt.datetime
    granted_by: str  # the actor of the last decision
    procedure: str


GrantedHook = Callable[[psycopg.Connection, GrantedApplication], None]

# Callbacks ``hook(conn, application)`` run, in registration order, when a run finishes
# ``granted``: inside the deciding transaction, after the claims became ``granted``. A hook that
# raises rolls the whole decision back (the officer sees the error; nothing is granted), so a
# licence is issued exactly when the grant commits. The licences work registers here
# (``workbench.on_granted(issue_licence_hook)``); tests may append and remove their own.
ON_GRANTED: list[GrantedHook] = []


def on_granted(hook: GrantedHook) -> GrantedHook:
    """Register ``hook`` (usable as a decorator); registering the same callable twice is a no-op."""
    if hook not in ON_GRANTED:
        ON_GRANTED.append(hook)
    return hook


@dataclass(frozen=True)
class Decided:
    """What a hook learns about every recorded decision (issue 11: a report's row follows its
    run): the application, the decision, and the run's state after it."""
    application_id: int
    number: str
    kind: str
    stage: str
    role: str
    action: str
    reason: str | None
    actor: str
    at: dt.datetime
    finished: bool
    outcome: str | None


DecidedHook = Callable[[psycopg.Connection, Decided], None]

# Callbacks ``hook(conn, decided)`` run after each decision is stored (after ``ON_GRANTED`` when it
# finished the run), in the deciding transaction: one that raises rolls the decision back.
ON_DECIDED: list[DecidedHook] = []


def on_decided(hook: DecidedHook) -> DecidedHook:
    """Register ``hook`` (usable as a decorator); registering the same callable twice is a no-op."""
    if hook not in ON_DECIDED:
        ON_DECIDED.append(hook)
    return hook


# --- starting a run ---------------------------------------------------------------------------------

APPLICATION = ("SELECT a.id, a.number, a.kind, a.mineral, a.applicant_iin, a.applicant_bin, a.account_id, "
               "a.routed_to, a.received_at, a.status, a.canonical FROM applications a")


def _columns(state: procedures.State) -> dict[str, Any]:
    current = state.current
    return {"step": len(state.steps) - 1 if current else None, "stage": current.stage if current else None,
            "role": current.role if current else None, "due_at": current.due if current else None,
            "status": state.status, "outcome": state.outcome if state.status == "finished" else None}


def start_run(conn: psycopg.Connection, application: str, *, actor: str = "system",
              client: str | None = None, journaled: bool = True) -> procedures.State | None:
    """Start the procedure of an accepted application (its number), begun at its receipt time,
    in the caller's transaction. None when the application is not accepted or its kind has no
    declared procedure. Counting a deadline into a year the holidays table does not cover is
    refused (``calendar.year_not_covered``) rather than guessed. ``journaled=False``: the
    caller's own journal row records the start (filing does, in its ``procedure`` detail)."""
    row = conn.execute(f"{APPLICATION} WHERE a.number = %s", (application,)).fetchone()  # noqa: S608
    if row is None:
        raise Problem("applications.not_found", 404, number=application[:40])
    app_id, number, kind_id, *_, routed_to, received_at, status, _ = row
    kind = KINDS.get(kind_id)
    if status != "accepted" or kind is None or kind.procedure is None:
        return None
    state = procedures.start(kind.procedure, received_at, load_calendar(conn))
    conn.execute(
        "INSERT INTO procedure_runs (application_id, number, procedure, authority, state, step, stage, role, "
        "due_at, status, outcome, started_at) VALUES (%(app)s, %(number)s, %(procedure)s, %(authority)s, "
        "%(state)s, %(step)s, %(stage)s, %(role)s, %(due_at)s, %(status)s, %(outcome)s, %(started)s)",
        {"app": app_id, "number": number, "procedure": state.procedure, "authority": routed_to,
         "state": Jsonb(state.to_json()), "started": received_at, **_columns(state)})
    first = state.steps[0]
    if journaled:
        journal(conn, actor, "procedure.start", "ok", object=f"application:{number}", client=client,
                    detail={"procedure": state.procedure, "version": state.version, "stage": first.stage,
                        "due_at": rfc3339(first.due) if first.due else None})
    return state


# --- deciding ---------------------------------------------------------------------------------------

def decision_payload(number: str, stage: str, action: str, reason: str | None) -> dict[str, Any]:
    """The object an officer signs (its RFC 8785 JSON, as a detached CMS)."""
    return {"application": number, "stage": stage, "action": action, "reason": reason}


def canonical_decision(number: str, stage: str, action: str, reason: str | None) -> bytes:
    return rfc8785.dumps(decision_payload(number, stage, action, reason))


RUN = ("SELECT r.id, r.state, a.id, a.number, a.kind, r.authority, a.account_id FROM procedure_runs r "
       "JOIN applications a ON a.id = r.application_id WHERE r.number = %s")
RUN_LOCKED = RUN + " FOR UPDATE OF r"


@dataclass
class _Run:
    id: int
    state: procedures.State
    app_id: int
    number: str
    kind: str
    authority: str | None
    account_id: int


def _run(conn: psycopg.Connection, number: str, *, lock: bool = False) -> _Run | None:
    row = conn.execute(RUN_LOCKED if lock else RUN, (number[:40],)).fetchone()
    if row is None:
        return None
    return _Run(row[0], procedures.State.from_json(row[1]), row[2], row[3], row[4], row[5], row[6])


def _acting_role(caller: Person, run: _Run) -> str | None:
    """The role the caller acts in on this run, or None when it is none of theirs (not found)."""
    current = run.state.current
    if current is not None and current.role == "commission" and "commission" in caller.roles:
        return "commission"
    if "officer" in caller.roles and run.authority is not None and run.authority in caller.authorities:
        return "officer"
    # The owner acts only at their own (revision) stage; at an officer's stage the run is not theirs
    # to act on, so it is not found, as for anyone else.
    if current is not None and current.role == "applicant" and caller.account_id == run.account_id:
        return "applicant"
    return None


def _text(value: Any, name: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or len(value) > (MAX_REASON if optional else 80):
        raise Problem("workbench.bad_decision", 422, field=name)
    return value


def parse_decision(body: Any) -> tuple[str, str, str | None]:
    """``{"stage", "action", "reason"}`` (reason: a text, or null where none is needed)."""
    if not isinstance(body, dict) or set(body) - {"stage", "action", "reason"}:
        raise Problem("workbench.bad_decision", 422, field="decision")
    stage, action = _text(body.get("stage"), "stage"), _text(body.get("action"), "action")
    assert stage is not None and action is not None
    return stage, action, _text(body.get("reason"), "reason", optional=True)


def verify_signed(signature: bytes, data: bytes, *, caller: Person, trust: TrustStore,
                  revocation: RevocationSource, now: dt.datetime) -> tuple[Any, Any]:
    """A detached CMS over ``data`` that verifies (SIGNATURE purpose) and is the caller's own:
    the verification result and the caller's signer; else a Problem."""
    result = verify_cms(signature, data, trust=trust, revocation=revocation, now=now, purpose="signature")
    if result.content is not None and result.content != data:
        raise Problem("workbench.signature_invalid", 422, problems="eds.content_mismatch")
    if not result.valid:
        problems = (sorted({p["code"] for s in result.signers for p in s.problems})
                    or sorted({c for s in result.signers for c in CHECKS if s.checks[c]["result"] != "ok"})
                    or ["no signer"])
        raise Problem("workbench.signature_invalid", 422, problems=", ".join(problems))
    signer = next((s for s in result.signers if s.iin == caller.iin), None)
    if signer is None:
        raise Problem("workbench.signer_not_caller", 422, signer=(result.signers[0].iin if result.signers else None)
                      or "-", caller=caller.iin)
    return result, signer


def decide(conn: psycopg.Connection, number: str, stage: str, action: str, reason: str | None,
           signature: bytes, *, caller: Person, trust: TrustStore, revocation: RevocationSource,
           now: dt.datetime, client: str | None = None) -> procedures.State:
    """The caller's signed decision at the current stage of the application's run, in the
    caller's transaction: the new state. A refusal is a Problem (the caller journals it after
    rolling back: see ``refuse_journal``). A commission stage is not decided by one person:
    its members vote and the vote's closing decides (cadastre/commission.py)."""
    run = _run(conn, number, lock=True)
    role = _acting_role(caller, run) if run is not None else None
    if run is None or role is None:
        raise Problem("workbench.not_found", 404, number=number[:40])
    current = run.state.current
    if current is not None and stage == current.stage and role == current.role:
        definition = procedures.procedure(run.state.procedure).stage(stage)
        if definition.commission is not None:
            raise Problem("workbench.commission_votes", 409, number=run.number, stage=stage)
    data = canonical_decision(run.number, stage, action, reason)
    result, signer = verify_signed(signature, data, caller=caller, trust=trust, revocation=revocation, now=now)
    before = run.state
    state = procedures.act(before, stage, role, action, reason, at=now, calendar=load_calendar(conn))
    return record_decision(conn, run, before, state, stage, role, action, caller=caller, canonical=data,
                           signature=signature, result=result, signer_iin=signer.iin, now=now, client=client)


def record_decision(conn: psycopg.Connection, run: _Run, before: procedures.State, state: procedures.State,
                    stage: str, role: str, action: str, *, caller: Person, canonical: bytes, signature: bytes,
                    result: Any, signer_iin: str, now: dt.datetime, client: str | None,
                    tally: dict[str, Any] | None = None) -> procedures.State:
    """Store a decision ``procedures.act`` made (``before`` → ``state``): the signed decision
    row, the run's new state, notifications, the outcome when the run finishes, the journal."""
    step = len(before.steps) - 1
    finished = state.status == "finished"
    if finished and state.outcome == "granted":
        contested = _contested(conn, run.app_id)
        if contested:
            # Blocks another applicant of the same window wants go to auction (a lot), not to
            # whoever is approved first.
            raise Problem("workbench.blocks_contested", 409, number=run.number, blocks=", ".join(contested[:20]))
    conn.execute(
        "INSERT INTO procedure_decisions (run_id, step, stage, role, action, reason, actor, actor_iin, account_id, "
        "at, canonical, signature, signature_valid, verification, tally) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, "
        "%s, %s, %s, %s, %s, %s, %s)",
        (run.id, step, stage, role, action, state.steps[step].reason, caller.actor, caller.iin, caller.account_id,
         now, canonical.decode(), signature, result.valid, Jsonb(result.as_dict()),
         Jsonb(tally) if tally is not None else None))
    conn.execute(
        "UPDATE procedure_runs SET state = %(state)s, step = %(step)s, stage = %(stage)s, role = %(role)s, "
        "due_at = %(due_at)s, status = %(status)s, outcome = %(outcome)s, updated_at = clock_timestamp() "
        "WHERE id = %(id)s", {"id": run.id, "state": Jsonb(state.to_json()), **_columns(state)})
    reason_text = state.steps[step].reason
    if action == "return":
        notify(conn, run.account_id, "notice.run_returned", number=run.number, stage=stage, reason=reason_text or "")
    if role == "applicant" and state.current is not None:
        for account_id in _officers(conn, run.authority):
            notify(conn, account_id, "notice.run_resubmitted", number=run.number, stage=state.current.stage)
    if finished:
        _finish(conn, run, state, caller, now)
    decided = Decided(run.app_id, run.number, run.kind, stage, role, action, reason_text, caller.actor, now,
                      finished, state.outcome if finished else None)
    for hook in list(ON_DECIDED):
        hook(conn, decided)
    detail = {"procedure": state.procedure, "step": step, "stage": stage, "role": role, "action": action,
              "reason": reason_text, "status": state.status, "outcome": state.outcome if finished else None,
              "next": state.current.stage if state.current else None, "signer": signer_iin}
    if tally is not None:
        detail["tally"] = tally
    journal(conn, caller.actor, "procedure.decide", "ok", object=f"application:{run.number}", client=client,
            detail=detail)
    return state


def _contested(conn: psycopg.Connection, app_id: int) -> list[str]:
    rows = conn.execute(
        "SELECT DISTINCT mine.code FROM application_claims mine JOIN application_claims other "
        "ON other.block_id = mine.block_id AND other.application_id <> mine.application_id "
        "AND other.state IN ('pending', 'granted') WHERE mine.application_id = %s AND mine.state = 'pending' "
        "ORDER BY mine.code", (app_id,)).fetchall()
    return [r[0] for r in rows]


def _finish(conn: psycopg.Connection, run: _Run, state: procedures.State, caller: Person, now: dt.datetime) -> None:
    if state.outcome == "granted":
        rows = conn.execute("UPDATE application_claims SET state = 'granted' WHERE application_id = %s "
                            "AND state = 'pending' RETURNING code, block_id", (run.app_id,)).fetchall()
        rows.sort(key=lambda r: r[1])
        notify(conn, run.account_id, "notice.run_granted", number=run.number, kind=run.kind)
        row = conn.execute(f"{APPLICATION} WHERE a.id = %s", (run.app_id,)).fetchone()  # noqa: S608
        assert row is not None
        app_id, number, kind, mineral, iin, bin_, account_id, routed_to, received_at, _, canonical_text = row
        granted = GrantedApplication(
            app_id, number, kind, mineral, iin, bin_, account_id, routed_to, received_at,
            _json(canonical_text), [r[0] for r in rows], [int(r[1]) for r in rows], now, caller.actor,
            state.procedure)
        for hook in list(ON_GRANTED):
            hook(conn, granted)
        claims_changed(conn)  # the blocks leave the map's applied-for layer after commit
        return
    conn.execute("UPDATE application_claims SET state = 'released' WHERE application_id = %s "
                 "AND state IN ('pending', 'granted')", (run.app_id,))
    refused_at = next((s for s in reversed(state.steps) if s.action == "refuse"), None)
    reason = Reason("reason.refused_in_procedure", {"stage": refused_at.stage if refused_at else "-",
                                                     "reason": state.reason or ""})
    conn.execute("UPDATE applications SET status = 'refused', reasons = reasons || %s WHERE id = %s",
                 (Jsonb([reason.stored()]), run.app_id))
    notify(conn, run.account_id, "notice.run_refused", number=run.number, kind=run.kind, reason=state.reason or "")
    claims_changed(conn)


def _json(text: str) -> dict[str, Any]:
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


# --- reading a run ----------------------------------------------------------------------------------

def _commission_procedures() -> list[str]:
    return sorted(p.id for p in procedures.procedures().values() if any(s.role == "commission" for s in p.stages))


def get_run(conn: psycopg.Connection, who: Person, number: str, *, lang: str, client: str | None = None
            ) -> dict[str, Any]:
    """The run of an application the caller may read (its applicant, officers of its authority,
    admins, auditors; commission members for procedures with a commission), with its signed
    decisions. Anything else is answered as not found."""
    where, args = _visible_sql(who)
    if "commission" in who.roles or _commission_stages(conn, who.iin):
        where = f"({where} OR r.procedure = ANY(%s))"
        args = [*args, _commission_procedures()]
    row = conn.execute(
        f"SELECT r.id, r.state, r.number, r.authority FROM procedure_runs r JOIN applications a "  # noqa: S608
        f"ON a.id = r.application_id WHERE r.number = %s AND {where}", [number[:40], *args]).fetchone()
    if row is None:
        journal(conn, who.actor, "procedure.read", "rejected", object=f"application:{number[:40]}", client=client,
                detail={"problem": "workbench.not_found"})
        raise Problem("workbench.not_found", 404, number=number[:40])
    return render_run(conn, row[0], procedures.State.from_json(row[1]), row[2], row[3], lang)


def render_run(conn: psycopg.Connection, run_id: int, state: procedures.State, number: str,
               authority: str | None, lang: str) -> dict[str, Any]:
    proc = procedures.procedure(state.procedure)

    def when(moment: dt.datetime | None) -> str | None:
        return rfc3339(moment) if moment else None

    decisions = conn.execute(
        "SELECT step, stage, role, action, reason, actor_iin, at, canonical, signature, signature_valid, tally "
        "FROM procedure_decisions WHERE run_id = %s ORDER BY step", (run_id,)).fetchall()
    current = state.current
    body: dict[str, Any] = {
        "number": number, "procedure": state.procedure, "procedure_name": proc.names.get(lang, proc.names["en"]),
        "version": state.version, "authority": authority, "status": state.status,
        "outcome": state.outcome if state.status == "finished" else None,
        "refusal": state.reason if state.outcome == "refused" else None,
        "stage": current.stage if current else None, "role": current.role if current else None,
        "due_at": when(current.due) if current else None,
        "started_at": when(state.started_at), "finished_at": when(state.finished_at),
        "steps": [{"stage": s.stage, "name": proc.stage(s.stage).names.get(lang, s.stage), "role": s.role,
                   "started_at": when(s.started_at), "due_at": when(s.due), "finished_at": when(s.finished_at),
                   "action": s.action, "reason": s.reason} for s in state.steps],
        "decisions": [{"step": d[0], "stage": d[1], "role": d[2], "action": d[3], "reason": d[4],
                       "signer_iin": d[5], "at": rfc3339(d[6]), "canonical": d[7],
                       "signature": base64.b64encode(bytes(d[8])).decode(), "signature_valid": d[9]}
                      for d in decisions],
    }
    for answer, d in zip(body["decisions"], decisions, strict=True):
        if d[10] is not None:
            answer["tally"] = d[10]
    if any(s.commission for s in proc.stages):
        votes = conn.execute(
            "SELECT step, stage, commission, member_iin, vote, reason, at, canonical, signature, signature_valid "
            "FROM commission_votes WHERE run_id = %s ORDER BY step, id", (run_id,)).fetchall()
        body["votes"] = [{"step": v[0], "stage": v[1], "commission": v[2], "member_iin": v[3], "vote": v[4],
                          "reason": v[5], "at": rfc3339(v[6]), "canonical": v[7],
                          "signature": base64.b64encode(bytes(v[8])).decode(), "signature_valid": v[9]}
                         for v in votes]
    return body


def run_answer(conn: psycopg.Connection, number: str, lang: str) -> dict[str, Any]:
    """The run as ``render_run`` shows it, by number (after a decision: its new state)."""
    run = _run(conn, number)
    if run is None:
        raise Problem("workbench.not_found", 404, number=number[:40])
    return render_run(conn, run.id, run.state, run.number, run.authority, lang)


# --- the queue and overdue stages -------------------------------------------------------------------

def _commission_stages(conn: psycopg.Connection, iin: str | None = None) -> list[str]:
    """``procedure/stage`` of every commission stage (of the commissions ``iin`` sits on)."""
    seated = None if iin is None else {r[0] for r in conn.execute(
        "SELECT commission FROM commission_members WHERE iin = %s", (iin,))}
    return sorted(f"{p.id}/{s.id}" for p in procedures.procedures().values() for s in p.stages
                  if s.commission is not None and (seated is None or s.commission in seated))


def _waiting_sql(conn: psycopg.Connection, who: Person) -> tuple[str, list[Any]]:
    """The runs waiting for the caller, as SQL over ``procedure_runs r``: their authorities'
    officer stages; the commission stages of the commissions they sit on (commission_members)."""
    clauses, args = [], []
    if "officer" in who.roles and who.authorities:
        clauses.append("(r.role = 'officer' AND r.authority = ANY(%s))")
        args.append(sorted(who.authorities))
    stages = _commission_stages(conn, who.iin)
    if stages:
        clauses.append("(r.role = 'commission' AND r.procedure || '/' || r.stage = ANY(%s))")
        args.append(stages)
    return ("(" + " OR ".join(clauses) + ")" if clauses else "false"), args


def queue(conn: psycopg.Connection, caller: Person, now: dt.datetime, *, lang: str = "en",
          limit: int = 500) -> list[dict[str, Any]]:
    """The applications waiting for the caller's decision with their current stage and the time
    left, the least time left first (overdue ones first of all, flagged); stages without a
    deadline last. Overdue stages are notified first (once each)."""
    notify_overdue(conn, now)
    where, args = _waiting_sql(conn, caller)
    rows = conn.execute(
        "SELECT r.number, r.state, a.kind, a.received_at, a.applicant_iin, a.applicant_bin, a.block_count, "  # noqa: S608
        f"r.authority FROM procedure_runs r JOIN applications a ON a.id = r.application_id "
        f"WHERE r.status = 'running' AND {where} ORDER BY r.due_at NULLS LAST, r.id LIMIT %s",
        [*args, limit]).fetchall()
    extra = {r[0]: r for r in rows}
    states = {r[0]: procedures.State.from_json(r[1]) for r in rows}
    numbers = {id(s): n for n, s in states.items()}
    out = []
    for waiting in procedures.by_time_left(states.values(), now):
        number = numbers[id(waiting.state)]
        _, _, kind, received_at, iin, bin_, blocks, authority = extra[number]
        proc = procedures.procedure(waiting.state.procedure)
        out.append({
            "number": number, "kind": kind, "received_at": rfc3339(received_at),
            "applicant": {"iin": iin} if iin else {"bin": bin_}, "block_count": blocks, "authority": authority,
            "procedure": waiting.state.procedure, "stage": waiting.step.stage,
            "stage_name": proc.stage(waiting.step.stage).names.get(lang, waiting.step.stage),
            "role": waiting.step.role, "due_at": rfc3339(waiting.step.due) if waiting.step.due else None,
            "seconds_left": int(waiting.left.total_seconds()) if waiting.left is not None else None,
            "overdue": waiting.overdue,
            "actions": list(proc.stage(waiting.step.stage).actions)})
    return out


def _officers(conn: psycopg.Connection, authority: str | None) -> list[int]:
    """The accounts of the officers of an authority (personal accounts, not a company's)."""
    rows = conn.execute(
        "SELECT DISTINCT a.id FROM accounts a JOIN role_grants g ON g.iin = a.iin AND g.role = 'officer' "
        "AND g.authority = %s WHERE a.bin IS NULL ORDER BY a.id", (authority,)).fetchall()
    return [int(r[0]) for r in rows]


def notify_overdue(conn: psycopg.Connection, now: dt.datetime) -> int:
    """Notify each running stage past its deadline once, to the officers of the run's authority
    (commission stages: the commission's members); journaled. The number of stages notified.
    Safe when several servers run it at once: the (run, step) row is taken by one of them."""
    due = conn.execute(
        "SELECT r.id, r.step, r.stage, r.role, r.due_at, r.number, r.authority, r.procedure FROM procedure_runs r "
        "WHERE r.status = 'running' AND r.due_at < %s AND NOT EXISTS (SELECT 1 FROM procedure_overdue o "
        "WHERE o.run_id = r.id AND o.step = r.step) ORDER BY r.due_at LIMIT 1000", (now,)).fetchall()
    count = 0
    for run_id, step, stage, role, due_at, number, authority, procedure in due:
        if role == "commission":
            # The members of the stage's commission (commission_members), who vote there.
            commission = procedures.procedure(procedure).stage(stage).commission
            recipients = [a for (a,) in conn.execute(
                "SELECT DISTINCT a.id FROM accounts a JOIN commission_members m ON m.iin = a.iin "
                "AND m.commission = %s WHERE a.bin IS NULL ORDER BY a.id", (commission,)).fetchall()]
        else:
            recipients = _officers(conn, authority)
        taken = conn.execute(
            "INSERT INTO procedure_overdue (run_id, step, stage, due_at, notified) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT DO NOTHING RETURNING run_id", (run_id, step, stage, due_at, len(recipients))).fetchone()
        if taken is None:
            continue  # another server notified it
        for account_id in recipients:
            notify(conn, account_id, "notice.stage_overdue", number=number, stage=stage, due_at=rfc3339(due_at))
        journal(conn, "system", "procedure.overdue", "ok", object=f"application:{number}",
                detail={"stage": stage, "step": step, "due_at": rfc3339(due_at), "authority": authority,
                        "notified": len(recipients)})
        count += 1
    return count


__all__ = ["ON_DECIDED", "ON_GRANTED", "Decided", "GrantedApplication", "canonical_decision", "decide",
           "decision_payload", "get_run", "notify_overdue", "on_decided", "on_granted", "parse_decision", "queue",
           "run_answer", "start_run"]

"""A procedure's commission (seed 004 lines 219-240): its roster as data and its members' signed
votes, counted by ``procedures.commission_decision`` (issue 9).

* **Roster.** A commission stage in ``cadastre/procedures.toml`` names its commission; who sits
  on it, and in which seat (``chair``, ``deputy_chair``, ``member``), is the table
  ``commission_members`` (migration 0017), maintained by the operator (``add_member``,
  ``remove_member``; ``geoservice commission ...``) and journaled.
* **Votes.** At the run's current commission stage each member casts one vote, ``approve`` or
  ``refuse`` (with an optional reason), signed like every decision: a detached CMS over the
  RFC 8785 JSON of ``{"application", "stage", "vote", "reason"}``. Only members vote, once each
  (a unique key, and the run row is locked while a vote is counted).
* **Closing.** The chair, or the deputy chair, closes the vote with a signed
  ``{"application", "stage", "action": "close", "reason"}``. ``commission_decision`` counts the
  votes over the roster as it is then: without a quorum (fewer than half of the members voted)
  nothing is decided and the stage stays open; otherwise the majority of those present decides,
  a tie by the chair's vote (in the chair's absence the deputy chair chairs, seed 004:222-223).
  The outcome is the stage's action (approve, or refuse: then the closing must give the reason
  the applicant reads), recorded with the tally through ``workbench.record_decision``.
* **Everyone voted.** When the last member votes the count decides at once, without the chair's
  closing (the decision row carries that last signed vote); a refusal then takes the refusing
  members' reasons, and waits for the chair's closing when none gave one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg
import rfc8785
from psycopg.types.json import Jsonb

from cadastre import procedures, workbench
from cadastre.accounts import check_iin
from cadastre.calendar import load_calendar
from cadastre.eds.revocation import RevocationSource
from cadastre.eds.trust import TrustStore
from geoservice.kernel.errors import Problem
from layers.access import Person
from layers.store import journal

SEATS = ("chair", "deputy_chair", "member")
VOTES = ("approve", "refuse")
CLOSE = "close"


# --- the roster -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Roster:
    commission: str
    seats: dict[str, str]  # IIN -> seat

    @property
    def members(self) -> list[str]:
        return sorted(self.seats)

    def seated(self, seat: str) -> str | None:
        return next((iin for iin, s in self.seats.items() if s == seat), None)


def declared() -> list[str]:
    """The commissions the procedures name."""
    return sorted({s.commission for p in procedures.procedures().values() for s in p.stages if s.commission})


def _commission(name: str) -> str:
    if name not in declared():
        raise Problem("commission.unknown", 404, commission=name[:64], known=", ".join(declared()))
    return name


def roster(conn: psycopg.Connection, commission: str) -> Roster:
    rows = conn.execute("SELECT iin, seat FROM commission_members WHERE commission = %s ORDER BY iin",
                        (commission,)).fetchall()
    return Roster(commission, {r[0]: r[1] for r in rows})


def add_member(conn: psycopg.Connection, commission: str, iin: str, seat: str = "member", *,
               actor: str = "cli", client: str | None = "cli") -> bool:
    """Seat a person on a commission (or move them to another seat); False when they already sat
    there. A chair or deputy chair seat already taken by someone else is refused. Journaled."""
    commission, iin = _commission(commission), check_iin(iin)
    if seat not in SEATS:
        raise Problem("commission.bad_seat", 400, seat=seat[:40], known=", ".join(SEATS))
    holder = roster(conn, commission).seated(seat) if seat != "member" else None
    if holder is not None and holder != iin:
        raise Problem("commission.seat_taken", 409, commission=commission, seat=seat, iin=holder)
    row = conn.execute(
        "INSERT INTO commission_members (commission, iin, seat, added_by) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (commission, iin) DO UPDATE SET seat = EXCLUDED.seat, added_at = clock_timestamp(), "
        "added_by = EXCLUDED.added_by WHERE commission_members.seat <> EXCLUDED.seat RETURNING iin",
        (commission, iin, seat, actor)).fetchone()
    journal(conn, actor, "commissions.add", "ok" if row else "unchanged", object=f"commission:{commission}",
            client=client, detail={"iin": iin, "seat": seat})
    return row is not None


def remove_member(conn: psycopg.Connection, commission: str, iin: str, *, actor: str = "cli",
                  client: str | None = "cli") -> bool:
    commission, iin = _commission(commission), check_iin(iin)
    row = conn.execute("DELETE FROM commission_members WHERE commission = %s AND iin = %s RETURNING seat",
                       (commission, iin)).fetchone()
    journal(conn, actor, "commissions.remove", "ok" if row else "unchanged", object=f"commission:{commission}",
            client=client, detail={"iin": iin, "seat": row[0] if row else None})
    return row is not None


def roster_answer(conn: psycopg.Connection, body: dict[str, Any]) -> dict[str, Any]:
    """Add to a run's answer (``workbench.render_run``), when its current stage is a commission
    stage, who sits on that commission now: ``commission: {name, stage, members: [{iin, seat,
    name}]}``, the chair first, so the workbench can show who has voted and who not yet."""
    stage = body.get("stage")
    if body.get("status") != "running" or not stage:
        return body
    name = procedures.procedure(body["procedure"]).stage(stage).commission
    if name is None:
        return body
    rows = conn.execute(
        "SELECT m.iin, m.seat, (SELECT a.name FROM accounts a WHERE a.iin = m.iin AND a.bin IS NULL LIMIT 1) "
        "FROM commission_members m WHERE m.commission = %s "
        "ORDER BY array_position(%s::text[], m.seat), m.iin", (name, list(SEATS))).fetchall()
    body["commission"] = {"name": name, "stage": stage,
                          "members": [{"iin": r[0], "seat": r[1], "name": r[2]} for r in rows]}
    return body


# --- what is signed ---------------------------------------------------------------------------------

def vote_payload(number: str, stage: str, vote: str, reason: str | None) -> dict[str, Any]:
    """The object a member signs (its RFC 8785 JSON, as a detached CMS)."""
    return {"application": number, "stage": stage, "vote": vote, "reason": reason}


def canonical_vote(number: str, stage: str, vote: str, reason: str | None) -> bytes:
    return rfc8785.dumps(vote_payload(number, stage, vote, reason))


def canonical_close(number: str, stage: str, reason: str | None) -> bytes:
    """What the chair signs to close the vote (the outcome is counted, not chosen)."""
    return rfc8785.dumps({"application": number, "stage": stage, "action": CLOSE, "reason": reason})


def _reason(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > workbench.MAX_REASON:
        raise Problem("commission.bad_vote", 422, field="reason")
    return value.strip() or None


def parse_vote(body: Any) -> tuple[str, str, str | None]:
    """``{"stage", "vote": "approve" | "refuse", "reason"}``."""
    if not isinstance(body, dict) or set(body) - {"stage", "vote", "reason"}:
        raise Problem("commission.bad_vote", 422, field="vote")
    stage, vote = body.get("stage"), body.get("vote")
    if not isinstance(stage, str) or not stage or len(stage) > 80:
        raise Problem("commission.bad_vote", 422, field="stage")
    if vote not in VOTES:
        raise Problem("commission.bad_vote", 422, field="vote")
    return stage, vote, _reason(body.get("reason"))


def parse_close(body: Any) -> tuple[str, str | None]:
    """``{"stage", "reason"}`` (the reason: required when the count refuses)."""
    if not isinstance(body, dict) or set(body) - {"stage", "reason"}:
        raise Problem("commission.bad_vote", 422, field="close")
    stage = body.get("stage")
    if not isinstance(stage, str) or not stage or len(stage) > 80:
        raise Problem("commission.bad_vote", 422, field="stage")
    return stage, _reason(body.get("reason"))


# --- voting and closing -----------------------------------------------------------------------------

def _open_stage(conn: psycopg.Connection, number: str, stage: str) -> tuple[workbench._Run, procedures.Stage]:
    """The run (locked) whose current stage is ``stage``, a commission stage."""
    run = workbench._run(conn, number, lock=True)
    if run is None:
        raise Problem("workbench.not_found", 404, number=number[:40])
    current = run.state.current
    if current is None:
        raise Problem("procedures.finished", 409, procedure=run.state.procedure)
    if stage != current.stage:
        raise Problem("procedures.not_current", 409, stage=stage, current=current.stage)
    definition = procedures.procedure(run.state.procedure).stage(stage)
    if definition.commission is None:
        raise Problem("commission.not_a_vote", 409, stage=stage)
    return run, definition


def _votes(conn: psycopg.Connection, run_id: int, step: int) -> dict[str, bool]:
    rows = conn.execute("SELECT member_iin, vote FROM commission_votes WHERE run_id = %s AND step = %s",
                        (run_id, step)).fetchall()
    return {r[0]: r[1] == "approve" for r in rows}


def cast_vote(conn: psycopg.Connection, number: str, stage: str, vote: str, reason: str | None,
              signature: bytes, *, caller: Person, trust: TrustStore, revocation: RevocationSource,
              now: dt.datetime, client: str | None = None) -> dict[str, Any]:
    """A member's signed vote at the run's current commission stage, in the caller's transaction:
    the vote's count so far. Refused (a Problem) for a non-member, a second vote, a stage that
    is not the current commission stage, or a signature that is not the caller's over the vote."""
    run, definition = _open_stage(conn, number, stage)
    assert definition.commission is not None
    seats = roster(conn, definition.commission)
    if caller.iin not in seats.seats:
        raise Problem("commission.not_a_member", 403, commission=definition.commission)
    step = len(run.state.steps) - 1
    if caller.iin in _votes(conn, run.id, step):
        raise Problem("commission.already_voted", 409, number=run.number, stage=stage)
    data = canonical_vote(run.number, stage, vote, reason)
    result, signer = workbench.verify_signed(signature, data, caller=caller, trust=trust, revocation=revocation,
                                             now=now)
    taken = conn.execute(
        "INSERT INTO commission_votes (run_id, step, stage, commission, member_iin, vote, reason, actor, account_id, "
        "at, canonical, signature, signature_valid, verification) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
        "%s, %s, %s, %s) ON CONFLICT (run_id, step, member_iin) DO NOTHING RETURNING id",
        (run.id, step, stage, definition.commission, caller.iin, vote, reason, caller.actor, caller.account_id, now,
         data.decode(), signature, result.valid, Jsonb(result.as_dict()))).fetchone()
    if taken is None:
        raise Problem("commission.already_voted", 409, number=run.number, stage=stage)
    journal(conn, caller.actor, "procedure.vote", "ok", object=f"application:{run.number}", client=client,
            detail={"commission": definition.commission, "stage": stage, "step": step, "vote": vote,
                    "reason": reason, "signer": signer.iin})
    votes = {iin: v for iin, v in _votes(conn, run.id, step).items() if iin in seats.seats}
    if set(votes) == set(seats.seats):
        _all_voted(conn, run, definition, seats, votes, step, caller=caller, canonical=data, signature=signature,
                   result=result, signer_iin=signer.iin, now=now, client=client)
    return {"number": run.number, "stage": stage, "commission": definition.commission,
            "members": len(seats.seats), "voted": len(votes)}


def _all_voted(conn: psycopg.Connection, run: workbench._Run, definition: procedures.Stage, seats: Roster,
               votes: dict[str, bool], step: int, *, caller: Person, canonical: bytes, signature: bytes,
               result: Any, signer_iin: str, now: dt.datetime, client: str | None) -> None:
    """Every member has voted: the count decides without waiting for the chair. The decision's
    signature is the vote that completed it. A refusal needs a reason the applicant reads: the
    refusing members' reasons; when none gave one, the chair closes the vote with it."""
    decision, _, record = tally(seats, votes)
    reason = None
    if decision.outcome == "refuse":
        rows = conn.execute("SELECT DISTINCT reason FROM commission_votes WHERE run_id = %s AND step = %s "
                            "AND vote = 'refuse' AND reason IS NOT NULL ORDER BY reason", (run.id, step)).fetchall()
        reason = "; ".join(r[0] for r in rows)[:workbench.MAX_REASON] or None
        if reason is None:
            return
    before = run.state
    assert decision.outcome is not None  # everyone present: a quorum
    state = procedures.act(before, definition.id, definition.role, decision.outcome, reason, at=now,
                           calendar=load_calendar(conn), tally=record)
    workbench.record_decision(conn, run, before, state, definition.id, definition.role, decision.outcome,
                              caller=caller, canonical=canonical, signature=signature, result=result,
                              signer_iin=signer_iin, now=now, client=client, tally=record)


def tally(seats: Roster, votes: dict[str, bool]) -> tuple[procedures.Decision, str | None, dict[str, Any]]:
    """Count the votes: the decision, who chaired, and the tally as stored with the stage."""
    chair, deputy = seats.seated("chair"), seats.seated("deputy_chair")
    # The deputy chairs when the chair is absent (has not voted) and the deputy is present.
    chairing = deputy if (chair not in votes and deputy in votes) else chair
    if chairing is None:
        raise Problem("commission.no_chair", 409, commission=seats.commission)
    decision = procedures.commission_decision(seats.members, votes, chairing)
    record = {"commission": seats.commission, "members": seats.members, "chair": chair, "deputy_chair": deputy,
              "chairing": chairing, "votes": {iin: ("approve" if v else "refuse") for iin, v in sorted(votes.items())},
              "present": decision.present, "quorum": decision.quorum, "for": decision.votes_for,
              "against": decision.votes_against, "outcome": decision.outcome,
              "tie_broken_by_chair": decision.tie_broken_by_chair}
    return decision, chairing, record


def close_vote(conn: psycopg.Connection, number: str, stage: str, reason: str | None, signature: bytes, *,
               caller: Person, trust: TrustStore, revocation: RevocationSource, now: dt.datetime,
               client: str | None = None) -> procedures.State:
    """The chair (or deputy chair) closes the vote at the run's current commission stage: the
    votes are counted and the outcome becomes the stage's decision, with the tally. Without a
    quorum nothing changes (``commission.no_quorum``); the members may still vote."""
    run, definition = _open_stage(conn, number, stage)
    assert definition.commission is not None
    seats = roster(conn, definition.commission)
    if caller.iin not in {seats.seated("chair"), seats.seated("deputy_chair")} - {None}:
        raise Problem("commission.not_the_chair", 403, commission=definition.commission)
    data = canonical_close(run.number, stage, reason)
    result, signer = workbench.verify_signed(signature, data, caller=caller, trust=trust, revocation=revocation,
                                             now=now)
    step = len(run.state.steps) - 1
    # A member taken off the roster since voting is not counted.
    votes = {iin: v for iin, v in _votes(conn, run.id, step).items() if iin in seats.seats}
    decision, _, record = tally(seats, votes)
    if decision.outcome is None:
        raise Problem("commission.no_quorum", 409, present=decision.present, members=decision.members)
    if decision.outcome == "refuse" and reason is None:
        raise Problem("procedures.reason_required", 422, action="refuse")
    before = run.state
    state = procedures.act(before, stage, definition.role, decision.outcome, reason, at=now,
                           calendar=load_calendar(conn), tally=record)
    return workbench.record_decision(conn, run, before, state, stage, definition.role, decision.outcome,
                                     caller=caller, canonical=data, signature=signature, result=result,
                                     signer_iin=signer.iin, now=now, client=client, tally=record)


__all__ = ["SEATS", "Roster", "add_member", "canonical_close", "canonical_vote", "cast_vote", "close_vote",
           "declared", "parse_close", "parse_vote", "remove_member", "roster", "roster_answer", "tally",
           "vote_payload"]

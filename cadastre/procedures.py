"""Procedures as data and a pure engine over them (issue 9, seeds 003 and 004).

The definitions are ``cadastre/procedures.toml`` (each deadline's seed line is cited there). An
instance is a ``State``: plain values, ``to_json``/``from_json`` for whoever stores it (the
applications keep it in their own table). ``start`` and ``act`` compute every stage's due time
with a ``cadastre.calendar.Calendar``; ``overdue`` and ``by_time_left`` serve the workbench.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from cadastre.calendar import UNITS, Calendar, add_deadline
from geoservice.kernel.errors import Problem

DECLARATIONS = Path(__file__).with_suffix(".toml")  # cadastre/procedures.toml
ACTIONS = ("accept", "return", "refuse", "forward", "approve", "sign")
NEEDS_REASON = frozenset({"return", "refuse"})
STAGE_ROLES = ("applicant", "officer", "commission", "admin")  # layers/access.py ROLES that act
REVISION = "revision"


@dataclass(frozen=True)
class Deadline:
    amount: int
    unit: str

    def text(self) -> str:
        return f"{self.amount} {self.unit.replace('_', ' ')}"


@dataclass(frozen=True)
class Stage:
    id: str
    names: Mapping[str, str]
    role: str
    position: str
    deadline: Deadline | None
    actions: tuple[str, ...]
    no_deadline: str | None = None  # why the seed gives none
    return_deadline: Deadline | None = None  # seed 004: accept within 10, return within 5 days
    commission: str | None = None  # a commission stage: whose members vote (commission_members)


@dataclass(frozen=True)
class Procedure:
    id: str
    names: Mapping[str, str]
    source: str
    stages: tuple[Stage, ...]
    revision: Stage
    version: str

    def stage(self, stage_id: str) -> Stage:
        if stage_id == REVISION:
            return self.revision
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise Problem("procedures.unknown_stage", 404, procedure=self.id, stage=stage_id)

    def after(self, stage_id: str) -> Stage | None:
        ids = [s.id for s in self.stages]
        i = ids.index(stage_id)
        return self.stages[i + 1] if i + 1 < len(self.stages) else None


def _deadline(raw: Mapping[str, Any], prefix: str = "") -> Deadline | None:
    amount, unit = raw.get(f"{prefix}amount"), raw.get(f"{prefix}unit")
    if amount is None and unit is None:
        return None
    if not isinstance(amount, int) or amount < 0 or unit not in UNITS:
        raise ValueError(f"bad deadline {amount!r} {unit!r}")
    return Deadline(amount, unit)


def parse(text: str) -> dict[str, Procedure]:
    """The declarations, checked: every stage has a role that may act, a deadline or the reason
    it has none, known actions; a procedure that returns has a revision stage."""
    data = tomllib.loads(text)
    names = data["names"]
    version = str(data["version"])
    procedures: dict[str, Procedure] = {}
    for raw in data["procedure"]:
        stages = []
        for s in raw["stages"]:
            deadline = _deadline(s)
            if s["role"] not in STAGE_ROLES or s["role"] == "applicant":
                raise ValueError(f"{raw['id']}.{s['id']}: role {s['role']!r}")
            if deadline is None and not s.get("no_deadline"):
                raise ValueError(f"{raw['id']}.{s['id']}: a deadline or no_deadline")
            if not s["actions"] or set(s["actions"]) - set(ACTIONS):
                raise ValueError(f"{raw['id']}.{s['id']}: actions {s['actions']!r}")
            # A commission stage names its commission; its outcome is the members' vote
            # (commission_decision), which can only approve or refuse.
            commission = s.get("commission")
            if (s["role"] == "commission") != isinstance(commission, str) or (
                    commission is not None and set(s["actions"]) != {"approve", "refuse"}):
                raise ValueError(f"{raw['id']}.{s['id']}: a commission stage names its commission and "
                                 "allows approve and refuse")
            stages.append(Stage(s["id"], names[s["name"]], s["role"], s["position"], deadline,
                                tuple(s["actions"]), s.get("no_deadline"), _deadline(s, "return_"), commission))
        if len({s.id for s in stages}) != len(stages) or REVISION in {s.id for s in stages}:
            raise ValueError(f"{raw['id']}: stage ids must be unique and not {REVISION!r}")
        r = raw["revision"]
        revision = Stage(REVISION, names["revision"], "applicant", "applicant", _deadline(r), ("forward",),
                         r.get("no_deadline"))
        if revision.deadline is None and not revision.no_deadline:
            raise ValueError(f"{raw['id']}: the revision needs a deadline or no_deadline")
        procedures[raw["id"]] = Procedure(raw["id"], {k: raw[k] for k in ("kk", "ru", "en")}, raw["source"],
                                          tuple(stages), revision, version)
    return procedures


@cache
def procedures() -> dict[str, Procedure]:
    """Every declared procedure, read once."""
    return parse(DECLARATIONS.read_text(encoding="utf-8"))


def procedure(procedure_id: str) -> Procedure:
    try:
        return procedures()[procedure_id]
    except KeyError:
        raise Problem("procedures.unknown", 404, procedure=procedure_id,
                      known=", ".join(procedures())) from None


# --- instances -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One stage of one instance: when it began, when it is due, how it ended."""
    stage: str
    role: str
    started_at: dt.datetime
    due: dt.datetime | None
    return_due: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    action: str | None = None
    reason: str | None = None
    tally: dict[str, Any] | None = None  # a commission stage: how its members voted


@dataclass(frozen=True)
class State:
    procedure: str
    version: str
    started_at: dt.datetime
    status: str  # running | returned | finished
    steps: tuple[Step, ...]
    outcome: str | None = None  # granted | refused, once decided
    reason: str | None = None  # the refusal's
    returned_from: str | None = None  # the stage a revision goes back to
    finished_at: dt.datetime | None = None

    @property
    def current(self) -> Step | None:
        return None if self.status == "finished" else self.steps[-1]

    def to_json(self) -> dict[str, Any]:
        def enc(v: Any) -> Any:
            return v.isoformat() if isinstance(v, dt.datetime) else v
        body = {k: enc(getattr(self, k)) for k in ("procedure", "version", "started_at", "status", "outcome",
                                                     "reason", "returned_from", "finished_at")}
        # A step keeps the stored shape it always had unless it carries a commission's tally.
        body["steps"] = [{k: enc(v) for k, v in step.__dict__.items() if k != "tally" or v is not None}
                         for step in self.steps]
        return body

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> State:
        def dec(v: Any) -> Any:
            return dt.datetime.fromisoformat(v) if isinstance(v, str) else v
        times = {"started_at", "due", "return_due", "finished_at"}
        steps = tuple(Step(**{k: dec(v) if k in times else v for k, v in s.items()}) for s in body["steps"])
        return cls(body["procedure"], body["version"], dec(body["started_at"]), body["status"], steps,
                   body.get("outcome"), body.get("reason"), body.get("returned_from"),
                   dec(body.get("finished_at")))


def _begin(stage: Stage, at: dt.datetime, calendar: Calendar) -> Step:
    due = add_deadline(at, stage.deadline.amount, stage.deadline.unit, calendar) if stage.deadline else None
    back = (add_deadline(at, stage.return_deadline.amount, stage.return_deadline.unit, calendar)
            if stage.return_deadline else None)
    return Step(stage.id, stage.role, at, due, back)


def start(proc: Procedure | str, at: dt.datetime, calendar: Calendar) -> State:
    """A new instance at its first stage, begun at ``at`` (the receipt time)."""
    p = procedure(proc) if isinstance(proc, str) else proc
    return State(p.id, p.version, at, "running", (_begin(p.stages[0], at, calendar),))


def act(state: State, stage: str, role: str, action: str, reason: str | None = None, *,
        at: dt.datetime, calendar: Calendar, tally: Mapping[str, Any] | None = None) -> State:
    """``role`` does ``action`` at ``stage`` (which must be the current one) at ``at``: the next
    state. Refused with a problem when the instance is finished, the stage is not current, the
    role may not act there, the action is not allowed there, or a return/refusal has no reason."""
    p = procedure(state.procedure)
    current = state.current
    if current is None:
        raise Problem("procedures.finished", 409, procedure=p.id)
    if stage != current.stage:
        raise Problem("procedures.not_current", 409, stage=stage, current=current.stage)
    definition = p.stage(stage)
    if role != definition.role:
        raise Problem("procedures.role_not_allowed", 403, role=role, stage=stage, allowed=definition.role)
    if action not in definition.actions:
        raise Problem("procedures.action_not_allowed", 422, action=action, stage=stage,
                      allowed=", ".join(definition.actions))
    reason = (reason or "").strip() or None
    if action in NEEDS_REASON and reason is None:
        raise Problem("procedures.reason_required", 422, action=action)
    done = replace(current, finished_at=at, action=action, reason=reason,
                   tally=dict(tally) if tally is not None else None)
    steps = (*state.steps[:-1], done)
    if action == "return":
        return replace(state, status="returned", returned_from=stage,
                       steps=(*steps, _begin(p.revision, at, calendar)))
    if stage == REVISION:  # the applicant sends it back where it was returned from
        back = p.stage(state.returned_from or p.stages[0].id)
        return replace(state, status="running", returned_from=None, steps=(*steps, _begin(back, at, calendar)))
    if action == "refuse":
        state = replace(state, outcome="refused", reason=reason)
    following = p.after(stage)
    if following is None:
        return replace(state, status="finished", finished_at=at, steps=steps,
                       outcome=state.outcome or "granted")
    return replace(state, steps=(*steps, _begin(following, at, calendar)))


@dataclass(frozen=True)
class Waiting:
    """An instance's current stage as the workbench sees it."""
    state: State
    step: Step
    left: dt.timedelta | None  # None: the stage has no deadline

    @property
    def overdue(self) -> bool:
        return self.left is not None and self.left < dt.timedelta(0)


def waiting(states: Iterable[State], now: dt.datetime) -> list[Waiting]:
    return [Waiting(s, s.steps[-1], None if s.steps[-1].due is None else s.steps[-1].due - now)
            for s in states if s.status != "finished"]


def by_time_left(states: Iterable[State], now: dt.datetime) -> list[Waiting]:
    """Unfinished instances, the least time left first (overdue ones first of all; stages
    without a deadline last)."""
    return sorted(waiting(states, now), key=lambda w: (w.left is None, w.left or dt.timedelta(0)))


def overdue(states: Iterable[State], now: dt.datetime) -> list[Waiting]:
    """Current stages past their deadline, the longest overdue first."""
    return [w for w in by_time_left(states, now) if w.overdue]


# --- the seed 004 commission ------------------------------------------------------------------------

@dataclass(frozen=True)
class Decision:
    quorum: bool
    present: int
    members: int
    votes_for: int
    votes_against: int
    outcome: str | None  # approve | refuse; None without a quorum
    tie_broken_by_chair: bool = False


def commission_decision(members: Sequence[str], votes: Mapping[str, bool], chair: str) -> Decision:
    """The commission's decision (seed 004 lines 229-234): the sitting is valid when at least 50 %
    of all members take part; the majority of those present decides; on a tie the side the chair
    voted for wins. ``votes`` maps each present member to True (for) or False (against); a member
    not in ``votes`` is absent. Votes by non-members are refused, not counted."""
    roster = set(members)
    strangers = sorted(set(votes) - roster)
    if strangers:
        raise Problem("procedures.not_a_member", 422, who=", ".join(strangers))
    if chair not in roster:
        raise Problem("procedures.not_a_member", 422, who=chair)
    present = len(votes)
    yes = sum(1 for v in votes.values() if v)
    no = present - yes
    quorum = len(roster) > 0 and 2 * present >= len(roster)
    if not quorum:
        return Decision(False, present, len(roster), yes, no, None)
    if yes != no:
        return Decision(True, present, len(roster), yes, no, "approve" if yes > no else "refuse")
    if chair not in votes:
        # A tie with the chair absent: the deputy chairs (seed 004 line 225-226) and must be the
        # one passed as ``chair``; an undecided tie is not a decision.
        raise Problem("procedures.tie_without_chair", 422, chair=chair)
    return Decision(True, present, len(roster), yes, no, "approve" if votes[chair] else "refuse", True)

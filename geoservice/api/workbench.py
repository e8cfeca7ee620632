"""The officer's workbench and procedure runs (cadastre/workbench.py): the queue by time left,
signed decisions on an application's current stage, and an application's run."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.concurrency import run_in_threadpool

from cadastre import commission, granting, workbench
from geoservice.api.base64_field import decode_base64
from geoservice.deps import DatabaseDep, admits
from geoservice.kernel import clock
from geoservice.kernel.db import Database
from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import negotiate
from geoservice.trust import trust_cache
from layers.access import Person, client_address
from layers.store import journal

# An approved licence application becomes a licence: importing the module registers its hook.
assert granting.licence_from_application in workbench.ON_GRANTED

log = logging.getLogger("geoservice.workbench")
router = APIRouter(prefix="/api", tags=["workbench"])
# How often a server looks for stages past their deadline (each is notified once, whichever
# server finds it first); the queue's reads look too.
OVERDUE_SECONDS = 60.0
ACTORS = admits("officer", "commission")
# Whoever may read the application reads its run (checked inside: applicant, officers of its
# authority, admins, auditors; commission members for procedures with a commission).
SIGNED_IN = admits("applicant")
STAFF = {"officer", "commission", "admin", "auditor"}


def _lang(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


@router.get("/workbench", summary="The applications waiting for the caller's decision, the least time left "
                                  "first (overdue ones flagged)")
def get_queue(request: Request, db: DatabaseDep, who: Person = ACTORS) -> dict[str, Any]:
    with db.connection() as conn:
        items = workbench.queue(conn, who, clock.now(), lang=_lang(request))
    return {"queue": items, "overdue": sum(1 for i in items if i["overdue"])}


def decode_signature(value: Any) -> bytes:
    """A detached CMS sent as base64 text (decisions, votes, obligation decisions); 400 otherwise."""
    return decode_base64(value, "workbench.bad_signature")


def _officers_decision(body: Any) -> tuple[str, str, str | None]:
    if not isinstance(body, dict) or set(body) - {"decision", "signature"} or "decision" not in body:
        raise Problem("workbench.bad_decision", 422, field="body")
    return workbench.parse_decision(body["decision"])


def _resubmission(body: Any) -> tuple[str, str, str | None]:
    # The applicant's only act: ``forward`` at ``revision`` (what they sign names both).
    if not isinstance(body, dict) or set(body) - {"reason", "signature"}:
        raise Problem("workbench.bad_decision", 422, field="body")
    return workbench.parse_decision({"stage": "revision", "action": "forward", "reason": body.get("reason")})


def _decide(request: Request, db: Database, number: str, body: Any, who: Person, lang: str,
            parse: Callable[[Any], tuple[str, str, str | None]] = _officers_decision) -> dict[str, Any]:
    client = client_address(request)
    with db.connection() as conn:
        try:
            stage, action, reason = parse(body)
            signature = decode_signature(body.get("signature"))
            trust, revocation = trust_cache(request).get(conn)
            workbench.decide(conn, number, stage, action, reason, signature, caller=who, trust=trust,
                             revocation=revocation, now=clock.now(), client=client)
            return commission.roster_answer(conn, workbench.run_answer(conn, number, lang))
        except Problem as problem:
            # A refused decision changes nothing; its journal row stays.
            conn.rollback()
            journal(conn, who.actor, "procedure.decide", "rejected", object=f"application:{number[:40]}",
                    client=client, detail={"problem": problem.key, "status": problem.status})
            conn.commit()
            raise


@router.post("/applications/{number}/decisions",
             summary="A signed decision at the application's current stage: a detached CMS over the RFC 8785 JSON "
                     "of {application, stage, action, reason}; answers the new run state")
async def post_decision(number: str, request: Request, db: DatabaseDep, body: Any = Body(...),
                        who: Person = ACTORS) -> dict[str, Any]:
    return await run_in_threadpool(_decide, request, db, number, body, who, _lang(request))


@router.post("/applications/{number}/resubmit",
             summary="The applicant sends a returned application back after revision: {reason, signature}, a "
                     "detached CMS over the RFC 8785 JSON of {application, stage: \"revision\", action: "
                     "\"forward\", reason}; answers the new run state")
async def post_resubmit(number: str, request: Request, db: DatabaseDep, body: Any = Body(...),
                        who: Person = SIGNED_IN) -> dict[str, Any]:
    return await run_in_threadpool(_decide, request, db, number, body, who, _lang(request), _resubmission)


def _signed_body(body: Any, key: str) -> Any:
    if not isinstance(body, dict) or set(body) - {key, "signature"} or key not in body:
        raise Problem("commission.bad_vote", 422, field="body")
    return body[key]


def _commission_act(request: Request, db: Database, number: str, body: Any, who: Person, lang: str,
                    closing: bool) -> dict[str, Any]:
    client = client_address(request)
    action = "procedure.close_vote" if closing else "procedure.vote"
    with db.connection() as conn:
        try:
            if closing:
                stage, reason = commission.parse_close(_signed_body(body, "close"))
            else:
                stage, vote, reason = commission.parse_vote(_signed_body(body, "vote"))
            signature = decode_signature(body.get("signature"))
            trust, revocation = trust_cache(request).get(conn)
            if closing:
                commission.close_vote(conn, number, stage, reason, signature, caller=who, trust=trust,
                                      revocation=revocation, now=clock.now(), client=client)
            else:
                commission.cast_vote(conn, number, stage, vote, reason, signature, caller=who, trust=trust,
                                     revocation=revocation, now=clock.now(), client=client)
            return commission.roster_answer(conn, workbench.run_answer(conn, number, lang))
        except Problem as problem:
            # A refused vote or closing changes nothing (a closing without a quorum leaves the
            # votes cast); its journal row stays.
            conn.rollback()
            journal(conn, who.actor, action, "rejected", object=f"application:{number[:40]}", client=client,
                    detail={"problem": problem.key, "status": problem.status})
            conn.commit()
            raise


@router.post("/applications/{number}/votes",
             summary="A commission member's signed vote at the application's current commission stage: "
                     "{vote: {stage, vote: approve | refuse, reason}, signature}, a detached CMS over the RFC 8785 "
                     "JSON of {application, stage, vote, reason}; once per member; answers the run")
async def post_vote(number: str, request: Request, db: DatabaseDep, body: Any = Body(...),
                    who: Person = ACTORS) -> dict[str, Any]:
    return await run_in_threadpool(_commission_act, request, db, number, body, who, _lang(request), False)


@router.post("/applications/{number}/votes/close",
             summary="The commission's chair (or deputy chair) closes the vote: {close: {stage, reason}, signature}, "
                     "a detached CMS over the RFC 8785 JSON of {application, stage, action: \"close\", reason}. "
                     "The votes are counted (quorum at least half the members, majority of those present, the "
                     "chair breaks a tie) and decide the stage; without a quorum nothing is decided (409)")
async def post_close_vote(number: str, request: Request, db: DatabaseDep, body: Any = Body(...),
                          who: Person = ACTORS) -> dict[str, Any]:
    return await run_in_threadpool(_commission_act, request, db, number, body, who, _lang(request), True)


@router.get("/applications/{number}/run", summary="The application's procedure run: stages, due times, "
                                                 "signed decisions (at a commission stage: its members and "
                                                 "their signed votes)")
def get_run(number: str, request: Request, db: DatabaseDep, who: Person = SIGNED_IN) -> dict[str, Any]:
    with db.connection() as conn:
        try:
            run = workbench.get_run(conn, who, number, lang=_lang(request), client=client_address(request))
            # The roster (names too) for the platform's staff; an applicant reads the votes only.
            return commission.roster_answer(conn, run) if set(who.roles) & STAFF else run
        except Problem:
            conn.commit()  # the refusal's journal row
            raise


class OverdueWatch:
    """A server process's background look for overdue stages (``workbench.notify_overdue``)
    every ``interval`` seconds, the first after one interval."""

    def __init__(self, db: Database, *, interval: float = OVERDUE_SECONDS) -> None:
        self.db, self.interval = db, interval
        self._task: asyncio.Task[None] | None = None

    def once(self) -> int:
        with self.db.connection() as conn:
            return workbench.notify_overdue(conn, clock.now())

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="workbench-overdue")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await run_in_threadpool(self.once)
            except Exception as exc:  # noqa: BLE001 - the database may be away; the next round tries again
                log.warning("cannot look for overdue stages (%s)", exc)

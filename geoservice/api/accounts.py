"""Sign-in with an EDS and the person's own account: /api/auth/… and /api/me…"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Body, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from cadastre import accounts, notifications, signin
from cadastre.registers import TableRegisters
from geoservice.api.base64_field import decode_base64
from geoservice.deps import PUBLIC, DatabaseDep, SettingsDep, admits
from geoservice.kernel import clock
from geoservice.kernel.db import Database
from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import LANGUAGES, negotiate, translate
from geoservice.kernel.settings import Settings
from geoservice.trust import trust_cache
from layers.access import SESSION_COOKIE, Person, client_address

router = APIRouter(prefix="/api", tags=["cabinet"])
# Every person signed in holds "applicant": these routes are for anyone signed in.
SIGNED_IN = admits("applicant")


class Login(BaseModel):
    cms: str


def set_session_cookie(request: Request, response: Response, result: accounts.SignIn) -> None:
    """The browser's copy of the session: HttpOnly (scripts cannot read it), SameSite=Lax (not
    sent with other sites' POSTs), Secure over https."""
    seconds = max(0, int((result.expires_at - datetime.now(UTC)).total_seconds()))
    response.set_cookie(SESSION_COOKIE, result.token, max_age=seconds, path="/", httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")


def session_answer(result: accounts.SignIn) -> dict[str, Any]:
    return {"token": result.token, "expires_at": result.expires_at.isoformat(), "user": result.user}


def _challenge(db: Database, settings: Settings, client: str | None) -> tuple[str, datetime]:
    with db.connection() as conn:
        return accounts.issue_challenge(conn, lifetime=timedelta(seconds=settings.challenge_seconds), client=client)


# Every route takes its connection inside the one worker thread that uses it (`with
# db.connection()` in a sync body or a run_in_threadpool function), never from a dependency: a
# sync generator dependency enters in one worker thread and the body runs in another, so under
# many concurrent callers held connections wait for a thread while the threads wait for a
# connection, until PoolTimeout (tests/test_pool_concurrency.py).
@router.get("/auth/challenge", dependencies=[PUBLIC], summary="A nonce to sign with the authentication key")
async def challenge(request: Request, db: DatabaseDep, settings: SettingsDep) -> dict[str, str]:
    nonce, expires_at = await run_in_threadpool(_challenge, db, settings, client_address(request))
    return {"nonce": nonce, "expires_at": expires_at.isoformat()}


def _login(request: Request, db: Database, settings: Settings, cms_b64: str, client: str | None) -> accounts.SignIn:
    with db.connection() as conn:
        who: accounts.Identity | None = None
        try:
            cms = decode_base64(cms_b64, "signin.bad_cms")
            # The trusted NCA roots and CRLs of the database, cached until they change.
            trust, revocation = trust_cache(request).get(conn)
            who, content = signin.verify_login(cms, trust=trust, revocation=revocation, now=clock.now())
            accounts.consume_challenge(conn, content)
            return accounts.sign_in(conn, TableRegisters(conn), who, method="eds", client=client,
                                    lifetime=timedelta(hours=settings.session_hours))
        except Problem as problem:
            # What was done before the refusal stays (a nonce once presented is used up).
            accounts.refused(conn, problem, who, method="eds", client=client)
            conn.commit()
            raise


@router.post("/auth/login", dependencies=[PUBLIC],
             summary="Sign in with an attached CMS over the challenge nonce (the AUTHENTICATION key)")
async def login(body: Login, request: Request, response: Response, db: DatabaseDep,
                settings: SettingsDep) -> dict[str, Any]:
    result = await run_in_threadpool(_login, request, db, settings, body.cms, client_address(request))
    set_session_cookie(request, response, result)
    return session_answer(result)


@router.post("/auth/logout", summary="End this session (at once, in every server process)")
def logout(request: Request, response: Response, db: DatabaseDep, who: Person = SIGNED_IN) -> dict[str, Any]:
    with db.connection() as conn:
        accounts.sign_out(conn, who.session_id, actor=who.actor, client=client_address(request))
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return {"signed_out": True}


def _lang(request: Request) -> str:
    chosen = request.query_params.get("lang")
    return chosen if chosen in LANGUAGES else negotiate(request.headers.get("accept-language"))


@router.get("/me", summary="The signed-in person: profile from the certificate and the registers, contacts, "
                           "roles, unread notifications")
def me(db: DatabaseDep, who: Person = SIGNED_IN) -> dict[str, Any]:
    with db.connection() as conn:
        return accounts.profile(conn, TableRegisters(conn), who.account_id)


@router.patch("/me", summary="Change the contacts the person keeps: email, phone, address")
def change_me(request: Request, db: DatabaseDep, changes: dict[str, Any] = Body(...),
              who: Person = SIGNED_IN) -> dict[str, Any]:
    with db.connection() as conn:
        contacts = accounts.update_contacts(conn, who.account_id, changes, actor=who.actor,
                                            client=client_address(request))
    return {"contacts": contacts}


@router.get("/me/notifications", summary="The inbox, newest first (fetching delivers what was not yet)")
def my_notifications(request: Request, db: DatabaseDep, who: Person = SIGNED_IN) -> dict[str, Any]:
    lang = _lang(request)
    with db.connection() as conn:
        items = notifications.inbox(conn, who.account_id)
        unread = notifications.unread(conn, who.account_id)
    for item in items:
        texts = {code: translate(item["code"], code, **item["params"]) for code in LANGUAGES}
        item["texts"], item["text"] = texts, texts[lang]
    return {"notifications": items, "unread": unread}


@router.post("/me/notifications/{notification_id}/read", summary="Mark a notification read")
def read_notification(notification_id: int, db: DatabaseDep, who: Person = SIGNED_IN) -> dict[str, Any]:
    with db.connection() as conn:
        done = notifications.mark_read(conn, who.account_id, notification_id)
        return {**done, "unread": notifications.unread(conn, who.account_id)}

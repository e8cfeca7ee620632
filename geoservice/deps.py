"""What routes need, as FastAPI dependencies: the settings, a pooled database connection, and
who is calling. Routes declare them in their signature instead of reaching for globals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request

from geoservice.kernel.db import Database
from geoservice.kernel.errors import Problem
from geoservice.kernel.settings import Settings
from layers.access import AUTHORITY_TOKEN, ROLES, Caller, caller, roles_of


def settings(request: Request) -> Settings:
    return request.app.state.settings


def database(request: Request) -> Database:
    return request.app.state.db


def connection(request: Request) -> Iterator[psycopg.Connection]:
    """A psycopg connection from the app's pool for the request (committed when the route
    returns, rolled back on error). FastAPI runs this in its thread pool.

    Not for routes: FastAPI enters it in one worker thread and runs the route's body in another,
    so under more concurrent callers than threads the pool deadlocks (tests/test_pool_concurrency.py).
    Routes take ``DatabaseDep`` and ``with db.connection()`` in the thread that does the work."""
    db: Database = request.app.state.db
    with db.connection() as conn:
        yield conn


async def reader(request: Request) -> Caller | None:
    """Who is calling, for reads: None for anonymous callers (a cached token answer may be used)."""
    return await caller(request)


SettingsDep = Annotated[Settings, Depends(settings)]
DatabaseDep = Annotated[Database, Depends(database)]
ConnectionDep = Annotated[psycopg.Connection, Depends(connection)]
ReaderDep = Annotated[Caller | None, Depends(reader)]


# --- who may call a route -------------------------------------------------------------------------
# Every /api route declares the roles it admits with ``Depends(admits(...))`` (or ``PUBLIC``), in
# its signature or its router's dependencies; tests/test_roles_matrix.py walks every route with
# every role. The declaration is read back from the dependency's ``admitted`` attribute.

def admits(*roles: str) -> Any:
    """A dependency admitting callers that hold any of ``roles`` (``ROLES`` or ``AUTHORITY_TOKEN``):
    401 for an anonymous caller, 403 for one without such a role. It returns the caller."""
    unknown = set(roles) - {*ROLES, AUTHORITY_TOKEN}
    assert roles and not unknown, unknown

    async def admitted_caller(request: Request) -> Caller:
        who = await caller(request, fresh=True)
        if who is None:
            # A route for people only asks them to sign in; one that takes tokens says so.
            raise Problem("auth.required" if AUTHORITY_TOKEN in roles else "auth.sign_in_required", 401)
        if not roles_of(who) & set(roles):
            raise Problem("auth.role_required", 403, roles=", ".join(roles))
        return who

    admitted_caller.admitted = frozenset(roles)  # type: ignore[attr-defined]
    return Depends(admitted_caller)


def _public() -> None:
    """Anyone, signed in or not."""


_public.admitted = frozenset({"public"})  # type: ignore[attr-defined]
PUBLIC = Depends(_public)


def checked_inside(*roles: str) -> Any:
    """Declares the roles a route admits when the route checks them itself, because it must
    answer and journal its refusals in its own order (uploads and restores: an unknown layer is
    a 404 before the caller is asked for, and every refusal is journaled). Enforces nothing:
    tests/test_roles_matrix.py holds the route to its declaration like any other."""
    unknown = set(roles) - {*ROLES, AUTHORITY_TOKEN}
    assert roles and not unknown, unknown

    def checks_inside() -> None:
        """The route checks its callers itself."""

    checks_inside.admitted = frozenset(roles)  # type: ignore[attr-defined]
    return Depends(checks_inside)

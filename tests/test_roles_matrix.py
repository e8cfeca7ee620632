"""Every /api route declares the roles it admits (geoservice.deps: ``admits``, ``PUBLIC``, or
``checked_inside`` for routes that check and journal in their own order), exactly once; and
every route is called by every kind of caller: anonymous, a signed-in person holding each role
(a real session), and an authority's upload token. Admitted callers are not answered 401/403;
refused ones get 401 (anonymous) or 403. Routes added later are walked the same way."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from layers.access import AUTHORITY_TOKEN, ROLES, create_token
from tests.people import ensure_people, session_for

CALLERS = ("anonymous", *ROLES, AUTHORITY_TOKEN)
# Path parameters by name: real values where the route looks them up, so that an admitted caller
# reaches the route's own answer (a layer that exists, a version that does not: nothing changes).
PATH_VALUES = {"layer_id": "restriction-zones", "version": "999999"}


def api_routes(routes: list[Any]) -> Iterator[Any]:
    from fastapi.routing import APIRoute

    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from api_routes(inner.routes)
        elif isinstance(route, APIRoute) and route.path.startswith("/api"):
            yield route


def declarations(route: Any) -> list[frozenset[str]]:
    """The role declarations among the route's dependencies (its own and its routers')."""
    found = []

    def walk(dependant: Any) -> None:
        for dep in dependant.dependencies:
            admitted = getattr(dep.call, "admitted", None)
            if admitted is not None:
                found.append(admitted)
            walk(dep)

    walk(route.dependant)
    return found


def path_of(route: Any) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        return PATH_VALUES.get(name, "1")

    return re.sub(r"{([^}]+)}", value, route.path)


@pytest.fixture(scope="module")
def matrix(database_url: str, client: TestClient) -> dict[str, Any]:
    accounts = ensure_people(database_url)
    with psycopg.connect(database_url) as conn:
        _, token = create_token(conn, "operator", "roles matrix")
        conn.commit()
    return {"accounts": accounts, "token": token}


def test_the_app_has_api_routes_to_walk(client):
    paths = {r.path for r in api_routes(client.app.routes)}
    assert {"/api/layers", "/api/layers/{layer_id}/uploads", "/api/auth/login", "/api/me",
            "/api/me/notifications/{notification_id}/read", "/api/blocks/search",
            "/api/auctions/{auction}/protocol"} <= paths


def test_every_api_route_declares_its_roles_once(client):
    undeclared = {f"{sorted(r.methods)} {r.path}": len(declarations(r)) for r in api_routes(client.app.routes)
                  if len(declarations(r)) != 1}
    assert undeclared == {}


def test_the_declaration_check_sees_a_missing_one():
    from fastapi import APIRouter

    from geoservice.deps import PUBLIC, admits

    router = APIRouter(prefix="/api")

    @router.get("/none")
    def none() -> None: ...

    @router.get("/twice", dependencies=[PUBLIC, admits("auditor")])
    def twice() -> None: ...

    counts = {r.path: len(declarations(r)) for r in api_routes(router.routes)}
    assert counts == {"/api/none": 0, "/api/twice": 2}


def _headers(caller: str, matrix: dict[str, Any], database_url: str) -> dict[str, str]:
    if caller == "anonymous":
        return {}
    if caller == AUTHORITY_TOKEN:
        return {"Authorization": f"Bearer {matrix['token']}"}
    # A fresh session for every call: one of the routes is the logout.
    return {"Authorization": f"Bearer {session_for(database_url, matrix['accounts'][caller])}"}


# The refusals of the role gate itself. A route that admits the role may still refuse the object
# (e.g. documents.sign_forbidden: not the owner of that document): that caller got past the gate.
GATE_CODES = {"auth.required", "auth.sign_in_required", "auth.role_required", "auth.forbidden_layer"}


def _refused_by_role(r: Any) -> bool:
    if r.status_code not in (401, 403):
        return False
    code = r.json().get("type", "").rsplit(":", 1)[-1]
    return code in GATE_CODES


def test_every_route_with_every_caller(client, matrix, database_url):
    checked, wrong = 0, []
    for route in api_routes(client.app.routes):
        (declared,) = declarations(route)
        for method in sorted(route.methods - {"HEAD"}):
            for caller in CALLERS:
                holds = (frozenset() if caller == "anonymous" else frozenset({AUTHORITY_TOKEN})
                         if caller == AUTHORITY_TOKEN else frozenset({"applicant", caller}))
                admitted = "public" in declared or bool(holds & declared)
                expected = "admitted" if admitted else "401" if caller == "anonymous" else "403"
                kwargs: dict[str, Any] = {} if method in ("GET", "DELETE") else {"json": {}}
                r = client.request(method, path_of(route), headers=_headers(caller, matrix, database_url), **kwargs)
                got = str(r.status_code) if _refused_by_role(r) else "admitted"
                checked += 1
                if got != expected:
                    wrong.append(f"{method} {route.path} as {caller}: expected {expected}, got {r.status_code} "
                                 f"{r.text[:200]}")
    assert wrong == [], "\n".join(wrong)
    assert checked >= 13 * len(CALLERS)

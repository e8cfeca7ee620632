"""The psycopg pool under more concurrent callers than it has connections (8) and the thread pool
has threads (40). A route that held a pooled connection from a dependency (taken in one worker
thread) while its body waited for another worker thread deadlocked: the threads blocked waiting
for connections, the connections' holders waited for a thread, until PoolTimeout (503) for
everybody. Routes now take their connection inside the thread that uses it; this calls them with
80 concurrent clients against a server process and expects every answer."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.live import server_process
from tests.people import ensure_people, session_for

CLIENTS = 80  # well over the pool's 8 connections plus the thread pool's 40 threads
PATHS = ("/api/layers", "/api/layers/restriction-zones", "/api/layers/restriction-zones/versions",
         "/api/me", "/api/me/notifications")


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[tuple[str, str]]:
    token = session_for(database_url, ensure_people(database_url)["applicant"])
    # A short pool wait: a deadlock shows as 503s within seconds instead of hanging the test.
    with server_process(database_url, GEOSERVICE_DB_CONNECT_TIMEOUT="3") as base:
        yield base, token


def _get(base: str, path: str, token: str, out: list[Any], start: threading.Event) -> None:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    start.wait()
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        out.append((path, response.status, response.read()[:120]))
    except OSError as error:
        out.append((path, None, repr(error)))
    finally:
        conn.close()


@pytest.mark.parametrize("path", PATHS)
def test_many_concurrent_callers_of_a_route_all_get_answers(server, path) -> None:
    base, token = server
    results: list[Any] = []
    start = threading.Event()
    threads = [threading.Thread(target=_get, args=(base, path, token, results, start)) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    start.set()
    for t in threads:
        t.join(timeout=90)
    # Every caller answered (none hangs); how fast is a benchmark's question, not asserted here.
    assert not [t for t in threads if t.is_alive()], "callers still waiting for an answer"
    failed = [r for r in results if r[1] != 200]
    assert len(results) == CLIENTS and failed == [], (len(failed), failed[:3])


def test_no_route_holds_a_connection_from_a_dependency(client) -> None:
    """The pattern itself: no /api route depends on geoservice.deps.connection any more."""
    from geoservice import deps
    from tests.test_roles_matrix import api_routes

    def uses(dependant: Any) -> bool:
        return any(d.call is deps.connection or uses(d) for d in dependant.dependencies)

    routes = list(api_routes(client.app.routes))
    assert len(routes) > 20
    assert sorted(f"{sorted(r.methods)} {r.path}" for r in routes if uses(r.dependant)) == []

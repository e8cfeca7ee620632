"""Read timeouts against a real server process and real sockets: slow headers (slowloris),
trickling bodies, idle kept-alive connections and too many uploads at once are cut within the
configured time instead of being held for as long as the client likes."""

from __future__ import annotations

import json
import selectors
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from layers.access import create_token
from tests.helpers import write_json, zones
from tests.processes import ServerProcess

HEADER_TIMEOUT = 2.0
BODY_TIMEOUT = 2.0
KEEPALIVE = 2
# How late after its deadline a cut may come: scheduling on a loaded 2-core machine (CI) with
# hundreds of sockets. Still well under the tests' own give-up (deadline + 10 s), so a deadline
# that never fires fails; the lower bounds (deadline - 0.5 s) show the cut is the deadline's.
SLACK = 4.0


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("http")
    proc = ServerProcess({"DATABASE_URL": database_url, "GEOSERVICE_VAR_DIR": str(tmp / "var"),
                          "GEOSERVICE_HTTP_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
                          "GEOSERVICE_HTTP_BODY_TIMEOUT": str(BODY_TIMEOUT),
                          "GEOSERVICE_HTTP_BODY_MIN_RATE": "1000",
                          "GEOSERVICE_HTTP_KEEPALIVE_TIMEOUT": str(KEEPALIVE),
                          "GEOSERVICE_MAX_CONCURRENT_UPLOADS": "2"}, tmp / "server.log")
    try:
        proc.wait_started()
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def token(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        _, value = create_token(conn, "operator", "timeouts test")
        conn.commit()
    return value


class Conn:
    """A raw client socket: when it was opened, what the server said, when the server closed it."""

    def __init__(self, server: ServerProcess, first: bytes = b"", drip: bytes = b"") -> None:
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        self.opened = time.monotonic()
        self.sock.sendall(first)
        self.sock.setblocking(False)
        self.drip = drip
        self.answer = b""
        self.closed_after: float | None = None  # seconds from opening

    def status(self) -> int:
        return int(self.answer.split(b" ", 2)[1]) if self.answer.startswith(b"HTTP/1.1 ") else 0

    def problem(self) -> dict[str, object]:
        return json.loads(self.answer.partition(b"\r\n\r\n")[2])  # type: ignore[no-any-return]


def _run(conns: list[Conn], limit: float, every: float = 0.3) -> None:
    """Drip each connection's bytes every ``every`` seconds until the server closes it (or
    ``limit`` seconds pass); record what it answered and when it closed."""
    selector = selectors.DefaultSelector()
    for conn in conns:
        selector.register(conn.sock, selectors.EVENT_READ, conn)
    started = time.monotonic()
    next_drip = started + every
    open_ = set(range(len(conns)))
    while open_ and time.monotonic() - started < limit:
        for key, _ in selector.select(timeout=0.05):
            conn = key.data
            try:
                data = conn.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            if data:
                conn.answer += data
            else:
                conn.closed_after = time.monotonic() - conn.opened
                selector.unregister(conn.sock)
                open_.discard(conns.index(conn))
        if time.monotonic() >= next_drip:
            next_drip += every
            for i in open_:
                if conns[i].drip:
                    try:
                        conns[i].sock.send(conns[i].drip)
                    except OSError:
                        pass
    selector.close()
    for conn in conns:
        conn.sock.close()


def test_slow_headers_and_silent_connections_are_closed_in_time(server: ServerProcess) -> None:
    slow = [Conn(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", b"a") for _ in range(200)]
    silent = [Conn(server) for _ in range(50)]
    # While they hang on, the server keeps answering others.
    assert httpx.get(server.base + "/healthz", timeout=5).status_code == 200
    _run(slow + silent, limit=HEADER_TIMEOUT + 10)
    still_open = [c for c in slow + silent if c.closed_after is None]
    assert not still_open, f"{len(still_open)} connections still open"
    times = [c.closed_after for c in slow + silent if c.closed_after is not None]
    assert max(times) < HEADER_TIMEOUT + SLACK, max(times)
    assert min(times) > HEADER_TIMEOUT - 0.5, min(times)  # cut by the deadline, not refused at once
    assert {c.status() for c in slow + silent} == {408}
    assert httpx.get(server.base + "/healthz", timeout=5).status_code == 200


def test_headers_over_the_limit_are_refused(server: ServerProcess) -> None:
    conn = Conn(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nAccept-Language: ru\r\n"
                + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 1000) for i in range(100)))
    _run([conn], limit=5)
    assert conn.status() == 431 and conn.closed_after is not None
    assert "заголовки" in str(conn.problem()["detail"]).lower()


def test_an_idle_kept_alive_connection_is_closed(server: ServerProcess) -> None:
    conn = Conn(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    _run([conn], limit=KEEPALIVE + 10)
    assert conn.status() == 200
    assert conn.closed_after is not None and KEEPALIVE - 0.5 < conn.closed_after < KEEPALIVE + SLACK


def test_a_body_the_route_does_not_read_cannot_hold_the_connection(server: ServerProcess) -> None:
    # An upload refused before its body is read (no token): the rest of the body is not waited for.
    conn = Conn(server, b"POST /api/layers/restriction-zones/uploads HTTP/1.1\r\nHost: x\r\n"
                b"Content-Length: 100000\r\n\r\n", b"z" * 10)
    _run([conn], limit=10)
    assert conn.status() == 401
    # Closed before the body's deadline could have cut it: the body was not waited for (a bound
    # set by that alternative, not a latency a loaded machine might miss).
    assert conn.closed_after is not None and conn.closed_after < BODY_TIMEOUT - 0.5


def test_a_trickling_small_body_is_cut_too(server: ServerProcess) -> None:
    conn = Conn(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n", b"z" * 10)
    _run([conn], limit=BODY_TIMEOUT + 10)
    assert conn.status() == 408
    assert conn.closed_after is not None and BODY_TIMEOUT - 0.5 < conn.closed_after < BODY_TIMEOUT + SLACK


def _upload_head(token: str, length: int = 1_000_000) -> bytes:
    return (b"POST /api/layers/restriction-zones/uploads HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer %s\r\nAccept-Language: kk\r\n"
            b"Content-Type: multipart/form-data; boundary=BOUNDARY\r\nContent-Length: %d\r\n\r\n"
            b"--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"z.geojson\"\r\n\r\n"
            % (token.encode(), length))


def test_trickling_uploads_are_cut_and_uploads_at_once_are_capped(server: ServerProcess, token: str,
                                                                  tmp_path: Path) -> None:
    trickling = [Conn(server, _upload_head(token), b"x" * 10) for _ in range(2)]
    time.sleep(0.3)  # both are in, reading their bodies
    third = httpx.post(server.base + "/api/layers/restriction-zones/uploads",
                       headers={"Authorization": f"Bearer {token}", "Accept-Language": "ru"},
                       files={"file": ("z.geojson", b"{}")}, timeout=5)
    assert third.status_code == 503, third.text
    assert third.headers["content-type"] == "application/problem+json" and int(third.headers["retry-after"]) > 0
    assert "загрузки" in third.json()["detail"]
    _run(trickling, limit=BODY_TIMEOUT + 10)
    for conn in trickling:
        assert conn.status() == 408, conn.answer[:300]
        assert conn.problem()["type"] == "urn:geoservice:problem:http.body_timeout"
        assert conn.closed_after is not None and BODY_TIMEOUT - 0.5 < conn.closed_after < BODY_TIMEOUT + SLACK
    # Their places are free again: a real upload goes through.
    path = write_json(tmp_path / "z.geojson", zones(2))
    ok = httpx.post(server.base + "/api/layers/restriction-zones/uploads",
                    headers={"Authorization": f"Bearer {token}"},
                    files={"file": ("z.geojson", path.read_bytes())}, timeout=60)
    assert ok.status_code == 201, ok.text


def _chunked(server: ServerProcess, head: bytes, total: int) -> Conn:
    """Send ``total`` bytes as a chunked body as fast as the server takes them; stop when it
    answers."""
    conn = Conn(server, head)
    conn.sock.setblocking(True)
    conn.sock.settimeout(10)
    sent = 0
    chunk = b"%x\r\n%s\r\n" % (8192, b"{" * 8192)
    try:
        while sent < total:
            conn.sock.sendall(chunk)
            sent += 8192
    except OSError:
        pass  # the server answered and closed: the rest is not wanted
    conn.sock.setblocking(False)
    _run([conn], limit=10)
    return conn


def test_every_route_has_a_body_limit(server: ServerProcess, token: str, tmp_path: Path) -> None:
    # A file of its own: the same file as the current version would be answered "unchanged" (200).
    auth = {"Authorization": f"Bearer {token}"}
    path = write_json(tmp_path / "z.geojson", zones(2, prefix=f"BL{uuid.uuid4().hex[:6]}"))
    first = httpx.post(server.base + "/api/layers/restriction-zones/uploads", headers=auth,
                       files={"file": ("z.geojson", path.read_bytes())}, timeout=60)
    assert first.status_code == 201, first.text
    version = first.json()["version"]
    restore = f"/api/layers/restriction-zones/versions/{version}/restore"
    head = (b"POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nAccept-Language: ru\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" % (restore.encode(), token.encode()))
    # A chunked body (no Content-Length) over the limit: 413, the route never runs.
    conn = _chunked(server, head, 20 * 1024 * 1024)
    assert conn.status() == 413, conn.answer[:300]
    problem = conn.problem()
    assert problem["type"] == "urn:geoservice:problem:http.body_too_large" and "64" in str(problem["detail"])
    assert conn.closed_after is not None
    # Declared too large: refused before any of it is read.
    declared = Conn(server, b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                    % (restore.encode(), 10 * 1024 * 1024))
    _run([declared], limit=5)
    assert declared.status() == 413 and declared.closed_after is not None and declared.closed_after < BODY_TIMEOUT - 0.5
    # Under the limit the route runs as before.
    small = httpx.post(server.base + restore, headers=auth, json={}, timeout=30)
    assert small.status_code == 200, small.text
    # Any route, any method.
    get = httpx.request("GET", server.base + "/ogc/collections", content=b"x" * 100_000, timeout=10)
    assert get.status_code == 413

"""The platform journal: rows written into the intake and sealed after commit into numbers
without gaps and a SHA-256 chain the database computes and ``journal verify`` recomputes,
append-only for everybody, and GET /api/journal for the auditor.

Tampering is done as it would be by someone with the keys: a superuser connection with the
triggers off (``session_replication_role = replica``); each test puts the journal back."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from geoservice.kernel.settings import Settings
from layers import store
from layers.access import create_token
from layers.journal import (
    COLUMNS,
    GENESIS,
    JournalFilter,
    canonical,
    iter_journal,
    read_journal,
    row_hash,
    stamp,
    verify_chain,
)
from tests.helpers import sealed, write_json, zones

GEOSERVICE = [str(Path(sys.executable).with_name("geoservice"))]
TRICKY = "q\"uote \\ back\n\t\r\b\f" + "".join(chr(c) for c in range(1, 0x20)) + "\x7f Қазақ ё € 𝔸 \u2028"


@pytest.fixture(scope="module")
def service_url(database_url: str) -> str:
    return Settings(database_url=database_url).service_database_url


@contextmanager
def tampering(database_url: str) -> Iterator[psycopg.Connection]:
    """A superuser's connection with every trigger off, as an intruder with the keys would use."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (True,)
        conn.execute("SET session_replication_role = replica")
        yield conn


def _write(conn: psycopg.Connection, n: int, tag: str) -> list[int]:
    """``n`` rows, committed (``conn`` is in autocommit) and sealed; their numbers."""
    tag = f"{tag}-{uuid.uuid4().hex[:8]}"
    for i in range(n):
        store.journal(conn, f"IIN{900000000000 + i}", "test.write", "ok", object=f"test:{tag}:{i}", client="test",
                      detail={"i": i, "tag": tag, "x": 1.5})
    return _sealed_seqs(conn, f"test:{tag}:%")


def _sealed_seqs(conn: psycopg.Connection, object_like: str) -> list[int]:
    sealed(conn)
    return [r[0] for r in conn.execute("SELECT seq FROM journal WHERE object LIKE %s ORDER BY seq",
                                       (object_like,)).fetchall()]


def _row(conn: psycopg.Connection, seq: int) -> dict[str, Any]:
    cur = conn.execute("SELECT * FROM journal WHERE seq = %s", (seq,))
    names = [c.name for c in cur.description or []]
    found = cur.fetchone()
    assert found is not None
    return dict(zip(names, found, strict=True))


def _put_back(conn: psycopg.Connection, row: dict[str, Any]) -> None:
    from psycopg.types.json import Jsonb

    values = {**row, "detail": Jsonb(row["detail"])}
    conn.execute("DELETE FROM journal WHERE seq = %s", (row["seq"],))
    conn.execute(sql.SQL("INSERT INTO journal ({}) VALUES ({})").format(
        sql.SQL(", ").join(map(sql.Identifier, values)), sql.SQL(", ").join([sql.Placeholder()] * len(values))),
        list(values.values()))


def _head(conn: psycopg.Connection) -> int:
    return int(conn.execute("SELECT seq FROM journal_head").fetchone()[0])


def _assert_linear(conn: psycopg.Connection, start: int) -> list[tuple[Any, ...]]:
    """Every row after number ``start``: numbered start+1, start+2… and each linked to the one
    before; the head on the last. Returns (seq, detail) of them."""
    rows = conn.execute("SELECT seq, prev_hash, hash, detail FROM journal WHERE seq > %s ORDER BY seq",
                        (start,)).fetchall()
    assert [r[0] for r in rows] == list(range(start + 1, start + 1 + len(rows)))
    previous = conn.execute("SELECT hash FROM journal WHERE seq = %s", (start,)).fetchone()
    link = bytes(previous[0]) if previous else GENESIS
    for _, prev_hash, hash_, _ in rows:
        assert bytes(prev_hash) == link
        link = bytes(hash_)
    assert conn.execute("SELECT seq, hash FROM journal_head").fetchone() == (start + len(rows), link)
    return [(r[0], r[3]) for r in rows]


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GEOSERVICE, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DATABASE_URL": database_url})


# --- the chain ----------------------------------------------------------------------------------

def test_sealing_chains_rows_in_the_documented_canonical_form(db):
    detail = {"text": TRICKY, TRICKY: [1, 1.50, -0.0, 1e-7, 12345678901234567890, True, None],
              "a": {"nested": {"b": 2}}, "": "empty key"}
    marker = f"canonical-{uuid.uuid4().hex[:8]}"
    store.journal(db, TRICKY, "test.canonical", "ok", object=TRICKY, client=marker, layer_id="blocks", version=7,
                  detail=detail)
    sealed(db)
    seq = db.execute("SELECT seq FROM journal WHERE client = %s", (marker,)).fetchone()[0]
    row = _row(db, seq)
    text = db.execute("SELECT detail::text FROM journal WHERE seq = %s", (seq,)).fetchone()[0]
    ours = canonical(seq, row["at"], row["actor"], row["action"], row["result"], row["object"], row["layer_id"],
                     row["version"], row["client"], text)
    theirs = db.execute("SELECT journal_canonical(seq, at, actor, action, result, object, layer_id, version, client, "
                        "detail) FROM journal WHERE seq = %s", (seq,)).fetchone()[0]
    assert ours == bytes(theirs)
    assert ours.startswith(f'[{seq},"{stamp(row["at"])}",'.encode())
    assert (row["actor"], row["object"], row["layer_id"], row["version"]) == (TRICKY, TRICKY, "blocks", 7)
    assert bytes(row["hash"]) == hashlib.sha256(bytes(row["prev_hash"]) + ours).digest()
    before = _row(db, seq - 1) if seq > 1 else None
    assert bytes(row["prev_hash"]) == (bytes(before["hash"]) if before else GENESIS)
    assert verify_chain(db).ok


def test_rows_of_a_rolled_back_transaction_never_appear(database_url, db):
    marker = f"rollback-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url) as conn:
        store.journal(conn, "test", "test.rollback", "ok", object=f"{marker}:lost")
        conn.execute("SELECT gs_journal_seal()")  # even a seal inside that transaction goes with it
        conn.rollback()
        start = _head(db)
        store.journal(conn, "test", "test.rollback", "ok", object=f"{marker}:kept")
        conn.commit()
    sealed(db)
    assert db.execute("SELECT seq, object FROM journal WHERE object LIKE %s", (f"{marker}:%",)).fetchall() \
        == [(start + 1, f"{marker}:kept")]
    assert db.execute("SELECT count(*) FROM journal_intake WHERE object LIKE %s", (f"{marker}:%",)).fetchone() \
        == (0,)
    _assert_linear(db, start)
    assert verify_chain(db).ok


def test_writers_cannot_choose_number_time_or_hashes(service_url, db):
    with psycopg.connect(service_url, autocommit=True) as conn:
        for forged in ("INSERT INTO journal (seq, at, actor, action, result, prev_hash, hash) "
                       "VALUES (10000000, '2001-01-01T00:00:00Z', 'test', 'test.forge', 'ok', '\\x00', '\\x00')",
                       "INSERT INTO journal_intake (at, actor, action, result) "
                       "VALUES ('2001-01-01T00:00:00Z', 'test', 'test.forge', 'ok')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(forged)
        with pytest.raises(psycopg.errors.GeneratedAlways):
            conn.execute("INSERT INTO journal_intake (id, actor, action, result) "
                         "VALUES (1, 'test', 'test.forge', 'ok')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO journal_intake (id, actor, action, result) OVERRIDING SYSTEM VALUE "
                         "VALUES (1, 'test', 'test.forge', 'ok')")
        marker = f"time-{uuid.uuid4().hex[:8]}"
        store.journal(conn, "test", "test.time", "ok", object=marker)
    [(seq, at)] = sealed(db).execute("SELECT seq, at FROM journal WHERE object = %s", (marker,)).fetchall()
    assert 0 < seq <= _head(db)
    assert abs((at - dt.datetime.now(dt.UTC)).total_seconds()) < 60  # the database's clock
    # The owner meets a trigger: rows enter the journal only by sealing.
    with pytest.raises(psycopg.errors.RestrictViolation, match="gs_journal_seal"):
        db.execute("INSERT INTO journal (seq, at, actor, action, result, prev_hash, hash) "
                   "VALUES (10000000, now(), 'test', 'test.forge', 'ok', '\\x00', '\\x00')")
    assert verify_chain(db).ok


def test_the_service_role_may_only_insert_read_and_seal(service_url):
    with psycopg.connect(service_url, autocommit=True) as conn:
        assert conn.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() \
            == ("geoservice_app", False)
        store.journal(conn, "test", "test.service", "ok")
        assert conn.execute("SELECT count(*) > 0 FROM journal_intake").fetchone() == (True,)
        assert conn.execute("SELECT gs_journal_seal()").fetchone()[0] >= 1
        assert conn.execute("SELECT count(*) > 0 FROM journal").fetchone() == (True,)
        for forbidden in ("UPDATE journal SET result = 'forged'", "DELETE FROM journal", "TRUNCATE journal",
                          "ALTER TABLE journal DISABLE TRIGGER journal_append_only",
                          "UPDATE journal_intake SET result = 'forged'", "DELETE FROM journal_intake",
                          "TRUNCATE journal_intake", "SELECT id FROM journal_intake FOR UPDATE",
                          "ALTER TABLE journal_intake DISABLE TRIGGER ALL",
                          "UPDATE journal_head SET seq = 1", "DELETE FROM journal_head",
                          "INSERT INTO journal_head (one, seq, hash, gapless_from) VALUES (false, 1, '\\x00', 1)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(forbidden)


def test_the_owner_meets_the_trigger(db):
    store.journal(db, "test", "test.owner", "ok")  # an intake row for the DELETE and UPDATE to meet
    for forbidden in ("UPDATE journal SET result = 'forged'", "DELETE FROM journal", "TRUNCATE journal",
                      "UPDATE journal_intake SET result = 'forged'", "TRUNCATE journal_intake"):
        with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
            db.execute(forbidden)
    with pytest.raises(psycopg.errors.RestrictViolation, match="only through gs_journal_seal"):
        db.execute("DELETE FROM journal_intake")
    for forbidden in ("DELETE FROM journal_head", "TRUNCATE journal_head"):
        with pytest.raises(psycopg.errors.RestrictViolation, match="journal head"):
            db.execute(forbidden)
    assert verify_chain(db).ok


# --- verify catches tampering -------------------------------------------------------------------

def test_verify_names_a_changed_row(database_url, db):
    seqs = _write(db, 5, "changed")
    victim = seqs[2]
    assert verify_chain(db).ok
    ok = _cli(database_url, "journal", "verify")
    assert ok.returncode == 0 and ok.stdout.startswith("OK:"), ok.stdout + ok.stderr
    original = _row(db, victim)
    with tampering(database_url) as su:
        su.execute("UPDATE journal SET result = 'rejected' WHERE seq = %s", (victim,))
        try:
            report = verify_chain(db)
            assert (report.first_broken_seq, report.reason) == (victim, "journal.row_changed")
            assert str(victim) in report.text("ru") and str(victim) in report.text("kk")
            cli = _cli(database_url, "journal", "verify")
            assert cli.returncode == 1
            assert f"BROKEN at row {victim} " in cli.stderr and "changed" in cli.stderr
        finally:
            _put_back(su, original)
    assert verify_chain(db).ok


def test_verify_names_a_row_rewritten_with_its_hash_by_the_next_link(database_url, db):
    seqs = _write(db, 3, "rehashed")
    victim = seqs[1]
    original = _row(db, victim)
    text = db.execute("SELECT detail::text FROM journal WHERE seq = %s", (victim,)).fetchone()[0]
    forged = row_hash(bytes(original["prev_hash"]), canonical(
        victim, original["at"], "IIN000000000000", original["action"], original["result"], original["object"],
        original["layer_id"], original["version"], original["client"], text))
    with tampering(database_url) as su:
        su.execute("UPDATE journal SET actor = 'IIN000000000000', hash = %s WHERE seq = %s", (forged, victim))
        try:
            report = verify_chain(db)
            assert (report.first_broken_seq, report.reason) == (victim + 1, "journal.link_broken")
        finally:
            _put_back(su, original)
    assert verify_chain(db).ok


def test_verify_names_a_deleted_row(database_url, db):
    seqs = _write(db, 4, "deleted")
    victim = seqs[1]
    original = _row(db, victim)
    with tampering(database_url) as su:
        su.execute("DELETE FROM journal WHERE seq = %s", (victim,))
        try:
            report = verify_chain(db)
            assert (report.first_broken_seq, report.reason) == (victim, "journal.missing_rows")
            cli = _cli(database_url, "journal", "verify")
            assert cli.returncode == 1 and f"BROKEN at row {victim} " in cli.stderr
        finally:
            _put_back(su, original)
    assert verify_chain(db).ok


def test_verify_names_the_deleted_last_row(database_url, db):
    last = _write(db, 2, "tail")[-1]
    original = _row(db, last)
    with tampering(database_url) as su:
        su.execute("DELETE FROM journal WHERE seq = %s", (last,))
        try:
            report = verify_chain(db)
            assert (report.first_broken_seq, report.reason) == (last, "journal.tail_missing")
        finally:
            _put_back(su, original)
    assert verify_chain(db).ok


def test_verify_names_an_inserted_row(database_url, db):
    """A row added without sealing, even one chained correctly onto the last row, is beyond the
    head; one that does not link is named by its link."""
    last = _row(db, _write(db, 1, "inserted")[0])
    seq, at = last["seq"] + 1, dt.datetime.now(dt.UTC)
    good = row_hash(bytes(last["hash"]), canonical(seq, at, "intruder", "test.smuggle", "ok", None, None, None,
                                                   None, "{}"))
    with tampering(database_url) as su:
        su.execute("INSERT INTO journal (seq, at, actor, action, result, detail, prev_hash, hash) "
                   "VALUES (%s, %s, 'intruder', 'test.smuggle', 'ok', '{}', %s, %s)", (seq, at, last["hash"], good))
        try:
            report = verify_chain(db)
            assert (report.first_broken_seq, report.reason) == (seq, "journal.beyond_head")
            su.execute("UPDATE journal SET prev_hash = %s WHERE seq = %s", (GENESIS, seq))
            report = verify_chain(db)
            assert (report.first_broken_seq, report.reason) == (seq, "journal.link_broken")
            cli = _cli(database_url, "journal", "verify")
            assert cli.returncode == 1 and f"BROKEN at row {seq} " in cli.stderr
        finally:
            su.execute("DELETE FROM journal WHERE seq = %s", (seq,))
    assert verify_chain(db).ok


def test_verify_leaves_rows_waiting_in_the_intake_out_and_counts_them(database_url, db):
    """A connection inside a transaction does not seal: committed intake rows are outside the
    chain, counted, and no break."""
    _write(db, 2, "pending")
    store.journal(db, "test", "test.pending", "ok")  # committed, not sealed
    with psycopg.connect(database_url) as conn:
        conn.execute("SELECT 1")  # a transaction under way
        report = verify_chain(conn)
    assert report.ok and report.pending >= 1, report.text()
    assert report.text("ru") and verify_chain(db).pending == 0


# --- 32 writers at once, two sealers racing --------------------------------------------------------

def test_32_concurrent_writers_leave_no_gap_and_one_linear_chain(database_url, db):
    """32 writers (a quarter of their transactions rolled back) while two sealers seal in small
    batches: every committed row is sealed once, rolled-back ones never, the numbers have no
    gap, the chain is one line, and each writer's rows keep its order."""
    writers, per_writer, tag = 32, 12, uuid.uuid4().hex[:8]
    start = _head(sealed(db))
    barrier = threading.Barrier(writers + 2)
    committed: set[tuple[int, int]] = set()
    rolled_back: set[tuple[int, int]] = set()
    errors: list[BaseException] = []
    lock = threading.Lock()
    writing = threading.Event()
    writing.set()
    sealed_by: list[int] = [0, 0]

    def write(w: int) -> None:
        try:
            with psycopg.connect(database_url) as conn:
                barrier.wait()
                for i in range(per_writer):
                    store.journal(conn, f"writer{w}", "test.concurrent", "ok", object=f"test:w{w}",
                                  detail={"run": tag, "w": w, "i": i})
                    if (w + i) % 4 == 0:
                        time.sleep(0.001)  # a moment in the transaction, then nothing of it stays
                        conn.rollback()
                        with lock:
                            rolled_back.add((w, i))
                        continue
                    conn.commit()
                    with lock:
                        committed.add((w, i))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def seal_loop(k: int) -> None:
        try:
            with psycopg.connect(database_url, autocommit=True) as conn:
                barrier.wait()
                while writing.is_set():
                    sealed_by[k] += conn.execute("SELECT gs_journal_seal(7)").fetchone()[0]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    sealers = [threading.Thread(target=seal_loop, args=(k,)) for k in range(2)]
    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in sealers + threads:
        t.start()
    for t in threads:
        t.join()
    writing.clear()
    for t in sealers:
        t.join()
    assert errors == []
    assert sealed_by[0] > 0 and sealed_by[1] > 0, sealed_by  # both sealed, in turns
    sealed(db)
    assert len(committed) == writers * per_writer - writers * per_writer // 4
    rows = _assert_linear(db, start)
    ours = [(d["w"], d["i"]) for _, d in rows if d.get("run") == tag]
    assert len(rows) == len(ours) == len(set(ours)) == len(committed)  # nothing else, nothing twice
    assert set(ours) == committed and not set(ours) & rolled_back
    for w in range(writers):
        assert [i for ww, i in ours if ww == w] == sorted(i for ww, i in committed if ww == w)
    assert db.execute("SELECT count(*) FROM journal_intake WHERE detail->>'run' = %s", (tag,)).fetchone() == (0,)
    report = verify_chain(db)
    assert report.ok, report.text()


def _waiting_for_a_lock(db: psycopg.Connection, pid: int, deadline: float = 10.0) -> None:
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        if db.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone() == ("Lock",):
            return
        time.sleep(0.01)
    raise AssertionError(f"session {pid} never waited for the head")


@pytest.mark.parametrize("first_ends", ["commit", "rollback"])
def test_a_sealer_waiting_for_another_continues_its_chain(database_url, db, first_ends):
    """Two sealers at once: the second waits for the head while the first holds it, then seals
    only what the first did not take (or, when the first rolled back, all of it), after the
    first's rows: no fork, no row twice, no gap."""
    tag = uuid.uuid4().hex[:8]
    start = _head(sealed(db))
    for i in range(10):
        store.journal(db, "test", "test.race", "ok", object=f"race:{tag}", detail={"i": i})
    second: list[int] = []
    with psycopg.connect(database_url) as first, psycopg.connect(database_url, autocommit=True) as other:
        assert first.execute("SELECT gs_journal_seal(4)").fetchone() == (4,)  # holds the head
        pid = other.info.backend_pid
        racer = threading.Thread(target=lambda: second.append(other.execute("SELECT gs_journal_seal(100)")
                                                              .fetchone()[0]))
        racer.start()
        _waiting_for_a_lock(db, pid)
        if first_ends == "commit":
            first.commit()
        else:
            first.rollback()
        racer.join(timeout=30)
    assert second == ([6] if first_ends == "commit" else [10])
    rows = _assert_linear(db, start)
    assert [d["i"] for _, d in rows] == list(range(10))
    assert verify_chain(db).ok


# --- reading it ----------------------------------------------------------------------------------

def test_read_journal_filters_and_pages(db):
    tag = uuid.uuid4().hex[:8]
    actor = f"IIN{tag}"
    for i in range(7):
        store.journal(db, actor, "test.read", "ok" if i % 2 else "rejected", object=f"doc:{tag}:{i % 3}",
                      detail={"i": i})
    store.journal(db, "someone-else", "test.read", "ok", object=f"doc:{tag}:0")
    mine = JournalFilter(actor=actor)
    # read_journal seals what is committed before it reads: the rows are there at once.
    seqs = [r.seq for r in read_journal(db, mine).rows]
    assert len(seqs) == 7
    pages, after = [], 0
    while True:
        page = read_journal(db, mine, after, 3)
        pages.append([r.seq for r in page.rows])
        if page.next_after is None:
            break
        after = page.next_after
    assert pages == [seqs[:3], seqs[3:6], seqs[6:]]
    assert [r.seq for r in read_journal(db, JournalFilter(actor=actor, result="rejected")).rows] == seqs[::2]
    assert [r.seq for r in read_journal(db, JournalFilter(object=f"doc:{tag}:0")).rows] == [seqs[0], seqs[3],
                                                                                           seqs[6], seqs[6] + 1]
    assert read_journal(db, JournalFilter(actor=actor, action="test.other")).rows == []
    rows = read_journal(db, mine).rows
    window = JournalFilter(actor=actor, since=rows[2].at, until=rows[4].at)
    assert [r.seq for r in read_journal(db, window).rows] == seqs[2:5]
    assert [r.seq for r in iter_journal(db, mine, seqs[1])] == seqs[2:]
    assert rows[0].as_dict()["detail"] == {"i": 0} and len(rows[0].as_dict()["hash"]) == 64


@pytest.fixture(scope="module")
def app_client(database_url: str) -> Iterator[tuple[Any, TestClient]]:
    from geoservice.app import create_app
    from geoservice.kernel.settings import get_settings

    get_settings.cache_clear()
    app = create_app()
    with TestClient(app) as c:
        yield app, c


def test_the_journal_is_for_the_auditor_only(app_client, database_url):
    _, client = app_client
    anonymous = client.get("/api/journal")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")
    with psycopg.connect(database_url) as conn:
        _, token = create_token(conn, "operator", "journal auditor test")
        conn.commit()
    authority = client.get("/api/journal", headers={"Authorization": f"Bearer {token}"})
    assert authority.status_code == 403
    assert "auditor" in authority.json()["detail"]


def test_the_apps_sealer_seals_an_upload(app_client, db, tmp_path, keep_current):
    """Nobody reads the journal here: the server's own sealer puts the upload's row in the chain."""
    app, client = app_client
    _, token = create_token(db, "operator", "sealer test")
    path = write_json(tmp_path / "sealer.geojson", zones(2, prefix="SEAL"))
    r = client.post("/api/layers/restriction-zones/uploads", headers={"Authorization": f"Bearer {token}"},
                    files={"file": (path.name, path.read_bytes())})
    assert r.status_code == 201, r.text
    answered, version = time.monotonic(), r.json()["version"]
    query = ("SELECT seq FROM journal WHERE action = 'upload' AND result = 'ok' AND layer_id = 'restriction-zones' "
             "AND version = %s")
    found = db.execute(query, (version,)).fetchone()
    # The sealer runs every second; polled for longer, a loaded machine may be slower.
    while found is None and time.monotonic() - answered < 30:
        time.sleep(0.02)
        found = db.execute(query, (version,)).fetchone()
    assert found is not None, "the upload's journal row was never sealed"
    assert app.state.sealer.sealed > 0
    assert db.execute("SELECT count(*) FROM journal_intake WHERE action = 'upload' AND version = %s",
                      (version,)).fetchone() == (0,)


@pytest.fixture
def as_auditor(app_client, database_url) -> Iterator[TestClient]:
    """The app's client carrying a real auditor's session (signed in as the cabinet does)."""
    from tests.people import ensure_people, session_for

    _, client = app_client
    token = session_for(database_url, ensure_people(database_url)["auditor"])
    client.headers["Authorization"] = f"Bearer {token}"
    try:
        yield client
    finally:
        del client.headers["Authorization"]


def test_only_the_auditor_reads_the_journal(app_client, database_url):
    from tests.people import ensure_people, session_for

    _, client = app_client
    people = ensure_people(database_url)
    assert client.get("/api/journal").status_code == 401
    for role in ("applicant", "officer", "commission", "admin"):
        r = client.get("/api/journal", headers={"Authorization": f"Bearer {session_for(database_url, people[role])}"})
        assert r.status_code == 403 and r.json()["type"].endswith("auth.role_required"), role
    r = client.get("/api/journal?limit=1",
                   headers={"Authorization": f"Bearer {session_for(database_url, people['auditor'])}"})
    assert r.status_code == 200 and len(r.json()["rows"]) == 1


def test_the_api_pages_filters_and_exports(as_auditor, db):
    client = as_auditor
    tag = uuid.uuid4().hex[:8]
    actor = f"IIN{tag}"
    for i in range(5):
        store.journal(db, actor, "test.api", "ok", object=f"doc:{tag}", detail={"i": i, "x": 1.50})
    got, url = [], f"/api/journal?actor={actor}&limit=2"
    while url:
        r = client.get(url)
        assert r.status_code == 200, r.text
        body = r.json()
        got.append([row["seq"] for row in body["rows"]])
        assert ("link" in r.headers) == (body["next"] is not None)
        url = body["next"]
    # Sealed by the route before it read (or by the app's sealer), not by the test.
    seqs = [r[0] for r in db.execute("SELECT seq FROM journal WHERE actor = %s ORDER BY seq", (actor,)).fetchall()]
    assert len(seqs) == 5 and got == [seqs[:2], seqs[2:4], seqs[4:]]
    row = client.get(f"/api/journal?actor={actor}&limit=1").json()["rows"][0]
    assert row["object"] == f"doc:{tag}" and row["at"].endswith("Z") and len(row["prev_hash"]) == 64

    first = row["at"]
    r = client.get("/api/journal", params={"actor": actor, "from": first, "to": "2999-01-01T05:00:00+05:00"})
    assert [x["seq"] for x in r.json()["rows"]] == seqs
    assert client.get("/api/journal", params={"actor": actor, "to": first}).json()["rows"][-1]["seq"] == seqs[0]

    # CSV, streamed when no limit is given: the header, the rows, the hashes; the chain's detail text.
    import csv
    import io

    r = client.get("/api/journal", params={"actor": actor, "f": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(r.text)))
    assert table[0] == list(COLUMNS) and [int(x[0]) for x in table[1:]] == seqs
    assert table[1][9] == '{"i": 0, "x": 1.5}'
    hashes = [bytes.fromhex(x[11]) for x in table[1:]]
    assert [bytes.fromhex(x[10]) for x in table[2:]] == hashes[:-1]
    paged = client.get(f"/api/journal?actor={actor}&limit=3", headers={"Accept": "text/csv"})
    assert paged.headers["content-type"].startswith("text/csv") and len(paged.text.strip().splitlines()) == 4
    assert f"after={seqs[2]}" in paged.headers["link"]


@pytest.mark.parametrize(("query", "code", "word"), [
    ({"from": "yesterday"}, "journal.bad_time", "from"),
    ({"to": "2025-03-01"}, "journal.bad_time", "to"),
    ({"to": "2025-02-30T00:00:00Z"}, "journal.bad_time", "to"),
    ({"from": "2025-03-02T00:00:00Z", "to": "2025-03-01T00:00:00Z"}, "journal.bad_range", "from"),
    ({"limit": "0"}, "journal.bad_limit", "limit"),
    ({"limit": "1001"}, "journal.bad_limit", "limit"),
    ({"limit": "ten"}, "journal.bad_limit", "limit"),
    ({"after": "-1"}, "journal.bad_after", "after"),
    ({"f": "xml"}, "journal.bad_format", "'f'"),
])
def test_bad_parameters_are_problems(as_auditor, query, code, word):
    for lang, marker in (("en", "Parameter" if code != "journal.bad_range" else "range"), ("ru", "а"),
                         ("kk", "а")):
        r = as_auditor.get("/api/journal", params=query, headers={"Accept-Language": lang})
        assert r.status_code == 400
        assert r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert body["type"] == f"urn:geoservice:problem:{code}"
        assert word in body["detail"] and marker in body["detail"]

"""Telling a database outage (down, restarting, out of connections, unreachable) from a fault
of ours, whichever driver saw it: the HTTP layer answers the first with 503 and Retry-After, and
background loops log it in one line instead of a traceback every few seconds."""

from __future__ import annotations

import socket

import asyncpg
import psycopg

# SQLSTATEs that mean "the database is not there right now", besides class 08 (connection
# exception): admin shutdown, crash shutdown, "the database system is starting up / shutting
# down", too many connections.
OUTAGE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})

# A server that ends a session (shutdown, restart, pg_terminate_backend) sends it a FATAL
# message, then closes its socket. asyncpg reads a message that comes outside any query as a
# protocol error and waits, in its error state (2), for a ReadyForQuery that never comes; until
# it reads the close, the pool hands that connection out and its next query fails with
# InternalClientError "cannot switch to state N; another operation (2) is in progress"
# (MagicStack/asyncpg#1069). Between queries, only a message the server sent unasked leaves it
# in that state, so this text is the session having been ended.
ASYNCPG_ENDED_SESSION = "another operation (2) is in progress"


def _is_outage_error(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        # refused, reset, broken pipe; a connect or pool wait that timed out; the database's
        # host name gone (a stopped compose service no longer resolves)
        return True
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(exc, asyncpg.PostgresError | psycopg.Error) and sqlstate:
        return sqlstate.startswith("08") or sqlstate in OUTAGE_SQLSTATES
    if isinstance(exc, psycopg.OperationalError):
        # No SQLSTATE: libpq lost or could not make the connection (psycopg_pool's PoolTimeout too).
        return True
    if isinstance(exc, asyncpg.InternalClientError):
        return ASYNCPG_ENDED_SESSION in str(exc)
    return isinstance(exc, asyncpg.InterfaceError) and "connection is closed" in str(exc)


def is_outage(exc: BaseException) -> bool:
    """Is ``exc`` the database being unreachable (down, restarting, out of connections), seen
    through asyncpg or psycopg, possibly as the cause of another error?"""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if _is_outage_error(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False

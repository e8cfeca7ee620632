"""The platform journal for the auditor: GET /api/journal (filters, keyset paging, JSON or CSV)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from geoservice.deps import DatabaseDep, admits
from geoservice.kernel.db import Database
from geoservice.kernel.errors import Problem
from layers.access import Caller
from layers.journal import COLUMNS, JournalFilter, iter_journal, read_journal

router = APIRouter(prefix="/api", tags=["journal"])

# Module-level so that it is one dependency (tests put a signed-in auditor in its place).
AUDITOR = admits("auditor")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# RFC 3339 date-time: a time and an offset are required (a bare date is a day, not an instant).
DATE_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


def parse_time(name: str, text: str | None) -> dt.datetime | None:
    """A strict RFC 3339 date-time (a space before the offset is a '+' the query decoded); a
    400 naming the parameter otherwise."""
    if text is None or text == "":
        return None
    m = DATE_TIME.fullmatch(text.strip())
    try:
        if m is None:
            raise ValueError(text)
        year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
        micro = int(((m.group(7) or ".")[1:] + "000000")[:6])
        offset = m.group(8)
        zone = dt.UTC
        if offset not in ("Z", "z"):
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            if hours > 23 or minutes > 59:
                raise ValueError(text)
            zone = dt.timezone((-1 if offset[0] == "-" else 1) * dt.timedelta(hours=hours, minutes=minutes))
        # A leap second (:60) is the last moment of its minute.
        return dt.datetime(year, month, day, hour, minute, min(second, 59), micro if second < 60 else 999999,
                           tzinfo=zone)
    except (ValueError, OverflowError):
        raise Problem("journal.bad_time", 400, parameter=name, value=text[:80]) from None


def _count(name: str, text: str | None, default: int, high: int) -> int:
    """``limit`` (1..high) or ``after`` (0..high): plain decimal digits, else a 400."""
    if text is None or text == "":
        return default
    low = 1 if name == "limit" else 0
    if not re.fullmatch(r"\d{1,19}", text.strip(), re.ASCII) or not low <= int(text) <= high:
        if name == "limit":
            raise Problem("journal.bad_limit", 400, value=text[:40], max=high)
        raise Problem("journal.bad_after", 400, value=text[:40])
    return int(text)


def _wants_csv(request: Request, f: str | None) -> bool:
    if f is not None and f != "":
        if f.lower() not in ("json", "csv"):
            raise Problem("journal.bad_format", 400, value=f[:40])
        return f.lower() == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


def _csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _stream_csv(db: Database, filters: JournalFilter, after: int) -> Iterator[bytes]:
    # Its own connection: the export outlives the route's, and streams from a server-side cursor.
    with db.connection() as conn:
        yield _csv_text([list(COLUMNS)]).encode()
        chunk: list[list[str]] = []
        for row in iter_journal(conn, filters, after):
            chunk.append(row.as_csv())
            if len(chunk) >= 1000:
                yield _csv_text(chunk).encode()
                chunk = []
        if chunk:
            yield _csv_text(chunk).encode()


@router.get("/journal")
def get_journal(who: Annotated[Caller, AUDITOR], request: Request, db: DatabaseDep,
                actor: str | None = None, object: str | None = None, action: str | None = None,
                result: str | None = None, since: Annotated[str | None, Query(alias="from")] = None,
                until: Annotated[str | None, Query(alias="to")] = None, after: str | None = None,
                limit: str | None = None, f: str | None = None) -> Any:
    """The journal, in number order: ``actor``, ``object``, ``action``, ``result`` (exact),
    ``from``/``to`` (RFC 3339 date-times, both ends included), ``after`` (the row number the
    previous page ended on: the ``next`` link carries it) and ``limit`` (1–1000, 100 by
    default). JSON by default; CSV with ``f=csv`` or ``Accept: text/csv`` (header and the hash
    columns; without ``limit`` the whole selection, streamed)."""
    filters = JournalFilter(actor=actor or None, object=object or None, action=action or None,
                            result=result or None, since=parse_time("from", since), until=parse_time("to", until))
    if filters.since is not None and filters.until is not None and filters.since > filters.until:
        raise Problem("journal.bad_range", 400, start=since, end=until)
    after_seq = _count("after", after, 0, 2**63 - 1)
    as_csv = _wants_csv(request, f)
    if as_csv and (limit is None or limit == ""):
        return StreamingResponse(_stream_csv(db, filters, after_seq), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": 'attachment; filename="journal.csv"'})
    page_size = _count("limit", limit, DEFAULT_LIMIT, MAX_LIMIT)
    with db.connection() as conn:
        page = read_journal(conn, filters, after_seq, page_size)
    next_url = str(request.url.include_query_params(after=page.next_after)) if page.next_after is not None else None
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else {}
    if as_csv:
        body = _csv_text([list(COLUMNS), *(r.as_csv() for r in page.rows)])
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
    return Response(content=_json({"rows": [r.as_dict() for r in page.rows], "next": next_url}),
                    media_type="application/json", headers=headers)


def _json(content: dict[str, Any]) -> bytes:
    return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()

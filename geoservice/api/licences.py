"""The open licence registry (no sign-in): the list with filters and ``at=DATE``, one licence with
its history, bulk downloads (CSV, GeoPackage) and a change feed (JSON Feed 1.1, Atom) for other
registries to mirror."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import tempfile
from collections.abc import Iterator
from typing import Annotated, Any
from xml.sax.saxutils import escape

import numpy as np
import pyogrio.raw
import shapely
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from cadastre import licence_history
from cadastre import licences as reg
from geoservice.deps import PUBLIC, DatabaseDep
from geoservice.kernel import clock
from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import negotiate, translate

router = APIRouter(prefix="/api", tags=["licences"])
DEFAULT_LIMIT = 100
FEED_LIMIT = 100
FEED_TITLES = {"issue": "licences.feed_issue", "change": "licences.feed_change"}
CSV_COLUMNS = ("number", "holder_iin", "holder_bin", "holder_name", "kind", "mineral", "blocks", "wkt",
               "issued_on", "term_until", "status", "source", "conditions", "state_since")


def _bad(parameter: str, value: str) -> Problem:
    return Problem("licences.bad_param", 400, parameter=parameter, value=value[:80])


def _text(name: str, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if "\x00" in value or len(value) > 500 or any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise _bad(name, value.replace("\x00", "\\0"))
    return value


def _date(name: str, value: str | None) -> dt.date | None:
    value = _text(name, value)
    if value is None:
        return None
    try:
        # A date, or a date-time whose Almaty day is meant (the registry keeps days).
        if len(value) == 10:
            return dt.date.fromisoformat(value)
        moment = dt.datetime.fromisoformat(value.replace(" ", "+").replace("z", "Z"))
        if moment.tzinfo is None:
            raise ValueError(value)
        return moment.astimezone(clock.KAZAKHSTAN).date()
    except ValueError:
        raise _bad(name, value) from None


def _int(name: str, value: str | None, default: int, low: int, high: int) -> int:
    value = _text(name, value)
    if value is None:
        return default
    if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
        raise _bad(name, value)
    return int(value)


def _filters(holder: Annotated[str | None, Query(description="IIN/BIN, or part of the holder's name")] = None,
             kind: Annotated[str | None, Query(description=", ".join(reg.KINDS))] = None,
             mineral: Annotated[str | None, Query(description="mineral (any case)")] = None,
             status: Annotated[str | None, Query(description=", ".join(reg.STATUSES))] = None,
             bbox: Annotated[str | None, Query(description="W,S,E,N in EPSG:4326")] = None,
             at: Annotated[str | None, Query(description="YYYY-MM-DD: as of that day (default today)")] = None,
             ) -> tuple[dt.date | None, reg.LicenceFilter]:
    kind, status = _text("kind", kind), _text("status", status)
    if kind is not None and kind not in reg.KINDS:
        raise _bad("kind", kind)
    if status is not None and status not in reg.STATUSES:
        raise _bad("status", status)
    box = None
    if (text := _text("bbox", bbox)) is not None:
        try:
            parts = tuple(float(p) for p in text.split(","))
        except ValueError:
            raise _bad("bbox", text) from None
        if len(parts) != 4 or not all(math.isfinite(p) for p in parts) or not (
                -180 <= parts[0] <= parts[2] <= 180 and -90 <= parts[1] <= parts[3] <= 90):
            raise _bad("bbox", text)
        box = (parts[0], parts[1], parts[2], parts[3])
    filters = reg.LicenceFilter(holder=_text("holder", holder), kind=kind, mineral=_text("mineral", mineral),
                                status=status, bbox=box)
    return _date("at", at), filters


FiltersDep = Annotated[tuple[dt.date | None, reg.LicenceFilter], Depends(_filters)]


@router.get("/licences", dependencies=[PUBLIC])
def list_licences(request: Request, db: DatabaseDep, chosen: FiltersDep,
                  after: Annotated[str | None, Query(description="the last number of the previous page")] = None,
                  limit: Annotated[str | None, Query(description="1-1000 (100)")] = None) -> JSONResponse:
    """Licences as they stood on ``at`` (default today): filters ``holder`` (IIN/BIN or part of
    the name), ``kind``, ``mineral``, ``status``, ``bbox`` (W,S,E,N); keyset paging by number
    (``after``, ``limit`` ≤ 1000; the ``next`` link carries them)."""
    at, filters = chosen
    count = _int("limit", limit, DEFAULT_LIMIT, 1, reg.MAX_LIMIT)
    after = _text("after", after)
    with db.connection() as conn:
        day = at or reg.today(conn)
        rows = reg.licences_at(conn, day, filters, after=after, limit=count)
    nxt = str(request.url.include_query_params(after=rows[-1]["number"], limit=count)) \
        if len(rows) == count else None
    headers = {"Link": f'<{nxt}>; rel="next"'} if nxt and len(nxt) < 4000 else {}
    return JSONResponse({"at": day.isoformat(), "licences": rows, "next": nxt}, headers=headers)


def _csv_rows(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for n, r in enumerate(rows):
        geom = shapely.from_geojson(json.dumps(r["geometry"]))
        wkt = shapely.to_wkt(geom, rounding_precision=-1)
        writer.writerow([r["number"], r["holder"].get("iin", ""), r["holder"].get("bin", ""), r["holder"]["name"],
                         r["kind"], r["mineral"] or "", ", ".join(r["blocks"]), wkt,
                         r["issued_on"], r["term_until"] or "", r["status"], r["source"],
                         json.dumps(r["conditions"], ensure_ascii=False), r["state_since"]])
        if n % 200 == 199:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@router.get("/licences.csv", dependencies=[PUBLIC])
def download_csv(db: DatabaseDep, chosen: FiltersDep) -> StreamingResponse:
    """Every licence matching the filters, as CSV (geometry as WKT in EPSG:4326; the columns the
    import reads, plus source, conditions and since when the state holds)."""
    at, filters = chosen
    with db.connection() as conn:
        day = at or reg.today(conn)
        rows = list(reg.iter_licences(conn, day, filters))
    return StreamingResponse(_csv_rows(iter(rows)), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="licences-{day.isoformat()}.csv"'})


@router.get("/licences.gpkg", dependencies=[PUBLIC])
def download_gpkg(db: DatabaseDep, chosen: FiltersDep) -> StreamingResponse:
    """Every licence matching the filters, as a GeoPackage (layer ``licences``, EPSG:4326)."""
    at, filters = chosen
    with db.connection() as conn:
        day = at or reg.today(conn)
        rows = list(reg.iter_licences(conn, day, filters))
    fields = ["number", "holder_iin", "holder_bin", "holder_name", "kind", "mineral", "blocks", "issued_on",
              "term_until", "status", "source", "conditions", "state_since"]
    data = [np.array([_gpkg_value(r, f) for r in rows], dtype=object) for f in fields]
    geometry = np.array([shapely.to_wkb(shapely.from_geojson(json.dumps(r["geometry"]))) for r in rows],
                        dtype=object)
    fd, path = tempfile.mkstemp(suffix=".gpkg", prefix="licences-")
    os.close(fd)
    os.unlink(path)  # GDAL makes the file itself
    try:
        pyogrio.raw.write(path, geometry, data, fields, layer="licences", driver="GPKG", crs="EPSG:4326",
                          geometry_type="MultiPolygon", encoding="UTF-8")
        size = os.path.getsize(path)
    except Exception:
        if os.path.exists(path):
            os.unlink(path)
        raise

    def chunks() -> Iterator[bytes]:
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                yield block

    return StreamingResponse(chunks(), media_type="application/geopackage+sqlite3",
                             background=BackgroundTask(os.unlink, path), headers={
                                 "Content-Length": str(size),
                                 "Content-Disposition": f'attachment; filename="licences-{day.isoformat()}.gpkg"'})


def _gpkg_value(r: dict[str, Any], field: str) -> Any:
    if field in ("holder_iin", "holder_bin"):
        return r["holder"].get(field.removeprefix("holder_"))
    if field == "holder_name":
        return r["holder"]["name"]
    if field == "blocks":
        return ", ".join(r["blocks"])
    if field == "conditions":
        return json.dumps(r["conditions"], ensure_ascii=False)
    return r[field]


@router.get("/licences/feed", dependencies=[PUBLIC])
def change_feed(request: Request, db: DatabaseDep,
                since: Annotated[str | None, Query(description="a journal number: changes after it (0)")] = None,
                limit: Annotated[str | None, Query(description="1-1000 (100)")] = None,
                f: Annotated[str | None, Query(description="json (JSON Feed 1.1) or atom")] = None) -> Response:
    """Changes after the journal row ``since`` (0: from the start), oldest first, as JSON Feed
    1.1 (``f=atom`` or ``Accept: application/atom+xml``: Atom). Each item's id is its journal
    number: ask again with ``since`` = the last one (``next_url``)."""
    after = _int("since", since, 0, 0, 2**62)
    count = _int("limit", limit, FEED_LIMIT, 1, reg.MAX_LIMIT)
    fmt = _text("f", f)
    if fmt not in (None, "json", "atom"):
        raise _bad("f", fmt)
    atom = fmt == "atom" or (fmt is None and "application/atom+xml" in request.headers.get("accept", ""))
    lang = negotiate(request.headers.get("accept-language"))
    with db.connection() as conn:
        items = reg.feed(conn, after, count)
    base = str(request.base_url).rstrip("/")
    last = items[-1]["seq"] if items else after
    nxt = f"{base}/api/licences/feed?since={last}&limit={count}" + ("&f=atom" if atom else "")
    title = translate("licences.feed_title", lang)
    if atom:
        return Response(_atom(items, base, title, nxt, after), media_type="application/atom+xml")
    return JSONResponse({
        "version": "https://jsonfeed.org/version/1.1", "title": title, "language": lang,
        "home_page_url": f"{base}/api/licences", "feed_url": str(request.url), "next_url": nxt,
        "items": [{
            "id": str(i["seq"]), "url": f"{base}/api/licences/{i['number']}",
            "title": translate(FEED_TITLES[i["action"]], lang, number=i["number"]),
            "content_text": translate(FEED_TITLES[i["action"]], lang, number=i["number"])
            + ": " + ", ".join(sorted(i["changes"])),
            "date_published": i["at"], "_licence": i,
        } for i in items],
    }, media_type="application/feed+json")


def _atom(items: list[dict[str, Any]], base: str, title: str, nxt: str, since: int) -> str:
    updated = items[-1]["at"] if items else dt.datetime.now(dt.UTC).isoformat()
    out = ['<?xml version="1.0" encoding="utf-8"?>', '<feed xmlns="http://www.w3.org/2005/Atom">',
           f"<id>{escape(base)}/api/licences/feed?since={since}</id>", f"<title>{escape(title)}</title>",
           f"<updated>{escape(updated)}</updated>", f'<link rel="next" href="{escape(nxt)}"/>']
    for i in items:
        out += ["<entry>", f"<id>{escape(base)}/api/licences/feed/{i['seq']}</id>",
                f"<title>{escape(i['number'])}: {escape(i['action'])}</title>", f"<updated>{escape(i['at'])}</updated>",
                f'<link href="{escape(base)}/api/licences/{escape(i["number"])}"/>',
                f'<content type="text">{escape(json.dumps(i, ensure_ascii=False))}</content>',
                "</entry>"]
    out.append("</feed>")
    return "\n".join(out)


@router.get("/licences/{number}", dependencies=[PUBLIC])
def get_licence(request: Request, number: str, db: DatabaseDep,
                at: Annotated[str | None, Query(description="YYYY-MM-DD (default today)")] = None) -> dict[str, Any]:
    """One licence as it stood on ``at`` (default today), with its whole change history and its
    obligations of that day (open ones when ``at`` is not given), legal basis in the request's
    language."""
    day = _date("at", at)
    _text("number", number)
    lang = negotiate(request.headers.get("accept-language"))
    with db.connection() as conn:
        found = reg.get_licence(conn, number, day)
        if found is not None:
            found["obligations"] = licence_history.current_obligations(conn, number, day, lang)
    if found is None:
        raise Problem("licences.not_found", 404, number=number[:100])
    return found


@router.get("/licences/{number}/history", dependencies=[PUBLIC])
def licence_changes(request: Request, number: str, db: DatabaseDep,
                    at: Annotated[str | None, Query(description="YYYY-MM-DD: as of that day")] = None,
                    ) -> dict[str, Any]:
    """The licence's changes and its obligations' changes (opened, closed, a new status), each
    with its basis, actor, time and effective date, in the order they were recorded. With
    ``at``: the licence and its obligations as they stood on that day, and the changes in
    effect by then."""
    day = _date("at", at)
    _text("number", number)
    lang = negotiate(request.headers.get("accept-language"))
    with db.connection() as conn:
        found = licence_history.history(conn, number, day, lang)
    if found is None:
        raise Problem("licences.not_found", 404, number=number[:100])
    return found

"""Analytics for the authorities (issue 11): the dashboard's charts as JSON rows, CSV and XLSX,
behind the authority roles; and Kazakhstan's regions as a public boundary layer (GeoJSON).

``GET /api/analytics`` lists the charts (titles, columns, which filters each takes) and the
filters' choices; ``GET /api/analytics/{chart}`` answers its rows, ``{chart}.csv`` and
``{chart}.xlsx`` the same rows as files (headings in the request's language). Filters:
``since``, ``until``, ``at`` (dates), ``authority``, ``mineral``, ``region`` (a code, or ``none``
for licences outside every region), ``grain`` (``month``/``year``, time series only)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from openpyxl import Workbook

from cadastre import analytics
from geoservice.deps import PUBLIC, DatabaseDep, admits
from geoservice.kernel import clock
from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import negotiate, translate
from layers.access import Caller

router = APIRouter(prefix="/api", tags=["analytics"])
AUTHORITY_ROLES = admits("officer", "auditor", "admin")
LANGS = ("kk", "ru", "en")
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# The dashboard's map needs the outlines, not survey accuracy: about 500 m.
REGION_TOLERANCE = 0.005


def _lang(request: Request) -> str:
    chosen = request.query_params.get("lang")
    return chosen if chosen in LANGS else negotiate(request.headers.get("accept-language"))


def _bad(name: str, value: str) -> Problem:
    return Problem("analytics.bad_filter", 422, parameter=name, value=value[:80])


def _date(request: Request, name: str) -> dt.date | None:
    value = request.query_params.get(name) or None
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _bad(name, value) from None


def _choice(request: Request, name: str, allowed: set[str]) -> str | None:
    value = request.query_params.get(name) or None
    if value is not None and value not in allowed:
        raise _bad(name, value)
    return value


def filters(request: Request, conn: Any) -> analytics.Filters:
    """The filters of the query string, checked against what exists."""
    choices = analytics.choices(conn, "en")
    f = analytics.Filters(
        since=_date(request, "since"), until=_date(request, "until"), at=_date(request, "at"),
        authority=_choice(request, "authority", {c["id"] for c in choices["authority"]}),
        mineral=_choice(request, "mineral", {c["id"] for c in choices["mineral"]}),
        region=_choice(request, "region", {c["id"] for c in choices["region"]}),
        grain=_choice(request, "grain", set(analytics.GRAINS)) or "month")
    if f.since and f.until and f.since > f.until:
        raise Problem("analytics.bad_range", 422, since=f.since.isoformat(), until=f.until.isoformat())
    periods = analytics.periods_needed(f, f.at or clock.today_in_kazakhstan())
    if periods is not None and periods > analytics.MAX_PERIODS:
        raise Problem("analytics.too_many_periods", 422, periods=periods, limit=analytics.MAX_PERIODS)
    return f


@router.get("/analytics", summary="The dashboard's charts, their columns and filters, and the filters' choices")
def charts(request: Request, db: DatabaseDep, who: Caller = AUTHORITY_ROLES) -> dict[str, Any]:
    lang = _lang(request)
    with db.connection() as conn:
        return {"charts": [analytics.describe(c, lang) for c in analytics.CHARTS.values()],
                "filters": list(analytics.FILTERS), "choices": analytics.choices(conn, lang)}


def _csv(columns: list[dict[str, str]], rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c["title"] for c in columns])
    for row in rows:
        writer.writerow(["" if row[c["key"]] is None else row[c["key"]] for c in columns])
    # A byte-order mark: spreadsheet programs then read the Cyrillic and Kazakh letters as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx(title: str, columns: list[dict[str, str]], rows: list[dict[str, Any]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])  # Excel's limit on a sheet's name
    sheet.append([c["title"] for c in columns])
    for row in rows:
        sheet.append([row[c["key"]] for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@router.get("/analytics/{chart}", summary="One chart's rows under the filters; {chart}.csv and {chart}.xlsx as files")
def chart_rows(chart: str, request: Request, db: DatabaseDep, who: Caller = AUTHORITY_ROLES) -> Response:
    name, _, suffix = chart.partition(".")
    if name not in analytics.CHARTS or (suffix and suffix not in FORMATS):
        raise Problem("analytics.unknown_chart", 404, chart=chart[:80], known=", ".join(analytics.CHARTS))
    lang = _lang(request)
    definition = analytics.CHARTS[name]
    with db.connection() as conn:
        f = filters(request, conn)
        rows = analytics.run(conn, name, f, lang)
    described = analytics.describe(definition, lang)
    if not suffix:
        return JSONResponse({**described, "applied": {k: v for k, v in f.as_dict().items()
                                                      if k in definition.filters or k == "grain"},
                             "rows": rows}, headers={"Content-Language": lang})
    stamp = (f.at or clock.today_in_kazakhstan()).isoformat()
    columns = described["columns"]
    body = _csv(columns, rows) if suffix == "csv" else _xlsx(described["title"], columns, rows)
    return Response(body, media_type=FORMATS[suffix], headers={
        "Content-Disposition": f'attachment; filename="{name}-{stamp}.{suffix}"', "Content-Language": lang})


@router.get("/basemap/regions.geojson", tags=["viewer"], dependencies=[PUBLIC],
            summary="Kazakhstan's 17 regions and 3 cities of republican significance (outlines simplified to ~500 m)")
def regions(request: Request, db: DatabaseDep) -> Response:
    lang = _lang(request)
    with db.connection() as conn:
        rows = conn.execute("SELECT code, name_kk, name_ru, name_en, type, "
                            "ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, %s), 4) FROM regions ORDER BY code",
                            (REGION_TOLERANCE,)).fetchall()
    features = [{"type": "Feature", "id": code,
                 "properties": {"code": code, "name": {"kk": kk, "ru": ru, "en": en}[lang], "name_kk": kk,
                                "name_ru": ru, "name_en": en, "type": kind},
                 "geometry": json.loads(geometry)} for code, kk, ru, en, kind, geometry in rows]
    body = {"type": "FeatureCollection", "features": features,
            "attribution": translate("analytics.regions_source", lang)}
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/geo+json",
                    headers={"Cache-Control": "public, max-age=3600", "Content-Language": lang})

"""Analytics for the authorities (issue 11): one parameterised PostgreSQL query per dashboard chart.

Every chart answers rows (plain values, ready for a table, CSV or XLSX) under the same filters:
a date range (``since``/``until``, inclusive; what it ranges over is the chart's ``range``), the
competent authority, the mineral, the region, and ``at``: the dashboard as it stood at the end of
that day (licences and obligations by their valid-time rows, applications received, stages
finished and auctions concluded by then). Charts whose objects have no place (applications,
procedure stages) do not take the region filter; ``CHARTS`` says which filters each chart takes.

A licence's authority is ``cadastre.obligations.authority_of`` (the mineral group's authority,
else the licence kind's): the mapping is passed to SQL as arrays built from that function's own
data, so it exists once. A licence's region is the region holding a point on its surface
(``ST_PointOnSurface``), kept per licence state in ``licence_state_regions`` by a trigger
(migration 0022); a licence outside every region (offshore, say) has none and shows as such.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg

from cadastre.applications import MINERALS
from cadastre.obligations import authority_of, rules
from cadastre.procedures import procedures
from geoservice.kernel import clock
from geoservice.kernel.i18n import translate
from layers.catalog import AUTHORITIES

_GRAINS = {"month": "analytics.grain.month", "year": "analytics.grain.year"}
GRAINS = tuple(_GRAINS)
FILTERS = ("since", "until", "authority", "mineral", "region", "at")
PLACELESS = ("since", "until", "authority", "mineral", "at")
# At most this many periods in a time series (a century of months): a wider range is refused.
MAX_PERIODS = 1200
TZ = "Asia/Almaty"


@dataclass(frozen=True)
class Filters:
    since: dt.date | None = None
    until: dt.date | None = None
    authority: str | None = None
    mineral: str | None = None
    region: str | None = None
    at: dt.date | None = None
    grain: str = "month"

    def as_dict(self) -> dict[str, str]:
        """The filters that are set, as query parameters (for download links)."""
        out = {k: str(getattr(self, k)) for k in FILTERS if getattr(self, k) is not None}
        if self.grain != "month":
            out["grain"] = self.grain
        return out


@dataclass(frozen=True)
class Chart:
    id: str
    title: str                     # message code
    kind: str                      # how the dashboard draws it: bar, line, pie, map
    range: str                     # message code: what since/until range over
    columns: tuple[tuple[str, str], ...]  # (key, message code of its heading)
    sql: str
    filters: tuple[str, ...] = FILTERS
    series: bool = False           # a time series: takes ``grain``
    label: Callable[[str | None, str], str] | None = None  # names the first column's values


def _join(*parts: str) -> str:
    """A query made of this module's fixed SQL fragments (no input goes into the text)."""
    return "".join(parts)


# --- the authority of a licence, as data for SQL ---------------------------------------------------

def authority_arrays() -> dict[str, list[str]]:
    """``authority_of`` as four arrays: mineral → authority, licence kind → authority."""
    kinds = sorted(rules()["authorities"])
    minerals = sorted(MINERALS)
    return {"a_minerals": minerals, "a_mineral_auth": [authority_of(kinds[0], m) for m in minerals],
            "a_kinds": kinds, "a_kind_auth": [authority_of(k, None) for k in kinds]}


# Licences as of the day (``asof_day`` NULL: the open rows), with authority and region, filtered.
_LICENCES = """
auth_m AS (SELECT * FROM unnest(%(a_minerals)s::text[], %(a_mineral_auth)s::text[]) AS m (mineral, authority)),
auth_k AS (SELECT * FROM unnest(%(a_kinds)s::text[], %(a_kind_auth)s::text[]) AS k (kind, authority)),
lic AS (
    SELECT s.number, s.kind, s.mineral, s.status, s.issued_on, cardinality(s.blocks) AS blocks,
           coalesce(am.authority, ak.authority) AS authority, lr.region
    FROM licence_states s
    LEFT JOIN licence_state_regions lr ON lr.state_id = s.id
    LEFT JOIN auth_m am ON am.mineral = s.mineral
    LEFT JOIN auth_k ak ON ak.kind = s.kind
    WHERE CASE WHEN %(asof_day)s::date IS NULL THEN s.valid_to IS NULL
               ELSE s.valid_from <= %(asof_day)s::date AND (s.valid_to IS NULL OR s.valid_to > %(asof_day)s::date) END
      AND s.valid_from < coalesce(s.valid_to, 'infinity')),
flic AS (
    SELECT * FROM lic
    WHERE (%(authority)s::text IS NULL OR authority = %(authority)s::text)
      AND (%(mineral)s::text IS NULL OR mineral = %(mineral)s::text)
      AND (%(region)s::text IS NULL OR region IS NOT DISTINCT FROM nullif(%(region)s::text, 'none'))
      AND {issued})"""
ISSUED = ("(%(since)s::date IS NULL OR issued_on >= %(since)s::date) "
          "AND (%(until)s::date IS NULL OR issued_on <= %(until)s::date)")

# The periods of a time series: from ``since`` (or the first event) to ``until`` (or the day).
_PERIODS = """
periods AS (
    SELECT p::date AS period FROM generate_series(
        date_trunc(%(grain)s, coalesce(%(since)s::date, (SELECT min(first) FROM firsts), %(day)s::date)::timestamp),
        date_trunc(%(grain)s, coalesce(%(until)s::date, %(day)s::date)::timestamp),
        ('1 ' || %(grain)s)::interval) AS p)"""

_BY = _join("WITH ", _LICENCES.format(issued=ISSUED), """
SELECT {key} AS key, count(*) AS licences, coalesce(sum(blocks), 0) AS blocks
FROM flic GROUP BY 1 ORDER BY licences DESC, key NULLS LAST""")

SQL_BY_REGION = _join("WITH ", _LICENCES.format(issued=ISSUED), """,
counted AS (SELECT region, count(*) AS licences, sum(blocks) AS blocks FROM flic GROUP BY region)
SELECT r.code AS key, coalesce(c.licences, 0) AS licences, coalesce(c.blocks, 0) AS blocks
FROM regions r LEFT JOIN counted c ON c.region = r.code
WHERE %(region)s::text IS NULL OR r.code = %(region)s::text
UNION ALL
SELECT NULL, licences, blocks FROM counted WHERE region IS NULL
ORDER BY key NULLS LAST""")

SQL_BY_YEAR = _join("WITH ", _LICENCES.format(issued=ISSUED), """
SELECT extract(year FROM issued_on)::int AS key, count(*) AS licences, coalesce(sum(blocks), 0) AS blocks
FROM flic GROUP BY 1 ORDER BY 1""")

# Blocks under licence at the end of each period: every state row of a licence that holds blocks
# (active or suspended) adds its blocks on the day it starts and takes them off the day it ends;
# the changes summed per period and then cumulated over the periods give the total at each
# period's end (or at the day, in the current one). One pass over the rows, however many periods.
SQL_BLOCKS = _join("""WITH
auth_m AS (SELECT * FROM unnest(%(a_minerals)s::text[], %(a_mineral_auth)s::text[]) AS m (mineral, authority)),
auth_k AS (SELECT * FROM unnest(%(a_kinds)s::text[], %(a_kind_auth)s::text[]) AS k (kind, authority)),
rows AS (
    SELECT s.valid_from, s.valid_to, cardinality(s.blocks) AS blocks
    FROM licence_states s
    LEFT JOIN licence_state_regions lr ON lr.state_id = s.id
    LEFT JOIN auth_m am ON am.mineral = s.mineral
    LEFT JOIN auth_k ak ON ak.kind = s.kind
    WHERE s.status IN ('active', 'suspended') AND s.valid_from < coalesce(s.valid_to, 'infinity')
      AND (%(authority)s::text IS NULL OR coalesce(am.authority, ak.authority) = %(authority)s::text)
      AND (%(mineral)s::text IS NULL OR s.mineral = %(mineral)s::text)
      AND (%(region)s::text IS NULL OR lr.region IS NOT DISTINCT FROM nullif(%(region)s::text, 'none'))),
firsts AS (SELECT min(valid_from) AS first FROM rows),
deltas AS (
    SELECT valid_from AS day, blocks AS delta, 1 AS n FROM rows
    UNION ALL
    SELECT valid_to, -blocks, -1 FROM rows WHERE valid_to IS NOT NULL),
days AS (SELECT day, sum(delta) AS delta, sum(n) AS n FROM deltas GROUP BY day),""", _PERIODS, """,
buckets AS (
    -- What happened before the first period counts in it; after the day (or the last period), not.
    SELECT greatest(date_trunc(%(grain)s, day::timestamp)::date, (SELECT min(period) FROM periods)) AS period,
           sum(delta) AS delta, sum(n) AS n
    FROM days WHERE day <= %(day)s::date GROUP BY 1)
SELECT to_char(p.period, CASE %(grain)s WHEN 'year' THEN 'YYYY' ELSE 'YYYY-MM' END) AS key,
       (sum(coalesce(b.delta, 0)) OVER w)::bigint AS blocks, (sum(coalesce(b.n, 0)) OVER w)::bigint AS licences
FROM periods p LEFT JOIN buckets b USING (period)
WINDOW w AS (ORDER BY p.period)
ORDER BY p.period""")

# Applications received and decided per period: received by receipt time, decided when their
# procedure finished (granted or refused; procedure_run_facts, migration 0022, the runs' state as
# rows). ``at``: what had happened by the end of that day.
SQL_APPLICATIONS = _join("""WITH
apps AS (
    SELECT a.id, a.received_at FROM applications a
    WHERE a.received_at < %(asof)s
      AND (%(authority)s::text IS NULL OR a.routed_to = %(authority)s::text)
      AND (%(mineral)s::text IS NULL OR a.mineral = %(mineral)s::text)),
done AS (
    SELECT f.finished_at, f.outcome FROM procedure_run_facts f
    WHERE f.finished_at < %(asof)s
      AND (%(authority)s::text IS NULL OR f.authority = %(authority)s::text)
      AND (%(mineral)s::text IS NULL OR f.mineral = %(mineral)s::text)),
firsts AS (SELECT (min(received_at) AT TIME ZONE %(tz)s)::date AS first FROM apps),""", _PERIODS, """,
received AS (SELECT date_trunc(%(grain)s, received_at AT TIME ZONE %(tz)s)::date AS period, count(*) AS n
             FROM apps GROUP BY 1),
decided AS (SELECT date_trunc(%(grain)s, finished_at AT TIME ZONE %(tz)s)::date AS period,
                   count(*) FILTER (WHERE outcome = 'granted') AS granted,
                   count(*) FILTER (WHERE outcome = 'refused') AS refused
            FROM done GROUP BY 1)
SELECT to_char(p.period, CASE %(grain)s WHEN 'year' THEN 'YYYY' ELSE 'YYYY-MM' END) AS key,
       coalesce(rc.n, 0) AS received, coalesce(d.granted, 0) AS granted, coalesce(d.refused, 0) AS refused
FROM periods p LEFT JOIN received rc USING (period) LEFT JOIN decided d USING (period)
ORDER BY p.period""")

# Stages of the officers and commissions that have a deadline: those finished in the range, how
# many of them by their due time (a return by its own, shorter, due time when the stage has one),
# and those still unfinished past their due time at the moment (procedure_stage_facts: the runs'
# steps as rows, kept by a trigger, migration 0022).
SQL_STAGES = """WITH steps AS (
    SELECT authority, stage, due, return_due, finished_at, action FROM procedure_stage_facts
    WHERE started_at < %(asof)s AND role <> 'applicant' AND due IS NOT NULL
      AND (%(authority)s::text IS NULL OR authority = %(authority)s::text)
      AND (%(mineral)s::text IS NULL OR mineral = %(mineral)s::text)),
judged AS (
    SELECT authority, stage, due,
           finished_at < %(asof)s
             AND (%(since)s::date IS NULL OR finished_at >= (%(since)s::date::timestamp AT TIME ZONE %(tz)s))
             AND (%(until)s::date IS NULL OR finished_at < ((%(until)s::date + 1)::timestamp AT TIME ZONE %(tz)s))
             AS counted,
           finished_at <= CASE WHEN action = 'return' AND return_due IS NOT NULL THEN return_due ELSE due END
               AS in_time,
           (finished_at IS NULL OR finished_at >= %(asof)s) AND due < %(asof)s AS overdue
    FROM steps)
SELECT authority, stage, count(*) FILTER (WHERE counted) AS finished,
       count(*) FILTER (WHERE counted AND in_time) AS on_time,
       round(100.0 * count(*) FILTER (WHERE counted AND in_time) / nullif(count(*) FILTER (WHERE counted), 0), 1)
           AS on_time_pct,
       count(*) FILTER (WHERE overdue) AS overdue_now
FROM judged GROUP BY authority, stage
HAVING count(*) FILTER (WHERE counted OR overdue) > 0
ORDER BY authority NULLS LAST, stage"""

# Obligations standing at the day (their valid-time rows), of the licences that pass the filters
# as they stood that day: open ones, and violations (marked overdue, or open past their due day).
SQL_OBLIGATIONS = _join("WITH ", _LICENCES.format(issued="TRUE"), """,
obl AS (
    SELECT o.kind, o.status, o.due_on FROM obligations o JOIN flic USING (number)
    WHERE CASE WHEN %(asof_day)s::date IS NULL THEN o.valid_to IS NULL
               ELSE o.valid_from <= %(asof_day)s::date AND (o.valid_to IS NULL OR o.valid_to > %(asof_day)s::date) END
      AND o.status IN ('open', 'overdue')
      AND (%(since)s::date IS NULL OR o.due_on >= %(since)s::date)
      AND (%(until)s::date IS NULL OR o.due_on <= %(until)s::date))
SELECT kind AS key, count(*) FILTER (WHERE status = 'open' AND due_on >= %(day)s::date) AS open,
       count(*) FILTER (WHERE status = 'overdue' OR due_on < %(day)s::date) AS overdue
FROM obl GROUP BY kind ORDER BY kind""")

# Signature bonuses of concluded auctions (a winner and its final bonus: closed, or cancelled in
# favour of the single requester) by the year they closed, and what was paid of them.
SQL_AUCTIONS = """WITH won AS (
    SELECT a.id, a.closed_at, a.final_bonus FROM auctions a
    WHERE a.winner IS NOT NULL AND a.final_bonus IS NOT NULL AND a.status IN ('closed', 'cancelled')
      AND a.closed_at < %(asof)s
      AND (%(since)s::date IS NULL OR a.closed_at >= (%(since)s::date::timestamp AT TIME ZONE %(tz)s))
      AND (%(until)s::date IS NULL OR a.closed_at < ((%(until)s::date + 1)::timestamp AT TIME ZONE %(tz)s))
      AND (%(authority)s::text IS NULL OR a.authority = %(authority)s::text)
      AND (%(mineral)s::text IS NULL OR a.mineral = %(mineral)s::text)
      AND (%(region)s::text IS NULL OR (SELECT p.code FROM region_parts p
                                        WHERE ST_Intersects(p.geom, ST_PointOnSurface(a.geom)) LIMIT 1)
                                       IS NOT DISTINCT FROM nullif(%(region)s::text, 'none')))
SELECT extract(year FROM w.closed_at AT TIME ZONE %(tz)s)::int AS key, count(*) AS auctions,
       sum(w.final_bonus) AS bonus,
       coalesce(sum((SELECT sum(p.amount) FROM payments p WHERE p.auction_id = w.id AND p.purpose = 'bonus')), 0)
           AS paid
FROM won w GROUP BY 1 ORDER BY 1"""


# --- names of the values ---------------------------------------------------------------------------

def _authority_name(key: str | None, lang: str) -> str:
    a = AUTHORITIES.get(key or "")
    return a.names.as_dict()[lang] if a else translate("analytics.none", lang) if key is None else key


def _mineral_name(key: str | None, lang: str) -> str:
    m = MINERALS.get(key or "")
    return m.names.as_dict()[lang] if m else translate("analytics.none", lang) if key is None else key


_STATUSES = {"active": "analytics.status.active", "suspended": "analytics.status.suspended",
             "terminated": "analytics.status.terminated", "expired": "analytics.status.expired"}
_OBLIGATION_KINDS = {"minimum_spend": "analytics.obligation.minimum_spend",
                     "work_report": "analytics.obligation.work_report",
                     "signature_bonus": "analytics.obligation.signature_bonus",
                     "expiry": "analytics.obligation.expiry", "extension": "analytics.obligation.extension",
                     "relinquishment": "analytics.obligation.relinquishment", "rent": "analytics.obligation.rent"}


def _coded(codes: Mapping[str, str]) -> Callable[[str | None, str], str]:
    def name(key: str | None, lang: str) -> str:
        return translate(codes[key], lang) if key in codes else key or translate("analytics.none", lang)
    return name


def stage_names() -> dict[str, Mapping[str, str]]:
    names: dict[str, Mapping[str, str]] = {}
    for p in procedures().values():
        for s in (*p.stages, p.revision):
            names.setdefault(s.id, s.names)
    return names


def _stage_name(key: str | None, lang: str) -> str:
    return stage_names().get(key or "", {}).get(lang, key or "")


def region_names(conn: psycopg.Connection, lang: str) -> dict[str, str]:
    column = {"kk": "name_kk", "ru": "name_ru"}.get(lang, "name_en")
    return {code: name for code, name in conn.execute(
        f"SELECT code, {column} FROM regions ORDER BY code")}  # noqa: S608 (a fixed column name)


LICENCE_COLUMNS = (("licences", "analytics.col.licences"), ("blocks", "analytics.col.blocks"))
CHARTS: dict[str, Chart] = {c.id: c for c in (
    Chart("licences_by_authority", "analytics.chart.licences_by_authority", "bar", "analytics.range.issued",
          (("authority", "analytics.col.authority"), ("name", "analytics.col.name"), *LICENCE_COLUMNS),
          _BY.replace("{key}", "authority"), label=_authority_name),
    Chart("licences_by_mineral", "analytics.chart.licences_by_mineral", "bar", "analytics.range.issued",
          (("mineral", "analytics.col.mineral"), ("name", "analytics.col.name"), *LICENCE_COLUMNS),
          _BY.replace("{key}", "mineral"), label=_mineral_name),
    Chart("licences_by_region", "analytics.chart.licences_by_region", "map", "analytics.range.issued",
          (("region", "analytics.col.region"), ("name", "analytics.col.name"), *LICENCE_COLUMNS), SQL_BY_REGION),
    Chart("licences_by_status", "analytics.chart.licences_by_status", "pie", "analytics.range.issued",
          (("status", "analytics.col.status"), ("name", "analytics.col.name"), *LICENCE_COLUMNS),
          _BY.replace("{key}", "status"), label=_coded(_STATUSES)),
    Chart("licences_by_year", "analytics.chart.licences_by_year", "bar", "analytics.range.issued",
          (("year", "analytics.col.year"), *LICENCE_COLUMNS), SQL_BY_YEAR),
    Chart("blocks_over_time", "analytics.chart.blocks_over_time", "line", "analytics.range.periods",
          (("period", "analytics.col.period"), ("blocks", "analytics.col.blocks"),
           ("licences", "analytics.col.licences")), SQL_BLOCKS, series=True),
    Chart("applications", "analytics.chart.applications", "bar", "analytics.range.periods",
          (("period", "analytics.col.period"), ("received", "analytics.col.received"),
           ("granted", "analytics.col.granted"), ("refused", "analytics.col.refused")),
          SQL_APPLICATIONS, filters=PLACELESS, series=True),
    Chart("stages_on_time", "analytics.chart.stages_on_time", "bar", "analytics.range.finished",
          (("authority", "analytics.col.authority"), ("stage", "analytics.col.stage"), ("name", "analytics.col.name"),
           ("finished", "analytics.col.finished"), ("on_time", "analytics.col.on_time"),
           ("on_time_pct", "analytics.col.on_time_pct"), ("overdue_now", "analytics.col.overdue_now")),
          SQL_STAGES, filters=PLACELESS, label=_stage_name),
    Chart("obligations", "analytics.chart.obligations", "bar", "analytics.range.due",
          (("kind", "analytics.col.kind"), ("name", "analytics.col.name"), ("open", "analytics.col.open"),
           ("overdue", "analytics.col.overdue")), SQL_OBLIGATIONS, label=_coded(_OBLIGATION_KINDS)),
    Chart("auction_revenue", "analytics.chart.auction_revenue", "bar", "analytics.range.closed",
          (("year", "analytics.col.year"), ("auctions", "analytics.col.auctions"), ("bonus", "analytics.col.bonus"),
           ("paid", "analytics.col.paid")), SQL_AUCTIONS),
)}


def parameters(f: Filters, now: dt.datetime | None = None) -> dict[str, Any]:
    """The query parameters of every chart's SQL for the filters."""
    now = now or clock.now()
    if f.at is not None:
        asof = dt.datetime.combine(f.at + dt.timedelta(days=1), dt.time(), clock.KAZAKHSTAN)
        day = f.at
    else:
        asof, day = now, now.astimezone(clock.KAZAKHSTAN).date()
    return {**authority_arrays(), "since": f.since, "until": f.until, "authority": f.authority,
            "mineral": f.mineral, "region": f.region, "asof_day": f.at, "asof": asof, "day": day,
            "grain": f.grain, "tz": TZ}


def periods_needed(f: Filters, day: dt.date) -> int | None:
    """How many periods a series over the filters' range has (None when it starts at the data)."""
    if f.since is None:
        return None
    end = f.until or day
    months = (end.year - f.since.year) * 12 + end.month - f.since.month + 1
    return months if f.grain == "month" else end.year - f.since.year + 1


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):  # counts and sums come as numeric; JSON, CSV and XLSX want numbers
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def run(conn: psycopg.Connection, chart_id: str, f: Filters, lang: str, *,
        now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The chart's rows under the filters, each a dict of its columns (names in ``lang``).
    Filters a chart does not take are ignored (``CHARTS[chart].filters``)."""
    chart = CHARTS[chart_id]
    ignored = {k: None for k in FILTERS if k not in chart.filters}
    params = parameters(Filters(**{**f.__dict__, **ignored}), now)
    rows = conn.execute(chart.sql, params).fetchall()
    keys = [k for k, _ in chart.columns]
    out: list[dict[str, Any]] = []
    regions = region_names(conn, lang) if chart_id == "licences_by_region" else {}
    for row in rows:
        values = [_plain(v) for v in row]
        if chart_id == "stages_on_time":
            authority, stage, *rest = values
            record = dict(zip(keys, [authority, stage, _stage_name(stage, lang), *rest], strict=True))
        elif chart_id == "licences_by_region":
            code = values[0]
            name = regions.get(code, "") if code else translate("analytics.no_region", lang)
            record = dict(zip(keys, [code, name, *values[1:]], strict=True))
        elif chart.label is not None:
            record = dict(zip(keys, [values[0], chart.label(values[0], lang), *values[1:]], strict=True))
        else:
            record = dict(zip(keys, values, strict=True))
        out.append(record)
    return out


def describe(chart: Chart, lang: str) -> dict[str, Any]:
    return {"id": chart.id, "title": translate(chart.title, lang), "kind": chart.kind,
            "range": translate(chart.range, lang), "filters": list(chart.filters), "series": chart.series,
            "columns": [{"key": k, "title": translate(code, lang)} for k, code in chart.columns]}


def choices(conn: psycopg.Connection, lang: str) -> dict[str, list[dict[str, str]]]:
    """The values the filters take, with their names."""
    kinds_auth = {authority_of(k, None) for k in rules()["authorities"]} | {
        authority_of("exploration", m) for m in MINERALS}
    return {"authority": [{"id": a, "name": _authority_name(a, lang)} for a in sorted(kinds_auth)],
            "mineral": [{"id": m, "name": _mineral_name(m, lang)} for m in MINERALS],
            "region": [{"id": c, "name": n} for c, n in region_names(conn, lang).items()]
            + [{"id": "none", "name": translate("analytics.no_region", lang)}],
            "grain": [{"id": g, "name": translate(code, lang)} for g, code in _GRAINS.items()]}


__all__ = ["CHARTS", "FILTERS", "GRAINS", "MAX_PERIODS", "Chart", "Filters", "authority_arrays", "choices",
           "describe", "parameters", "periods_needed", "region_names", "run", "stage_names"]

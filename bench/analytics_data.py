"""Fill a migrated database with an analytics data set (issue 11): by default 10,000 licences
(about a quarter of them with a second state: suspended, terminated, expired or fewer blocks), about
six obligations each, 100,000 applications with their procedure runs (3-6 stages each, a few
late) and the officers' decisions, and some hundred auctions with winners and bonus payments.

    .venv/bin/python bench/analytics_data.py DATABASE_URL [--licences 10000] [--applications 100000]

All in SQL (INSERT ... SELECT over generate_series), seeded, so the same arguments give the same
data. ``bench/analytics.py`` calls ``fill`` on a scratch database; name only a database without
applications of its own (the generated numbers ``APP-YYYY-NNNNNN`` start at 1 each year), e.g.
one just made by ``geoservice db migrate``. Licences are ``BL-NNNNNN``, auctions ``AUC-2000-NNNN``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402,F401  (puts the repository on the path)

from cadastre.applications import MINERALS  # noqa: E402

ACCOUNT_IIN = "000000000017"


def fill(url: str, *, licences: int = 10_000, applications: int = 100_000, seed: float = 0.11) -> dict[str, float]:
    """Generate the data set into ``url``; seconds per part."""
    minerals = {group: [m for m, v in MINERALS.items() if v.group == group] for group in ("solid", "hydrocarbons",
                                                                                            "common")}
    times: dict[str, float] = {}

    def step(name: str, statements: list[tuple[str, dict[str, object]]]) -> None:
        start = time.perf_counter()
        for statement, params in statements:
            conn.execute(statement, params)
        times[name] = time.perf_counter() - start

    with psycopg.connect(url) as conn:
        conn.execute("SELECT setseed(%s)", (seed,))
        # Points for the licences: inside the regions in proportion to their count, a few offshore.
        step("licences", [
            ("CREATE TEMP TABLE gen_points AS SELECT row_number() OVER () AS i, p.geom FROM ("
             "SELECT (ST_Dump(ST_GeneratePoints(geom, %(each)s, 17))).geom FROM regions ORDER BY code) p",
             {"each": licences // 20 + 1}),
            ("INSERT INTO licence_records (number, source) SELECT 'BL-' || lpad(i::text, 6, '0'), 'bench' "
             "FROM generate_series(1, %(n)s) i", {"n": licences}),
            ("""CREATE TEMP TABLE gen_lic AS
                SELECT i, 'BL-' || lpad(i::text, 6, '0') AS number,
                       (ARRAY['exploration', 'mining', 'geological-study', 'common-minerals'])[1 + (i %% 4)] AS kind,
                       date '2015-01-01' + (random() * 4300)::int AS issued_on,
                       1 + (random() * random() * 40)::int AS blocks,
                       random() AS r
                FROM generate_series(1, %(n)s) i""", {"n": licences}),
            ("""INSERT INTO licence_states (number, valid_from, valid_to, holder_bin, holder_name, kind, mineral,
                                            blocks,
                                            geom, issued_on, term_until, status)
                SELECT l.number, l.issued_on,
                       CASE WHEN l.r < 0.33 AND l.issued_on + 200 + (l.r * 3000)::int < date '2026-11-01'
                            THEN l.issued_on + 200 + (l.r * 3000)::int END,
                       lpad((100000000000 + l.i)::text, 12, '0'), 'ТОО Бенч ' || l.i, l.kind,
                       CASE l.kind WHEN 'common-minerals'
                            THEN (%(common)s::text[])[1 + l.i %% cardinality(%(common)s::text[])]
                            ELSE CASE WHEN l.i %% 5 = 0 THEN (%(hydro)s::text[])[1 + l.i %% 3]
                                      WHEN l.i %% 23 = 0 THEN NULL
                                      ELSE (%(solid)s::text[])[1 + l.i %% cardinality(%(solid)s::text[])] END END,
                       ARRAY(SELECT 'M-42-' || l.i || '-' || b FROM generate_series(1, l.blocks) b),
                       ST_Multi(ST_Buffer(CASE WHEN l.i %% 50 = 0 THEN ST_SetSRID(ST_Point(50 + l.r, 44 + l.r), 4326)
                                               ELSE p.geom END, 0.02, 2)),
                       l.issued_on, l.issued_on + 365 * 6, 'active'
                FROM gen_lic l JOIN gen_points p ON p.i = l.i""",
             {"common": minerals["common"], "hydro": minerals["hydrocarbons"], "solid": minerals["solid"]}),
            # The second state of a third of them, from the day the first one ended.
            ("""INSERT INTO licence_states (number, valid_from, holder_bin, holder_name, kind, mineral, blocks, geom,
                                            issued_on, term_until, status)
                SELECT s.number, s.valid_to, s.holder_bin, s.holder_name, s.kind, s.mineral,
                       s.blocks[1:greatest(1, cardinality(s.blocks) * 6 / 10)], s.geom, s.issued_on, s.term_until,
                       (ARRAY['active', 'suspended', 'terminated', 'expired'])[1 + (s.id %% 4)::int]
                FROM licence_states s WHERE s.number LIKE 'BL-%%' AND s.valid_to IS NOT NULL""", {}),
        ])
        step("obligations", [
            ("""INSERT INTO obligations (number, key, kind, due_on, basis, status, valid_from, opened_by, opened_basis)
                SELECT s.number, k.kind || ':' || k.n, k.kind, s.issued_on + k.n * 200,
                       'obligations.toml bench', CASE WHEN s.issued_on + k.n * 200 > date '2026-11-30' THEN 'open'
                                                      WHEN random() < 0.8 THEN 'met'
                                                      WHEN random() < 0.5 THEN 'overdue' ELSE 'open' END,
                       s.valid_from, 'bench', 'bench'
                FROM licence_states s
                CROSS JOIN LATERAL (SELECT (ARRAY['minimum_spend', 'work_report', 'rent', 'work_report',
                                                  'expiry', 'relinquishment'])[n] AS kind, n
                                    FROM generate_series(1, 6) n) k
                WHERE s.number LIKE 'BL-%%' AND s.valid_to IS NULL""", {}),
        ])
        account = conn.execute("INSERT INTO accounts (iin, name) VALUES (%s, 'Бенч') RETURNING id",
                               (ACCOUNT_IIN,)).fetchone()
        assert account is not None
        step("applications", [
            ("""CREATE TEMP TABLE gen_app AS
                SELECT i, timestamptz '2018-01-01 09:00+05' + random() * interval '3200 days' AS received_at,
                       (ARRAY['solid-minerals', 'solid-minerals', 'hydrocarbons', 'akimat'])[1 + i %% 4] AS authority,
                       random() AS r FROM generate_series(1, %(n)s) i""", {"n": applications}),
            ("""INSERT INTO applications (number, year, seq, received_at, kind, mineral, applicant_bin, account_id,
                                          filed_by, canonical, signature, signature_valid, verification, verified_at,
                                          status, routed_to, block_count)
                SELECT 'APP-' || y || '-' || lpad(seq::text, 6, '0'), y, seq, received_at, 'exploration-licence',
                       CASE authority WHEN 'hydrocarbons' THEN 'oil' WHEN 'akimat' THEN 'clay'
                            ELSE (%(solid)s::text[])[1 + i %% cardinality(%(solid)s::text[])] END,
                       '990340000001', %(account)s, 'bench', '{}', '\\x00', true, '{}', received_at,
                       CASE WHEN r < 0.9 THEN 'accepted' WHEN r < 0.95 THEN 'returned' ELSE 'refused' END,
                       authority, 1 + (r * 20)::int
                FROM (SELECT *, extract(year FROM received_at)::int AS y,
                             row_number() OVER (PARTITION BY extract(year FROM received_at) ORDER BY received_at) AS seq
                      FROM gen_app) g""", {"solid": minerals["solid"], "account": account[0]}),
            # The runs: 3-6 stages, each due 1-3 days after it began and finished 0-4 days after
            # (so some late); the last stage of a tenth of them still open.
            ("""CREATE TEMP TABLE gen_steps AS
                SELECT a.id AS application_id, a.routed_to AS authority, a.received_at, k AS step, n,
                       (ARRAY['register', 'assign_department', 'assign_executor', 'check', 'prepare', 'approve'])[k]
                           AS stage,
                       a.received_at + (k - 1) * interval '3 days' AS started_at,
                       a.received_at + (k - 1) * interval '3 days' + (1 + (a.id + k) %% 3) * interval '1 day' AS due,
                       CASE WHEN k = n AND a.id %% 10 = 0 THEN NULL
                            ELSE a.received_at + (k - 1) * interval '3 days'
                                 + ((a.id * 7 + k) %% 5) * interval '1 day' + interval '2 hours' END AS finished_at
                FROM applications a
                CROSS JOIN LATERAL (SELECT 3 + a.id %% 4 AS n) c
                CROSS JOIN LATERAL generate_series(1, c.n) k
                WHERE a.status = 'accepted'""", {}),
            # One pass: the steps grouped by run (a lateral lookup per run would rescan the table).
            ("""INSERT INTO procedure_runs (application_id, number, procedure, authority, state, step, stage, role,
                                            due_at, status, outcome, started_at)
                SELECT a.id, a.number, 'exploration-licence', a.routed_to,
                       jsonb_build_object('procedure', 'exploration-licence', 'version', 'bench',
                           'started_at', a.received_at, 'status', g.status, 'outcome', g.outcome,
                           'finished_at', g.last_finished, 'steps', g.steps),
                       CASE WHEN g.last_finished IS NULL THEN g.last_step - 1 END,
                       CASE WHEN g.last_finished IS NULL THEN g.last_stage END,
                       CASE WHEN g.last_finished IS NULL THEN 'officer' END,
                       CASE WHEN g.last_finished IS NULL THEN g.last_due END,
                       g.status, g.outcome, a.received_at
                FROM (SELECT s.*, CASE WHEN s.last_finished IS NULL THEN 'running' ELSE 'finished' END AS status,
                             CASE WHEN s.last_finished IS NULL THEN NULL
                                  WHEN s.application_id %% 7 = 0 THEN 'refused' ELSE 'granted' END AS outcome
                      FROM (SELECT application_id, max(step) AS last_step,
                                   (array_agg(finished_at ORDER BY step DESC))[1] AS last_finished,
                                   (array_agg(stage ORDER BY step DESC))[1] AS last_stage,
                                   (array_agg(due ORDER BY step DESC))[1] AS last_due,
                                   jsonb_agg(jsonb_build_object('stage', stage, 'role', 'officer',
                                       'started_at', started_at, 'due', due, 'return_due', NULL,
                                       'finished_at', finished_at,
                                       'action', CASE WHEN finished_at IS NOT NULL THEN 'forward' END,
                                       'reason', NULL) ORDER BY step) AS steps
                            FROM gen_steps GROUP BY application_id) s) g
                JOIN applications a ON a.id = g.application_id""", {}),
            ("""INSERT INTO procedure_decisions (run_id, step, stage, role, action, actor, actor_iin, at, canonical,
                                                 signature, signature_valid, verification)
                SELECT r.id, s.step - 1, s.stage, 'officer', 'forward', 'bench', '010101500002', s.finished_at, '{}',
                       '\\x00', true, '{}'
                FROM gen_steps s JOIN procedure_runs r ON r.application_id = s.application_id
                WHERE s.finished_at IS NOT NULL""", {}),
        ])
        step("auctions", [
            ("""INSERT INTO auctions (number, name, kind, mineral, authority, geom, area_km2, block_count,
                                      starting_bonus,
                                      participation_fee, deposit, step, starts_at, duration, extension, ends_at, status,
                                      winner, final_bonus, closed_at, created_by)
                SELECT 'AUC-2000-' || lpad(g.n::text, 4, '0'), 'Бенч ' || g.n, 'exploration-licence',
                       CASE WHEN g.n %% 3 = 0 THEN 'oil' ELSE 'gold' END,
                       CASE WHEN g.n %% 3 = 0 THEN 'hydrocarbons' ELSE 'solid-minerals' END,
                       ST_Multi(ST_Buffer(p.geom, 0.05, 2)), 20, 4, 1000000, 10000, 100000, 10000,
                       t, '1 hour', '10 minutes', t + interval '1 hour',
                       CASE WHEN g.n %% 10 = 0 THEN 'failed' ELSE 'closed' END,
                       CASE WHEN g.n %% 10 = 0 THEN NULL ELSE 1 END,
                       CASE WHEN g.n %% 10 = 0 THEN NULL ELSE 1000000 + (g.n * 37919 %% 50000000) END,
                       t + interval '1 hour', 'bench'
                FROM generate_series(1, 300) g (n)
                JOIN gen_points p ON p.i = g.n * 7
                CROSS JOIN LATERAL (SELECT timestamptz '2019-01-01 11:00+05' + g.n * interval '9 days' AS t) tt""", {}),
            ("""INSERT INTO payments (auction_id, payer, purpose, amount, confirmed_by)
                SELECT id, '990340000001', 'bonus', final_bonus, 'bench' FROM auctions
                WHERE number LIKE 'AUC-2000-%%' AND winner IS NOT NULL AND id %% 4 <> 0""", {}),
        ])
        start = time.perf_counter()
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE")
        times["analyze"] = time.perf_counter() - start
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("--licences", type=int, default=10_000)
    parser.add_argument("--applications", type=int, default=100_000)
    args = parser.parse_args()
    times = fill(args.database_url, licences=args.licences, applications=args.applications)
    print("  ".join(f"{k} {v:.1f} s" for k, v in times.items()), f"total {sum(times.values()):.1f} s")


if __name__ == "__main__":
    main()

"""Report search (cadastre/geo_reports.py) over 50,000 generated reports, beside a plain ILIKE peer.

    .venv/bin/python bench/geo_reports_search.py [--reports 50000] [--queries 300] [--runs 3]

Makes a scratch database (bench/common.py), generates ``--reports`` reports with one
``INSERT … SELECT generate_series`` (titles from ru/kk/en templates and place names, their
search text made by the same transliteration as the service's, random outlines over Kazakhstan,
levels 60 % public / 30 % official-use / 10 % confidential), then times ``--queries`` searches of
each kind, as an anonymous reader, through ``geo_reports.search`` (the function /api/geoinfo
calls: the access rule, ranking, count and page of 20 included):

* text: a word as typed (ru, kk, en), transliterated, or misspelt;
* bbox: a random box of 0.5–3 degrees;
* text+bbox: both.

The peer runs the same searches as a plain SQL a first version would: ``ILIKE '%word%'`` over
title, organisation and minerals (and ``ST_Intersects`` on the outline) with index scans off
(no full-text, no trigram, no GiST), the same access condition and page. It finds fewer (no
stemming, transliteration or typos), so it is a floor of the naive approach, not the same
answers. Per kind and run: p50 and p99 in ms; the medians over the runs, the ratio peer/ours,
and the goal (ours p99 < 100 ms)."""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (ROOT, HERE):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import psycopg  # noqa: E402
from common import scratch_database  # noqa: E402

TEMPLATES = [
    ("Отчёт о геологической съёмке листа", "ru"), ("Поисковые работы на медь в районе", "ru"),
    ("Разведка золоторудного месторождения", "ru"), ("Гравиразведочные работы в впадине", "ru"),
    ("Сейсморазведка 3D на площади", "ru"), ("Гидрогеологические исследования бассейна", "ru"),
    ("Оценка запасов угля месторождения", "ru"), ("Металлогеническая карта района", "ru"),
    ("Геологиялық түсіру жұмыстары туралы есеп", "kk"), ("Мыс кен орнын барлау", "kk"),
    ("Алтын кенін іздеу жұмыстары", "kk"), ("Жерасты суларын зерттеу", "kk"),
    ("Geological survey of the sheet", "en"), ("Exploration for copper porphyry deposits", "en"),
    ("Gravity and magnetic survey of the basin", "en"), ("Uranium prospecting in the depression", "en"),
]
PLACES = ["Жезказган", "Жезқазған", "Караганда", "Қарағанды", "Балхаш", "Балқаш", "Актогай", "Ақтоғай",
          "Коунрад", "Бозшаколь", "Бозшакөл", "Шу-Сарысу", "Шу-Сарысуская", "Мангышлак", "Маңғыстау",
          "Атырау", "Рудный Алтай", "Кентау", "Ақсу", "Кокшетау", "Көкшетау", "Экибастуз", "Екібастұз",
          "Тургай", "Торғай", "Васильковское", "Алтынтопкан", "Каражал", "Жайрем", "Сокольное"]
ORGS = ["Казгеолком", "Южказгеофизика", "Центрказгеология", "Қазгеология", "ТОО «Demo Gold»", "Demo Seismic",
        "Востказгеология", "Кустанайгеология"]
QUERIES = ["жезказган", "Жезқазған", "zhezkazgan", "zhezqazgan", "Жезказгон", "караганда", "Karaganda",
           "qaragandy", "медь", "мыс", "copper", "золото", "алтын", "gold", "уголь", "көмір", "coal", "уран",
           "uranium", "сейсморазведка", "seismic", "гравиразведка", "gravity", "балхаш", "balkhash", "балқаш",
           "актогай", "aktogai", "aqtogai", "экибастуз", "ekibastuz", "ekibastyz", "геологическая съёмка",
           "геологическая сьемка", "geological survey", "подземные воды", "жерасты сулары", "Казгеолком",
           "kazgeolkom", "Коунрад", "kounrad", "Бозшакол", "Bozshakol", "торгай", "turgai", "Кокшетау",
           "kokshetau", "рудный алтай", "rudnyi altai"]
PEER_WORD = {"геологическая съёмка": "геологическ", "геологическая сьемка": "геологическ"}


def generate(url: str, n: int, seed: int) -> None:
    from cadastre.geo_reports import MINERALS, record_words, search_words

    with psycopg.connect(url) as conn:
        conn.execute("CREATE TEMP TABLE t_templates (i int, title text, lang text, search text)")
        conn.execute("CREATE TEMP TABLE t_places (i int, name text, search text)")
        conn.execute("CREATE TEMP TABLE t_orgs (i int, name text, search text)")
        conn.execute("CREATE TEMP TABLE t_minerals (i int, code text, search text)")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO t_templates VALUES (%s, %s, %s, %s)",
                            [(i, t, lang, search_words(t)) for i, (t, lang) in enumerate(TEMPLATES)])
            cur.executemany("INSERT INTO t_places VALUES (%s, %s, %s)",
                            [(i, p, search_words(p)) for i, p in enumerate(PLACES)])
            cur.executemany("INSERT INTO t_orgs VALUES (%s, %s, %s)",
                            [(i, o, search_words(o)) for i, o in enumerate(ORGS)])
            cur.executemany("INSERT INTO t_minerals VALUES (%s, %s, %s)",
                            [(i, code, search_words(" ".join(names)))
                             for i, (code, names) in enumerate(MINERALS.items())])
        conn.execute("SELECT setseed(%s)", (seed / 1000.0,))
        t0 = time.perf_counter()
        conn.execute(
            """
            INSERT INTO geo_reports (inventory, study_key, title, title_lang, authors, organisation, year, minerals,
                                     access_level, authority, outline, search_text, added_by)
            SELECT 'B-' || g, 'S-' || (g / 3), t.title || ' ' || p.name, t.lang, ARRAY['Автор ' || (g %% 97)],
                   o.name, 1950 + g %% 70, ARRAY[m.code],
                   CASE WHEN r.lv < 0.6 THEN 'public' WHEN r.lv < 0.9 THEN 'official-use' ELSE 'confidential' END,
                   (ARRAY['operator', 'solid-minerals', 'hydrocarbons'])[1 + g %% 3],
                   ST_Multi(ST_MakeEnvelope(r.x, r.y, r.x + r.w, r.y + r.h, 4326)),
                   t.search || ' ' || p.search || ' ' || o.search || ' ' || m.search, 'bench'
            FROM generate_series(1, %s) g
            CROSS JOIN LATERAL (SELECT random() AS lv, 47 + random() * 37 AS x, 41 + random() * 13 AS y,
                                       0.1 + random() * 1.4 AS w, 0.1 + random() * 1.0 AS h, g AS k) r
            JOIN t_templates t ON t.i = (g * 7) %% %s
            JOIN t_places p ON p.i = (g * 13) %% %s
            JOIN t_orgs o ON o.i = (g * 3) %% %s
            JOIN t_minerals m ON m.i = (g * 11) %% %s
            """, (n, len(TEMPLATES), len(PLACES), len(ORGS), len(MINERALS)))
        # The lexicon of words the typo matching reads (add_report records each report's words).
        record_words(conn, " ".join(r[0] for r in conn.execute(
            "SELECT search FROM t_templates UNION ALL SELECT search FROM t_places UNION ALL "
            "SELECT search FROM t_orgs UNION ALL SELECT search FROM t_minerals").fetchall()))
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE geo_reports")
        print(f"generated {n} reports in {time.perf_counter() - t0:.1f} s")


def random_box(rng: random.Random) -> tuple[float, float, float, float]:
    w = rng.uniform(0.5, 3.0)
    x, y = rng.uniform(47, 84 - w), rng.uniform(41, 55 - w)
    return (round(x, 3), round(y, 3), round(x + w, 3), round(y + w, 3))


Box = tuple[float, float, float, float]
PEER_SQL = """
SELECT r.inventory, r.title, count(*) OVER ()
FROM geo_reports r
WHERE r.access_level <> 'confidential' AND {where}
ORDER BY r.year DESC NULLS LAST, r.inventory LIMIT 20"""


def peer(conn: psycopg.Connection, q: str | None, bbox: tuple[float, ...] | None) -> int:
    where, params = ["true"], []
    if q is not None:
        word = "%" + PEER_WORD.get(q, q) + "%"
        where.append("(r.title ILIKE %s OR r.organisation ILIKE %s OR array_to_string(r.minerals, ' ') ILIKE %s)")
        params += [word, word, word]
    if bbox is not None:
        where.append("ST_Intersects(r.outline, ST_MakeEnvelope(%s, %s, %s, %s, 4326))")
        params += list(bbox)
    return len(conn.execute(PEER_SQL.format(where=" AND ".join(where)), params).fetchall())  # noqa: S608 - ours


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    t0 = time.perf_counter()
    found = fn()
    return (time.perf_counter() - t0) * 1000, found


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    from cadastre import geo_reports as gr

    print(f"load average at start: {os.getloadavg()}")
    with scratch_database("geoservice_bench_reports") as url:
        generate(url, args.reports, args.seed)
        rng = random.Random(args.seed)
        kinds: dict[str, list[tuple[str | None, tuple[float, float, float, float] | None]]] = {
            "text": [(rng.choice(QUERIES), None) for _ in range(args.queries)],
            "bbox": [(None, random_box(rng)) for _ in range(args.queries)],
            "text+bbox": [(rng.choice(QUERIES), random_box(rng)) for _ in range(args.queries)],
        }
        results: dict[str, dict[str, list[float]]] = {k: {"ours50": [], "ours99": [], "peer50": [], "peer99": []}
                                                     for k in kinds}
        found_ours: dict[str, int] = {}
        found_peer: dict[str, int] = {}
        with psycopg.connect(url) as ours, psycopg.connect(url) as plain:
            ours.autocommit = plain.autocommit = True
            # The peer: no index of ours helps it (sequential scans, as without the indexes).
            plain.execute("SET enable_indexscan = off")
            plain.execute("SET enable_bitmapscan = off")
            for run in range(args.runs):
                for kind, queries in kinds.items():
                    ours_ms, peer_ms = [], []
                    n_ours = n_peer = 0
                    order = [0, 1] if run % 2 == 0 else [1, 0]   # alternate who goes first
                    for q, bbox in queries:
                        for who in order:
                            if who == 0:
                                def run_ours(q: str | None = q, bbox: Box | None = bbox) -> int:
                                    rows, total = gr.search(ours, None, gr.Search(q=q, bbox=bbox, limit=20))
                                    return total if rows or total else 0
                                ms, found = timed(run_ours)
                                ours_ms.append(ms)
                                n_ours += found > 0
                            else:
                                ms, found = timed(lambda q=q, bbox=bbox: peer(plain, q, bbox))  # type: ignore[misc]
                                peer_ms.append(ms)
                                n_peer += found > 0
                    results[kind]["ours50"].append(pct(ours_ms, 50))
                    results[kind]["ours99"].append(pct(ours_ms, 99))
                    results[kind]["peer50"].append(pct(peer_ms, 50))
                    results[kind]["peer99"].append(pct(peer_ms, 99))
                    found_ours[kind], found_peer[kind] = n_ours, n_peer
        print(f"\n{args.reports} reports, {args.queries} queries per kind, medians of {args.runs} runs (ms)")
        print(f"{'kind':<10} {'ours p50':>9} {'ours p99':>9} {'peer p50':>9} {'peer p99':>9} {'p50 ×':>7} {'p99 ×':>7}"
              f"  {'hits ours/peer':>15}  goal p99 < 100 ms")
        for kind, r in results.items():
            o50, o99 = statistics.median(r["ours50"]), statistics.median(r["ours99"])
            p50, p99 = statistics.median(r["peer50"]), statistics.median(r["peer99"])
            print(f"{kind:<10} {o50:9.2f} {o99:9.2f} {p50:9.2f} {p99:9.2f} {p50 / o50:7.1f} {p99 / o99:7.1f}"
                  f"  {found_ours[kind]:>7}/{found_peer[kind]:<7}  {'met' if o99 < 100 else 'NOT met'}")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()

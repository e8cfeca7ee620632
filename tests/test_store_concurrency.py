"""Concurrent uploads to one layer serialise; readers never see a half-written version."""

from __future__ import annotations

import threading
import time

import psycopg

from importers.pipeline import UploadRequest, run_upload
from tests.helpers import write_json, zones


def test_concurrent_uploads_serialise_and_readers_see_whole_versions(database_url, db, tmp_path):
    sizes = [40, 80, 120, 160]
    paths = [write_json(tmp_path / f"c{n}.geojson", zones(n, lon=66.0, lat=47.0, prefix=f"N{n}-")) for n in sizes]
    baseline = db.execute("SELECT count(*) FROM layer_versions WHERE layer_id = 'restriction-zones'").fetchone()[0]
    try:
        initial = db.execute("SELECT count(*) FROM public.restriction_zones").fetchone()[0]
    except psycopg.errors.UndefinedTable:
        initial = 0
    seen: set[int] = set()
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            while not stop.is_set():
                try:
                    row = conn.execute("SELECT count(*), count(DISTINCT feature_id) FROM public.restriction_zones"
                                       ).fetchone()
                    assert row[0] == row[1]
                    seen.add(row[0])
                except psycopg.errors.UndefinedTable:
                    seen.add(0)  # before the first version exists
                except BaseException as exc:  # noqa: BLE001
                    errors.append(exc)
                    return

    results: list[dict] = []

    def upload(path) -> None:
        try:
            results.append(run_upload(UploadRequest(layer_id="restriction-zones", path=path,
                                                    file_name=path.name), database_url))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in readers:
        t.start()
    writers = [threading.Thread(target=upload, args=(p,)) for p in paths]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    time.sleep(0.2)
    stop.set()
    for t in readers:
        t.join()
    assert not errors, errors
    versions = sorted(r["version"] for r in results)
    assert versions == list(range(baseline + 1, baseline + 5))
    # Every count a reader saw is a whole version (or what was there before).
    assert seen <= set(sizes) | {initial}, seen
    last = max(results, key=lambda r: r["version"])
    assert db.execute("SELECT count(*) FROM public.restriction_zones").fetchone()[0] == last["feature_count"]

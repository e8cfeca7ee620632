"""Small builders shared by tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg


def feature_collection(features: list[tuple[dict[str, Any] | None, dict[str, Any]]],
                       crs: str | None = None) -> dict[str, Any]:
    fc: dict[str, Any] = {"type": "FeatureCollection",
                          "features": [{"type": "Feature", "geometry": g, "properties": p} for g, p in features]}
    if crs:
        fc["crs"] = {"type": "name", "properties": {"name": crs}}
    return fc


def polygon(coords: list[tuple[float, float]]) -> dict[str, Any]:
    ring = list(coords)
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


def square(lon: float, lat: float, size: float = 0.1) -> dict[str, Any]:
    return polygon([(lon, lat), (lon + size, lat), (lon + size, lat + size), (lon, lat + size)])


def write_json(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def zones(n: int = 3, lon: float = 70.0, lat: float = 48.0, prefix: str = "Z") -> dict[str, Any]:
    return feature_collection([
        (square(lon + (i % 20) * 0.2, lat + (i // 20) * 0.2), {"zone_id": f"{prefix}{i}", "name": f"Зона {i} — Қорық",
                                      "kind": "protected-area", "regime": "prohibited"})
        for i in range(n)
    ])


def many_zones(n: int) -> dict[str, Any]:
    """Small squares over central Kazakhstan: enough rows for an upload that takes a moment."""
    return feature_collection([
        (square(65 + (i % 200) * 0.05, 47 + (i // 200) * 0.05, 0.01),
         {"zone_id": f"S{i}", "name": f"Аймақ {i}", "kind": "protected-area", "regime": "prohibited"})
        for i in range(n)])


def snapshot(conn: psycopg.Connection, layer_id: str) -> tuple[Any, list[tuple[Any, ...]]]:
    """The layer's current version and every row of it, to prove a failure changed nothing."""
    row = conn.execute(
        "SELECT v.version, v.table_name FROM layers l LEFT JOIN layer_versions v ON v.id = l.current_version_id "
        "WHERE l.id = %s", (layer_id,)).fetchone()
    versions = conn.execute("SELECT count(*) FROM layer_versions WHERE layer_id = %s", (layer_id,)).fetchone()
    if row is None or row[0] is None:
        return (None, versions), []
    rows = conn.execute(
        f'SELECT feature_id, md5(ST_AsEWKB(geom)::text), to_jsonb(t) - \'geom\' FROM layer_data."{row[1]}" t '  # noqa: S608
        "ORDER BY fid").fetchall()
    return (row[0], versions), rows


def sealed(conn: psycopg.Connection) -> psycopg.Connection:
    """Seal the journal's committed intake into the chain (what a server's sealer does within a
    second), so that a test reading the table ``journal`` sees every row written so far."""
    from layers.journal import seal

    seal(conn)
    return conn


def authority_headers(database_url: str, authority: str, label: str = "test") -> dict[str, str]:
    """The Authorization header of a new bearer token of ``authority``."""
    from layers.access import create_token

    with psycopg.connect(database_url) as conn:
        _, token = create_token(conn, authority, label)
        conn.commit()
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def raster_client(raster_dir: Path) -> Iterator[Any]:
    """A test client of the app whose raster store is ``raster_dir`` (settings read afresh)."""
    import pytest
    from fastapi.testclient import TestClient

    from geoservice.app import create_app
    from geoservice.kernel.settings import get_settings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GEOSERVICE_RASTER_DIR", str(raster_dir))
        get_settings.cache_clear()
        with TestClient(create_app()) as c:
            yield c
    get_settings.cache_clear()


def switch_map_language(page: Any, lang: str, timeout: float = 20_000) -> None:
    """Click the map page's language button and wait until the switch is done: the panel (#layers)
    is drawn from the new style, which comes after a fetch. Until then the switch is still under
    way, and its end closes any popup opened meanwhile (a click made at once could lose its popup)."""
    before = page.locator("#layers").inner_text()
    page.click(f"#langs [data-lang='{lang}']")
    page.wait_for_function("(before) => document.querySelector('#layers').innerText !== before", arg=before,
                           timeout=timeout)

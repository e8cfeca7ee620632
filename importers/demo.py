"""The demo data set: the national block grid plus small authority layers, loaded through the
same import pipeline as real uploads (so the demo also proves that path). Shapes are
schematic, placed at real places, and not legal boundaries."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import shapely

from geoservice.kernel.db import connect
from geoservice.kernel.settings import Settings
from importers.pipeline import UploadRequest, run_upload

DEMO_ACTOR = "demo"


def _circle(lon: float, lat: float, radius_km: float) -> dict[str, Any]:
    # Degrees of longitude shrink with latitude; an ellipse in degrees is a circle on the ground.
    import math

    geom = shapely.Point(0, 0).buffer(1.0, 24)
    geom = shapely.affinity.scale(geom, radius_km / (111.32 * math.cos(math.radians(lat))), radius_km / 110.57)
    geom = shapely.affinity.translate(geom, lon, lat)
    return shapely.geometry.mapping(geom)


def _box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    return shapely.geometry.mapping(shapely.box(west, south, east, north))


def _blocks_around(lon: float, lat: float, cols: int, rows: int) -> str:
    from layers.grid import block_code

    codes = [block_code(lon + (c + 0.5) / 60, lat + (r + 0.5) / 60) for r in range(rows) for c in range(cols)]
    return "; ".join(codes)


def _features(rows: list[tuple[dict[str, Any] | None, dict[str, Any]]]) -> dict[str, Any]:
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": g, "properties": p} for g, p in rows]}


def demo_layers() -> dict[str, dict[str, Any]]:
    plots = _features([
        (None, {"plot_id": "SF-2026-001", "name": "Участок Бетпакдала-1", "kind": "fund-area", "status": "open",
                "mineral": "медь", "blocks": _blocks_around(70.50, 46.20, 4, 3)}),
        (None, {"plot_id": "SF-2026-002", "name": "Участок Шу-Сарысу-7", "kind": "fund-area", "status": "auction",
                "mineral": "уран", "blocks": _blocks_around(68.90, 44.90, 6, 5)}),
        (None, {"plot_id": "EL-1234", "name": "Қарағанды-Солтүстік", "kind": "exploration",
                "status": "licensed", "mineral": "золото", "licence_number": "1234-EL", "holder": "ТОО «Demo Gold»",
                "blocks": _blocks_around(73.20, 50.10, 5, 4), "valid_from": "2024-03-01", "valid_to": "2030-03-01"}),
        (None, {"plot_id": "SF-2026-003", "name": "Участок Кокшетау-2", "kind": "fund-area", "status": "open",
                "mineral": "вольфрам", "blocks": _blocks_around(69.30, 53.20, 3, 3)}),
        (_box(52.10, 46.20, 52.90, 46.80), {"plot_id": "HC-015", "name": "Блок Атырау-Восточный",
                                              "kind": "hydrocarbon", "status": "licensed", "mineral": "нефть",
                                              "holder": "АО «Demo Oil»", "valid_from": "2019-06-01"}),
        (_box(54.20, 44.60, 55.00, 45.20), {"plot_id": "HC-021", "name": "Устюрт-Северный", "kind": "hydrocarbon",
                                              "status": "open", "mineral": "газ"}),
        (_circle(63.25, 49.45, 6), {"plot_id": "MA-077", "name": "Горный отвод Лисаковский", "kind": "mining-allotment",
                                     "status": "licensed", "mineral": "железная руда"}),
        (_circle(76.95, 43.65, 3), {"plot_id": "CM-301", "name": "Карьер Капшагай (ОПИ)", "kind": "common-minerals",
                                     "status": "licensed", "mineral": "песчано-гравийная смесь"}),
    ])
    zones = _features([
        (_circle(69.20, 50.40, 35), {"zone_id": "PA-01", "name": "Коргалжынский заповедник", "kind": "protected-area",
                                      "regime": "prohibited", "basis": "Постановление о заповеднике"}),
        (_circle(71.45, 51.15, 22), {"zone_id": "ST-01", "name": "Астана", "kind": "settlement",
                                      "regime": "prohibited"}),
        (_circle(76.90, 43.25, 20), {"zone_id": "ST-02", "name": "Алматы", "kind": "settlement",
                                      "regime": "prohibited"}),
        (_circle(73.10, 49.80, 14), {"zone_id": "ST-03", "name": "Караганда", "kind": "settlement",
                                      "regime": "conditional"}),
        (_box(77.60, 49.70, 79.10, 50.40), {"zone_id": "MR-01", "name": "Бывший Семипалатинский полигон",
                                             "kind": "military-range", "regime": "prohibited"}),
        (_box(80.20, 49.90, 80.60, 50.60), {"zone_id": "WP-01", "name": "Водоохранная зона р. Ертис (участок)",
                                             "kind": "water-protection", "regime": "conditional"}),
    ])
    studies = _features([
        (_box(70.0, 45.5, 72.0, 47.0), {"study_id": "GS-1968-014", "name": "Геологическая съёмка М-42-XII",
                                         "study_type": "geological-survey", "year_start": 1966, "year_end": 1968,
                                         "organisation": "Казгеолком", "report_ref": "Фонд № 14732"}),
        (_box(68.0, 44.0, 70.5, 45.6), {"study_id": "GP-1985-201", "name": "Гравиразведка Шу-Сарысу",
                                         "study_type": "geophysical", "year_start": 1983, "year_end": 1985,
                                         "organisation": "Южказгеофизика", "report_ref": "Фонд № 22018"}),
        (_box(72.5, 49.5, 74.0, 50.5), {"study_id": "EX-2015-007", "name": "Поисковые работы Қарағанды",
                                         "study_type": "exploration", "year_start": 2013, "year_end": 2015,
                                         "organisation": "ТОО «Demo Gold»", "report_ref": "Фонд № 40117",
                                         "access_level": "official-use"}),
        (_box(51.5, 45.8, 53.5, 47.2), {"study_id": "SE-2001-3D", "name": "Сейсморазведка 3D Атырау",
                                         "study_type": "geophysical", "year_start": 2000, "year_end": 2001,
                                         "organisation": "Demo Seismic", "report_ref": "Фонд № 31002",
                                         "access_level": "confidential"}),
    ])
    return {"subsoil-plots": plots, "restriction-zones": zones, "geological-studies": studies}


def is_empty(url: str) -> bool:
    with connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM layer_versions").fetchone()
        blocks = conn.execute("SELECT to_regclass('public.blocks') IS NOT NULL AND EXISTS (SELECT 1 FROM blocks)"
                              ).fetchone()
    return (row is None or row[0] == 0) and not (blocks and blocks[0])


def load_demo(url: str, *, only_if_empty: bool = False, grid_bbox: tuple[float, ...] | None = None,
              progress: bool = True, settings: Settings | None = None) -> str:
    if only_if_empty and not is_empty(url):
        return "database has data: demo not loaded"
    from layers.grid_build import build_grid

    settings = settings or Settings()
    blocks = build_grid(url, bbox=grid_bbox, progress=progress,  # type: ignore[arg-type]
                        tolerance_deg=settings.boundary_tolerance_deg, datum=settings.grid_datum)
    lines = [f"blocks: {blocks}"]
    with tempfile.TemporaryDirectory(prefix="gs-demo-") as tmp:
        for layer_id, collection in demo_layers().items():
            path = Path(tmp) / f"{layer_id}.geojson"
            path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
            result = run_upload(UploadRequest(layer_id=layer_id, path=path, file_name=path.name,
                                              actor=DEMO_ACTOR, authority="operator"), url, settings)
            lines.append(f"{layer_id}: version {result['version']}, {result['feature_count']} features")
    return "\n".join(lines)

"""The demo data set loads through the real pipeline and is loaded only once."""

from __future__ import annotations

from importers.demo import demo_layers, is_empty, load_demo


def test_demo_loads_every_layer_once(database_url, db):
    # A small grid window keeps the test fast; `make serve` builds the whole country.
    out = load_demo(url=database_url, grid_bbox=(69.0, 47.0, 70.0, 48.0), progress=False)
    assert "blocks: 3600" in out
    for layer_id, collection in demo_layers().items():
        count = db.execute(
            "SELECT v.feature_count FROM layers l JOIN layer_versions v ON v.id = l.current_version_id "
            "WHERE l.id = %s", (layer_id,)).fetchone()[0]
        assert count == len(collection["features"]), layer_id
    assert not is_empty(database_url)
    assert load_demo(url=database_url, only_if_empty=True) == "database has data: demo not loaded"
    # Block-list plots became real polygons of whole blocks (4 x 3 blocks of 1'x1').
    area = db.execute("SELECT ST_Area(geom) * 3600 FROM public.subsoil_plots WHERE feature_id = 'SF-2026-001'"
                      ).fetchone()[0]
    assert round(area, 6) == 12

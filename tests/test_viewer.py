"""Map styles (MapLibre style JSON, QGIS QML), the viewer's endpoints (block search, basemap,
glyphs, static files), and the public map viewer itself in a real browser (Debian's Chromium
driven by Playwright) against the real app and its vector tiles."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from geoservice.kernel.settings import PROJECT_ROOT
from geoservice.viewer.glyphs import decode
from layers.access import create_token
from layers.catalog import LAYERS
from layers.grid import block_bounds, block_code
from styles import palette
from styles.qml import categories
from tests.helpers import feature_collection, square, switch_map_language, write_json

KAZAKH = "әғқңөұүһі"
OVERLAY_LAYERS = ("subsoil-plots", "restriction-zones", "geological-studies", "blocks")
MVT_LAYERS = {"blocks", "subsoil-plots", "restriction-zones", "geological-studies", "country", "licences",
              "applied-blocks", "auction-lots"}
GRID_BBOX = (69.0, 47.0, 71.0, 49.0)
SCREENSHOTS = Path(os.environ.get("GEOSERVICE_SCREENSHOT_DIR", PROJECT_ROOT / "var" / "screenshots"))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Columns the catalog does not know, sent with plot P0: its name once per language, and a note.
TRANSLATED_NAMES = {"name_kk": "Қарағанды 0 учаскесі", "NAME_RU": "Участок Караганда 0",
                    "name_en": "Karaganda plot 0"}
NOTE = {"comment": "межа уточнена в 2023"}
ATTRIBUTION = {"kk": "Қазақстан Республикасының жер қойнауын пайдалану платформасы",
               "ru": "Платформа недропользования Республики Казахстан",
               "en": "Subsoil-use platform of the Republic of Kazakhstan"}
# The popup's own labels besides the catalog's attribute names (viewer.js, UI).
POPUP_LABELS = {"kk": {"Сәйкестендіргіш", "Деңгей", "Блоктар саны"},
                "ru": {"Идентификатор", "Уровень", "Число блоков"}, "en": {"Id", "Level", "Blocks"}}


# --- Fixtures ---------------------------------------------------------------------------------

def _upload(client: TestClient, headers: dict[str, str], layer: str, path: Path) -> None:
    r = client.post(f"/api/layers/{layer}/uploads", headers=headers,
                    files={"file": (path.name, path.read_bytes())})
    assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def map_data(database_url: str, client: TestClient, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small grid (69–71° E, 47–49° N) and a few features of every kind near 70° E 48° N."""
    from layers.grid_build import build_grid

    build_grid(database_url, bbox=GRID_BBOX, progress=False)
    with psycopg.connect(database_url) as conn:
        _, token = create_token(conn, "operator", "viewer tests")
        conn.commit()
    headers = {"Authorization": f"Bearer {token}"}
    tmp = tmp_path_factory.mktemp("viewer")
    plots = [(square(69.6 + 0.25 * i, 47.6, 0.2), {"plot_id": f"P{i}", "name": f"Учаске {i} Қарағанды",
                                                    "kind": kind, "status": status,
                                                    **(TRANSLATED_NAMES | NOTE if i == 0 else {})})
             for i, (kind, status) in enumerate([("hydrocarbon", "open"), ("mining-allotment", "applied"),
                                                 ("exploration", "auction"), ("fund-area", "licensed"),
                                                 ("common-minerals", "reserved")])]
    _upload(client, headers, "subsoil-plots", write_json(tmp / "plots.geojson", feature_collection(plots)))
    zones = [(square(69.7, 48.2, 0.3), {"zone_id": "Z1", "name": "Қорық", "kind": "protected-area",
                                        "regime": "prohibited"}),
             (square(70.2, 48.2, 0.3), {"zone_id": "Z2", "name": "Су қорғау аймағы", "kind": "water-protection",
                                        "regime": "conditional"})]
    _upload(client, headers, "restriction-zones", write_json(tmp / "zones.geojson", feature_collection(zones)))
    studies = [(square(69.5, 47.5, 1.2), {"study_id": "S1", "name": "Съёмка 1:200 000", "study_type":
                                          "geological-survey", "year_start": 1968, "year_end": 1972}),
               (square(70.0, 47.9, 0.8), {"study_id": "S2", "name": "Гравиразведка", "study_type": "geophysical",
                                          "year_start": 1985})]
    _upload(client, headers, "geological-studies", write_json(tmp / "studies.geojson", feature_collection(studies)))
    return {"plot": (69.7, 47.7), "zone": (69.85, 48.35), "headers": headers}


# --- Style JSON -------------------------------------------------------------------------------

def _style(client: TestClient, lang: str = "en", path: str = "/ogc/styles/default") -> dict[str, Any]:
    r = client.get(path, params={"f": "mapbox", "lang": lang})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.mapbox.style+json")
    return r.json()


def _local(url: str) -> bool:
    return urlparse(url).netloc == "testserver"


def test_style_is_consistent_and_local(client):
    style = _style(client)
    assert style["version"] == 8
    ids = [layer["id"] for layer in style["layers"]]
    assert len(ids) == len(set(ids))
    groups = {g["id"] for g in style["metadata"]["geoservice:groups"]}
    assert set(OVERLAY_LAYERS) <= groups
    for layer in style["layers"]:
        if layer["type"] == "background":
            continue
        assert layer["source"] in style["sources"], layer["id"]
        if style["sources"][layer["source"]]["type"] == "vector":
            assert layer["source-layer"] in MVT_LAYERS, layer["id"]
        assert layer["metadata"]["geoservice:group"] in groups
    # Everything the style loads comes from this server: glyphs, sprite, tiles, basemap data.
    assert _local(style["glyphs"]) and "{fontstack}" in style["glyphs"] and "{range}" in style["glyphs"]
    assert _local(style["sprite"])
    for source in style["sources"].values():
        for url in [source.get("url"), source.get("data"), *source.get("tiles", [])]:
            assert url is None or _local(url), url
    assert style["sources"]["geoservice"]["url"].endswith("/ogc/tiles/WebMercatorQuad/tilejson.json")
    # Every font the style names is served, Kazakh letters included.
    fonts = {tuple(layer["layout"]["text-font"]) for layer in style["layers"] if "text-font" in layer.get("layout", {})}
    for (font,) in fonts:
        url = style["glyphs"].replace("{fontstack}", font).replace("{range}", "1024-1279")
        r = client.get(urlparse(url).path)
        assert r.status_code == 200 and r.headers["content-type"] == "application/x-protobuf"
        stack = decode(r.content)[0]
        assert stack["name"] == font and stack["range"] == "1024-1279"
        have = {g["id"] for g in stack["glyphs"]}
        assert {ord(c) for c in KAZAKH + "АЯаяЁё"} <= have
    # The sprite has every pattern the style uses.
    index = client.get(urlparse(style["sprite"]).path + ".json").json()
    patterns = {layer["paint"]["fill-pattern"] for layer in style["layers"] if "fill-pattern" in layer.get("paint", {})}
    assert patterns and patterns <= set(index)
    for suffix, ratio in (("", 1), ("@2x", 2)):
        from PIL import Image

        image = Image.open(io.BytesIO(client.get(urlparse(style["sprite"]).path + suffix + ".png").content))
        entry = next(iter(client.get(urlparse(style["sprite"]).path + suffix + ".json").json().values()))
        assert entry["pixelRatio"] == ratio and image.height == entry["height"] == 16 * ratio


def _match_values(expression: list[Any]) -> list[str]:
    assert expression[0] == "match"
    return [expression[i] for i in range(2, len(expression) - 1, 2)]


def test_style_categories_follow_the_catalog(client):
    layers = {layer["id"]: layer for layer in _style(client)["layers"]}
    for layer_id, spec in palette.CATEGORISED.items():
        choices = [c.value for c in LAYERS[layer_id].attribute(spec.attribute).choices]
        # Every value has its own colour in the palette, and the style colours by exactly those.
        assert set(choices) == set(spec.looks), layer_id
        fill = layers[f"{layer_id}-fill"]["paint"]["fill-color"]
        assert _match_values(fill) == choices
        assert [fill[i + 1] for i in range(2, len(fill) - 1, 2)] == [spec.looks[v].fill for v in choices]
        outline_attr = spec.outline_attribute or spec.attribute
        outline_values = [c.value for c in LAYERS[layer_id].attribute(outline_attr).choices]
        for value in outline_values:
            assert f"{layer_id}-line-{value}" in layers
        if spec.outline_looks is not None:
            assert set(outline_values) == set(spec.outline_looks)
    # Prohibited zones are hatched and have the strongest outline.
    assert layers["restriction-zones-hatch-prohibited"]["paint"]["fill-pattern"].startswith("hatch-")
    assert (layers["restriction-zones-line-prohibited"]["paint"]["line-width"]
            > layers["restriction-zones-line-conditional"]["paint"]["line-width"])
    assert "line-dasharray" in layers["restriction-zones-line-conditional"]["paint"]
    # Blocks: thin lines, codes at high zoom only.
    assert layers["blocks-line"]["type"] == "line"
    assert layers["blocks-label"]["minzoom"] >= 12 and layers["blocks-label"]["layout"]["text-field"] == ["get", "code"]


def test_style_language_changes_labels(client):
    styles = {lang: _style(client, lang) for lang in ("kk", "ru", "en")}
    texts = {lang: json.dumps([layer["layout"].get("text-field") for layer in s["layers"] if layer["type"] == "symbol"],
                              ensure_ascii=False) for lang, s in styles.items()}
    assert "Көмірсутектер учаскесі" in texts["kk"] and "Тыйым салынған" in texts["kk"] and "Қазақстан" in texts["kk"]
    assert "Участок углеводородов" in texts["ru"] and "Запрещено" in texts["ru"] and "Казахстан" in texts["ru"]
    assert "Hydrocarbon plot" in texts["en"] and "Prohibited" in texts["en"] and "Kazakhstan" in texts["en"]
    assert len({styles[lang]["name"] for lang in styles}) == 3
    # The map credits the platform in the style's language; the TileJSON keeps its English text.
    for lang, style in styles.items():
        assert style["sources"]["geoservice"]["attribution"] == ATTRIBUTION[lang]
    tilejson = client.get(urlparse(styles["ru"]["sources"]["geoservice"]["url"]).path).json()
    assert tilejson["attribution"] == ATTRIBUTION["en"]
    assert client.get("/ogc/styles/default", headers={"Accept-Language": "ru"}).json()["metadata"][
        "geoservice:lang"] == "ru"
    # The legend carries all three languages, from the catalog.
    legend = {g["layer"]: g for g in styles["en"]["metadata"]["geoservice:legend"]}
    kinds = legend["subsoil-plots"]["sections"][0]
    assert kinds["attribute"] == "kind"
    assert [i["label"] for i in kinds["items"]] == [c.names.as_dict() for c in LAYERS["subsoil-plots"].attribute(
        "kind").choices]


def test_style_basemap_setting_and_new_values():
    from layers.catalog import Choice, Names
    from styles.mapbox import build_style

    plain = build_style("http://h", "en")
    assert "basemap" not in plain["sources"]
    with_raster = build_style("http://h", "en", basemap_url="https://tiles.example/{z}/{x}/{y}.png")
    assert with_raster["sources"]["basemap"] == {"type": "raster", "tiles": ["https://tiles.example/{z}/{x}/{y}.png"],
                                                 "tileSize": 256}
    ids = [layer["id"] for layer in with_raster["layers"]]
    assert ids.index("basemap") == 1  # right above the background, under everything else
    assert "basemap" in {g["id"] for g in with_raster["metadata"]["geoservice:groups"]}
    # A value the palette does not know yet still gets a colour (and a legend entry).
    layer = LAYERS["restriction-zones"]
    extra = Choice("buffer", Names("Буфер", "Буфер", "Buffer"))
    attr = layer.attribute("regime")
    looks = palette.looks(layer, "regime", palette.CATEGORISED["restriction-zones"].looks)
    assert [v for v, _, _ in looks] == [c.value for c in attr.choices]
    object.__setattr__(attr, "choices", (*attr.choices, extra))
    try:
        looks = palette.looks(layer, "regime", palette.CATEGORISED["restriction-zones"].looks)
        assert looks[-1][0] == "buffer" and looks[-1][2].fill in palette.FALLBACK
        fill = {lyr["id"]: lyr for lyr in build_style("http://h")["layers"]}["restriction-zones-fill"]
        assert "buffer" in _match_values(fill["paint"]["fill-color"])
    finally:
        object.__setattr__(attr, "choices", attr.choices[:-1])


def test_style_lists_and_collection_styles(client):
    listing = client.get("/ogc/styles").json()
    assert listing["default"] == "default"
    link = listing["styles"][0]["links"][0]
    assert link["type"] == "application/vnd.mapbox.style+json" and "/ogc/styles/default?f=mapbox" in link["href"]
    for layer_id in OVERLAY_LAYERS:
        listing = client.get(f"/ogc/collections/{layer_id}/styles").json()
        types = {link["type"] for link in listing["styles"][0]["links"]}
        assert types == {"application/vnd.mapbox.style+json", "application/vnd.qgis.qml"}
        style = _style(client, "ru", f"/ogc/collections/{layer_id}/styles/default")
        assert {layer["metadata"]["geoservice:group"] for layer in style["layers"]} == {layer_id}
        assert {layer["source-layer"] for layer in style["layers"]} == {layer_id}
        assert style["sources"]["geoservice"]["url"].endswith(
            f"/ogc/collections/{layer_id}/tiles/WebMercatorQuad/tilejson.json")
    r = client.get("/ogc/styles/default", params={"f": "qml"})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    r = client.get("/ogc/styles/nope")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert client.get("/ogc/collections/nope/styles").status_code == 404
    assert client.get("/ogc/collections/blocks/styles/default", params={"f": "sld"}).status_code == 400


# --- QML --------------------------------------------------------------------------------------

def _qml(client: TestClient, layer_id: str, lang: str, **kw: Any) -> str:
    r = client.get(f"/ogc/collections/{layer_id}/styles/default", params={"f": "qml", "lang": lang}, **kw)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.qgis.qml")
    return r.text


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_qml_is_well_formed_with_catalog_categories(client, lang):
    for layer_id in OVERLAY_LAYERS:
        text = _qml(client, layer_id, lang)
        assert text.startswith("<!DOCTYPE qgis")
        root = ET.fromstring(text.split("\n", 1)[1])  # well-formed, or this raises
        assert root.tag == "qgis" and root.get("version", "").startswith("3.")
        assert root.find("labeling/settings/text-style") is not None
        info = categories(text)
        if layer_id == "blocks":
            assert info["type"] == "singleSymbol"
            assert root.find("labeling/settings/text-style").get("fieldName") == "code"
            continue
        spec = palette.CATEGORISED[layer_id]
        choices = LAYERS[layer_id].attribute(spec.attribute).choices
        assert info["type"] == "categorizedSymbol" and info["attr"] == spec.attribute
        assert info["values"] == [c.value for c in choices] + [""]      # "" catches other values
        assert info["labels"][:-1] == [getattr(c.names, lang) for c in choices]
        # Each category's fill colour is the palette's (alpha = fill opacity).
        symbols = {s.get("name"): s for s in root.find("renderer-v2/symbols")}
        for i, choice in enumerate(choices):
            fill = symbols[str(i)].find("layer[@class='SimpleFill']")
            colour = fill.find("Option/Option[@name='color']").get("value")
            look = spec.looks[choice.value]
            assert colour == ",".join(map(str, palette.rgb(look.fill))) + f",{round(look.fill_opacity * 255)}"
            assert fill.find("prop[@k='color']").get("v") == colour
            hatched = symbols[str(i)].find("layer[@class='LinePatternFill']") is not None
            assert hatched == bool(look.pattern)
        if spec.outline_attribute:
            line = symbols["0"].find("layer[@class='SimpleLine']")
            dd = line.find("data_defined_properties/Option/Option[@name='properties']")
            expression = dd.find("Option[@name='outlineColor']/Option[@name='expression']").get("value")
            for choice in LAYERS[layer_id].attribute(spec.outline_attribute).choices:
                assert f"'{choice.value}'" in expression


def test_qml_loads_in_qgis(client, tmp_path):
    """The real check, where Debian's QGIS (python3-qgis) is installed: QGIS reads every QML
    with the catalog's categories, data-defined outlines and labels."""
    probe = subprocess.run(["/usr/bin/python3", "-c", "import qgis.core"], capture_output=True, check=False) \
        if Path("/usr/bin/python3").exists() else None
    if probe is None or probe.returncode != 0:
        pytest.skip("QGIS (python3-qgis) is not installed")
    for layer_id in OVERLAY_LAYERS:
        (tmp_path / f"{layer_id}.qml").write_text(_qml(client, layer_id, "ru"), encoding="utf-8")
    script = """
import json, os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False); app.initQgis()
out = {}
for name in sys.argv[2:]:
    layer = QgsVectorLayer("Polygon?crs=EPSG:4326&field=kind:string&field=status:string&field=regime:string"
                           "&field=study_type:string&field=name:string&field=code:string", name, "memory")
    message, ok = layer.loadNamedStyle(os.path.join(sys.argv[1], name + ".qml"))
    renderer = layer.renderer()
    cats = renderer.categories() if renderer.type() == "categorizedSymbol" else []
    out[name] = {"ok": ok, "message": message, "type": renderer.type(), "labels": layer.labelsEnabled(),
                 "values": [c.value() for c in cats], "colours": [c.symbol().color().name() for c in cats]}
print(json.dumps(out))
"""
    run = subprocess.run(["/usr/bin/python3", "-c", script, str(tmp_path), *OVERLAY_LAYERS], capture_output=True,
                         text=True, timeout=180, check=False, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    for layer_id in OVERLAY_LAYERS:
        got = result[layer_id]
        assert got["ok"] and got["labels"], got
        if layer_id == "blocks":
            assert got["type"] == "singleSymbol"
            continue
        spec = palette.CATEGORISED[layer_id]
        choices = [c.value for c in LAYERS[layer_id].attribute(spec.attribute).choices]
        assert got["type"] == "categorizedSymbol" and got["values"] == choices + [""]
        assert got["colours"][:-1] == [spec.looks[v].fill for v in choices]


# --- Block search, basemap, static files ------------------------------------------------------

def test_block_search_single_code(client):
    r = client.get("/api/blocks/search", params={"q": "M-42-1-(10а-5а-1)"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert body["count"] == 1 and body["codes"] == ["M-42-1-(10а-5а-1)"]
    assert body["bbox"] == pytest.approx(list(block_bounds("M-42-1-(10а-5а-1)")))
    feature = body["features"][0]
    assert feature["properties"]["code"] == "M-42-1-(10а-5а-1)" and feature["geometry"]["type"] == "Polygon"
    # Latin letters and spaces are accepted and answered in canonical form.
    assert client.get("/api/blocks/search", params={"q": "m-42-1-(10a - 5a - 1)"}).json()["codes"] == [
        "M-42-1-(10а-5а-1)"]


def test_block_search_list(client):
    q = "L-43-63-(10а-5б-14,15,19,20); L-43-64-(10а-5а-1)"
    body = client.get("/api/blocks/search", params={"q": q}).json()
    assert body["codes"] == ["L-43-63-(10а-5б-14)", "L-43-63-(10а-5б-15)", "L-43-63-(10а-5б-19)",
                             "L-43-63-(10а-5б-20)", "L-43-64-(10а-5а-1)"]
    bounds = [block_bounds(c) for c in body["codes"]]
    assert body["bbox"] == pytest.approx([min(b[0] for b in bounds), min(b[1] for b in bounds),
                                          max(b[2] for b in bounds), max(b[3] for b in bounds)])
    assert len(body["features"]) == 5


@pytest.mark.parametrize(("q", "token"), [("L-43-63-(10ж-5б-14)", "ж"), ("L-43-63-(10а-5б-26)", "26"),
                                          ("Z-43-63-(10а-5б-1)", "Z"), ("L-43-63-(10а-5б-1); L-43-200-(10а-5а-1)",
                                                                        "200")])
def test_block_search_bad_token_is_a_problem(client, q, token):
    r = client.get("/api/blocks/search", params={"q": q}, headers={"Accept-Language": "ru"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["token"] == token and q[body["position"] - 1:].startswith(token)
    assert f"«{token}»" in body["detail"]  # Russian, naming the token
    r = client.get("/api/blocks/search", params={"q": ""})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


def test_basemap_country_and_graticule(client):
    r = client.get("/api/basemap/country.geojson")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    features = r.json()["features"]
    assert features[0]["id"] == "KAZ" and features[0]["geometry"]["type"] == "MultiPolygon"
    grid = client.get("/api/basemap/graticule.geojson", params={"step": 5, "bbox": "45,40,90,56"}).json()
    lons = [f["properties"]["value"] for f in grid["features"] if f["properties"]["axis"] == "lon"]
    lats = [f["properties"]["value"] for f in grid["features"] if f["properties"]["axis"] == "lat"]
    assert lons == [45, 50, 55, 60, 65, 70, 75, 80, 85, 90] and lats == [40, 45, 50, 55]
    labels = {f["properties"]["label"] for f in grid["features"]}
    assert {"70°E", "50°N"} <= labels
    fine = client.get("/api/basemap/graticule.geojson", params={"step": 0.5, "bbox": "69,47,71,49"}).json()
    assert {"69°30′E", "47°30′N"} <= {f["properties"]["label"] for f in fine["features"]}
    assert client.get("/api/basemap/graticule.geojson", params={"step": 0.02}).status_code == 422
    assert client.get("/api/basemap/graticule.geojson", params={"bbox": "1,2,3"}).status_code == 400
    assert client.get("/api/basemap/graticule.geojson", params={"step": 0}).status_code == 400


def test_page_static_files_and_glyphs(client):
    r = client.get("/", headers={"Accept-Language": "kk"})
    assert r.status_code == 200 and r.headers["content-language"] == "kk"
    assert "Жер қойнауын пайдалану картасы" in r.text
    config = json.loads(r.text.split('type="application/json">', 1)[1].split("</script>", 1)[0])
    assert config["lang"] == "kk" and config["basemap_url"] is None
    assert config["pulkovo_towgs84"] == [15.0, -130.0, -84.0]
    assert set(config["layers"]) == set(LAYERS)
    for path in ("/viewer/static/viewer.js", "/viewer/static/vendor/maplibre-gl.mjs",
                 "/viewer/static/vendor/maplibre-gl-worker.mjs", "/viewer/static/vendor/proj4.js"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript"), path
    assert client.get("/viewer/static/vendor/maplibre-gl.css").headers["content-type"].startswith("text/css")
    assert client.get("/viewer/static/../routes.py").status_code == 404  # the client makes it /viewer/routes.py
    for path in ("/viewer/static/%2e%2e/routes.py", "/viewer/static/nope.js", "/viewer/static/..%2f..%2fsettings.py",
                 "/viewer/static/vendor", "/viewer/static/"):
        r = client.get(path, headers={"Accept-Language": "ru"})
        assert r.status_code == 404, path
        assert r.headers["content-type"] == "application/problem+json"
        body = r.json()
        assert body["type"] == "urn:geoservice:problem:viewer.not_found" and body["detail"] == "Такого файла нет."
    # Vendored libraries are cached for a day, the viewer's own files revalidated; both answer 304
    # to a browser that has them.
    cases = {"/viewer/static/vendor/maplibre-gl.mjs": ("public, max-age=86400", "text/javascript; charset=utf-8"),
             "/viewer/static/viewer.js": ("no-cache", "text/javascript; charset=utf-8"),
             "/viewer/static/viewer.css": ("no-cache", "text/css; charset=utf-8"),
             "/viewer/static/fonts/Noto Sans Bold/0-255.pbf": ("no-cache", "application/x-protobuf"),
             "/viewer/fonts/Noto Sans Bold/0-255.pbf": ("public, max-age=86400", "application/x-protobuf")}
    for path, (cache, media) in cases.items():
        r = client.get(path)
        assert r.status_code == 200 and r.headers["cache-control"] == cache and r.headers["content-type"] == media
        etag, modified = r.headers["etag"], r.headers["last-modified"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"", path
        assert again.headers["etag"] == etag and again.headers["cache-control"] == cache
        assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
        assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
        if path.startswith("/viewer/static/"):
            head = client.head(path)
            assert head.status_code == 200 and head.headers["content-length"] == str(len(r.content))
    assert client.post("/viewer/static/viewer.js").status_code == 405
    # Ranges we do not ship are empty rather than errors; nonsense is 404.
    empty = client.get("/viewer/fonts/Noto Sans Regular/19968-20223.pbf")
    assert empty.status_code == 200 and decode(empty.content)[0]["glyphs"] == []
    assert client.get("/viewer/fonts/Noto Sans Regular/5-20.pbf").status_code == 404
    assert client.get("/viewer/fonts/Nope/0-255.pbf").status_code == 404
    both = client.get("/viewer/fonts/Nope,Noto Sans Bold/0-255.pbf")
    assert both.status_code == 200 and decode(both.content)[0]["name"] == "Noto Sans Bold"


# --- The viewer in a real browser -------------------------------------------------------------

@pytest.fixture(scope="module")
def live(map_data: dict[str, Any]) -> Iterator[str]:
    """The real app under uvicorn on a free loopback port (a browser cannot use TestClient)."""
    from tests.live import live_server

    with live_server() as url:
        yield url


def _wait_idle(page: Any, timeout: float = 60_000) -> None:
    page.wait_for_function("() => window.geoservice && window.geoservice.idle === true && window.map.loaded()",
                           timeout=timeout)


def _rendered(page: Any) -> dict[str, int]:
    return page.evaluate("""() => {
        const out = {};
        for (const f of window.map.queryRenderedFeatures()) {
            const key = f.sourceLayer || f.source;
            out[key] = (out[key] || 0) + 1;
            out['layer:' + f.layer.id] = (out['layer:' + f.layer.id] || 0) + 1;
        }
        return out;
    }""")


def _distinct_colours(png: bytes, box: tuple[int, int, int, int] | None = None) -> int:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    if box:
        image = image.crop(box)
    return len(image.getcolors(maxcolors=1 << 24) or [])


@pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (make system installs it)")
def test_viewer_in_a_browser(live: str, map_data: dict[str, Any], client: TestClient, tmp_path: Path):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    requests: list[str] = []
    problems: list[str] = []
    failed: list[tuple[int, str]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            # HTTP errors are checked by URL below; the browser also logs each as a console error.
            page.on("console", lambda m: problems.append(f"console: {m.text}")
                    if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
            page.on("response", lambda r: failed.append((r.status, urlparse(r.url).path)) if r.status >= 400 else None)
            page.goto(f"{live}/?lang=en#map=8.6/48.0/70.1")
            _wait_idle(page)

            # The map drew every layer from the real tiles, with labels (so glyphs loaded).
            rendered = _rendered(page)
            for layer in ("subsoil-plots", "restriction-zones", "geological-studies", "blocks", "country"):
                assert rendered.get(layer, 0) > 0, (layer, rendered)
            assert rendered.get("layer:subsoil-plots-label", 0) > 0, rendered
            assert rendered.get("layer:restriction-zones-hatch-prohibited", 0) > 0, rendered
            assert page.evaluate("window.geoservice.errors") == []
            shot = page.screenshot(path=str(SCREENSHOTS / "viewer-en.png"))
            box = page.locator("#map").bounding_box()
            assert box is not None
            map_box = (int(box["x"]), int(box["y"]), int(box["x"] + box["width"]), int(box["y"] + box["height"]))
            assert _distinct_colours(shot, map_box) > 200  # not blank: fills, hatching, lines, labels

            # An authority uploads a plot: the open page switches to the new tiles by itself.
            fresh = feature_collection([(square(70.45, 47.95, 0.1), {"plot_id": "NEW", "name": "Жаңа учаске",
                                                                      "kind": "exploration", "status": "open"})])
            r = client.post("/api/layers/subsoil-plots/uploads", headers=map_data["headers"], data={"mode": "append"},
                            files={"file": ("new.geojson", write_json(tmp_path / "new.geojson", fresh).read_bytes())})
            assert r.status_code == 201, r.text
            deadline = time.monotonic() + 20
            while not page.evaluate("window.geoservice.checkTiles()"):
                assert time.monotonic() < deadline, "the TileJSON never named the new version"
                time.sleep(0.3)
            page.wait_for_function("""() => window.map.queryRenderedFeatures({layers: ['subsoil-plots-fill']})
                                           .some(f => f.properties.name === 'Жаңа учаске')""", timeout=20_000)
            _wait_idle(page)

            # Coordinates under the cursor: WGS 84 and the Gauss-Krüger zone of that longitude,
            # the same numbers as PROJ gives with EPSG:1291's shift.
            x, y = page.evaluate("([lon, lat]) => { const p = window.map.project([lon, lat]); return [p.x, p.y]; }",
                                 list(map_data["plot"]))
            page.mouse.move(box["x"] + x, box["y"] + y)
            wgs_text = page.locator("#coords-wgs").inner_text()   # "WGS 84: 47°42′00.0″N … (47.70000, 69.70000)"
            lat, lon = (float(v) for v in wgs_text.rsplit("(", 1)[1].rstrip(") ").split(","))
            assert abs(lon - map_data["plot"][0]) < 0.01 and abs(lat - map_data["plot"][1]) < 0.01
            assert "°" in wgs_text and "″N" in wgs_text and "″E" in wgs_text
            gk_text = page.locator("#coords-gk").inner_text()
            assert gk_text.startswith("GK zone 12 (EPSG:28412): X ")
            from pyproj import Transformer

            pulkovo_gk = ("+proj=tmerc +lat_0=0 +lon_0=69 +k=1 +x_0=12500000 +y_0=0 +ellps=krass "
                          "+towgs84=15,-130,-84,0,0,0,0 +units=m +no_defs")
            east, north = Transformer.from_crs("EPSG:4326", pulkovo_gk, always_xy=True).transform(lon, lat)
            js = page.evaluate("([lon, lat]) => window.geoservice.gk(lon, lat)", [lon, lat])
            assert js["zone"] == 12 and js["epsg"] == 28412
            assert abs(js["x"] - north) < 0.5 and abs(js["y"] - east) < 0.5
            shown_x = float(gk_text.split("X ")[1].split(" Y")[0].replace("\u2009", ""))
            assert abs(shown_x - north) < 2  # the read-out's lat/lon have 5 decimals (~1 m)

            # Click a plot: a popup with its attributes in the page's language.
            page.mouse.click(box["x"] + x, box["y"] + y)
            popup = page.locator(".maplibregl-popup-content")
            popup.wait_for(timeout=10_000)
            assert "Subsoil plots" in popup.inner_text() and "Hydrocarbon plot" in popup.inner_text()
            # The tile's name first, then the full record's name in English (name_en).
            page.wait_for_function("() => document.querySelector('.maplibregl-popup-content').innerText"
                                   ".includes('Karaganda plot 0')", timeout=10_000)

            # Search a block code: the map flies there and highlights it.
            code = block_code(70.51, 48.51)
            page.fill("#search-input", code)
            page.press("#search-input", "Enter")
            west, south, east_, north_ = block_bounds(code)
            page.wait_for_function(
                """([w, s, e, n]) => { const c = window.map.getCenter();
                    return !window.map.isMoving() && c.lng > w && c.lng < e && c.lat > s && c.lat < n; }""",
                arg=[west, south, east_, north_], timeout=15_000)
            assert page.evaluate("window.map.getZoom()") > 11
            _wait_idle(page)
            assert page.evaluate("window.map.querySourceFeatures('gs-search').length") >= 1
            assert code in page.locator("#search-result").inner_text()
            labels = page.evaluate("window.map.queryRenderedFeatures({layers: ['blocks-label']})"
                                   ".map(f => f.properties.code)")
            assert code in labels
            page.screenshot(path=str(SCREENSHOTS / "viewer-search.png"))
            # A list of blocks, then a bad one: the problem names the token.
            page.fill("#search-input", f"{code}; L-43-63-(10а-5б-14,15)")
            page.press("#search-input", "Enter")
            page.wait_for_function("() => document.querySelector('#search-result').innerText.includes('3')")
            page.fill("#search-input", "M-42-1-(10ж-5а-1)")
            page.press("#search-input", "Enter")
            error = page.locator("#search-result .error")
            error.wait_for(timeout=10_000)
            assert "“ж”" in error.inner_text()

            # Switch a layer off, then the language: texts, legend and map labels change, the
            # layer stays off.
            page.uncheck("[data-layer-toggle='restriction-zones']")
            assert page.evaluate("window.map.getLayoutProperty('restriction-zones-fill', 'visibility')") == "none"
            legend_en = page.locator("#layers").inner_text()
            assert "Hydrocarbon plot" in legend_en and "Subsoil plots" in legend_en
            page.click("[data-lang='kk']")
            page.wait_for_function("() => document.querySelector('#layers').innerText"
                                   ".includes('Жер қойнауы учаскелері')")
            legend_kk = page.locator("#layers").inner_text()
            assert legend_kk != legend_en and "Көмірсутектер учаскесі" in legend_kk
            page.wait_for_function("(text) => document.querySelector('.maplibregl-ctrl-attrib-inner')"
                                   ".textContent.includes(text)", arg=ATTRIBUTION["kk"], timeout=10_000)
            assert ATTRIBUTION["en"] not in page.locator(".maplibregl-ctrl-attrib-inner").text_content()
            assert page.locator("#coords-gk").inner_text().startswith("ГК, 12-аймақ (EPSG:28412): X ")
            assert page.locator("#search-button").inner_text() == "Табу"
            page.wait_for_function("() => JSON.stringify(window.map.getLayoutProperty('subsoil-plots-label', "
                                   "'text-field')).includes('Көмірсутектер')")
            assert page.evaluate("window.map.getLayoutProperty('restriction-zones-fill', 'visibility')") == "none"
            assert page.evaluate("window.map.getSource('gs-search') !== undefined")
            assert page.evaluate("new URL(location.href).searchParams.get('lang')") == "kk"
            page.wait_for_function("() => document.querySelector('#search-result .error').innerText"
                                   ".includes('оқу мүмкін болмады')")  # the problem, now in Kazakh
            page.evaluate("window.map.jumpTo({center: [70.1, 48.0], zoom: 8.6})")
            page.check("[data-layer-toggle='restriction-zones']")
            _wait_idle(page)
            shot = page.screenshot(path=str(SCREENSHOTS / "viewer-kk.png"))
            assert _distinct_colours(shot, map_box) > 200
            assert page.evaluate("window.geoservice.errors") == []
        finally:
            browser.close()
    # Offline: the page loaded nothing from anywhere but this server.
    foreign = [u for u in requests if not u.startswith(live) and not u.startswith(("data:", "blob:"))]
    assert foreign == []
    assert problems == [], problems
    # The bad block code (asked again in Kazakh after the switch), and nothing else.
    assert set(failed) == {(422, "/api/blocks/search")}


@pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (make system installs it)")
def test_viewer_popup_and_attribution_follow_the_language(live: str, map_data: dict[str, Any]):
    """Every row of a popup has a label in the page's language (no raw column names such as
    name_kk; a name sent per language shows in the page's one), and the map's attribution is in
    the page's language, also after a switch at run time."""
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    names = {"kk": TRANSLATED_NAMES["name_kk"], "ru": TRANSLATED_NAMES["NAME_RU"], "en": TRANSLATED_NAMES["name_en"]}
    problems: list[str] = []
    failed: list[tuple[int, str]] = []

    def labels(lang: str) -> set[str]:
        return POPUP_LABELS[lang] | {getattr(a.names, lang) for layer in LAYERS.values() for a in layer.attributes}

    def click_plot(page: Any, lang: str) -> dict[str, Any]:
        box = page.locator("#map").bounding_box()
        x, y = page.evaluate("([lon, lat]) => { const p = window.map.project([lon, lat]); return [p.x, p.y]; }",
                             list(map_data["plot"]))
        page.mouse.click(box["x"] + x, box["y"] + y)
        # Wait for the full record (the translated names and the note come only with it).
        page.wait_for_function("(name) => document.querySelector('.maplibregl-popup-content')?.innerText"
                               ".includes(name)", arg=names[lang], timeout=10_000)
        return page.evaluate("""() => {
            const plot = document.querySelector('.maplibregl-popup-content section[data-layer="subsoil-plots"]');
            const rows = [...document.querySelectorAll('.maplibregl-popup-content th')].map(th => th.textContent);
            const cells = Object.fromEntries([...plot.querySelectorAll('tr')].map(
                tr => [tr.querySelector('th').textContent, tr.querySelector('td').textContent]));
            const more = plot.querySelector('.more a');
            return {text: document.querySelector('.maplibregl-popup-content').innerText, rows, cells,
                    more: more && {text: more.textContent, href: more.getAttribute('href')}};
        }""")

    def check(page: Any, lang: str, popup: dict[str, Any]) -> None:
        assert popup["rows"] and set(popup["rows"]) <= labels(lang), (lang, set(popup["rows"]) - labels(lang))
        for column in [*TRANSLATED_NAMES, *NOTE, "name_ru", "comment"]:
            assert column not in popup["text"], (lang, column)
        name_label = getattr(LAYERS["subsoil-plots"].attribute("name").names, lang)
        assert popup["cells"][name_label] == names[lang]
        assert [v for v in names.values() if v in popup["text"]] == [names[lang]]   # shown once, in this language
        assert NOTE["comment"] not in popup["text"]   # no label for it: left to the full record, linked
        assert popup["more"]["href"] == "/ogc/collections/subsoil-plots/items/P0?f=html"
        assert popup["more"]["text"].endswith(": 1")
        attribution = page.locator(".maplibregl-ctrl-attrib-inner").text_content()
        assert ATTRIBUTION[lang] in attribution, (lang, attribution)
        assert all(ATTRIBUTION[other] not in attribution for other in ATTRIBUTION if other != lang)
        assert page.locator(".maplibregl-ctrl-attrib-button").get_attribute("title") == {
            "kk": "Дереккөздерді көрсету не жасыру", "ru": "Показать или скрыть источники",
            "en": "Toggle attribution"}[lang]

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for lang in ("ru", "kk", "en"):
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
                page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
                page.on("response", lambda r: failed.append((r.status, r.url)) if r.status >= 400 else None)
                page.goto(f"{live}/?lang={lang}#map=10/47.72/69.75")
                _wait_idle(page)
                check(page, lang, click_plot(page, lang))
                page.screenshot(path=str(SCREENSHOTS / f"viewer-popup-{lang}.png"))
                page.close()
            # At run time: ru → kk → en on one page, the attribution and the popup follow.
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(f"{live}/?lang=ru#map=10/47.72/69.75")
            _wait_idle(page)
            for lang in ("kk", "en", "ru"):
                switch_map_language(page, lang)  # done, not just begun: its end closes a popup opened meanwhile
                page.wait_for_function("(text) => document.querySelector('.maplibregl-ctrl-attrib-inner')"
                                       ".textContent.includes(text)", arg=ATTRIBUTION[lang], timeout=10_000)
                _wait_idle(page)
                check(page, lang, click_plot(page, lang))
                scale = page.locator(".maplibregl-ctrl-scale").inner_text()
                assert scale.endswith({"kk": "км", "ru": "км", "en": "km"}[lang]), scale
                assert page.evaluate("window.geoservice.errors") == []
            page.screenshot(path=str(SCREENSHOTS / "viewer-popup-switched.png"))
        finally:
            browser.close()
    assert problems == [] and failed == [], (problems, failed)


@pytest.fixture
def study_reports(map_data: dict[str, Any], database_url: str) -> Iterator[str]:
    """A public and an official-use report on study S2, and a session of the demo officer; the
    reports are removed afterwards (other modules on this worker count the reports they find)."""
    from cadastre.demo import load_people
    from cadastre.geo_reports import NewReport, add_file, add_report, minimal_pdf
    from tests.applicants import session_token

    with psycopg.connect(database_url) as conn:
        for n, level in ((1, "public"), (2, "official-use")):
            report = add_report(conn, NewReport(study_key="S2", inventory=f"VIEW-S2-{n}",
                                                title=f"Гравиразведка, отчёт {n}", access_level=level,
                                                year=1986), authority="operator", actor="test")
            add_file(conn, report, f"s2-{n}.pdf", minimal_pdf(f"report {n}"), actor="test")
        load_people(conn)   # the demo officer (solid-minerals) in the register, with the role
        token = session_token(conn, "880409400785")
        conn.commit()
    try:
        yield token
    finally:
        with psycopg.connect(database_url) as conn:
            conn.execute("DELETE FROM geo_report_files WHERE report_id IN "
                         "(SELECT id FROM geo_reports WHERE inventory LIKE 'VIEW-S2-%')")
            conn.execute("DELETE FROM geo_reports WHERE inventory LIKE 'VIEW-S2-%'")
            conn.commit()


def test_a_study_popup_lists_its_reports(live: str, map_data: dict[str, Any], study_reports: str):
    """Issue 12: clicking a study shows its reports; the public one's file is a download, the
    official-use one's files are withheld from an anonymous reader (with how to get them) and
    given to an authority's officer once signed in."""
    from playwright.sync_api import expect, sync_playwright

    officer_token = study_reports
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(f"{live}/?lang=ru#map=10/48.0/70.7")
            _wait_idle(page)
            box = page.locator("#map").bounding_box()
            # Inside study S2 (70.0–70.8° E, 47.9–48.7° N), away from the plots and the zones.
            x, y = page.evaluate("() => { const p = window.map.project([70.7, 48.0]); return [p.x, p.y]; }")
            page.mouse.click(box["x"] + x, box["y"] + y)
            reports = page.locator(".maplibregl-popup-content ul.reports")
            reports.wait_for(timeout=15_000)
            expect(page.locator(".maplibregl-popup-content .reports-title")).to_have_text("Отчёты")
            page.screenshot(path=str(SCREENSHOTS / "viewer-study-reports-ru.png"))
            public = reports.locator("li[data-inventory='VIEW-S2-1']")
            expect(public.locator(".report-level")).to_have_text("открытый")
            link = public.locator(".report-files a")
            expect(link).to_have_text("s2-1.pdf")
            href = link.get_attribute("href")
            official = reports.locator("li[data-inventory='VIEW-S2-2']")
            expect(official.locator(".report-withheld")).to_contain_text("войдите в личный кабинет")
            expect(official.locator(".report-files")).to_have_count(0)
            # Signed in as an authority's officer (the session cookie the cabinet sets), the same
            # click gives the official-use report's file.
            page.context.add_cookies([{"name": "gs_session", "value": officer_token, "url": live}])
            page.reload()
            _wait_idle(page)
            page.mouse.click(box["x"] + x, box["y"] + y)
            official = page.locator(".maplibregl-popup-content ul.reports li[data-inventory='VIEW-S2-2']")
            expect(official.locator(".report-files a")).to_have_text("s2-2.pdf", timeout=15_000)
            expect(official.locator(".report-withheld")).to_have_count(0)
        finally:
            browser.close()
    assert problems == []
    assert href and httpx.get(href).content.startswith(b"%PDF")

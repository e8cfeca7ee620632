"""The public map viewer at / and what it needs from the service itself (it works offline: no CDN,
no external basemap): its static files and vendored MapLibre GL JS / proj4 (/viewer/static/…),
SDF glyphs (/viewer/fonts/{fontstack}/{range}.pbf), block search (/api/blocks/search), and a
basemap of its own: the country outline and a graticule (/api/basemap/…)."""

from __future__ import annotations

import html
import json
import math
import os
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

from geoservice.deps import PUBLIC, SettingsDep
from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import negotiate
from geoservice.kernel.settings import Settings
from geoservice.viewer.glyphs import FONTS_DIR, encode
from layers import datum
from layers.catalog import LAYERS
from layers.grid import blocks_geometry, parse_block_list
from styles.mapbox import LANGS, STYLE_ID, STYLE_TITLE
from styles.palette import BLOCK_LEVELS

router = APIRouter(tags=["viewer"])

STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_SEARCH_BLOCKS = 2000    # a licence has at most a few hundred; this keeps one answer small
MAX_GRATICULE_LINES = 1000
LONG_CACHE = "public, max-age=86400"
DEFAULT_BBOX = (-180.0, -80.0, 180.0, 80.0)  # the lines run past any view; 1° steps: ~520 lines
# Our own table, not the host's mimetypes (/etc/mime.types differs between machines and knows no
# .pbf): module scripts must come as JavaScript, glyphs as protobuf.
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8", ".json": "application/json", ".png": "image/png",
    ".svg": "image/svg+xml", ".pbf": "application/x-protobuf", ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
}



# --- The page ---------------------------------------------------------------------------------

def page_config(lang: str, settings: Settings) -> dict[str, Any]:
    """What the page needs to know, from the catalog and settings (the legend comes with the style)."""
    layers = {}
    for layer in LAYERS.values():
        layers[layer.id] = {
            "names": layer.names.as_dict(),
            "key": layer.key,
            "attributes": [{"name": a.name, "type": a.type, "names": a.names.as_dict(),
                            "choices": {c.value: c.names.as_dict() for c in a.choices}} for a in layer.attributes],
        }
    return {
        "lang": lang,
        "langs": list(LANGS),
        "style": f"/ogc/styles/{STYLE_ID}?f=mapbox",
        "basemap_url": settings.basemap_url,
        "layers": layers,
        "title": STYLE_TITLE.as_dict(),
        "block_levels": {level: names.as_dict() for level, (names, _) in BLOCK_LEVELS.items()},
        # Gauss-Krüger read-out: Pulkovo 1942 shifted by EPSG:1291, the transformation imports use.
        "pulkovo_towgs84": list(datum.towgs84()),
    }


PAGE = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/viewer/static/vendor/maplibre-gl.css">
<link rel="stylesheet" href="/viewer/static/viewer.css">
<script src="/viewer/static/vendor/proj4.js"></script>
<script id="geoservice-config" type="application/json">{config}</script>
<script type="module" src="/viewer/static/viewer.js"></script>
<script type="module" src="/viewer/static/parcel-check.js"></script>
<script type="module" src="/viewer/static/licence-view.js"></script>
</head>
<body>
<header id="bar">
  <h1 id="title">{title}</h1>
  <form id="search" role="search" autocomplete="off">
    <input id="search-input" name="q" type="search" spellcheck="false">
    <button id="search-button" type="submit"></button>
  </form>
  <nav id="langs" aria-label="language"></nav>
</header>
<main>
  <aside id="panel"><section id="licence-view" hidden></section>
  <h2 id="layers-title"></h2><div id="layers"></div><div id="search-result"></div>
    <section id="parcel-check"></section></aside>
  <div id="map" aria-label="map"></div>
</main>
<footer id="coords"><span id="coords-wgs"></span><span id="coords-gk"></span></footer>
</body>
</html>
"""


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def viewer(request: Request, settings: SettingsDep, lang: str | None = None) -> HTMLResponse:
    lang = lang.lower() if lang and lang.lower() in LANGS else negotiate(request.headers.get("accept-language"))
    config = json.dumps(page_config(lang, settings), ensure_ascii=False).replace("</", "<\\/")  # stays inside <script>
    body = PAGE.format(lang=lang, title=html.escape(getattr(STYLE_TITLE, lang)), config=config)
    return HTMLResponse(body, headers={"Content-Language": lang, "Cache-Control": "no-cache"})


class ViewerFiles(StaticFiles):
    """Starlette's static files (path checks, ETag/Last-Modified and 304, Range, HEAD) with the
    viewer's content types and caching: the vendored libraries change only with a release, so a
    day's cache; the viewer's own files are revalidated on every load (a 304 when unchanged)."""

    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        path = Path(full_path)
        cache = LONG_CACHE if path.relative_to(STATIC_DIR).parts[0] == "vendor" else "no-cache"
        return self.respond(path, stat_result, scope, cache, status_code)

    def respond(self, path: Path, stat_result: os.stat_result, scope: Scope, cache: str,
                status_code: int = 200) -> Response:
        response = FileResponse(path, status_code=status_code, stat_result=stat_result,
                                media_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream"),
                                headers={"Cache-Control": cache})
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code == 404:  # the service's own 404 problem, in the request's language
                raise Problem("viewer.not_found", 404) from None
            raise


STATIC_FILES = ViewerFiles(directory=STATIC_DIR)
router.mount("/viewer/static", STATIC_FILES, name="viewer-static")


@router.get("/viewer/fonts/{fontstack}/{glyph_range}.pbf", include_in_schema=False)
def glyphs(request: Request, fontstack: str, glyph_range: str) -> Response:
    """One 256-glyph range. A stack lists fonts by comma; the first we have answers. Ranges we do
    not ship answer empty (MapLibre then simply has no glyph there) rather than 404 errors.
    Own route rather than a static mount: the fontstack is a list to resolve and missing ranges are
    generated; the files we have go out through ViewerFiles (ETag, 304)."""
    try:
        start, end = (int(p) for p in glyph_range.split("-"))
    except ValueError:
        raise Problem("viewer.not_found", 404) from None
    if start % 256 or end != start + 255 or not 0 <= start < 65536:
        raise Problem("viewer.not_found", 404)
    names = [n.strip() for n in fontstack.split(",") if n.strip()]
    for name in names:
        folder = FONTS_DIR / name
        if folder.resolve().parent == FONTS_DIR and folder.is_dir():
            target = folder / f"{start}-{end}.pbf"
            if target.is_file():
                return STATIC_FILES.respond(target, target.stat(), request.scope, LONG_CACHE)
            return Response(encode(name, start, []), media_type="application/x-protobuf",
                            headers={"Cache-Control": LONG_CACHE})
    raise Problem("viewer.not_found", 404)


# --- Block search -----------------------------------------------------------------------------

@router.get("/api/blocks/search", tags=["viewer"], summary="Blocks of a code or block list, as GeoJSON",
            dependencies=[PUBLIC])
def search_blocks(settings: SettingsDep,
                  q: str = Query("", description="a block code like M-42-1-(10а-5а-1) or a block list like "
                                                 "L-43-63-(10а-5б-14,15,19,20); L-43-64-(10а-5а-1)")) -> Response:
    codes = parse_block_list(q)  # BlockListError: 422 problem naming the bad token and its position
    if not codes:
        raise Problem("viewer.search_empty", 422)
    if len(codes) > MAX_SEARCH_BLOCKS:
        raise Problem("viewer.search_too_many", 422, count=len(codes), limit=MAX_SEARCH_BLOCKS)
    grid_datum = settings.grid_datum
    features = []
    west = south = math.inf
    east = north = -math.inf
    for code in codes:
        geom = blocks_geometry([code], datum=grid_datum)
        x0, y0, x1, y1 = geom.bounds
        west, south, east, north = min(west, x0), min(south, y0), max(east, x1), max(north, y1)
        features.append({"type": "Feature", "id": code, "properties": {"code": code},
                         "geometry": {"type": "Polygon",
                                      "coordinates": [[[round(x, 9), round(y, 9)]
                                                       for x, y in geom.geoms[0].exterior.coords]]}})
    body = {"type": "FeatureCollection", "query": q, "count": len(codes), "codes": codes, "datum": grid_datum,
            "bbox": [west, south, east, north], "features": features}
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/geo+json")


# --- Basemap ----------------------------------------------------------------------------------

@router.get("/api/basemap/country.geojson", tags=["viewer"], summary="The national boundary (1:110m)",
            dependencies=[PUBLIC])
async def country(request: Request) -> Response:
    async with request.app.state.pool.acquire() as conn:
        rows = await conn.fetch("SELECT id, name, ST_AsGeoJSON(geom, 5) AS g FROM country_boundary ORDER BY id")
    features = [{"type": "Feature", "id": r["id"], "properties": {"id": r["id"], "name": r["name"]},
                 "geometry": json.loads(r["g"])} for r in rows]
    return Response(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    media_type="application/geo+json", headers={"Cache-Control": "public, max-age=3600"})


def _angle(value: float, positive: str, negative: str) -> str:
    hemisphere = positive if value >= 0 else negative
    minutes = round(abs(value) * 60)
    degrees, rest = divmod(minutes, 60)
    return f"{degrees}°{rest:02d}′{hemisphere}" if rest else f"{degrees}°{hemisphere}"


def _steps(low: float, high: float, step: float) -> list[float]:
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [round(i * step, 9) for i in range(first, last + 1)]


@router.get("/api/basemap/graticule.geojson", tags=["viewer"], summary="Meridians and parallels",
            dependencies=[PUBLIC])
def graticule(step: float = Query(1.0, ge=1 / 60, le=30, description="degrees between lines"),
              bbox: str | None = Query(None, description="west,south,east,north (degrees)")) -> Response:
    if bbox is None:
        west, south, east, north = DEFAULT_BBOX
    else:
        try:
            west, south, east, north = (float(v) for v in bbox.split(","))
        except ValueError:
            raise Problem("viewer.bad_bbox", 400) from None
        if not (-180 <= west < east <= 180 and -85 <= south < north <= 85):
            raise Problem("viewer.bad_bbox", 400)
    lons, lats = _steps(west, east, step), _steps(south, north, step)
    count = len(lons) + len(lats)
    if count > MAX_GRATICULE_LINES:
        raise Problem("viewer.too_many_lines", 422, step=step, count=count, limit=MAX_GRATICULE_LINES)
    major_step = step * 5

    def major(value: float) -> bool:
        return abs(value / major_step - round(value / major_step)) < 1e-6

    features = []
    for lon in lons:
        features.append({"type": "Feature", "properties": {"axis": "lon", "value": lon, "major": major(lon),
                                                           "label": _angle(lon, "E", "W")},
                         "geometry": {"type": "LineString", "coordinates": [[lon, south], [lon, north]]}})
    for lat in lats:
        features.append({"type": "Feature", "properties": {"axis": "lat", "value": lat, "major": major(lat),
                                                           "label": _angle(lat, "N", "S")},
                         "geometry": {"type": "LineString", "coordinates": [[west, lat], [east, lat]]}})
    return Response(json.dumps({"type": "FeatureCollection", "features": features}),
                    media_type="application/geo+json", headers={"Cache-Control": "public, max-age=86400"})

"""JSON documents about tiles: tile matrix sets, tileset lists and tileset metadata (OGC API –
Tiles 1.0, TMS 2.0 encodings) and TileJSON 3.0.0."""

from __future__ import annotations

from typing import Any

from layers.catalog import ATTRIBUTION
from tiles.layers import MVT_LAYERS, Tileset
from tiles.levels import BLOCK_ZOOM
from tiles.tms import TILE_MATRIX_SETS, TileMatrixSet

MVT = "application/vnd.mapbox-vector-tile"
JSON = "application/json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
REL_GEODATA = "http://www.opengis.net/def/rel/ogc/1.0/geodata"
REL_DATASET = "http://www.opengis.net/def/rel/ogc/1.0/dataset"
# TileJSON names it in English; styles (and so the map's attribution) in their own language.
Bounds = tuple[float, float, float, float]


def tileset_path(tileset: Tileset) -> str:
    """Path of a tileset's list: /ogc/tiles for the map, /ogc/collections/{id}/tiles otherwise."""
    return "/ogc/tiles" if tileset.id == "map" else f"/ogc/collections/{tileset.id}/tiles"


def tile_template(base: str, tileset: Tileset, tms: TileMatrixSet, v: str, *, ogc: bool) -> str:
    """URL template of the tiles; ``v`` pins the version so that a browser never mixes two."""
    address = "{tileMatrix}/{tileRow}/{tileCol}" if ogc else "{z}/{y}/{x}"
    return f"{base}{tileset_path(tileset)}/{tms.id}/{address}?v={v}"


def tile_matrix_sets(base: str) -> dict[str, Any]:
    return {"tileMatrixSets": [
        {"id": t.id, "title": t.title, "uri": t.uri, "crs": t.crs,
         "links": [{"rel": "self", "href": f"{base}/ogc/tileMatrixSets/{t.id}", "type": JSON,
                    "title": t.title}]}
        for t in TILE_MATRIX_SETS.values()
    ], "links": [{"rel": "self", "href": f"{base}/ogc/tileMatrixSets", "type": JSON}]}


def tile_matrix_set(base: str, tms: TileMatrixSet) -> dict[str, Any]:
    doc = tms.definition()
    doc["links"] = [{"rel": "self", "href": f"{base}/ogc/tileMatrixSets/{tms.id}", "type": JSON}]
    return doc


def _tileset_summary(base: str, tileset: Tileset, tms: TileMatrixSet) -> dict[str, Any]:
    return {
        "title": f"{tileset.title} ({tms.id})", "dataType": "vector", "crs": tms.crs,
        "tileMatrixSetURI": tms.uri,
        "links": [
            {"rel": "self", "href": f"{base}{tileset_path(tileset)}/{tms.id}", "type": JSON,
             "title": f"{tileset.title}, {tms.title}"},
            {"rel": REL_TILING_SCHEME, "href": f"{base}/ogc/tileMatrixSets/{tms.id}", "type": JSON,
             "title": tms.title},
        ],
    }


def tileset_list(base: str, tileset: Tileset) -> dict[str, Any]:
    links = [{"rel": "self", "href": f"{base}{tileset_path(tileset)}", "type": JSON}]
    if tileset.id != "map":
        links.append({"rel": REL_GEODATA, "href": f"{base}/ogc/collections/{tileset.id}", "type": JSON})
    return {"links": links, "tilesets": [_tileset_summary(base, tileset, t) for t in TILE_MATRIX_SETS.values()]}


def _layer(base: str, layer_id: str, tms: TileMatrixSet) -> dict[str, Any]:
    layer = MVT_LAYERS[layer_id]
    doc: dict[str, Any] = {
        "id": layer.id, "title": layer.title, "description": layer.description, "dataType": "vector",
        "geometryDimension": 2, "featureType": layer.id, "crs": tms.crs,
        "minTileMatrix": "0", "maxTileMatrix": str(tms.serve_max_zoom),
        "propertiesSchema": layer.properties_schema(),
    }
    if layer_id != "country":
        doc["links"] = [{"rel": REL_GEODATA, "href": f"{base}/ogc/collections/{layer.id}", "type": JSON}]
    return doc


def tileset(base: str, tileset: Tileset, tms: TileMatrixSet, v: str, bounds: Bounds) -> dict[str, Any]:
    west, south, east, north = bounds
    links = [
        {"rel": "self", "href": f"{base}{tileset_path(tileset)}/{tms.id}", "type": JSON, "title": tileset.title},
        {"rel": REL_TILING_SCHEME, "href": f"{base}/ogc/tileMatrixSets/{tms.id}", "type": JSON, "title": tms.title},
        {"rel": "item", "href": tile_template(base, tileset, tms, v, ogc=True), "templated": True, "type": MVT,
         "title": "Mapbox vector tile"},
    ]
    if tms.id == "WebMercatorQuad":
        links.append({"rel": "alternate", "href": f"{base}{tileset_path(tileset)}/{tms.id}/tilejson.json",
                      "type": JSON, "title": "TileJSON 3.0.0"})
    if tileset.id != "map":
        links.append({"rel": REL_GEODATA, "href": f"{base}/ogc/collections/{tileset.id}", "type": JSON})
    return {
        "title": tileset.title, "description": tileset.description, "dataType": "vector", "crs": tms.crs,
        "tileMatrixSetURI": tms.uri, "version": v, "mediaTypes": [MVT],
        "boundingBox": {"lowerLeft": [west, south], "upperRight": [east, north], "crs": CRS84},
        "centerPoint": {"coordinates": [(west + east) / 2, (south + north) / 2], "crs": CRS84,
                        "tileMatrix": "5" if tms.id == "WebMercatorQuad" else "4"},
        "tileMatrixSetLimits": tms.limits(),
        "layers": [_layer(base, lid, tms) for lid in tileset.layers],
        "links": links,
    }


def tilejson(base: str, tileset: Tileset, tms: TileMatrixSet, v: str, bounds: Bounds) -> dict[str, Any]:
    west, south, east, north = bounds
    return {
        "tilejson": "3.0.0",
        "name": tileset.title,
        "description": tileset.description,
        "version": "1.0.0",
        "attribution": ATTRIBUTION.en,
        "scheme": "xyz",
        "tiles": [tile_template(base, tileset, tms, v, ogc=False)],
        "minzoom": 0,
        "maxzoom": tms.serve_max_zoom,
        "bounds": [west, south, east, north],
        "center": [(west + east) / 2, (south + north) / 2, 5],
        "vector_layers": [
            {"id": lid, "description": MVT_LAYERS[lid].description, "minzoom": 0, "maxzoom": tms.serve_max_zoom,
             "fields": MVT_LAYERS[lid].fields()}
            for lid in tileset.layers
        ],
        # Not TileJSON: where single blocks start (below, blocks are generalised cells).
        "block_zoom": BLOCK_ZOOM,
    }

"""Conformance classes of OGC API – Tiles 1.0 and TMS 2.0 that tiles/ implements; the landing
page's /conformance (geoservice/ogc/routes.py) lists them."""

TILES = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf"
TMS = "http://www.opengis.net/spec/tms/2.0/conf"

CONFORMANCE: tuple[str, ...] = (
    f"{TILES}/core",                # /{tileMatrix}/{tileRow}/{tileCol}, 404 outside the limits
    f"{TILES}/tileset",             # tileset metadata with the item template and tiling-scheme link
    f"{TILES}/tilesets-list",       # …/tiles lists the tilesets
    f"{TILES}/dataset-tilesets",    # /ogc/tiles: all collections in one tile
    f"{TILES}/geodata-tilesets",    # /ogc/collections/{id}/tiles
    f"{TILES}/mvt",                 # application/vnd.mapbox-vector-tile
    f"{TMS}/tilematrixset",
    f"{TMS}/json-tilematrixset",
    f"{TMS}/tilematrixsetlimits",
    f"{TMS}/json-tilematrixsetlimits",
    f"{TMS}/tilesetmetadata",
    f"{TMS}/json-tilesetmetadata",
)

"""What goes into each MVT layer: its name, its feature properties (the SQL that produces them, and
their description for TileJSON ``vector_layers`` and OGC tileset ``propertiesSchema``), and the
tilesets made of them. Uploadable layers take their properties from the layer catalog, so a new
attribute appears in tiles without a change here.

Properties are what styling and popups need. Left out: the block list of a subsoil plot (it can
be thousands of characters; the blocks are drawn by the ``blocks`` layer), the ``extra`` jsonb of
unrecognised source columns, and the key attribute (it is the feature's ``id``). A full feature
is one OGC API – Features request away (``/ogc/collections/{layer}/items/{id}``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from layers.catalog import LAYERS, Attribute, Layer
from tiles.levels import LEVELS

JSON_TYPES = {"text": "string", "integer": "integer", "number": "number", "date": "string", "boolean": "boolean"}
TILEJSON_TYPES = {"string": "String", "integer": "Number", "number": "Number", "boolean": "Boolean"}


@dataclass(frozen=True)
class Prop:
    name: str
    sql: str                 # expression over the layer's table, aliased ``s``
    type: str                # JSON Schema type
    description: str
    enum: tuple[str, ...] = ()
    format: str | None = None

    def schema(self) -> dict[str, object]:
        out: dict[str, object] = {"type": self.type, "description": self.description}
        if self.enum:
            out["enum"] = list(self.enum)
        if self.format:
            out["format"] = self.format
        return out


@dataclass(frozen=True)
class MvtLayer:
    id: str                  # MVT layer name; the collection id, or "country"
    title: str
    description: str
    props: tuple[Prop, ...]

    def fields(self) -> dict[str, str]:
        """TileJSON ``vector_layers[].fields``."""
        return {p.name: TILEJSON_TYPES[p.type] for p in self.props}

    def properties_schema(self) -> dict[str, object]:
        return {"type": "object", "properties": {p.name: p.schema() for p in self.props}}


def _attribute_prop(attr: Attribute) -> Prop:
    sql = f's."{attr.name}"'
    fmt = None
    if attr.type == "date":
        sql, fmt = f"{sql}::text", "date"   # ISO 8601, the same in every client
    return Prop(attr.name, sql, JSON_TYPES[attr.type], attr.names.en,
                tuple(c.value for c in attr.choices), fmt)


def _catalog_layer(layer: Layer) -> MvtLayer:
    skipped = {layer.key, layer.block_list}
    props = [Prop("id", "s.feature_id", "string", "Feature id (the key attribute, stable across versions)")]
    props += [_attribute_prop(a) for a in layer.attributes if a.name not in skipped]
    return MvtLayer(layer.id, layer.names.en, f"{layer.names.en} ({layer.names.ru} / {layer.names.kk})",
                    tuple(props))


BLOCKS = MvtLayer(
    "blocks", LAYERS["blocks"].names.en,
    "The national 1′×1′ block grid; below zoom 10 generalised to the map-sheet cells the blocks belong "
    "to (see level).",
    (
        Prop("code", "code", "string", "Nomenclature code of the block or cell, e.g. L-43-63-(10а-5б-14), "
             "L-43-63-(10а-5б), L-43-63-(10а), L-43-63, L-43"),
        Prop("level", "level", "string", "block, or the cell the zoom shows: cell5, cell10, sheet100k, sheet",
             tuple(lv.name for lv in LEVELS)),
        Prop("n_blocks", "n_blocks", "integer", "Number of grid blocks in the cell (1 for a block)"),
    ),
)

COUNTRY = MvtLayer(
    "country", "Kazakhstan", "National boundary (1:110m generalisation), for a map without a basemap",
    (Prop("id", "s.id", "string", "ISO 3166-1 alpha-3 code"), Prop("name", "s.name", "string", "Name")),
)

MVT_LAYERS: dict[str, MvtLayer] = {
    "country": COUNTRY,
    **{lid: BLOCKS if lid == "blocks" else _catalog_layer(layer) for lid, layer in LAYERS.items()},
}


@dataclass(frozen=True)
class Tileset:
    id: str                      # "map", or the collection id
    title: str
    description: str
    layers: tuple[str, ...]      # MVT layer names in tile order (the first is drawn first)

    @property
    def collections(self) -> tuple[str, ...]:
        return tuple(lid for lid in self.layers if lid in LAYERS)


MAP = Tileset(
    "map", "Subsoil-use map",
    "National boundary, subsoil blocks (generalised below zoom 10), subsoil plots, restriction zones, "
    "geological studies, licences, applied-for blocks and auction lots, one MVT layer each",
    ("country", "blocks", "geological-studies", "restriction-zones", "subsoil-plots", "licences", "applied-blocks",
     "auction-lots"),
)


@cache
def collection_tileset(layer_id: str) -> Tileset | None:
    layer = LAYERS.get(layer_id)
    if layer is None:
        return None
    return Tileset(layer.id, layer.names.en, MVT_LAYERS[layer.id].description, (layer.id,))

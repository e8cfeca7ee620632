"""The map's look, keyed by the enumerated values of layers/catalog.py.

Both renderings (MapLibre style JSON in styles/mapbox.py, QGIS QML in styles/qml.py) and the
viewer's legend are built from this table and the catalog, so a category is drawn the same
everywhere. A value added to the catalog without a colour here still gets one (picked from
``FALLBACK`` by a stable hash) and shows up in every style and legend; tests ask for an explicit
colour for each value."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from layers.catalog import LAYERS, Attribute, Layer, Names


@dataclass(frozen=True)
class Look:
    fill: str                     # "#rrggbb"
    line: str                     # outline colour
    fill_opacity: float = 0.35
    line_width: float = 1.0       # screen pixels (QML: millimetres = px * 0.26)
    dash: tuple[float, ...] | None = None   # in line widths, as MapLibre's line-dasharray
    pattern: str | None = None    # hatch sprite image, see styles/sprite.py


@dataclass(frozen=True)
class Categorised:
    """How one layer is coloured: fill (and outline) by ``attribute``; optionally the outline
    alone by a second attribute (``outline_attribute``), e.g. plots: fill by kind, outline by
    status."""

    layer: str
    attribute: str
    looks: dict[str, Look]
    outline_attribute: str | None = None
    outline_looks: dict[str, Look] | None = None


# Colour-blind-safe-ish hues that stay apart on a light background.
FALLBACK = ("#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3", "#a6d854", "#ffd92f", "#e5c494", "#b3b3b3")
HATCH = "hatch"  # sprite image name prefix: hatch-<colour without #>

CATEGORISED: dict[str, Categorised] = {c.layer: c for c in (
    Categorised(
        "subsoil-plots", "kind",
        {
            "hydrocarbon": Look("#c7772b", "#8a4b12"),
            "mining-allotment": Look("#8e5bb5", "#5e2f87"),
            "exploration": Look("#3a7fc1", "#1f5690"),
            "fund-area": Look("#3aa55d", "#1d6e38"),
            "common-minerals": Look("#b5a33a", "#786b1c"),
        },
        outline_attribute="status",
        outline_looks={
            # The outline tells where a plot stands in the licensing process.
            "open": Look("#1d6e38", "#1d8a45", line_width=1.6, dash=(3, 2)),
            "applied": Look("#f0a030", "#e08a00", line_width=1.8),
            "auction": Look("#d7301f", "#d7301f", line_width=2.4, dash=(2, 1)),
            "licensed": Look("#333333", "#2b2b2b", line_width=1.4),
            "reserved": Look("#777777", "#6f6f6f", line_width=1.4, dash=(1, 1.5)),
        },
    ),
    Categorised(
        "restriction-zones", "regime",
        {
            # Prohibited: strong red outline and hatching; conditional: light fill, dashed outline.
            "prohibited": Look("#e34a33", "#b30000", fill_opacity=0.18, line_width=2.2, pattern="#b30000"),
            "conditional": Look("#fdbb84", "#e6550d", fill_opacity=0.22, line_width=1.6, dash=(4, 2)),
        },
    ),
    Categorised(
        "geological-studies", "study_type",
        {
            "geological-survey": Look("#4daf4a", "#2f7d2d", fill_opacity=0.10, line_width=1.2),
            "geophysical": Look("#377eb8", "#24598a", fill_opacity=0.10, line_width=1.2),
            "geochemical": Look("#984ea3", "#6c2f76", fill_opacity=0.10, line_width=1.2),
            "exploration": Look("#ff7f00", "#c25f00", fill_opacity=0.10, line_width=1.2),
            "hydrogeological": Look("#1fa5b8", "#137584", fill_opacity=0.10, line_width=1.2),
            "other": Look("#a65628", "#7a3e1c", fill_opacity=0.10, line_width=1.2),
        },
    ),
    Categorised(
        "licences", "status",
        {
            # Licensed blocks are taken: a solid, hatched fill while the licence stands; a
            # suspended one keeps its blocks (dashed); ended ones are only outlined.
            "active": Look("#6a3d9a", "#3f1f66", fill_opacity=0.40, line_width=1.6, pattern="#3f1f66"),
            "suspended": Look("#cab2d6", "#6a3d9a", fill_opacity=0.35, line_width=1.6, dash=(3, 2)),
            "terminated": Look("#bdbdbd", "#636363", fill_opacity=0.0, line_width=1.0, dash=(1, 1.5)),
            "expired": Look("#d9d9d9", "#969696", fill_opacity=0.0, line_width=1.0, dash=(1, 1.5)),
        },
    ),
    Categorised(
        "applied-blocks", "priority",
        {
            # Applied for, not taken: warm colours with a dashed outline, apart from the licences'
            # solid hatched purple; blocks of the opening month (equal priority, may go to auction)
            # in a hotter tone.
            "window": Look("#fdae61", "#d7301f", fill_opacity=0.45, line_width=1.8, dash=(2, 1)),
            "queue": Look("#fee08b", "#e08a00", fill_opacity=0.45, line_width=1.8, dash=(3, 2)),
        },
    ),
    Categorised(
        "auction-lots", "status",
        {
            # Being sold: the viewer's colours of issue 10 (violet while registration is open,
            # deep orange while bidding), the bidding one bolder, apart from the applied-for
            # blocks' dashed yellows and the licences' hatched purple.
            "published": Look("#8e24aa", "#6a1b9a", fill_opacity=0.20, line_width=2.5, dash=(4, 2)),
            "open": Look("#e65100", "#bf360c", fill_opacity=0.30, line_width=3.0),
        },
    ),
)}

BLOCKS = Look("#ffffff", "#5b6f86", fill_opacity=0.0, line_width=0.5)
# The block grid's levels as the tiles show them (MVT property ``level``, see tiles/levels.py):
# map-sheet cells below zoom 10, single 1' blocks from zoom 10. Names and line widths (px at z10).
BLOCK_LEVELS: dict[str, tuple[Names, float]] = {
    "sheet": (Names("1:1 000 000 парағы", "Лист 1:1 000 000", "1:1,000,000 sheet"), 1.4),
    "sheet100k": (Names("1:100 000 парағы", "Лист 1:100 000", "1:100,000 sheet"), 0.9),
    "cell10": (Names("10′ ұяшық", "10′ ячейка", "10′ cell"), 0.5),
    "cell5": (Names("5′ ұяшық", "5′ ячейка", "5′ cell"), 0.5),
    "block": (Names("1′ блок", "1′ блок", "1′ block"), 0.5),
}
BLOCK_LABEL = "#34495e"
COUNTRY_FILL, COUNTRY_LINE = "#fbfaf4", "#6b6b6b"
GRATICULE = "#b9c6d3"
BACKGROUND = "#dde7ee"
HIGHLIGHT = "#00b7ff"

# Labels the style itself needs in three languages (everything else comes from the catalog).
COUNTRY_NAME = Names("Қазақстан", "Казахстан", "Kazakhstan")
BASEMAP_NAMES = {
    "country": Names("Мемлекеттік шекара", "Государственная граница", "National boundary"),
    "graticule": Names("Координаттық тор", "Координатная сетка", "Graticule"),
    "basemap": Names("Негізгі карта", "Подложка", "Basemap"),
}


def fallback(value: str) -> Look:
    colour = FALLBACK[int(hashlib.sha1(value.encode()).hexdigest(), 16) % len(FALLBACK)]
    return Look(colour, darker(colour))


def darker(colour: str, factor: float = 0.7) -> str:
    r, g, b = rgb(colour)
    return "#{:02x}{:02x}{:02x}".format(*(round(c * factor) for c in (r, g, b)))


def rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def looks(layer: Layer, attribute: str, table: dict[str, Look]) -> list[tuple[str, Names, Look]]:
    """(value, names, look) for every allowed value of the attribute, in catalog order."""
    attr: Attribute = layer.attribute(attribute)
    return [(c.value, c.names, table.get(c.value) or fallback(c.value)) for c in attr.choices]


def fill_categories(layer_id: str) -> list[tuple[str, Names, Look]]:
    spec = CATEGORISED[layer_id]
    return looks(LAYERS[layer_id], spec.attribute, spec.looks)


def outline_categories(layer_id: str) -> list[tuple[str, Names, Look]]:
    spec = CATEGORISED[layer_id]
    if spec.outline_attribute is None or spec.outline_looks is None:
        return []
    return looks(LAYERS[layer_id], spec.outline_attribute, spec.outline_looks)


def patterns() -> list[str]:
    """Every hatch colour some category asks for (one sprite image each)."""
    out: list[str] = []
    for layer_id in CATEGORISED:
        for _, _, look in fill_categories(layer_id) + outline_categories(layer_id):
            if look.pattern and look.pattern not in out:
                out.append(look.pattern)
    return out


def pattern_image(colour: str) -> str:
    return f"{HATCH}-{colour.lstrip('#').lower()}"

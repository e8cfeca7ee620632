"""The MapLibre (Mapbox GL style spec v8) style of the subsoil-use map, built per request from
the catalog and styles/palette.py: URLs point at the server the request came to, labels are in
the requested language (kk/ru/en).

Every layer carries ``metadata["geoservice:group"]`` (the catalog layer or basemap part it
draws) so a client can switch groups on and off; the root ``metadata`` holds the group titles
and the legend in all three languages (the viewer builds its layer switcher and legend from it)."""

from __future__ import annotations

from typing import Any

from layers.catalog import ATTRIBUTION, LAYERS, Layer, Names
from styles import palette
from styles.palette import Look

LANGS = ("kk", "ru", "en")
DEFAULT_LANG = "en"
FONT = ["Noto Sans Regular"]
FONT_BOLD = ["Noto Sans Bold"]
SOURCE = "geoservice"
# Order on the map, bottom to top; also the order of the layer switcher.
OVERLAYS = ("geological-studies", "subsoil-plots", "licences", "applied-blocks", "auction-lots", "restriction-zones",
            "blocks")
STYLE_ID = "default"
STYLE_TITLE = Names("Жер қойнауын пайдалану картасы", "Карта недропользования", "Subsoil-use map")
# 1' blocks are ~1.8 km: their codes fit from about z13; generalised cells carry codes too.
BLOCK_LABEL_MINZOOM = 12.5


def tilejson_url(base: str, collection: str | None = None) -> str:
    if collection:
        return f"{base}/ogc/collections/{collection}/tiles/WebMercatorQuad/tilejson.json"
    return f"{base}/ogc/tiles/WebMercatorQuad/tilejson.json"


def _meta(group: str, **extra: Any) -> dict[str, Any]:
    return {"geoservice:group": group, **extra}


def _label(names: Names, lang: str) -> str:
    return getattr(names, lang)


def _match(attribute: str, pairs: list[tuple[str, Any]], default: Any) -> Any:
    """["match", ["get", attribute], v1, o1, …, default] (a plain default when there are no pairs)."""
    if not pairs:
        return default
    expr: list[Any] = ["match", ["get", attribute]]
    for value, out in pairs:
        expr += [value, out]
    return expr + [default]


def _value_label(layer: Layer, attribute: str, lang: str) -> Any:
    """Expression giving the label of the feature's value of an enumerated attribute."""
    attr = layer.attribute(attribute)
    pairs = [(c.value, _label(c.names, lang)) for c in attr.choices]
    return _match(attribute, pairs, ["coalesce", ["get", attribute], ""])


def _eq(attribute: str, value: str) -> list[Any]:
    return ["==", ["get", attribute], value]


def _line_paint(look: Look) -> dict[str, Any]:
    paint: dict[str, Any] = {"line-color": look.line, "line-width": look.line_width}
    if look.dash:
        paint["line-dasharray"] = list(look.dash)
    return paint


def _category_layers(layer_id: str, source: str, source_layer: str) -> list[dict[str, Any]]:
    """Fill by the categorising attribute, hatching where asked, and an outline per category
    (dash patterns cannot vary per feature in one layer, so one line layer per value)."""
    spec = palette.CATEGORISED[layer_id]
    fills = palette.fill_categories(layer_id)
    outlines = palette.outline_categories(layer_id)
    common = {"source": source, "source-layer": source_layer}
    polygons = ["==", ["geometry-type"], "Polygon"]
    out: list[dict[str, Any]] = [{
        "id": f"{layer_id}-fill", "type": "fill", **common, "filter": polygons,
        "metadata": _meta(layer_id, **{"geoservice:attribute": spec.attribute}),
        "paint": {
            "fill-color": _match(spec.attribute, [(v, look.fill) for v, _, look in fills], palette.FALLBACK[-1]),
            "fill-opacity": _match(spec.attribute, [(v, look.fill_opacity) for v, _, look in fills], 0.3),
            "fill-antialias": False,
        },
    }]
    for value, _, look in fills:
        if look.pattern:
            out.append({
                "id": f"{layer_id}-hatch-{value}", "type": "fill", **common,
                "filter": ["all", polygons, _eq(spec.attribute, value)],
                "metadata": _meta(layer_id), "paint": {"fill-pattern": palette.pattern_image(look.pattern)},
            })
    # The outline: by the second attribute when there is one (plots: status), else by category.
    attribute, lines = (spec.outline_attribute, outlines) if outlines else (spec.attribute, fills)
    assert attribute is not None
    for value, _, look in lines:
        out.append({
            "id": f"{layer_id}-line-{value}", "type": "line", **common,
            "filter": ["all", polygons, _eq(attribute, value)],
            "metadata": _meta(layer_id, **{"geoservice:attribute": attribute}),
            "layout": {"line-join": "round"}, "paint": _line_paint(look),
        })
    known = [v for v, _, _ in lines]
    out.append({  # features whose value is missing or not (yet) in the catalog still get an outline
        "id": f"{layer_id}-fallback-line", "type": "line", **common,
        "filter": ["all", polygons, ["!", ["in", ["coalesce", ["get", attribute], ""], ["literal", known]]]],
        "metadata": _meta(layer_id), "paint": {"line-color": "#555555", "line-width": 1},
    })
    return out


def _label_layer(layer_id: str, source: str, source_layer: str, lang: str, minzoom: float,
                 second_line: Any, colour: str) -> dict[str, Any]:
    return {
        "id": f"{layer_id}-label", "type": "symbol", "source": source, "source-layer": source_layer,
        "minzoom": minzoom, "metadata": _meta(layer_id),
        "layout": {
            "text-field": ["format", ["coalesce", ["get", "name"], ""], {},
                           "\n", {}, second_line, {"font-scale": 0.8, "text-font": ["literal", FONT]}],
            "text-font": FONT_BOLD, "text-size": 12, "text-max-width": 12, "text-padding": 4,
            "symbol-placement": "point",
        },
        "paint": {"text-color": colour, "text-halo-color": "#ffffff", "text-halo-width": 1.4},
    }


def _overlay_layers(layer_id: str, lang: str, source: str, source_layer: str) -> tuple[list[Any], list[Any]]:
    """(geometry layers, label layers) of one catalog layer."""
    layer = LAYERS[layer_id]
    if layer_id == "blocks":
        look = palette.BLOCKS
        # The tiles show map-sheet cells below z10 (property level: sheet, sheet100k, cell10, cell5)
        # and single 1' blocks (level block) from z10; every feature has its code.
        level_width = _match("level", [(lv, width) for lv, (_, width) in palette.BLOCK_LEVELS.items()], look.line_width)
        lines = [{
            # Invisible, but makes a click inside a block find it (queryRenderedFeatures).
            "id": "blocks-fill", "type": "fill", "source": source, "source-layer": source_layer,
            "metadata": _meta("blocks"), "paint": {"fill-color": look.fill, "fill-opacity": 0},
        }, {
            "id": "blocks-line", "type": "line", "source": source, "source-layer": source_layer,
            "metadata": _meta("blocks"),
            "paint": {"line-color": look.line,
                      "line-width": ["interpolate", ["linear"], ["zoom"], 4, ["*", 0.6, level_width],
                                     10, level_width, 14, ["*", 2, level_width]],
                      "line-opacity": ["interpolate", ["linear"], ["zoom"], 3, 0.45, 9, 0.55, 13, 0.85]},
        }]
        text = {"text-field": ["get", "code"], "text-font": FONT, "text-max-width": 10, "text-padding": 2}
        halo = {"text-color": palette.BLOCK_LABEL, "text-halo-color": "#ffffff", "text-halo-width": 1.2}
        labels = [{
            "id": "blocks-cell-label", "type": "symbol", "source": source, "source-layer": source_layer,
            "maxzoom": 10, "metadata": _meta("blocks"),
            "filter": ["all", ["has", "code"], ["!=", ["get", "level"], "block"]],
            "layout": {**text, "text-size": ["match", ["get", "level"], "sheet", 12, 10]},
            "paint": {**halo, "text-opacity": 0.85},
        }, {
            "id": "blocks-label", "type": "symbol", "source": source, "source-layer": source_layer,
            "minzoom": BLOCK_LABEL_MINZOOM, "metadata": _meta("blocks"),
            "filter": ["all", ["has", "code"], ["==", ["coalesce", ["get", "level"], "block"], "block"]],
            "layout": {**text, "text-size": 10, "text-max-width": 30},  # one line: it fits from z12.5
            "paint": halo,
        }]
        return lines, labels
    geometry = _category_layers(layer_id, source, source_layer)
    if layer_id == "subsoil-plots":
        second = _value_label(layer, "kind", lang)
        colour, minzoom = "#2b2b2b", 7.0
    elif layer_id == "restriction-zones":
        second = _value_label(layer, "regime", lang)
        colour, minzoom = "#8b0000", 8.0
    elif layer_id == "licences":
        # A licence has no name: its number (the feature id) first, then holder and status.
        label = _label_layer(layer_id, source, source_layer, lang, 8.0, ["concat", ["coalesce", [
            "get", "holder_name"], ""], ", ", _value_label(layer, "status", lang)], "#3f1f66")
        label["layout"]["text-field"][1] = ["coalesce", ["get", "id"], ""]
        return geometry, [label]
    elif layer_id == "applied-blocks":
        # No applicant on the public map: the application's number, then its kind.
        label = _label_layer(layer_id, source, source_layer, lang, 9.0, _value_label(layer, "kind", lang), "#a35400")
        label["layout"]["text-field"][1] = ["coalesce", ["get", "id"], ""]
        return geometry, [label]
    elif layer_id == "auction-lots":
        # The auction's number, then its name and status (who registered is never on the map).
        label = _label_layer(layer_id, source, source_layer, lang, 8.0, ["concat", ["coalesce", [
            "get", "name"], ""], ", ", _value_label(layer, "status", lang)], "#6a1b9a")
        label["layout"]["text-field"][1] = ["coalesce", ["get", "id"], ""]
        return geometry, [label]
    else:
        years = ["concat", ["to-string", ["coalesce", ["get", "year_start"], ""]],
                 ["case", ["has", "year_end"], ["concat", "–", ["to-string", ["get", "year_end"]]], ""]]
        second = ["concat", _value_label(layer, "study_type", lang), ", ", years]
        colour, minzoom = "#3b3b3b", 9.0
    return geometry, [_label_layer(layer_id, source, source_layer, lang, minzoom, second, colour)]


def legend() -> list[dict[str, Any]]:
    """The legend in all languages, from the catalog and the palette (viewer and clients)."""
    out: list[dict[str, Any]] = []
    for layer_id in OVERLAYS:
        layer = LAYERS[layer_id]
        sections: list[dict[str, Any]] = []
        if layer_id == "blocks":
            sections.append({"attribute": "level", "title": None, "items": [
                {"value": level, "label": names.as_dict(),
                 "swatch": _swatch(Look(palette.BLOCKS.fill, palette.BLOCKS.line, line_width=width), outline_only=True)}
                for level, (names, width) in palette.BLOCK_LEVELS.items()]})
        else:
            spec = palette.CATEGORISED[layer_id]
            outlines = palette.outline_categories(layer_id)
            sections.append(_section(layer, spec.attribute, palette.fill_categories(layer_id),
                                     outline_only=False, with_line=not outlines))
            if outlines and spec.outline_attribute:
                sections.append(_section(layer, spec.outline_attribute, outlines, outline_only=True, with_line=True))
        out.append({"layer": layer_id, "title": layer.names.as_dict(), "sections": sections})
    return out


def _swatch(look: Look, *, outline_only: bool, with_line: bool = True) -> dict[str, Any]:
    return {"fill": None if outline_only else look.fill, "fill_opacity": 0 if outline_only else look.fill_opacity,
            "line": look.line if with_line else None, "line_width": look.line_width,
            "dash": list(look.dash) if look.dash else None, "pattern": look.pattern}


def _section(layer: Layer, attribute: str, cats: list[tuple[str, Names, Look]], *, outline_only: bool,
             with_line: bool) -> dict[str, Any]:
    return {"attribute": attribute, "title": layer.attribute(attribute).names.as_dict(),
            "items": [{"value": value, "label": names.as_dict(),
                       "swatch": _swatch(look, outline_only=outline_only, with_line=with_line or outline_only)}
                      for value, names, look in cats]}


def groups(basemap_url: str | None = None) -> list[dict[str, Any]]:
    """The switchable groups, top of the switcher first."""
    out = [{"id": lid, "title": LAYERS[lid].names.as_dict(), "kind": "overlay"} for lid in reversed(OVERLAYS)]
    out += [{"id": gid, "title": names.as_dict(), "kind": "basemap"} for gid, names in palette.BASEMAP_NAMES.items()
            if gid != "basemap" or basemap_url]
    return out


def build_style(base: str, lang: str = DEFAULT_LANG, *, collection: str | None = None,
                basemap_url: str | None = None) -> dict[str, Any]:
    """The style for the whole map, or (``collection``) for one layer from its own tileset."""
    if lang not in LANGS:
        lang = DEFAULT_LANG
    base = base.rstrip("/")
    # The source's attribution overrides the TileJSON's (English) one, so the map credits the
    # platform in the style's language.
    sources: dict[str, Any] = {SOURCE: {"type": "vector", "url": tilejson_url(base, collection),
                                        "attribution": _label(ATTRIBUTION, lang)}}
    layers: list[dict[str, Any]] = []
    label_layers: list[dict[str, Any]] = []
    if collection is None:
        sources["country"] = {"type": "geojson", "data": f"{base}/api/basemap/country.geojson"}
        sources["graticule"] = {"type": "geojson", "data": f"{base}/api/basemap/graticule.geojson?step=1"}
        layers.append({"id": "background", "type": "background", "paint": {"background-color": palette.BACKGROUND}})
        if basemap_url:
            sources["basemap"] = {"type": "raster", "tiles": [basemap_url], "tileSize": 256}
            layers.append({"id": "basemap", "type": "raster", "source": "basemap", "metadata": _meta("basemap")})
        layers.append({"id": "country-fill", "type": "fill", "source": "country", "metadata": _meta("country"),
                       "paint": {"fill-color": palette.COUNTRY_FILL, "fill-opacity": 0.0 if basemap_url else 1.0}})
        for major in (False, True):
            layers.append({
                "id": f"graticule-{'major' if major else 'minor'}", "type": "line", "source": "graticule",
                "metadata": _meta("graticule"), "filter": ["==", ["get", "major"], major],
                **({} if major else {"minzoom": 5}),
                "paint": {"line-color": palette.GRATICULE, "line-width": 1.0 if major else 0.6},
            })
        label_layers.append({
            "id": "graticule-label", "type": "symbol", "source": "graticule", "metadata": _meta("graticule"),
            "filter": ["==", ["get", "major"], True],
            "layout": {"symbol-placement": "line", "symbol-spacing": 400, "text-field": ["get", "label"],
                       "text-font": FONT, "text-size": 10},
            "paint": {"text-color": "#6a7d90", "text-halo-color": palette.BACKGROUND, "text-halo-width": 1.2},
        })
    for layer_id in OVERLAYS:
        if collection is not None and layer_id != collection:
            continue
        geometry, labels = _overlay_layers(layer_id, lang, SOURCE, layer_id)
        layers += geometry
        label_layers = labels + label_layers
    if collection is None:
        layers.append({"id": "country-line", "type": "line", "source": "country", "metadata": _meta("country"),
                       "paint": {"line-color": palette.COUNTRY_LINE, "line-width": 1.4}})
        label_layers.append({
            "id": "country-label", "type": "symbol", "source": "country", "metadata": _meta("country"),
            "maxzoom": 6,
            "layout": {"text-field": _label(palette.COUNTRY_NAME, lang), "text-font": FONT_BOLD, "text-size": 20,
                       "text-letter-spacing": 0.2, "text-transform": "uppercase"},
            "paint": {"text-color": "#8a8f94", "text-halo-color": palette.COUNTRY_FILL, "text-halo-width": 1.5},
        })
    title = _label(STYLE_TITLE, lang)
    if collection is not None:
        title = f"{title}: {_label(LAYERS[collection].names, lang)}"
    return {
        "version": 8,
        "name": title,
        "metadata": {
            "geoservice:lang": lang,
            "geoservice:groups": [g for g in groups(basemap_url) if collection is None or g["id"] == collection],
            "geoservice:legend": [g for g in legend() if collection is None or g["layer"] == collection],
        },
        "center": [67.0, 48.0],
        "zoom": 3.6,
        "glyphs": f"{base}/viewer/fonts/{{fontstack}}/{{range}}.pbf",
        "sprite": f"{base}/ogc/resources/sprite",
        "sources": sources,
        "layers": layers + label_layers,
    }

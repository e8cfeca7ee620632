"""QGIS layer styles (QML, QGIS 3) for the catalog layers: the same categories and colours as the
MapLibre style (styles/palette.py), category labels in kk/ru/en.

Symbol layers are written both as ``<Option type="Map">`` (read by QGIS ≥ 3.26) and as legacy
``<prop k v>`` elements (read by older QGIS 3), as QGIS 3.22–3.28 itself writes them. The XML is
built with ElementTree, so it is well-formed whatever the labels contain."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from layers.catalog import LAYERS, Layer
from styles import palette
from styles.palette import Look

QGIS_VERSION = "3.22.16-Białowieża"
DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
PX_MM = 0.2646          # one CSS pixel in millimetres (96 dpi): MapLibre widths -> QGIS widths
UNIT_SCALE = "3x:0,0,0,0,0,0"
FONT_FAMILY = "Noto Sans"
# Scale denominators: codes of 1' blocks are legible from about 1:50,000; the grid's 1.2 million
# cells are not drawn at all beyond 1:2,000,000 (a country-wide view would draw every block).
BLOCK_LABEL_SCALE = 50_000
BLOCK_LAYER_SCALE = 2_000_000
FEATURE_LABEL_SCALE = 2_500_000
LAYERS_WITH_QML = ("subsoil-plots", "restriction-zones", "geological-studies", "blocks", "licences",
                   "applied-blocks", "auction-lots")


def _colour(hex_colour: str, opacity: float = 1.0) -> str:
    r, g, b = palette.rgb(hex_colour)
    return f"{r},{g},{b},{round(opacity * 255)}"


def _mm(px: float) -> str:
    return f"{px * PX_MM:.2f}".rstrip("0").rstrip(".")


def _pen_style(look: Look) -> str:
    if not look.dash:
        return "solid"
    return "dot" if look.dash[0] <= 1 else "dash"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _field(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _case(attribute: str, pairs: list[tuple[str, str]], default: str) -> str:
    whens = " ".join(f"WHEN {_field(attribute)} = {_quote(v)} THEN {out}" for v, out in pairs)
    return f"CASE {whens} ELSE {default} END" if pairs else default


def _option_map(parent: ET.Element, values: dict[str, str], name: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, "Option", {"type": "Map", **({"name": name} if name else {})})
    for key in sorted(values):
        ET.SubElement(element, "Option", {"name": key, "type": "QString", "value": values[key]})
    return element


def _data_defined(parent: ET.Element, expressions: dict[str, str] | None = None, tag: str = "data_defined_properties"
                  ) -> None:
    outer = ET.SubElement(ET.SubElement(parent, tag), "Option", {"type": "Map"})
    ET.SubElement(outer, "Option", {"name": "name", "type": "QString", "value": ""})
    if expressions:
        props = ET.SubElement(outer, "Option", {"name": "properties", "type": "Map"})
        for key, expression in expressions.items():
            prop = ET.SubElement(props, "Option", {"name": key, "type": "Map"})
            ET.SubElement(prop, "Option", {"name": "active", "type": "bool", "value": "true"})
            ET.SubElement(prop, "Option", {"name": "expression", "type": "QString", "value": expression})
            ET.SubElement(prop, "Option", {"name": "type", "type": "int", "value": "3"})  # expression-based
    else:
        ET.SubElement(outer, "Option", {"name": "properties"})
    ET.SubElement(outer, "Option", {"name": "type", "type": "QString", "value": "collection"})


def _symbol_layer(symbol: ET.Element, cls: str, props: dict[str, str],
                  expressions: dict[str, str] | None = None) -> ET.Element:
    layer = ET.SubElement(symbol, "layer", {"class": cls, "enabled": "1", "locked": "0", "pass": "0"})
    _option_map(layer, props)
    for key in sorted(props):
        ET.SubElement(layer, "prop", {"k": key, "v": props[key]})
    _data_defined(layer, expressions)
    return layer


def _symbol(parent: ET.Element, name: str, kind: str) -> ET.Element:
    symbol = ET.SubElement(parent, "symbol", {"type": kind, "name": name, "alpha": "1", "clip_to_extent": "1",
                                              "force_rhr": "0", "is_animated": "0", "frame_rate": "10"})
    _data_defined(symbol)
    return symbol


def _simple_fill(symbol: ET.Element, colour: str, opacity: float) -> None:
    _symbol_layer(symbol, "SimpleFill", {
        "border_width_map_unit_scale": UNIT_SCALE, "color": _colour(colour, opacity), "joinstyle": "bevel",
        "offset": "0,0", "offset_map_unit_scale": UNIT_SCALE, "offset_unit": "MM",
        "outline_color": "35,35,35,255", "outline_style": "no", "outline_width": "0.26", "outline_width_unit": "MM",
        "style": "solid" if opacity > 0 else "no",
    })


def _line_props(colour: str, width_px: float, dash: tuple[float, ...] | None) -> dict[str, str]:
    custom = ";".join(_mm(d * width_px) for d in dash) if dash else "5;2"
    return {
        "align_dash_pattern": "0", "capstyle": "round", "customdash": custom,
        "customdash_map_unit_scale": UNIT_SCALE, "customdash_unit": "MM", "dash_pattern_offset": "0",
        "dash_pattern_offset_map_unit_scale": UNIT_SCALE, "dash_pattern_offset_unit": "MM",
        "draw_inside_polygon": "0", "joinstyle": "round", "line_color": _colour(colour), "line_style": "solid",
        "line_width": _mm(width_px), "line_width_unit": "MM", "offset": "0", "offset_map_unit_scale": UNIT_SCALE,
        "offset_unit": "MM", "ring_filter": "0", "trim_distance_end": "0",
        "trim_distance_end_map_unit_scale": UNIT_SCALE, "trim_distance_end_unit": "MM", "trim_distance_start": "0",
        "trim_distance_start_map_unit_scale": UNIT_SCALE, "trim_distance_start_unit": "MM",
        "tweak_dash_pattern_on_corners": "0", "use_custom_dash": "1" if dash else "0",
        "width_map_unit_scale": UNIT_SCALE,
    }


def _outline(symbol: ET.Element, look: Look, expressions: dict[str, str] | None = None) -> None:
    # MapLibre dash lengths are in line widths; QGIS custom dashes in millimetres: same pattern.
    _symbol_layer(symbol, "SimpleLine", _line_props(look.line, look.line_width, look.dash), expressions)


def _hatch(symbol: ET.Element, name: str, index: int, colour: str) -> None:
    from styles.sprite import LINE, PERIOD

    layer = _symbol_layer(symbol, "LinePatternFill", {
        "angle": "45", "clip_mode": "during_render", "color": _colour(colour), "coordinate_reference": "feature",
        "distance": _mm(PERIOD / 2 ** 0.5), "distance_map_unit_scale": UNIT_SCALE, "distance_unit": "MM",
        "line_width": _mm(LINE), "line_width_map_unit_scale": UNIT_SCALE, "line_width_unit": "MM",
        "offset": "0", "offset_map_unit_scale": UNIT_SCALE, "offset_unit": "MM",
        "outline_width_map_unit_scale": UNIT_SCALE, "outline_width_unit": "MM",
    })
    sub = _symbol(layer, f"@{name}@{index}", "line")
    _symbol_layer(sub, "SimpleLine", _line_props(colour, LINE, None))


def _fill_symbol(parent: ET.Element, name: str, look: Look, outline: Look | None = None,
                 outline_expressions: dict[str, str] | None = None) -> None:
    symbol = _symbol(parent, name, "fill")
    _simple_fill(symbol, look.fill, look.fill_opacity)
    index = 1
    if look.pattern:
        _hatch(symbol, name, index, look.pattern)
        index += 1
    _outline(symbol, outline or look, outline_expressions)


def _status_expressions(layer_id: str) -> dict[str, str] | None:
    """Data-defined outline colour, width and pen style by the second attribute (plots: status)."""
    spec = palette.CATEGORISED.get(layer_id)
    cats = palette.outline_categories(layer_id)
    if spec is None or not cats or spec.outline_attribute is None:
        return None
    attr = spec.outline_attribute
    return {
        "outlineColor": _case(attr, [(v, _quote(_colour(look.line))) for v, _, look in cats], "'85,85,85,255'"),
        "outlineWidth": _case(attr, [(v, _mm(look.line_width)) for v, _, look in cats], _mm(1)),
        "outlineStyle": _case(attr, [(v, _quote(_pen_style(look))) for v, _, look in cats], "'solid'"),
    }


def _label_expression(layer: Layer, lang: str) -> tuple[str, bool]:
    """(field or expression, is expression): the same text as the MapLibre labels."""
    if layer.id == "blocks":
        return "code", False
    if layer.id == "licences":  # no name: the number, then holder and status (as the MapLibre label)
        attr = layer.attribute("status")
        value = _case("status", [(c.value, _quote(getattr(c.names, lang))) for c in attr.choices], _field("status"))
        return (f"coalesce({_field('number')}, '') || '\\n' || coalesce({_field('holder_name')}, '') || ', ' || "
                f"coalesce({value}, '')"), True
    if layer.id == "applied-blocks":  # the application's number and kind (as the MapLibre label)
        attr = layer.attribute("kind")
        value = _case("kind", [(c.value, _quote(getattr(c.names, lang))) for c in attr.choices], _field("kind"))
        return f"coalesce({_field('number')}, '') || '\\n' || coalesce({value}, '')", True
    if layer.id == "auction-lots":  # the auction's number, then name and status (as the MapLibre label)
        attr = layer.attribute("status")
        value = _case("status", [(c.value, _quote(getattr(c.names, lang))) for c in attr.choices], _field("status"))
        return (f"coalesce({_field('number')}, '') || '\\n' || coalesce({_field('name')}, '') || ', ' || "
                f"coalesce({value}, '')"), True
    second = {"subsoil-plots": "kind", "restriction-zones": "regime", "geological-studies": "study_type"}[layer.id]
    attr = layer.attribute(second)
    value = _case(second, [(c.value, _quote(getattr(c.names, lang))) for c in attr.choices], _field(second))
    text = f"coalesce({_field('name')}, '') || '\\n' || coalesce({value}, '')"
    if layer.id == "geological-studies":
        text += " || ', ' || coalesce(to_string(\"year_start\"), '') || " \
                "CASE WHEN \"year_end\" IS NOT NULL THEN '–' || to_string(\"year_end\") ELSE '' END"
    return text, True


def _labeling(root: ET.Element, layer: Layer, lang: str) -> None:
    field, is_expression = _label_expression(layer, lang)
    blocks = layer.id == "blocks"
    settings = ET.SubElement(ET.SubElement(root, "labeling", {"type": "simple"}), "settings", {"calloutType": "simple"})
    style = ET.SubElement(settings, "text-style", {
        "fieldName": field, "isExpression": "1" if is_expression else "0", "fontFamily": FONT_FAMILY,
        "namedStyle": "Regular" if blocks else "Bold", "fontWeight": "50" if blocks else "75",
        "fontSize": "7" if blocks else "8", "fontSizeUnit": "Point", "fontItalic": "0", "fontUnderline": "0",
        "fontStrikeout": "0", "fontKerning": "1", "fontLetterSpacing": "0", "fontWordSpacing": "0",
        "textColor": _colour(palette.BLOCK_LABEL if blocks else "#2b2b2b"), "textOpacity": "1", "blendMode": "0",
        "multilineHeight": "1", "allowHtml": "0", "capitalization": "0", "useSubstitutions": "0",
        "textOrientation": "horizontal", "previewBkgrdColor": "255,255,255,255",
        "fontSizeMapUnitScale": UNIT_SCALE,
    })
    ET.SubElement(style, "text-buffer", {
        "bufferDraw": "1", "bufferSize": "0.8", "bufferSizeUnits": "MM", "bufferColor": "255,255,255,255",
        "bufferOpacity": "1", "bufferNoFill": "1", "bufferJoinStyle": "128", "bufferBlendMode": "0",
        "bufferSizeMapUnitScale": UNIT_SCALE,
    })
    ET.SubElement(settings, "text-format", {"wrapChar": "", "multilineAlign": "1", "autoWrapLength": "0",
                                            "useMaxLineLengthForAutoWrap": "1", "formatNumbers": "0",
                                            "decimals": "3", "plussign": "0"})
    ET.SubElement(settings, "placement", {
        "placement": "1", "layerType": "PolygonGeometry", "centroidInside": "1", "centroidWhole": "0",
        "fitInPolygonOnly": "0", "dist": "0", "distUnits": "MM", "priority": "5", "offsetType": "0",
        "quadOffset": "4", "xOffset": "0", "yOffset": "0", "rotationAngle": "0", "polygonPlacementFlags": "2",
        "overlapHandling": "PreventOverlap", "distMapUnitScale": UNIT_SCALE,
    })
    ET.SubElement(settings, "rendering", {
        "drawLabels": "1", "scaleVisibility": "1", "scaleMin": "0",
        "scaleMax": str(BLOCK_LABEL_SCALE if blocks else FEATURE_LABEL_SCALE),
        "obstacle": "1", "obstacleFactor": "1", "obstacleType": "1", "minFeatureSize": "0" if blocks else "3",
        "labelPerPart": "0", "mergeLines": "0", "limitNumLabels": "0", "maxNumLabels": "2000",
        "upsidedownLabels": "0", "fontLimitPixelSize": "0", "fontMinPixelSize": "3", "fontMaxPixelSize": "10000",
        "zIndex": "0", "unplacedVisibility": "0",
    })
    _data_defined(settings, tag="dd_properties")


def build_qml(layer_id: str, lang: str = "en") -> str:
    if layer_id not in LAYERS_WITH_QML:
        raise KeyError(layer_id)
    layer = LAYERS[layer_id]
    blocks = layer_id == "blocks"
    root = ET.Element("qgis", {
        "version": QGIS_VERSION, "styleCategories": "Symbology|Labeling|Rendering", "labelsEnabled": "1",
        "hasScaleBasedVisibilityFlag": "1" if blocks else "0",
        "minScale": str(BLOCK_LAYER_SCALE) if blocks else "100000000", "maxScale": "0",
    })
    if blocks:
        renderer = ET.SubElement(root, "renderer-v2", {"type": "singleSymbol", "symbollevels": "0",
                                                       "forceraster": "0", "enableorderby": "0",
                                                       "referencescale": "-1"})
        symbols = ET.SubElement(renderer, "symbols")
        _fill_symbol(symbols, "0", palette.BLOCKS)
    else:
        spec = palette.CATEGORISED[layer_id]
        renderer = ET.SubElement(root, "renderer-v2", {"type": "categorizedSymbol", "attr": spec.attribute,
                                                       "symbollevels": "0", "forceraster": "0",
                                                       "enableorderby": "0", "referencescale": "-1"})
        categories = ET.SubElement(renderer, "categories")
        symbols = ET.SubElement(renderer, "symbols")
        status = _status_expressions(layer_id)
        fills = palette.fill_categories(layer_id)
        outline = Look("#000000", "#555555", line_width=1.4) if status else None
        for i, (value, names, look) in enumerate(fills):
            ET.SubElement(categories, "category", {"symbol": str(i), "value": value, "type": "string",
                                                   "label": getattr(names, lang), "render": "true"})
            _fill_symbol(symbols, str(i), look, outline, status)
        # An empty value catches anything else (a value newer than this style, or none).
        other = str(len(fills))
        other_label = {"kk": "Басқа мәндер", "ru": "Прочие значения", "en": "Other values"}[lang]
        ET.SubElement(categories, "category", {"symbol": other, "value": "", "type": "string", "label": other_label,
                                               "render": "true"})
        _fill_symbol(symbols, other, Look("#bdbdbd", "#555555", fill_opacity=0.3), outline, status)
        source = ET.SubElement(renderer, "source-symbol")
        _fill_symbol(source, "0", Look("#bdbdbd", "#555555", fill_opacity=0.3))
        ET.SubElement(renderer, "rotation")
        ET.SubElement(renderer, "sizescale")
    _labeling(root, layer, lang)
    ET.SubElement(root, "blendMode").text = "0"
    ET.SubElement(root, "featureBlendMode").text = "0"
    ET.SubElement(root, "layerOpacity").text = "1"
    ET.SubElement(root, "layerGeometryType").text = "2"  # polygon
    ET.indent(root, space=" ")
    return DOCTYPE + "\n" + ET.tostring(root, encoding="unicode") + "\n"


def categories(qml: str) -> dict[str, Any]:
    """The renderer's attribute and category values of a QML document (tests, checks)."""
    root = ET.fromstring(qml.split("\n", 1)[1] if qml.startswith("<!DOCTYPE") else qml)
    renderer = root.find("renderer-v2")
    assert renderer is not None
    return {"type": renderer.get("type"), "attr": renderer.get("attr"),
            "values": [c.get("value") for c in renderer.iter("category")],
            "labels": [c.get("label") for c in renderer.iter("category")]}

"""How raster layers look: the colour ramp of each grid layer (value -> colour, from fixed values
or from the uploaded sheets' statistics) and the legends of raster layers in kk/ru/en.

The ramp is drawn by tiles/rasters.py (the edge hands it the stops) and shown by the viewer's
legend, from this one declaration."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from geoservice.kernel.i18n import translate
from layers.catalog import RASTER_LAYERS, RasterLayer

LANGS = ("kk", "ru", "en")


@dataclass(frozen=True)
class Ramp:
    """Colours spread evenly over a value range: ``fixed`` (low, high), or, when None, the range
    of the layer's data (min of the sheets' band minimums, max of their maximums); ``symmetric``
    centres a data range on zero (anomalies: the middle colour means no anomaly)."""

    layer: str
    colours: tuple[str, ...]
    fixed: tuple[float, float] | None = None
    symmetric: bool = False
    decimals: int = 0          # of the legend's labels


# Diverging blue-white-red (ColorBrewer RdBu, reversed): negative anomalies blue, positive red.
DIVERGING = ("#2166ac", "#67a9cf", "#d1e5f0", "#f7f7f7", "#fddbc7", "#ef8a62", "#b2182b")
# Sequential-ish rainbow as geophysicists draw gravity maps (ColorBrewer Spectral, reversed).
SPECTRAL = ("#3288bd", "#66c2a5", "#abdda4", "#e6f598", "#fee08b", "#fdae61", "#f46d43", "#d53e4f")

RAMPS: dict[str, Ramp] = {r.layer: r for r in (
    Ramp("geophysics-magnetic", DIVERGING, symmetric=True),
    Ramp("geophysics-gravity", SPECTRAL, fixed=(-60.0, 40.0), decimals=0),
)}

Stops = list[tuple[float, tuple[int, int, int]]]


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def value_range(ramp: Ramp, stats: Iterable[Sequence[dict[str, Any]]]) -> tuple[float, float]:
    """The range the ramp spans, given each sheet's band statistics ([{min, max, mean}, …])."""
    if ramp.fixed is not None:
        return ramp.fixed
    lows = [float(s[0]["min"]) for s in stats if s and s[0].get("min") is not None]
    highs = [float(s[0]["max"]) for s in stats if s and s[0].get("max") is not None]
    if not lows or not highs:
        return (-1.0, 1.0)
    low, high = min(lows), max(highs)
    if ramp.symmetric:
        edge = max(abs(low), abs(high)) or 1.0
        return -edge, edge
    if high <= low:
        high = low + 1.0
    return low, high


def stops(ramp: Ramp, stats: Iterable[Sequence[dict[str, Any]]]) -> Stops:
    low, high = value_range(ramp, stats)
    n = len(ramp.colours) - 1
    return [(low + (high - low) * i / n, rgb(c)) for i, c in enumerate(ramp.colours)]


def legend(layer: RasterLayer, ramp_stops: Stops | None) -> dict[str, Any]:
    """A raster layer's legend in all three languages: a scanned map says so; a grid has its
    ramp (value, colour) and its unit."""
    out: dict[str, Any] = {"layer": layer.id, "kind": layer.kind, "title": layer.names.as_dict()}
    if layer.kind == "map":
        out["label"] = {lang: translate("styles.raster.scanned_map", lang) for lang in LANGS}
        return out
    unit = layer.unit.as_dict() if layer.unit else {lang: "" for lang in LANGS}
    ramp = RAMPS[layer.id]
    out["unit"] = unit
    out["label"] = {lang: translate("styles.raster.ramp", lang, unit=unit[lang]) for lang in LANGS}
    out["stops"] = [{"value": round(v, ramp.decimals) if ramp.decimals else round(v),
                     "colour": "#{:02x}{:02x}{:02x}".format(*c)} for v, c in (ramp_stops or [])]
    return out


def grid_layers() -> list[str]:
    return [layer_id for layer_id, layer in RASTER_LAYERS.items() if layer.kind == "grid"]

"""Raster layers for the viewer and for point queries: the list of raster layers with their tile
URL templates and legends, a layer's legend, and the value at a point (issue 12). The tiles and
coverages themselves are OGC API (geoservice/ogc/rasters.py)."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from fastapi import APIRouter, Request

from geoservice.deps import PUBLIC
from geoservice.kernel.errors import Problem
from geoservice.ogc import rasters as served
from layers.catalog import RASTER_LAYERS
from styles import rasters as looks
from tiles import rasters

router = APIRouter(prefix="/api", tags=["rasters"])


async def _legend(request: Request, layer_id: str) -> dict[str, Any]:
    layer = served.raster_layer(layer_id)
    return looks.legend(layer, await served.ramp_stops(request, layer))


@router.get("/rasters", summary="Raster layers: tile URL templates, legends, whether they have data",
            dependencies=[PUBLIC])
async def raster_layers(request: Request) -> list[dict[str, Any]]:
    base = str(request.base_url).rstrip("/")
    out = []
    for layer in RASTER_LAYERS.values():
        bbox, _ = await served.extent(request, layer)
        out.append({
            "id": layer.id, "kind": layer.kind, "names": layer.names.as_dict(),
            "unit": layer.unit.as_dict() if layer.unit else None,
            "bbox": list(bbox) if bbox else None,
            "tiles": f"{base}/ogc/collections/{layer.id}/map/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}",
            "coverage": f"{base}/ogc/collections/{layer.id}/coverage",
            "legend": await _legend(request, layer.id),
        })
    return out


@router.get("/rasters/{layer_id}/legend", summary="The legend of a raster layer (kk/ru/en)", dependencies=[PUBLIC])
async def raster_legend(request: Request, layer_id: str) -> dict[str, Any]:
    return await _legend(request, layer_id)


@router.get("/rasters/{layer_id}/value", summary="The value of a raster layer at a point (the topmost sheet)",
            dependencies=[PUBLIC])
async def raster_value(request: Request, layer_id: str, lon: str, lat: str) -> dict[str, Any]:
    layer = served.raster_layer(layer_id)
    try:
        x, y = float(lon), float(lat)
    except ValueError:
        x = y = math.nan
    if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
        raise Problem("tiles.raster.bad_point", 400, lon=lon, lat=lat)
    async with request.app.state.pool.acquire() as conn:
        rows = await conn.fetch(rasters.POINT_SQL, layer.id, x, y)
    sheets = [rasters.Sheet.of(r) for r in rows]
    found = await asyncio.to_thread(rasters.value_at, served.raster_root(request), sheets, x, y) if sheets else None
    if found is None:
        raise Problem("tiles.raster.no_value", 404, collection=layer.id, lon=lon, lat=lat)
    sheet, values = found
    out: dict[str, Any] = {"layer": layer.id, "lon": x, "lat": y, "sheet": sheet.sheet, "version": sheet.version_id}
    if layer.kind == "grid":
        out["value"] = values[0]
        out["unit"] = layer.unit.as_dict() if layer.unit else None
    else:
        out["values"] = values
    return out

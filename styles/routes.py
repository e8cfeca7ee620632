"""Styles routes (OGC API – Styles, the parts clients use): /ogc/styles (MapLibre style JSON of
the map), per-collection styles as MapLibre JSON or QGIS QML, and the style's sprite under
/ogc/resources. URLs inside styles point at the server the request came to; ``?lang=kk|ru|en``
(else Accept-Language) picks the language of labels."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import negotiate
from layers.catalog import LAYERS
from styles.mapbox import LANGS, STYLE_ID, STYLE_TITLE, build_style
from styles.qml import LAYERS_WITH_QML, build_qml
from styles.sprite import sprite

router = APIRouter(prefix="/ogc", tags=["styles"])

MAPBOX = "application/vnd.mapbox.style+json"
QML = "application/vnd.qgis.qml"
FORMATS = {"mapbox": MAPBOX, "qml": QML}
CACHE = "public, max-age=60"



def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def request_lang(request: Request, lang: str | None) -> str:
    if lang and lang.lower() in LANGS:
        return lang.lower()
    return negotiate(request.headers.get("accept-language"))


def _format(request: Request, f: str | None, allowed: tuple[str, ...]) -> str:
    if f is None:
        accept = request.headers.get("accept", "")
        f = "qml" if QML in accept and "qml" in allowed else allowed[0]
    f = f.lower()
    if f not in allowed:
        raise Problem("styles.bad_format", 400, format=f, formats=", ".join(allowed))
    return f


def _json(body: Any, media_type: str, lang: str | None = None) -> Response:
    headers = {"Cache-Control": CACHE, "Vary": "Accept, Accept-Language"}
    if lang:
        headers["Content-Language"] = lang
    return Response(json.dumps(body, ensure_ascii=False), media_type=media_type, headers=headers)


def _style_links(href: str, formats: tuple[str, ...], lang: str) -> list[dict[str, str]]:
    titles = {"mapbox": "MapLibre / Mapbox GL style", "qml": "QGIS layer style (QML)"}
    return [{"href": f"{href}?f={f}&lang={lang}", "rel": "stylesheet", "type": FORMATS[f], "title": titles[f]}
            for f in formats]


@router.get("/styles", summary="The map's styles")
def list_styles(request: Request, lang: str | None = Query(None, description="kk, ru or en")) -> Response:
    lang = request_lang(request, lang)
    base = base_url(request)
    return _json({
        "default": STYLE_ID,
        "styles": [{"id": STYLE_ID, "title": getattr(STYLE_TITLE, lang),
                    "links": _style_links(f"{base}/ogc/styles/{STYLE_ID}", ("mapbox",), lang)}],
        "links": [{"href": f"{base}/ogc/styles", "rel": "self", "type": "application/json"}],
    }, "application/json", lang)


@router.get("/styles/{style_id}", summary="A style of the map (MapLibre style JSON)")
def get_style(request: Request, style_id: str, f: str | None = Query(None, description="mapbox"),
              lang: str | None = Query(None, description="kk, ru or en")) -> Response:
    if style_id != STYLE_ID:
        raise Problem("styles.not_found", 404, style=style_id)
    _format(request, f, ("mapbox",))
    lang = request_lang(request, lang)
    style = build_style(base_url(request), lang, basemap_url=request.app.state.settings.basemap_url)
    return _json(style, MAPBOX, lang)


def _collection(collection_id: str) -> str:
    if collection_id not in LAYERS_WITH_QML:
        raise Problem("styles.collection_not_found", 404, collection=collection_id)
    return collection_id


@router.get("/collections/{collection_id}/styles", summary="Styles of one collection")
def list_collection_styles(request: Request, collection_id: str,
                           lang: str | None = Query(None, description="kk, ru or en")) -> Response:
    _collection(collection_id)
    lang = request_lang(request, lang)
    base = base_url(request)
    href = f"{base}/ogc/collections/{collection_id}/styles"
    return _json({
        "default": STYLE_ID,
        "styles": [{"id": STYLE_ID, "title": getattr(LAYERS[collection_id].names, lang),
                    "links": _style_links(f"{href}/{STYLE_ID}", ("mapbox", "qml"), lang)}],
        "links": [{"href": href, "rel": "self", "type": "application/json"}],
    }, "application/json", lang)


@router.get("/collections/{collection_id}/styles/{style_id}",
            summary="A collection's style: MapLibre style JSON (f=mapbox) or QGIS QML (f=qml)")
def get_collection_style(request: Request, collection_id: str, style_id: str,
                         f: str | None = Query(None, description="mapbox or qml"),
                         lang: str | None = Query(None, description="kk, ru or en")) -> Response:
    _collection(collection_id)
    if style_id != STYLE_ID:
        raise Problem("styles.not_found", 404, style=style_id)
    fmt = _format(request, f, ("mapbox", "qml"))
    lang = request_lang(request, lang)
    if fmt == "qml":
        return Response(build_qml(collection_id, lang), media_type=QML, headers={
            "Cache-Control": CACHE, "Content-Language": lang, "Vary": "Accept, Accept-Language",
            "Content-Disposition": f'inline; filename="{collection_id}.qml"'})
    return _json(build_style(base_url(request), lang, collection=collection_id), MAPBOX, lang)


@router.get("/resources/{name}", summary="Style resources: the sprite (sprite.json, sprite.png, @2x)")
def get_resource(name: str) -> Response:
    files = {"sprite.json": (1, "json"), "sprite.png": (1, "png"),
             "sprite@2x.json": (2, "json"), "sprite@2x.png": (2, "png")}
    if name not in files:
        raise Problem("styles.not_found", 404, style=name)
    ratio, kind = files[name]
    index, image = sprite(ratio)
    headers = {"Cache-Control": "public, max-age=3600"}
    if kind == "json":
        return Response(json.dumps(index), media_type="application/json", headers=headers)
    return Response(image, media_type="image/png", headers=headers)

"""OGC API – Features (Parts 1 Core, 2 CRS, 3 Filtering) at /ogc: landing page, conformance,
OpenAPI, collections, queryables, items and single features, as JSON/GeoJSON and HTML.

A collection is a layer of the store (geoservice/registry.py); its items come from the table of
the layer's current version, so an upload is served at once."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from cadastre import documents as docs
from cadastre import geo_reports
from geoservice.admission import Admission, anonymous_client
from geoservice.kernel import clock
from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import negotiate, translate
from geoservice.ogc import crs as crsmod
from geoservice.ogc import features as feat
from geoservice.ogc import html, rasters
from geoservice.ogc.cost import classify
from layers.access import caller, reader_is_authorised
from layers.catalog import RASTER_LAYERS
from layers.registry import Collection, Registry
from layers.values import storable_text

router = APIRouter(prefix="/ogc", tags=["ogc"])

GEOJSON = "application/geo+json"
JSON = "application/json"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
ITEM_PARAMETERS = {"f", "limit", "bbox", "bbox-crs", "datetime", "crs", "properties", "sortby", "filter",
                   "filter-lang", "filter-crs", "cursor"}

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]


def _cql2_conformance() -> list[str]:
    from geoservice.ogc.cql2 import CONFORMANCE as cql2_conformance

    return list(cql2_conformance)


def _tiles_conformance() -> list[str]:
    try:
        from tiles.conformance import CONFORMANCE as tiles_conformance
    except ImportError:
        return []
    return list(tiles_conformance)


# --- helpers -----------------------------------------------------------------------------------

def registry(request: Request) -> Registry:
    return request.app.state.registry  # type: ignore[no-any-return]


def root(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def wants_html(request: Request) -> bool:
    f = request.query_params.get("f")
    if f is not None:
        if f.lower() == "html":
            return True
        if f.lower() in ("json", "geojson", "application/json", "application/geo+json"):
            return False
        raise Problem("ogc.not_acceptable", 406, format=f)
    # Browsers put text/html first; clients asking for JSON name it first or only.
    accept = request.headers.get("accept", "")
    at_html, at_json = accept.find("text/html"), accept.find("json")
    return at_html != -1 and (at_json == -1 or at_html < at_json)


def lang_of(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


def json_response(body: Any, media_type: str = JSON, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), media_type=media_type, headers=headers)


def link(href: str, rel: str, type_: str, title: str | None = None, **extra: Any) -> dict[str, Any]:
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    out.update(extra)
    return out


def alternates(href: str, self_html: bool, json_type: str = JSON, title: str = "") -> list[dict[str, Any]]:
    sep = "&" if "?" in href else "?"
    as_json = link(f"{href}{sep}f=json", "self" if not self_html else "alternate", json_type, f"{title} (JSON)")
    as_html = link(f"{href}{sep}f=html", "self" if self_html else "alternate", "text/html", f"{title} (HTML)")
    return [as_html, as_json] if self_html else [as_json, as_html]


# The Link header is kept under this many characters: the links of a long query (self, alternate,
# next, prev repeat every parameter: a 2,600-value IN filter made 94 kB) are then left to the body,
# which always has them all. Clients (curl, Python's http.client: 64 kB a line) and proxies (nginx:
# 4-8 kB of headers by default) refuse longer headers.
MAX_LINK_HEADER = 4096


def link_header(links: list[dict[str, Any]]) -> str:
    """The same links as an HTTP Link header (RFC 8288), for clients that read headers, as many
    as fit in MAX_LINK_HEADER characters."""
    parts: list[str] = []
    size = 0
    for x in links:
        if x["rel"] not in ("self", "alternate", "next", "prev", "collection", QUERYABLES_REL):
            continue
        part = f'<{x["href"]}>; rel="{x["rel"]}"; type="{x["type"]}"'
        if size + len(part) + 2 > MAX_LINK_HEADER:
            continue
        parts.append(part)
        size += len(part) + 2
    return ", ".join(parts)


def collection_or_404(request: Request, collection_id: str) -> Collection:
    c = registry(request).get(collection_id)
    if c is None:
        raise Problem("ogc.collection_not_found", 404, collection=collection_id)
    return c


# --- landing, conformance, api -----------------------------------------------------------------

@router.get("")
@router.get("/")
async def landing(request: Request) -> Response:
    base = root(request)
    is_html = wants_html(request)
    links = [
        *alternates(base + "/", is_html, title="Landing page"),
        link(f"{base}/api", "service-desc", OPENAPI_JSON, "The API definition (OpenAPI 3.0)"),
        link(f"{base}/api.html", "service-doc", "text/html", "The API documentation"),
        link(f"{base}/conformance", "conformance", JSON, "Conformance classes"),
        link(f"{base}/collections", "data", JSON, "Collections"),
        link(f"{base}/tileMatrixSets", "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes", JSON,
             "Tile matrix sets"),
        link(f"{base}/tiles", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", JSON, "Map tiles"),
        link(f"{base}/styles", "http://www.opengis.net/def/rel/ogc/1.0/styles", JSON, "Styles"),
        link(str(request.base_url), "related", "text/html", "The public map"),
    ]
    body = {"title": "geoservice — subsoil use of Kazakhstan",
            "description": "Subsoil blocks, subsoil plots, restriction zones and geological studies as "
                           "OGC API – Features and vector tiles.", "links": links}
    if is_html:
        # The links are in the table; the nav bar stays empty, as it always was here.
        return HTMLResponse(html.render("landing.html", lang_of(request), title=body["title"],
                                        description=body["description"], table=links))
    return json_response(body)


@router.get("/conformance")
async def conformance(request: Request) -> Response:
    classes = [*CONFORMANCE, *_cql2_conformance(), *_tiles_conformance(), *rasters.CONFORMANCE]
    if wants_html(request):
        lang = lang_of(request)
        return HTMLResponse(html.render("conformance.html", lang, title=translate("ogc.html.conformance", lang),
                                        classes=classes))
    return json_response({"conformsTo": classes})


@router.get("/api")
async def api_definition(request: Request) -> Response:
    from geoservice.ogc.openapi import build_openapi

    doc = build_openapi(root(request), registry(request).all())
    if request.query_params.get("f") == "html":
        return await api_html(request)
    return json_response(doc, OPENAPI_JSON)


@router.get("/api.html")
async def api_html(request: Request) -> Response:
    from geoservice.ogc.openapi import build_openapi

    doc = build_openapi(root(request), registry(request).all())
    lang = lang_of(request)
    return HTMLResponse(html.render("api.html", lang, title=translate("ogc.html.api", lang),
                                    json_href=f"{root(request)}/api?f=json", paths=doc["paths"]))


# --- collections -------------------------------------------------------------------------------

def _instant(day: dt.date | None, end: bool) -> str | None:
    """A day as the RFC 3339 instant opening (or closing) it; None stays open."""
    if day is None:
        return None
    return day.isoformat() + ("T23:59:59Z" if end else "T00:00:00Z")


def describe(request: Request, c: Collection, lang: str, is_html: bool, authorised: bool) -> dict[str, Any]:
    base = f"{root(request)}/collections/{c.id}"
    seen = c.visible(authorised)  # the extent of what this reader may see, never of hidden features
    names = c.layer.names.as_dict()
    doc: dict[str, Any] = {
        "id": c.id,
        "title": names[lang],
        "description": " / ".join(names[x] for x in ("kk", "ru", "en")),
        "itemType": "feature",
        "links": [
            *alternates(base, is_html, title=names[lang]),
            link(f"{base}/items?f=json", "items", GEOJSON, "Features (GeoJSON)"),
            link(f"{base}/items?f=html", "items", "text/html", "Features (HTML)"),
            link(f"{base}/queryables?f=json", QUERYABLES_REL, SCHEMA_JSON, "Queryables"),
            link(f"{base}/tiles", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", JSON, "Vector tiles"),
            link(f"{base}/styles", "http://www.opengis.net/def/rel/ogc/1.0/styles", JSON, "Styles"),
            link(f"{base}/styles/default?f=qml", "describedby", "application/vnd.qgis.qml", "QGIS style"),
        ],
        "extent": {"spatial": {"bbox": [list(seen.bbox) if seen.bbox else [46.4, 40.5, 87.4, 55.5]],
                               "crs": crsmod.CRS84}},
        "crs": crsmod.offered_uris(),
        "storageCrs": crsmod.CRS84,
    }
    if c.layer.temporal:
        start, end = seen.interval or (None, None)
        doc["extent"]["temporal"] = {"interval": [[_instant(start, False), _instant(end, True)]],
                                     "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    if c.version is not None:
        doc["version"] = c.version
    return doc


@router.get("/collections")
async def collections(request: Request) -> Response:
    lang = lang_of(request)
    is_html = wants_html(request)
    base = root(request)
    authorised = await reader_is_authorised(request)
    docs = [describe(request, c, lang, False, authorised) for c in registry(request).all()]
    docs += await rasters.listed_collections(request, base, lang)  # raster layers with data, after
    body = {"links": alternates(f"{base}/collections", is_html, title="Collections"), "collections": docs,
            "crs": crsmod.offered_uris()}
    if is_html:
        return HTMLResponse(html.render("collections.html", lang, title=translate("ogc.html.collections", lang),
                                        links=body["links"], base=base, collections=docs))
    return json_response(body)


@router.get("/collections/{collection_id}")
async def collection(request: Request, collection_id: str) -> Response:
    if collection_id in RASTER_LAYERS and registry(request).get(collection_id) is None:
        return json_response(await rasters.collection_doc(request, root(request), collection_id))
    c = collection_or_404(request, collection_id)
    lang = lang_of(request)
    is_html = wants_html(request)
    doc = describe(request, c, lang, is_html, await reader_is_authorised(request))
    if is_html:
        return HTMLResponse(html.render("collection.html", lang, title=doc["title"], links=doc["links"],
                                        description=doc["description"], table=doc["links"]))
    return json_response(doc)


@router.get("/collections/{collection_id}/queryables")
async def queryables(request: Request, collection_id: str) -> Response:
    c = collection_or_404(request, collection_id)
    lang = lang_of(request)
    props: dict[str, Any] = {}
    for a in c.attributes:
        schema: dict[str, Any] = {"title": a.names.as_dict()[lang]}
        kind = feat.QUERYABLE_TYPES[a.type]
        if kind == "date":
            schema.update(type="string", format="date")
        else:
            schema["type"] = kind
        if a.choices:
            schema["enum"] = [ch.value for ch in a.choices]
        props[a.name] = schema
    props["geometry"] = {"title": "geometry", "format": "geometry-multipolygon",
                         "$ref": "https://geojson.org/schema/MultiPolygon.json"}
    doc = {"$schema": "https://json-schema.org/draft/2020-12/schema",
           "$id": f"{root(request)}/collections/{c.id}/queryables", "type": "object",
           "title": c.layer.names.as_dict()[lang], "properties": props, "additionalProperties": False}
    if wants_html(request):
        return HTMLResponse(html.render("queryables.html", lang, title=translate("ogc.html.queryables", lang,
                                                                                collection=c.id), properties=props))
    return json_response(doc, SCHEMA_JSON)


# --- items -------------------------------------------------------------------------------------

def _bad(parameter: str, detail: str) -> Problem:
    return Problem("ogc.bad_parameter", 400, parameter=parameter, detail=detail)


def _within_crs(bbox: list[float], crs: crsmod.OutputCrs) -> list[float]:
    """``bbox`` checked against where its CRS is defined (crs.valid_bounds): a corner outside
    is a 400 naming the bounds (in the CRS's axis order); within a rounding error of an edge it
    is moved onto it."""
    corners = [0, 1, 2, 3] if len(bbox) == 4 else [0, 1, 3, 4]  # heights (3D) are not checked
    xmin, ymin, xmax, ymax = crsmod.valid_bounds(crs)
    lows, highs = ([ymin, xmin], [ymax, xmax]) if crs.flip else ([xmin, ymin], [xmax, ymax])
    out = list(bbox)
    for n, i in enumerate(corners):
        axis = n % 2
        lo, hi = lows[axis], highs[axis]
        slack = (hi - lo) * 1e-9
        if not lo - slack <= bbox[i] <= hi + slack:
            raise Problem("ogc.bbox_outside_crs", 400, value=f"{bbox[i]:g}", crs=crs.uri, axis=axis + 1,
                          low=f"{lo:.10g}", high=f"{hi:.10g}")
        out[i] = min(max(bbox[i], lo), hi)
    return out


def parse_items_query(request: Request, c: Collection, authorised: bool) -> feat.ItemsQuery:
    params = request.query_params
    names = {a.name for a in c.attributes}
    for key in params:
        if key not in ITEM_PARAMETERS and key not in names:
            raise Problem("ogc.unknown_parameter", 400, parameter=key, known=", ".join(sorted(names)))
    q = feat.ItemsQuery(c, authorised=authorised)
    if "limit" in params:
        try:
            q.limit = int(params["limit"])
        except ValueError:
            raise _bad("limit", "an integer from 1 to 10000") from None
        if q.limit < 1:
            raise _bad("limit", "an integer from 1 to 10000")
        q.limit = min(q.limit, feat.MAX_LIMIT)
    if "bbox" in params:
        try:
            q.bbox = [float(v) for v in params["bbox"].split(",")]
        except ValueError:
            raise _bad("bbox", "four or six numbers separated by commas") from None
        if len(q.bbox) not in (4, 6):
            raise _bad("bbox", "four or six numbers separated by commas")
        if not all(math.isfinite(v) for v in q.bbox):
            raise Problem("ogc.bbox_not_finite", 400)
        lo, hi = (q.bbox[1], q.bbox[3]) if len(q.bbox) == 4 else (q.bbox[1], q.bbox[4])
        if lo > hi:
            raise _bad("bbox", "the lower corner's second coordinate exceeds the upper one's")
    q.bbox_crs = crsmod.parse(params.get("bbox-crs"), parameter="bbox-crs")
    if q.bbox is not None:
        q.bbox = _within_crs(q.bbox, q.bbox_crs)
    q.out_crs = crsmod.parse(params.get("crs"), parameter="crs")
    q.datetime = params.get("datetime")
    if "properties" in params:
        chosen = [p.strip() for p in params["properties"].split(",") if p.strip()]
        unknown = [p for p in chosen if p not in names]
        if unknown:
            raise _bad("properties", f"unknown {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        q.properties = chosen
    if "sortby" in params:
        for token in (t.strip() for t in params["sortby"].split(",") if t.strip()):
            desc = token.startswith("-")
            name = token.lstrip("+-")
            if " " in name:  # '+' decoded as a space by the query string parser
                name = name.strip()
            if name not in names:
                raise _bad("sortby", f"unknown {name}; sortable: {', '.join(sorted(names))}")
            q.sortby.append((name, desc))
    q.filter = params.get("filter")
    q.filter_lang = params.get("filter-lang", "cql2-text")
    if q.filter_lang not in ("cql2-text", "cql2-json"):
        raise _bad("filter-lang", "cql2-text or cql2-json")
    q.filter_crs = params.get("filter-crs")
    if q.filter_crs is not None:
        crsmod.parse(q.filter_crs, parameter="filter-crs")
    q.equals = {k: v for k, v in params.items() if k in names}
    if "cursor" in params:
        q.cursor = feat.Cursor.decode(params["cursor"])
    return q


def page_link(request: Request, rel: str, cursor: feat.Cursor, type_: str) -> dict[str, Any]:
    # Keep every query parameter the client sent (f included), replacing only the cursor.
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    params.append(("cursor", cursor.encode()))
    href = f"{root(request)}/collections/{request.path_params['collection_id']}/items?{urlencode(params)}"
    return link(href, rel, type_, "Next page" if rel == "next" else "Previous page")


@router.get("/collections/{collection_id}/items")
async def items(request: Request, collection_id: str) -> Response:
    c = collection_or_404(request, collection_id)
    is_html = wants_html(request)
    authorised = await reader_is_authorised(request)
    q = parse_items_query(request, c, authorised)
    settings = request.app.state.settings
    cost = classify(q, settings.expensive_rows)
    admission: Admission = request.app.state.admission
    if cost.expensive and not authorised:
        # An expensive query weighs more in the caller's bucket (the request itself took one token).
        admission.charge(await anonymous_client(request), settings.rate_expensive_cost - 1)
    async with admission.expensive(cost.reasons) if cost.expensive else contextlib.nullcontext(), \
            request.app.state.pool.acquire() as conn:
        page = await feat.fetch_page(conn, q)
        matched = await feat.number_matched(conn, q)
        features = await with_document_links(request, conn, c, page.features)
    base = f"{root(request)}/collections/{c.id}/items"
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "f"])
    here = base + (f"?{query}" if query else "")
    links = alternates(here, is_html, GEOJSON, "Features")
    page_type = "text/html" if is_html else GEOJSON
    if page.next:
        links.append(page_link(request, "next", page.next, page_type))
    if page.prev:
        links.append(page_link(request, "prev", page.prev, page_type))
    links.append(link(f"{root(request)}/collections/{c.id}", "collection", JSON, c.layer.names.en))
    links.append(link(f"{root(request)}/collections/{c.id}/queryables", QUERYABLES_REL, SCHEMA_JSON, "Queryables"))
    stamp = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {"Content-Crs": f"<{q.out_crs.uri}>", "Link": link_header(links)}
    if is_html:
        lang = lang_of(request)
        features = [orjson.loads(f) for f in page.features]  # type: ignore[assignment]
        names = list(dict.fromkeys(k for f in features for k in (f.get("properties") or {})))  # in order of first use
        return HTMLResponse(html.render("items.html", lang, title=c.layer.names.as_dict()[lang], links=links,
                                        matched=matched, features=features, names=names,
                                        item_href=f"{root(request)}/collections/{c.id}/items/{{id}}?f=html"),
                            headers=headers)
    tail = (f'],"numberMatched":{matched},"numberReturned":{len(page.features)},"timeStamp":"{stamp}",'
            '"links":').encode()
    body = b"".join((b'{"type":"FeatureCollection","features":[', b",".join(features), tail,
                     orjson.dumps(links), b"}"))
    return Response(body, media_type=GEOJSON, headers=headers)


@router.get("/collections/{collection_id}/items/{feature_id}")
async def item(request: Request, collection_id: str, feature_id: str) -> Response:
    c = collection_or_404(request, collection_id)
    is_html = wants_html(request)
    for key in request.query_params:
        if key not in ("f", "crs"):
            raise Problem("ogc.unknown_parameter", 400, parameter=key, known="f, crs")
    out_crs = crsmod.parse(request.query_params.get("crs"))
    if not storable_text(feature_id):  # no stored id holds NUL; the database would refuse the parameter
        raise Problem("ogc.bad_text", 400, parameter="featureId")
    authorised = await reader_is_authorised(request)
    async with request.app.state.pool.acquire() as conn:
        text = await feat.fetch_one(conn, c, feature_id, out_crs, authorised)
        documents = (await linked_documents(request, conn, c, [feature_id])).get(feature_id, []) if text else []
        has_reports = bool(text) and feature_id in await reported(request, conn, c, [feature_id])
    if text is None:
        raise Problem("ogc.feature_not_found", 404, collection=c.id, feature=feature_id)
    base = f"{root(request)}/collections/{c.id}"
    from urllib.parse import quote

    here = f"{base}/items/{quote(feature_id, safe='')}"
    links = [*alternates(here, is_html, GEOJSON, "Feature"), link(base, "collection", JSON, c.layer.names.en),
             *document_links(request, documents),
             *(report_links(request, c, feature_id) if has_reports else [])]
    headers = {"Content-Crs": f"<{out_crs.uri}>", "Link": link_header(links)}
    if is_html:
        feature = orjson.loads(text)
        return HTMLResponse(html.render("item.html", lang_of(request), title=f"{c.id} / {feature_id}", links=links,
                                        properties=feature["properties"],
                                        geometry=orjson.dumps(feature["geometry"])[:400].decode()), headers=headers)
    return Response(text[:-1] + ',"links":' + orjson.dumps(links).decode() + "}", media_type=GEOJSON,
                    headers=headers)


# --- documents named by features (cadastre/documents.py) ----------------------------------------

FEATURE_PREFIX = b'{"type":"Feature","id":'


async def linked_documents(request: Request, conn: Any, c: Collection, ids: list[str]) -> dict[str, list[Any]]:
    """feature id -> the documents it names that the reader may read (may_read, the one rule)."""
    ref = docs.LINKED_LAYERS.get(c.id)
    if ref is None or not ids or c.schema != "layer_data":
        return {}
    rows = await conn.fetch(docs.linked_sql(c.table, c.feature_id_column, ref), ids)
    if not rows:
        return {}
    return docs.readable_links(rows, await caller(request))


# Layers whose features have reports (cadastre/geo_reports.py): a link to their list.
REPORTED_LAYERS = frozenset({"geological-studies"})


async def reported(request: Request, conn: Any, c: Collection, ids: list[str]) -> set[str]:
    """The features (of ``ids``) that have reports the reader would find listed."""
    if c.id not in REPORTED_LAYERS or not ids:
        return set()
    rows = await conn.fetch(geo_reports.STUDIES_WITH_REPORTS_SQL, ids,
                            *geo_reports.studies_with_reports_params(await caller(request)))
    return {r[0] for r in rows}


def report_links(request: Request, c: Collection, feature_id: str) -> list[dict[str, Any]]:
    """The study's reports (the list checks the reader's right per report)."""
    from urllib.parse import quote

    href = str(request.base_url).rstrip("/") + "/api/geoinfo?study=" + quote(feature_id, safe="")
    return [link(href, "related", JSON, "Reports")]


def document_links(request: Request, documents: list[Any]) -> list[dict[str, Any]]:
    """A download (enclosure) and a description (describedby) per document; both targets check
    the reader's right again."""
    base = str(request.base_url).rstrip("/") + "/api/documents"
    out = []
    for d in documents:
        out.append(link(f"{base}/{d.id}/content", "enclosure", d.content_type.split(";")[0], d.file_name,
                        length=d.size))
        out.append(link(f"{base}/{d.id}", "describedby", JSON, d.file_name))
    return out


async def with_document_links(request: Request, conn: Any, c: Collection, features: list[bytes]) -> list[bytes]:
    """The page's features, those naming a document the reader may read with ``links`` to it;
    every other feature byte for byte as it was."""
    if (c.id not in docs.LINKED_LAYERS and c.id not in REPORTED_LAYERS) or not features:
        return features
    # The id is the first member (features.feature_sql); a JSON string cannot hold the raw bytes
    # ',"geometry":', so the id ends where they start.
    ids = [str(orjson.loads(f[len(FEATURE_PREFIX):f.index(b',"geometry":')])) for f in features]
    found = await linked_documents(request, conn, c, ids)
    with_reports = await reported(request, conn, c, ids)
    if not found and not with_reports:
        return features
    return [f[:-1] + b',"links":' + orjson.dumps(document_links(request, found.get(i, []))
                                                 + (report_links(request, c, i) if i in with_reports else [])) + b"}"
            if i in found or i in with_reports else f for f, i in zip(features, ids, strict=True)]

"""The OpenAPI 3.0 definition of /ogc, with one path per collection so that clients (GDAL's
OAPIF driver among them) see each collection's query parameters."""

from __future__ import annotations

from typing import Any

from geoservice.ogc import crs as crsmod
from geoservice.ogc.features import MAX_LIMIT, QUERYABLE_TYPES
from layers.registry import Collection

PROBLEM = {"description": "Problem", "content": {"application/problem+json": {"schema": {"type": "object"}}}}
F_PARAM = {"name": "f", "in": "query", "required": False, "style": "form", "explode": False,
           "schema": {"type": "string", "enum": ["json", "html"]}, "description": "Response format"}


def _query(name: str, schema: dict[str, Any], description: str, style: str = "form",
           explode: bool = False) -> dict[str, Any]:
    # Features Part 1 defines every query parameter as style form, explode false.
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description,
            "style": style, "explode": explode}


def _ok(media: str, description: str = "OK") -> dict[str, Any]:
    return {"200": {"description": description, "content": {media: {"schema": {"type": "object"}}}},
            "400": PROBLEM, "404": PROBLEM, "500": PROBLEM}


def _items_parameters(c: Collection) -> list[dict[str, Any]]:
    crs_enum = {"type": "string", "format": "uri", "enum": crsmod.offered_uris()}
    params = [
        F_PARAM,
        _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100},
               f"Features per page (at most {MAX_LIMIT})"),
        _query("bbox", {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
               "Bounding box", style="form", explode=False),
        _query("bbox-crs", crs_enum, "CRS of bbox"),
        _query("crs", crs_enum, "CRS of the response geometries"),
        _query("datetime", {"type": "string"}, "Instant or interval (RFC 3339, '..' open)"),
        _query("properties", {"type": "array", "items": {"type": "string"}}, "Properties to return",
               style="form", explode=False),
        _query("sortby", {"type": "array", "items": {"type": "string"}}, "Sort keys, +name or -name",
               style="form", explode=False),
        _query("filter", {"type": "string"}, "CQL2 filter"),
        _query("filter-lang", {"type": "string", "enum": ["cql2-text", "cql2-json"], "default": "cql2-text"},
               "Filter language"),
        _query("filter-crs", crs_enum, "CRS of geometries in the filter"),
        _query("cursor", {"type": "string"}, "Page cursor (from next/prev links)"),
    ]
    for a in c.attributes:
        kind = QUERYABLE_TYPES[a.type]
        schema: dict[str, Any] = {"type": "string", "format": "date"} if kind == "date" else {"type": kind}
        if a.choices:
            schema["enum"] = [ch.value for ch in a.choices]
        params.append(_query(a.name, schema, f"{a.names.en} equals"))
    return params


def build_openapi(root: str, collections: list[Collection]) -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/": {"get": {"summary": "Landing page", "operationId": "getLandingPage", "parameters": [F_PARAM],
                      "responses": _ok("application/json")}},
        "/conformance": {"get": {"summary": "Conformance classes", "operationId": "getConformance",
                                 "parameters": [F_PARAM], "responses": _ok("application/json")}},
        "/api": {"get": {"summary": "This API definition", "operationId": "getApi",
                         "responses": _ok("application/vnd.oai.openapi+json;version=3.0")}},
        "/collections": {"get": {"summary": "Collections", "operationId": "getCollections",
                                 "parameters": [F_PARAM], "responses": _ok("application/json")}},
    }
    for c in collections:
        cid = c.id
        op = cid.replace("-", "_")
        paths[f"/collections/{cid}"] = {"get": {
            "summary": f"Collection {cid}", "operationId": f"describe_{op}", "parameters": [F_PARAM],
            "responses": _ok("application/json")}}
        paths[f"/collections/{cid}/queryables"] = {"get": {
            "summary": f"Queryables of {cid}", "operationId": f"queryables_{op}", "parameters": [F_PARAM],
            "responses": _ok("application/schema+json")}}
        paths[f"/collections/{cid}/items"] = {"get": {
            "summary": f"Features of {cid}", "operationId": f"items_{op}", "parameters": _items_parameters(c),
            "responses": _ok("application/geo+json")}}
        paths[f"/collections/{cid}/items/{{featureId}}"] = {"get": {
            "summary": f"One feature of {cid}", "operationId": f"item_{op}",
            "parameters": [{"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"}},
                           F_PARAM, _query("crs", {"type": "string", "format": "uri"}, "Response CRS")],
            "responses": _ok("application/geo+json")}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "geoservice OGC API", "version": "1.0.0",
                 "description": "OGC API – Features (Parts 1–3) and Tiles over Kazakhstan's subsoil-use layers",
                 "license": {"name": "Open data of the Republic of Kazakhstan"}},
        "servers": [{"url": root}],
        "paths": paths,
    }

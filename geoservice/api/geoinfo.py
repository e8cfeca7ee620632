"""Geological reports: /api/geoinfo... (issue 12, "Reports"; rules in cadastre/geo_reports.py).

Search lists public and official-use reports to everyone (an unreadable one without its files)
and confidential ones only to who may read them. A file is downloaded here, through the
report's rule (licence holders included), streamed from the document store. Every refusal and
every download is journaled (object ``geo-report:<inventory>``)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from cadastre import documents as docs
from cadastre import geo_reports as gr
from geoservice.api.documents import document_response
from geoservice.deps import PUBLIC, DatabaseDep, SettingsDep, admits
from geoservice.kernel.db import Database
from geoservice.kernel.errors import Location, Problem
from geoservice.kernel.i18n import negotiate
from layers.access import AUTHORITY_TOKEN, Caller, caller, client_address
from layers.store import journal

router = APIRouter(prefix="/api/geoinfo", tags=["geoinfo"])
log = logging.getLogger("geoservice.geoinfo")
MAX_OFFSET = 10_000


def _actor(who: Caller | None) -> str:
    return who.actor if who is not None else "anonymous"


def _journal(db: Database, request: Request, who: Caller | None, action: str, result: str, inventory: str,
             detail: dict[str, Any]) -> None:
    # On a connection of its own: a refusal leaves nothing else to commit. A journal that cannot
    # be written must not hide the answer itself.
    try:
        with db.connection() as conn:
            journal(conn, _actor(who), action, result, object=f"geo-report:{inventory[:100].replace(chr(0), '')}",
                    client=client_address(request), detail=detail)
    except Exception:  # noqa: BLE001
        log.exception("cannot journal %s %s of report %s", action, result, inventory)


def storable(text: str) -> bool:
    """Could a stored inventory number be this text? (The database refuses NUL in a parameter.)"""
    return len(text) <= 100 and "\x00" not in text


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _int(raw: str | None, default: int, low: int, high: int, name: str) -> int:
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and low <= int(raw) <= high):
        raise Problem("geoinfo.bad_paging", 400, location=Location(field=name), max=gr.PAGE_MAX,
                      max_offset=MAX_OFFSET)
    return int(raw)


@router.get("", dependencies=[PUBLIC])
async def search(request: Request, db: DatabaseDep, settings: SettingsDep, q: str | None = None,
                 bbox: str | None = None, point: str | None = None, blocks: str | None = None,
                 parcel: str | None = None, study: str | None = None, limit: str | None = None,
                 offset: str | None = None) -> dict[str, Any]:
    """Reports by text (``q``: title, organisation, mineral; kk/ru/en, transliterated, misspelt),
    by place (``bbox``, ``point`` lon,lat, ``blocks`` a block list, ``parcel`` GeoJSON) meeting
    the study's outline, or by ``study``; best first."""
    who = await caller(request)
    if study is not None and (len(study) > 200 or "\x00" in study):  # no stored key holds NUL
        raise Problem("geoinfo.bad_field", 400, location=Location(field="study"), field="study", limit=200)
    s = gr.Search(q=q, bbox=gr.parse_bbox(bbox) if bbox else None, point=gr.parse_point(point) if point else None,
                  place=(gr.parse_blocks(blocks, settings.grid_datum) if blocks else
                         gr.parse_polygon(parcel) if parcel else None),
                  study=study or None, limit=_int(limit, 20, 1, gr.PAGE_MAX, "limit"),
                  offset=_int(offset, 0, 0, MAX_OFFSET, "offset"))
    lang = negotiate(request.headers.get("accept-language"))

    def run() -> tuple[list[tuple[gr.Report, bool]], int, dict[int, list[tuple[str, docs.Document]]]]:
        with db.connection() as conn:
            found, total = gr.search(conn, who, s)
            return found, total, gr.files_of(conn, [r.id for r, ok in found if ok])

    found, total, files = await run_in_threadpool(run)
    base = _base(request)
    body: dict[str, Any] = {
        "reports": [gr.describe(r, ok, files.get(r.id, []), base, lang) for r, ok in found],
        "numberMatched": total, "numberReturned": len(found), "limit": s.limit, "offset": s.offset,
    }
    links = [{"rel": "self", "type": "application/json", "href": str(request.url)}]
    if s.offset + len(found) < total:
        links.append({"rel": "next", "type": "application/json",
                      "href": str(request.url.include_query_params(offset=s.offset + s.limit, limit=s.limit))})
    body["links"] = links
    return body


@router.get("/reports/{inventory:path}/files/{document_id}", dependencies=[PUBLIC])
async def download(inventory: str, document_id: str, request: Request, db: DatabaseDep) -> StreamingResponse:
    who = await caller(request)
    doc_id = int(document_id) if document_id.isascii() and document_id.isdigit() and len(document_id) <= 18 else None

    def load() -> tuple[tuple[gr.Report, docs.Document] | None, bool]:
        with db.connection() as conn:
            found = gr.report_file(conn, inventory, doc_id) if doc_id is not None and storable(inventory) else None
            return found, found is not None and gr.may_read(conn, found[0], who)

    found, allowed = await run_in_threadpool(load)
    if found is None:
        problem = Problem("geoinfo.file_not_found", 404, inventory=inventory[:100], id=document_id[:40])
        await run_in_threadpool(_journal, db, request, who, "geo-report.download", "rejected", inventory,
                                {"problem": problem.key, "status": 404, "document": document_id[:40]})
        raise problem
    report, doc = found
    if not allowed:
        problem = Problem("geoinfo.file_forbidden", 403, inventory=report.inventory, level=report.access_level)
        await run_in_threadpool(_journal, db, request, who, "geo-report.download", "rejected", report.inventory,
                                {"problem": problem.key, "status": 403, "document": doc.id,
                                 "access_level": report.access_level})
        raise problem
    # Every download is on record, public ones too (the issue asks for every one).
    await run_in_threadpool(_journal, db, request, who, "geo-report.download", "ok", report.inventory,
                            {"document": doc.id, "access_level": report.access_level, "sha256": doc.sha256})
    return document_response(request, doc, public=report.access_level == "public")


@router.get("/reports/{inventory:path}", dependencies=[PUBLIC])
async def one_report(inventory: str, request: Request, db: DatabaseDep) -> dict[str, Any]:
    """One report with its files' links (when the caller may read them)."""
    who = await caller(request)

    def load() -> tuple[tuple[gr.Report, bool] | None, list[tuple[str, docs.Document]]]:
        with db.connection() as conn:
            found = gr.get_report(conn, inventory, who) if storable(inventory) else None
            return found, (gr.files_of(conn, [found[0].id]).get(found[0].id, []) if found and found[1] else [])

    found, files = await run_in_threadpool(load)
    if found is None:
        problem = Problem("geoinfo.not_found", 404, inventory=inventory[:100])
        await run_in_threadpool(_journal, db, request, who, "geo-report.read", "rejected", inventory,
                                {"problem": problem.key, "status": 404})
        raise problem
    report, readable = found
    if not readable:
        # Listed, but its files are not for this caller: on record as a refusal.
        await run_in_threadpool(_journal, db, request, who, "geo-report.read", "withheld", report.inventory,
                                {"access_level": report.access_level})
    return gr.describe(report, readable, files, _base(request), negotiate(request.headers.get("accept-language")))


class ReportIn(BaseModel):
    study: str = Field(max_length=200)
    inventory: str = Field(max_length=100)
    title: str = Field(max_length=2000)
    access_level: str = "official-use"
    title_lang: str | None = None
    authors: list[str] = Field(default_factory=list, max_length=50)
    organisation: str | None = Field(default=None, max_length=500)
    year: int | None = None
    minerals: list[str] = Field(default_factory=list, max_length=30)


@router.post("/reports", status_code=201)
async def add_report(body: ReportIn, request: Request, db: DatabaseDep,
                     who: Caller = admits(AUTHORITY_TOKEN, "officer")) -> dict[str, Any]:
    """A report of a study, by an authority that writes geological-studies (token or officer)."""
    authority = gr.writing_authority(who)
    new = gr.NewReport(study_key=body.study, inventory=body.inventory, title=body.title,
                       access_level=body.access_level, authors=body.authors, organisation=body.organisation,
                       year=body.year, minerals=body.minerals, title_lang=body.title_lang)
    try:
        if authority is None:
            raise Problem("geoinfo.forbidden_write", 403, authority=", ".join(sorted(gr.authorities_of(who))) or "-")

        def save() -> gr.Report:
            with db.connection() as conn:
                return gr.add_report(conn, new, authority=authority, actor=who.actor, client=client_address(request))

        report = await run_in_threadpool(save)
    except Problem as problem:
        await run_in_threadpool(_journal, db, request, who, "geo-report.add", "rejected", body.inventory,
                                {"problem": problem.key, "status": problem.status})
        raise
    return gr.describe(report, True, [], _base(request), negotiate(request.headers.get("accept-language")))


FILE_FORM = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary", "description": "PDF, scan or data appendix"},
                "kind": {"type": "string", "enum": list(gr.FILE_KINDS), "default": "report"},
            }}}},
    }
}


@router.post("/reports/{inventory:path}/files", status_code=201, openapi_extra=FILE_FORM)
async def add_file(inventory: str, request: Request, db: DatabaseDep, settings: SettingsDep,
                   who: Caller = admits(AUTHORITY_TOKEN, "officer")) -> dict[str, Any]:
    """A file of a report, by its owning authority (or the operator): stored in the document store."""
    form = None
    try:
        def load() -> tuple[gr.Report, bool] | None:
            with db.connection() as conn:
                return gr.get_report(conn, inventory, who) if storable(inventory) else None

        found = await run_in_threadpool(load)
        if found is None:
            raise Problem("geoinfo.not_found", 404, inventory=inventory[:100])
        report = found[0]
        mine = gr.authorities_of(who)
        if report.authority not in mine and gr.OPERATOR not in mine:
            raise Problem("geoinfo.forbidden_write", 403, authority=", ".join(sorted(mine)) or "-")
        form = await request.form(max_files=1, max_fields=3)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Problem("documents.no_file", 400, location=Location(field="file"))
        name = docs.safe_name(upload.filename)
        content = await run_in_threadpool(docs.read_limited, upload.file, settings.max_document_bytes, name)
        kind = form.get("kind")
        kind = kind if isinstance(kind, str) and kind else "report"

        def save() -> docs.Document:
            with db.connection() as conn:
                return gr.add_file(conn, report, name, content, kind=kind, actor=who.actor,
                                   client=client_address(request), limits=docs.Limits.from_settings(settings))

        doc = await run_in_threadpool(save)
    except Problem as problem:
        await run_in_threadpool(_journal, db, request, who, "geo-report.file-add", "rejected", inventory,
                                {"problem": problem.key, "status": problem.status})
        raise
    finally:
        if form is not None:
            await form.close()
    base = _base(request)
    return {"id": doc.id, "kind": kind, "file_name": doc.file_name, "content_type": doc.content_type,
            "size": doc.size, "sha256": doc.sha256,
            "href": f"{base}/api/geoinfo/reports/{quote(report.inventory)}/files/{doc.id}"}

"""Signed documents of the cabinet: /api/documents... (README, "Signed documents").

Every read path asks ``cadastre.documents.may_read``; a document the caller may not read is
answered exactly like one that does not exist (404 ``documents.not_found``), so that its existence
does not leak. Every write and every refused read is journaled (object ``document:<id>``)."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import psycopg
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from starlette.datastructures import UploadFile

from cadastre import documents as docs
from cadastre import geo_reports
from geoservice.deps import PUBLIC, DatabaseDep, SettingsDep, admits
from geoservice.kernel import clock
from geoservice.kernel.db import Database
from geoservice.kernel.errors import Location, Problem
from geoservice.kernel.i18n import negotiate
from geoservice.trust import trust_cache
from layers.access import AUTHORITY_TOKEN, Caller, caller, client_address
from layers.store import journal

router = APIRouter(prefix="/api", tags=["documents"])
log = logging.getLogger("geoservice.documents")

# Who may store documents and add signatures: signed-in people (an auditor only reads) and the
# authorities' upload tokens (the reports geological studies name).
WRITERS = ("applicant", "officer", "commission", "admin", AUTHORITY_TOKEN)
PAGE_MAX = 100
CHUNK = 1024 * 1024

UPLOAD_FORM = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary", "description": "The document (its type is sniffed)"},
                "signature": {"type": "array", "items": {"type": "string", "format": "binary"},
                              "description": "CMS signatures (DER, PEM or base64), detached over the file or "
                                             "attached carrying it"},
                "access_level": {"type": "string", "enum": list(docs.LEVELS), "default": "confidential"},
                "reference": {"type": "string",
                              "description": "Report reference features name (geological-studies report_ref); "
                                             "authorities and admins only"},
            }}}},
    }
}
SIGNATURE_FORM = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["signature"],
            "properties": {"signature": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}},
    }
}


def _actor(who: Caller | None) -> str:
    return who.actor if who is not None else "anonymous"


def _journal(db: Database, request: Request, who: Caller | None, action: str, result: str, doc_id: int | None,
             detail: dict[str, Any]) -> None:
    # Refusals are journaled on a connection of their own: the request's work was rolled back. A
    # journal that cannot be written must not hide the refusal itself.
    try:
        with db.connection() as conn:
            journal(conn, _actor(who), action, result, object=f"document:{doc_id}" if doc_id is not None else None,
                    client=client_address(request), detail=detail)
    except Exception:  # noqa: BLE001
        log.exception("cannot journal %s %s of document %s", action, result, doc_id)


def _lang(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


def _refused(problem: Problem) -> dict[str, Any]:
    return {"problem": problem.key, "status": problem.status, **problem.location.as_dict()}


def _document_id(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


def _not_found(raw: str) -> Problem:
    return Problem("documents.not_found", 404, id=raw[:40])


async def _readable(request: Request, db: Database, who: Caller | None, raw_id: str, action: str) -> docs.Document:
    """The document if ``who`` may read it; otherwise 404 (whether it exists or not), journaled."""
    doc_id = _document_id(raw_id)

    def load() -> tuple[docs.Document | None, bool]:
        with db.connection() as conn:
            doc = docs.get(conn, doc_id) if doc_id is not None else None
            if doc is None:
                return None, False
            # A geological report's file follows its report's rule (official-use also for holders
            # of overlapping licences, confidential only for the operator and the owning
            # authority) on this route too, so the rule is the same whichever way it is asked for.
            report = geo_reports.report_of_document(conn, doc.id)
            allowed = geo_reports.may_read(conn, report, who) if report is not None else docs.may_read(who, doc)
            return doc, allowed

    doc, allowed = await run_in_threadpool(load)
    if doc is None or not allowed:
        problem = _not_found(raw_id)
        await run_in_threadpool(_journal, db, request, who, action, "rejected", doc_id,
                                {**_refused(problem), "reason": "missing" if doc is None else "access_level",
                                 **({"access_level": doc.access_level} if doc is not None else {})})
        raise problem
    return doc


def _links(request: Request, doc_id: int) -> dict[str, str]:
    base = str(request.base_url).rstrip("/")
    return {"self": f"{base}/api/documents/{doc_id}", "content": f"{base}/api/documents/{doc_id}/content"}


async def _signature_files(form: Any, settings: Any) -> list[docs.SignatureFile]:
    files = []
    for item in form.getlist("signature"):
        if not isinstance(item, UploadFile):
            continue  # a text field named signature: not a file
        name = docs.safe_name(item.filename, "signature")
        data = await run_in_threadpool(docs.read_limited, item.file, settings.max_signature_bytes, name,
                                       key="documents.signature_too_large", field="signature")
        files.append(docs.SignatureFile(name, data))
    return files


def _verifier(request: Request, conn: psycopg.Connection) -> docs.Verifier:
    """Verification with the app's trust cache (reloaded only when the trust tables changed)."""
    trust, revocation = trust_cache(request).get(conn)
    return docs.eds_verifier(conn, clock.now(), trust=trust, revocation=revocation)


@router.post("/documents", status_code=201, openapi_extra=UPLOAD_FORM)
async def upload_document(request: Request, response: Response, db: DatabaseDep, settings: SettingsDep,
                          who: Caller = admits(*WRITERS)) -> dict[str, Any]:
    limits = docs.Limits.from_settings(settings)
    form = None
    name: str | None = None
    try:
        form = await request.form(max_files=1 + settings.max_signature_files, max_fields=10)
        upload_file = form.get("file")
        if not isinstance(upload_file, UploadFile):
            raise Problem("documents.no_file", 400, location=Location(field="file"))
        name = docs.safe_name(upload_file.filename)
        content = await run_in_threadpool(docs.read_limited, upload_file.file, settings.max_document_bytes, name)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = docs.Upload(owner=who, file_name=name, content=content, access_level=fields.get("access_level"),
                             reference=fields.get("reference"), signatures=await _signature_files(form, settings))

        def save() -> tuple[docs.Document, list[docs.Signature]]:
            with db.connection() as conn:
                return docs.store(conn, upload, limits=limits, verifier=_verifier(request, conn),
                                  actor=who.actor, client=client_address(request), now=clock.now())

        doc, signatures = await run_in_threadpool(save)
    except Problem as problem:
        await run_in_threadpool(_journal, db, request, who, "document.upload", "rejected", None,
                                {**_refused(problem), **({"file": name} if name else {})})
        raise
    finally:
        if form is not None:
            await form.close()
    response.headers["Location"] = _links(request, doc.id)["self"]
    return {**docs.describe(doc, who, signatures=signatures, lang=_lang(request)), "links": _links(request, doc.id)}


@router.get("/documents", dependencies=[PUBLIC])
async def list_documents(request: Request, db: DatabaseDep, mine: bool = False, limit: str = "50",
                         cursor: str | None = None) -> dict[str, Any]:
    who = await caller(request)
    if not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= PAGE_MAX):
        raise Problem("documents.bad_limit", 400, location=Location(field="limit"), max=PAGE_MAX)
    before = _document_id(cursor) if cursor is not None else None
    if cursor is not None and before is None:
        raise Problem("documents.bad_cursor", 400, location=Location(field="cursor"))

    def page() -> tuple[list[docs.Document], int | None, dict[int, tuple[int, int]]]:
        with db.connection() as conn:
            found, after = docs.list_readable(conn, who, mine=mine, before=before, limit=int(limit))
            return found, after, docs.signature_summary(conn, (d.id for d in found))

    found, after, summary = await run_in_threadpool(page)
    items = [{**docs.describe(d, who, summary=summary.get(d.id, (0, 0))), "links": _links(request, d.id)}
             for d in found]
    body: dict[str, Any] = {"documents": items, "next": str(after) if after is not None else None}
    if after is not None:
        params = {"limit": limit, "cursor": str(after), **({"mine": "true"} if mine else {})}
        body["links"] = [{"rel": "next", "href": str(request.url.replace_query_params(**params))}]
    return body


@router.get("/documents/{document_id}", dependencies=[PUBLIC])
async def get_document(document_id: str, request: Request, db: DatabaseDep) -> dict[str, Any]:
    who = await caller(request)
    doc = await _readable(request, db, who, document_id, "document.read")

    def signatures() -> list[docs.Signature]:
        with db.connection() as conn:
            return docs.signatures_of(conn, doc.id)

    return {**docs.describe(doc, who, signatures=await run_in_threadpool(signatures), lang=_lang(request)),
            "links": _links(request, doc.id)}


def content_disposition(name: str) -> str:
    """attachment, with an ASCII fallback name and the real one in RFC 5987 form."""
    fallback = "".join(ch if (ch.isascii() and (ch.isalnum() or ch in "._- ")) else "_" for ch in name) or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@router.get("/documents/{document_id}/content", dependencies=[PUBLIC])
async def document_content(document_id: str, request: Request, db: DatabaseDep) -> StreamingResponse:
    who = await caller(request)
    doc = await _readable(request, db, who, document_id, "document.download")
    if doc.access_level != "public":
        # Who took a protected document home is on record.
        await run_in_threadpool(_journal, db, request, who, "document.download", "ok", doc.id,
                                {"access_level": doc.access_level, "sha256": doc.sha256})
    return document_response(request, doc, public=doc.access_level == "public")


def document_response(request: Request, doc: docs.Document, *, public: bool) -> StreamingResponse:
    """A stored document's bytes as a download (this route's, and a geological report's file)."""
    pool = request.app.state.pool

    async def body() -> AsyncIterator[bytes]:
        # A slice per query, each on a pooled connection for that moment only: a slow client
        # holds neither a connection nor the whole file.
        for offset in range(0, doc.size, CHUNK):
            async with pool.acquire() as conn:
                chunk = await conn.fetchval(docs.CHUNK_SQL, doc.id, offset + 1, CHUNK)
            yield bytes(chunk)

    headers = {
        "Content-Disposition": content_disposition(doc.file_name),
        "Content-Length": str(doc.size),
        "X-Content-Type-Options": "nosniff",
        # Opened in a tab anyway (a PDF viewer, an SVG inside XML): no script, no same-origin rights.
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "public, max-age=300" if public else "private, no-store",
        "ETag": f"\"{doc.sha256}\"",
        "Repr-Digest": f"sha-256=:{_b64_hex(doc.sha256)}:",
    }
    return StreamingResponse(body(), media_type=doc.content_type, headers=headers)


def _b64_hex(hexdigest: str) -> str:
    return base64.b64encode(bytes.fromhex(hexdigest)).decode()


@router.post("/documents/{document_id}/signatures", status_code=201, openapi_extra=SIGNATURE_FORM)
async def add_signatures(document_id: str, request: Request, db: DatabaseDep, settings: SettingsDep,
                         who: Caller = admits(*WRITERS)) -> dict[str, Any]:
    doc = await _readable(request, db, who, document_id, "document.sign")
    limits = docs.Limits.from_settings(settings)
    form = None
    try:
        form = await request.form(max_files=settings.max_signature_files + 1, max_fields=5)
        files = await _signature_files(form, settings)

        def save() -> list[docs.Signature]:
            with db.connection() as conn:
                return docs.add_signatures(conn, doc, files, who=who, limits=limits,
                                           verifier=_verifier(request, conn), actor=who.actor,
                                           client=client_address(request), now=clock.now())

        added = await run_in_threadpool(save)
    except Problem as problem:
        await run_in_threadpool(_journal, db, request, who, "document.sign", "rejected", doc.id, _refused(problem))
        raise
    finally:
        if form is not None:
            await form.close()
    show = docs.sees_owner(who, doc)
    return {"document": doc.id, "signatures": [docs.describe_signature(s, show, _lang(request)) for s in added]}

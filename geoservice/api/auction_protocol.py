"""An auction's protocol, open to everyone once the auction is over (issue 10):
``GET /api/auctions/{auction}/protocol`` gives the stored canonical JSON exactly as hashed and
signed, its SHA-256 and the operator's detached CMS (base64), so that anyone can check them;
``?format=html&lang=kk|ru`` gives the printable document, ``?format=pdf&lang=kk|ru`` the same as
PDF. ``auction`` is the id or the number.

``operator_signer(settings)`` is the operator's key as the settings name it (or the demo's under
var/), loaded once per process: what the closing ticker passes to ``make_protocol``."""

from __future__ import annotations

import hashlib
import threading
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from cadastre import auction_protocol
from geoservice.deps import PUBLIC, DatabaseDep
from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import negotiate
from geoservice.kernel.settings import Settings

router = APIRouter(prefix="/api", tags=["auctions"])
# The stored page is ours but shown as a document: nothing in it may run or load.
DOCUMENT_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
_SIGNERS: dict[tuple[str | None, str | None, str], auction_protocol.OperatorKey] = {}
_SIGNERS_LOCK = threading.Lock()


def operator_signer(settings: Settings) -> auction_protocol.OperatorKey:
    """The operator's signing key of ``settings`` (``operator_key_file``, ``operator_key_password``;
    unset: the demo operator under ``var_dir/operator``), read once per process."""
    key = (settings.operator_key_file, settings.operator_key_password, str(settings.var_dir))
    with _SIGNERS_LOCK:
        if key not in _SIGNERS:
            _SIGNERS[key] = auction_protocol.operator_key(*key[:2], settings.var_dir)
        return _SIGNERS[key]


@router.get("/auctions/{auction}/protocol", dependencies=[PUBLIC])
def get_protocol(request: Request, auction: str, db: DatabaseDep,
                 format: Annotated[str, Query(description="json (default), html or pdf")] = "json",
                 lang: Annotated[str | None, Query(description="the document's language: kk or ru")] = None,
                 ) -> Response:
    """The protocol of a closed (cancelled, failed) auction: JSON ``{auction, number, canonical,
    sha256, signature, signer, last_seq, created_at}``, or the HTML or PDF document in kk or ru (by
    default the Accept-Language's, Russian for English). 404 until it is made. A protocol made
    before PDFs were stored gets its PDF rendered from the stored JSON."""
    if format not in ("json", "html", "pdf"):
        raise Problem("protocol.bad_format", 400, value=format[:20])
    if lang is not None and lang not in auction_protocol.LANGUAGES:
        raise Problem("protocol.bad_lang", 400, value=lang[:20])
    with db.connection() as conn:
        auction_id = auction_protocol.resolve(conn, auction[:40])
        saved = auction_protocol.stored(conn, auction_id)
        number = conn.execute("SELECT number FROM auctions WHERE id = %s", (auction_id,)).fetchone()
    if saved is None:
        raise Problem("protocol.not_yet", 404, auction=number[0] if number else auction[:40])
    headers = {"ETag": f'"{saved.sha256.hex()}"', "Cache-Control": "public, max-age=300"}
    if format in ("html", "pdf"):
        chosen = lang or negotiate(request.headers.get("accept-language"))
        chosen = chosen if chosen in auction_protocol.LANGUAGES else "ru"
    if format == "pdf":
        document = auction_protocol.pdf_of(saved, chosen)
        name = f"{number[0] if number and number[0] else saved.auction_id}-protocol-{chosen}.pdf"
        return Response(document, media_type="application/pdf", headers={
            **headers, "ETag": f'"{hashlib.sha256(document).hexdigest()}"', "Content-Language": chosen,
            "Content-Disposition": f'inline; filename="{name}"', "Content-Security-Policy": DOCUMENT_POLICY})
    if format == "html":
        return HTMLResponse(saved.html[chosen], headers={**headers, "Content-Language": chosen,
                                                         "Content-Security-Policy": DOCUMENT_POLICY})
    return JSONResponse({**saved.public(), "number": number[0] if number else None}, headers=headers)

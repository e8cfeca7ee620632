"""An auction's protocol, open to everyone once the auction is over (issue 10):
``GET /api/auctions/{auction}/protocol`` gives the stored canonical JSON exactly as hashed and
signed, its SHA-256 and the operator's detached CMS (base64), so that anyone can check them;
``?format=html&lang=kk|ru`` gives the printable document. ``auction`` is the id or the number."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from cadastre import auction_protocol
from geoservice.deps import PUBLIC, DatabaseDep
from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import negotiate

router = APIRouter(prefix="/api", tags=["auctions"])
# The stored page is ours but shown as a document: nothing in it may run or load.
DOCUMENT_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


@router.get("/auctions/{auction}/protocol", dependencies=[PUBLIC])
def get_protocol(request: Request, auction: str, db: DatabaseDep,
                 format: Annotated[str, Query(description="json (default) or html")] = "json",
                 lang: Annotated[str | None, Query(description="the document's language: kk or ru")] = None,
                 ) -> Response:
    """The protocol of a closed (cancelled, failed) auction: JSON ``{auction, number, canonical,
    sha256, signature, signer, last_seq, created_at}``, or the HTML document in kk or ru (by
    default the Accept-Language's, Russian for English). 404 until it is made."""
    if format not in ("json", "html"):
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
    if format == "html":
        chosen = lang or negotiate(request.headers.get("accept-language"))
        chosen = chosen if chosen in auction_protocol.LANGUAGES else "ru"
        return HTMLResponse(saved.html[chosen], headers={**headers, "Content-Language": chosen,
                                                         "Content-Security-Policy": DOCUMENT_POLICY})
    return JSONResponse({**saved.public(), "number": number[0] if number else None}, headers=headers)

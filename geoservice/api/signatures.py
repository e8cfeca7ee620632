"""``POST /api/signatures/verify``: verify a CMS (attached or detached) or an enveloped XMLDSig
against the trusted NCA certificates and CRLs in the database; public.

Malformed input is a 400 problem; a readable signature that fails a check is a 200 with
``valid: false`` and, per signer, every check and its problems in the request's language."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from cadastre.eds.verify import verify_cms, verify_xml
from geoservice.deps import PUBLIC, DatabaseDep
from geoservice.kernel import clock
from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import negotiate
from geoservice.trust import trust_cache

router = APIRouter(prefix="/api")


class VerifyRequest(BaseModel):
    cms: str | None = None  # base64 DER
    data: str | None = None  # base64, the detached content
    xml: str | None = None
    at: str | None = None  # RFC 3339: check as of this time


def _b64(value: str, field: str) -> bytes:
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise Problem("eds.malformed", 400, reason=f"'{field}' is not base64") from None


def _at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise Problem("eds.at_invalid", 400) from None
    if parsed.tzinfo is None or "T" not in value.upper():
        raise Problem("eds.at_invalid", 400)
    return parsed


@router.post("/signatures/verify", dependencies=[PUBLIC])
def verify_signature(body: VerifyRequest, request: Request, db: DatabaseDep) -> dict[str, Any]:
    """Verify a signature: ``{"cms": base64, "data": base64 (detached content), "xml": string,
    "at": RFC 3339}`` (one of ``cms`` and ``xml``). Answers ``valid`` and, per signer, identity
    (IIN, BIN, organisation, name, roles), algorithm, certificate, the checks and the problems."""
    if (body.cms is None) == (body.xml is None) or (body.xml is not None and body.data is not None):
        raise Problem("eds.input_required", 400)
    at = _at(body.at)
    # The connection only for the trust's version (and a reload): none is held while verifying.
    with db.connection() as conn:
        trust, revocation = trust_cache(request).get(conn)
    now = clock.now()
    if body.cms is not None:
        data = _b64(body.data, "data") if body.data is not None else None
        result = verify_cms(_b64(body.cms, "cms"), data, trust=trust, revocation=revocation, at=at, now=now)
    else:
        assert body.xml is not None
        result = verify_xml(body.xml, trust=trust, revocation=revocation, at=at, now=now)
    return result.as_dict(negotiate(request.headers.get("accept-language")))

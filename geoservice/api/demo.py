"""Development signing (GEOSERVICE_DEMO=1 only): there is no NCALayer in the demo, so the
cabinet asks the server to sign with the signed-in demo person's own SIGNATURE key of the demo
PKI (var/demo-pki, cadastre/eds/pki.py). Production never sets the flag, so the route refuses
there exactly as the development sign-in link does."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Body
from fastapi.concurrency import run_in_threadpool

from cadastre.eds.pki import demo_pki, sign_cms
from geoservice.api.base64_field import decode_base64
from geoservice.deps import SettingsDep, admits
from geoservice.kernel.errors import Problem
from layers.access import Person

router = APIRouter(prefix="/api", tags=["demo"])
# The data a page signs here is an application's or a decision's canonical JSON: small.
MAX_DATA = 1 << 20


def _data(body: Any) -> bytes:
    value = body.get("data") if isinstance(body, dict) and set(body) == {"data"} else None
    return decode_base64(value, "signin.demo_sign_bad_data", max_bytes=MAX_DATA)


def _sign(directory: Path, iin: str, data: bytes) -> bytes:
    pki = demo_pki(directory)
    try:
        holder = pki.by_iin(iin)
        issued = holder.sign("rsa")
    except KeyError:
        # Not a demo person, or one without a signing key (revoked, expired, untrusted ones).
        raise Problem("signin.demo_no_signing_key", 404, iin=iin) from None
    return sign_cms(data, issued, detached=True)


@router.post("/demo/sign", summary="Development only (GEOSERVICE_DEMO=1): a detached CMS over the data, made "
                                    "with the signed-in demo person's SIGNATURE key, as NCALayer would")
async def demo_sign(settings: SettingsDep, body: Any = Body(...), who: Person = admits("applicant")) -> dict[str, str]:
    if not settings.demo:
        raise Problem("signin.demo_off", 403)
    data = _data(body)
    cms = await run_in_threadpool(_sign, settings.var_dir / "demo-pki", who.iin, data)
    return {"cms": base64.b64encode(cms).decode()}

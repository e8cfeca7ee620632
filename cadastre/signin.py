"""The verification step of an EDS sign-in: the attached CMS a browser made with NCALayer (or a
test with its key) over the challenge nonce, checked against the trusted NCA roots and their
revocation lists as of now, with the AUTHENTICATION key purpose. Each failed check is a 401
problem saying which, in kk/ru/en; what passes is the signer's ``Identity`` and the signed
content (the nonce, which the caller then uses up)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg

from cadastre.accounts import RIGHT_TO_SIGN, Identity
from geoservice.kernel.errors import Problem

# The checks in the order a refusal names them: the math first (nothing else means anything
# without it), then whose certificate it is, whether it is valid now, revoked, and for login.
CHECKS = (("signature", "signin.bad_signature"), ("chain", "signin.unknown_ca"), ("validity", "signin.expired"),
          ("revocation", "signin.revoked"), ("key_usage", "signin.wrong_key_usage"))


def verify_login(conn: psycopg.Connection, cms: bytes, *, now: datetime | None = None) -> tuple[Identity, bytes]:
    """The signer and the signed content of a sign-in CMS, or a 401 problem."""
    from cadastre.eds.store import load_trust
    from cadastre.eds.verify import verify_cms

    now = now or datetime.now(UTC)
    trust, revocation = load_trust(conn)
    result = verify_cms(cms, None, trust=trust, revocation=revocation, now=now, purpose="authentication")
    if len(result.signers) != 1:
        raise Problem("signin.one_signer", 401, count=len(result.signers))
    signer = result.signers[0]
    for check, code in CHECKS:
        outcome = _result(signer.checks.get(check))
        if check == "revocation" and outcome == "unknown":
            raise Problem("signin.revocation_unknown", 401)
        if outcome != "ok":
            raise Problem(code, 401)
    if not signer.iin or result.content is None:
        raise Problem("signin.not_the_nonce", 401)
    rights = frozenset(RIGHT_TO_SIGN if role in ("right_to_sign", "right-to-sign") else role
                       for role in signer.roles)
    return Identity(signer.iin, signer.bin, signer.name, signer.organisation, rights,
                    _certificate(signer)), bytes(result.content)


def _result(check: Any) -> str:
    if check is None:
        return "failed"
    value = check.get("result") if isinstance(check, dict) else getattr(check, "result", check)
    return "ok" if value in (True, "ok", "valid", "good", "passed") else str(value)


def _certificate(signer: Any) -> dict[str, Any] | None:
    cert = getattr(signer, "certificate", None)
    if isinstance(cert, dict):
        return {k: v for k, v in cert.items() if isinstance(v, str | int | float | bool | None)}
    return None

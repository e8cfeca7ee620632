"""The verification step of an EDS sign-in: the attached CMS a browser made with NCALayer (or a
test with its key) over the challenge nonce, checked against the trusted NCA roots and their
revocation lists as of now, with the AUTHENTICATION key purpose. Each failed check is a 401
problem saying which, in kk/ru/en; what passes is the signer's ``Identity`` and the signed
content (the nonce, which the caller then uses up)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cadastre.accounts import Identity
from cadastre.eds.revocation import RevocationSource
from cadastre.eds.trust import TrustStore
from cadastre.eds.verify import verify_cms
from geoservice.kernel.errors import Problem

# The checks in the order a refusal names them: the math first (nothing else means anything
# without it), then whose certificate it is, whether it is valid now, revoked, and for login.
CHECKS = (("signature", "signin.bad_signature"), ("chain", "signin.unknown_ca"), ("validity", "signin.expired"),
          ("revocation", "signin.revoked"), ("key_usage", "signin.wrong_key_usage"))


def verify_login(cms: bytes, *, trust: TrustStore, revocation: RevocationSource,
                 now: datetime) -> tuple[Identity, bytes]:
    """The signer and the signed content of a sign-in CMS (attached, one signer, the
    authentication purpose, every check passed as of ``now``), or a 401 problem naming the
    first check that failed. Unreadable input is ``eds.malformed`` (400)."""
    result = verify_cms(cms, None, trust=trust, revocation=revocation, now=now, purpose="authentication")
    if result.content is None:
        raise Problem("signin.bad_cms", 400)
    if len(result.signers) != 1:
        raise Problem("signin.one_signer", 401, count=len(result.signers))
    signer = result.signers[0]
    for check, code in CHECKS:
        outcome = signer.checks[check]["result"]
        if check == "revocation" and outcome == "unknown":
            # Never taken as "not revoked" (and a login is not let in on a guess).
            raise Problem("signin.revocation_unknown", 401)
        if outcome != "ok":
            raise Problem(code, 401)
    if not signer.iin:
        raise Problem("signin.no_iin", 401)
    certificate: dict[str, Any] | None = dict(signer.certificate) if signer.certificate else None
    return (Identity(signer.iin, signer.bin, signer.name, signer.organisation, frozenset(signer.roles), certificate),
            bytes(result.content))

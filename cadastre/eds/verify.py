"""Verify CMS and XMLDSig signatures and report every check separately, per signer.

Checks (each ``{"result": "ok"|"failed"|"unknown", "problem": code|None, …}``):
* ``signature``: the mathematics, and that the signed content is the content;
* ``chain``: the certificate chains to a trusted CA, every link's signature checked;
* ``validity``: the certificate's period at the signing time (the signingTime signed attribute,
  when there is one) and at the check time (``at``, else ``now``), reported apart;
* ``revocation``: not revoked at the check time (CRL or OCSP); "unknown" when nothing decides,
  never taken as "not revoked";
* ``key_usage``: digitalSignature or nonRepudiation; with ``purpose`` the EKU for it
  (authentication: clientAuth, signature: emailProtection).
A signature is valid when every check of every signer is "ok". Input that cannot be read raises
``Problem("eds.malformed", 400)``; a readable signature that fails a check is a report, not an
exception."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from geoservice.kernel.errors import Problem

from . import algorithms, oids, xmldsig
from . import cms as cms_format
from .certificates import Certificate, Malformed
from .revocation import RevocationSource
from .trust import TrustStore

Purpose = Literal["authentication", "signature"]
CHECKS = ("signature", "chain", "validity", "revocation", "key_usage")


@dataclass
class SignerReport:
    iin: str | None
    bin: str | None
    organisation: str | None
    name: str | None
    algorithm: str
    roles: list[str]
    certificate: dict[str, Any] | None
    signed_at: datetime | None
    checks: dict[str, dict[str, Any]]
    problems: list[dict[str, Any]] = field(default_factory=list)  # {"code", "params"}
    cert: Certificate | None = field(default=None, repr=False)

    @property
    def valid(self) -> bool:
        return all(self.checks[name]["result"] == "ok" for name in CHECKS)

    def as_dict(self, lang: str | None = None) -> dict[str, Any]:
        """The API's shape; with ``lang`` every problem carries its message in that language."""
        problems = []
        for p in self.problems:
            item: dict[str, Any] = {"code": p["code"]}
            if lang is not None:
                from geoservice.kernel.i18n import translate

                item["message"] = translate(p["code"], lang, **p["params"])
            problems.append(item)
        return {"iin": self.iin, "bin": self.bin, "organisation": self.organisation, "name": self.name,
                "algorithm": self.algorithm, "roles": self.roles, "certificate": self.certificate,
                "signed_at": self.signed_at.isoformat() if self.signed_at else None,
                "checks": self.checks, "problems": problems}


@dataclass
class Verification:
    valid: bool
    signers: list[SignerReport]
    content: bytes | None

    def as_dict(self, lang: str | None = None) -> dict[str, Any]:
        return {"valid": self.valid, "signers": [s.as_dict(lang) for s in self.signers]}


def _check(result: str = "ok", problem: str | None = None, **details: Any) -> dict[str, Any]:
    return {"result": result, "problem": problem, **details}


def _when(moment: datetime | None) -> str:
    return moment.isoformat() if moment else "-"


def algorithm_name(signature_oid: str, digest_oid: str | None) -> str:
    try:
        kind, implied = algorithms.family(signature_oid)
    except algorithms.UnsupportedAlgorithm:
        return signature_oid
    if kind == oids.RSA_FAMILY:
        digest_name = oids.DIGEST_NAMES.get(implied or digest_oid or "", "?").replace("-", "")
        return f"RSA-{digest_name}"
    return oids.ALGORITHM_NAMES[kind]


class _Signer:
    """What one signer's checks need, whatever the format."""

    def __init__(self, cert: Certificate | None, extra: list[Certificate], signature_oid: str,
                 digest_oid: str | None, signed_at: datetime | None, signature: bytes) -> None:
        self.cert, self.extra, self.signature = cert, extra, signature
        self.signature_oid, self.digest_oid, self.signed_at = signature_oid, digest_oid, signed_at
        self.problems: list[dict[str, Any]] = []

    def problem(self, code: str, **params: Any) -> str:
        self.problems.append({"code": code, "params": params})
        return code


def _report(s: _Signer, signature: dict[str, Any], *, trust: TrustStore, revocation: RevocationSource,
            checked_at: datetime, purpose: Purpose | None) -> SignerReport:
    cert = s.cert
    checks: dict[str, dict[str, Any]] = {"signature": signature}
    if cert is None:
        for name in CHECKS[1:]:
            checks[name] = _check("unknown", "eds.signer_not_found")
        return SignerReport(None, None, None, None, algorithm_name(s.signature_oid, s.digest_oid), [], None,
                            s.signed_at, checks, s.problems)

    # chain
    chain = trust.chain(cert, s.extra)
    if chain.ok:
        checks["chain"] = _check(anchor=chain.path[-1].subject_text)
    else:
        code = chain.problem or "eds.unknown_ca"
        checks["chain"] = _check("failed", s.problem(code, name=chain.detail or cert.issuer_text))

    # validity at the signing time and at the check time
    def period(moment: datetime) -> str:
        return "not_yet_valid" if moment < cert.not_before else "expired" if moment > cert.not_after else "ok"

    at_signing = period(s.signed_at) if s.signed_at else None
    at_check = period(checked_at)
    problem = None
    for state, moment, expired_code in ((at_signing, s.signed_at, "eds.expired_at_signing"),
                                        (at_check, checked_at, "eds.expired_now")):
        # Both moments are reported: a problem each, the check naming the first.
        if state == "expired":
            found = s.problem(expired_code, time=_when(moment), not_after=_when(cert.not_after))
        elif state == "not_yet_valid":
            found = s.problem("eds.not_yet_valid", time=_when(moment), not_before=_when(cert.not_before))
        else:
            continue
        problem = problem or found
    checks["validity"] = _check("failed" if problem else "ok", problem, at_signing=at_signing,
                                signing_time=_when(s.signed_at), at_check=at_check, check_time=_when(checked_at),
                                not_before=_when(cert.not_before), not_after=_when(cert.not_after))

    # revocation, as of the check time, asked of the issuer found by the chain
    issuer = chain.issuer
    if issuer is None and chain.ok:
        issuer = cert  # a trusted certificate signing directly: nobody above it to ask
    if issuer is None or issuer is cert:
        checks["revocation"] = _check("unknown", s.problem("eds.revocation_unknown", detail="no trusted issuer"))
    else:
        answer = revocation.status(cert, issuer, checked_at)
        extra = {"source": answer.source, "revoked_at": _when(answer.revoked_at) if answer.revoked_at else None,
                 "reason": answer.reason, "detail": answer.detail}
        if answer.state == "good":
            checks["revocation"] = _check(**extra)
        elif answer.state == "revoked":
            checks["revocation"] = _check("failed", s.problem("eds.revoked", time=_when(answer.revoked_at),
                                                              reason=answer.reason or "-"), **extra)
        else:
            checks["revocation"] = _check("unknown", s.problem("eds.revocation_unknown",
                                                               detail=answer.detail or "-"), **extra)

    # key usage and the purpose's EKU
    usage_ok = not cert.has_key_usage or bool({"digital_signature", "non_repudiation"} & set(cert.key_usage))
    required = oids.PURPOSES.get(purpose) if purpose else None
    if not usage_ok:
        checks["key_usage"] = _check("failed", s.problem("eds.key_usage", usage=", ".join(cert.key_usage) or "-"))
    elif required and required not in cert.extended_key_usage:
        checks["key_usage"] = _check("failed", s.problem("eds.wrong_purpose", purpose=purpose,
                                                         eku=oids.EKU_NAMES[required]))
    else:
        checks["key_usage"] = _check()

    return SignerReport(cert.iin, cert.bin, cert.organisation, cert.name,
                        algorithm_name(s.signature_oid, s.digest_oid), cert.roles, cert.as_dict(), s.signed_at,
                        checks, s.problems, cert)


def _math(s: _Signer, data: bytes) -> dict[str, Any]:
    assert s.cert is not None
    try:
        ok = algorithms.verify_signature(s.signature_oid, s.cert.spki_der, s.signature, data, s.digest_oid)
    except algorithms.UnsupportedAlgorithm as exc:
        return _check("failed", s.problem("eds.unsupported_algorithm", algorithm=str(exc)))
    except ValueError:
        ok = False
    return _check() if ok else _check("failed", s.problem("eds.signature_invalid"))


def verify_cms(cms: bytes, data: bytes | None = None, *, trust: TrustStore, revocation: RevocationSource,
               at: datetime | None = None, now: datetime, purpose: Purpose | None = None) -> Verification:
    """Verify a CMS SignedData, attached (its content is returned) or detached (``data``
    required). ``at``: check as of this time (default ``now``)."""
    try:
        signed = cms_format.parse(cms)
    except Malformed as exc:
        raise Problem("eds.malformed", 400, reason=str(exc)) from None
    if signed.content is None and data is None:
        raise Problem("eds.malformed", 400, reason="detached signature: the signed data is required")
    content = signed.content if signed.content is not None else data
    assert content is not None
    checked_at = at or now
    reports = []
    for si in signed.signers:
        s = _Signer(si.certificate, signed.certificates, si.signature_algorithm, si.digest_algorithm, si.signing_time,
                    si.signature)
        if si.certificate is None:
            signature = _check("failed", s.problem("eds.signer_not_found"))
        elif signed.content is not None and data is not None and data != signed.content:
            signature = _check("failed", s.problem("eds.content_mismatch"))
        elif si.signed_attrs is not None:
            try:
                matches = si.message_digest == algorithms.digest(si.digest_algorithm, content)
            except algorithms.UnsupportedAlgorithm as exc:
                signature = _check("failed", s.problem("eds.unsupported_algorithm", algorithm=str(exc)))
            else:
                if not matches:
                    signature = _check("failed", s.problem("eds.content_mismatch"))
                elif si.content_type not in (None, signed.content_type):
                    signature = _check("failed", s.problem("eds.signature_invalid"))
                else:
                    signature = _math(s, si.signed_attrs)
        else:
            signature = _math(s, content)
        reports.append(_report(s, signature, trust=trust, revocation=revocation, checked_at=checked_at,
                               purpose=purpose))
    return Verification(all(r.valid for r in reports), reports, signed.content)


def verify_xml(xml: str | bytes, *, trust: TrustStore, revocation: RevocationSource, at: datetime | None = None,
               now: datetime, purpose: Purpose | None = None) -> Verification:
    """Verify every enveloped ds:Signature of an XML document. XMLDSig carries no signing time:
    validity is checked at the check time only (``at``, default ``now``)."""
    try:
        _, signers = xmldsig.parse(xml)
    except Malformed as exc:
        raise Problem("eds.malformed", 400, reason=str(exc)) from None
    checked_at = at or now
    reports = []
    for xs in signers:
        s = _Signer(xs.certificate, xs.certificates, xs.signature_algorithm, xs.digest_algorithm, None, xs.signature)
        if xs.certificate is None:
            signature = _check("failed", s.problem("eds.signer_not_found"))
        elif not xs.references_ok:
            signature = _check("failed", s.problem(xs.reference_problem or "eds.content_mismatch"))
        else:
            signature = _math(s, xs.signed_info)
        reports.append(_report(s, signature, trust=trust, revocation=revocation, checked_at=checked_at,
                               purpose=purpose))
    return Verification(all(r.valid for r in reports), reports, None)

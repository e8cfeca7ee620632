"""Trusted certification authorities in memory: chains from a signer's certificate to a trusted
CA, by issuer name and key identifiers, every link's signature checked.

Every certificate added to a store is a trust anchor: the NCA test material has the issuing CAs
but not the roots above them, and an operator who adds an intermediate means to trust it. Links
above the first trusted certificate are not needed to decide."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from . import algorithms
from .certificates import Certificate

MAX_DEPTH = 8


@dataclass
class ChainResult:
    ok: bool
    problem: str | None = None  # eds.unknown_ca, eds.chain_bad_signature, eds.issuer_not_ca
    path: list[Certificate] = field(default_factory=list)  # the certificate, its issuer, … up to the anchor
    detail: str | None = None

    @property
    def issuer(self) -> Certificate | None:
        return self.path[1] if len(self.path) > 1 else None


class TrustStore:
    """Trusted CA certificates (DER or PEM) and the CRLs that came with them (DER)."""

    def __init__(self, certificates: Iterable[bytes | Certificate] = (), crls: Iterable[bytes] = ()) -> None:
        self.certificates = [c if isinstance(c, Certificate) else Certificate(c) for c in certificates]
        self.crls = list(crls)
        self._by_fingerprint = {c.fingerprint: c for c in self.certificates}
        self._by_subject: dict[object, list[Certificate]] = {}
        for cert in self.certificates:
            self._by_subject.setdefault(cert.subject.hashable, []).append(cert)
        # (issuer fingerprint, certificate fingerprint) pairs whose signature checked out: the
        # mathematics does not change, and GOST in pure Python costs a quarter of a second.
        self._verified: set[tuple[str, str]] = set()

    def __len__(self) -> int:
        return len(self.certificates)

    def is_trusted(self, cert: Certificate) -> bool:
        return cert.fingerprint in self._by_fingerprint

    def issuers_of(self, cert: Certificate, extra: Iterable[Certificate] = ()) -> list[Certificate]:
        """Candidate issuers by name (and authority key identifier when both sides have one),
        trusted ones first, then ``extra`` (e.g. the certificates a CMS carries)."""
        found = []
        for candidate in [*self._by_subject.get(cert.issuer.hashable, []), *extra]:
            if candidate.subject.hashable != cert.issuer.hashable or candidate in found or candidate == cert:
                continue
            if cert.authority_key_id and candidate.subject_key_id and cert.authority_key_id != candidate.subject_key_id:
                continue
            found.append(candidate)
        return found

    def signed_by(self, cert: Certificate, issuer: Certificate) -> bool:
        key = (issuer.fingerprint, cert.fingerprint)
        if key in self._verified:
            return True
        try:
            ok = algorithms.verify_signature(cert.signature_algorithm, issuer.spki_der, cert.signature,
                                             cert.tbs_der, None)
        except (algorithms.UnsupportedAlgorithm, ValueError):
            return False
        if ok:
            if len(self._verified) > 100_000:
                self._verified.clear()
            self._verified.add(key)
        return ok

    def chain(self, cert: Certificate, extra: Iterable[Certificate] = ()) -> ChainResult:
        """The chain from ``cert`` to a trusted certificate; ``extra`` may supply intermediates
        (untrusted: they only count when they chain to a trusted one)."""
        extra = list(extra)
        path = [cert]
        current = cert
        for _ in range(MAX_DEPTH):
            if self.is_trusted(current):
                return ChainResult(True, path=path)
            candidates = self.issuers_of(current, extra)
            if not candidates:
                return ChainResult(False, "eds.unknown_ca", path, detail=current.issuer_text)
            issuer = next((c for c in candidates if self.signed_by(current, c)), None)
            if issuer is None:
                return ChainResult(False, "eds.chain_bad_signature", path, detail=current.subject_text)
            if not issuer.is_ca or (issuer.has_key_usage and "key_cert_sign" not in issuer.key_usage):
                return ChainResult(False, "eds.issuer_not_ca", [*path, issuer], detail=issuer.subject_text)
            path.append(issuer)
            current = issuer
        return ChainResult(False, "eds.unknown_ca", path, detail="chain too long")


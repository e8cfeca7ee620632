"""Is a certificate revoked at a given time? Sources are adapters answering one question:
``status(cert, issuer, at) -> RevocationStatus``. ``FileRevocation`` decides from CRLs and OCSP
responses given as bytes (tests, offline operation, CRLs stored in the database);
``HttpRevocation`` fetches CRLs (cached until their nextUpdate) and asks OCSP responders;
``ChainRevocation`` asks several in turn. When nothing decides, the state is ``unknown``, which
is never "not revoked".

What a CRL or OCSP answer proves about the time ``at``:
* listed / revoked with a revocation time at or before ``at``: revoked;
* revoked after ``at``: it was good at ``at``;
* not listed in a CRL whose thisUpdate…nextUpdate covers ``at``: good;
* not listed in a CRL issued after ``at`` (thisUpdate > at) while the certificate was still
  valid, so would have been listed had it been revoked: good;
* an OCSP "good" issued at or after ``at`` (or before it, while still fresh: until nextUpdate,
  or ``ocsp_max_age`` after thisUpdate when it has none): good;
* anything else (a stale CRL, another issuer's, a bad signature): no answer.
An OCSP "revoked" with revocationTime 1970-01-01 and reason certificateHold is RFC 6960's marker
of a certificate the responder never issued: it counts as revoked."""

from __future__ import annotations

import hashlib
import os
import threading
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from asn1crypto import core, crl, ocsp, parser

from . import algorithms, oids
from .certificates import Certificate, Malformed, der_of, name_text

State = Literal["good", "revoked", "unknown"]
_NOT_ISSUED = datetime(1970, 1, 1, tzinfo=UTC)
_RANK = {"revoked": 2, "good": 1, "unknown": 0}


@dataclass(frozen=True)
class RevocationStatus:
    state: State
    source: Literal["crl", "ocsp"] | None = None
    revoked_at: datetime | None = None
    reason: str | None = None
    detail: str | None = None  # what was consulted, or why nothing decided

    def as_dict(self) -> dict[str, object]:
        return {"state": self.state, "source": self.source,
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
                "reason": self.reason, "detail": self.detail}


UNKNOWN = RevocationStatus("unknown", detail="no CRL or OCSP response for this certificate")


class RevocationSource(Protocol):
    def status(self, cert: Certificate, issuer: Certificate, at: datetime) -> RevocationStatus: ...


def _best(found: Iterable[RevocationStatus]) -> RevocationStatus | None:
    found = list(found)
    return max(found, key=lambda s: _RANK[s.state]) if found else None


# --- CRLs -------------------------------------------------------------------------------------------

class Crl:
    """One certificate revocation list (DER or PEM)."""

    def __init__(self, data: bytes) -> None:
        self.der = der_of(data, "X509 CRL")
        try:
            parsed = crl.CertificateList.load(self.der, strict=True)
            tbs = parsed["tbs_cert_list"]
            self.issuer = tbs["issuer"]
            self.issuer.hashable  # noqa: B018
            self.this_update: datetime = tbs["this_update"].native
            self.next_update: datetime | None = tbs["next_update"].native
            self.tbs_der = tbs.dump()
            self.signature_algorithm = parsed["signature_algorithm"]["algorithm"].dotted
            self.signature: bytes = parsed["signature"].native
            self.authority_key_id: bytes | None = None
            for ext in tbs["crl_extensions"] or []:
                if ext["extn_id"].dotted == "2.5.29.35":
                    self.authority_key_id = ext["extn_value"].parsed["key_identifier"].native
            self.entries: dict[int, tuple[datetime, str | None]] = {}
            for entry in tbs["revoked_certificates"] or []:
                reason = None
                for ext in entry["crl_entry_extensions"] or []:
                    if ext["extn_id"].dotted == "2.5.29.21":
                        reason = ext["extn_value"].parsed.native
                self.entries[entry["user_certificate"].native] = (entry["revocation_date"].native, reason)
        except Malformed:
            raise
        except Exception as exc:  # noqa: BLE001 - asn1crypto raises many kinds on broken input
            raise Malformed(f"not an X.509 CRL: {exc}") from None
        self.fingerprint = hashlib.sha256(self.der).hexdigest()

    @property
    def issuer_text(self) -> str:
        return name_text(self.issuer)

    def issued_by(self, issuer: Certificate) -> bool:
        """Same issuer name and key identifier, and the signature checks out."""
        if self.issuer.hashable != issuer.subject.hashable:
            return False
        if self.authority_key_id and issuer.subject_key_id and self.authority_key_id != issuer.subject_key_id:
            return False
        try:
            return algorithms.verify_signature(self.signature_algorithm, issuer.spki_der, self.signature,
                                               self.tbs_der, None)
        except (algorithms.UnsupportedAlgorithm, ValueError):
            return False

    def decide(self, cert: Certificate, at: datetime) -> RevocationStatus | None:
        entry = self.entries.get(cert.serial)
        where = f"CRL of {self.this_update:%Y-%m-%d %H:%M}Z"
        if entry is not None:
            revoked_at, reason = entry
            if revoked_at <= at:
                return RevocationStatus("revoked", "crl", revoked_at, reason, where)
            return RevocationStatus("good", "crl", detail=f"{where}: revoked only after the time checked")
        if self.this_update <= at and (self.next_update is None or at <= self.next_update):
            return RevocationStatus("good", "crl", detail=where)
        if at < self.this_update <= cert.not_after:
            return RevocationStatus("good", "crl", detail=f"{where}, issued after the time checked")
        return None


# --- OCSP -------------------------------------------------------------------------------------------

_CERT_ID_HASHES = {"sha1": oids.SHA1, "sha256": oids.SHA256}


def _key_bits(cert: Certificate) -> bytes:
    return algorithms.spki_parts(cert.spki_der)[2]


def cert_id(cert: Certificate, issuer: Certificate, hash_name: str = "sha256") -> ocsp.CertId:
    h = getattr(hashlib, hash_name)
    return ocsp.CertId({
        "hash_algorithm": {"algorithm": hash_name},
        "issuer_name_hash": h(issuer.subject.dump()).digest(),
        "issuer_key_hash": h(_key_bits(issuer)).digest(),
        "serial_number": cert.serial,
    })


class OcspResponse:
    """One OCSP response (DER): its single responses, checked against an issuer on use."""

    def __init__(self, data: bytes) -> None:
        try:
            parsed = ocsp.OCSPResponse.load(data, strict=True)
            self.status = parsed["response_status"].native
            self.basic = None
            if self.status == "successful":
                self.basic = parsed["response_bytes"]["response"].parsed
                tbs = self.basic["tbs_response_data"]
                self.tbs_der = tbs.dump()
                self.responder_id = tbs["responder_id"]
                self.produced_at: datetime = tbs["produced_at"].native
                self.responses = list(tbs["responses"])
                self.nonce: bytes | None = None
                for ext in tbs["response_extensions"] or []:
                    if ext["extn_id"].dotted == "1.3.6.1.5.5.7.48.1.2":
                        self.nonce = ext["extn_value"].contents
                self.signature_algorithm = self.basic["signature_algorithm"]["algorithm"].dotted
                self.signature: bytes = self.basic["signature"].native
                self.certs = _responder_certs(parsed["response_bytes"]["response"].contents)
                for single in self.responses:
                    single["cert_status"].native  # noqa: B018
        except Malformed:
            raise
        except Exception as exc:  # noqa: BLE001
            raise Malformed(f"not an OCSP response: {exc}") from None
        self._checked: dict[str, bool] = {}

    def _names_responder(self, cert: Certificate) -> bool:
        rid = self.responder_id
        if rid.name == "by_name":
            return rid.chosen.hashable == cert.subject.hashable
        return rid.chosen.native == hashlib.sha1(_key_bits(cert)).digest()

    def signed_for(self, issuer: Certificate) -> bool:
        """Signed by the issuer itself, or by a responder the issuer delegated (a certificate in
        the response, issued and signed by it, with the OCSP-signing EKU, valid when produced)."""
        if issuer.fingerprint in self._checked:
            return self._checked[issuer.fingerprint]
        signer = None
        if self._names_responder(issuer):
            signer = issuer
        else:
            for cert in self.certs:
                if (self._names_responder(cert) and cert.issuer.hashable == issuer.subject.hashable
                        and oids.EKU_OCSP_SIGNING in cert.extended_key_usage and cert.valid_at(self.produced_at)
                        and _verify(cert.signature_algorithm, issuer, cert.signature, cert.tbs_der)):
                    signer = cert
                    break
        ok = signer is not None and _verify(self.signature_algorithm, signer, self.signature, self.tbs_der)
        self._checked[issuer.fingerprint] = ok
        return ok

    def decide(self, cert: Certificate, issuer: Certificate, at: datetime,
               max_age: timedelta = timedelta(0)) -> RevocationStatus | None:
        if self.basic is None:
            return None
        ids = {}
        for single in self.responses:
            wanted = single["cert_id"]
            name = wanted["hash_algorithm"]["algorithm"].native
            if name not in _CERT_ID_HASHES:
                continue
            if name not in ids:
                ids[name] = cert_id(cert, issuer, name)
            mine = ids[name]
            if (wanted["serial_number"].native != mine["serial_number"].native
                    or wanted["issuer_name_hash"].native != mine["issuer_name_hash"].native
                    or wanted["issuer_key_hash"].native != mine["issuer_key_hash"].native):
                continue
            if not self.signed_for(issuer):
                return None
            this_update: datetime = single["this_update"].native
            next_update: datetime | None = single["next_update"].native
            where = f"OCSP response of {this_update:%Y-%m-%d %H:%M}Z"
            status = single["cert_status"]
            if status.name == "revoked":
                revoked_at = status.chosen["revocation_time"].native
                reason = status.chosen["revocation_reason"].native
                if revoked_at == _NOT_ISSUED and reason == "certificate_hold":
                    reason = "not_issued"  # RFC 6960 section 2.2: the responder never issued it
                if revoked_at <= at:
                    return RevocationStatus("revoked", "ocsp", revoked_at, reason, where)
                return RevocationStatus("good", "ocsp", detail=f"{where}: revoked only after the time checked")
            if status.name == "good":
                fresh_until = next_update or this_update + max_age
                if at <= fresh_until:
                    return RevocationStatus("good", "ocsp", detail=where)
            return None
        return None


def _responder_certs(basic_der: bytes) -> list[Certificate]:
    """The certificates of a BasicOCSPResponse, read as plain sequences: asn1crypto's typed
    parser raises on their GOST keys when asked for their bytes."""
    certs = []
    for class_, tag, inner in _children(parser.parse(basic_der)[4]):
        if class_ == 2 and tag == 0:  # [0] EXPLICIT SEQUENCE OF Certificate
            certs += [Certificate(der) for _, _, der in _children(parser.parse(inner)[4], whole=True)]
    return certs


def _children(body: bytes, whole: bool = False) -> list[tuple[int, int, bytes]]:
    """(class, tag, contents or whole encoding) of each DER element in ``body``."""
    out, offset = [], 0
    while offset < len(body):
        class_, _, tag, header, contents, trailer = parser.parse(body[offset:])
        size = len(header) + len(contents) + len(trailer)
        out.append((class_, tag, body[offset:offset + size] if whole else contents))
        offset += size
    return out


def _verify(signature_oid: str, signer: Certificate, signature: bytes, data: bytes) -> bool:
    try:
        return algorithms.verify_signature(signature_oid, signer.spki_der, signature, data, None)
    except (algorithms.UnsupportedAlgorithm, ValueError):
        return False


# --- sources ----------------------------------------------------------------------------------------

class FileRevocation:
    """CRLs and OCSP responses given as bytes (or files). A CRL or response counts only when its
    signature checks out against the certificate's issuer (or a responder the issuer delegated)."""

    def __init__(self, crls: Iterable[bytes | Crl] = (), ocsp_responses: Iterable[bytes | OcspResponse] = (),
                 *, ocsp_max_age: timedelta = timedelta(0)) -> None:
        self.crls = [c if isinstance(c, Crl) else Crl(c) for c in crls]
        self.responses = [r if isinstance(r, OcspResponse) else OcspResponse(r) for r in ocsp_responses]
        self.ocsp_max_age = ocsp_max_age
        self._issued: dict[tuple[str, str], bool] = {}

    @classmethod
    def from_files(cls, crl_files: Iterable[os.PathLike[str] | str] = (),
                   ocsp_files: Iterable[os.PathLike[str] | str] = ()) -> FileRevocation:
        def read(path: os.PathLike[str] | str) -> bytes:
            with open(path, "rb") as f:
                return f.read()

        return cls([read(p) for p in crl_files], [read(p) for p in ocsp_files])

    def _crl_issued_by(self, item: Crl, issuer: Certificate) -> bool:
        key = (item.fingerprint, issuer.fingerprint)
        if key not in self._issued:
            self._issued[key] = item.issued_by(issuer)
        return self._issued[key]

    def status(self, cert: Certificate, issuer: Certificate, at: datetime) -> RevocationStatus:
        found = []
        for item in self.crls:
            if item.issuer.hashable == cert.issuer.hashable and self._crl_issued_by(item, issuer):
                decided = item.decide(cert, at)
                if decided is not None:
                    found.append(decided)
        for response in self.responses:
            decided = response.decide(cert, issuer, at, self.ocsp_max_age)
            if decided is not None:
                found.append(decided)
        return _best(found) or UNKNOWN


class ChainRevocation:
    """Sources asked in turn; the first that decides answers."""

    def __init__(self, sources: Sequence[RevocationSource]) -> None:
        self.sources = list(sources)

    def status(self, cert: Certificate, issuer: Certificate, at: datetime) -> RevocationStatus:
        details = []
        for source in self.sources:
            answer = source.status(cert, issuer, at)
            if answer.state != "unknown":
                return answer
            if answer.detail:
                details.append(answer.detail)
        return RevocationStatus("unknown", detail="; ".join(details) or UNKNOWN.detail)


class HttpRevocation:
    """Production: the issuer's OCSP responder (the certificate's AIA, or ``ocsp_url``) with a
    SHA-256 CertID and a nonce, then the CRLs of the certificate's distribution points (or
    ``crl_urls``), each cached until its nextUpdate. Plain urllib with a timeout."""

    def __init__(self, *, timeout: float = 5.0, ocsp_url: str | None = None, crl_urls: Sequence[str] = (),
                 use_ocsp: bool = True, use_crl: bool = True, clock_skew: timedelta = timedelta(minutes=5),
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.timeout = timeout
        self.ocsp_url = ocsp_url
        self.crl_urls = list(crl_urls)
        self.use_ocsp, self.use_crl = use_ocsp, use_crl
        self.clock_skew = clock_skew
        self.now = now
        self._crls: dict[str, Crl] = {}
        self._lock = threading.Lock()
        self.fetches = 0  # HTTP requests made (the cache is tested through it)

    def _get(self, url: str, body: bytes | None = None) -> bytes:
        if not url.lower().startswith(("http://", "https://")):
            raise ValueError(f"not an HTTP URL: {url}")
        headers = {"Content-Type": "application/ocsp-request"} if body is not None else {}
        request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body else "GET")
        self.fetches += 1
        with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310 - http(s) only, checked
            return answer.read(16 * 1024 * 1024)

    def crl(self, url: str) -> Crl:
        with self._lock:
            cached = self._crls.get(url)
        if cached is not None and cached.next_update is not None and self.now() <= cached.next_update:
            return cached
        fetched = Crl(self._get(url))
        with self._lock:
            self._crls[url] = fetched
        return fetched

    def ask_ocsp(self, url: str, cert: Certificate, issuer: Certificate, at: datetime) -> RevocationStatus | None:
        nonce = os.urandom(16)
        request = ocsp.OCSPRequest({"tbs_request": {
            "request_list": [{"req_cert": cert_id(cert, issuer, "sha256")}],
            "request_extensions": [{"extn_id": "nonce", "critical": False,
                                    "extn_value": core.OctetString(nonce)}],
        }})
        response = OcspResponse(self._get(url, request.dump()))
        # The nonce comes back as the extension's value: an OCTET STRING holding ours.
        if response.nonce is not None and response.nonce not in (nonce, core.OctetString(nonce).dump()):
            return None
        return response.decide(cert, issuer, at, self.clock_skew)

    def status(self, cert: Certificate, issuer: Certificate, at: datetime) -> RevocationStatus:
        problems = []
        if self.use_ocsp:
            for url in ([self.ocsp_url] if self.ocsp_url else cert.ocsp_urls):
                try:
                    answer = self.ask_ocsp(url, cert, issuer, at)
                except (OSError, ValueError) as exc:
                    problems.append(f"OCSP {url}: {exc}")
                    continue
                if answer is not None:
                    return answer
                problems.append(f"OCSP {url}: no usable answer")
        if self.use_crl:
            found = []
            for url in [*cert.crl_urls, *self.crl_urls]:
                try:
                    item = self.crl(url)
                except (OSError, ValueError) as exc:
                    problems.append(f"CRL {url}: {exc}")
                    continue
                if item.issuer.hashable == cert.issuer.hashable and item.issued_by(issuer):
                    decided = item.decide(cert, at)
                    if decided is not None:
                        found.append(decided)
            best = _best(found)
            if best is not None:
                return best
        return RevocationStatus("unknown", detail="; ".join(problems) or UNKNOWN.detail)

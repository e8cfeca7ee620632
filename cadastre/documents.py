"""Signed documents with access levels (issue 8, README "Signed documents").

A document is a file (its bytes in PostgreSQL, table ``document_contents``), its SHA-256, the
content type sniffed from its bytes (the client's type is never read), an owner (an account, or
an authority for uploads with its token), an access level, and any number of signatures, each
stored with its verification result.

Who may read what is decided in one place, ``may_read``: the levels a caller reads on anyone's
documents (``open_levels``, by role) plus their own (``owner_keys``). The SQL filter of the
listing is built from the same two pieces, never written out a second time.

Uploads are hostile input, handled as the layer uploads are (importers/archive.py,
importers/formats/kml.py): the size is counted while reading, ZIP containers (office files,
archives) are checked member by member without extracting anything (traversal paths, links,
member count, declared size, compression ratio), XML is parsed by defusedxml with every DOCTYPE
(and so every entity) refused."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import io
import re
import stat
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PureWindowsPath
from typing import Any, BinaryIO

import psycopg
from asn1crypto import cms
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as xml_fromstring
from psycopg.types.json import Jsonb

from cadastre.eds.revocation import RevocationSource
from cadastre.eds.trust import TrustStore
from cadastre.eds.verify import verify_cms, verify_xml
from cadastre.eds_trust import load_trust
from geoservice.kernel.errors import Location, Problem
from geoservice.kernel.i18n import LANGUAGES, translate
from layers.access import AUTHORITY_TOKEN, Caller, Person, Principal, roles_of
from layers.catalog import LAYERS, can_write
from layers.store import journal

LEVELS = ("public", "official-use", "confidential")
# Who reads a level on documents that are not theirs (README "Signed documents", the rule).
OFFICIAL_READERS = frozenset({"officer", "commission", "admin", "auditor", AUTHORITY_TOKEN})
CONFIDENTIAL_READERS = frozenset({"admin", "auditor"})
# Who may add a signature to a document they may read but do not own (countersigning).
COUNTERSIGNERS = frozenset({"officer", "commission", "admin"})
# Layers whose features name a document: layer -> the attribute holding the reference.
LINKED_LAYERS = {"geological-studies": "report_ref"}

MiB = 1024 * 1024
XMLDSIG = "{http://www.w3.org/2000/09/xmldsig#}Signature"


@dataclass(frozen=True)
class Limits:
    max_document_bytes: int = 50 * MiB
    max_signature_bytes: int = MiB
    max_signature_files: int = 8
    # A ZIP container (office file, archive) is inspected, not extracted; these bound what its
    # directory may declare (the same defaults as the layer uploads).
    max_unpacked_bytes: int = 1024 * MiB
    max_archive_members: int = 2000
    bomb_ratio: float = 200.0
    bomb_min_bytes: int = 4 * MiB

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        return cls(settings.max_document_bytes, settings.max_signature_bytes, settings.max_signature_files,
                   settings.max_unpacked_bytes, settings.max_archive_members)


@dataclass(frozen=True)
class Document:
    id: int
    owner_account_id: int | None
    owner_iin: str | None
    owner_bin: str | None
    owner_authority: str | None
    file_name: str
    content_type: str
    size: int
    sha256: str
    access_level: str
    reference: str | None
    uploaded_by: str
    created_at: dt.datetime


COLUMNS = ("id, owner_account_id, owner_iin, owner_bin, owner_authority, file_name, content_type, size, sha256, "
           "access_level, reference, uploaded_by, created_at")


@dataclass(frozen=True)
class Signature:
    id: int
    document_id: int
    kind: str
    embedded: bool
    file_name: str | None
    sha256: str
    valid: bool
    result: dict[str, Any]
    verified_at: dt.datetime
    added_by: str
    added_at: dt.datetime


SIGNATURE_COLUMNS = "id, document_id, kind, embedded, file_name, sha256, valid, result, verified_at, added_by, added_at"


# --- who may read ------------------------------------------------------------------------------

def open_levels(who: Caller | None) -> frozenset[str]:
    """The levels ``who`` reads on documents that are not theirs."""
    roles = roles_of(who)
    levels = {"public"}
    if roles & OFFICIAL_READERS:
        levels.add("official-use")
    if roles & CONFIDENTIAL_READERS:
        levels.add("confidential")
    return frozenset(levels)


def owner_keys(who: Caller | None) -> tuple[int | None, frozenset[str]]:
    """What makes ``who`` a document's owner: their account, and the authorities they act for (a
    token's authority; the authorities a person is an officer of)."""
    if isinstance(who, Person):
        return who.account_id, frozenset(who.authorities) if "officer" in who.roles else frozenset()
    if isinstance(who, Principal):
        return None, frozenset({who.authority})
    return None, frozenset()


def is_owner(who: Caller | None, doc: Document) -> bool:
    account, authorities = owner_keys(who)
    return ((account is not None and doc.owner_account_id == account)
            or (doc.owner_authority is not None and doc.owner_authority in authorities))


def may_read(who: Caller | None, doc: Document) -> bool:
    """THE access decision: public to everyone; official-use to the owner, authority officers,
    commission members, admin, auditor and authority upload tokens; confidential to the owner,
    admin and auditor only."""
    return doc.access_level in open_levels(who) or is_owner(who, doc)


def may_sign(who: Caller | None, doc: Document) -> bool:
    """Adding a signature: the owner, or officers, commission members and admins who may read it."""
    return may_read(who, doc) and (is_owner(who, doc) or bool(roles_of(who) & COUNTERSIGNERS))


def sees_owner(who: Caller | None, doc: Document) -> bool:
    """The owner's identity (IIN, BIN) is shown to the owner and to readers of official-use
    information, never to the public."""
    return is_owner(who, doc) or bool(roles_of(who) & OFFICIAL_READERS)


def may_link(who: Caller | None) -> bool:
    """Setting ``reference`` links the document from every feature naming it (README): only who
    may write a linked layer (an authority's token or officer) or an admin."""
    _, authorities = owner_keys(who)
    if "admin" in roles_of(who):
        return True
    return any(can_write(authority, LAYERS[layer]) for layer in LINKED_LAYERS for authority in authorities)


def readable_sql(who: Caller | None, *, mine: bool = False) -> tuple[str, list[Any]]:
    """SQL condition (on table ``documents``) matching exactly the documents ``may_read`` allows
    (``mine``: only the caller's own), from the same pieces."""
    account, authorities = owner_keys(who)
    parts: list[str] = []
    params: list[Any] = []
    if not mine:
        parts.append("access_level = ANY(%s)")
        params.append(sorted(open_levels(who)))
    if account is not None:
        parts.append("owner_account_id = %s")
        params.append(account)
    if authorities:
        parts.append("owner_authority = ANY(%s)")
        params.append(sorted(authorities))
    return ("(" + " OR ".join(parts) + ")" if parts else "false"), params


# --- reading an upload -------------------------------------------------------------------------

def safe_name(raw: str | None, default: str = "document") -> str:
    """The file name as stored and sent back: no folders (either slash), no control characters,
    NFC, at most 255 characters (the extension kept)."""
    name = PureWindowsPath((raw or "").replace("/", "\\")).name
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if not name:
        return default
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:254 - len(ext)] + "." + ext) if dot and len(ext) < 20 else name[:255]
    return name


def read_limited(file: BinaryIO, limit: int, name: str, *, key: str = "documents.too_large",
                 field: str = "file") -> bytes:
    """The whole file, refused with 413 as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    seen = 0
    while True:
        chunk = file.read(MiB)
        if not chunk:
            break
        seen += len(chunk)
        if seen > limit:
            raise Problem(key, 413, location=Location(file=name, field=field), file=name,
                          limit_mb=round(limit / MiB, 2), limit_kb=limit // 1024)
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse(key: str, name: str, field: str = "file", status: int = 422, **params: Any) -> Problem:
    return Problem(key, status, location=Location(file=name, field=field), file=name, **params)


_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL_TEXT = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _check_zip(data: bytes, name: str, limits: Limits) -> zipfile.ZipFile:
    """The ZIP container's directory, every member checked; nothing is extracted."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError):
        raise _refuse("documents.bad_archive", name) from None
    if len(infos) > limits.max_archive_members:
        raise _refuse("documents.archive_too_many_members", name, count=len(infos), limit=limits.max_archive_members)
    total = packed = 0
    for info in infos:
        member = info.filename
        if member.startswith(("/", "\\")) or _DRIVE.match(member) or ".." in re.split(r"[\\/]", member):
            raise _refuse("documents.archive_unsafe_path", name, member=member)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _refuse("documents.archive_symlink", name, member=member)
        if (info.file_size >= limits.bomb_min_bytes
                and info.file_size > limits.bomb_ratio * max(info.compress_size, 1)):
            raise _refuse("documents.archive_bomb", name, member=member,
                          ratio=info.file_size // max(info.compress_size, 1))
        total += info.file_size
        packed += info.compress_size
    if total > limits.max_unpacked_bytes:
        raise _refuse("documents.archive_too_large", name, limit_mb=limits.max_unpacked_bytes // MiB)
    if total >= limits.bomb_min_bytes and total > limits.bomb_ratio * max(packed, 1):
        raise _refuse("documents.archive_bomb", name, member=name, ratio=total // max(packed, 1))
    return zf


# ODF declares its type in a first member "mimetype"; OOXML by its folders.
_ODF = ("application/vnd.oasis.opendocument.",)
_OOXML = {"word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}


def _zip_type(data: bytes, name: str, limits: Limits) -> str:
    zf = _check_zip(data, name, limits)
    names = zf.namelist()
    if names and names[0] == "mimetype":
        info = zf.getinfo("mimetype")
        if info.file_size <= 100:
            try:
                declared = zf.read(info).decode("ascii").strip()
            except (zipfile.BadZipFile, UnicodeError, ValueError, NotImplementedError, EOFError):
                raise _refuse("documents.bad_archive", name) from None
            if declared.startswith(_ODF) and re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", declared):
                return declared
    if "[Content_Types].xml" in names:
        for prefix, kind in _OOXML.items():
            if any(n.startswith(prefix) for n in names):
                return kind
    return "application/zip"


def _parse_xml(data: bytes, name: str) -> Any:
    """The XML's root, parsed by defusedxml: entity declarations (internal or external) and
    external references are refused before anything is expanded; a bare ``<!DOCTYPE x>`` is
    harmless and passes."""
    try:
        return xml_fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise _refuse("documents.xml_entities", name) from None


def _signed_data(data: bytes) -> cms.SignedData | None:
    """The CMS SignedData in ``data`` (DER), or None when it is not one."""
    if not data[:1] == b"\x30":
        return None
    try:
        info = cms.ContentInfo.load(data, strict=True)
        if info["content_type"].native != "signed_data":
            return None
        signed = info["content"]
        signed["encap_content_info"]["content_type"].native  # noqa: B018 - parse now, not later
        return signed
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _encapsulated(signed: cms.SignedData) -> bytes | None:
    content = signed["encap_content_info"]["content"]
    if content.native is None:
        return None
    # ``parsed`` may be a typed structure; the signed bytes are the OCTET STRING's contents.
    return bytes(content.contents) if not isinstance(content.native, bytes) else content.native


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    # The document carries its own signature: "cms-attached" or "xmldsig".
    embedded: str | None = None


_IMAGES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF87a", "image/gif"),
           (b"GIF89a", "image/gif"), (b"II*\x00", "image/tiff"), (b"MM\x00*", "image/tiff"))


def sniff(data: bytes, name: str, limits: Limits) -> Sniffed:
    """The content type from the bytes (magic numbers, then a look inside): PDF, ZIP and office
    files, XML, images, CMS, plain UTF-8 text; anything else is application/octet-stream.
    Containers that are hostile (see the module) are refused."""
    if data.startswith(b"%PDF-"):
        return Sniffed("application/pdf")
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return Sniffed(_zip_type(data, name, limits))
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return Sniffed("application/x-ole-storage")  # .doc/.xls of old Office: the container is all we know
    for magic, kind in _IMAGES:
        if data.startswith(magic):
            return Sniffed(kind)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Sniffed("image/webp")
    signed = _signed_data(data)
    if signed is not None:
        if _encapsulated(signed) is not None:
            return Sniffed("application/pkcs7-mime", embedded="cms-attached")
        return Sniffed("application/pkcs7-signature")
    text = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    stripped = text.lstrip(b" \t\r\n")
    if stripped.startswith(b"<"):
        declared = stripped.startswith(b"<?xml")
        head = stripped[:4096].upper()
        if declared or b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            # Declared XML, or markup with a DOCTYPE: parsed, so that entities never pass as text.
            root = _parse_xml_or_refuse(data, name, declared)
        else:
            root = _parse_xml_quietly(data, name)
        if root is not None:
            signed_xml = next(iter(root.iter(XMLDSIG)), None) is not None
            return Sniffed("application/xml", embedded="xmldsig" if signed_xml else None)
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        return Sniffed("application/octet-stream")
    if _CONTROL_TEXT.search(decoded):
        return Sniffed("application/octet-stream")
    return Sniffed("text/plain; charset=utf-8")


def _parse_xml_or_refuse(data: bytes, name: str, declared: bool) -> Any:
    root = None
    try:
        root = _parse_xml(data, name)
    except Problem:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse error of XML that says it is XML
        if declared:
            raise _refuse("documents.bad_xml", name, reason=str(exc)[:200]) from None
    return root


def _parse_xml_quietly(data: bytes, name: str) -> Any:
    """Markup that does not say it is XML: XML when it parses, else text (HTML, notes)."""
    try:
        return _parse_xml(data, name)
    except Problem:
        raise
    except Exception:  # noqa: BLE001
        return None


# --- signatures --------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignatureFile:
    name: str
    data: bytes


@dataclass(frozen=True)
class ParsedSignature:
    kind: str            # cms-detached | cms-attached | xmldsig
    embedded: bool
    der: bytes | None    # the CMS (None when embedded in the document)
    file_name: str | None


_PEM = re.compile(rb"-----BEGIN [A-Z0-9 ]+-----(.*?)-----END [A-Z0-9 ]+-----", re.S)
_BASE64 = re.compile(rb"^[A-Za-z0-9+/=\s]+$")


def read_signature(sig: SignatureFile, content: bytes) -> ParsedSignature:
    """A signature file: CMS as DER, PEM or base64 (what NCALayer's createCAdESFromBase64 gives).
    An attached CMS must carry exactly the stored file."""
    # DER is binary: its last byte (the signature value's) is 0x09-0x0d or 0x20 about once in 40,
    # which a strip would cut off. So DER is read by its own length (whatever whitespace a tool
    # added after it is left off), and whitespace is trimmed from the text forms only.
    der = _der_extent(sig.data)
    signed = _signed_data(der)
    if signed is None:
        raw = sig.data.strip()
        if raw.startswith(b"<"):
            # An enveloped XMLDSig signs the XML it is in: that XML is the document to upload.
            raise _refuse("documents.signature_xml_separate", sig.name, field="signature")
        der = raw
        pem = _PEM.search(raw)
        if pem is not None:
            der = _b64(pem.group(1), sig.name)
        elif raw[:1] != b"\x30" and _BASE64.match(raw):
            der = _b64(raw, sig.name)
        signed = _signed_data(der)
    if signed is None:
        raise _refuse("documents.signature_unreadable", sig.name, field="signature")
    carried = _encapsulated(signed)
    if carried is None:
        return ParsedSignature("cms-detached", False, der, sig.name)
    if carried != content:
        raise _refuse("documents.signature_other_content", sig.name, field="signature")
    return ParsedSignature("cms-attached", False, der, sig.name)


def _der_extent(data: bytes) -> bytes:
    """``data`` up to the end of its first DER SEQUENCE when only whitespace follows it; else
    ``data`` as it is."""
    if data[:1] != b"\x30" or len(data) < 2:
        return data
    first = data[1]
    if first < 0x80:
        start, length = 2, first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or len(data) < 2 + count:
            return data
        start, length = 2 + count, int.from_bytes(data[2:2 + count], "big")
    end = start + length
    return data[:end] if end <= len(data) and not data[end:].strip() else data


def _b64(text: bytes, name: str) -> bytes:
    try:
        return base64.b64decode(b"".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _refuse("documents.signature_unreadable", name, field="signature") from None


# One function verifies: (kind, signature bytes or None when embedded, the stored file) -> a
# JSON-able report {"valid": bool, "signers": [...]}. ``eds_verifier`` builds it on cadastre.eds
# (the trust store and CRLs of the database, or those the edge has cached).
Verifier = Callable[[str, bytes | None, bytes], dict[str, Any]]


def eds_verifier(conn: psycopg.Connection, now: dt.datetime, *, trust: TrustStore | None = None,
                 revocation: RevocationSource | None = None) -> Verifier:
    """Verification by cadastre.eds as of ``now``: signature maths, chain to a trusted NCA root,
    validity at the signing time and now, revocation, key usage, each reported. A signature that
    cannot be read at all is a report with ``valid: false`` and its problem, not an error: the
    document is stored, with what is known of its signature."""
    if trust is None or revocation is None:
        trust, revocation = load_trust(conn)

    def run(kind: str, signature: bytes | None, content: bytes) -> dict[str, Any]:
        try:
            if kind == "xmldsig":
                found = verify_xml(content, trust=trust, revocation=revocation, now=now)
            elif kind == "cms-detached":
                assert signature is not None
                found = verify_cms(signature, content, trust=trust, revocation=revocation, now=now)
            else:  # attached: the file itself, or a CMS carrying exactly the file (read_signature)
                found = verify_cms(signature if signature is not None else content, None, trust=trust,
                                   revocation=revocation, now=now)
        except Problem as problem:
            return {"valid": False, "signers": [], "problems": [_problem(problem.key, problem.params)]}
        report = found.as_dict()
        for signer, raw in zip(report["signers"], found.signers, strict=True):
            signer["problems"] = [_problem(p["code"], p["params"]) for p in raw.problems]
        return report

    return run


def _problem(code: str, params: dict[str, Any]) -> dict[str, Any]:
    """A verification problem as stored: its code and its message in every language, rendered
    now (its parameters are not all JSON)."""
    return {"code": code, "message": {lang: translate(code, lang, **params) for lang in LANGUAGES}}


def _verify(verifier: Verifier, parsed: ParsedSignature, content: bytes) -> dict[str, Any]:
    result = dict(verifier(parsed.kind, parsed.der, content))
    result["valid"] = bool(result.get("valid"))
    return result


# --- the store ---------------------------------------------------------------------------------

def _owner_columns(who: Caller) -> dict[str, Any]:
    if isinstance(who, Person):
        return {"owner_account_id": who.account_id, "owner_iin": who.iin, "owner_bin": who.bin,
                "owner_authority": None, "owner_token_id": None}
    return {"owner_account_id": None, "owner_iin": None, "owner_bin": None,
            "owner_authority": who.authority, "owner_token_id": who.token_id}


def check_level(level: str | None) -> str:
    level = (level or "").strip() or "confidential"
    if level not in LEVELS:
        raise Problem("documents.bad_level", 422, location=Location(field="access_level"), level=level,
                      known=", ".join(LEVELS))
    return level


def check_reference(who: Caller | None, reference: str | None) -> str | None:
    reference = (reference or "").strip() or None
    if reference is None:
        return None
    if len(reference) > 200 or _CONTROL_TEXT.search(reference) or "\x00" in reference:
        raise Problem("documents.bad_reference", 422, location=Location(field="reference"))
    if not may_link(who):
        raise Problem("documents.reference_forbidden", 403, location=Location(field="reference"))
    return reference


@dataclass
class Upload:
    owner: Caller
    file_name: str
    content: bytes
    access_level: str | None
    reference: str | None = None
    signatures: list[SignatureFile] = field(default_factory=list)


def store(conn: psycopg.Connection, upload: Upload, *, limits: Limits, verifier: Verifier, actor: str,
          client: str | None, now: dt.datetime) -> tuple[Document, list[Signature]]:
    """Check, store and journal a document with its signatures, in the caller's transaction.
    Refusals raise before anything is written (the caller journals them)."""
    name = safe_name(upload.file_name)
    level = check_level(upload.access_level)
    reference = check_reference(upload.owner, upload.reference)
    content = upload.content
    if len(content) > limits.max_document_bytes:
        raise _refuse("documents.too_large", name, status=413, limit_mb=round(limits.max_document_bytes / MiB, 2))
    if not content:
        raise _refuse("documents.empty", name)
    if len(upload.signatures) > limits.max_signature_files:
        raise Problem("documents.too_many_signatures", 422, location=Location(field="signature"),
                      count=len(upload.signatures), limit=limits.max_signature_files)
    sniffed = sniff(content, name, limits)
    parsed = [read_signature(s, content) for s in upload.signatures]
    if sniffed.embedded is not None:
        parsed.insert(0, ParsedSignature(sniffed.embedded, True, None, None))
    digest = hashlib.sha256(content).hexdigest()
    owner = _owner_columns(upload.owner)
    row = conn.execute(
        f"INSERT INTO documents (owner_account_id, owner_iin, owner_bin, owner_authority, owner_token_id, file_name, "  # noqa: S608
        f"content_type, size, sha256, access_level, reference, uploaded_by) "
        f"VALUES (%(owner_account_id)s, %(owner_iin)s, %(owner_bin)s, %(owner_authority)s, %(owner_token_id)s, "
        f"%(name)s, %(type)s, %(size)s, %(sha)s, %(level)s, %(reference)s, %(actor)s) RETURNING {COLUMNS}",
        {**owner, "name": name, "type": sniffed.content_type, "size": len(content), "sha": digest, "level": level,
         "reference": reference, "actor": actor}).fetchone()
    assert row is not None
    doc = Document(*row)
    conn.execute("INSERT INTO document_contents (document_id, content) VALUES (%s, %s)", (doc.id, content))
    signatures = [_add_signature(conn, doc, p, content, verifier, actor, now) for p in parsed]
    journal(conn, actor, "document.upload", "ok", object=f"document:{doc.id}", client=client,
            detail={"file": name, "sha256": digest, "size": len(content), "content_type": sniffed.content_type,
                    "access_level": level, "reference": reference,
                    "signatures": [{"id": s.id, "kind": s.kind, "valid": s.valid} for s in signatures]})
    return doc, signatures


def _add_signature(conn: psycopg.Connection, doc: Document, parsed: ParsedSignature, content: bytes,
                   verifier: Verifier, actor: str, now: dt.datetime) -> Signature:
    result = _verify(verifier, parsed, content)
    sha = hashlib.sha256(parsed.der if parsed.der is not None else content).hexdigest()
    row = conn.execute(
        f"INSERT INTO document_signatures (document_id, kind, embedded, signature, file_name, sha256, valid, result, "  # noqa: S608
        f"verified_at, added_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {SIGNATURE_COLUMNS}",
        (doc.id, parsed.kind, parsed.embedded, parsed.der, parsed.file_name, sha, result["valid"], Jsonb(result),
         now, actor)).fetchone()
    assert row is not None
    return Signature(*row)


def add_signatures(conn: psycopg.Connection, doc: Document, files: list[SignatureFile], *, who: Caller,
                   limits: Limits, verifier: Verifier, actor: str, client: str | None,
                   now: dt.datetime) -> list[Signature]:
    """Signatures added to a stored document, verified at once over its stored bytes; journaled."""
    if not may_sign(who, doc):
        raise Problem("documents.sign_forbidden", 403, id=doc.id)
    if not files:
        raise Problem("documents.no_signature", 422, location=Location(field="signature"))
    if len(files) > limits.max_signature_files:
        raise Problem("documents.too_many_signatures", 422, location=Location(field="signature"),
                      count=len(files), limit=limits.max_signature_files)
    content = read_content(conn, doc.id)
    parsed = [read_signature(f, content) for f in files]
    added = [_add_signature(conn, doc, p, content, verifier, actor, now) for p in parsed]
    journal(conn, actor, "document.sign", "ok", object=f"document:{doc.id}", client=client,
            detail={"signatures": [{"id": s.id, "kind": s.kind, "file": s.file_name, "valid": s.valid}
                                   for s in added]})
    return added


def get(conn: psycopg.Connection, doc_id: int) -> Document | None:
    row = conn.execute(f"SELECT {COLUMNS} FROM documents WHERE id = %s", (doc_id,)).fetchone()  # noqa: S608
    return Document(*row) if row else None


def signatures_of(conn: psycopg.Connection, doc_id: int) -> list[Signature]:
    rows = conn.execute(f"SELECT {SIGNATURE_COLUMNS} FROM document_signatures WHERE document_id = %s "  # noqa: S608
                        "ORDER BY id", (doc_id,)).fetchall()
    return [Signature(*r) for r in rows]


def read_content(conn: psycopg.Connection, doc_id: int) -> bytes:
    row = conn.execute("SELECT content FROM document_contents WHERE document_id = %s", (doc_id,)).fetchone()
    assert row is not None
    return bytes(row[0])


# A slice of the stored bytes (1-based offset): with STORAGE EXTERNAL PostgreSQL reads only the
# TOAST chunks of that slice, so a download never holds the whole file.
CHUNK_SQL = "SELECT substring(content FROM $2 FOR $3) FROM document_contents WHERE document_id = $1"


def list_readable(conn: psycopg.Connection, who: Caller | None, *, mine: bool = False, before: int | None = None,
                  limit: int = 50) -> tuple[list[Document], int | None]:
    """A page of the documents ``who`` may read (``mine``: owns), newest first; keyset paging on
    the id: the next page starts below the returned cursor."""
    condition, params = readable_sql(who, mine=mine)
    # Geological reports' files are listed with their report (/api/geoinfo, whose rule they follow),
    # not here, where the store's own rule would show them to other readers.
    condition += " AND NOT EXISTS (SELECT 1 FROM geo_report_files g WHERE g.document_id = documents.id)"
    if before is not None:
        condition += " AND id < %s"
        params.append(before)
    rows = conn.execute(f"SELECT {COLUMNS} FROM documents WHERE {condition} ORDER BY id DESC LIMIT %s",  # noqa: S608
                        [*params, limit + 1]).fetchall()
    docs = [Document(*r) for r in rows[:limit]]
    return docs, (docs[-1].id if len(rows) > limit else None)


def signature_summary(conn: psycopg.Connection, ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """document id -> (signatures, valid ones)."""
    rows = conn.execute("SELECT document_id, count(*), count(*) FILTER (WHERE valid) FROM document_signatures "
                        "WHERE document_id = ANY(%s) GROUP BY document_id", (list(ids),)).fetchall()
    return {int(r[0]): (int(r[1]), int(r[2])) for r in rows}


# --- links from layer features -----------------------------------------------------------------

def linked_sql(table: str, id_column: str, ref_column: str) -> str:
    """Documents named by features (by id) of a version table; identifiers from the registry and
    the catalog, never from a request."""
    d_columns = ", ".join("d." + c.strip() for c in COLUMNS.split(","))
    return (f'SELECT t."{id_column}"::text AS feature, {d_columns} '  # noqa: S608
            f'FROM {table} t JOIN documents d ON d.reference = t."{ref_column}" '
            f'WHERE t."{id_column}" = ANY($1::text[]) ORDER BY d.id')


def readable_links(rows: Iterable[Any], who: Caller | None) -> dict[str, list[Document]]:
    """feature id -> the documents it names that ``who`` may read (``rows`` of ``linked_sql``)."""
    found: dict[str, list[Document]] = {}
    for r in rows:
        doc = Document(*list(r)[1:])
        if may_read(who, doc):
            found.setdefault(str(r[0]), []).append(doc)
    return found


# --- answers ---------------------------------------------------------------------------------

def describe(doc: Document, who: Caller | None, *, summary: tuple[int, int] | None = None,
             signatures: list[Signature] | None = None, lang: str = "en") -> dict[str, Any]:
    """The document as ``who`` may see it (call only when ``may_read``)."""
    out: dict[str, Any] = {
        "id": doc.id, "file_name": doc.file_name, "content_type": doc.content_type, "size": doc.size,
        "sha256": doc.sha256, "access_level": doc.access_level, "reference": doc.reference,
        "created_at": doc.created_at.isoformat(), "mine": is_owner(who, doc),
    }
    if sees_owner(who, doc):
        out["owner"] = {"account_id": doc.owner_account_id, "iin": doc.owner_iin, "bin": doc.owner_bin,
                        "authority": doc.owner_authority}
    if summary is not None:
        out["signatures"] = {"count": summary[0], "valid": summary[1]}
    if signatures is not None:
        show_iin = sees_owner(who, doc)
        out["signatures"] = [describe_signature(s, show_iin, lang) for s in signatures]
    return out


def _shown_problems(problems: list[Any], lang: str) -> list[Any]:
    return [{"code": p["code"], "message": p["message"].get(lang, p["message"].get("en"))}
            if isinstance(p, dict) and isinstance(p.get("message"), dict) else p for p in problems]


def describe_signature(s: Signature, show_iin: bool, lang: str = "en") -> dict[str, Any]:
    """A stored signature and its verification report, problems in ``lang``."""
    result = dict(s.result)
    result["problems"] = _shown_problems(result.get("problems", []), lang)
    signers = []
    for signer in result.get("signers", []):
        if isinstance(signer, dict):
            signer = {**signer, "problems": _shown_problems(signer.get("problems", []), lang)}
            if not show_iin:
                # A public document shows who signed it (name, organisation), not the signer's IIN
                # (nor the certificate, which carries it).
                signer = {k: v for k, v in signer.items() if k not in ("iin", "certificate")}
        signers.append(signer)
    result["signers"] = signers
    return {"id": s.id, "kind": s.kind, "embedded": s.embedded, "file_name": s.file_name, "sha256": s.sha256,
            "valid": s.valid, "verification": result, "verified_at": s.verified_at.isoformat(),
            "added_at": s.added_at.isoformat()}

"""An auction's protocol (issue 10, "results that cannot be altered"): made from the auction's
own journal (``auction_events``) alone, never from the ``auctions`` / ``auction_bids`` columns,
so that anyone holding the journal can recompute it.

``make_protocol`` builds it when the auction is final (closed, cancelled, failed): the lot's name
and number, the open and close times, every accepted bid (seq, µs stamp, participant number,
amount), the withdrawn and changed bids, the count of rejected attempts, the extensions with the
old and new end, the winner and the final signature bonus (``deal.concluded``, cross-checked by
recomputing the highest accepted bid), and the journal's last seq and hash. It stores the RFC 8785
JSON, its SHA-256, printable HTML documents in kk and ru, and the operator's detached CMS over
the JSON, in ``auction_protocols`` (append-only, trigger), then tells the winner and the others
in their cabinets and lets the lot's applications go on with the winner (``continue_with``).
Idempotent: a stored protocol is returned as it is.

What the protocol needs from other writers' events (missing keys become ``null`` and are listed
in the protocol's ``missing``):
* ``auction.published`` detail: ``number``, ``name``, ``codes`` (list of block codes),
  ``starting_bonus``, ``step`` (decimal strings);
* ``auction.extended`` detail: ``old_end`` and ``new_end`` (RFC 3339; ``from``/``to`` or
  ``ends_at`` are read as well);
* ``deal.concluded``: ``participant`` = the winner's number, ``amount`` = the final bonus (or
  detail ``winner`` / ``bonus``).

``verify`` recomputes it and compares. ``winner_unpaid`` applies the unpaid-winner rule as a new
fact (a platform journal row ``auction.unpaid``), never by changing the frozen auction or its
protocol."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from cadastre import auction_journal
from cadastre.auction_journal import Event, money, stamp
from cadastre.eds import pki
from cadastre.eds.revocation import RevocationSource
from cadastre.eds.trust import TrustStore
from cadastre.eds.verify import verify_cms
from cadastre.eds_trust import add_certificate, add_crl, load_trust
from cadastre.messages import MESSAGES
from cadastre.notifications import notify
from geoservice.kernel.errors import Problem
from layers.journal import journal

FORMAT = 1  # the protocol's layout; a new layout gets a new number
LANGUAGES = ("kk", "ru")
FINAL = ("closed", "cancelled", "failed")
PUBLISHED_KEYS = ("number", "name", "codes", "starting_bonus", "step")
UNPAID = "auction.unpaid"  # the platform journal's action for the unpaid-winner rule
MADE = "auction.protocol"  # the platform journal's action when a protocol is made (with its documents' digests)
RULES = ("next-bidder", "new-auction")
OUTCOMES = {"closed": "protocol.outcome_closed", "cancelled": "protocol.outcome_cancelled",
            "failed": "protocol.outcome_failed"}
DEMO_OPERATOR_BIN = "000140000009"
DEMO_OPERATOR = "GEOSERVICE OPERATOR (DEMO)"


# --- the operator's key -------------------------------------------------------------------------

@dataclass(frozen=True)
class OperatorKey:
    """The operator's signing key and certificate (RSA, or EC: what ``cryptography`` signs CMS
    with; a GOST key of the NCA would need the platform's own CMS writer)."""

    certificate: x509.Certificate
    key: Any
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    def sign(self, data: bytes) -> bytes:
        """A detached CMS (DER) over ``data``: signed attributes with the signing time, the
        operator's certificate (and its chain) in the bag."""
        builder = pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(self.certificate, self.key, hashes.SHA256())
        for extra in self.chain:
            builder = builder.add_certificate(extra)
        return builder.sign(serialization.Encoding.DER,
                            [pkcs7.PKCS7Options.Binary, pkcs7.PKCS7Options.DetachedSignature])


_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.S)


def load_operator_key(path: Path, password: str | None = None) -> OperatorKey:
    """The key file of the ``operator_key_file`` setting: PKCS#12 (``.p12``/``.pfx``, with
    ``operator_key_password``) or PEM holding the private key and the certificate (then its
    chain)."""
    data = path.read_bytes()
    secret = password.encode() if password else None
    if b"-----BEGIN" not in data:
        key, cert, extra = pkcs12.load_key_and_certificates(data, secret)
        if key is None or cert is None:
            raise ValueError(f"{path}: the PKCS#12 file holds no key and certificate")
        return OperatorKey(cert, key, tuple(extra))
    key, certs = None, []
    for block in _PEM_BLOCK.finditer(data):
        if block.group(1).endswith(b"PRIVATE KEY"):
            key = serialization.load_pem_private_key(block.group(0), secret)
        elif block.group(1) == b"CERTIFICATE":
            certs.append(x509.load_pem_x509_certificate(block.group(0)))
    if key is None or not certs:
        raise ValueError(f"{path}: a PEM operator key file needs the private key and the certificate")
    return OperatorKey(certs[0], key, tuple(certs[1:]))


def demo_operator(directory: Path) -> OperatorKey:
    """The demo's and the tests' operator: a CA and an operator signing certificate (RSA-SHA256)
    made once under ``directory`` (``var/operator``) and loaded afterwards. Trust it with
    ``geoservice eds trust add DIR/operator-ca.cer`` and ``geoservice eds crl add
    DIR/operator-ca.crl`` (an empty CRL, so revocation is decided)."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two processes starting at once make one operator
        keyfile = directory / "operator.pem"
        if not keyfile.exists():
            now = datetime.now(UTC)
            ca = pki.make_ca("GEOSERVICE OPERATOR CA (DEMO)", "RSA-SHA256", not_before=now - timedelta(days=1),
                             not_after=now + timedelta(days=365 * 30))
            ca.save(directory, "operator-ca")
            (directory / "operator-ca.crl").write_bytes(
                ca.crl(this_update=now - timedelta(days=1), next_update=now + timedelta(days=365 * 30)))
            issued = ca.issue(pki.Identity(DEMO_OPERATOR, bin=DEMO_OPERATOR_BIN, organisation=DEMO_OPERATOR),
                              purpose="signature", roles=["legal_entity"], not_before=now - timedelta(days=1),
                              not_after=now + timedelta(days=365 * 20))
            part = keyfile.with_suffix(".part")
            part.write_bytes(issued.key.private_pem() + issued.pem)
            part.chmod(0o600)
            part.rename(keyfile)
        return load_operator_key(keyfile)


def trust_demo_operator(conn: psycopg.Connection, directory: Path, *, actor: str) -> None:
    """What ``geoservice eds trust add`` + ``eds crl add`` do with the demo operator's CA and CRL
    (journaled; nothing added twice): for the demo loader, so that protocols verify. Makes the
    demo operator first when it is not there yet."""
    demo_operator(directory)
    add_certificate(conn, (directory / "operator-ca.cer").read_bytes(), actor=actor, client=None)
    add_crl(conn, (directory / "operator-ca.crl").read_bytes(), actor=actor, client=None)


def operator_key(key_file: str | None, password: str | None, var_dir: Path) -> OperatorKey:
    """The configured key (settings ``operator_key_file``/``operator_key_password``), else the
    demo operator under ``var_dir/operator``."""
    if key_file:
        return load_operator_key(Path(key_file), password)
    return demo_operator(var_dir / "operator")


# --- building the protocol from the journal -----------------------------------------------------

def _iso(value: Any) -> str | None:
    """An end time from an event's detail, as the journal stamps times (µs, Z)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return stamp(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return value


def _amount(value: Any) -> str | None:
    try:
        return money(value) if value is not None else None
    except ArithmeticError:
        return str(value)


def build(auction_id: int, chain: Sequence[Event]) -> dict[str, Any]:
    """The protocol of ``auction_id`` from its journal events alone (a pure function: ``verify``
    and anyone with an export recompute the same bytes)."""
    published = next((e for e in chain if e.kind == "auction.published"), None)
    detail = published.detail if published else {}
    missing = [] if published else ["auction.published"]
    missing += [f"auction.published.{k}" for k in PUBLISHED_KEYS if published and k not in detail]
    codes = detail.get("codes")
    lot = {"id": auction_id, "number": detail.get("number"), "name": detail.get("name"),
           "codes": [str(c) for c in codes] if isinstance(codes, list) else None,
           "starting_bonus": _amount(detail.get("starting_bonus")), "step": _amount(detail.get("step"))}

    def first(kind: str) -> Event | None:
        return next((e for e in chain if e.kind == kind), None)

    def at(event: Event | None) -> str | None:
        return stamp(event.at) if event else None

    def bid(e: Event) -> dict[str, Any]:
        return {"seq": e.seq, "at": stamp(e.at), "participant": e.participant, "amount": money(e.amount)}

    bids = [bid(e) for e in chain if e.kind == "bid.submitted"]
    extensions = []
    for e in chain:
        if e.kind == "auction.extended":
            old = e.detail.get("old_end", e.detail.get("from"))
            new = e.detail.get("new_end", e.detail.get("to", e.detail.get("ends_at")))
            if old is None or new is None:
                missing.append(f"auction.extended.{e.seq}")
            extensions.append({"seq": e.seq, "at": stamp(e.at), "participant": e.participant,
                               "old_end": _iso(old), "new_end": _iso(new)})
    # The highest accepted bid, recomputed: the first to reach the top amount leads (an ascending
    # auction accepts only higher bids, so ties cannot be accepted; first is the honest tiebreak).
    top = None
    for e in chain:
        if e.kind == "bid.submitted" and e.amount is not None and (top is None or e.amount > top.amount):
            top = e
    deal = first("deal.concluded")
    winner = None
    discrepancies = []
    if deal is not None:
        number = deal.participant if deal.participant is not None else deal.detail.get("winner")
        bonus = money(deal.amount) if deal.amount is not None else _amount(deal.detail.get("bonus"))
        winner = {"participant": number, "bonus": bonus, "seq": deal.seq, "at": stamp(deal.at)}
        # The single-participant rule concludes without bids, at the starting bonus.
        unopposed = top is None and bonus is not None and bonus == lot["starting_bonus"]
        if not unopposed and (top is None or top.participant != number or money(top.amount) != bonus):
            discrepancies.append({"code": "protocol.deal_differs",
                                  "deal": f"{number} / {bonus}",
                                  "bids": f"{top.participant} / {money(top.amount)}" if top else "-"})
    elif top is not None and first("auction.closed") is not None:
        discrepancies.append({"code": "protocol.no_deal", "deal": "-",
                              "bids": f"{top.participant} / {money(top.amount)}"})
    final = next((e for e in reversed(chain) if e.kind in ("auction.closed", "auction.cancelled",
                                                            "auction.failed")), None)
    last = chain[-1] if chain else None
    return {
        "format": FORMAT,
        "auction": lot,
        "outcome": final.kind.removeprefix("auction.") if final else None,
        "published_at": at(published),
        "opened_at": at(first("auction.opened")),
        "closed_at": at(final),
        "participants": sorted({e.participant for e in chain if e.kind == "participant.admitted"
                                and e.participant is not None}),
        "winner": winner,
        "bids": bids,
        "withdrawn": [bid(e) for e in chain if e.kind == "bid.withdrawn"],
        "changed": [bid(e) for e in chain if e.kind == "bid.changed"],
        "rejected": sum(1 for e in chain if e.kind == "bid.rejected"),
        "extensions": extensions,
        "discrepancies": discrepancies,
        "missing": missing,
        "journal": {"last_seq": last.seq if last else 0,
                    "last_hash": last.hash.hex() if last else auction_journal.GENESIS.hex()},
    }


def canonical(protocol: dict[str, Any]) -> bytes:
    return rfc8785.dumps(protocol)


# --- the human-readable documents ---------------------------------------------------------------

def _t(code: str, lang: str, **params: Any) -> str:
    return MESSAGES[code][lang].format(**params)


def _summary(protocol: dict[str, Any], sha256_hex: str, lang: str) -> list[tuple[str, Any]]:
    """The protocol's summary table, (message code, value) rows: the same in the HTML and the PDF."""
    lot, winner = protocol["auction"], protocol["winner"]
    return [
        ("protocol.lot", lot["name"]), ("protocol.number", lot["number"]),
        ("protocol.blocks", ", ".join(lot["codes"] or []) or None),
        ("protocol.starting_bonus", lot["starting_bonus"]), ("protocol.step", lot["step"]),
        ("protocol.outcome", _t(OUTCOMES[protocol["outcome"]], lang) if protocol["outcome"] in OUTCOMES else None),
        ("protocol.opened_at", protocol["opened_at"]), ("protocol.closed_at", protocol["closed_at"]),
        ("protocol.participants", len(protocol["participants"])),
        ("protocol.winner", winner["participant"] if winner else None),
        ("protocol.final_bonus", winner["bonus"] if winner else None),
        ("protocol.rejected", protocol["rejected"]),
        ("protocol.last_seq", protocol["journal"]["last_seq"]),
        ("protocol.last_hash", protocol["journal"]["last_hash"]), ("protocol.sha256", sha256_hex),
    ]


def render_html(protocol: dict[str, Any], sha256_hex: str, lang: str) -> str:
    """A plain, printable page in ``lang`` (kk or ru); every value escaped."""
    def e(value: Any) -> str:
        return html.escape("—" if value is None else str(value))

    lot = protocol["auction"]
    title = _t("protocol.title", lang, number=lot["number"] or lot["id"])
    rows = _summary(protocol, sha256_hex, lang)
    out = [f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{e(title)}</title>',
           "<style>body{font-family:serif;margin:2em}table{border-collapse:collapse}"
           "td,th{border:1px solid #000;padding:2px 6px;text-align:left}"
           ".hash{font-family:monospace;word-break:break-all}</style></head><body>",
           f"<h1>{e(title)}</h1>", "<table>"]
    out += [f"<tr><th>{e(_t(code, lang))}</th><td>{e(value)}</td></tr>" for code, value in rows]
    out.append("</table>")
    sections = (("protocol.bids", protocol["bids"]), ("protocol.withdrawn", protocol["withdrawn"]),
                ("protocol.changed", protocol["changed"]))
    for code, items in sections:
        if code != "protocol.bids" and not items:
            continue
        out.append(f"<h2>{e(_t(code, lang))}</h2><table><tr><th>{e(_t('protocol.seq', lang))}</th>"
                   f"<th>{e(_t('protocol.time', lang))}</th><th>{e(_t('protocol.participant', lang))}</th>"
                   f"<th>{e(_t('protocol.amount', lang))}</th></tr>")
        out += [f"<tr><td>{e(b['seq'])}</td><td>{e(b['at'])}</td><td>{e(b['participant'])}</td>"
                f"<td>{e(b['amount'])}</td></tr>" for b in items]
        out.append("</table>")
    out.append(f"<h2>{e(_t('protocol.extensions', lang))}</h2><table><tr><th>{e(_t('protocol.seq', lang))}</th>"
               f"<th>{e(_t('protocol.time', lang))}</th><th>{e(_t('protocol.old_end', lang))}</th>"
               f"<th>{e(_t('protocol.new_end', lang))}</th></tr>")
    out += [f"<tr><td>{e(x['seq'])}</td><td>{e(x['at'])}</td><td>{e(x['old_end'])}</td><td>{e(x['new_end'])}</td>"
            "</tr>" for x in protocol["extensions"]]
    out.append("</table>")
    notes = [_t(d["code"], lang, deal=d["deal"], bids=d["bids"]) for d in protocol["discrepancies"]]
    notes += [_t("protocol.missing", lang, what=m) for m in protocol["missing"]]
    if notes:
        out.append("<ul>" + "".join(f"<li>{e(n)}</li>" for n in notes) + "</ul>")
    out.append(f'<p>{e(_t("protocol.signed_note", lang))}</p><p class="hash">SHA-256 {e(sha256_hex)}</p>')
    out.append("</body></html>\n")
    return "\n".join(out)



# The PDF's font: Debian's DejaVu Sans (package fonts-dejavu-core) has every Kazakh letter.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}


def _font(name: str) -> Path:
    path = FONT_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the protocol's PDF needs the DejaVu Sans font (Debian package "
                                "fonts-dejavu-core; `make system` installs it)")
    return path


def render_pdf(protocol: dict[str, Any], sha256_hex: str, lang: str) -> bytes:
    """The printable page of ``render_html`` as a PDF in ``lang`` (kk or ru), the same content.
    Deterministic: the same protocol gives the same bytes (the creation date is the protocol's
    closing time, the file id a hash of the content), so its SHA-256 can be journaled and checked."""
    from fpdf import FPDF  # imported here: only the protocol's maker and its readers need it

    def v(value: Any) -> str:
        return "—" if value is None else str(value)

    lot = protocol["auction"]
    title = _t("protocol.title", lang, number=lot["number"] or lot["id"])
    pdf = FPDF(format="A4")
    for style, name in FONTS.items():
        pdf.add_font("DejaVu", style, str(_font(name)))
    when = protocol["closed_at"] or protocol["published_at"]
    pdf.set_creation_date(datetime.fromisoformat(when.replace("Z", "+00:00")) if when
                          else datetime(2000, 1, 1, tzinfo=UTC))
    pdf.set_title(title)
    pdf.set_lang(lang)
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, 15)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    rows = _summary(protocol, sha256_hex, lang)
    pdf.set_font("DejaVu", "", 9)
    with pdf.table(col_widths=(2, 3), text_align="LEFT", first_row_as_headings=False) as table:
        for code, value in rows:
            table.row((_t(code, lang), v(value)))

    def heading(code: str) -> None:
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", 11)
        pdf.multi_cell(0, 7, _t(code, lang), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)

    sections = (("protocol.bids", protocol["bids"]), ("protocol.withdrawn", protocol["withdrawn"]),
                ("protocol.changed", protocol["changed"]))
    for code, items in sections:
        if code != "protocol.bids" and not items:
            continue
        heading(code)
        with pdf.table(col_widths=(1, 3, 1.5, 2), text_align="LEFT") as table:
            table.row([_t(c, lang) for c in ("protocol.seq", "protocol.time", "protocol.participant",
                                              "protocol.amount")])
            for b in items:
                table.row((v(b["seq"]), v(b["at"]), v(b["participant"]), v(b["amount"])))
    heading("protocol.extensions")
    with pdf.table(col_widths=(1, 2, 2, 2), text_align="LEFT") as table:
        table.row([_t(c, lang) for c in ("protocol.seq", "protocol.time", "protocol.old_end", "protocol.new_end")])
        for x in protocol["extensions"]:
            table.row((v(x["seq"]), v(x["at"]), v(x["old_end"]), v(x["new_end"])))
    notes = [_t(d["code"], lang, deal=d["deal"], bids=d["bids"]) for d in protocol["discrepancies"]]
    notes += [_t("protocol.missing", lang, what=m) for m in protocol["missing"]]
    pdf.ln(3)
    for note in notes:
        pdf.multi_cell(0, 5, f"• {note}", new_x="LMARGIN", new_y="NEXT", align="L")
    # Left-aligned: fpdf2 justifies by default, which spreads a line with a long command apart.
    pdf.multi_cell(0, 5, _t("protocol.signed_note", lang), new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.multi_cell(0, 5, _t("protocol.pdf_verify", lang, number=lot["number"] or lot["id"]),
                   new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.multi_cell(0, 5, f"SHA-256 {sha256_hex}", new_x="LMARGIN", new_y="NEXT", align="L")
    return bytes(pdf.output())


# --- storing -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Stored:
    auction_id: int
    canonical: str
    sha256: bytes
    html: dict[str, str]
    signature: bytes
    signer: str
    last_seq: int
    created_at: datetime
    # The PDF documents by language; None for a protocol made before they were (migration 0027).
    pdf: dict[str, bytes | None] = field(default_factory=dict)

    @property
    def protocol(self) -> dict[str, Any]:
        return json.loads(self.canonical)

    def public(self) -> dict[str, Any]:
        return {"auction": self.auction_id, "canonical": self.canonical, "sha256": self.sha256.hex(),
                "signature": base64.b64encode(self.signature).decode(), "signer": self.signer,
                "last_seq": self.last_seq, "created_at": stamp(self.created_at)}


def stored(conn: psycopg.Connection, auction_id: int) -> Stored | None:
    row = conn.execute("SELECT auction_id, canonical, sha256, html_kk, html_ru, signature, signer, last_seq, "
                       "created_at, pdf_kk, pdf_ru FROM auction_protocols WHERE auction_id = %s",
                       (auction_id,)).fetchone()
    if row is None:
        return None
    return Stored(int(row[0]), row[1], bytes(row[2]), {"kk": row[3], "ru": row[4]}, bytes(row[5]), row[6],
                  int(row[7]), row[8], {"kk": _bytes(row[9]), "ru": _bytes(row[10])})


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def pdf_of(saved: Stored, lang: str) -> bytes:
    """The protocol's PDF in ``lang``: the stored one, or for a protocol made before PDFs were
    stored, rendered now from its stored JSON (deterministic, so the same bytes every time)."""
    kept = saved.pdf.get(lang)
    return kept if kept is not None else render_pdf(saved.protocol, saved.sha256.hex(), lang)


def resolve(conn: psycopg.Connection, ref: str | int) -> int:
    """An auction's id from its id or its number (AUC-YYYY-NNNN); ``auction.not_found`` (404)."""
    text = str(ref).strip()
    if text.isascii() and text.isdigit():
        row = conn.execute("SELECT id FROM auctions WHERE id = %s", (int(text),)).fetchone()
    else:
        row = conn.execute("SELECT id FROM auctions WHERE number = %s", (text.upper(),)).fetchone()
    if row is None:
        raise Problem("protocol.no_auction", 404, auction=text[:40])
    return int(row[0])


def make_protocol(conn: psycopg.Connection, auction_id: int, signer: OperatorKey) -> Stored:
    """The protocol of a final auction, made and stored once, in the caller's transaction (the
    one that closed it, or the next); the stored one when it exists. Tells the winner and the
    other participants, and lets the lot's applications go on with the winner."""
    status = conn.execute("SELECT status FROM auctions WHERE id = %s FOR SHARE", (auction_id,)).fetchone()
    if status is None:
        raise Problem("protocol.no_auction", 404, auction=str(auction_id))
    if status[0] not in FINAL:
        raise Problem("protocol.not_final", 409, auction=str(auction_id), state=status[0])
    # One maker at a time per auction: the second finds the first's row after waiting.
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('auction_protocol', %s))", (auction_id,))
    existing = stored(conn, auction_id)
    if existing is not None:
        return existing
    protocol = build(auction_id, auction_journal.events(conn, auction_id))
    body = canonical(protocol)
    digest = hashlib.sha256(body).digest()
    pages = {lang: render_html(protocol, digest.hex(), lang) for lang in LANGUAGES}
    pdfs = {lang: render_pdf(protocol, digest.hex(), lang) for lang in LANGUAGES}
    signature = signer.sign(body)
    conn.execute("INSERT INTO auction_protocols (auction_id, canonical, sha256, html_kk, html_ru, signature, signer, "
                 "last_seq, pdf_kk, pdf_ru) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                 (auction_id, body.decode(), digest, pages["kk"], pages["ru"], signature, signer.subject,
                  protocol["journal"]["last_seq"], pdfs["kk"], pdfs["ru"]))
    # The documents' digests in the platform's chained journal: verify checks the stored pages
    # against them, so a later change of the protocol.* texts does not flag this protocol.
    journal(conn, "operator", MADE, "ok", object=f"auction:{auction_id}",
            detail={"sha256": digest.hex(),
                    "html_sha256": {lang: hashlib.sha256(pages[lang].encode()).hexdigest() for lang in LANGUAGES},
                    "pdf_sha256": {lang: hashlib.sha256(pdfs[lang]).hexdigest() for lang in LANGUAGES}})
    winner = protocol["winner"]
    _tell(conn, auction_id, protocol, winner["participant"] if winner else None, winner["bonus"] if winner else None)
    # A cancelled or failed lot's applications were settled by open_due, in the same transaction.
    if status[0] == "closed" and winner and winner["participant"] is not None:
        continue_with(conn, auction_id, int(winner["participant"]), actor="auction.protocol")
    made = stored(conn, auction_id)
    assert made is not None
    return made


def _participants(conn: psycopg.Connection, auction_id: int) -> list[tuple[int, int, str | None, str | None]]:
    return [(int(r[0]), int(r[1]), r[2], r[3]) for r in conn.execute(
        "SELECT number, account_id, iin, bin FROM auction_participants WHERE auction_id = %s AND status = 'admitted' "
        "ORDER BY number", (auction_id,))]


def _tell(conn: psycopg.Connection, auction_id: int, protocol: dict[str, Any], winner: int | None,
          bonus: str | None) -> None:
    """The cabinet notices: the winner's, and the result for every other admitted participant."""
    number = protocol["auction"]["number"] or str(auction_id)
    for participant, account, _, _ in _participants(conn, auction_id):
        if winner is not None and participant == winner:
            notify(conn, account, "notice.auction_won", auction=number, participant=participant, bonus=bonus)
        elif winner is not None:
            notify(conn, account, "notice.auction_lost", auction=number, participant=participant, winner=winner,
                   bonus=bonus)
        else:
            notify(conn, account, "notice.auction_no_winner", auction=number, participant=participant)


def continue_with(conn: psycopg.Connection, auction_id: int, winner: int | None, *, actor: str) -> list[str]:
    """The licence procedure goes on with the winner: of the lot's applications (an auction made
    from a first-month lot), the winner's keep their claims on the lot's blocks pending (their
    procedure continues), the others' claims on those blocks are released. A lot made by an
    officer has no applications: nothing to do. ``winner`` None (the parcel goes to a new
    auction): every one of them is released. Returns the released applications' numbers."""
    row = conn.execute("SELECT l.applications, l.block_ids FROM auctions a JOIN lots l ON l.id = a.lot_id "
                       "WHERE a.id = %s", (auction_id,)).fetchone()
    if row is None:
        return []
    applications, blocks = list(row[0]), list(row[1])
    who = conn.execute("SELECT iin, bin FROM auction_participants WHERE auction_id = %s AND number = %s",
                       (auction_id, winner)).fetchone() if winner is not None else None
    iin, bin_ = who if who is not None else (None, None)
    mine = [int(r[0]) for r in conn.execute(
        "SELECT id FROM applications WHERE id = ANY(%s) AND (applicant_bin = %s OR (%s::text IS NULL AND "
        "applicant_iin = %s))", (applications, bin_, bin_, iin))] if who is not None else []
    others = [a for a in applications if a not in mine]
    # Release first: the winner's claims may come back to pending (a next bidder after an unpaid
    # winner) without two groups' claims on a block at once.
    released = [r[0] for r in conn.execute(
        "UPDATE application_claims c SET state = 'released' FROM applications a WHERE a.id = c.application_id "
        "AND c.application_id = ANY(%s) AND c.block_id = ANY(%s) AND c.state = 'pending' RETURNING a.number",
        (others, blocks))]
    conn.execute("UPDATE application_claims SET state = 'pending' WHERE application_id = ANY(%s) "
                 "AND block_id = ANY(%s) AND state = 'released'", (mine, blocks))
    numbers = sorted(set(released))
    journal(conn, actor, "auction.result", "ok", object=f"auction:{auction_id}", client=None,
            detail={"winner": winner, "continues": sorted(mine), "released": numbers})
    return numbers


# --- verification --------------------------------------------------------------------------------

@dataclass
class Report:
    auction_id: int
    number: str | None
    problems: list[dict[str, Any]] = field(default_factory=list)  # {"code", "params"}
    sha256: str | None = None
    last_seq: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, code: str, **params: Any) -> None:
        self.problems.append({"code": code, "params": params})


def _first_difference(a: dict[str, Any], b: dict[str, Any]) -> str:
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            return key
    return "-"


def verify(conn: psycopg.Connection, auction_id: int, *, trust: TrustStore | None = None,
           revocation: RevocationSource | None = None, now: datetime | None = None) -> Report:
    """Recompute the protocol from the journal and compare it with the stored JSON, its SHA-256
    and the documents; check the operator's signature against the trusted CAs (the database's,
    unless given) as of the protocol's time; check the journal's chain against the auction's
    head. Every disagreement is a problem with its reason (``Report.problems``)."""
    head = conn.execute("SELECT number, status, last_seq, last_hash FROM auctions WHERE id = %s",
                        (auction_id,)).fetchone()
    if head is None:
        raise Problem("protocol.no_auction", 404, auction=str(auction_id))
    report = Report(auction_id, head[0])
    chain = auction_journal.events(conn, auction_id)
    for problem in auction_journal.chain_problems(chain, (int(head[2]), bytes(head[3]))):
        report.add("protocol.chain_broken", detail=problem)
    saved = stored(conn, auction_id)
    if saved is None:
        report.add("protocol.missing_protocol", state=head[1])
        return report
    report.sha256, report.last_seq = saved.sha256.hex(), saved.last_seq
    body = saved.canonical.encode()
    if hashlib.sha256(body).digest() != saved.sha256:
        report.add("protocol.hash_differs")
    recomputed = build(auction_id, chain)
    try:
        kept = saved.protocol
    except ValueError:
        kept = {}
    if canonical(recomputed) != body:
        report.add("protocol.json_differs", part=_first_difference(recomputed, kept))
    made = _journaled(conn, MADE, auction_id)
    pages = made[-1][1].get("html_sha256") if made else None
    for lang in LANGUAGES:
        if isinstance(pages, dict) and lang in pages:
            # As made: the page's digest journaled when the protocol was made.
            same = hashlib.sha256(saved.html[lang].encode()).hexdigest() == pages[lang]
        else:
            # Made before the digests were journaled: as today's texts render it.
            same = render_html(recomputed, hashlib.sha256(canonical(recomputed)).hexdigest(), lang) == saved.html[lang]
        if not same:
            report.add("protocol.html_differs", language=lang)
    pdfs = made[-1][1].get("pdf_sha256") if made else None
    for lang in LANGUAGES:
        kept_pdf = saved.pdf.get(lang)
        if isinstance(pdfs, dict) and lang in pdfs:
            # As made; a PDF journaled but no longer stored was removed.
            same = kept_pdf is not None and hashlib.sha256(kept_pdf).hexdigest() == pdfs[lang]
        elif kept_pdf is not None:
            # Stored without a journaled digest: it must be what the protocol renders to today.
            same = render_pdf(recomputed, hashlib.sha256(canonical(recomputed)).hexdigest(), lang) == kept_pdf
        else:
            same = True  # made before PDFs were stored: nothing to check
        if not same:
            report.add("protocol.pdf_differs", language=lang)
    for item in recomputed["discrepancies"]:
        report.add(item["code"], deal=item["deal"], bids=item["bids"])
    if trust is None or revocation is None:
        loaded_trust, loaded_revocation = load_trust(conn)
        trust, revocation = trust or loaded_trust, revocation or loaded_revocation
    try:
        checked = verify_cms(saved.signature, body, trust=trust, revocation=revocation, at=saved.created_at,
                             now=now or datetime.now(UTC), purpose="signature")
    except Problem as problem:
        report.add("protocol.signature_invalid", signer=saved.signer)
        report.add(problem.key, **problem.params)
    else:
        if not checked.valid:
            report.add("protocol.signature_invalid", signer=saved.signer)
            for signer in checked.signers:
                for p in signer.problems:
                    report.add(p["code"], **p["params"])
    return report


# --- the unpaid-winner rule ----------------------------------------------------------------------

@dataclass(frozen=True)
class Winner:
    participant: int | None
    bonus: str | None
    since: datetime
    replaced: tuple[int, ...] = ()  # winners who did not pay, in order
    new_auction: str | None = None  # set once the rule made a new auction: nothing more to do


def _journaled(conn: psycopg.Connection, action: str, auction_id: int) -> list[tuple[datetime, dict[str, Any]]]:
    """The platform journal's rows of ``action`` on the auction, in order: sealed rows and those
    still in the intake (moved atomically by the sealer: never in both)."""
    rows = conn.execute(
        "SELECT at, detail FROM (SELECT at, detail, 0 AS part, seq AS n FROM journal WHERE action = %s AND "
        "object = %s UNION ALL SELECT at, detail, 1, id FROM journal_intake WHERE action = %s AND object = %s) r "
        "ORDER BY part, n", (action, f"auction:{auction_id}", action, f"auction:{auction_id}")).fetchall()
    return [(r[0], r[1]) for r in rows]


def _unpaid_rows(conn: psycopg.Connection, auction_id: int) -> list[tuple[datetime, dict[str, Any]]]:
    return _journaled(conn, UNPAID, auction_id)


def current_winner(conn: psycopg.Connection, auction_id: int) -> Winner | None:
    """Who must pay now: the protocol's winner, or the next bidder after unpaid ones. None when
    the auction has no protocol or no winner."""
    saved = stored(conn, auction_id)
    if saved is None or saved.protocol["winner"] is None:
        return None
    won = saved.protocol["winner"]
    winner = Winner(won["participant"], won["bonus"], saved.created_at)
    for at, detail in _unpaid_rows(conn, auction_id):
        replaced = (*winner.replaced, int(detail["unpaid"]))
        winner = Winner(detail.get("winner"), detail.get("bonus"), at, replaced, detail.get("new_auction"))
    return winner


def _payer(conn: psycopg.Connection, auction_id: int, participant: int) -> tuple[int, str] | None:
    row = conn.execute("SELECT account_id, coalesce(bin, iin) FROM auction_participants WHERE auction_id = %s "
                       "AND number = %s", (auction_id, participant)).fetchone()
    return (int(row[0]), row[1]) if row else None


def _repeat(conn: psycopg.Connection, auction_id: int, now: datetime, actor: str) -> str:
    """A new auction for the same parcel with the old lot's own figures; it starts as long after
    now as the old one started after it was made (the same notice period)."""
    # The lots' one numbering (imported here: cadastre.auctions imports this module).
    from cadastre.auctions import take_number

    number = take_number(conn)
    row = conn.execute(
        """INSERT INTO auctions (number, name, kind, mineral, authority, codes, block_ids, geom, area_km2,
                block_count, minimum_spend, starting_bonus, participation_fee, deposit, step, starts_at, duration,
                extension, ends_at, bid_changes, requested_by, created_by)
            SELECT %s, name, kind, mineral, authority, codes, block_ids, geom, area_km2, block_count,
                   minimum_spend, starting_bonus, participation_fee, deposit, step,
                   %s + greatest(starts_at - created_at, interval '0'), duration, extension,
                   %s + greatest(starts_at - created_at, interval '0') + duration, bid_changes, requested_by, %s
              FROM auctions WHERE id = %s
            RETURNING id, name, codes, starting_bonus, step""", (number, now, now, actor, auction_id)).fetchone()
    assert row is not None
    auction_journal.append(conn, int(row[0]), "auction.published", detail={
        "number": number, "name": row[1], "codes": list(row[2]), "starting_bonus": money(row[3]),
        "step": money(row[4]), "repeat_of": auction_id})
    return number


def _bonus_paid(conn: psycopg.Connection, auction_id: int, payer: str) -> bool:
    return conn.execute("SELECT 1 FROM payments WHERE auction_id = %s AND payer = %s AND purpose = 'bonus'",
                        (auction_id, payer)).fetchone() is not None


def winner_unpaid(conn: psycopg.Connection, auction_id: int, now: datetime, *, rule: str, days: int,
                  actor: str = "auction.unpaid") -> Winner | None:
    """Apply the unpaid-winner rule (settings ``auction_unpaid_rule``, ``auction_unpaid_days``):
    when the current winner has not paid the bonus (a 'bonus' row in ``payments``) within
    ``days`` of becoming the winner, "next-bidder" makes the next highest bidder (by their own
    highest accepted bid, in the protocol) the winner at that bid, and "new-auction" (or a
    next-bidder rule with nobody left) puts the parcel up again. Either is a new fact (a platform
    journal row ``auction.unpaid`` + notices), the frozen auction and its protocol stay as they
    are. Returns the winner after the rule (the same when nothing was due); None without one."""
    if rule not in RULES:
        raise ValueError(f"auction_unpaid_rule must be one of {RULES}, not {rule!r}")
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('auction_unpaid', %s))", (auction_id,))
    winner = current_winner(conn, auction_id)
    if winner is None or winner.new_auction is not None or winner.participant is None:
        return winner
    payer = _payer(conn, auction_id, winner.participant)
    if now < winner.since + timedelta(days=days) or (payer is not None and _bonus_paid(conn, auction_id, payer[1])):
        return winner
    saved = stored(conn, auction_id)
    assert saved is not None
    protocol = saved.protocol
    name = protocol["auction"]["number"] or str(auction_id)
    out = {*winner.replaced, winner.participant}
    best: dict[int, Decimal] = {}
    for b in protocol["bids"]:
        if b["participant"] not in out:
            best[b["participant"]] = max(best.get(b["participant"], Decimal(0)), Decimal(b["amount"]))
    detail: dict[str, Any] = {"rule": rule, "unpaid": winner.participant, "days": days}
    if rule == "next-bidder" and best:
        # The highest remaining bid; between equal ones, the earlier bidder.
        order = {b["participant"]: b["seq"] for b in reversed(protocol["bids"])}
        nxt = max(best, key=lambda p: (best[p], -order[p]))
        detail |= {"winner": nxt, "bonus": money(best[nxt])}
    else:
        detail |= {"winner": None, "bonus": None, "new_auction": _repeat(conn, auction_id, now, actor)}
    journal(conn, actor, UNPAID, "ok", object=f"auction:{auction_id}", client=None, detail=detail)
    if payer is not None:
        notify(conn, payer[0], "notice.auction_unpaid", auction=name, participant=winner.participant)
    if detail["winner"] is not None:
        new = _payer(conn, auction_id, detail["winner"])
        if new is not None:
            notify(conn, new[0], "notice.auction_won", auction=name, participant=detail["winner"],
                   bonus=detail["bonus"])
        continue_with(conn, auction_id, detail["winner"], actor=actor)
    else:
        continue_with(conn, auction_id, None, actor=actor)  # nobody: the old winner's claims go too
    return current_winner(conn, auction_id)


def protocols_due(conn: psycopg.Connection, signer: OperatorKey, *, limit: int = 100) -> list[int]:
    """Make the missing protocols of final auctions (a closing transaction that committed but
    whose protocol did not, e.g. a process killed in between; a lot cancelled or failed when it
    was due to open): for the ticker, every tick. The auctions made now."""
    rows = conn.execute(
        "SELECT a.id FROM auctions a WHERE a.status IN ('closed', 'cancelled', 'failed') AND NOT EXISTS "
        "(SELECT 1 FROM auction_protocols p WHERE p.auction_id = a.id) ORDER BY a.id LIMIT %s", (limit,)).fetchall()
    made = []
    for (auction_id,) in rows:
        make_protocol(conn, int(auction_id), signer)
        made.append(int(auction_id))
    return made


def unpaid_due(conn: psycopg.Connection, now: datetime, *, rule: str, days: int) -> list[int]:
    """``winner_unpaid`` for every closed auction with a protocol whose winner's time to pay has
    passed (for the ticker that closes auctions); the auctions where the rule acted."""
    acted = []
    rows = conn.execute("SELECT p.auction_id FROM auction_protocols p JOIN auctions a ON a.id = p.auction_id "
                        "WHERE a.status = 'closed' AND a.winner IS NOT NULL AND p.created_at <= %s ORDER BY 1",
                        (now - timedelta(days=days),)).fetchall()
    for (auction_id,) in rows:
        before = current_winner(conn, int(auction_id))
        after = winner_unpaid(conn, int(auction_id), now, rule=rule, days=days)
        if after != before:
            acted.append(int(auction_id))
    return acted


__all__ = ["OperatorKey", "Report", "Stored", "Winner", "build", "canonical", "continue_with", "current_winner",
           "demo_operator", "load_operator_key", "make_protocol", "operator_key", "pdf_of", "protocols_due",
           "render_html", "render_pdf", "resolve", "stored", "trust_demo_operator", "unpaid_due", "verify",
           "winner_unpaid"]

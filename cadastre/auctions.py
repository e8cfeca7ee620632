"""Auction lots and registration (issue 10, engineer A): lots made from first-month conflicts or
by an officer, published with their figures; signed registrations, eligibility, payments,
admission with anonymous numbers; and what happens when a lot is due to open.

* **Where a lot comes from.** A window lot (table ``lots`` of migration 0013, made by
  ``cadastre.applications.form_lots``) becomes an auction when the competent authority puts it
  up (``POST /api/auctions`` with ``{"lot": id, ...}``), and only once its window has closed: while
  the window is open, later applications still change the lot (and ``form_lots`` recomputes only
  ``forming`` lots). The lot's applicants are the auction's ``requested_by``. An officer may also
  put up any parcel (``{"parcel": {"blocks"|"geometry"}, "kind", "mineral", "name", ...}``).
* **Figures.** The starting bonus and the start are the officer's; the fee, deposit, step,
  duration and extension come from the settings (``Defaults``) unless the officer gives them,
  and are stored on the lot. The minimum annual spend is data: ``cadastre/auction_rules.toml``.
* **Registration** is signed like an application: a detached CMS over the RFC 8785 JSON of
  ``{"auction": number, "applicant": {"iin"}|{"bin"}}``, by the person or the company's head or
  holder of the right to sign. A bad signature is refused outright (nothing stored: it is not the
  applicant's registration). The registers (active, no tax debt) and the payments (fee and
  deposit) decide admission; an ineligible registrant is stored as refused with the reasons.
* **Anonymity.** A participant's number is random (not the order of registration); the auction's
  journal names participants by number only, and the public answers never carry identities.
* **Opening** (``open_due``): no admitted participant: failed; one admitted who asked for the
  auction: cancelled and the right granted at the starting bonus (seed rule; recorded as the
  auction's winner and final bonus, journaled ``deal.concluded``, and the participant notified:
  the licence itself goes through the authority's procedure, not issued here); otherwise open,
  each admitted participant journaled ``participant.identified``."""

from __future__ import annotations

import json
import secrets
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
import rfc8785
from psycopg import sql
from psycopg.types.json import Jsonb

from cadastre import auction_journal
from cadastre.applications import IIN, KINDS, MINERALS, render_reason, signature_reasons, window_ends
from cadastre.auction_protocol import continue_with
from cadastre.eds.revocation import RevocationSource
from cadastre.eds.trust import TrustStore
from cadastre.eds.verify import verify_cms
from cadastre.notifications import notify
from cadastre.parcel_conflicts import active_licences, lots_at_auction, pending_applications
from cadastre.parcels import Overlap, Parcel, ParcelSQL, check_parcel, overlap_source, parse_parcel
from cadastre.payments import Payments, covers
from cadastre.registers import StateRegisters
from geoservice.kernel.errors import Issue, Location, Problem
from layers.access import Person
from layers.grid import DEFAULT_DATUM, block_id
from layers.store import journal

RULES = Path(__file__).with_name("auction_rules.toml")
STATUSES = ("published", "open", "closed", "cancelled", "failed")
CENT = Decimal("0.01")
MAX_MONEY = Decimal("1e17")
NUMBERS = (100_000, 999_999)  # anonymous participant numbers: six digits, drawn at random
GEOJSON_DIGITS = 7
SYSTEM = "system"


# --- rules as data ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SpendRules:
    kinds: tuple[str, ...]
    periods: tuple[str, ...]
    bands: tuple[tuple[int, int, dict[str, int]], ...]
    above: int
    per_block_over: dict[str, int]


@lru_cache(maxsize=4)
def spend_rules(path: Path = RULES) -> SpendRules:
    data = tomllib.loads(path.read_text(encoding="utf-8"))["minimum_spend"]
    periods = tuple(data["periods"])
    bands = tuple((int(b["blocks_from"]), int(b["blocks_to"]), {p: int(b[p]) for p in periods})
                  for b in data["bands"])
    over = data["per_block_over"]
    return SpendRules(tuple(data["kinds"]), periods, bands, int(over["above"]),
                      {p: int(over[p]) for p in periods})


def minimum_spend(kind: str, blocks: int, rules: SpendRules | None = None) -> dict[str, int]:
    """The minimum annual spend in MCI for a licence of ``kind`` over ``blocks`` blocks, by period
    (empty for kinds the table does not govern)."""
    rules = rules or spend_rules()
    if kind not in rules.kinds or blocks < 1:
        return {}
    for low, high, figures in rules.bands:
        if low <= blocks <= high:
            return dict(figures)
    last = next(f for low, high, f in rules.bands if high == rules.above)
    extra = blocks - rules.above
    return {p: last[p] + extra * rules.per_block_over[p] for p in rules.periods}


@dataclass(frozen=True)
class Defaults:
    """The settings a new lot takes its figures from (read at the edge, passed down)."""
    fee_ratio: float
    deposit_ratio: float
    step_ratio: float
    duration_minutes: float
    extension_minutes: float
    bid_changes: bool = False

    @classmethod
    def from_settings(cls, settings: Any) -> Defaults:
        return cls(settings.auction_fee_ratio, settings.auction_deposit_ratio, settings.auction_step_ratio,
                   settings.auction_duration_minutes, settings.auction_extension_minutes,
                   settings.auction_bid_changes)


# --- reading the request ----------------------------------------------------------------------------

def _money(value: Any, name: str, *, positive: bool = True) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Problem("auctions.bad_amount", 422, location=Location(field=name), field=name)
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ValueError):
        raise Problem("auctions.bad_amount", 422, location=Location(field=name), field=name) from None
    if not amount.is_finite() or amount < 0 or (positive and amount == 0) or amount >= MAX_MONEY:
        raise Problem("auctions.bad_amount", 422, location=Location(field=name), field=name)
    return amount


def _minutes(value: Any, name: str, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 60 * 24 * 30 \
            or (positive and value <= 0):
        raise Problem("auctions.bad_minutes", 422, location=Location(field=name), field=name)
    return float(value)


def _instant(value: Any, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Problem("auctions.bad_time", 422, location=Location(field=name), field=name)
    return moment


def _applicant(value: Any, name: str = "applicant") -> tuple[str | None, str | None]:
    if not isinstance(value, dict) or len(value) != 1 or not set(value) <= {"iin", "bin"}:
        raise Problem("auctions.bad_applicant", 422, location=Location(field=name), field=name)
    (key, ident), = value.items()
    if not isinstance(ident, str) or not IIN.match(ident):
        raise Problem("auctions.bad_applicant", 422, location=Location(field=name), field=name)
    return (ident, None) if key == "iin" else (None, ident)


def _who(iin: str | None, bin_: str | None) -> dict[str, str]:
    return {"iin": iin} if iin else {"bin": bin_ or ""}


def _ratio(base: Decimal, ratio: float) -> Decimal:
    return (base * Decimal(str(ratio))).quantize(CENT)


CREATE_FIELDS = {"lot", "parcel", "kind", "mineral", "name", "starting_bonus", "starts_at", "participation_fee",
                 "deposit", "step", "duration_minutes", "extension_minutes", "requested_by"}


# --- making a lot -------------------------------------------------------------------------------------

def take_number(conn: psycopg.Connection) -> str:
    """AUC-YYYY-NNNN, gap-free per year: the year's row is locked to the end of the transaction."""
    row = conn.execute("SELECT extract(year FROM clock_timestamp() AT TIME ZONE 'Asia/Almaty')::int").fetchone()
    year = int(row[0])  # type: ignore[index]
    conn.execute("INSERT INTO auction_numbers (year) VALUES (%s) ON CONFLICT (year) DO NOTHING", (year,))
    got = conn.execute("UPDATE auction_numbers SET last = last + 1 WHERE year = %s RETURNING last", (year,)).fetchone()
    return f"AUC-{year}-{int(got[0]):04d}"  # type: ignore[index]


def _from_lot(conn: psycopg.Connection, lot: Any, now: datetime) -> dict[str, Any]:
    if isinstance(lot, bool) or not isinstance(lot, int):
        raise Problem("auctions.bad_field", 422, location=Location(field="lot"), field="lot")
    row = conn.execute("SELECT id, area, area_opened, applications, codes, status FROM lots WHERE id = %s FOR UPDATE",
                       (lot,)).fetchone()
    if row is None:
        raise Problem("auctions.lot_not_found", 404, lot=lot)
    lot_id, area, opened, app_ids, codes, status = row
    if status != "forming":
        raise Problem("auctions.lot_not_forming", 409, lot=lot_id, state=status)
    if opened is not None and now < window_ends(opened):
        raise Problem("auctions.window_open", 409, lot=lot_id, ends=window_ends(opened).isoformat())
    apps = conn.execute("SELECT kind, mineral, routed_to, applicant_iin, applicant_bin FROM applications "
                        "WHERE id = ANY(%s) ORDER BY id", (list(app_ids),)).fetchall()
    requested: list[dict[str, str]] = []
    for _, _, _, iin, bin_ in apps:
        if _who(iin, bin_) not in requested:
            requested.append(_who(iin, bin_))
    kind, mineral, authority = apps[0][0], apps[0][1], apps[0][2]
    return {"lot_id": lot_id, "kind": kind, "mineral": mineral, "authority": authority, "requested_by": requested,
            "parcel": Parcel(codes=tuple(codes)), "name": f"{area or 'lot'} / {lot_id}"}


def _from_parcel(form: dict[str, Any], grid_datum: str) -> dict[str, Any]:
    kind = KINDS.get(form.get("kind")) if isinstance(form.get("kind"), str) else None
    if kind is None or kind.parcel is None:
        raise Problem("auctions.unknown_kind", 422, kind=str(form.get("kind"))[:80])
    mineral = MINERALS.get(form.get("mineral")) if isinstance(form.get("mineral"), str) else None
    if kind.groups and (mineral is None or mineral.group not in kind.groups):
        raise Problem("auctions.unknown_mineral", 422, mineral=str(form.get("mineral"))[:80], kind=kind.id)
    name = form.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise Problem("auctions.bad_field", 422, location=Location(field="name"), field="name")
    requested_raw = form.get("requested_by", [])
    if not isinstance(requested_raw, list) or len(requested_raw) > 100:
        raise Problem("auctions.bad_field", 422, location=Location(field="requested_by"), field="requested_by")
    requested = [_who(*_applicant(r, f"requested_by[{i}]")) for i, r in enumerate(requested_raw)]
    return {"lot_id": None, "kind": kind.id, "mineral": mineral.id if mineral else None,
            "authority": kind.route(mineral), "requested_by": requested, "name": name.strip(),
            "parcel": parse_parcel(form.get("parcel"))}


@overlap_source
def live_auctions(conn: psycopg.Connection, parcel: ParcelSQL) -> list[Overlap]:
    """Lots published or being auctioned that the parcel's interior meets: a refusal (the blocks
    are being sold). Registered with ``cadastre.parcels`` when this module is imported."""
    query = sql.SQL("""
        WITH p AS (SELECT {geom} AS g)
        SELECT a.number, a.name, ST_AsGeoJSON(ST_CollectionExtract(ST_Intersection(a.geom, p.g), 3), {digits})
        FROM auctions a, p
        WHERE a.status IN ('published', 'open') AND a.geom && p.g AND ST_Relate(a.geom, p.g, 'T********')
        ORDER BY a.id""").format(geom=parcel.geom, digits=sql.Literal(GEOJSON_DIGITS))
    return [Overlap("auction", "refusal", "parcel.overlaps_auction", {"number": number},
                    json.loads(geometry) if geometry else None, id=number, name=name)
            for number, name, geometry in conn.execute(query, parcel.params).fetchall()]


# What an officer's parcel must not meet: rights in force or being decided, and lots being sold.
CONFLICTS = (active_licences, pending_applications, lots_at_auction, live_auctions)


def create_auction(conn: psycopg.Connection, form: Any, *, caller: Person, defaults: Defaults, now: datetime,
                   grid_datum: str = DEFAULT_DATUM, client: str | None = None) -> dict[str, Any]:
    """Put a lot up for auction and publish it (journal ``auction.published``), in the caller's
    transaction. The caller must be an officer of the competent authority."""
    if not isinstance(form, dict) or set(form) - CREATE_FIELDS or ("lot" in form) == ("parcel" in form):
        raise Problem("auctions.bad_request", 422)
    if "lot" in form and set(form) & {"parcel", "kind", "mineral", "requested_by"}:
        raise Problem("auctions.bad_request", 422)
    bonus = _money(form.get("starting_bonus"), "starting_bonus")
    starts_at = _instant(form.get("starts_at"), "starts_at")
    if starts_at <= now:
        raise Problem("auctions.starts_in_past", 422, location=Location(field="starts_at"), field="starts_at")
    fee = _money(form["participation_fee"], "participation_fee", positive=False) if "participation_fee" in form \
        else _ratio(bonus, defaults.fee_ratio)
    deposit = _money(form["deposit"], "deposit", positive=False) if "deposit" in form \
        else _ratio(bonus, defaults.deposit_ratio)
    step = _money(form["step"], "step") if "step" in form else max(_ratio(bonus, defaults.step_ratio), CENT)
    duration = _minutes(form.get("duration_minutes", defaults.duration_minutes), "duration_minutes", positive=True)
    extension = _minutes(form.get("extension_minutes", defaults.extension_minutes), "extension_minutes",
                         positive=False)
    # A window lot is locked (FOR UPDATE) and read; it changes only once everything is checked.
    lot = _from_lot(conn, form["lot"], now) if "lot" in form else _from_parcel(form, grid_datum)
    if lot["authority"] not in caller.authorities:
        raise Problem("auctions.not_competent", 403, authority=str(lot["authority"]))
    # A window lot's blocks are its applicants' own claims; any other parcel must be free.
    check = check_parcel(conn, lot["parcel"], grid_datum=grid_datum, programme=None,
                         sources=[] if lot["lot_id"] else list(CONFLICTS))
    if check.refusals:
        raise Problem("auctions.parcel_taken", 409, issues=[
            Issue(o.code, o.params, Location(field="parcel")) for o in check.refusals])
    codes = list(check.codes)
    if lot["lot_id"] is not None:
        # The lot leaves the window's recomputation (form_lots touches 'forming' lots only).
        conn.execute("UPDATE lots SET status = 'auction', updated_at = clock_timestamp() WHERE id = %s",
                     (lot["lot_id"],))
    spend = minimum_spend(lot["kind"], check.block_count)
    number = take_number(conn)
    ends_at = starts_at + timedelta(minutes=duration)
    row = conn.execute(
        "INSERT INTO auctions (number, name, lot_id, kind, mineral, authority, codes, block_ids, geom, area_km2, "
        "block_count, minimum_spend, starting_bonus, participation_fee, deposit, step, starts_at, duration, extension, "
        "ends_at, bid_changes, requested_by, created_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, "
        "ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326)), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "RETURNING id",
        (number, lot["name"], lot["lot_id"], lot["kind"], lot["mineral"], lot["authority"], codes,
         [block_id(c) for c in codes], json.dumps(check.geometry), check.area_km2, check.block_count, Jsonb(spend),
         bonus, fee, deposit, step, starts_at, timedelta(minutes=duration), timedelta(minutes=extension), ends_at,
         defaults.bid_changes, Jsonb(lot["requested_by"]), caller.actor)).fetchone()
    auction_id = int(row[0])  # type: ignore[index]
    auction_journal.append(conn, auction_id, "auction.published", amount=bonus,
                           detail={"number": number, "name": lot["name"], "kind": lot["kind"],
                                   "blocks": check.block_count, "starts_at": auction_journal.stamp(starts_at),
                                   "ends_at": auction_journal.stamp(ends_at), "step": auction_journal.money(step) or "",
                                   "lot": lot["lot_id"] or 0})
    journal(conn, caller.actor, "auction.create", "ok", object=f"auction:{number}", client=client,
            detail={"number": number, "lot": lot["lot_id"], "kind": lot["kind"], "authority": lot["authority"],
                    "starting_bonus": str(bonus), "starts_at": starts_at.isoformat(), "blocks": check.block_count})
    return get_auction(conn, auction_id)


# --- reading ------------------------------------------------------------------------------------------

COLUMNS = ("a.id, a.number, a.name, a.lot_id, a.kind, a.mineral, a.authority, a.codes, a.area_km2, a.block_count, "
           "a.minimum_spend, a.starting_bonus, a.participation_fee, a.deposit, a.step, a.starts_at, a.duration, "
           "a.extension, a.ends_at, a.bid_changes, a.status, a.current_bonus, a.leader, a.last_seq, a.winner, "
           "a.final_bonus, a.closed_at, ST_AsGeoJSON(a.geom, " + str(GEOJSON_DIGITS) + ")")


def _amount(value: Any) -> str | None:
    return auction_journal.money(value)


def _view(row: Any) -> dict[str, Any]:
    """The public view of a lot: never who asked for it or who registered."""
    (auction_id, number, name, lot_id, kind, mineral, authority, codes, area, blocks, spend, bonus, fee, deposit,
     step, starts_at, duration, extension, ends_at, bid_changes, status, current, leader, last_seq, winner,
     final, closed_at, geometry) = row
    return {"id": auction_id, "number": number, "name": name, "lot": lot_id, "status": status, "kind": kind,
            "mineral": mineral, "authority": authority, "codes": list(codes), "block_count": blocks,
            "area_km2": area, "minimum_spend": {**spend, "unit": "MCI"} if spend else {},
            "starting_bonus": _amount(bonus), "participation_fee": _amount(fee), "deposit": _amount(deposit),
            "step": _amount(step), "currency": "KZT", "starts_at": auction_journal.stamp(starts_at),
            "duration_minutes": duration.total_seconds() / 60, "extension_minutes": extension.total_seconds() / 60,
            "ends_at": auction_journal.stamp(ends_at), "bid_changes": bid_changes, "current_bonus": _amount(current),
            "leader": leader, "last_seq": last_seq, "winner": winner, "final_bonus": _amount(final),
            "closed_at": auction_journal.stamp(closed_at) if closed_at else None,
            "geometry": json.loads(geometry) if geometry else None}


def resolve(conn: psycopg.Connection, ref: str | int) -> int:
    """An auction's id from its id or its number (AUC-YYYY-NNNN); 404 otherwise."""
    text = str(ref).strip()[:40]
    if text.isdigit() and len(text) < 19:
        row = conn.execute("SELECT id FROM auctions WHERE id = %s", (int(text),)).fetchone()
    else:
        row = conn.execute("SELECT id FROM auctions WHERE number = %s", (text.upper(),)).fetchone()
    if row is None:
        raise Problem("auctions.not_found", 404, auction=text)
    return int(row[0])


def get_auction(conn: psycopg.Connection, ref: str | int, who: Person | None = None, *,
                lang: str = "en") -> dict[str, Any]:
    """One lot's public view; for a signed-in registrant, ``you``: their own participant number,
    status and reasons (nobody else's)."""
    auction_id = resolve(conn, ref)
    row = conn.execute(f"SELECT {COLUMNS} FROM auctions a WHERE a.id = %s", (auction_id,)).fetchone()  # noqa: S608
    out = _view(row)
    if who is not None:
        mine = conn.execute("SELECT number, status, reasons FROM auction_participants WHERE auction_id = %s AND "
                            "coalesce(bin, iin) = %s AND (bin IS NOT NULL) = %s",
                            (auction_id, who.bin or who.iin, who.bin is not None)).fetchone()
        out["you"] = ({"participant": mine[0], "status": mine[1],
                       "reasons": [render_reason(r, lang) for r in mine[2]]} if mine else None)
    return out


def list_auctions(conn: psycopg.Connection, *, status: str | None = None, limit: int = 50,
                  before: int | None = None) -> dict[str, Any]:
    """Lots, newest first (keyset cursor ``before``: an id), optionally of one status."""
    if status is not None and status not in STATUSES:
        raise Problem("auctions.bad_status", 400, value=status[:40], known=", ".join(STATUSES))
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM auctions a WHERE (%(status)s::text IS NULL OR a.status = %(status)s) "  # noqa: S608
        "AND (%(before)s::bigint IS NULL OR a.id < %(before)s) ORDER BY a.id DESC LIMIT %(limit)s",
        {"status": status, "before": before, "limit": limit + 1}).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"auctions": [_view(r) for r in rows], "next": rows[-1][0] if more else None}


def as_geojson(page: dict[str, Any]) -> dict[str, Any]:
    """The lots as a GeoJSON FeatureCollection (the map's public auction layer)."""
    features = []
    for lot in page["auctions"]:
        properties = {k: v for k, v in lot.items() if k != "geometry"}
        features.append({"type": "Feature", "id": lot["id"], "geometry": lot["geometry"], "properties": properties})
    return {"type": "FeatureCollection", "features": features}


# --- registration -------------------------------------------------------------------------------------

def _lock(conn: psycopg.Connection, auction_id: int) -> tuple[Any, ...]:
    row = conn.execute("SELECT id, number, status, starts_at, participation_fee, deposit, starting_bonus, "
                       "requested_by FROM auctions WHERE id = %s FOR UPDATE", (auction_id,)).fetchone()
    assert row is not None
    return tuple(row)


def eligibility(registers: StateRegisters, iin: str | None, bin_: str | None) -> list[dict[str, Any]]:
    """Reasons the registers give against a participant: not in the register, not active, tax debt."""
    ident = bin_ or iin or ""
    entry = registers.legal_entity(ident) if bin_ else registers.person(ident)
    if entry is None:
        return [{"code": "auctions.reason.not_in_register", "params": {"id": ident}, "field": "applicant"}]
    reasons = []
    if not entry.active:
        reasons.append({"code": "auctions.reason.inactive", "params": {"id": ident, "name": entry.name},
                        "field": "applicant"})
    if entry.tax_debt:
        reasons.append({"code": "auctions.reason.tax_debt", "params": {"id": ident, "name": entry.name},
                        "field": "applicant"})
    return reasons


def evaluate(conn: psycopg.Connection, auction: tuple[Any, ...], participant: int, *, registers: StateRegisters,
             payments: Payments) -> tuple[str, list[dict[str, Any]], list[str]]:
    """Decide a participant's admission now (under the auction's lock): refused when the
    registers say so; admitted when eligible and both the fee and the deposit are paid; otherwise
    still registered. A change is journaled and notified. Returns (status, reasons, missing)."""
    auction_id, number, _, _, fee, deposit = auction[:6]
    row = conn.execute("SELECT iin, bin, status, account_id FROM auction_participants WHERE auction_id = %s "
                       "AND number = %s", (auction_id, participant)).fetchone()
    assert row is not None
    iin, bin_, before, account_id = row
    reasons = eligibility(registers, iin, bin_)
    missing = covers(payments.paid(auction_id, bin_ or iin), Decimal(fee), Decimal(deposit))
    status = "refused" if reasons else "admitted" if not missing else "registered"
    if status != before:
        conn.execute("UPDATE auction_participants SET status = %s, reasons = %s WHERE auction_id = %s AND number = %s",
                     (status, Jsonb(reasons), auction_id, participant))
        if status == "admitted":
            auction_journal.append(conn, auction_id, "participant.admitted", participant=participant)
            notify(conn, account_id, "notice.auction_admitted", auction=number, participant=participant)
        elif status == "refused":
            auction_journal.append(conn, auction_id, "participant.refused", participant=participant,
                                   detail={"reasons": ",".join(sorted({r["code"] for r in reasons}))})
            notify(conn, account_id, "notice.auction_refused", auction=number, participant=participant)
    return status, reasons, missing


def register_participant(conn: psycopg.Connection, ref: str | int, registration: Any, signature: bytes, *,
                         caller: Person, trust: TrustStore, revocation: RevocationSource, now: datetime,
                         registers: StateRegisters, payments: Payments, lang: str = "en",
                         client: str | None = None) -> tuple[dict[str, Any], bool]:
    """Register ``caller``'s applicant for the auction with the signed ``registration``, in the
    caller's transaction; admits at once when eligible and paid. Returns (answer, created); a
    second registration of the same applicant answers the first (re-deciding its admission)."""
    auction_id = resolve(conn, ref)
    auction = _lock(conn, auction_id)
    _, number, status, starts_at = auction[:4]
    if not isinstance(registration, dict) or set(registration) != {"auction", "applicant"}:
        raise Problem("auctions.bad_registration", 422)
    if registration["auction"] != number:
        raise Problem("auctions.wrong_auction", 422, auction=number)
    iin, bin_ = _applicant(registration["applicant"])
    if (iin is not None and (caller.iin != iin or caller.bin is not None)) or (bin_ is not None and caller.bin != bin_):
        raise Problem("auctions.not_your_applicant", 403, applicant=iin or bin_)
    if status != "published" or now >= starts_at:
        raise Problem("auctions.registration_closed", 409, auction=number, state=status)
    if not signature:
        raise Problem("auctions.bad_signature", 400)
    data = rfc8785.dumps(registration)
    result = verify_cms(signature, data, trust=trust, revocation=revocation, now=now, purpose="signature")
    if result.content is not None and result.content != data:
        raise Problem("auctions.attached_other_content", 422)
    refusals = signature_reasons(result, iin, bin_, registers)
    if refusals:
        raise Problem("auctions.signature_refused", 422, issues=[
            Issue(r.code, r.params, Location(field=r.field)) for r in refusals])
    existing = conn.execute("SELECT number FROM auction_participants WHERE auction_id = %s AND "
                            "coalesce(bin, iin) = %s", (auction_id, bin_ or iin)).fetchone()
    created = existing is None
    if existing is not None:
        participant = int(existing[0])
    else:
        signer = next((s for s in result.signers if (s.iin == iin if iin else s.bin == bin_)), result.signers[0])
        participant = _insert_participant(conn, auction_id, iin, bin_, caller, signer.iin, data, signature,
                                          result.as_dict())
        auction_journal.append(conn, auction_id, "participant.registered", participant=participant)
        notify(conn, caller.account_id, "notice.auction_registered", auction=number, participant=participant)
    state, reasons, missing = evaluate(conn, auction, participant, registers=registers, payments=payments)
    journal(conn, caller.actor, "auction.register", "ok", object=f"auction:{number}", client=client,
            detail={"participant": participant, "status": state, "created": created,
                    "signer": result.signers[0].iin if result.signers else None, "missing": missing})
    return ({"auction": number, "participant": participant, "status": state,
             "reasons": [render_reason(r, lang) for r in reasons], "missing_payments": missing,
             "participation_fee": _amount(auction[4]), "deposit": _amount(auction[5])}, created)


def _insert_participant(conn: psycopg.Connection, auction_id: int, iin: str | None, bin_: str | None,
                        caller: Person, signer_iin: str | None, data: bytes, signature: bytes,
                        verification: dict[str, Any]) -> int:
    """A random, unused participant number (a collision draws again, in a savepoint)."""
    for _ in range(50):
        number = NUMBERS[0] + secrets.randbelow(NUMBERS[1] - NUMBERS[0] + 1)
        try:
            with conn.transaction():
                conn.execute("INSERT INTO auction_participants (auction_id, number, iin, bin, account_id, signer_iin, "
                             "canonical, signature, verification) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                             (auction_id, number, iin, bin_, caller.account_id, signer_iin, data.decode(), signature,
                              Jsonb(verification)))
            return number
        except psycopg.errors.UniqueViolation:
            continue
    raise Problem("auctions.registration_closed", 409, auction=str(auction_id), state="full")


# --- payments -----------------------------------------------------------------------------------------

def confirm_payment(conn: psycopg.Connection, ref: str | int, payer: str, purposes: list[str], *,
                    payments: Payments, registers: StateRegisters, actor: str,
                    reference: str | None = None, client: str | None = None) -> dict[str, Any]:
    """Record the fee and/or the deposit of ``payer`` (IIN or BIN) as paid (the lot's amounts)
    and re-decide their admission if they registered."""
    if not IIN.match(payer):
        raise Problem("auctions.bad_applicant", 422, field="payer")
    auction = _lock(conn, resolve(conn, ref))
    auction_id, number, status = auction[:3]
    if status != "published":
        raise Problem("auctions.registration_closed", 409, auction=number, state=status)
    amounts = {"fee": Decimal(auction[4]), "deposit": Decimal(auction[5])}
    confirmed = [p for p in purposes
                 if payments.confirm(auction_id, payer, p, amounts[p], confirmed_by=actor, reference=reference)]
    row = conn.execute("SELECT number FROM auction_participants WHERE auction_id = %s AND coalesce(bin, iin) = %s",
                       (auction_id, payer)).fetchone()
    state = None
    if row is not None:
        state, _, _ = evaluate(conn, auction, int(row[0]), registers=registers, payments=payments)
    journal(conn, actor, "auction.payment", "ok", object=f"auction:{number}", client=client,
            detail={"payer": payer, "purposes": purposes, "new": confirmed, "participant_status": state})
    return {"auction": number, "payer": payer, "confirmed": confirmed, "participant_status": state,
            "participant": int(row[0]) if row else None}


# --- opening ------------------------------------------------------------------------------------------

def open_due(conn: psycopg.Connection, now: datetime) -> list[dict[str, Any]]:
    """Every published auction whose start has come (``starts_at <= now``), in the caller's
    transaction: participants still unpaid are refused; then no admitted participant: failed;
    the only admitted one asked for the auction: cancelled, the right granted at the starting
    bonus; otherwise open (``participant.identified`` for each). Auctions another process holds
    are skipped (the next tick takes them)."""
    rows = conn.execute("SELECT id FROM auctions WHERE status = 'published' AND starts_at <= %s ORDER BY starts_at "
                        "FOR UPDATE SKIP LOCKED", (now,)).fetchall()
    done = []
    for (auction_id,) in rows:
        done.append(_open_one(conn, _lock(conn, auction_id), now))
    return done


def _open_one(conn: psycopg.Connection, auction: tuple[Any, ...], now: datetime) -> dict[str, Any]:
    auction_id, number, _, _, fee, deposit, bonus, requested_by = auction
    people = conn.execute("SELECT number, iin, bin, status, account_id FROM auction_participants "
                          "WHERE auction_id = %s ORDER BY number", (auction_id,)).fetchall()
    admitted = []
    for participant, iin, bin_, status, account_id in people:
        if status == "registered":
            reasons = [{"code": "auctions.reason.not_paid", "params": {}, "field": "payments"}]
            conn.execute("UPDATE auction_participants SET status = 'refused', reasons = %s WHERE auction_id = %s "
                         "AND number = %s", (Jsonb(reasons), auction_id, participant))
            auction_journal.append(conn, auction_id, "participant.refused", participant=participant,
                                   detail={"reasons": "auctions.reason.not_paid"})
            notify(conn, account_id, "notice.auction_refused", auction=number, participant=participant)
        elif status == "admitted":
            admitted.append((participant, _who(iin, bin_), account_id))
    requested = [r for r in requested_by or []]
    if not admitted:
        outcome = "failed"
        auction_journal.append(conn, auction_id, "auction.failed", detail={"reason": "no_participant"})
        conn.execute("UPDATE auctions SET status = 'failed', closed_at = clock_timestamp() WHERE id = %s",
                     (auction_id,))
        # Nobody took part: the lot's window applications give up their claims on its blocks
        # (the blocks are free again, first come first served); the officer may sell them anew.
        continue_with(conn, auction_id, None, actor=SYSTEM)
    elif len(admitted) == 1 and admitted[0][1] in requested:
        outcome = "cancelled"
        participant, _, account_id = admitted[0]
        auction_journal.append(conn, auction_id, "auction.cancelled", participant=participant, amount=bonus,
                               detail={"reason": "single_requester"})
        auction_journal.append(conn, auction_id, "deal.concluded", participant=participant, amount=bonus,
                               detail={"basis": "single_requester"})
        conn.execute("UPDATE auctions SET status = 'cancelled', winner = %s, final_bonus = starting_bonus, "
                     "closed_at = clock_timestamp() WHERE id = %s", (participant, auction_id))
        notify(conn, account_id, "notice.auction_granted_single", auction=number, bonus=_amount(bonus))
        # The right goes to the requester: their application goes on, the others' claims end.
        continue_with(conn, auction_id, participant, actor=SYSTEM)
    else:
        outcome = "open"
        auction_journal.append(conn, auction_id, "auction.opened", detail={"participants": len(admitted)})
        for participant, _, account_id in admitted:
            auction_journal.append(conn, auction_id, "participant.identified", participant=participant)
            notify(conn, account_id, "notice.auction_opened", auction=number, participant=participant)
        conn.execute("UPDATE auctions SET status = 'open' WHERE id = %s", (auction_id,))
    journal(conn, SYSTEM, "auction.open_due", "ok", object=f"auction:{number}", client=None,
            detail={"outcome": outcome, "admitted": len(admitted), "at": now.isoformat()})
    return {"id": auction_id, "number": number, "outcome": outcome, "admitted": len(admitted)}


__all__ = ["Defaults", "as_geojson", "confirm_payment", "create_auction", "eligibility", "evaluate", "get_auction",
           "list_auctions", "minimum_spend", "open_due", "register_participant", "resolve", "spend_rules"]

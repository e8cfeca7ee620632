"""E-applications (seed 000 §8, issue 9): a signed application on a parcel gets a number and a
receipt time, is checked (incomplete: returned for revision; incorrect: refused, with reasons),
routed to the competent authority by its kind and mineral, and claims its blocks with priority
enforced by PostgreSQL (migration 0013).

* **Signed payload.** The signature is a detached CMS over the canonical JSON (RFC 8785) of the
  ``application`` object; both are stored as they came, so anyone allowed can verify again.
* **Kinds are data** (``KINDS``): names, the parcel form, the block limit and contiguity, whether
  the blocks must lie in open programme areas and are claimed, the minerals and where each goes.
* **Priority.** Each block of an accepted application is claimed in ``application_claims``. A
  claim within one month of its programme area's opening (the area's ``valid_from``) shares the
  priority group of that opening with the other claims of the window (equal priority; blocks
  several of them want form lots); any other claim has a group of its own, and the exclusion
  constraint refuses it where a live claim exists: the loser learns it from its INSERT, and the
  refusal names the blocks and the earlier application's number and receipt time.
* **Receipt order.** The year's number row is locked for the rest of the filing's transaction,
  so numbers are gap-free and number order, receipt-time order and claim order are one order.

Parcels are block lists for now (``layers.grid``'s parser); polygons are only checked to be
polygons (cadastre.parcels, being written alongside, will replace both)."""

from __future__ import annotations

import base64
import calendar
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo

import psycopg
import rfc8785
import shapely
from psycopg.types.json import Jsonb

from cadastre.applied import claims_changed
from cadastre.eds.revocation import RevocationSource
from cadastre.eds.trust import TrustStore
from cadastre.eds.verify import CHECKS, Verification, verify_cms
from cadastre.notifications import notify
from cadastre.parcels import parse_parcel
from cadastre.registers import StateRegisters
from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import translate
from layers.access import Person
from layers.catalog import AUTHORITIES, Names
from layers.grid import DEFAULT_DATUM, BlockListError, block_id, block_minutes, parse_block_list
from layers.store import journal

# Kazakhstan's time (one zone since March 2024): the year of a number, the day an area opens.
KZ = ZoneInfo("Asia/Almaty")
IIN = re.compile(r"^[0-9]{12}$")
# The EKU role of a legal entity's signer with the right to sign (EDS.md 1.2.398.3.3.4.1.2.2).
RIGHT_TO_SIGN = "right_to_sign"
WINDOW_MONTHS = 1
MAX_DOCUMENTS = 50
MAX_PARCEL_ITEMS = 1000
Status = Literal["accepted", "returned", "refused"]


# --- minerals and kinds: data ---------------------------------------------------------------------

@dataclass(frozen=True)
class Mineral:
    id: str
    group: Literal["solid", "hydrocarbons", "common"]
    names: Names


MINERALS: dict[str, Mineral] = {m.id: m for m in (
    Mineral("gold", "solid", Names("Алтын", "Золото", "Gold")),
    Mineral("copper", "solid", Names("Мыс", "Медь", "Copper")),
    Mineral("iron-ore", "solid", Names("Темір кені", "Железная руда", "Iron ore")),
    Mineral("polymetals", "solid", Names("Полиметалдар", "Полиметаллы", "Polymetals")),
    Mineral("coal", "solid", Names("Көмір", "Уголь", "Coal")),
    Mineral("rare-earths", "solid", Names("Сирек жер металдары", "Редкоземельные металлы", "Rare-earth metals")),
    Mineral("uranium", "solid", Names("Уран", "Уран", "Uranium")),
    Mineral("oil", "hydrocarbons", Names("Мұнай", "Нефть", "Oil")),
    Mineral("gas", "hydrocarbons", Names("Газ", "Газ", "Gas")),
    Mineral("gas-condensate", "hydrocarbons", Names("Газ конденсаты", "Газовый конденсат", "Gas condensate")),
    Mineral("sand-gravel", "common", Names("Құм-қиыршық тас", "Песчано-гравийная смесь", "Sand and gravel")),
    Mineral("clay", "common", Names("Саз", "Глина", "Clay")),
    Mineral("limestone", "common", Names("Әктас", "Известняк", "Limestone")),
    Mineral("building-stone", "common", Names("Құрылыс тасы", "Строительный камень", "Building stone")),
)}

# Who decides, by mineral group (seed 000: solid minerals, hydrocarbons, akimats for common ones).
AUTHORITY_OF_GROUP = {"solid": "solid-minerals", "hydrocarbons": "hydrocarbons", "common": "akimat"}


@dataclass(frozen=True)
class Kind:
    id: str
    names: Names
    # The parcel's form: blocks (nomenclature lists or codes), a polygon, or none (a service on
    # an existing right).
    parcel: Literal["blocks", "polygon"] | None
    # The mineral groups it is for; none: the kind needs no mineral.
    groups: tuple[str, ...] = ()
    max_blocks: int | None = None
    contiguous: bool = False
    # Blocks must lie in open areas of the state subsoil fund programme, and are claimed with
    # priority (exclusive rights on blocks).
    programme: bool = False
    claims: bool = False
    # Other fields the application must have (a service names the licence it concerns).
    requires: tuple[str, ...] = ()
    documents_required: bool = False
    # The authority when it does not follow the mineral.
    authority: str | None = None
    # Issue 9, procedure runs: the procedure (cadastre/procedures.toml id) an accepted
    # application of this kind goes through (cadastre/workbench.py); None: none declared yet.
    procedure: str | None = None

    def route(self, mineral: Mineral | None) -> str | None:
        if self.authority is not None:
            return self.authority
        return AUTHORITY_OF_GROUP[mineral.group] if mineral is not None else None


SERVICE_GROUPS = ("solid", "hydrocarbons", "common")
KINDS: dict[str, Kind] = {k.id: k for k in (
    # Subsoil Code: at most 200 blocks, contiguous, in open programme areas, first come first served.
    Kind("exploration-licence",
         Names("Қатты пайдалы қазбаларды барлауға лицензия", "Лицензия на разведку твёрдых полезных ископаемых",
               "Exploration licence for solid minerals"),
         "blocks", ("solid",), max_blocks=200, contiguous=True, programme=True, claims=True,
         procedure="exploration-licence"),
    Kind("geological-study-licence",
         Names("Жер қойнауын геологиялық зерттеуге лицензия", "Лицензия на геологическое изучение недр",
               "Geological study licence"), "blocks", SERVICE_GROUPS, contiguous=True),
    Kind("mining-licence",
         Names("Өндіруге лицензия", "Лицензия на добычу", "Mining licence"),
         "polygon", ("solid", "common"), documents_required=True),
    # The services of seed 003, on an existing right: the licence they concern and documents.
    Kind("pledge-registration",
         Names("Жер қойнауын пайдалану құқығының кепілін тіркеу", "Регистрация залога права недропользования",
               "Registration of a pledge of a subsoil-use right"),
         None, SERVICE_GROUPS, requires=("licence",), documents_required=True, procedure="pledge-registration"),
    Kind("liquidation-fund",
         Names("Жою қорын пайдалануға рұқсат", "Разрешение на использование ликвидационного фонда",
               "Permission to use the liquidation fund"),
         None, SERVICE_GROUPS, requires=("licence",), documents_required=True, procedure="liquidation-fund"),
    Kind("servitude-registration",
         Names("Жер қойнауы учаскесінде сервитутты тіркеу", "Регистрация сервитута на участке недр",
               "Registration of a servitude on a subsoil plot"),
         None, SERVICE_GROUPS, requires=("licence",), documents_required=True,
         procedure="servitude-registration"),
    Kind("processing-agreement",
         Names("Қатты пайдалы қазбаларды қайта өңдеуді келісу", "Согласование переработки твёрдых полезных "
               "ископаемых", "Agreement on processing of solid minerals"),
         None, ("solid",), requires=("licence",), documents_required=True, procedure="processing-agreement"),
    Kind("reprocessing-application",
         Names("Техногендік минералдық түзілімдерді қайта өңдеуге өтініш", "Заявление на переработку "
               "техногенных минеральных образований", "Application for re-processing"),
         None, ("solid",), documents_required=True, procedure="reprocessing-application"),
    # Seed 004: decided by the authorised body for industry (the one for solid minerals here).
    Kind("industrial-innovation-recognition",
         Names("Өнеркәсіптік-инновациялық қызметті жер қойнауын пайдалануға байланысты деп тану",
               "Признание промышленно-инновационной деятельности связанной с недропользованием",
               "Recognition of an industrial-innovation activity as subsoil-related"),
         None, documents_required=True, authority="solid-minerals", procedure="recognition"),
    # Issue 11: the holder's signed report of work and spend on a licence (cadastre/reports.py),
    # routed to the licence's authority.
    Kind("obligation-report",
         Names("Лицензия бойынша орындалған жұмыстар мен шығындар туралы есеп",
               "Отчёт о выполненных работах и затратах по лицензии",
               "Report of work and spend on a licence"),
         None, requires=("licence",), documents_required=True, procedure="obligation-report"),
)}
assert all(k.route(None) in AUTHORITIES for k in KINDS.values() if k.authority)
assert set(AUTHORITY_OF_GROUP.values()) <= set(AUTHORITIES)


# --- reasons ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reason:
    """Why an application was returned (``incomplete``) or refused: a message code and its
    parameters, and where (a block, a field)."""
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    block: str | None = None
    field: str | None = None
    incomplete: bool = False

    def stored(self) -> dict[str, Any]:
        return {"code": self.code, "params": self.params, "block": self.block, "field": self.field,
                "incomplete": self.incomplete}

    @classmethod
    def load(cls, data: dict[str, Any]) -> Reason:
        return cls(data["code"], data.get("params") or {}, data.get("block"), data.get("field"),
                   bool(data.get("incomplete")))


def render_reason(data: dict[str, Any], lang: str) -> dict[str, Any]:
    """A stored reason as the API shows it: code, block/field when it has them, the message in
    ``lang``."""
    out: dict[str, Any] = {"code": data["code"]}
    for key in ("block", "field"):
        if data.get(key) is not None:
            out[key] = data[key]
    out["message"] = translate(data["code"], lang, **(data.get("params") or {}))
    return out


def rfc3339(moment: datetime) -> str:
    """UTC with six digits of microseconds always."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- the request --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filed:
    application_id: int
    number: str
    received_at: datetime
    status: Status
    routed_to: str | None
    reasons: list[dict[str, Any]]
    in_window: bool = False
    blocks: list[str] = field(default_factory=list)
    lots: list[dict[str, Any]] = field(default_factory=list)

    def answer(self, lang: str) -> dict[str, Any]:
        return {"number": self.number, "received_at": rfc3339(self.received_at), "status": self.status,
                "routed_to": self.routed_to, "reasons": [render_reason(r, lang) for r in self.reasons],
                "window": self.in_window, "lots": self.lots}


def canonical(application: dict[str, Any]) -> bytes:
    """The bytes the applicant signs: RFC 8785 JSON of the application object."""
    try:
        return rfc8785.dumps(application)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise Problem("applications.not_canonical", 422, reason=str(exc)) from None


def _applicant(application: dict[str, Any]) -> tuple[str | None, str | None]:
    applicant = application.get("applicant")
    if not isinstance(applicant, dict) or len(applicant) != 1 or not set(applicant) <= {"iin", "bin"}:
        raise Problem("applications.bad_applicant", 422)
    (key, value), = applicant.items()
    if not isinstance(value, str) or not IIN.match(value):
        raise Problem("applications.bad_applicant", 422)
    return (value, None) if key == "iin" else (None, value)


def check_request(application: Any, caller: Person) -> tuple[Kind, str | None, str | None]:
    """What must hold before anything is stored (a 4xx otherwise): an object with a known kind,
    an applicant that is the caller's account."""
    if not isinstance(application, dict):
        raise Problem("applications.not_an_object", 422)
    kind = KINDS.get(application.get("kind")) if isinstance(application.get("kind"), str) else None
    if kind is None:
        raise Problem("applications.unknown_kind", 422, kind=str(application.get("kind"))[:80],
                      known=", ".join(KINDS))
    iin, bin_ = _applicant(application)
    # The cabinet's account is per (IIN, BIN): one for the person, one per company they act for.
    if (iin is not None and (caller.iin != iin or caller.bin is not None)) or (bin_ is not None and caller.bin != bin_):
        raise Problem("applications.not_your_applicant", 403, applicant=iin or bin_)
    return kind, iin, bin_


# --- the checks ---------------------------------------------------------------------------------------

def signature_reasons(result: Verification, iin: str | None, bin_: str | None,
                      registers: StateRegisters) -> list[Reason]:
    """Every failed check of every signer, then whether a signer may sign for the applicant: the
    person themselves, or for a company its head (the register) or a holder of the right to sign."""
    reasons: list[Reason] = []
    for signer in result.signers:
        for problem in signer.problems:
            reasons.append(Reason(problem["code"], dict(problem["params"]), field="signature"))
        for check in CHECKS:
            if signer.checks[check]["result"] != "ok" and not signer.problems:
                reasons.append(Reason("reason.signature_check", {"check": check}, field="signature"))
    if reasons:
        return reasons
    if not result.signers:
        return [Reason("reason.no_signer", field="signature")]
    if iin is not None:
        if not any(s.iin == iin for s in result.signers):
            signer = result.signers[0]
            return [Reason("reason.signer_not_applicant", {"signer": signer.iin or "-", "applicant": iin},
                           field="signature")]
        return []
    assert bin_ is not None
    company = registers.legal_entity(bin_)
    if company is None:
        return [Reason("reason.company_not_in_register", {"bin": bin_}, field="applicant")]
    if not company.active:
        return [Reason("reason.company_liquidated", {"bin": bin_, "name": company.name}, field="applicant")]
    for signer in result.signers:
        if signer.bin == bin_ and (signer.iin == company.head_iin or RIGHT_TO_SIGN in signer.roles):
            return []
    signer = result.signers[0]
    if signer.bin != bin_:
        return [Reason("reason.signer_not_company", {"signer": signer.bin or "-", "applicant": bin_},
                       field="signature")]
    return [Reason("reason.signer_cannot_sign", {"signer": signer.iin or "-", "bin": bin_, "name": company.name},
                   field="signature")]


def parse_blocks(parcel: Any) -> tuple[list[str], list[Reason]]:
    """The block codes of ``{"blocks": text | [codes or list texts]}``."""
    value = parcel.get("blocks")
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items) or len(items) > MAX_PARCEL_ITEMS:
        return [], [Reason("reason.bad_parcel", field="parcel.blocks")]
    codes: list[str] = []
    for number, text in enumerate(items):
        try:
            codes += parse_block_list(text)
        except BlockListError as exc:
            where = "parcel.blocks" if isinstance(value, str) else f"parcel.blocks[{number}]"
            return [], [Reason("reason.bad_block_list", {"token": exc.token, "position": exc.position},
                               field=where)]
    return list(dict.fromkeys(codes)), []


def parts(codes: Iterable[str]) -> list[list[str]]:
    """Edge-connected groups of blocks (touching at a corner only is not contiguous), largest first."""
    at = {block_minutes(c): c for c in codes}
    seen: set[tuple[int, int]] = set()
    groups: list[list[str]] = []
    for start in at:
        if start in seen:
            continue
        seen.add(start)
        queue, group = deque([start]), []
        while queue:
            x, y = queue.popleft()
            group.append(at[(x, y)])
            for nxt in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
                if nxt in at and nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        groups.append(group)
    return sorted(groups, key=len, reverse=True)


@dataclass(frozen=True)
class Area:
    id: str
    opened: date | None


def programme_areas(conn: psycopg.Connection, codes: list[str], today: date, datum: str) -> dict[str, Area]:
    """The open programme area each block lies in (its centre inside a ``subsoil-plots`` feature
    of kind fund-area, open, valid today); the latest opening wins where areas overlap."""
    if not codes or conn.execute("SELECT to_regclass('public.subsoil_plots')").fetchone()[0] is None:  # type: ignore[index]
        return {}
    rows = conn.execute(
        "SELECT c.code, a.id, a.valid_from FROM unnest(%(codes)s::text[]) AS c(code) "
        "JOIN LATERAL (SELECT coalesce(p.plot_id, p.feature_id) AS id, p.valid_from FROM subsoil_plots p "
        "  WHERE p.kind = 'fund-area' AND coalesce(p.status, 'open') = 'open' "
        "  AND (p.valid_from IS NULL OR p.valid_from <= %(today)s) AND (p.valid_to IS NULL OR p.valid_to >= %(today)s) "
        "  AND ST_Intersects(p.geom, ST_PointOnSurface(gs_block_geom(c.code, %(datum)s))) "
        "  ORDER BY p.valid_from DESC NULLS LAST, 1 LIMIT 1) a ON true",
        {"codes": codes, "today": today, "datum": datum}).fetchall()
    return {code: Area(area, opened) for code, area, opened in rows}


def add_months(day: date, months: int) -> date:
    """As PostgreSQL's ``date + interval 'N month'``: the same day, or the month's last."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def window_ends(opened: date) -> datetime:
    """Applications received before this instant have equal priority (one month from the
    opening day, midnight in Kazakhstan)."""
    return datetime.combine(add_months(opened, WINDOW_MONTHS), time(0), KZ)


def check_content(conn: psycopg.Connection, kind: Kind, application: dict[str, Any], caller: Person,
                  *, today: date, datum: str) -> tuple[list[Reason], Mineral | None, list[str], dict[str, Area]]:
    """The application's data against its kind: (reasons, mineral, blocks, their areas)."""
    reasons: list[Reason] = []
    mineral: Mineral | None = None
    raw_mineral = application.get("mineral")
    if kind.groups:
        if raw_mineral in (None, ""):
            reasons.append(Reason("reason.missing", {"field": "mineral"}, field="mineral", incomplete=True))
        elif not isinstance(raw_mineral, str) or raw_mineral not in MINERALS:
            reasons.append(Reason("reason.unknown_mineral", {"mineral": str(raw_mineral)[:80],
                                                                  "known": ", ".join(MINERALS)}, field="mineral"))
        elif MINERALS[raw_mineral].group not in kind.groups:
            reasons.append(Reason("reason.mineral_not_for_kind", {"mineral": raw_mineral, "kind": kind.id},
                                  field="mineral"))
        else:
            mineral = MINERALS[raw_mineral]
    for name in kind.requires:
        value = application.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            reasons.append(Reason("reason.missing", {"field": name}, field=name, incomplete=True))
        elif not isinstance(value, str) or len(value) > 100:
            reasons.append(Reason("reason.bad_field", {"field": name}, field=name))

    documents = application.get("documents", [])
    if documents is None:
        documents = []
    if (not isinstance(documents, list) or len(documents) > MAX_DOCUMENTS
            or not all(isinstance(d, int) and not isinstance(d, bool) and 0 < d < 2**63 for d in documents)):
        reasons.append(Reason("reason.bad_field", {"field": "documents"}, field="documents"))
    elif not documents and kind.documents_required:
        reasons.append(Reason("reason.missing", {"field": "documents"}, field="documents", incomplete=True))
    elif documents:
        found = {r[0] for r in conn.execute(
            "SELECT id FROM documents WHERE id = ANY(%s) AND (owner_account_id = %s OR owner_bin = %s)",
            (documents, caller.account_id, caller.bin or ""))}
        reasons += [Reason("reason.document_not_found", {"id": d}, field="documents")
                    for d in documents if d not in found]

    codes: list[str] = []
    areas: dict[str, Area] = {}
    parcel = application.get("parcel")
    if kind.parcel is not None:
        if parcel is None or parcel == {} or parcel == {"blocks": ""} or parcel == {"blocks": []}:
            reasons.append(Reason("reason.missing", {"field": "parcel"}, field="parcel", incomplete=True))
        elif not isinstance(parcel, dict) or len(parcel) != 1 or not set(parcel) <= {"blocks", "geometry", "corners"}:
            reasons.append(Reason("reason.bad_parcel", field="parcel"))
        elif kind.parcel == "polygon" and "corners" in parcel:
            reasons += _corner_reasons(parcel)
        elif kind.parcel not in parcel:
            reasons.append(Reason("reason.parcel_form", {"kind": kind.id, "form": kind.parcel}, field="parcel"))
        elif kind.parcel == "polygon":
            reasons += _polygon_reasons(parcel["geometry"])
        else:
            codes, found = parse_blocks(parcel)
            reasons += found
            if codes:
                reasons += _block_reasons(kind, codes)
                if kind.programme:
                    areas = programme_areas(conn, codes, today, datum)
                    reasons += [Reason("reason.outside_programme", {"block": c}, block=c)
                                for c in codes if c not in areas]
    return reasons, mineral, codes, areas


def _block_reasons(kind: Kind, codes: list[str]) -> list[Reason]:
    reasons: list[Reason] = []
    if kind.max_blocks is not None and len(codes) > kind.max_blocks:
        reasons.append(Reason("reason.too_many_blocks", {"count": len(codes), "limit": kind.max_blocks},
                              field="parcel"))
    if kind.contiguous:
        groups = parts(codes)
        if len(groups) > 1:
            # Named by a block of the second-largest part: the one detached from the main body.
            reasons.append(Reason("reason.not_contiguous", {"parts": len(groups), "block": groups[1][0]},
                                  block=groups[1][0], field="parcel"))
    return reasons


def _corner_reasons(parcel: dict[str, Any]) -> list[Reason]:
    """A corner-point table (cadastre/corners.py) read and checked as a parcel; its fault, named
    by row and column, is the reason."""
    try:
        parse_parcel(parcel)
    except Problem as problem:
        return [Reason(problem.key, dict(problem.params), field=problem.location.field or "parcel")]
    return []


def _polygon_reasons(geometry: Any) -> list[Reason]:
    try:
        shape = shapely.from_geojson(rfc8785.dumps(geometry).decode()) if isinstance(geometry, dict) else None
    except Exception:  # noqa: BLE001 - any unreadable geometry is the applicant's error, said so
        shape = None
    if (shape is None or shape.geom_type not in ("Polygon", "MultiPolygon") or shape.is_empty
            or not shape.is_valid or not (-180 <= shape.bounds[0] <= shape.bounds[2] <= 180)
            or not (-90 <= shape.bounds[1] <= shape.bounds[3] <= 90)):
        return [Reason("reason.bad_geometry", field="parcel.geometry")]
    return []


# --- filing -------------------------------------------------------------------------------------------

def _take_number(conn: psycopg.Connection) -> tuple[int, int, datetime]:
    """The next number of the year and the receipt time, under the year's row lock (held to the
    end of the transaction: the next filer waits, so receipt times strictly increase)."""
    row = conn.execute("SELECT extract(year FROM clock_timestamp() AT TIME ZONE 'Asia/Almaty')::int").fetchone()
    year = int(row[0])  # type: ignore[index]
    conn.execute("INSERT INTO application_numbers (year) VALUES (%s) ON CONFLICT (year) DO NOTHING", (year,))
    got = conn.execute(
        "UPDATE application_numbers SET last = last + 1, "
        "last_at = greatest(clock_timestamp(), last_at + interval '1 microsecond') "
        "WHERE year = %s RETURNING last, last_at", (year,)).fetchone()
    assert got is not None
    return year, int(got[0]), got[1]


NOTICES = {"accepted": "notice.application_accepted", "returned": "notice.application_returned",
           "refused": "notice.application_refused"}
INSERT_APPLICATION = (
    "INSERT INTO applications (number, year, seq, received_at, kind, mineral, applicant_iin, applicant_bin, "
    "account_id, filed_by, signer_iin, signer_bin, signer_name, canonical, signature, signature_valid, verification, "
    "verified_at, status, reasons, routed_to, in_window, block_count, documents) "
    "VALUES (%(number)s, %(year)s, %(seq)s, %(received_at)s, %(kind)s, %(mineral)s, %(iin)s, %(bin)s, %(account)s, "
    "%(filed_by)s, %(signer_iin)s, %(signer_bin)s, %(signer_name)s, %(canonical)s, %(signature)s, %(valid)s, "
    "%(verification)s, %(verified_at)s, %(status)s, %(reasons)s, %(routed_to)s, %(window)s, %(block_count)s, "
    "%(documents)s) RETURNING id")

# The application and its claims in one statement (composed of constants only).
INSERT_WITH_CLAIMS = (
    "WITH app AS (" + INSERT_APPLICATION + "), "  # noqa: S608
    "claims AS (INSERT INTO application_claims (application_id, block_id, code, state, in_window, priority_group, "
    "area, area_opened) SELECT app.id, c.block_id, c.code, 'pending', c.grp LIKE 'window:%%', c.grp, c.area, "
    "c.opened FROM app, unnest(%(block_ids)s::bigint[], %(codes)s::text[], %(groups)s::text[], %(areas)s::text[], "
    "%(opened)s::date[]) AS c(block_id, code, grp, area, opened)) SELECT id FROM app")


def file_application(conn: psycopg.Connection, payload: dict[str, Any], signature: bytes, *, caller: Person,
                     trust: TrustStore, revocation: RevocationSource, now: datetime, registers: StateRegisters,
                     datum: str = DEFAULT_DATUM, client: str | None = None) -> Filed:
    """File ``payload`` (the ``application`` object) with its detached CMS ``signature``, in the
    caller's transaction. Returned and refused applications are filed too (with a number and
    their reasons); a malformed request raises a Problem and must leave nothing (roll back)."""
    kind, iin, bin_ = check_request(payload, caller)
    report = None
    if kind.id == "obligation-report":
        # Imported here: cadastre.reports reads this module. Only the holder files (a Problem).
        from cadastre.reports import check_report
        report = check_report(conn, payload, caller, today=now.astimezone(KZ).date())
    data = canonical(payload)
    if not signature:
        raise Problem("applications.bad_signature", 400)
    result = verify_cms(signature, data, trust=trust, revocation=revocation, now=now, purpose="signature")
    if result.content is not None and result.content != data:
        raise Problem("applications.attached_other_content", 422)
    reasons = signature_reasons(result, iin, bin_, registers)
    today = now.astimezone(KZ).date()
    content_reasons, mineral, codes, areas = check_content(conn, kind, payload, caller, today=today, datum=datum)
    reasons += content_reasons
    routed_to = kind.route(mineral)
    if report is not None:
        reasons += report.reasons
        routed_to = report.authority
    signer = next((s for s in result.signers if (s.iin == iin if iin else s.bin == bin_)),
                  result.signers[0] if result.signers else None)
    documents = [d for d in payload.get("documents") or [] if isinstance(d, int)] \
        if isinstance(payload.get("documents"), list) else []

    year, seq, received_at = _take_number(conn)  # from here on, the next filer waits for our commit
    number = f"APP-{year}-{seq:06d}"
    status: Status = "refused" if any(not r.incomplete for r in reasons) else "returned" if reasons else "accepted"
    groups = {c: (f"window:{areas[c].id}:{areas[c].opened.isoformat()}"
                  if c in areas and areas[c].opened is not None and received_at < window_ends(areas[c].opened)  # type: ignore[union-attr]
                  else f"app:{number}") for c in codes}
    in_window = status == "accepted" and kind.claims and any(g.startswith("window:") for g in groups.values())
    params = {"number": number, "year": year, "seq": seq, "received_at": received_at, "kind": kind.id,
              "mineral": mineral.id if mineral else (payload.get("mineral") if isinstance(payload.get("mineral"), str)
                                                     else None),
              "iin": iin, "bin": bin_, "account": caller.account_id, "filed_by": caller.actor,
              "signer_iin": signer.iin if signer else None, "signer_bin": signer.bin if signer else None,
              "signer_name": signer.name if signer else None, "canonical": data.decode(), "signature": signature,
              "valid": result.valid, "verification": Jsonb(result.as_dict()), "verified_at": now,
              "routed_to": routed_to, "block_count": len(codes), "documents": documents}
    application_id: int | None = None
    if status == "accepted" and kind.claims:
        try:
            with conn.transaction():  # a savepoint: a lost race leaves the rest of the filing intact
                application_id = _insert_with_claims(conn, params, codes, groups, areas, in_window)
        except psycopg.errors.ExclusionViolation:
            reasons = taken_reasons(conn, codes, set(groups.values()))
            status, in_window = "refused", False
    if application_id is None:
        row = conn.execute(INSERT_APPLICATION, {**params, "status": status, "window": in_window,
                                                "reasons": Jsonb([r.stored() for r in reasons])}).fetchone()
        application_id = int(row[0])  # type: ignore[index]
    if status == "accepted" and kind.claims:
        # Issue 9, the map: the new claim's blocks are published as applied for after commit.
        claims_changed(conn)
    lots = []
    if in_window:
        for group in sorted({g for g in groups.values() if g.startswith("window:")}):
            lots += form_lots(conn, group, actor=caller.actor, client=client)
        lots = [lot for lot in lots if application_id in lot["application_ids"]]
    stored = [r.stored() for r in reasons]
    # Issue 9, procedure runs: an accepted application starts its kind's procedure. Imported
    # here: cadastre.workbench reads this module.
    run = None
    if status == "accepted" and kind.procedure is not None:
        from cadastre.workbench import start_run
        run = start_run(conn, number, actor=caller.actor, client=client, journaled=False)
    if status == "accepted" and report is not None:
        from cadastre.reports import record_report
        record_report(conn, report, application_id)
    notify(conn, caller.account_id, NOTICES[status], number=number, received_at=rfc3339(received_at),
           kind=kind.id)
    journal(conn, caller.actor, "application.file", "ok" if status == "accepted" else "rejected",
            object=f"application:{number}", client=client,
            detail={"number": number, "received_at": rfc3339(received_at), "kind": kind.id, "status": status,
                    "routed_to": routed_to, "blocks": len(codes), "window": in_window,
                    "signer": signer.iin if signer else None, "signature_valid": result.valid,
                    "reasons": sorted({r.code for r in reasons}), "lots": [lot["id"] for lot in lots],
                    "procedure": run.procedure if run else None})
    return Filed(application_id, number, received_at, status, routed_to, stored, in_window,
                 codes if status == "accepted" else [], [_public_lot(lot) for lot in lots])


def _insert_with_claims(conn: psycopg.Connection, params: dict[str, Any], codes: list[str], groups: dict[str, str],
                        areas: dict[str, Area], in_window: bool) -> int:
    """The application and its claims in one statement: the exclusion constraint decides."""
    row = conn.execute(
        INSERT_WITH_CLAIMS,
        {**params, "status": "accepted", "window": in_window, "reasons": Jsonb([]),
         "block_ids": [block_id(c) for c in codes], "codes": codes, "groups": [groups[c] for c in codes],
         "areas": [areas[c].id if c in areas else None for c in codes],
         "opened": [areas[c].opened if c in areas else None for c in codes]}).fetchone()
    assert row is not None
    return int(row[0])


def taken_reasons(conn: psycopg.Connection, codes: list[str], own_groups: set[str]) -> list[Reason]:
    """The refusal of a later application: each block already pending or granted elsewhere, with
    the earlier application's number and receipt time."""
    rows = conn.execute(
        "SELECT c.code, a.number, a.received_at FROM application_claims c "
        "JOIN applications a ON a.id = c.application_id "
        "WHERE c.block_id = ANY(%s) AND c.state IN ('pending', 'granted') AND c.priority_group <> ALL(%s) "
        "ORDER BY a.received_at, c.code", ([block_id(c) for c in codes], list(own_groups))).fetchall()
    reasons = [Reason("reason.block_taken", {"block": code, "number": number, "received_at": rfc3339(at)},
                      block=code) for code, number, at in rows]
    # The exclusion constraint fired, so something was there; should it have gone since, say so.
    return reasons or [Reason("reason.blocks_taken_meanwhile", field="parcel")]


# --- lots ---------------------------------------------------------------------------------------------

def form_lots(conn: psycopg.Connection, group: str, *, actor: str, client: str | None) -> list[dict[str, Any]]:
    """Recompute the lots of one window (one area's opening): the blocks two or more pending
    window applications want, one lot per set of applicants. Lots that no longer match become
    'superseded'. Runs under the number lock (one filer at a time). Returns the current lots."""
    rows = conn.execute(
        "SELECT block_id, code, array_agg(application_id ORDER BY application_id), min(area), min(area_opened) "
        "FROM application_claims WHERE priority_group = %s AND state = 'pending' GROUP BY block_id, code "
        "HAVING count(*) > 1 ORDER BY block_id", (group,)).fetchall()
    wanted: dict[tuple[int, ...], list[tuple[int, str]]] = {}
    # One window is one area's opening: every row has the same area and date.
    area, opened = (rows[0][3], rows[0][4]) if rows else (None, None)
    for block, code, apps, _, _ in rows:
        wanted.setdefault(tuple(apps), []).append((block, code))
    current = {tuple(r[1]): (r[0], list(r[2])) for r in conn.execute(
        "SELECT id, applications, block_ids FROM lots WHERE priority_group = %s AND status = 'forming'", (group,))}
    out = []
    for apps, blocks in wanted.items():
        ids, codes = [b for b, _ in blocks], [c for _, c in blocks]
        if apps in current:
            lot_id, had = current.pop(apps)
            if had != ids:
                conn.execute("UPDATE lots SET block_ids = %s, codes = %s, updated_at = clock_timestamp() WHERE id = %s",
                             (ids, codes, lot_id))
        else:
            row = conn.execute(
                "INSERT INTO lots (priority_group, area, area_opened, applications, block_ids, codes, status) "
                "VALUES (%s, %s, %s, %s, %s, %s, 'forming') RETURNING id",
                (group, area, opened, list(apps), ids, codes)).fetchone()
            lot_id = int(row[0])  # type: ignore[index]
            journal(conn, actor, "lot.form", "ok", object=f"lot:{lot_id}", client=client,
                    detail={"group": group, "applications": list(apps), "blocks": len(ids)})
        out.append({"id": lot_id, "application_ids": list(apps), "codes": codes, "status": "forming"})
    for lot_id, _ in current.values():
        conn.execute("UPDATE lots SET status = 'superseded', updated_at = clock_timestamp() WHERE id = %s", (lot_id,))
        journal(conn, actor, "lot.supersede", "ok", object=f"lot:{lot_id}", client=client, detail={"group": group})
    return out


def _public_lot(lot: dict[str, Any]) -> dict[str, Any]:
    return {"id": lot["id"], "blocks": lot["codes"], "applications": len(lot["application_ids"]),
            "status": lot["status"]}


# --- reading --------------------------------------------------------------------------------------------

READERS = frozenset({"admin", "auditor"})


def _visible_sql(who: Person) -> tuple[str, list[Any]]:
    """Which applications the caller may read, as SQL over ``applications a``: their own (the
    account, or their company's), officers those routed to their authorities, admins and
    auditors all."""
    if who.roles & READERS:
        return "true", []
    clauses, args = ["a.account_id = %s"], [who.account_id]
    if who.bin:
        clauses.append("a.applicant_bin = %s")
        args.append(who.bin)
    if "officer" in who.roles and who.authorities:
        clauses.append("a.routed_to = ANY(%s)")
        args.append(sorted(who.authorities))
    return "(" + " OR ".join(clauses) + ")", args


SUMMARY = ("SELECT a.id, a.number, a.received_at, a.kind, a.mineral, a.applicant_iin, a.applicant_bin, a.status, "
           "a.routed_to, a.in_window, a.block_count, a.reasons FROM applications a")


def _summary(row: tuple[Any, ...], lang: str) -> dict[str, Any]:
    (_, number, received_at, kind, mineral, iin, bin_, status, routed_to, window, blocks, reasons) = row
    return {"number": number, "received_at": rfc3339(received_at), "kind": kind, "mineral": mineral,
            "applicant": {"iin": iin} if iin else {"bin": bin_}, "status": status, "routed_to": routed_to,
            "window": window, "block_count": blocks, "reasons": [render_reason(r, lang) for r in reasons]}


def list_applications(conn: psycopg.Connection, who: Person, *, lang: str, limit: int = 50,
                      before: int | None = None) -> dict[str, Any]:
    """The applications the caller may read, newest first; ``before``: keyset cursor (an id)."""
    where, args = _visible_sql(who)
    if before is not None:
        where += " AND a.id < %s"
        args.append(before)
    rows = conn.execute(f"{SUMMARY} WHERE {where} ORDER BY a.id DESC LIMIT %s",  # noqa: S608 - fixed clauses
                        [*args, limit + 1]).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"applications": [_summary(r, lang) for r in rows], "next": rows[-1][0] if more else None}


def get_application(conn: psycopg.Connection, who: Person, number: str, *, lang: str,
                    client: str | None = None) -> dict[str, Any]:
    """One application with what was signed (canonical JSON, CMS), its verification, its claims
    and lots. One the caller may not read is answered as one that does not exist (404)."""
    where, args = _visible_sql(who)
    row = conn.execute(f"{SUMMARY} WHERE a.number = %s AND {where}", [number[:40], *args]).fetchone()  # noqa: S608
    if row is None:
        journal(conn, who.actor, "application.read", "rejected", object=f"application:{number[:40]}", client=client,
                detail={"problem": "applications.not_found"})
        raise Problem("applications.not_found", 404, number=number[:40])
    out = _summary(row, lang)
    extra = conn.execute("SELECT canonical, signature, verification, signature_valid, signer_iin, signer_bin, "
                         "signer_name, documents FROM applications WHERE id = %s", (row[0],)).fetchone()
    assert extra is not None
    canonical_text, cms, verification, valid, signer_iin, signer_bin, signer_name, documents = extra
    claims = conn.execute("SELECT code, state, in_window, area FROM application_claims WHERE application_id = %s "
                          "ORDER BY block_id", (row[0],)).fetchall()
    lots = conn.execute("SELECT id, codes, cardinality(applications), status FROM lots WHERE %s = ANY(applications) "
                        "AND status <> 'superseded' ORDER BY id", (row[0],)).fetchall()
    out.update(
        canonical=canonical_text, signature=base64.b64encode(bytes(cms)).decode(),
        signature_valid=valid, verification=verification,
        signer={"iin": signer_iin, "bin": signer_bin, "name": signer_name}, documents=list(documents),
        claims=[{"block": c, "state": s, "window": w, "area": a} for c, s, w, a in claims],
        lots=[{"id": i, "blocks": list(c), "applications": n, "status": s} for i, c, n, s in lots])
    return out


__all__ = ["KINDS", "MINERALS", "Filed", "Kind", "Mineral", "Reason", "canonical", "file_application",
           "form_lots", "get_application", "list_applications", "parts", "rfc3339"]

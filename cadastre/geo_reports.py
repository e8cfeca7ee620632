"""Reports of geological studies (issue 12, "Reports"): who may see them, how they are found.

A report belongs to a study of the catalog layer ``geological-studies`` (by the study's key, its
feature id in every version) and keeps a copy of the study's outline taken when it was added, so
that searching by place needs no layer version. Its files are documents of the document store
(cadastre/documents.py), owned by the report's authority, at the report's level.

Who may see a report (``visible``, and the same rule as SQL in ``visible_sql``):

* ``public``: everyone;
* ``official-use``: authority roles (officer, commission, admin, auditor, authority tokens), the
  operator and the owning authority, and the holders of an active licence whose geometry
  overlaps the study;
* ``confidential``: the operator and the owning authority only (their tokens and their officers).

Listing: public and official-use reports are listed to everyone (the catalogue of what exists is
public, as the layer's features are); an official-use report the caller may not read is listed
without its files (``files_withheld``), and its files are refused with 403. A confidential report
is listed only to who may read it; to anyone else it does not exist (404).

Search reads ``search_text``: title, organisation and the minerals' kk/ru/en names, each with a
Latin transliteration (Kazakh letters both as in the Kazakh Latin alphabet and as their Russian
counterparts would be), under PostgreSQL full-text search (configuration 'russian': Russian
stemming, English for Latin words). Other languages: a query word of the title glossary
(geo_glossary.toml: "exploration", "барлау", "разведка"...) also searches its equivalents.
Misspellings: each query word is looked up by pg_trgm
similarity in the lexicon of the reports' words (``geo_report_words``, short strings under a
trigram index) and searched as any of the words it resembles; similarity on the reports' whole
texts (word_similarity over every candidate row) measured 0.3-2 s over 50,000 reports."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import shapely
from psycopg import sql
from shapely.geometry import MultiPolygon, Polygon, box, shape

from cadastre import documents as docs
from geoservice.kernel.errors import Location, Problem
from layers.access import AUTHORITY_TOKEN, Caller, Person, Principal, roles_of
from layers.catalog import AUTHORITIES, GEOLOGICAL_STUDIES, can_write
from layers.grid import DEFAULT_DATUM, BlockListError, blocks_geometry, parse_block_list
from layers.store import journal, view_name

LEVELS = ("public", "official-use", "confidential")
FILE_KINDS = ("report", "scan", "appendix")
# Roles reading official-use reports on any study (the document store's rule, commission included).
OFFICIAL_READERS = frozenset({"officer", "commission", "admin", "auditor", AUTHORITY_TOKEN})
# The national geological operator keeps every report, confidential ones included.
OPERATOR = "operator"
PAGE_MAX = 100
# Word similarity above which a misspelt word still matches (pg_trgm's default is 0.6).
SIMILARITY = 0.45
MAX_QUERY = 200

# --- transliteration -----------------------------------------------------------------------------

# Russian letters (a common passport-style romanisation) and the Kazakh letters of the Kazakh
# Latin alphabet. Written out so that what is found does not depend on a library's table.
LATIN: dict[str, str] = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya",
    "ә": "a", "ғ": "g", "қ": "q", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i",
}
# The Kazakh letters as a Russian text writes them (Жезқазған -> Жезказган): so that the common
# Russian-based spelling 'Zhezkazgan' finds a Kazakh title as well.
KAZAKH_AS_RUSSIAN = str.maketrans({"ә": "а", "ғ": "г", "қ": "к", "ң": "н", "ө": "о", "ұ": "у", "ү": "у",
                                   "һ": "х", "і": "и"})


def transliterate(text: str) -> str:
    """Cyrillic (Kazakh and Russian) letters in Latin; everything else as it was (lower case)."""
    return "".join(LATIN.get(ch, ch) for ch in text.lower())


def search_words(text: str) -> str:
    """The text, then its transliterations (each variant once): what search reads."""
    low = text.lower()
    variants = dict.fromkeys([low, transliterate(low), transliterate(low.translate(KAZAKH_AS_RUSSIAN))])
    return " ".join(v for v in variants if v.strip())


# Minerals by code, with their names in kk/ru/en: a report lists codes, search reads every name.
MINERALS: dict[str, tuple[str, str, str]] = {
    "gold": ("алтын", "золото", "gold"),
    "silver": ("күміс", "серебро", "silver"),
    "copper": ("мыс", "медь", "copper"),
    "zinc": ("мырыш", "цинк", "zinc"),
    "lead": ("қорғасын", "свинец", "lead"),
    "iron": ("темір", "железо", "iron"),
    "manganese": ("марганец", "марганец", "manganese"),
    "chromium": ("хром", "хром", "chromium"),
    "tungsten": ("вольфрам", "вольфрам", "tungsten"),
    "uranium": ("уран", "уран", "uranium"),
    "coal": ("көмір", "уголь", "coal"),
    "oil": ("мұнай", "нефть", "oil"),
    "gas": ("газ", "газ", "gas"),
    "rare-earths": ("сирек жер металдары", "редкоземельные металлы", "rare earths"),
    "groundwater": ("жерасты сулары", "подземные воды", "groundwater"),
    "polymetals": ("полиметалдар", "полиметаллы", "polymetals"),
}


def search_text(title: str, organisation: str | None, minerals: Iterable[str]) -> str:
    names = [" ".join(MINERALS[m]) for m in minerals if m in MINERALS]
    return " ".join(search_words(part) for part in (title, organisation or "", *names) if part)


# --- who may see --------------------------------------------------------------------------------

def authorities_of(who: Caller | None) -> frozenset[str]:
    """The authorities ``who`` acts for: a token's, or those a person is an officer of."""
    if isinstance(who, Principal):
        return frozenset({who.authority})
    if isinstance(who, Person) and "officer" in who.roles:
        return frozenset(who.authorities)
    return frozenset()


def holder_ids(who: Caller | None) -> tuple[str | None, str | None]:
    """(IIN, BIN) under which ``who`` holds licences: a company's BIN when acting for one, else
    their own IIN (as the cabinet's licence list reads them)."""
    if not isinstance(who, Person):
        return None, None
    return (None, who.bin) if who.bin is not None else (who.iin, None)


def visible_sql(who: Caller | None) -> tuple[sql.Composable, dict[str, Any]]:
    """SQL condition on ``r`` (geo_reports) matching the reports ``who`` may read, files included."""
    authorities = sorted(authorities_of(who))
    iin, bin_ = holder_ids(who)
    official = bool(roles_of(who) & OFFICIAL_READERS)
    params: dict[str, Any] = {"v_auth": authorities, "v_operator": OPERATOR in authorities,
                              "v_official": official, "v_iin": iin, "v_bin": bin_}
    condition = sql.SQL(
        "(r.access_level = 'public' OR %(v_operator)s OR r.authority = ANY(%(v_auth)s::text[]) "
        "OR (r.access_level = 'official-use' AND (%(v_official)s OR ((%(v_iin)s::text IS NOT NULL "
        "OR %(v_bin)s::text IS NOT NULL) AND EXISTS (SELECT 1 FROM licence_states l WHERE l.valid_to IS NULL "
        "AND l.status = 'active' AND (l.holder_bin = %(v_bin)s OR (l.holder_iin = %(v_iin)s AND l.holder_bin IS NULL)) "
        "AND ST_Intersects(l.geom, r.outline) AND NOT ST_Touches(l.geom, r.outline))))))")
    return condition, params


# Studies (of ``$1``) with a report the reader would find listed (asyncpg, for the OGC links):
# non-confidential ones, and confidential ones for the operator (``$2``) and the owning authority.
STUDIES_WITH_REPORTS_SQL = (
    "SELECT DISTINCT study_key FROM geo_reports WHERE study_key = ANY($1::text[]) "
    "AND (access_level <> 'confidential' OR $2::boolean OR authority = ANY($3::text[]))")


def studies_with_reports_params(who: Caller | None) -> tuple[bool, list[str]]:
    authorities = authorities_of(who)
    return OPERATOR in authorities, sorted(authorities)


def listed_sql() -> sql.Composable:
    """Listed to everyone though perhaps not readable: public and official-use reports."""
    return sql.SQL("r.access_level <> 'confidential'")


# --- reports ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Report:
    id: int
    inventory: str
    study_key: str
    title: str
    title_lang: str | None
    authors: list[str]
    organisation: str | None
    year: int | None
    minerals: list[str]
    access_level: str
    authority: str
    bbox: list[float] = field(default_factory=list)


REPORT_COLUMNS = sql.SQL(
    "r.id, r.inventory, r.study_key, r.title, r.title_lang, r.authors, r.organisation, r.year, r.minerals, "
    "r.access_level, r.authority, ARRAY[ST_XMin(r.outline), ST_YMin(r.outline), ST_XMax(r.outline), "
    "ST_YMax(r.outline)]")


def _report(row: Sequence[Any]) -> Report:
    return Report(*row[:11], bbox=[round(float(v), 6) for v in row[11]])  # type: ignore[call-arg]


@dataclass
class NewReport:
    study_key: str
    inventory: str
    title: str
    access_level: str
    authors: list[str] = field(default_factory=list)
    organisation: str | None = None
    year: int | None = None
    minerals: list[str] = field(default_factory=list)
    title_lang: str | None = None


def _text(value: Any, name: str, limit: int, *, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Problem("geoinfo.field_required", 422, location=Location(field=name), field=name)
        return None
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise Problem("geoinfo.bad_field", 422, location=Location(field=name), field=name, limit=limit)
    return value.strip()


def check_new(report: NewReport) -> NewReport:
    """The report's fields, checked (422 problems naming the field)."""
    if report.access_level not in LEVELS:
        raise Problem("geoinfo.bad_level", 422, location=Location(field="access_level"),
                      level=str(report.access_level)[:40], known=", ".join(LEVELS))
    unknown = [m for m in report.minerals if m not in MINERALS]
    if unknown:
        raise Problem("geoinfo.bad_mineral", 422, location=Location(field="minerals"), mineral=str(unknown[0])[:40],
                      known=", ".join(MINERALS))
    if report.year is not None and not (isinstance(report.year, int) and 1800 <= report.year <= 2200):
        raise Problem("geoinfo.bad_field", 422, location=Location(field="year"), field="year", limit=2200)
    if report.title_lang is not None and report.title_lang not in ("kk", "ru", "en"):
        raise Problem("geoinfo.bad_field", 422, location=Location(field="title_lang"), field="title_lang", limit=2)
    if not isinstance(report.authors, list) or any(_text(a, "authors", 200) is None for a in report.authors):
        raise Problem("geoinfo.bad_field", 422, location=Location(field="authors"), field="authors", limit=200)
    return NewReport(
        study_key=_text(report.study_key, "study", 200) or "",
        inventory=_text(report.inventory, "inventory", 100) or "",
        title=_text(report.title, "title", 2000) or "", access_level=report.access_level,
        authors=[a.strip() for a in report.authors], organisation=_text(report.organisation, "organisation", 500,
                                                                         required=False),
        year=report.year, minerals=list(dict.fromkeys(report.minerals)), title_lang=report.title_lang)


def study_outline(conn: psycopg.Connection, study_key: str) -> bytes | None:
    """The study's outline (WKB) in the layer's current version; None when there is no such study."""
    exists = conn.execute("SELECT to_regclass(%s)", (f"public.{GEOLOGICAL_STUDIES.id.replace('-', '_')}",)).fetchone()
    if exists is None or exists[0] is None:
        return None
    row = conn.execute(sql.SQL("SELECT ST_AsBinary(ST_Multi(geom)) FROM {} WHERE feature_id = %s").format(
        view_name(GEOLOGICAL_STUDIES)), (study_key,)).fetchone()
    return bytes(row[0]) if row else None


def writing_authority(who: Caller) -> str | None:
    """The authority on whose behalf ``who`` adds reports: one that writes geological-studies."""
    return next((a for a in sorted(authorities_of(who)) if can_write(a, GEOLOGICAL_STUDIES)), None)


def add_report(conn: psycopg.Connection, report: NewReport, *, authority: str, actor: str,
               client: str | None = None) -> Report:
    """Add a report to a study, in the caller's transaction; journaled. The caller has checked the
    writer (``writing_authority``); refusals raise before anything is written."""
    if authority not in AUTHORITIES:
        raise Problem("geoinfo.forbidden_write", 403, authority=authority)
    report = check_new(report)
    outline = study_outline(conn, report.study_key)
    if outline is None:
        raise Problem("geoinfo.unknown_study", 422, location=Location(field="study"), study=report.study_key)
    row = conn.execute(sql.SQL(
        "INSERT INTO geo_reports AS r (inventory, study_key, title, title_lang, authors, organisation, year, minerals, "
        "access_level, authority, outline, search_text, added_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
        "ST_GeomFromWKB(%s, 4326), %s, %s) ON CONFLICT (inventory) DO NOTHING RETURNING {}").format(REPORT_COLUMNS),
        (report.inventory, report.study_key, report.title, report.title_lang, report.authors, report.organisation,
         report.year, report.minerals, report.access_level, authority, outline,
         search_text(report.title, report.organisation, report.minerals), actor)).fetchone()
    if row is None:
        raise Problem("geoinfo.duplicate_inventory", 409, location=Location(field="inventory"),
                      inventory=report.inventory)
    added = _report(row)
    record_words(conn, search_text(report.title, report.organisation, report.minerals))
    journal(conn, actor, "geo-report.add", "ok", object=f"geo-report:{added.inventory}", client=client,
            detail={"study": added.study_key, "access_level": added.access_level, "authority": authority})
    return added


def add_file(conn: psycopg.Connection, report: Report, file_name: str, content: bytes, *, kind: str = "report",
             actor: str, client: str | None = None, limits: docs.Limits | None = None) -> docs.Document:
    """A file of the report, stored in the document store (owned by the report's authority, at the
    report's level: the store's own routes apply their rule to it too); journaled."""
    limits = limits or docs.Limits()
    if kind not in FILE_KINDS:
        raise Problem("geoinfo.bad_field", 422, location=Location(field="kind"), field="kind", limit=20)
    name = docs.safe_name(file_name)
    if not content:
        raise Problem("documents.empty", 422, location=Location(file=name, field="file"), file=name)
    if len(content) > limits.max_document_bytes:
        raise Problem("documents.too_large", 413, location=Location(file=name, field="file"), file=name,
                      limit_mb=round(limits.max_document_bytes / docs.MiB, 2),
                      limit_kb=limits.max_document_bytes // 1024)
    sniffed = docs.sniff(content, name, limits)
    digest = hashlib.sha256(content).hexdigest()
    row = conn.execute(
        f"INSERT INTO documents (owner_authority, file_name, content_type, size, sha256, access_level, reference, "  # noqa: S608
        f"uploaded_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING {docs.COLUMNS}",
        (report.authority, name, sniffed.content_type, len(content), digest, report.access_level,
         report.inventory[:200], actor)).fetchone()
    assert row is not None
    doc = docs.Document(*row)
    conn.execute("INSERT INTO document_contents (document_id, content) VALUES (%s, %s)", (doc.id, content))
    conn.execute("INSERT INTO geo_report_files (report_id, document_id, kind) VALUES (%s, %s, %s)",
                 (report.id, doc.id, kind))
    journal(conn, actor, "geo-report.file-add", "ok", object=f"geo-report:{report.inventory}", client=client,
            detail={"document": doc.id, "file": name, "sha256": digest, "size": len(content), "kind": kind})
    return doc


# --- reading ------------------------------------------------------------------------------------

def get_report(conn: psycopg.Connection, inventory: str, who: Caller | None) -> tuple[Report, bool] | None:
    """The report and whether ``who`` may read it (its files); None when it does not exist for
    ``who`` (missing, or confidential and unreadable)."""
    condition, params = visible_sql(who)
    row = conn.execute(sql.SQL("SELECT {}, {} FROM geo_reports r WHERE r.inventory = %(inv)s").format(
        REPORT_COLUMNS, condition), {**params, "inv": inventory}).fetchone()
    if row is None:
        return None
    report, readable = _report(row[:12]), bool(row[12])
    if not readable and report.access_level == "confidential":
        return None
    return report, readable


def files_of(conn: psycopg.Connection, report_ids: Sequence[int]) -> dict[int, list[tuple[str, docs.Document]]]:
    """report id -> (kind, document) of its files."""
    columns = ", ".join("d." + c.strip() for c in docs.COLUMNS.split(","))
    rows = conn.execute(f"SELECT f.report_id, f.kind, {columns} FROM geo_report_files f "  # noqa: S608
                        "JOIN documents d ON d.id = f.document_id WHERE f.report_id = ANY(%s) ORDER BY d.id",
                        (list(report_ids),)).fetchall()
    out: dict[int, list[tuple[str, docs.Document]]] = {}
    for r in rows:
        out.setdefault(int(r[0]), []).append((r[1], docs.Document(*r[2:])))
    return out


def report_of_document(conn: psycopg.Connection, document_id: int) -> Report | None:
    """The report a document of the store is a file of (None: an ordinary document). The
    document store's own routes decide such a file by the report's rule, not the store's."""
    row = conn.execute(sql.SQL("SELECT {} FROM geo_reports r JOIN geo_report_files f ON f.report_id = r.id "
                               "WHERE f.document_id = %s").format(REPORT_COLUMNS), (document_id,)).fetchone()
    return None if row is None else _report(row)


def report_file(conn: psycopg.Connection, inventory: str, document_id: int) -> tuple[Report, docs.Document] | None:
    """A file of a report (no access decision: ``may_read_file`` makes it)."""
    row = conn.execute(sql.SQL("SELECT {} FROM geo_reports r JOIN geo_report_files f ON f.report_id = r.id "
                               "WHERE r.inventory = %s AND f.document_id = %s").format(REPORT_COLUMNS),
                       (inventory, document_id)).fetchone()
    if row is None:
        return None
    doc = docs.get(conn, document_id)
    assert doc is not None
    return _report(row), doc


def may_read(conn: psycopg.Connection, report: Report, who: Caller | None) -> bool:
    """THE decision for one report (the SQL of ``visible_sql`` on its row)."""
    condition, params = visible_sql(who)
    row = conn.execute(sql.SQL("SELECT {} FROM geo_reports r WHERE r.id = %(id)s").format(condition),
                       {**params, "id": report.id}).fetchone()
    return bool(row and row[0])


# --- search -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Search:
    q: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    point: tuple[float, float] | None = None
    place: MultiPolygon | None = None   # a parcel: a polygon or the blocks of a block list
    study: str | None = None
    limit: int = 20
    offset: int = 0


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 4 or not all(abs(v) <= 180 for v in values) or values[0] > values[2] or values[1] > values[3]:
        raise Problem("geoinfo.bad_bbox", 400, location=Location(field="bbox"))
    return values[0], values[1], values[2], values[3]


def parse_point(text: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError:
        raise Problem("geoinfo.bad_point", 400, location=Location(field="point")) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise Problem("geoinfo.bad_point", 400, location=Location(field="point"))
    return lon, lat


def parse_blocks(text: str, datum: str = DEFAULT_DATUM) -> MultiPolygon:
    """A block list (``L-43-63-(10а-5б-14,15)``) as the area of its blocks."""
    try:
        codes = parse_block_list(text)
    except BlockListError as err:
        raise Problem("geoinfo.bad_blocks", 400, location=Location(field="blocks"), token=err.token,
                      position=err.position) from None
    if not codes or len(codes) > 10_000:
        raise Problem("geoinfo.bad_blocks", 400, location=Location(field="blocks"), token=text[:40], position=0)
    return blocks_geometry(codes, datum=datum)


def parse_polygon(text: str) -> MultiPolygon:
    """A parcel as GeoJSON (Polygon or MultiPolygon, CRS84)."""
    try:
        geom = shape(json.loads(text))
    except (ValueError, TypeError, KeyError, AttributeError):
        raise Problem("geoinfo.bad_parcel", 400, location=Location(field="parcel")) from None
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    if not isinstance(geom, MultiPolygon) or geom.is_empty or not geom.is_valid:
        raise Problem("geoinfo.bad_parcel", 400, location=Location(field="parcel"))
    return geom


def clean_query(q: str | None) -> str | None:
    if q is None:
        return None
    q = re.sub(r"\s+", " ", q.replace("\x00", " ")).strip().lower()
    if len(q) > MAX_QUERY:
        raise Problem("geoinfo.query_too_long", 400, location=Location(field="q"), limit=MAX_QUERY)
    return q or None


def query_words(q: str) -> list[list[str]]:
    """Each word of the query with its spellings: as typed and transliterated (both ways of
    writing the Kazakh letters)."""
    spellings = [q, transliterate(q), transliterate(q.translate(KAZAKH_AS_RUSSIAN))]
    split = [re.findall(r"\w+", v) for v in spellings]
    if len({len(words) for words in split}) != 1:  # a letter that becomes no letter (ъ, ь): as typed only
        return [[w] for w in split[0]]
    return [list(dict.fromkeys(group)) for group in zip(*split, strict=True)]


# Words of the reports resembling the query's words (trigram similarity; ``%`` is the index's
# coarse filter at pg_trgm's default 0.3, the threshold itself is SIMILARITY).
SIMILAR_SQL = ("SELECT q.w, l.word FROM unnest(%s::text[]) q(w) JOIN geo_report_words l ON l.word %% q.w "
               "WHERE similarity(l.word, q.w) >= %s")


GLOSSARY_PATH = Path(__file__).with_name("geo_glossary.toml")


@functools.cache
def _glossary_groups() -> tuple[dict[str, list[str]], ...]:
    """geo_glossary.toml's groups as written ({"kk": [...], "ru": [...], "en": [...]}), read once."""
    return tuple(tomllib.loads(GLOSSARY_PATH.read_text(encoding="utf-8"))["group"])


@functools.cache
def glossary() -> tuple[tuple[str, ...], ...]:
    """The groups of equivalent title words in kk/ru/en (geo_glossary.toml), each word once."""
    return tuple(tuple(dict.fromkeys(w.lower() for lang in ("kk", "ru", "en") for w in group.get(lang, [])))
                 for group in _glossary_groups())


@functools.cache
def kazakh_stems() -> frozenset[str]:
    """The glossary's Kazakh words of four letters or more: searched as prefixes, since Kazakh
    adds its endings to the stem (бассейн → бассейнінің) and no stemmer here knows them."""
    return frozenset(w.lower() for group in _glossary_groups() for w in group.get("kk", []) if len(w) >= 4)


# The glossary groups a query word belongs to: same stem under the 'russian' configuration.
GLOSSARY_SQL = ("SELECT DISTINCT q.w, g.i FROM unnest(%s::text[]) q(w) "
                "JOIN unnest(%s::text[], %s::int[]) g(form, i) "
                "ON numnode(plainto_tsquery('russian', q.w)) > 0 "
                "AND plainto_tsquery('russian', g.form) = plainto_tsquery('russian', q.w)")


def ts_query(conn: psycopg.Connection, q: str) -> str:
    """The query for ``to_tsquery``: every query word (AND), each as any of its spellings, of the
    reports' words it resembles, or of its equivalents in the other languages (OR). Only word
    characters reach it."""
    groups = query_words(q)
    wanted = sorted({w for group in groups for w in group})
    similar: dict[str, set[str]] = {}
    for w, word in conn.execute(SIMILAR_SQL, (wanted, SIMILARITY)).fetchall():
        similar.setdefault(w, set()).add(word)
    terms = glossary()
    forms = [form for group in terms for form in group]
    index = [i for i, group in enumerate(terms) for _ in group]
    for w, i in conn.execute(GLOSSARY_SQL, (wanted, forms, index)).fetchall():
        similar.setdefault(w, set()).update(terms[i])
    prefixes = kazakh_stems()
    parts = []
    for group in groups:
        words = sorted({*group, *(s + ":*" if s in prefixes else s for w in group for s in similar.get(w, ()))})
        parts.append("(" + " | ".join(words) + ")")
    return " & ".join(parts)


def record_words(conn: psycopg.Connection, text: str) -> None:
    """The words of a report's search text into the lexicon the typo matching reads."""
    words = sorted({w for w in re.findall(r"\w+", text) if len(w) <= 100})
    conn.execute("INSERT INTO geo_report_words (word) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING", (words,))


def search(conn: psycopg.Connection, who: Caller | None, s: Search) -> tuple[list[tuple[Report, bool]], int]:
    """A page of the reports ``who`` may see (official-use listed, perhaps unreadable; see the
    module's note), best first, and how many match."""
    condition, params = visible_sql(who)
    where: list[sql.Composable] = [sql.SQL("({} OR {})").format(condition, listed_sql())]
    rank: sql.Composable = sql.SQL("0::real")  # an expression: a bare 0 would name a column
    q = clean_query(s.q)
    if q is not None:
        tsq = ts_query(conn, q)
        if not tsq:  # no word at all (punctuation only): nothing matches
            return [], 0
        params["tsq"] = tsq
        where.append(sql.SQL("r.search_vector @@ to_tsquery('russian', %(tsq)s)"))
        rank = sql.SQL("ts_rank(r.search_vector, to_tsquery('russian', %(tsq)s))")
    area = None
    if s.bbox is not None:
        area = box(*s.bbox)
    if s.point is not None:
        area = shapely.Point(*s.point) if area is None else area.intersection(shapely.Point(*s.point))
    if s.place is not None:
        area = s.place if area is None else area.intersection(s.place)
    if area is not None:
        params["area"] = shapely.to_wkb(area)
        where.append(sql.SQL("ST_Intersects(r.outline, ST_GeomFromWKB(%(area)s, 4326))"))
    if s.study is not None:
        params["study"] = s.study
        where.append(sql.SQL("r.study_key = %(study)s"))
    params.update(limit=s.limit, offset=s.offset)
    query = sql.SQL("SELECT {cols}, {readable}, count(*) OVER () FROM geo_reports r WHERE {where} "
                    "ORDER BY {rank} DESC, r.year DESC NULLS LAST, r.inventory LIMIT %(limit)s OFFSET %(offset)s"
                    ).format(cols=REPORT_COLUMNS, readable=condition, where=sql.SQL(" AND ").join(where), rank=rank)
    rows = conn.execute(query, params).fetchall()
    total = int(rows[0][-1]) if rows else _count(conn, where, params)
    return [(_report(r[:12]), bool(r[12])) for r in rows], total


def _count(conn: psycopg.Connection, where: list[sql.Composable], params: dict[str, Any]) -> int:
    """How many match, for a page past the end (the window count is on the rows returned)."""
    if params.get("offset", 0) == 0:
        return 0
    row = conn.execute(sql.SQL("SELECT count(*) FROM geo_reports r WHERE {}").format(sql.SQL(" AND ").join(where)),
                       params).fetchone()
    return int(row[0]) if row else 0


def describe(report: Report, readable: bool, files: list[tuple[str, docs.Document]], base: str,
             lang: str = "en") -> dict[str, Any]:
    """The report as a caller sees it: files (with their links) only when ``readable``."""
    out: dict[str, Any] = {
        "inventory": report.inventory, "study": report.study_key, "title": report.title,
        "title_lang": report.title_lang, "authors": report.authors, "organisation": report.organisation,
        "year": report.year, "minerals": [{"code": m, "name": dict(zip(("kk", "ru", "en"), MINERALS[m],
                                                                           strict=True))[lang]}
                                          for m in report.minerals if m in MINERALS],
        "access_level": report.access_level, "authority": report.authority, "bbox": report.bbox,
        "files_withheld": not readable,
    }
    here = f"{base}/api/geoinfo/reports/{quote(report.inventory)}"
    links = [{"rel": "self", "type": "application/json", "href": here},
             {"rel": "collection", "type": "application/json",
              "href": f"{base}/api/geoinfo?study={quote(report.study_key, safe='')}"}]
    out["files"] = [{"id": d.id, "kind": kind, "file_name": d.file_name, "content_type": d.content_type,
                     "size": d.size, "sha256": d.sha256, "href": f"{here}/files/{d.id}"}
                    for kind, d in files] if readable else []
    out["links"] = links
    return out


# --- demo ---------------------------------------------------------------------------------------

def minimal_pdf(text: str) -> bytes:
    """A valid one-page PDF showing ``text`` (ASCII), its cross-reference table computed."""
    safe = re.sub(r"[^A-Za-z0-9 .,:;/()-]", "?", text)[:80]
    stream = f"BT /F1 14 Tf 40 780 Td ({safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# The demo studies (importers/demo.py): a public and an official-use report each.
DEMO_REPORTS: dict[str, tuple[str, str, list[str]]] = {
    "GS-1968-014": ("Отчёт о геологической съёмке листа М-42-XII", "Казгеолком", ["copper", "gold"]),
    "GP-1985-201": ("Гравиразведочные работы в Шу-Сарысуйской впадине", "Южказгеофизика", ["uranium"]),
    "EX-2015-007": ("Қарағанды ауданындағы іздеу жұмыстары туралы есеп", "ТОО «Demo Gold»", ["gold"]),
    "SE-2001-3D": ("Сейсморазведка 3D, Атырауская область", "Demo Seismic", ["oil", "gas"]),
}
DEMO_ACTOR = "demo"


def load_demo_reports(conn: psycopg.Connection) -> str:
    """One public and one official-use report, each with a small PDF, on every demo study that is
    in the layer and has none yet (run again, it adds nothing); in the caller's transaction."""
    added = 0
    for study, (title, organisation, minerals) in DEMO_REPORTS.items():
        if study_outline(conn, study) is None:
            continue
        for n, level in enumerate(("public", "official-use"), start=1):
            inventory = f"{study}-R{n}"
            if conn.execute("SELECT 1 FROM geo_reports WHERE inventory = %s", (inventory,)).fetchone():
                continue
            year = int(study.split("-")[1])
            report = add_report(conn, NewReport(
                study_key=study, inventory=inventory, title=title if n == 1 else f"{title} (приложения)",
                access_level=level, authors=["Demo A.", "Demo B."], organisation=organisation, year=year,
                minerals=minerals, title_lang="kk" if study == "EX-2015-007" else "ru"), authority=OPERATOR,
                actor=DEMO_ACTOR)
            add_file(conn, report, f"{study}-{n}.pdf", minimal_pdf(f"Demo report {inventory} ({level})"),
                     actor=DEMO_ACTOR)
            added += 1
    return f"geological reports: {added} added"

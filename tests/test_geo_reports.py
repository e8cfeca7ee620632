"""Reports of geological studies (issue 12): access levels everywhere (search, one report, files),
licence holders by overlap, journal, search by place and text (ru/kk/en, transliteration, typos),
and the OGC link from each study. Real PostGIS, the app through TestClient."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from cadastre import accounts
from cadastre import geo_reports as gr
from cadastre import licences as reg
from cadastre.registers import TableRegisters
from importers.pipeline import UploadRequest, run_upload
from layers.access import create_token
from layers.catalog import get_layer
from layers.grid import code_at
from layers.store import restore_version
from tests.helpers import feature_collection, sealed, square, write_json
from tests.people import add_person

NEAR_HOLDER = "010101600001"
FAR_HOLDER = "010101600002"
AKIMAT_OFFICER = "010101600003"
OWNER_OFFICER = "010101600004"
AUDITOR = "010101600005"


@pytest.fixture(scope="module")
def world(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Two studies, four reports (three levels on study A), two licence holders, officers and tokens."""
    with psycopg.connect(database_url) as conn:
        previous = conn.execute("SELECT v.version FROM layers l JOIN layer_versions v ON v.id = l.current_version_id "
                                "WHERE l.id = 'geological-studies'").fetchone()
    path = write_json(tmp_path_factory.mktemp("studies") / "studies.geojson", feature_collection([
        (square(66.0, 48.0, 1.0), {"study_id": "GR-A", "name": "Жезказган", "study_type": "exploration",
                                   "year_start": 1970}),
        (square(80.0, 50.0, 0.5), {"study_id": "GR-B", "name": "Karaganda", "study_type": "geological-survey",
                                   "year_start": 1980}),
        (square(85.0, 47.0, 0.3), {"study_id": "GR-C", "name": "No reports", "study_type": "other",
                                   "year_start": 1990}),
    ]))
    run_upload(UploadRequest(layer_id="geological-studies", path=path, file_name=path.name), database_url)
    pdf = gr.minimal_pdf("test report")
    out: dict[str, Any] = {"pdf": pdf, "files": {}, "headers": {}}
    with psycopg.connect(database_url) as conn:
        specs = [
            ("GR-A-PUB", "GR-A", "public", "Медные руды Жезказганского месторождения", "Жезқазғангеология",
             ["copper"], "solid-minerals"),
            ("GR-A-OFF", "GR-A", "official-use", "Отчёт о поисках золота", "Казгеолком", ["gold"], "solid-minerals"),
            ("GR-A-CONF", "GR-A", "confidential", "Seismic survey of the deep horizons", "Demo Seismic", ["oil"],
             "solid-minerals"),
            ("GR-B-PUB", "GR-B", "public", "Қарағанды көмір бассейнінің геологиясы", "Қарағандыгеология", ["coal"],
             "operator"),
        ]
        for inventory, study, level, title, org, minerals, authority in specs:
            report = gr.add_report(conn, gr.NewReport(study_key=study, inventory=inventory, title=title,
                                                      access_level=level, authors=["Иванов И.И."], organisation=org,
                                                      year=1975, minerals=minerals), authority=authority, actor="test")
            doc = gr.add_file(conn, report, f"{inventory}.pdf", pdf, actor="test")
            out["files"][inventory] = doc.id
        for iin in (NEAR_HOLDER, FAR_HOLDER, AKIMAT_OFFICER, OWNER_OFFICER, AUDITOR):
            add_person(conn, iin, f"Тест {iin}")
        accounts.grant_role(conn, AKIMAT_OFFICER, "officer", "akimat", actor="test")
        accounts.grant_role(conn, OWNER_OFFICER, "officer", "solid-minerals", actor="test")
        accounts.grant_role(conn, AUDITOR, "auditor", None, actor="test")
        today = dt.date.today()
        # The near holder's licence overlaps study A; the far holder's lies elsewhere.
        for number, iin, geometry in (("GR-L-NEAR", NEAR_HOLDER, square(66.8, 48.8, 0.5)),
                                      ("GR-L-FAR", FAR_HOLDER, square(75.0, 45.0, 0.2))):
            # A kind and mineral no other test filters the registry by (they share this database).
            reg.issue_licence(conn, number=number, holder={"iin": iin, "name": "Holder"}, kind="geological-study",
                              mineral="tungsten", geometry=geometry, issued_on=today - dt.timedelta(days=30),
                              term_until=today + dt.timedelta(days=3000), source="import", basis="test",
                              actor="test")
        for iin in (NEAR_HOLDER, FAR_HOLDER, AKIMAT_OFFICER, OWNER_OFFICER, AUDITOR):
            result = accounts.sign_in(conn, TableRegisters(conn), accounts.Identity(iin), method="demo",
                                      lifetime=dt.timedelta(hours=2), client="test")
            out["headers"][iin] = {"Authorization": f"Bearer {result.token}"}
        for authority in ("operator", "hydrocarbons", "solid-minerals", "akimat"):
            _, token = create_token(conn, authority, "geo-reports test")
            out["headers"][authority] = {"Authorization": f"Bearer {token}"}
        conn.commit()
    try:
        yield out
    finally:
        with psycopg.connect(database_url) as conn:
            if previous is not None:
                restore_version(conn, get_layer("geological-studies"), previous[0], actor="test")  # type: ignore[arg-type]
            conn.commit()


def _listed(client: TestClient, headers: dict[str, str] | None = None, **params: Any) -> dict[str, bool]:
    r = client.get("/api/geoinfo", params=params, headers=headers or {})
    assert r.status_code == 200, r.text
    return {x["inventory"]: not x["files_withheld"] for x in r.json()["reports"]}


def _download(client: TestClient, world: dict[str, Any], inventory: str, who: str | None = None,
              lang: str = "en") -> Any:
    headers = {"Accept-Language": lang, **(world["headers"][who] if who else {})}
    return client.get(f"/api/geoinfo/reports/{inventory}/files/{world['files'][inventory]}", headers=headers)


def _journal(db: psycopg.Connection, inventory: str, result: str) -> list[tuple[Any, ...]]:
    sealed(db)
    return db.execute("SELECT actor, detail->>'problem', detail->>'access_level' FROM journal "
                      "WHERE action = 'geo-report.download' AND object = %s AND result = %s ORDER BY seq",
                      (f"geo-report:{inventory}", result)).fetchall()


# --- who sees what --------------------------------------------------------------------------------

def test_anonymous_sees_public_files_and_official_use_without_files(client: TestClient, world: dict[str, Any]) -> None:
    listed = _listed(client, study="GR-A")
    # Public readable; official-use listed without files; confidential not listed at all.
    assert listed == {"GR-A-PUB": True, "GR-A-OFF": False}
    one = client.get("/api/geoinfo/reports/GR-A-OFF").json()
    assert one["files_withheld"] is True and one["files"] == []
    pub = client.get("/api/geoinfo/reports/GR-A-PUB").json()
    assert [f["id"] for f in pub["files"]] == [world["files"]["GR-A-PUB"]]
    assert client.get("/api/geoinfo/reports/GR-A-CONF").status_code == 404
    assert client.get("/api/geoinfo/reports/%00").status_code == 404
    assert client.get("/api/geoinfo/reports/%00/files/1").status_code == 404


def test_official_use_for_overlapping_holders_and_authorities(client: TestClient, world: dict[str, Any]) -> None:
    for who, sees in ((NEAR_HOLDER, True), (FAR_HOLDER, False), (AKIMAT_OFFICER, True), (AUDITOR, True),
                      ("hydrocarbons", True)):
        assert _listed(client, world["headers"][who], study="GR-A")["GR-A-OFF"] is sees, who
        r = _download(client, world, "GR-A-OFF", who)
        assert r.status_code == (200 if sees else 403), (who, r.text)
        if sees:
            assert r.content == world["pdf"] and r.headers["content-type"] == "application/pdf"


def test_confidential_only_for_operator_and_owning_authority(client: TestClient, world: dict[str, Any]) -> None:
    for who, sees in (("operator", True), ("solid-minerals", True), (OWNER_OFFICER, True),
                      ("hydrocarbons", False), (AKIMAT_OFFICER, False), (AUDITOR, False), (NEAR_HOLDER, False)):
        assert ("GR-A-CONF" in _listed(client, world["headers"][who], study="GR-A")) is sees, who
        one = client.get("/api/geoinfo/reports/GR-A-CONF", headers=world["headers"][who])
        assert one.status_code == (200 if sees else 404), who
        assert _download(client, world, "GR-A-CONF", who).status_code == (200 if sees else 403), who
    assert _download(client, world, "GR-A-CONF").status_code == 403


def test_refusals_are_403_problems_in_the_request_language_and_journaled(client: TestClient, world: dict[str, Any],
                                                                         db: psycopg.Connection) -> None:
    texts = {}
    for lang in ("kk", "ru", "en"):
        r = _download(client, world, "GR-A-OFF", lang=lang)
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
        texts[lang] = r.json()["detail"]
    assert "GR-A-OFF" in texts["en"] and len(set(texts.values())) == 3
    assert "органам" in texts["ru"] and "органдарға" in texts["kk"]
    rows = _journal(db, "GR-A-OFF", "rejected")
    assert rows[-1] == ("anonymous", "geoinfo.file_forbidden", "official-use")
    r = _download(client, world, "GR-A-OFF", FAR_HOLDER)
    assert r.status_code == 403
    assert _journal(db, "GR-A-OFF", "rejected")[-1][0] == f"IIN{FAR_HOLDER}"
    # A file of another report through this report's path: no such file here.
    wrong = client.get(f"/api/geoinfo/reports/GR-A-PUB/files/{world['files']['GR-A-CONF']}")
    assert wrong.status_code == 404


def test_downloads_are_journaled(client: TestClient, world: dict[str, Any], db: psycopg.Connection) -> None:
    before = len(_journal(db, "GR-A-PUB", "ok"))
    r = _download(client, world, "GR-A-PUB")
    assert r.status_code == 200 and r.content.startswith(b"%PDF-1.4")
    assert len(_journal(db, "GR-A-PUB", "ok")) == before + 1
    _download(client, world, "GR-A-OFF", NEAR_HOLDER)
    assert _journal(db, "GR-A-OFF", "ok")[-1] == (f"IIN{NEAR_HOLDER}", None, "official-use")


def test_the_document_store_applies_the_reports_rule_to_their_files(client: TestClient,
                                                                    world: dict[str, Any]) -> None:
    # The files are documents of the store, at the report's level, owned by its authority; asked
    # for through the store, they follow their report's rule all the same.
    official, confidential = world["files"]["GR-A-OFF"], world["files"]["GR-A-CONF"]
    for doc, who, status in ((official, None, 404), (official, "solid-minerals", 200),
                             (official, NEAR_HOLDER, 200), (official, FAR_HOLDER, 404),
                             (confidential, AUDITOR, 404), (confidential, OWNER_OFFICER, 200)):
        headers = world["headers"][who] if who else {}
        assert client.get(f"/api/documents/{doc}/content", headers=headers).status_code == status, (doc, who)
    # Not listed by the store (their report lists them), whoever asks.
    listed = client.get("/api/documents", headers=world["headers"][AUDITOR]).json()["documents"]
    assert not {official, confidential} & {d["id"] for d in listed}


# --- search --------------------------------------------------------------------------------------

def test_search_by_place(client: TestClient, world: dict[str, Any]) -> None:
    assert set(_listed(client, bbox="65.5,47.5,66.2,48.2")) == {"GR-A-PUB", "GR-A-OFF"}
    assert set(_listed(client, bbox="60,40,61,41")) == set()
    assert set(_listed(client, point="80.1,50.1")) == {"GR-B-PUB"}
    assert set(_listed(client, point="70,45")) == set()
    # A block list: one block (1' x 1') inside study A; one far away.
    inside, outside = code_at(66 * 60 + 5, 48 * 60 + 5), code_at(60 * 60, 41 * 60)
    assert set(_listed(client, blocks=inside)) == {"GR-A-PUB", "GR-A-OFF"}
    assert set(_listed(client, blocks=outside)) == set()
    import json

    parcel = json.dumps(square(80.2, 50.2, 0.1))
    assert set(_listed(client, parcel=parcel)) == {"GR-B-PUB"}
    for bad in ({"bbox": "1,2,3"}, {"point": "x"}, {"blocks": "Z-99-??"}, {"parcel": "{}"}, {"limit": "0"},
                {"study": "\x00"}, {"q": "x" * 300}):
        r = client.get("/api/geoinfo", params=bad, headers={"Accept-Language": "ru"})
        assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json", bad


def test_search_by_text(client: TestClient, world: dict[str, Any]) -> None:
    def first(q: str, **extra: Any) -> str | None:
        r = client.get("/api/geoinfo", params={"q": q, **extra})
        assert r.status_code == 200, r.text
        found = r.json()["reports"]
        return found[0]["inventory"] if found else None

    assert first("жезказган") == "GR-A-PUB"          # Russian spelling
    assert first("Жезқазған") == "GR-A-PUB"          # Kazakh spelling
    assert first("Zhezkazgan") == "GR-A-PUB"         # transliteration
    assert first("Жезказганскаго") == "GR-A-PUB"     # a typo (trigram)
    assert first("медные руды") == "GR-A-PUB"        # Russian stemming
    assert first("copper") == "GR-A-PUB"             # the mineral in en
    assert first("мыс") == "GR-A-PUB"                # ... in kk
    assert first("золото") == "GR-A-OFF"             # ... in ru
    assert first("көмір") == "GR-B-PUB"              # Kazakh title and mineral
    assert first("Qaragandy") == "GR-B-PUB"          # Kazakh Latin
    assert first("Karagandy") == "GR-B-PUB"          # Russian-style Latin of a Kazakh title
    assert first("seismic") is None                  # confidential: not listed to the public
    assert first("seismic", **{}) is None
    r = client.get("/api/geoinfo", params={"q": "seismic"}, headers=world["headers"]["operator"])
    assert [x["inventory"] for x in r.json()["reports"]] == ["GR-A-CONF"]
    assert first("Zhezkazgan", bbox="79,49,81,51") is None   # text and place together
    assert first("xyzzy qwerty") is None


def test_title_words_across_languages(client: TestClient, world: dict[str, Any]) -> None:
    """A Russian title found by its words in English and Kazakh (cadastre/geo_glossary.toml):
    "Отчёт о поисках золота" by "gold prospecting report", "алтын іздеу"; "геологиясы" by
    "geology"; a word of no group matches nothing more than before."""
    def found(q: str) -> list[str]:
        r = client.get("/api/geoinfo", params={"q": q}, headers=world["headers"]["operator"])
        assert r.status_code == 200, r.text
        return [x["inventory"] for x in r.json()["reports"]]

    assert found("gold prospecting report") == ["GR-A-OFF"]
    assert found("алтын іздеу есебі") == ["GR-A-OFF"]
    assert found("report") == ["GR-A-OFF"]
    assert found("copper ore deposit") == ["GR-A-PUB"]       # медные руды ... месторождения
    assert found("мыс кені") == ["GR-A-PUB"]
    assert found("coal basin") == ["GR-B-PUB"]               # көмір бассейнінің (Kazakh title)
    assert found("gold exploration") == []                   # поиски, not разведка: every word must match
    assert found("отчет") == ["GR-A-OFF"]                    # е for ё


def test_the_glossary_is_three_languages_of_single_words() -> None:
    groups = gr.glossary()
    assert len(groups) >= 30
    import tomllib

    for group in tomllib.loads(gr.GLOSSARY_PATH.read_text(encoding="utf-8"))["group"]:
        assert set(group) == {"kk", "ru", "en"}, group
        for words in group.values():
            assert words and all(re.fullmatch(r"\w+", w) for w in words), group


def test_paging(client: TestClient, world: dict[str, Any]) -> None:
    r = client.get("/api/geoinfo", params={"bbox": "60,40,90,55", "limit": "1"}).json()
    assert r["numberMatched"] == 3 and r["numberReturned"] == 1
    nxt = [x["href"] for x in r["links"] if x["rel"] == "next"]
    second = client.get(nxt[0]).json()
    assert second["offset"] == 1 and second["reports"][0]["inventory"] != r["reports"][0]["inventory"]


# --- adding --------------------------------------------------------------------------------------

def test_add_report_over_the_api(client: TestClient, world: dict[str, Any], db: psycopg.Connection) -> None:
    body = {"study": "GR-B", "inventory": "GR-B-NEW", "title": "Новый отчёт", "access_level": "official-use",
            "minerals": ["coal"], "year": 2020}
    r = client.post("/api/geoinfo/reports", json=body, headers=world["headers"]["akimat"])
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    r = client.post("/api/geoinfo/reports", json=body, headers=world["headers"]["hydrocarbons"])
    assert r.status_code == 201, r.text
    assert r.json()["authority"] == "hydrocarbons"
    again = client.post("/api/geoinfo/reports", json=body, headers=world["headers"]["hydrocarbons"])
    assert again.status_code == 409
    unknown = client.post("/api/geoinfo/reports", json={**body, "inventory": "X-1", "study": "NO-SUCH"},
                          headers={**world["headers"]["operator"], "Accept-Language": "kk"})
    assert unknown.status_code == 422 and "NO-SUCH" in unknown.json()["detail"]
    assert client.post("/api/geoinfo/reports", json=body).status_code == 401
    sealed(db)
    assert db.execute("SELECT count(*) FROM journal WHERE action = 'geo-report.add' AND result = 'rejected'"
                      ).fetchone()[0] >= 2  # type: ignore[index]


# --- OGC -----------------------------------------------------------------------------------------

def test_ogc_study_links_to_its_reports(client: TestClient, world: dict[str, Any]) -> None:
    item = client.get("/ogc/collections/geological-studies/items/GR-A")
    assert item.status_code == 200
    related = [x for x in item.json()["links"] if x["rel"] == "related"]
    assert len(related) == 1 and related[0]["type"] == "application/json"
    assert related[0]["href"].endswith("/api/geoinfo?study=GR-A")
    listed = client.get(related[0]["href"]).json()
    assert {x["inventory"] for x in listed["reports"]} == {"GR-A-PUB", "GR-A-OFF"}
    client.portal.call(client.app.state.registry.refresh)  # this module's version, without waiting for NOTIFY
    items = client.get("/ogc/collections/geological-studies/items", params={"limit": 100}).json()
    features = {f["id"]: f for f in items["features"]}
    for study in ("GR-A", "GR-B"):
        links = [x["href"] for x in features[study]["links"] if x["rel"] == "related"]
        assert len(links) == 1 and links[0].endswith(f"study={study}")
    # A study without reports is as it was (no links).
    assert "links" not in features["GR-C"]
    one = client.get("/ogc/collections/geological-studies/items/GR-C").json()
    assert not [x for x in one["links"] if x["rel"] == "related"]


def test_demo_reports_and_pdf(database_url: str, world: dict[str, Any], tmp_path: Path) -> None:
    pdf = gr.minimal_pdf("x")
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    # The cross-reference offsets point at the objects.
    xref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert pdf[xref:xref + 4] == b"xref"
    with psycopg.connect(database_url) as conn:
        # No demo study in this layer version: nothing is added, nothing fails.
        assert gr.load_demo_reports(conn) == "geological reports: 0 added"
        conn.rollback()


def test_add_a_file_over_the_api(client: TestClient, world: dict[str, Any]) -> None:
    pdf = gr.minimal_pdf("appendix")
    files = {"file": ("appendix.pdf", pdf, "application/octet-stream")}
    # Not the owning authority (GR-A-PUB is solid-minerals').
    r = client.post("/api/geoinfo/reports/GR-A-PUB/files", files=files, data={"kind": "appendix"},
                    headers=world["headers"]["hydrocarbons"])
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    r = client.post("/api/geoinfo/reports/GR-A-PUB/files", files=files, data={"kind": "appendix"},
                    headers=world["headers"]["solid-minerals"])
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == "application/pdf" and r.json()["kind"] == "appendix"
    got = client.get(r.json()["href"])
    assert got.status_code == 200 and got.content == pdf
    listed = client.get("/api/geoinfo/reports/GR-A-PUB").json()
    assert {f["kind"] for f in listed["files"]} == {"report", "appendix"}
    assert client.post("/api/geoinfo/reports/NO-SUCH/files", files=files,
                       headers=world["headers"]["operator"]).status_code == 404


def test_demo_reports_on_the_demo_studies(database_url: str, world: dict[str, Any]) -> None:
    from importers.demo import demo_layers

    with psycopg.connect(database_url) as conn:
        previous = conn.execute("SELECT v.version FROM layers l JOIN layer_versions v ON v.id = l.current_version_id "
                                "WHERE l.id = 'geological-studies'").fetchone()
    assert previous is not None
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo-studies.geojson"
        path.write_text(json.dumps(demo_layers()["geological-studies"], ensure_ascii=False), encoding="utf-8")
        run_upload(UploadRequest(layer_id="geological-studies", path=path, file_name=path.name), database_url)
    try:
        with psycopg.connect(database_url) as conn:
            assert gr.load_demo_reports(conn) == "geological reports: 8 added"
            assert gr.load_demo_reports(conn) == "geological reports: 0 added"  # again: nothing new
            rows = conn.execute("SELECT study_key, access_level, count(f.document_id) FROM geo_reports r "
                                "JOIN geo_report_files f ON f.report_id = r.id WHERE r.added_by = 'demo' "
                                "GROUP BY 1, 2 ORDER BY 1, 2").fetchall()
            assert len(rows) == 8 and all(n == 1 for _, _, n in rows)
            assert {level for _, level, _ in rows} == {"public", "official-use"}
            conn.rollback()
    finally:
        with psycopg.connect(database_url) as conn:
            restore_version(conn, get_layer("geological-studies"), previous[0], actor="test")  # type: ignore[arg-type]
            conn.commit()


def test_add_report_on_the_command_line(database_url: str, world: dict[str, Any], tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    pdf = tmp_path / "cli.pdf"
    pdf.write_bytes(gr.minimal_pdf("cli"))
    env = {**os.environ, "DATABASE_URL": database_url}
    base = [sys.executable, "-m", "geoservice.cli", "geoinfo", "add-report", "--study", "GR-B", "--title",
            "Отчёт из командной строки", "--access-level", "public", "--mineral", "coal", "--file", str(pdf)]
    done = subprocess.run([*base, "--inventory", "GR-B-CLI"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "GR-B-CLI" in done.stdout and "1 file(s)" in done.stdout
    refused = subprocess.run([*base, "--inventory", "GR-B-CLI-2", "--authority", "akimat", "--lang", "ru"],
                             capture_output=True, text=True, env=env, timeout=120)
    assert refused.returncode == 2 and "akimat" in refused.stderr and "не может" in refused.stderr
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT authority, (SELECT count(*) FROM geo_report_files f WHERE f.report_id = r.id) "
                           "FROM geo_reports r WHERE inventory = 'GR-B-CLI'").fetchone()
    assert row == ("operator", 1)

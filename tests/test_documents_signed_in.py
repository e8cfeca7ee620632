"""Documents over HTTP with real sessions (tests/people.py): every access level for every kind of
signed-in caller on the listing, the metadata, the download and the OGC links from geological
studies; an upload by a signed-in person (the owner is their account) and a signature added by
them; and the cabinet's documents section in Chromium after the development sign-in."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from cadastre import accounts
from cadastre import documents as docs
from cadastre.registers import TableRegisters
from importers.pipeline import UploadRequest, run_upload
from layers.catalog import get_layer
from layers.store import restore_version
from tests.helpers import feature_collection, sealed, square, write_json
from tests.people import PEOPLE, add_person, ensure_people, session_for

# The live server with development sign-in on (a module fixture) and its sign-in links.
from tests.test_cabinet_browser import CHROMIUM, CHROMIUM_ARGS, live, sign_in_link  # noqa: F401

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
OTHER_APPLICANT = "010101500021"  # a second applicant (well-formed, belonging to nobody)
CALLERS = ("anonymous", "owner", "other applicant", "officer", "commission", "admin", "auditor")
# The README's rule for a document owned by an applicant, written out.
READS = {
    "public": set(CALLERS),
    "official-use": {"owner", "officer", "commission", "admin", "auditor"},
    "confidential": {"owner", "admin", "auditor"},
}
# Who is shown the owner's IIN: the owner and readers of official-use information.
SEES_OWNER = {"owner", "officer", "commission", "admin", "auditor"}


@pytest.fixture(scope="module")
def people(database_url: str) -> dict[str, int]:
    """Account ids: the roles of tests/people.py (their applicant owns the documents here) and
    another applicant."""
    ids = ensure_people(database_url)
    with psycopg.connect(database_url) as conn:
        add_person(conn, OTHER_APPLICANT, "Тест другой заявитель")
        other = accounts.sign_in(conn, TableRegisters(conn), accounts.Identity(OTHER_APPLICANT), method="demo",
                                 lifetime=timedelta(hours=1), client="test")
        conn.commit()
    return {"owner": ids["applicant"], "other applicant": other.account_id,
            **{role: ids[role] for role in ("officer", "commission", "admin", "auditor")}}


@pytest.fixture(scope="module")
def sessions(database_url: str, people: dict[str, int]) -> dict[str, dict[str, str]]:
    """Request headers per caller: a real session's Bearer token, none for the anonymous."""
    return {"anonymous": {}, **{who: {"Authorization": f"Bearer {session_for(database_url, account)}"}
                                for who, account in people.items()}}


def post(client: TestClient, headers: dict[str, str], content: bytes, *, name: str = "report.pdf",
         level: str = "public", signatures: tuple[tuple[str, bytes], ...] = (), **fields: str) -> Any:
    files = [("file", (name, content, "application/pdf")),
             *(("signature", (n, d, "application/octet-stream")) for n, d in signatures)]
    return client.post("/api/documents", files=files, data={"access_level": level, **fields}, headers=headers)


def listed_ids(client: TestClient, headers: dict[str, str], **params: str) -> list[int]:
    """Every id of the listing, page by page (three at a time: keyset paging is walked too)."""
    ids: list[int] = []
    cursor = None
    while True:
        r = client.get("/api/documents", params={"limit": 3, **params, **({"cursor": cursor} if cursor else {})},
                       headers=headers)
        assert r.status_code == 200, r.text
        ids += [d["id"] for d in r.json()["documents"]]
        cursor = r.json()["next"]
        if cursor is None:
            return ids


@pytest.fixture(scope="module")
def owned(client: TestClient, sessions: dict[str, dict[str, str]], people: dict[str, int]) -> dict[str, int]:
    """One document per level, uploaded over HTTP by the signed-in applicant."""
    made = {}
    for level in docs.LEVELS:
        r = post(client, sessions["owner"], PDF + f"signed-in {level}".encode() + os.urandom(8), level=level,
                 name=f"заявка {level}.pdf")
        assert r.status_code == 201, r.text
        made[level] = r.json()["id"]
    return made


def test_an_upload_by_a_signed_in_person_is_theirs(client, sessions, people, owned, db) -> None:
    r = post(client, sessions["owner"], PDF + os.urandom(32), level="confidential", name="мой.pdf")
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["mine"] is True and doc["access_level"] == "confidential"
    assert doc["owner"] == {"account_id": people["owner"], "iin": PEOPLE["applicant"], "bin": None, "authority": None}
    row = db.execute("SELECT owner_account_id, owner_iin, owner_authority FROM documents WHERE id = %s",
                     (doc["id"],)).fetchone()
    assert row == (people["owner"], PEOPLE["applicant"], None)
    assert sealed(db).execute("SELECT actor, result FROM journal WHERE action = 'document.upload' AND object = %s",
                      (f"document:{doc['id']}",)).fetchone() == (f"IIN{PEOPLE['applicant']}", "ok")
    # Their own listing has it; another applicant's has none of the owner's documents.
    assert doc["id"] in listed_ids(client, sessions["owner"], mine="true")
    assert not {doc["id"], *owned.values()} & set(listed_ids(client, sessions["other applicant"], mine="true"))
    # Everyone signed in is an applicant: an auditor's upload is the auditor's own.
    r = post(client, sessions["auditor"], PDF, level="public")
    assert r.status_code == 201 and r.json()["owner"]["iin"] == PEOPLE["auditor"]


@pytest.mark.parametrize("who", CALLERS)
def test_every_read_path_for_every_signed_in_caller(client, sessions, owned, db, who) -> None:
    headers = sessions[who]
    listed = set(listed_ids(client, headers))
    missing = client.get("/api/documents/999999999", headers=headers)
    assert missing.status_code == 404
    for level, doc_id in owned.items():
        meta = client.get(f"/api/documents/{doc_id}", headers=headers)
        content = client.get(f"/api/documents/{doc_id}/content", headers=headers)
        if who in READS[level]:
            assert meta.status_code == 200, (level, meta.text)
            assert content.status_code == 200 and content.content.startswith(PDF), (level, content.text[:200])
            assert doc_id in listed, level
            body = meta.json()
            assert body["access_level"] == level and body["mine"] is (who == "owner")
            assert ("owner" in body) is (who in SEES_OWNER), (level, body)
            assert content.headers["cache-control"] == ("public, max-age=300" if level == "public"
                                                        else "private, no-store")
        else:
            for r in (meta, content):
                # Exactly as a document that does not exist: its existence does not leak.
                assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json", level
                assert r.json()["detail"] == missing.json()["detail"].replace("999999999", str(doc_id))
            assert doc_id not in listed, level
            rows = sealed(db).execute("SELECT action, actor, detail->>'reason' FROM journal WHERE object = %s "
                              "AND result = 'rejected' ORDER BY seq", (f"document:{doc_id}",)).fetchall()
            actor = "anonymous" if who == "anonymous" else rows[-1][1]
            assert actor.startswith("IIN") or who == "anonymous"
            assert rows[-2:] == [("document.read", actor, "access_level"), ("document.download", actor, "access_level")]


# --- signatures by the signed-in owner ----------------------------------------------------------

@pytest.fixture(scope="module")
def signer(database_url: str) -> Any:
    """A trusted RSA test CA (cadastre.eds.pki, with its CRL) and the owner's signing certificate."""
    from cadastre import eds_trust
    from cadastre.eds.pki import Identity, make_ca

    start, end = dt.datetime(2025, 1, 1, tzinfo=dt.UTC), dt.datetime(2035, 1, 1, tzinfo=dt.UTC)
    root = make_ca("SIGNED-IN ROOT RSA", "RSA-SHA256", not_before=start, not_after=end)
    ca = make_ca("SIGNED-IN NCA RSA", "RSA-SHA256", parent=root, not_before=start, not_after=end)
    holder = ca.issue(Identity("ТЕСТ ЗАЯВИТЕЛЬ", iin=PEOPLE["applicant"], surname="ТЕСТ", given_name="ЗАЯВИТЕЛЬ"),
                      purpose="signature", not_before=start, not_after=end)
    with psycopg.connect(database_url) as conn:
        for authority in (root, ca):
            eds_trust.add_certificate(conn, authority.certificate, actor="test", client="test")
            eds_trust.add_crl(conn, authority.crl(), actor="test", client="test")
        conn.commit()
    return holder


def test_the_owner_signs_their_document_and_others_may_not(client, sessions, signer, db) -> None:
    from cadastre.eds.pki import sign_cms

    content = PDF + os.urandom(64)
    doc_id = post(client, sessions["owner"], content, level="public").json()["id"]
    url = f"/api/documents/{doc_id}/signatures"
    good = {"signature": ("mine.p7s", sign_cms(content, signer, detached=True), "application/octet-stream")}
    r = client.post(url, files=good, headers=sessions["owner"])
    assert r.status_code == 201, r.text
    (added,) = r.json()["signatures"]
    assert added["kind"] == "cms-detached" and added["valid"] is True
    assert added["verification"]["signers"][0]["iin"] == PEOPLE["applicant"]  # the owner sees the signer's IIN
    assert sealed(db).execute("SELECT actor, result FROM journal WHERE action = 'document.sign' AND object = %s",
                      (f"document:{doc_id}",)).fetchone() == (f"IIN{PEOPLE['applicant']}", "ok")
    meta = client.get(f"/api/documents/{doc_id}", headers=sessions["other applicant"]).json()
    assert [s["valid"] for s in meta["signatures"]] == [True]
    assert "iin" not in meta["signatures"][0]["verification"]["signers"][0]  # not to another applicant
    listed = client.get("/api/documents", params={"mine": "true", "limit": 1}, headers=sessions["owner"]).json()
    assert listed["documents"][0]["id"] == doc_id and listed["documents"][0]["signatures"] == {"count": 1, "valid": 1}
    # Another applicant, or the auditor, reads the public document but neither owns it nor
    # countersigns: 403; nobody signed in: 401.
    for who in ("other applicant", "auditor"):
        r = client.post(url, files=good, headers=sessions[who])
        assert r.status_code == 403 and r.json()["type"].endswith("documents.sign_forbidden"), who
    assert client.post(url, files=good).status_code == 401
    # A confidential document of the owner is, to another applicant, a document that does not exist.
    secret = post(client, sessions["owner"], content, level="confidential").json()["id"]
    r = client.post(f"/api/documents/{secret}/signatures", files=good, headers=sessions["other applicant"])
    assert r.status_code == 404 and r.json()["type"].endswith("documents.not_found")


# --- OGC links from geological studies ----------------------------------------------------------

# The signed-in officer (of the operator, which writes geological studies) attaches the reports.
OFFICER_READS = {
    "public": set(CALLERS),
    "official-use": {"officer", "commission", "admin", "auditor"},
    "confidential": {"officer", "admin", "auditor"},
}
STUDY = {"public": "SI-PUB", "official-use": "SI-OFF", "confidential": "SI-CONF"}


@pytest.fixture(scope="module")
def studies(client: TestClient, database_url: str, sessions: dict[str, dict[str, str]],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    """Geological studies naming one report per level, uploaded by the signed-in officer with
    ``reference``; the documents' ids by level."""
    ids = {}
    for level in docs.LEVELS:
        r = post(client, sessions["officer"], PDF + os.urandom(8), name=f"{level}.pdf", level=level,
                 reference=f"GF-SI-{level}")
        assert r.status_code == 201, r.text
        ids[level] = r.json()["id"]
    # Only who writes the studies, or an admin, attaches a file to the map.
    for who in ("owner", "commission"):
        r = post(client, sessions[who], PDF, reference="GF-SI-public")
        assert r.status_code == 403 and r.json()["field"] == "reference"
    with psycopg.connect(database_url) as conn:
        previous = conn.execute("SELECT v.version FROM layers l JOIN layer_versions v ON v.id = l.current_version_id "
                                "WHERE l.id = 'geological-studies'").fetchone()
    path = write_json(tmp_path_factory.mktemp("studies") / "studies.geojson", feature_collection([
        (square(71.0 + i / 2, 48.0), {"study_id": STUDY[level], "name": level, "study_type": "geophysical",
                                      "year_start": 1990 + i, "report_ref": f"GF-SI-{level}"})
        for i, level in enumerate(docs.LEVELS)]))
    run_upload(UploadRequest(layer_id="geological-studies", path=path, file_name=path.name), database_url)
    client.portal.call(client.app.state.registry.refresh)  # the new version, without waiting for its NOTIFY
    try:
        yield ids
    finally:
        if previous is not None:
            with psycopg.connect(database_url) as conn:
                restore_version(conn, get_layer("geological-studies"), previous[0], actor="test")  # type: ignore[arg-type]
            client.portal.call(client.app.state.registry.refresh)


@pytest.mark.parametrize("who", CALLERS)
def test_features_link_what_the_signed_in_reader_may_read(client, sessions, studies, who) -> None:
    headers = sessions[who]
    r = client.get("/ogc/collections/geological-studies/items", params={"limit": 100}, headers=headers)
    assert r.status_code == 200, r.text
    features = {f["id"]: f for f in r.json()["features"]}
    for level, doc_id in studies.items():
        links = features[STUDY[level]].get("links", [])
        content = f"/api/documents/{doc_id}/content"
        linked = [x for x in links if x["href"].endswith(content) or x["href"].endswith(f"/api/documents/{doc_id}")]
        if who in OFFICER_READS[level]:
            assert {x["rel"] for x in linked} == {"enclosure", "describedby"}, (level, links)
            enclosure = next(x for x in linked if x["rel"] == "enclosure")
            assert enclosure["type"] == "application/pdf" and enclosure["title"] == f"{level}.pdf"
            # The link's target checks the level again, for the same session.
            assert client.get(enclosure["href"], headers=headers).status_code == 200
        else:
            assert linked == [] and "links" not in features[STUDY[level]], (level, links)
            assert client.get(content, headers=headers).status_code == 404
        one = client.get(f"/ogc/collections/geological-studies/items/{STUDY[level]}", headers=headers).json()
        assert any(x["href"].endswith(content) for x in one.get("links", [])) is (who in OFFICER_READS[level])


# --- the cabinet's documents section, signed in with the development link ----------------------

DEMO_APPLICANT = "900315300123"  # cadastre/eds/pki.py DEMO_PEOPLE


@pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (make system installs it)")
def test_the_cabinet_uploads_and_lists_with_the_development_sign_in(live, database_url, db, tmp_path) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    from geoservice.kernel.settings import PROJECT_ROOT

    screenshots = Path(os.environ.get("GEOSERVICE_SCREENSHOT_DIR", PROJECT_ROOT / "var" / "screenshots"))
    screenshots.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "Өтінім.pdf"
    path.write_bytes(PDF + os.urandom(16))
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(f"{live}/cabinet?lang=kk")
            page.wait_for_selector("body[data-ready=true]")
            page.goto(sign_in_link(database_url, live, DEMO_APPLICANT))
            page.wait_for_url(f"{live}/cabinet")
            page.wait_for_selector("body[data-ready=true]")
            expect(page.locator("#profile-fields")).to_contain_text(DEMO_APPLICANT)
            # The session is the cookie: the page sends no Authorization header of its own.
            assert any(c["name"] == "gs_session" for c in page.context.cookies())
            page.click("#langs [data-lang=kk]")
            expect(page.locator("#documents h2")).to_have_text("Құжаттарым")
            expect(page.locator("#documents .documents-empty")).to_be_visible()
            page.screenshot(path=str(screenshots / "cabinet-documents-kk.png"), full_page=True)
            # The upload form is a label column and an input column: in Kazakh (the longest labels)
            # no label runs into its input, and every field has a row of its own.
            boxes = [(page.locator(f"#documents .documents-field:nth-of-type({i}) span").bounding_box(),
                      page.locator(f"#documents .documents-field:nth-of-type({i}) :is(input, select)").bounding_box())
                     for i in (1, 2, 3)]
            assert all(label and box and label["x"] + label["width"] <= box["x"] for label, box in boxes), boxes
            assert len({round(box["x"]) for _, box in boxes if box}) == 1, boxes  # one input column
            tops = [box["y"] for _, box in boxes if box]
            assert all(a + 20 < b for a, b in zip(tops, tops[1:], strict=False)), tops

            page.set_input_files("#documents-file", str(path))
            page.select_option("#documents-level", "official-use")
            page.click("#documents form button[type=submit]")
            expect(page.locator("#documents .documents-ok")).to_have_text("«Өтінім.pdf» сақталды")
            row = page.locator("#documents tbody tr").first
            assert row.get_attribute("data-level") == "official-use"
            cells = row.locator("td").all_inner_texts()
            assert cells[0] == "Өтінім.pdf" and cells[1] == "application/pdf"
            assert cells[3] == "Қызмет бабында пайдалану үшін" and cells[4] == "қол қойылмаған"
            # Stored as the signed-in person's, and the cabinet's language switch follows.
            doc_id = int(row.get_attribute("data-id") or 0)
            owner = db.execute("SELECT a.iin FROM documents d JOIN accounts a ON a.id = d.owner_account_id "
                               "WHERE d.id = %s", (doc_id,)).fetchone()
            assert owner == (DEMO_APPLICANT,)
            page.click("#langs [data-lang=en]")
            expect(row.locator("td").nth(3)).to_have_text("Official use")
            page.click("#langs [data-lang=kk]")
            expect(row.locator("td").nth(3)).to_have_text("Қызмет бабында пайдалану үшін")
            page.screenshot(path=str(screenshots / "cabinet-documents-uploaded-kk.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []

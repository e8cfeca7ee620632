"""The auction protocol as PDF in kk and ru (issue 10 follow-up): made and stored with the
protocol, its SHA-256 journaled with the HTML pages', deterministic, served by the protocol route
(``?format=pdf``), checked by ``verify``; older protocols without PDFs still work."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pypdf
import pytest
from fastapi.testclient import TestClient

from cadastre import auction_protocol as ap
from cadastre.auction_journal import events
from layers.journal import journal
from tests.test_auction_protocol import held_auction, run

KAZAKH = "әғқңөұүһі ӘҒҚҢӨҰҮҺІ"


@pytest.fixture(scope="module")
def operator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ap.OperatorKey, Path]]:
    directory = tmp_path_factory.mktemp("var") / "operator"
    yield ap.demo_operator(directory), directory


@pytest.fixture
def trusted(db: psycopg.Connection, operator: tuple[ap.OperatorKey, Path]) -> Path:
    """The operator CA and its CRL in the database's trust (as in test_auction_protocol)."""
    with db.transaction():
        ap.trust_demo_operator(db, operator[1], actor="test")
    return operator[1]


def text_of(document: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(document))
    return "\n".join(page.extract_text() for page in reader.pages)


def _journaled_pdfs(db: psycopg.Connection, auction: int) -> dict[str, str]:
    rows = ap._journaled(db, ap.MADE, auction)
    return rows[-1][1]["pdf_sha256"]


def test_the_pdf_is_made_with_the_protocol(db: psycopg.Connection, operator, trusted) -> None:
    auction, number, _ = held_auction(db)
    with db.transaction():
        made = ap.make_protocol(db, auction, operator[0])
    kk, ru = made.pdf["kk"], made.pdf["ru"]
    assert kk is not None and ru is not None and kk.startswith(b"%PDF-") and kk != ru
    kk_text, ru_text = text_of(kk), text_of(ru)
    # The lot, the winner's participant number, the bids and the hash; the Kazakh letters survive.
    for text, winner in ((kk_text, "Жеңімпаз (қатысушы нөмірі) 2"), (ru_text, "Победитель (номер участника) 2")):
        assert number in text and winner in text and "1150000.00" in text, text
        assert "Test plot <Жезқазған>" in text and made.sha256.hex() in text.replace("\n", "")
        assert f"geoservice auction verify {number}" in " ".join(text.split())  # the line may wrap
    assert set("әғқңөұі") <= set(kk_text) and "Қабылданған ұсыныстар" in kk_text
    # Every Kazakh letter has its glyph (a missing one would come out as nothing or a box).
    named = {**made.protocol, "auction": {**made.protocol["auction"], "name": KAZAKH}}
    assert KAZAKH in text_of(ap.render_pdf(named, made.sha256.hex(), "kk"))
    assert "Принятые ставки" in ru_text and "Қабылданған" not in ru_text
    # The creation date is the protocol's own closing time, not the moment it was rendered.
    meta = pypdf.PdfReader(io.BytesIO(kk)).metadata
    assert meta is not None and meta.creation_date is not None
    closed = datetime.fromisoformat(made.protocol["closed_at"].replace("Z", "+00:00"))
    assert meta.creation_date.replace(microsecond=0) == closed.replace(microsecond=0)
    # Their digests are journaled with the pages' when the protocol is made.
    assert _journaled_pdfs(db, auction) == {"kk": hashlib.sha256(kk).hexdigest(), "ru": hashlib.sha256(ru).hexdigest()}
    assert ap.verify(db, auction).ok


def test_the_pdf_is_deterministic(db: psycopg.Connection, operator) -> None:
    auction, _, _ = held_auction(db)
    with db.transaction():
        made = ap.make_protocol(db, auction, operator[0])
    sha = made.sha256.hex()
    assert ap.render_pdf(made.protocol, sha, "kk") == made.pdf["kk"]
    assert ap.render_pdf(made.protocol, sha, "ru") == made.pdf["ru"]
    # Another process (another hash seed, another start time) gives the same bytes.
    script = ("import hashlib, json, sys; from cadastre import auction_protocol as ap; "
              "p = json.loads(sys.stdin.read()); "
              "print(hashlib.sha256(ap.render_pdf(p, sys.argv[1], 'kk')).hexdigest())")
    other = subprocess.run([sys.executable, "-c", script, sha], input=made.canonical, capture_output=True,
                           text=True, timeout=120, env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert other.returncode == 0, other.stderr
    assert other.stdout.strip() == hashlib.sha256(made.pdf["kk"] or b"").hexdigest()
    # A different protocol gives a different document.
    forged = {**made.protocol, "winner": {**made.protocol["winner"], "bonus": "1.00"}}
    assert ap.render_pdf(forged, sha, "kk") != made.pdf["kk"]


def test_the_pdf_route(client: TestClient, db: psycopg.Connection, operator) -> None:
    auction, number, _ = held_auction(db)
    before = client.get(f"/api/auctions/{auction}/protocol", params={"format": "pdf", "lang": "kk"},
                        headers={"Accept-Language": "kk"})
    assert before.status_code == 404 and before.headers["content-type"] == "application/problem+json"
    assert "хаттамасы жоқ" in before.json()["detail"]
    with db.transaction():
        made = ap.make_protocol(db, auction, operator[0])
    kk = client.get(f"/api/auctions/{number}/protocol", params={"format": "pdf", "lang": "kk"})
    assert kk.status_code == 200, kk.text
    assert kk.headers["content-type"] == "application/pdf" and kk.content == made.pdf["kk"]
    assert kk.headers["content-disposition"] == f'inline; filename="{number}-protocol-kk.pdf"'
    assert kk.headers["content-language"] == "kk"
    assert kk.headers["etag"] == f'"{hashlib.sha256(kk.content).hexdigest()}"'
    # Without lang: the Accept-Language's document, Russian for English (as the HTML route).
    ru = client.get(f"/api/auctions/{auction}/protocol?format=pdf", headers={"Accept-Language": "en"})
    assert ru.status_code == 200 and ru.content == made.pdf["ru"] and ru.headers["content-language"] == "ru"
    # Refused as the HTML route refuses.
    bad_lang = client.get(f"/api/auctions/{auction}/protocol?format=pdf&lang=en", headers={"Accept-Language": "en"})
    assert bad_lang.status_code == 400 and "not en" in bad_lang.json()["detail"]
    assert client.get("/api/auctions/AUC-1999-0001/protocol?format=pdf").status_code == 404
    # The JSON and HTML answers are as they were.
    assert client.get(f"/api/auctions/{auction}/protocol").json()["canonical"] == made.canonical
    assert client.get(f"/api/auctions/{auction}/protocol?format=html&lang=kk").text == made.html["kk"]


def test_verify_catches_a_tampered_pdf(database_url: str, db: psycopg.Connection, operator, trusted) -> None:
    auction, number, _ = held_auction(db)
    with db.transaction():
        made = ap.make_protocol(db, auction, operator[0])
    assert ap.verify(db, auction).ok
    # A superuser swaps the Kazakh PDF for one with a lower bonus (a well-formed PDF, and the HTML
    # and the JSON untouched).
    forged = ap.render_pdf({**made.protocol, "winner": {**made.protocol["winner"], "bonus": "1.00"}},
                           made.sha256.hex(), "kk")
    with db.transaction():
        db.execute("ALTER TABLE auction_protocols DISABLE TRIGGER auction_protocols_append_only")
        db.execute("UPDATE auction_protocols SET pdf_kk = %s WHERE auction_id = %s", (forged, auction))
        db.execute("ALTER TABLE auction_protocols ENABLE TRIGGER auction_protocols_append_only")
    problems = ap.verify(db, auction).problems
    assert problems == [{"code": "protocol.pdf_differs", "params": {"language": "kk"}}]
    broken = run(["auction", "verify", number], database_url, "ru")
    assert broken.returncode == 1 and "PDF-документ (kk)" in broken.stderr, broken.stderr
    # A journaled PDF that was removed is caught too.
    with db.transaction():
        db.execute("ALTER TABLE auction_protocols DISABLE TRIGGER auction_protocols_append_only")
        db.execute("UPDATE auction_protocols SET pdf_ru = NULL WHERE auction_id = %s", (auction,))
        db.execute("ALTER TABLE auction_protocols ENABLE TRIGGER auction_protocols_append_only")
    codes = [(p["code"], p["params"].get("language")) for p in ap.verify(db, auction).problems]
    assert codes == [("protocol.pdf_differs", "kk"), ("protocol.pdf_differs", "ru")]


def test_a_protocol_made_before_pdfs_still_works(client: TestClient, db: psycopg.Connection, operator,
                                                 trusted) -> None:
    """Stored as the code before migration 0027 stored it: no PDFs, only the pages' digests journaled."""
    auction, number, _ = held_auction(db)
    protocol = ap.build(auction, events(db, auction))
    body = ap.canonical(protocol)
    digest = hashlib.sha256(body).digest()
    pages = {lang: ap.render_html(protocol, digest.hex(), lang) for lang in ap.LANGUAGES}
    with db.transaction():
        db.execute("INSERT INTO auction_protocols (auction_id, canonical, sha256, html_kk, html_ru, signature, "
                   "signer, last_seq) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                   (auction, body.decode(), digest, pages["kk"], pages["ru"], operator[0].sign(body),
                    operator[0].subject, protocol["journal"]["last_seq"]))
        journal(db, "operator", ap.MADE, "ok", object=f"auction:{auction}", detail={
            "sha256": digest.hex(),
            "html_sha256": {lang: hashlib.sha256(pages[lang].encode()).hexdigest() for lang in ap.LANGUAGES}})
    saved = ap.stored(db, auction)
    assert saved is not None and saved.pdf == {"kk": None, "ru": None}
    assert ap.verify(db, auction).ok
    # The route renders its PDF from the stored JSON, the same bytes each time.
    first = client.get(f"/api/auctions/{number}/protocol?format=pdf&lang=kk")
    assert first.status_code == 200 and first.headers["content-type"] == "application/pdf"
    assert first.content == ap.render_pdf(saved.protocol, saved.sha256.hex(), "kk")
    assert client.get(f"/api/auctions/{number}/protocol?format=pdf&lang=kk").content == first.content
    assert "Жеңімпаз (қатысушы нөмірі) 2" in text_of(first.content)
    # A PDF slipped in later, without a journaled digest, must be what the protocol renders to.
    with db.transaction():
        db.execute("ALTER TABLE auction_protocols DISABLE TRIGGER auction_protocols_append_only")
        db.execute("UPDATE auction_protocols SET pdf_ru = %s WHERE auction_id = %s", (b"%PDF-1.4 forged", auction))
        db.execute("ALTER TABLE auction_protocols ENABLE TRIGGER auction_protocols_append_only")
    problems = ap.verify(db, auction).problems
    assert problems == [{"code": "protocol.pdf_differs", "params": {"language": "ru"}}]

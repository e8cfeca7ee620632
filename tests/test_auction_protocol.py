"""The auction protocol (issue 10, "results that cannot be altered"): made from the journal
alone, stored with its SHA-256, kk/ru documents and the operator's CMS; verified by
``geoservice auction verify``; tampering caught; the winner told; the unpaid-winner rule."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from cadastre import auction_protocol as ap
from cadastre import eds_trust
from cadastre.auction_journal import append, events
from cadastre.eds.trust import TrustStore
from cadastre.notifications import inbox
from tests.test_auction_journal import make_auction

GEOSERVICE = [str(Path(sys.executable).with_name("geoservice"))]
BIDDERS = {1: "880101300011", 2: "880101300022", 3: "880101300033"}


@pytest.fixture(scope="module")
def operator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ap.OperatorKey, Path]]:
    directory = tmp_path_factory.mktemp("var") / "operator"
    yield ap.demo_operator(directory), directory


@pytest.fixture
def trusted(db: psycopg.Connection, operator: tuple[ap.OperatorKey, Path]) -> Path:
    """The operator CA and its CRL in the database's trust, as `geoservice eds trust/crl add` put them."""
    with db.transaction():
        ap.trust_demo_operator(db, operator[1], actor="test")
    return operator[1]


def _accounts(conn: psycopg.Connection) -> dict[int, int]:
    ids = {}
    for number, iin in BIDDERS.items():
        row = conn.execute("SELECT id FROM accounts WHERE iin = %s AND bin IS NULL", (iin,)).fetchone()
        if row is None:
            row = conn.execute("INSERT INTO accounts (iin, name) VALUES (%s, %s) RETURNING id",
                               (iin, f"Bidder {number}")).fetchone()
        assert row is not None
        ids[number] = int(row[0])
    return ids


def _participants(conn: psycopg.Connection, auction: int) -> dict[int, int]:
    accounts = _accounts(conn)
    for number, iin in BIDDERS.items():
        conn.execute("""INSERT INTO auction_participants (auction_id, number, iin, account_id, canonical, signature,
                            verification, status) VALUES (%s, %s, %s, %s, '{}', '\\x00', '{}', 'admitted')""",
                     (auction, number, iin, accounts[number]))
    return accounts


def held_auction(conn: psycopg.Connection, *, lot: int | None = None) -> tuple[int, str, dict[int, int]]:
    """A lot with three admitted bidders: bids 1→1 000 000, 2→1 050 000, 3 rejected, 1→1 100 000,
    an extension, 2→1 150 000; closed, participant 2 wins at 1 150 000."""
    auction = make_auction(conn, status="published")
    number = conn.execute("SELECT number FROM auctions WHERE id = %s", (auction,)).fetchone()[0]  # type: ignore[index]
    if lot is not None:
        conn.execute("UPDATE auctions SET lot_id = %s WHERE id = %s", (lot, auction))
    accounts = _participants(conn, auction)
    with conn.transaction():
        append(conn, auction, "auction.published", detail={
            "number": number, "name": "Test plot <Жезқазған>", "codes": ["M-43-1-(10а-5б-1)"],
            "starting_bonus": "1000000.00", "step": "50000.00"})
        for n in BIDDERS:
            append(conn, auction, "participant.admitted", participant=n)
        conn.execute("UPDATE auctions SET status = 'open' WHERE id = %s", (auction,))
        append(conn, auction, "auction.opened")
        append(conn, auction, "bid.submitted", participant=1, amount="1000000")
        append(conn, auction, "bid.submitted", participant=2, amount="1050000")
        append(conn, auction, "bid.rejected", participant=3, amount="1060000", detail={"reasons": ["bid.too_low"]})
        append(conn, auction, "bid.submitted", participant=1, amount="1100000")
        append(conn, auction, "auction.extended", participant=1, detail={
            "old_end": "2026-11-30T15:00:00.000000Z", "new_end": "2026-11-30T15:05:00.000000Z"})
        append(conn, auction, "bid.submitted", participant=2, amount="1150000")
        append(conn, auction, "auction.closed")
        append(conn, auction, "deal.concluded", participant=2, amount="1150000")
        conn.execute("UPDATE auctions SET status = 'closed', winner = 2, final_bonus = 1150000, closed_at = now() "
                     "WHERE id = %s", (auction,))
    return auction, number, accounts


def run(args: list[str], database_url: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "LANG": f"{lang}_KZ.UTF-8", "LC_ALL": "", "LANGUAGE": ""}
    return subprocess.run(GEOSERVICE + args, capture_output=True, text=True, env=env, timeout=120)


def test_the_protocol_comes_from_the_journal(db: psycopg.Connection, operator, trusted) -> None:
    auction, number, accounts = held_auction(db)
    with db.transaction():
        made = ap.make_protocol(db, auction, operator[0])
    protocol = json.loads(made.canonical)
    assert protocol["auction"]["number"] == number and protocol["auction"]["name"] == "Test plot <Жезқазған>"
    assert protocol["winner"]["participant"] == 2 and protocol["winner"]["bonus"] == "1150000.00"
    assert [(b["participant"], b["amount"]) for b in protocol["bids"]] == [
        (1, "1000000.00"), (2, "1050000.00"), (1, "1100000.00"), (2, "1150000.00")]
    journal = events(db, auction)
    assert [b["seq"] for b in protocol["bids"]] == [e.seq for e in journal if e.kind == "bid.submitted"]
    assert all(len(b["at"]) == len("2026-11-30T13:34:22.123456Z") for b in protocol["bids"])
    assert protocol["rejected"] == 1 and protocol["participants"] == [1, 2, 3]
    assert protocol["extensions"] == [{"seq": 10, "at": protocol["extensions"][0]["at"], "participant": 1,
                                       "old_end": "2026-11-30T15:00:00.000000Z",
                                       "new_end": "2026-11-30T15:05:00.000000Z"}]
    assert protocol["journal"] == {"last_seq": journal[-1].seq, "last_hash": journal[-1].hash.hex()}
    assert protocol["discrepancies"] == [] and protocol["missing"] == []
    assert made.sha256 == hashlib.sha256(made.canonical.encode()).digest()
    # The documents: the winner and the bonus in both languages, the name escaped.
    for lang, word in (("kk", "Жеңімпаз"), ("ru", "Победитель")):
        page = made.html[lang]
        assert word in page and "1150000.00" in page and made.sha256.hex() in page
        assert "&lt;Жезқазған&gt;" in page and "<Жезқазған>" not in page
    # Idempotent: the second call returns the stored one, the table has one row.
    with db.transaction():
        again = ap.make_protocol(db, auction, operator[0])
    assert again.canonical == made.canonical and again.signature == made.signature
    # The operator's signature verifies with the platform's verifier against the operator CA.
    report = ap.verify(db, auction)
    assert report.ok, report.problems
    # Without the operator CA in the trust, the signature does not verify.
    bare = ap.verify(db, auction, trust=TrustStore(), revocation=eds_trust.load_trust(db)[1])
    assert [p["code"] for p in bare.problems][:2] == ["protocol.signature_invalid", "eds.unknown_ca"]
    # The winner is told in the cabinet, the others learn the result.
    won = inbox(db, accounts[2])
    assert won[0]["code"] == "notice.auction_won" and won[0]["params"]["bonus"] == "1150000.00"
    assert inbox(db, accounts[1])[0]["code"] == "notice.auction_lost"
    assert inbox(db, accounts[3])[0]["params"]["winner"] == 2


def test_the_cli_verifies_and_names_what_was_tampered(database_url: str, db: psycopg.Connection, operator,
                                                      trusted) -> None:
    auction, number, _ = held_auction(db)
    with db.transaction():
        ap.make_protocol(db, auction, operator[0])
    ok = run(["auction", "verify", number], database_url, "ru")
    assert ok.returncode == 0, ok.stderr
    assert "согласуются" in ok.stdout and number in ok.stdout
    assert run(["auction", "verify", str(auction)], database_url).returncode == 0
    missing = run(["auction", "verify", "AUC-1999-0001"], database_url)
    assert missing.returncode == 2 and "No auction" in missing.stderr
    # A superuser disables the append-only trigger and raises a bid: the chain and the
    # recomputed protocol both disagree, and the reasons say so in the user's language.
    with db.transaction():
        db.execute("ALTER TABLE auction_events DISABLE TRIGGER auction_events_append_only")
        db.execute("UPDATE auction_events SET amount = 1200000 WHERE auction_id = %s AND seq = 11", (auction,))
        db.execute("ALTER TABLE auction_events ENABLE TRIGGER auction_events_append_only")
    broken = run(["auction", "verify", number], database_url, "kk")
    assert broken.returncode == 1
    assert "ӨТПЕДІ" in broken.stderr and "seq 11: hash does not match" in broken.stderr
    assert "қайта есептелген хаттама" in broken.stderr
    en = run(["auction", "verify", number, "--lang", "en"], database_url)
    assert en.returncode == 1 and "differs from the stored one (first in: bids)" in en.stderr


def test_eds_trust_add_takes_the_operator_ca(database_url: str, operator) -> None:
    directory = operator[1]
    added = run(["eds", "trust", "add", str(directory / "operator-ca.cer")], database_url)
    assert added.returncode == 0 and "GEOSERVICE OPERATOR CA (DEMO)" in added.stdout, added.stderr
    crl = run(["eds", "crl", "add", str(directory / "operator-ca.pem")], database_url)
    assert crl.returncode != 0  # a certificate is not a CRL
    crl = run(["eds", "crl", "add", str(directory / "operator-ca.crl")], database_url)
    assert crl.returncode == 0 and "0 revoked" in crl.stdout, crl.stderr


def test_a_changed_protocol_row_is_caught(db: psycopg.Connection, operator, trusted) -> None:
    auction, _, _ = held_auction(db)
    with db.transaction():
        made = ap.make_protocol(db, auction, operator[0])
    forged = made.canonical.replace('"1150000.00"', '"1.00"')
    with db.transaction():
        db.execute("ALTER TABLE auction_protocols DISABLE TRIGGER auction_protocols_append_only")
        db.execute("UPDATE auction_protocols SET canonical = %s, sha256 = %s WHERE auction_id = %s",
                   (forged, hashlib.sha256(forged.encode()).digest(), auction))
        db.execute("ALTER TABLE auction_protocols ENABLE TRIGGER auction_protocols_append_only")
    codes = [p["code"] for p in ap.verify(db, auction).problems]
    assert "protocol.json_differs" in codes and "protocol.signature_invalid" in codes
    assert "eds.content_mismatch" in codes and "protocol.hash_differs" not in codes
    # A hash that no longer matches its JSON is named as such.
    with db.transaction():
        db.execute("ALTER TABLE auction_protocols DISABLE TRIGGER auction_protocols_append_only")
        db.execute("UPDATE auction_protocols SET sha256 = %s WHERE auction_id = %s", (bytes(32), auction))
        db.execute("ALTER TABLE auction_protocols ENABLE TRIGGER auction_protocols_append_only")
    assert "protocol.hash_differs" in [p["code"] for p in ap.verify(db, auction).problems]


def test_the_documents_are_checked_as_made_not_as_todays_texts_render(db: psycopg.Connection, operator, trusted,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    auction, _, _ = held_auction(db)
    with db.transaction():
        made = ap.make_protocol(db, auction, operator[0])
    assert ap.verify(db, auction).ok
    # The wording of the documents changes later: a protocol made before still verifies.
    from cadastre.messages import MESSAGES

    monkeypatch.setitem(MESSAGES, "protocol.title", {lang: f"({lang}) {{number}}" for lang in ("en", "ru", "kk")})
    assert ap.render_html(made.protocol, made.sha256.hex(), "kk") != made.html["kk"]  # today's texts differ
    assert ap.verify(db, auction).ok
    # A page changed in the database does not match the digest journaled when it was made.
    with db.transaction():
        db.execute("ALTER TABLE auction_protocols DISABLE TRIGGER auction_protocols_append_only")
        db.execute("UPDATE auction_protocols SET html_ru = %s WHERE auction_id = %s",
                   (made.html["ru"].replace("</body>", "<p>1 000 ₸</p></body>"), auction))
        db.execute("ALTER TABLE auction_protocols ENABLE TRIGGER auction_protocols_append_only")
    problems = ap.verify(db, auction).problems
    assert [p["params"] for p in problems if p["code"] == "protocol.html_differs"] == [{"language": "ru"}]


def test_the_database_refuses_to_change_a_result(db: psycopg.Connection, operator) -> None:
    auction, _, _ = held_auction(db)
    with db.transaction():
        ap.make_protocol(db, auction, operator[0])
    for statement in ("UPDATE auctions SET final_bonus = 1 WHERE id = %s", "DELETE FROM auctions WHERE id = %s",
                      "UPDATE auction_protocols SET sha256 = sha256 WHERE auction_id = %s",
                      "DELETE FROM auction_protocols WHERE auction_id = %s",
                      "UPDATE auction_events SET amount = 1 WHERE auction_id = %s",
                      "DELETE FROM auction_events WHERE auction_id = %s"):
        with pytest.raises(psycopg.DatabaseError, match="gs_immutable") as refused:
            db.execute(statement, (auction,))
        assert refused.value.sqlstate == "GSA00"
    assert len(events(db, auction)) == 13


def test_no_protocol_before_the_end(db: psycopg.Connection, operator) -> None:
    auction = make_auction(db, status="open")
    from geoservice.kernel.errors import Problem

    with pytest.raises(Problem) as refused, db.transaction():
        ap.make_protocol(db, auction, operator[0])
    assert refused.value.key == "protocol.not_final"
    assert [p["code"] for p in ap.verify(db, auction).problems] == ["protocol.missing_protocol"]


def test_the_protocol_route(client: TestClient, db: psycopg.Connection, operator) -> None:
    auction, number, _ = held_auction(db)
    assert client.get(f"/api/auctions/{auction}/protocol").status_code == 404
    with db.transaction():
        made = ap.make_protocol(db, auction, operator[0])
    r = client.get(f"/api/auctions/{auction}/protocol")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["canonical"] == made.canonical and body["number"] == number
    assert hashlib.sha256(body["canonical"].encode()).hexdigest() == body["sha256"]
    assert base64.b64decode(body["signature"]) == made.signature
    page = client.get(f"/api/auctions/{number}/protocol", params={"format": "html", "lang": "kk"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Жеңімпаз" in page.text and page.headers["content-security-policy"].startswith("default-src 'none'")
    ru = client.get(f"/api/auctions/{auction}/protocol?format=html", headers={"Accept-Language": "en"})
    assert "Победитель" in ru.text
    bad = client.get(f"/api/auctions/{auction}/protocol?format=xml", headers={"Accept-Language": "ru"})
    assert bad.status_code == 400 and "json, html или pdf" in bad.json()["detail"]
    assert client.get(f"/api/auctions/{auction}/protocol?format=html&lang=en").status_code == 400
    assert client.get("/api/auctions/AUC-1999-0001/protocol").status_code == 404


def _pay(conn: psycopg.Connection, auction: int, participant: int) -> None:
    conn.execute("INSERT INTO payments (auction_id, payer, purpose, amount, confirmed_by) VALUES (%s, %s, 'bonus', "
                 "1, 'test')", (auction, BIDDERS[participant]))


def test_an_unpaid_winner_gives_way_to_the_next_bidder(db: psycopg.Connection, operator) -> None:
    auction, _, accounts = held_auction(db)
    with db.transaction():
        ap.make_protocol(db, auction, operator[0])
    now = datetime.now(UTC)
    with db.transaction():  # within the days: nothing happens
        same = ap.winner_unpaid(db, auction, now + timedelta(days=9), rule="next-bidder", days=10)
    assert same is not None and same.participant == 2 and same.replaced == ()
    with db.transaction():
        assert auction in ap.unpaid_due(db, now + timedelta(days=11), rule="next-bidder", days=10)
    after = ap.current_winner(db, auction)
    assert after is not None and (after.participant, after.bonus, after.replaced) == (1, "1100000.00", (2,))
    assert inbox(db, accounts[2])[0]["code"] == "notice.auction_unpaid"
    assert inbox(db, accounts[1])[0]["code"] == "notice.auction_won"
    # The frozen auction and its protocol are unchanged; the fact is in the platform journal.
    assert db.execute("SELECT winner FROM auctions WHERE id = %s", (auction,)).fetchone()[0] == 2  # type: ignore[index]
    assert json.loads(ap.stored(db, auction).canonical)["winner"]["participant"] == 2  # type: ignore[union-attr]
    # The new winner's period runs from the replacement: paid in time, nothing more happens.
    _pay(db, auction, 1)
    with db.transaction():
        paid = ap.winner_unpaid(db, auction, now + timedelta(days=40), rule="next-bidder", days=10)
    assert paid is not None and paid.participant == 1 and paid.replaced == (2,)


def test_a_paid_winner_keeps_it_and_new_auction_rule(db: psycopg.Connection, operator) -> None:
    auction, _, _ = held_auction(db)
    with db.transaction():
        ap.make_protocol(db, auction, operator[0])
    later = datetime.now(UTC) + timedelta(days=30)
    other, _, _ = held_auction(db)
    with db.transaction():
        ap.make_protocol(db, other, operator[0])
    _pay(db, auction, 2)
    with db.transaction():
        kept = ap.winner_unpaid(db, auction, later, rule="new-auction", days=10)
    assert kept is not None and kept.participant == 2 and kept.new_auction is None
    with db.transaction():
        again = ap.winner_unpaid(db, other, later, rule="new-auction", days=10)
    assert again is not None and again.participant is None and again.new_auction is not None
    row = db.execute("SELECT id, status, name, starting_bonus, codes, geom = (SELECT geom FROM auctions WHERE id = %s) "
                     "FROM auctions WHERE number = %s", (other, again.new_auction)).fetchone()
    assert row is not None and row[1:] == ("published", "Test plot", 1000000, [], True)
    published = events(db, int(row[0]))
    assert [e.kind for e in published] == ["auction.published"] and published[0].detail["repeat_of"] == other
    # Applied once: a second run finds the new auction and does nothing.
    with db.transaction():
        once = ap.winner_unpaid(db, other, later + timedelta(days=30), rule="new-auction", days=10)
    assert once is not None and once.new_auction == again.new_auction
    assert db.execute("SELECT count(*) FROM auctions WHERE name = 'Test plot' AND created_by = 'auction.unpaid' "
                      "AND number = %s", (again.new_auction,)).fetchone()[0] == 1  # type: ignore[index]


def test_the_operator_key_loads_from_pkcs12_and_pem(tmp_path: Path, operator) -> None:
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    key = operator[0]
    p12 = tmp_path / "operator.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(b"operator", key.key, key.certificate, None,
                                                          BestAvailableEncryption(b"secret")))
    loaded = ap.operator_key(str(p12), "secret", tmp_path)
    assert loaded.certificate == key.certificate
    assert ap.operator_key(None, None, operator[1].parent).certificate == key.certificate
    with pytest.raises(ValueError):
        ap.load_operator_key(operator[1] / "operator-ca.pem")  # a certificate, no key


def _lot(conn: psycopg.Connection, accounts: dict[int, int]) -> tuple[int, dict[int, int]]:
    """A first-month lot of three applications (one per bidder) on two blocks, as form_lots makes it."""
    apps = {}
    group = f"window:test-{accounts[1]}-{datetime.now(UTC).timestamp()}"
    for number, iin in BIDDERS.items():
        seq = int(conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM applications WHERE year = 2026").fetchone()[0])  # type: ignore[index]
        row = conn.execute(
            """INSERT INTO applications (number, year, seq, received_at, kind, applicant_iin, account_id, filed_by,
                    canonical, signature, signature_valid, verification, verified_at, status, in_window, block_count)
                VALUES (%s, 2026, %s, now(), 'exploration-licence', %s, %s, 'test', '{}', '\\x00', true, '{}', now(),
                        'accepted', true, 2) RETURNING id""",
            (f"APP-2026-{seq:06d}", seq, iin, accounts[number])).fetchone()
        assert row is not None
        apps[number] = int(row[0])
        for block in (900001, 900002):
            conn.execute("INSERT INTO application_claims (application_id, block_id, code, state, in_window, "
                         "priority_group) VALUES (%s, %s, %s, 'pending', true, %s)",
                         (apps[number], block, f"B{block}", group))
    row = conn.execute("INSERT INTO lots (priority_group, applications, block_ids, codes, status) VALUES "
                       "(%s, %s, '{900001,900002}', '{B900001,B900002}', 'auction') RETURNING id",
                       (group, list(apps.values()))).fetchone()
    assert row is not None
    return int(row[0]), apps


def _states(conn: psycopg.Connection, apps: dict[int, int]) -> dict[int, set[str]]:
    return {n: {r[0] for r in conn.execute("SELECT state FROM application_claims WHERE application_id = %s", (a,))}
            for n, a in apps.items()}


def test_the_licence_procedure_goes_on_with_the_winner(db: psycopg.Connection, operator) -> None:
    lot, apps = _lot(db, _accounts(db))
    auction, _, _ = held_auction(db, lot=lot)
    with db.transaction():
        ap.make_protocol(db, auction, operator[0])
    assert _states(db, apps) == {1: {"released"}, 2: {"pending"}, 3: {"released"}}
    # The winner does not pay: the next bidder's application takes the blocks back, the winner's lets go.
    with db.transaction():
        ap.winner_unpaid(db, auction, datetime.now(UTC) + timedelta(days=11), rule="next-bidder", days=10)
    assert _states(db, apps) == {1: {"pending"}, 2: {"released"}, 3: {"released"}}
    # Nobody pays and nobody is left but bidder 3 (who never bid): the parcel goes to a new auction.
    with db.transaction():
        last = ap.winner_unpaid(db, auction, datetime.now(UTC) + timedelta(days=30), rule="next-bidder", days=10)
    assert last is not None and last.new_auction is not None and last.replaced == (2, 1)
    assert _states(db, apps) == {1: {"released"}, 2: {"released"}, 3: {"released"}}


def test_journal_gaps_and_disagreements_are_written_down(db: psycopg.Connection, operator, trusted) -> None:
    # A cancelled single-participant lot: the deal at the starting bonus, without bids, is consistent.
    alone = make_auction(db)
    with db.transaction():
        append(db, alone, "auction.published", detail={"number": "AUC-2026-0001", "name": "Plot",
                                                       "codes": [], "starting_bonus": "1000000.00", "step": "1"})
        append(db, alone, "auction.cancelled")
        append(db, alone, "deal.concluded", participant=1, amount="1000000")
        db.execute("UPDATE auctions SET status = 'cancelled' WHERE id = %s", (alone,))
        made = json.loads(ap.make_protocol(db, alone, operator[0]).canonical)
    assert made["outcome"] == "cancelled" and made["discrepancies"] == [] and made["winner"]["participant"] == 1
    assert ap.verify(db, alone).ok
    # A deal that is not the highest bid, and a published event without the lot's figures: the
    # protocol says so, the documents list it, and verification fails on it.
    odd = make_auction(db)
    with db.transaction():
        append(db, odd, "auction.published", detail={"name": "Plot"})
        append(db, odd, "bid.submitted", participant=1, amount="2000000")
        append(db, odd, "auction.extended")
        append(db, odd, "auction.closed")
        append(db, odd, "deal.concluded", participant=2, amount="1000000")
        db.execute("UPDATE auctions SET status = 'closed' WHERE id = %s", (odd,))
        saved = ap.make_protocol(db, odd, operator[0])
    protocol = json.loads(saved.canonical)
    assert protocol["missing"] == ["auction.published.number", "auction.published.codes",
                                   "auction.published.starting_bonus", "auction.published.step",
                                   "auction.extended.3"]
    assert protocol["discrepancies"][0]["code"] == "protocol.deal_differs"
    assert "2000000.00" in saved.html["ru"] and "Нет в журнале: auction.published.number." in saved.html["ru"]
    assert [p["code"] for p in ap.verify(db, odd).problems] == ["protocol.deal_differs"]


def test_missing_protocols_are_made_by_the_ticker(db: psycopg.Connection, tmp_path: Path) -> None:
    from geoservice.api.auction_protocol import operator_signer
    from geoservice.kernel.settings import Settings

    signer = operator_signer(Settings(var_dir=tmp_path))
    assert operator_signer(Settings(var_dir=tmp_path)) is signer
    assert (tmp_path / "operator" / "operator-ca.cer").exists()
    auction, _, _ = held_auction(db)
    with db.transaction():
        made = ap.protocols_due(db, signer)
    assert auction in made and ap.stored(db, auction) is not None
    with db.transaction():
        assert auction not in ap.protocols_due(db, signer)

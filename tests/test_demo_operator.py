"""The demo trusts its own operator: protocols the server signs as the demo operator (no operator
key configured) pass `geoservice auction verify` after `geoservice demo load` / `demo auction`,
which trust the operator's CA and CRL (once). Before that, verify refuses them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import rfc8785

from cadastre import auction_protocol, bidding
from cadastre.auctions import Defaults, open_due
from cadastre.demo import load_people
from cadastre.demo_auction import make_demo_auction
from cadastre.eds.pki import demo_pki, sign_cms
from cadastre.eds_trust import load_trust
from cadastre.registers import TableRegisters
from geoservice.kernel import clock
from geoservice.kernel.settings import get_settings
from tests.applicants import person, programme_database

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def app_db(database_url: str) -> Iterator[str]:
    with programme_database(database_url, "geoservice_demo_operator") as url:
        yield url


def cli(app_db: str, var: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEOSERVICE_")}
    env.update(DATABASE_URL=app_db, PYTHONPATH=str(ROOT), GEOSERVICE_DEMO="1", GEOSERVICE_VAR_DIR=str(var),
               LANG="en_US.UTF-8")
    return subprocess.run([sys.executable, "-m", "geoservice.cli", *args], capture_output=True, text=True, env=env,
                          timeout=180, cwd=ROOT)


def operator_cas(conn: psycopg.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM eds_ca_certificates WHERE subject LIKE '%%OPERATOR CA (DEMO)%%'")
               .fetchone()[0])  # type: ignore[index]


def run_to_protocol(conn: psycopg.Connection, auction_id: int, pki_dir: Path, var: Path) -> None:
    """Open the lot, one bid by a demo bidder, the end brought forward, closed, the protocol signed
    as the server signs it (the demo operator under var/operator)."""
    starts_at = conn.execute("SELECT starts_at FROM auctions WHERE id = %s", (auction_id,)).fetchone()[0]
    open_due(conn, starts_at + timedelta(seconds=1))
    conn.commit()
    holder = demo_pki(pki_dir).person("applicant")
    bid = {"auction": auction_id, "amount": "25000000.00", "idempotency_key": "demo-1"}
    trust, revocation = load_trust(conn)
    conn.commit()
    answer = bidding.place_bid(conn, auction_id, bid, sign_cms(rfc8785.dumps(bid), holder.sign("rsa"), detached=True),
                               person(conn, holder.person.iin), trust=trust, revocation=revocation,
                               registers=TableRegisters(conn), now=clock.now())
    assert answer.accepted, answer.reasons
    # An hour's auction in a test: its end brought forward (the row is not final yet).
    conn.execute("UPDATE auctions SET starts_at = clock_timestamp() - interval '2 minutes', "
                 "duration = interval '1 minute', ends_at = clock_timestamp() WHERE id = %s", (auction_id,))
    conn.commit()
    assert auction_id in bidding.close_due(conn, clock.now() + timedelta(seconds=1))
    with conn.transaction():
        auction_protocol.make_protocol(conn, auction_id, auction_protocol.operator_key(None, None, var))
    conn.commit()


def test_demo_auction_trusts_the_operator_so_that_verify_passes(app_db, tmp_path):
    var = tmp_path / "var"
    pki_dir = var / "demo-pki"
    settings = get_settings()
    with psycopg.connect(app_db) as conn:
        load_people(conn, pki_dir)
        conn.commit()
        # A demo lot made without the CLI: nobody trusted the operator, verify refuses.
        made = make_demo_auction(conn, pki_dir, defaults=Defaults.from_settings(settings), now=clock.now(),
                                 starts_in=timedelta(minutes=1), grid_datum=settings.grid_datum)
        conn.commit()
        first = int(made.split("(id ")[1].split(")")[0])
        run_to_protocol(conn, first, pki_dir, var)
        assert operator_cas(conn) == 0
        conn.commit()
    refused = cli(app_db, var, "auction", "verify", str(first), "--lang", "en")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    # The demo's own command trusts the operator's CA and CRL; verify agrees now.
    done = cli(app_db, var, "demo", "auction", "--minutes", "5")
    assert done.returncode == 0, done.stderr
    assert "CA and CRL trusted" in done.stdout
    verified = cli(app_db, var, "auction", "verify", str(first), "--lang", "en")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # Trusted once, however often the demo runs.
    again = cli(app_db, var, "demo", "auction", "--minutes", "5")
    assert again.returncode == 0, again.stderr
    with psycopg.connect(app_db) as conn:
        assert operator_cas(conn) == 1
        crls = conn.execute("SELECT count(*) FROM eds_crls WHERE issuer LIKE '%%OPERATOR CA (DEMO)%%'").fetchone()[0]
        assert crls == 1

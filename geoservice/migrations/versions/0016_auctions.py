"""Electronic auctions for subsoil rights (issue 10): lots, registrations, payments, bids, the
auction's own event journal and its protocol.

``auctions``: one lot put up for auction, from a first-month conflict (``lot_id``, the
applications' lot of migration 0013) or by an authority officer. Every figure is the lot's own,
copied from the settings when the lot is made, so a later change of a setting never changes a
published lot. ``ends_at`` is the current end (extensions move it); ``current_bonus``,
``leader``, ``last_seq`` and ``last_hash`` repeat the journal's head, written in the same
transaction as the event, under the auction row's lock: that lock is what serialises bids per
lot (one total order).

``auction_events``: the journal seed 001 asks for, numbered per auction without gaps
(``seq`` = ``auctions.last_seq`` + 1 under the row lock) with the database's clock to the
microsecond, and chained by SHA-256 (``hash`` = SHA-256(``prev_hash`` || canonical JSON of the
event, see ``cadastre.auction_journal.canonical``), so the protocol can be recomputed from it
alone. Append-only for everyone: a trigger refuses UPDATE and DELETE.

``auction_bids``: every bid attempt with its signed canonical JSON (RFC 8785) and detached CMS,
accepted or rejected with the reason; ``(auction_id, participant, idempotency_key)`` is unique,
so a replayed bid is accepted at most once. A trigger refuses an accepted bid when the auction
is not open or its end has passed by the database's clock: the end time is enforced here, not
only in Python.

``auction_participants``: signed registrations; ``number`` is the anonymous participant number
bidders see. ``payments``: the table-backed payments adapter (fee and deposit confirmations).

``auction_protocols``: the result, generated from the journal alone when the auction closes:
JSON, the human-readable documents (kk, ru), SHA-256 of the JSON, and the operator's detached
CMS over it. Never updated or deleted (trigger), and a closed auction's row is frozen too.

Revision ID: 0016_auctions
Revises: 0015_procedure_runs
"""
from alembic import op

revision = "0016_auctions"
down_revision = "0015_procedure_runs"
branch_labels = None
depends_on = None

TWELVE_DIGITS = "'^[0-9]{12}$'"
FINAL = "('closed', 'cancelled', 'failed')"

UPGRADE = [
    """CREATE TABLE auctions (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        number text NOT NULL UNIQUE CHECK (number ~ '^AUC-[0-9]{4}-[0-9]{4,}$'),
        -- The plot's name (seed 001: the journal records it).
        name text NOT NULL,
        lot_id bigint UNIQUE REFERENCES lots (id),
        kind text NOT NULL,
        mineral text,
        authority text REFERENCES authorities (id),
        codes text[] NOT NULL DEFAULT '{}',
        block_ids bigint[] NOT NULL DEFAULT '{}',
        geom geometry(MultiPolygon, 4326) NOT NULL,
        area_km2 double precision NOT NULL CHECK (area_km2 > 0),
        block_count integer NOT NULL CHECK (block_count >= 0),
        -- Minimum annual spend in MCI, e.g. {"years_1_3": 1800, "years_4_6": 2300}.
        minimum_spend jsonb NOT NULL DEFAULT '{}'::jsonb,
        starting_bonus numeric(20, 2) NOT NULL CHECK (starting_bonus > 0),
        participation_fee numeric(20, 2) NOT NULL CHECK (participation_fee >= 0),
        deposit numeric(20, 2) NOT NULL CHECK (deposit >= 0),
        step numeric(20, 2) NOT NULL CHECK (step > 0),
        starts_at timestamptz NOT NULL,
        duration interval NOT NULL CHECK (duration > interval '0'),
        -- A bid in the last `extension` before the end moves the end by `extension`.
        extension interval NOT NULL CHECK (extension >= interval '0'),
        ends_at timestamptz NOT NULL,
        bid_changes boolean NOT NULL DEFAULT false,
        -- Who asked for the auction (the lot's applicants): [{"iin"} | {"bin"}].
        requested_by jsonb NOT NULL DEFAULT '[]'::jsonb,
        status text NOT NULL DEFAULT 'published'
            CHECK (status IN ('published', 'open', 'closed', 'cancelled', 'failed')),
        -- The journal's head, kept in step with auction_events under this row's lock.
        current_bonus numeric(20, 2),
        leader integer,
        last_seq bigint NOT NULL DEFAULT 0,
        last_hash bytea NOT NULL DEFAULT '\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea,
        winner integer,
        final_bonus numeric(20, 2),
        closed_at timestamptz,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CHECK (ends_at >= starts_at + duration))""",
    "CREATE INDEX auctions_status ON auctions (status, starts_at)",
    "CREATE INDEX auctions_geom ON auctions USING gist (geom)",
    """CREATE TABLE auction_numbers (
        year integer PRIMARY KEY CHECK (year BETWEEN 2000 AND 9999),
        last integer NOT NULL DEFAULT 0 CHECK (last >= 0))""",
    f"""CREATE TABLE auction_participants (
        auction_id bigint NOT NULL REFERENCES auctions (id),
        -- Anonymous: what the hall shows instead of the bidder's identity.
        number integer NOT NULL CHECK (number > 0),
        iin text CHECK (iin ~ {TWELVE_DIGITS}),
        bin text CHECK (bin ~ {TWELVE_DIGITS}),
        account_id bigint NOT NULL REFERENCES accounts (id),
        signer_iin text,
        canonical text NOT NULL,
        signature bytea NOT NULL,
        verification jsonb NOT NULL,
        registered_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        -- 'registered' until the payments and the registers admit it; 'refused' with reasons.
        status text NOT NULL DEFAULT 'registered' CHECK (status IN ('registered', 'admitted', 'refused')),
        reasons jsonb NOT NULL DEFAULT '[]'::jsonb,
        PRIMARY KEY (auction_id, number),
        CHECK ((iin IS NULL) <> (bin IS NULL)))""",
    "CREATE UNIQUE INDEX auction_participants_who ON auction_participants (auction_id, coalesce(bin, iin))",
    "CREATE INDEX auction_participants_account ON auction_participants (account_id)",
    f"""CREATE TABLE payments (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        auction_id bigint NOT NULL REFERENCES auctions (id),
        payer text NOT NULL CHECK (payer ~ {TWELVE_DIGITS}),
        purpose text NOT NULL CHECK (purpose IN ('fee', 'deposit', 'bonus')),
        amount numeric(20, 2) NOT NULL CHECK (amount >= 0),
        reference text,
        confirmed_by text NOT NULL,
        confirmed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        UNIQUE (auction_id, payer, purpose))""",
    """CREATE TABLE auction_events (
        auction_id bigint NOT NULL REFERENCES auctions (id),
        seq bigint NOT NULL CHECK (seq > 0),
        at timestamptz NOT NULL,
        kind text NOT NULL CHECK (kind IN (
            'auction.published', 'auction.opened', 'auction.extended', 'auction.closed',
            'auction.cancelled', 'auction.failed', 'participant.registered', 'participant.admitted',
            'participant.refused', 'participant.identified', 'participant.login', 'participant.logout',
            'bid.submitted', 'bid.rejected', 'bid.withdrawn', 'bid.changed', 'deal.concluded')),
        participant integer,
        amount numeric(20, 2),
        detail jsonb NOT NULL DEFAULT '{}'::jsonb,
        prev_hash bytea NOT NULL CHECK (octet_length(prev_hash) = 32),
        hash bytea NOT NULL CHECK (octet_length(hash) = 32),
        PRIMARY KEY (auction_id, seq))""",
    """CREATE TABLE auction_bids (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        auction_id bigint NOT NULL REFERENCES auctions (id),
        participant integer NOT NULL,
        amount numeric(20, 2) NOT NULL,
        idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 100),
        canonical text NOT NULL,
        signature bytea NOT NULL,
        verification jsonb NOT NULL,
        received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        accepted boolean NOT NULL,
        -- The journal row of this bid (bid.submitted when accepted, bid.rejected otherwise).
        seq bigint NOT NULL,
        reasons jsonb NOT NULL DEFAULT '[]'::jsonb,
        UNIQUE (auction_id, participant, idempotency_key),
        FOREIGN KEY (auction_id, participant) REFERENCES auction_participants (auction_id, number),
        FOREIGN KEY (auction_id, seq) REFERENCES auction_events (auction_id, seq))""",
    "CREATE INDEX auction_bids_accepted ON auction_bids (auction_id, seq) WHERE accepted",
    """CREATE TABLE auction_protocols (
        auction_id bigint PRIMARY KEY REFERENCES auctions (id),
        -- The protocol's canonical JSON (RFC 8785) exactly as hashed and signed.
        canonical text NOT NULL,
        sha256 bytea NOT NULL CHECK (octet_length(sha256) = 32),
        html_kk text NOT NULL,
        html_ru text NOT NULL,
        signature bytea NOT NULL,
        signer text NOT NULL,
        last_seq bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp())""",
    # What was journaled, bid and concluded is never rewritten, by the service or by the owner.
    """CREATE FUNCTION gs_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'gs_immutable: % is append-only', TG_TABLE_NAME USING ERRCODE = 'GSA00';
    END $$""",
    *(f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION gs_refuse_change()"""
      for table in ("auction_events", "auction_bids", "auction_protocols", "payments")),
    *(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} EXECUTE FUNCTION gs_refuse_change()"
      for table in ("auction_events", "auction_bids", "auction_protocols")),
    # A closed, cancelled or failed auction is frozen: its figures, winner and head stay as the
    # protocol has them.
    f"""CREATE FUNCTION gs_auction_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.status IN {FINAL} THEN
            RAISE EXCEPTION 'gs_immutable: auction % is %', OLD.number, OLD.status USING ERRCODE = 'GSA00';
        END IF;
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END $$""",
    """CREATE TRIGGER auctions_frozen BEFORE UPDATE OR DELETE ON auctions
        FOR EACH ROW EXECUTE FUNCTION gs_auction_frozen()""",
    # The end time is the database's: an accepted bid after the end (or while not open) fails
    # at its INSERT, whatever the server process believed.
    """CREATE FUNCTION gs_bid_in_time() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        a record;
    BEGIN
        IF NEW.accepted THEN
            SELECT status, ends_at INTO a FROM auctions WHERE id = NEW.auction_id;
            IF a.status <> 'open' OR clock_timestamp() >= a.ends_at THEN
                RAISE EXCEPTION 'gs_auction_not_open: auction % is % (ends %)', NEW.auction_id, a.status, a.ends_at
                    USING ERRCODE = 'GSA01';
            END IF;
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER auction_bids_in_time BEFORE INSERT ON auction_bids
        FOR EACH ROW EXECUTE FUNCTION gs_bid_in_time()""",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for table in ("auction_protocols", "auction_bids", "auction_events", "payments", "auction_participants",
                  "auction_numbers", "auctions"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
    for function in ("gs_bid_in_time", "gs_auction_frozen", "gs_refuse_change"):
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")

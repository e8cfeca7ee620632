"""The platform journal (issue 8): gap-free sequence numbers and a SHA-256 hash chain,
append-only for the service's role.

**Numbers.** ``journal_head`` is one row: the last number handed out and the last hash. A
BEFORE INSERT trigger locks it (the lock lasts until the writer's transaction ends), takes the
next number, stamps the time, chains the row and moves the head. The next writer waits for the
head, so numbers are handed out in commit order, and a rolled-back insert rolls the head back
with it: its number is given again, no gap. The identity of ``seq`` is dropped: whatever a
writer puts in ``seq``, ``at``, ``prev_hash`` or ``hash`` is overwritten. Rows written before
this migration keep their numbers (they are the history, gaps of rolled-back inserts
included); ``journal_head.gapless_from`` is the first number the trigger gave, from which on
there is no gap.

**Chain.** ``hash = sha256(prev_hash || canonical(row))``; ``prev_hash`` is the hash of the row
before (32 zero bytes for the first row). ``canonical(row)`` is the UTF-8 of the JSON array

    [seq, at, actor, action, result, object, layer_id, version, client, detail]

written without spaces between the elements: ``seq`` and ``version`` as decimal integers, ``at``
as a JSON string ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC, always six digits of microseconds), the
texts as JSON strings (escaped as PostgreSQL's to_json and Python's json.dumps with
ensure_ascii=False both do: ``\\" \\\\ \\b \\f \\n \\r \\t``, other characters below U+0020 as
``\\u00xx``, everything else as is), an absent value as ``null``, and ``detail`` as PostgreSQL's
text of the jsonb value (``detail::text``: keys ordered by length, then bytewise; ``", "`` and
``": "`` between items; numbers as jsonb keeps them, so ``1.0`` stays ``1.0`` and ``1e2`` is
``100``). Recompute ``detail`` from that text, not from a re-serialisation of the parsed value.
Rows of the migration's time are chained here, in ``seq`` order.

**Append-only.** A statement trigger refuses UPDATE, DELETE and TRUNCATE of ``journal`` for
everybody, the owner too, and the head row is never deleted. The
service's role has only INSERT and SELECT on the journal (geoservice/migrate.py). A superuser
(or the owner) can still disable triggers: ``geoservice journal verify`` recomputes the chain.

Revision ID: 0008_journal_chain
Revises: 0007_eds_trust
"""
from alembic import op

revision = "0008_journal_chain"
down_revision = "0007_eds_trust"
branch_labels = None
depends_on = None

CANONICAL = r"""
CREATE OR REPLACE FUNCTION public.journal_canonical(
    p_seq bigint, p_at timestamptz, p_actor text, p_action text, p_result text, p_object text,
    p_layer_id text, p_version integer, p_client text, p_detail jsonb) RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE AS $fn$
SELECT pg_catalog.convert_to(
    '[' || p_seq::text
    || ',' || pg_catalog.to_json(pg_catalog.to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text
    || ',' || coalesce(pg_catalog.to_json(p_actor)::text, 'null')
    || ',' || coalesce(pg_catalog.to_json(p_action)::text, 'null')
    || ',' || coalesce(pg_catalog.to_json(p_result)::text, 'null')
    || ',' || coalesce(pg_catalog.to_json(p_object)::text, 'null')
    || ',' || coalesce(pg_catalog.to_json(p_layer_id)::text, 'null')
    || ',' || coalesce(p_version::text, 'null')
    || ',' || coalesce(pg_catalog.to_json(p_client)::text, 'null')
    || ',' || coalesce(p_detail::text, 'null')
    || ']', 'UTF8')
$fn$
"""

# SECURITY DEFINER: the service's role may not touch the head itself, only through this.
CHAIN = r"""
CREATE OR REPLACE FUNCTION public.journal_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_seq bigint;
    v_hash bytea;
BEGIN
    -- Held until the transaction ends: the next writer waits here, so a rollback gives its
    -- number back and commits come in number order.
    SELECT seq, hash INTO STRICT v_seq, v_hash FROM public.journal_head FOR UPDATE;
    NEW.seq := v_seq + 1;
    NEW.at := clock_timestamp();
    NEW.detail := coalesce(NEW.detail, '{}'::jsonb);
    NEW.prev_hash := v_hash;
    NEW.hash := sha256(v_hash || public.journal_canonical(NEW.seq, NEW.at, NEW.actor, NEW.action, NEW.result,
                                                          NEW.object, NEW.layer_id, NEW.version, NEW.client,
                                                          NEW.detail));
    UPDATE public.journal_head SET seq = NEW.seq, hash = NEW.hash;
    RETURN NEW;
END
$fn$
"""

REFUSE = r"""
CREATE OR REPLACE FUNCTION public.journal_refuse() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    RAISE EXCEPTION 'the journal is append-only: % of % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$fn$
"""

# The head is never deleted or emptied. (Its updates are not guarded by a row trigger: that call
# would sit inside the section every writer waits for; the service's role cannot update it, and
# an owner who moves it is caught by ``journal verify``.)
HEAD_GUARD = r"""
CREATE OR REPLACE FUNCTION public.journal_head_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    RAISE EXCEPTION 'the journal head is never removed: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$fn$
"""


# Rows already there, in seq order, each hash over the one before.
CHAIN_EXISTING = r"""
DO $do$
DECLARE
    r record;
    v_hash bytea := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
    v_last bigint := 0;
BEGIN
    FOR r IN SELECT * FROM public.journal ORDER BY seq LOOP
        UPDATE public.journal SET prev_hash = v_hash,
               hash = sha256(v_hash || public.journal_canonical(r.seq, r.at, r.actor, r.action, r.result, r.object,
                                                                r.layer_id, r.version, r.client, r.detail))
         WHERE seq = r.seq RETURNING hash INTO v_hash;
        v_last := r.seq;
    END LOOP;
    INSERT INTO public.journal_head (seq, hash, gapless_from) VALUES (v_last, v_hash, v_last + 1);
END
$do$
"""


def upgrade() -> None:
    # What was acted on, for every kind of row (layers, accounts, documents…).
    op.execute("ALTER TABLE journal ADD COLUMN IF NOT EXISTS object text")
    op.execute("UPDATE journal SET object = 'layer:' || layer_id WHERE object IS NULL AND layer_id IS NOT NULL")

    op.execute("ALTER TABLE journal ADD COLUMN prev_hash bytea, ADD COLUMN hash bytea")
    op.execute("CREATE TABLE journal_head (one boolean PRIMARY KEY DEFAULT true CHECK (one), "
               "seq bigint NOT NULL, hash bytea NOT NULL, gapless_from bigint NOT NULL)")
    op.execute(CANONICAL)
    op.execute(CHAIN_EXISTING)
    op.execute("ALTER TABLE journal ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL")
    # Numbers come from the head now; the identity's sequence would leave gaps on rollback.
    op.execute("ALTER TABLE journal ALTER COLUMN seq DROP IDENTITY IF EXISTS")
    op.execute(CHAIN)
    op.execute(REFUSE)
    op.execute(HEAD_GUARD)
    op.execute("CREATE TRIGGER journal_chain BEFORE INSERT ON journal FOR EACH ROW EXECUTE FUNCTION journal_chain()")
    op.execute("CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON journal "
               "FOR EACH STATEMENT EXECUTE FUNCTION journal_refuse()")
    op.execute("CREATE TRIGGER journal_head_guard BEFORE DELETE OR TRUNCATE ON journal_head "
               "FOR EACH STATEMENT EXECUTE FUNCTION journal_head_guard()")
    # Nobody but the owner changes rows (the service's role: INSERT and SELECT, migrate.py).
    op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON journal, journal_head FROM PUBLIC")
    op.execute("REVOKE INSERT ON journal_head FROM PUBLIC")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS journal_append_only ON journal")
    op.execute("DROP TRIGGER IF EXISTS journal_chain ON journal")
    op.execute("DROP TABLE IF EXISTS journal_head")
    op.execute("DROP FUNCTION IF EXISTS public.journal_chain()")
    op.execute("DROP FUNCTION IF EXISTS public.journal_refuse()")
    op.execute("DROP FUNCTION IF EXISTS public.journal_head_guard()")
    op.execute("DROP FUNCTION IF EXISTS public.journal_canonical(bigint, timestamptz, text, text, text, text, text, "
               "integer, text, jsonb)")
    op.execute("ALTER TABLE journal DROP COLUMN IF EXISTS prev_hash, DROP COLUMN IF EXISTS hash")
    op.execute("DO $do$ BEGIN EXECUTE format('ALTER TABLE journal ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY "
               "(START WITH %s)', (SELECT coalesce(max(seq), 0) + 1 FROM journal)); END $do$")
    op.execute("ALTER TABLE journal DROP COLUMN IF EXISTS object")

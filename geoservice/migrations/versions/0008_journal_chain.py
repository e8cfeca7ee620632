"""The platform journal (issue 8): gap-free sequence numbers and a SHA-256 hash chain,
append-only for the service's role, sealed after commit.

**Intake, then seal.** Writers insert into ``journal_intake`` (an identity ``id``; ``at`` =
``clock_timestamp()`` at the insert, the event's time; the row's columns): a plain insert, no
lock, so journal writers commit side by side. ``gs_journal_seal(p_max)`` (the owner's, SECURITY
DEFINER) numbers and chains what has been committed: it locks the one-row ``journal_head`` (the
last number and hash; only sealers wait for it, for one batch), deletes up to ``p_max`` intake
rows in ``id`` order (``FOR UPDATE SKIP LOCKED``), inserts them into ``journal`` with the next
numbers and their hashes in one statement, moves the head once and returns the count. A
rolled-back writer's row never reaches the intake, so there is no gap; ``seq`` is the order of
sealing, which is the order of record: ``at`` is when the event happened and may be out of
``seq`` order by as long as a writer's transaction ran on after its journal row (microseconds for
the usual single-statement writers). Every server process seals in the background
(``layers.journal.Sealer``); readers that must see everything seal first. Rows written before
this migration keep their numbers (they are the history, gaps of rolled-back inserts included);
``journal_head.gapless_from`` is the first number sealing gave, from which on there is no gap.

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
everybody, the owner too, and the head row is never deleted; rows enter ``journal`` and leave
``journal_intake`` only inside ``gs_journal_seal`` (a trigger refuses it otherwise), and intake
rows are never updated. The service's role may SELECT, INSERT the intake's event columns (not
``id``, not ``at``) and EXECUTE ``gs_journal_seal``, nothing else (geoservice/migrate.py). A
superuser (or the owner) can still disable triggers: ``geoservice journal verify`` recomputes the
chain.

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

INTAKE = r"""
CREATE TABLE public.journal_intake (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor text NOT NULL,
    action text NOT NULL,
    result text NOT NULL,
    object text,
    layer_id text,
    version integer,
    client text,
    detail jsonb NOT NULL DEFAULT '{}'::jsonb
)
"""

# SECURITY DEFINER: the service's role may neither take intake rows nor touch the journal or its
# head, only ask for this. One batch: the head locked (sealers queue here, writers never do), the
# oldest committed intake rows taken (SKIP LOCKED: a row another sealer holds is its), numbered
# and chained in id order, inserted in one statement, the head moved once. (The arrays are read
# by unnest, never by subscript inside a query: that is a walk from the first element each time.)
SEAL = r"""
CREATE OR REPLACE FUNCTION public.gs_journal_seal(p_max integer DEFAULT 10000) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_seq bigint;
    v_hash bytea;
    v_rows public.journal_intake[];
    v_canonical bytea[];
    v_prevs bytea[] := '{}';
    v_hashes bytea[] := '{}';
    v_n integer;
BEGIN
    -- The cheap answer when there is nothing to do: no lock, no transaction id.
    IF NOT EXISTS (SELECT 1 FROM public.journal_intake) THEN
        RETURN 0;
    END IF;
    SELECT seq, hash INTO STRICT v_seq, v_hash FROM public.journal_head FOR UPDATE;
    -- A fresh snapshot after the lock: what an earlier sealer took is gone, what it chained is
    -- in the head read above.
    PERFORM pg_catalog.set_config('geoservice.journal_seal', 'on', true);
    WITH taken AS (
        DELETE FROM public.journal_intake q
         WHERE q.id = ANY (ARRAY(SELECT id FROM public.journal_intake ORDER BY id LIMIT p_max
                                 FOR UPDATE SKIP LOCKED))
        RETURNING q AS r)
    SELECT array_agg(r ORDER BY (r).id) INTO v_rows FROM taken;
    v_n := coalesce(array_length(v_rows, 1), 0);
    IF v_n = 0 THEN
        PERFORM pg_catalog.set_config('geoservice.journal_seal', '', true);
        RETURN 0;
    END IF;
    SELECT array_agg(public.journal_canonical(v_seq + u.ordinality, u.at, u.actor, u.action, u.result, u.object,
                                              u.layer_id, u.version, u.client, u.detail) ORDER BY u.ordinality)
      INTO v_canonical FROM unnest(v_rows) WITH ORDINALITY AS u;
    FOR k IN 1 .. v_n LOOP
        v_prevs[k] := v_hash;
        v_hash := sha256(v_hash || v_canonical[k]);
        v_hashes[k] := v_hash;
    END LOOP;
    INSERT INTO public.journal (seq, at, actor, action, result, object, layer_id, version, client, detail,
                                prev_hash, hash)
    SELECT v_seq + u.ord, u.at, u.actor, u.action, u.result, u.object, u.layer_id, u.version, u.client, u.detail,
           u.prev_hash, u.hash
      FROM unnest(v_rows, v_prevs, v_hashes) WITH ORDINALITY
           AS u(id, at, actor, action, result, object, layer_id, version, client, detail, prev_hash, hash, ord);
    PERFORM pg_catalog.set_config('geoservice.journal_seal', '', true);
    UPDATE public.journal_head SET seq = v_seq + v_n, hash = v_hash;
    RETURN v_n;
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

# The head is never deleted or emptied. (Its updates are not guarded by a row trigger: the service's
# role cannot update it, and an owner who moves it is caught by ``journal verify``.)
HEAD_GUARD = r"""
CREATE OR REPLACE FUNCTION public.journal_head_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    RAISE EXCEPTION 'the journal head is never removed: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$fn$
"""

# Rows enter the journal, and leave the intake, only inside gs_journal_seal() (which sets the
# transaction-local flag around its two statements): an owner's INSERT INTO journal would skip
# the numbering and the chain. Once per statement, so once per sealed batch.
SEALED_ONLY = r"""
CREATE OR REPLACE FUNCTION public.journal_sealed_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF coalesce(current_setting('geoservice.journal_seal', true), '') <> 'on' THEN
        RAISE EXCEPTION 'rows enter the journal only through gs_journal_seal(): % of % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NULL;
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
    op.execute(INTAKE)
    op.execute(SEAL)
    op.execute(REFUSE)
    op.execute(HEAD_GUARD)
    op.execute(SEALED_ONLY)
    op.execute("CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON journal "
               "FOR EACH STATEMENT EXECUTE FUNCTION journal_refuse()")
    op.execute("CREATE TRIGGER journal_sealed_only BEFORE INSERT ON journal "
               "FOR EACH STATEMENT EXECUTE FUNCTION journal_sealed_only()")
    op.execute("CREATE TRIGGER journal_head_guard BEFORE DELETE OR TRUNCATE ON journal_head "
               "FOR EACH STATEMENT EXECUTE FUNCTION journal_head_guard()")
    # An intake row is never changed; it leaves only into the chain.
    op.execute("CREATE TRIGGER journal_intake_append_only BEFORE UPDATE OR TRUNCATE ON journal_intake "
               "FOR EACH STATEMENT EXECUTE FUNCTION journal_refuse()")
    op.execute("CREATE TRIGGER journal_intake_sealed_only BEFORE DELETE ON journal_intake "
               "FOR EACH STATEMENT EXECUTE FUNCTION journal_sealed_only()")
    # Nobody but the owner changes rows. The service's role (migrate.py): INSERT of the intake's
    # event columns only (not id, not at), SELECT, and EXECUTE of gs_journal_seal.
    op.execute("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON journal, journal_head, journal_intake FROM PUBLIC")
    op.execute("REVOKE ALL ON FUNCTION public.gs_journal_seal(integer) FROM PUBLIC")


def downgrade() -> None:
    # What waits in the intake goes into the chain first: 0007 has no intake.
    op.execute("SELECT public.gs_journal_seal(2147483647)")
    # Who could write the intake may write the journal again, as before this migration.
    op.execute("""DO $do$
DECLARE r record;
BEGIN
    FOR r IN SELECT DISTINCT grantee FROM information_schema.column_privileges
              WHERE table_schema = 'public' AND table_name = 'journal_intake' AND privilege_type = 'INSERT'
                AND grantee <> current_user LOOP
        EXECUTE format('GRANT INSERT ON public.journal TO %I', r.grantee);
    END LOOP;
END $do$""")
    op.execute("DROP TRIGGER IF EXISTS journal_append_only ON journal")
    op.execute("DROP TRIGGER IF EXISTS journal_sealed_only ON journal")
    op.execute("DROP TABLE IF EXISTS journal_intake")
    op.execute("DROP TABLE IF EXISTS journal_head")
    op.execute("DROP FUNCTION IF EXISTS public.gs_journal_seal(integer)")
    op.execute("DROP FUNCTION IF EXISTS public.journal_refuse()")
    op.execute("DROP FUNCTION IF EXISTS public.journal_head_guard()")
    op.execute("DROP FUNCTION IF EXISTS public.journal_sealed_only()")
    op.execute("DROP FUNCTION IF EXISTS public.journal_canonical(bigint, timestamptz, text, text, text, text, text, "
               "integer, text, jsonb)")
    op.execute("ALTER TABLE journal DROP COLUMN IF EXISTS prev_hash, DROP COLUMN IF EXISTS hash")
    op.execute("DO $do$ BEGIN EXECUTE format('ALTER TABLE journal ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY "
               "(START WITH %s)', (SELECT coalesce(max(seq), 0) + 1 FROM journal)); END $do$")
    op.execute("ALTER TABLE journal DROP COLUMN IF EXISTS object")

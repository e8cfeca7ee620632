"""Apply Alembic migrations, bring the catalog tables in line with layers/catalog.py, and set up
the role the service runs as.

Two roles: the one that migrates (DATABASE_URL) owns the schema; the service's role (settings
``app_role``/``app_password`` or ``app_database_url``) owns nothing but the schema ``layer_data``
its version tables live in. It may read what it serves, record versions and switch layers, and
only add to the journal (INSERT into its intake, ask for sealing): no UPDATE, DELETE or TRUNCATE
of it. Roles are cluster-wide and
several databases (tests, benches) may set one up at the same moment: every step is idempotent
and tolerates the others."""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from psycopg import sql

from geoservice.kernel.db import connect, sqlalchemy_url
from geoservice.kernel.settings import get_settings, url_user
from layers.catalog import AUTHORITIES, LAYERS

log = logging.getLogger("geoservice.migrate")

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")


def alembic_config(url: str) -> Config:
    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return cfg


def migrate(url: str, *, role: str | None = None, password: str | None = None) -> None:
    """Migrate the database at ``url`` (as its owner) and set up the service's role: ``role`` and
    ``password`` default to the settings' (the user and password of APP_DATABASE_URL, else
    APP_ROLE and APP_PASSWORD)."""
    command.upgrade(alembic_config(url), "head")
    sync_catalog(url)
    if role is None:
        settings = get_settings()
        role, from_url = url_user(settings.app_database_url) if settings.app_database_url else (None, None)
        role, password = role or settings.app_role, password or from_url or settings.app_password
    if role:
        setup_service_role(url, role, password)


# What the service may do beyond reading every table of schema public.
SERVICE_WRITES = (
    "GRANT UPDATE (current_version_id, updated_at) ON layers TO {role}",
    "GRANT INSERT, UPDATE (pruned_at) ON layer_versions TO {role}",
    "GRANT UPDATE (last_used_at) ON api_tokens TO {role}",
    # The journal: its intake's event columns (the id and the time are the database's), and
    # sealing committed intake rows into the chain (the owner's function does the moving).
    "GRANT INSERT (actor, action, result, object, layer_id, version, client, detail) ON journal_intake TO {role}",
    "GRANT EXECUTE ON FUNCTION gs_journal_seal(integer) TO {role}",
    "GRANT EXECUTE ON FUNCTION gs_switch_view(text, text) TO {role}",
    # Signed documents (0010): append-only, like the journal.
    "GRANT INSERT ON documents, document_contents, document_signatures TO {role}",
    # The cabinet (0009): sign-in makes and updates accounts, consumes challenges and demo links,
    # opens and revokes sessions, writes and marks notifications. Registers and role grants are
    # the owner's (`geoservice registry load`, `users grant`).
    "GRANT INSERT, UPDATE (name, organisation, email, phone, address, certificate, last_sign_in_at) "
    "ON accounts TO {role}",
    "GRANT INSERT, UPDATE (used_at), DELETE ON signin_challenges TO {role}",
    "GRANT INSERT, UPDATE (revoked_at) ON sessions TO {role}",
    "GRANT UPDATE (used_at) ON demo_links TO {role}",
    "GRANT INSERT, UPDATE (delivered_at, read_at) ON notifications TO {role}",
    # Working days (0012): the service reads the holidays table (the blanket SELECT) and writes
    # nothing of it: the operator maintains it as the owner (`geoservice holidays add`). Procedure
    # definitions are a declarations file; their instances' table comes with the applications.
    # E-applications (0013): filed once (no UPDATE of what was signed); the year's number row
    # taken under its lock; claims change state (granted, released); lots are recomputed while
    # their window is open.
    "GRANT INSERT, UPDATE (last, last_at) ON application_numbers TO {role}",
    "GRANT INSERT, UPDATE (status, reasons, routed_to) ON applications TO {role}",
    "GRANT INSERT, UPDATE (state) ON application_claims TO {role}",
    "GRANT INSERT, UPDATE (applications, block_ids, codes, status, updated_at) ON lots TO {role}",
    # Procedure runs (0015): a run's state moves on with each decision; decisions are signed and
    # append-only (no UPDATE); an overdue stage is recorded once when it is notified.
    "GRANT INSERT, UPDATE (state, step, stage, role, due_at, status, outcome, updated_at) "
    "ON procedure_runs TO {role}",
    "GRANT INSERT ON procedure_decisions TO {role}",
    "GRANT INSERT ON procedure_overdue TO {role}",
    # Licences (0014): new licences, states and changes are added; a state is only ever closed
    # (its valid_to), the history never rewritten.
    "GRANT INSERT ON licence_records, licence_states, licence_changes TO {role}",
    "GRANT UPDATE (valid_to) ON licence_states TO {role}",
    # Auctions (0016): lots are made and move through their states (frozen once final, by
    # trigger); registrations, payments, bids, journal rows and protocols are only ever added.
    "GRANT INSERT, UPDATE (status, ends_at, current_bonus, leader, last_seq, last_hash, winner, final_bonus, "
    "closed_at) ON auctions TO {role}",
    "GRANT INSERT, UPDATE (last) ON auction_numbers TO {role}",
    "GRANT INSERT, UPDATE (status, reasons) ON auction_participants TO {role}",
    "GRANT INSERT ON payments, auction_events, auction_bids, auction_protocols TO {role}",
    # Commissions (0017): members' signed votes are append-only; the roster is the owner's
    # (`geoservice commission add/remove`).
    "GRANT INSERT ON commission_votes TO {role}",
    # The mail outbox (0019): messages are queued, then marked sent or retried; never rewritten.
    "GRANT INSERT, UPDATE (attempts, next_attempt_at, sent_at, last_error) ON outbox TO {role}",
    # Obligations (0018): derived rows are added and closed (never rewritten); the MCI values are
    # the operator's (owner) table, read only.
    "GRANT INSERT, UPDATE (valid_to, closed_at, closed_by, closed_basis) ON obligations TO {role}",
    # Holders' reports (0021): filed with their application; the decision sets the status, its
    # time, author and the reason of a return (a resubmission clears them).
    "GRANT INSERT, UPDATE (status, decided_at, decided_by, reason) ON obligation_reports TO {role}",
    # The obligation checker (0020): findings are added once and only ever resolved; runs are
    # recorded and finished.
    "GRANT INSERT, UPDATE (status, resolved_at, resolved_on) ON obligation_findings TO {role}",
    "GRANT INSERT, UPDATE (finished_at, counts, error) ON checker_runs TO {role}",
    # Officers' signed decisions on obligations (0023): appended, never changed.
    "GRANT INSERT ON obligation_decisions TO {role}",
    # Raster layers (0025): uploads add versions and their sheets (never changed).
    "GRANT INSERT ON raster_versions, raster_sheets TO {role}",
    # Raster retention (0026): a version beyond the policy is marked pruned (restores are inserts).
    "GRANT UPDATE (pruned_at) ON raster_versions TO {role}",
    # Geological reports (0024): reports and their files are added by authority writers.
    "GRANT INSERT ON geo_reports, geo_report_files, geo_report_words TO {role}",
)


def setup_service_role(url: str, role: str, password: str | None = None) -> None:
    """Create the service's role if it is missing and grant it exactly what it needs in this
    database (everything else it had is revoked). Nothing happens when ``role`` is the owner."""
    with connect(url) as conn:
        me = conn.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        assert me is not None
        if me[0] == role:
            log.warning("the service runs as the owner %s: its journal is not protected", role)
            return
        _ensure_role(conn, role, password)
        ident = sql.Identifier(role)
        # Handing it the schema layer_data needs membership in it unless we are superuser.
        if not me[1] and not conn.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", (role,)).fetchone()[0]:
            conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(ident))
        database = conn.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
        statements = [
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), ident),
            sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(ident),
            sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident),
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(ident),
            *(sql.SQL(text).format(role=ident) for text in SERVICE_WRITES),
            # Its version tables: it creates them, drops those beyond the retention policy and
            # reads the ones the owner made (the demo, imports run as the owner).
            sql.SQL("ALTER SCHEMA layer_data OWNER TO {}").format(ident),
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA layer_data TO {}").format(ident),
            # Tables the owner makes later (the grid rebuilt, versions imported as the owner).
            sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {}").format(ident),
            sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA layer_data GRANT SELECT ON TABLES TO {}").format(ident),
        ]
        for statement in statements:
            conn.execute(statement)
        conn.commit()


def _ensure_role(conn: psycopg.Connection, role: str, password: str | None) -> None:
    ident = sql.Identifier(role)
    found = conn.execute("SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls OR rolreplication "
                         "FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    if found is None:
        try:
            # Another database of this server may create it at the same moment.
            with conn.transaction():
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT "
                                     "NOREPLICATION NOBYPASSRLS").format(ident))
        except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
            pass
    elif found[0]:
        # ALTER ROLE only when something is wrong: concurrent ALTERs of one role collide.
        conn.execute(sql.SQL("ALTER ROLE {} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS")
                     .format(ident))
    if password:
        # Utility statements take no parameters: the password goes in as a quoted literal.
        conn.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(ident, sql.Literal(password)))


def sync_catalog(url: str) -> None:
    with connect(url) as conn:
        for a in AUTHORITIES.values():
            conn.execute(
                "INSERT INTO authorities (id, name_kk, name_ru, name_en) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET name_kk = EXCLUDED.name_kk, name_ru = EXCLUDED.name_ru, "
                "name_en = EXCLUDED.name_en",
                (a.id, a.names.kk, a.names.ru, a.names.en),
            )
        for layer in LAYERS.values():
            conn.execute(
                "INSERT INTO layers (id, name_kk, name_ru, name_en, geometry_type) VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET name_kk = EXCLUDED.name_kk, name_ru = EXCLUDED.name_ru, "
                "name_en = EXCLUDED.name_en, geometry_type = EXCLUDED.geometry_type",
                (layer.id, layer.names.kk, layer.names.ru, layer.names.en, layer.geometry_type),
            )


def current_revision(url: str) -> str | None:
    with connect(url) as conn:
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except Exception:
            return None
        return row[0] if row else None

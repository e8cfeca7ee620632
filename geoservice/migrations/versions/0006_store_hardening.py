"""Hardening of the store (issue 7): the journal records where each attempt came from (``client``:
the caller's address over HTTP, ``cli`` from the command line); tokens record when they were last
used (``geoservice token list``); versions record the options they were uploaded with, so that
the file already current, sent again with the same options, makes no new version; versions whose
data the retention policy dropped keep their row, with ``pruned_at``.

The service runs as a role of its own (``geoservice db migrate`` creates it and grants what it
needs, see geoservice/migrate.py): it may not own the public layer views, so switching a view to
a new version goes through ``gs_switch_view``, a function of the schema's owner that only points
a layer's view at a table of that layer's versions.

Revision ID: 0006_store_hardening
Revises: 0005_upload_defaults
"""
from alembic import op

revision = "0006_store_hardening"
down_revision = "0005_upload_defaults"
branch_labels = None
depends_on = None


SWITCH_VIEW = r"""
CREATE OR REPLACE FUNCTION public.gs_switch_view(p_layer text, p_table text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_view text := replace(p_layer, '-', '_');
BEGIN
    -- Only a plain table in layer_data that is a version of this layer with its data.
    IF NOT EXISTS (SELECT 1 FROM public.layer_versions v
                   WHERE v.layer_id = p_layer AND v.table_name = p_table AND v.pruned_at IS NULL)
       OR NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                      WHERE n.nspname = 'layer_data' AND c.relname = p_table AND c.relkind = 'r') THEN
        RAISE EXCEPTION 'layer % has no version table %', p_layer, p_table
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    BEGIN
        -- In place when the columns match: open sessions (QGIS on the database) keep the view.
        EXECUTE format('CREATE OR REPLACE VIEW public.%I AS SELECT * FROM layer_data.%I', v_view, p_table);
    EXCEPTION WHEN OTHERS THEN
        -- The catalog changed the columns: a view cannot lose or retype columns in place.
        EXECUTE format('DROP VIEW IF EXISTS public.%I', v_view);
        EXECUTE format('CREATE VIEW public.%I AS SELECT * FROM layer_data.%I', v_view, p_table);
    END;
END
$fn$;
REVOKE ALL ON FUNCTION public.gs_switch_view(text, text) FROM PUBLIC;
"""


def upgrade() -> None:
    op.execute("ALTER TABLE journal ADD COLUMN IF NOT EXISTS client text")
    op.execute("ALTER TABLE api_tokens ADD COLUMN IF NOT EXISTS last_used_at timestamptz")
    op.execute("ALTER TABLE layer_versions ADD COLUMN IF NOT EXISTS options jsonb")
    op.execute("ALTER TABLE layer_versions ADD COLUMN IF NOT EXISTS pruned_at timestamptz")
    op.execute(SWITCH_VIEW)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS public.gs_switch_view(text, text)")
    op.execute("ALTER TABLE layer_versions DROP COLUMN IF EXISTS pruned_at")
    op.execute("ALTER TABLE layer_versions DROP COLUMN IF EXISTS options")
    op.execute("ALTER TABLE api_tokens DROP COLUMN IF EXISTS last_used_at")
    op.execute("ALTER TABLE journal DROP COLUMN IF EXISTS client")

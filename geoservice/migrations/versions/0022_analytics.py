"""Analytics for authorities (issue 11): Kazakhstan's regions as a boundary layer, and what the report queries need.

* ``regions``: the 17 regions and 3 cities of republican significance (code ``KZ-NN``, names in
  kk/ru/en, ``region`` or ``city``, MultiPolygon in WGS 84), loaded from the vendored
  ``layers/data/regions/`` (geometry: amCharts geodata, not public domain, see its README and
  LICENSE; names: ``names.csv``).
* ``region_parts``: the same polygons cut into small pieces (ST_Subdivide), so that "which region
  holds this point" is an index probe on a few hundred vertices, not on a whole region's outline:
  the report queries ask it for every licence.
* ``licence_state_regions``: the region of each licence state (the region holding a point on its
  surface; NULL outside every region), kept by a trigger on ``licence_states``: the charts group
  and filter 10,000 licences by region without 10,000 point-in-polygon probes per request.
* ``procedure_run_facts`` and ``procedure_stage_facts``: the procedure runs' state (a JSON
  document per run) as flat rows, one per run and one per stage, kept by a trigger on
  ``procedure_runs`` (the owner's function: the service writes runs only). The charts of decided
  applications and of stages finished within their deadline read these instead of unpacking
  100,000 JSON documents per request.
* Indexes the report queries filter and group by (issue date, receipt time, closed auctions).

Revision ID: 0022_analytics
Revises: 0021_obligation_reports
"""
import csv
import json
from pathlib import Path

from alembic import op
from sqlalchemy import text

revision = "0022_analytics"
down_revision = "0021_obligation_reports"
branch_labels = None
depends_on = None

REGIONS = Path(__file__).resolve().parents[3] / "layers" / "data" / "regions"

UPGRADE: list[str] = [
    """CREATE TABLE regions (
        code text PRIMARY KEY CHECK (code ~ '^KZ-[0-9]{2}$'),
        name_kk text NOT NULL,
        name_ru text NOT NULL,
        name_en text NOT NULL,
        type text NOT NULL CHECK (type IN ('region', 'city')),
        geom geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom)))""",
    "CREATE INDEX regions_geom ON regions USING gist (geom)",
    """CREATE TABLE region_parts (
        code text NOT NULL REFERENCES regions (code),
        geom geometry(Polygon, 4326) NOT NULL)""",
    "CREATE INDEX region_parts_geom ON region_parts USING gist (geom)",
    """CREATE TABLE licence_state_regions (
        state_id bigint PRIMARY KEY REFERENCES licence_states (id),
        region text REFERENCES regions (code))""",
    "CREATE INDEX licence_state_regions_region ON licence_state_regions (region)",
    """CREATE FUNCTION gs_licence_state_region() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, public, pg_temp AS $$
    BEGIN
        INSERT INTO licence_state_regions (state_id, region)
        VALUES (NEW.id, (SELECT p.code FROM region_parts p WHERE ST_Intersects(p.geom, ST_PointOnSurface(NEW.geom))
                         ORDER BY p.code LIMIT 1))
        ON CONFLICT (state_id) DO UPDATE SET region = EXCLUDED.region;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER licence_states_region AFTER INSERT OR UPDATE OF geom ON licence_states
        FOR EACH ROW EXECUTE FUNCTION gs_licence_state_region()""",
    """CREATE TABLE procedure_run_facts (
        run_id bigint PRIMARY KEY REFERENCES procedure_runs (id),
        authority text,
        mineral text,
        started_at timestamptz NOT NULL,
        outcome text,
        finished_at timestamptz)""",
    "CREATE INDEX procedure_run_facts_finished ON procedure_run_facts (finished_at) WHERE finished_at IS NOT NULL",
    """CREATE TABLE procedure_stage_facts (
        run_id bigint NOT NULL REFERENCES procedure_runs (id),
        step integer NOT NULL,
        authority text,
        mineral text,
        stage text NOT NULL,
        role text NOT NULL,
        started_at timestamptz NOT NULL,
        due timestamptz,
        return_due timestamptz,
        finished_at timestamptz,
        action text,
        PRIMARY KEY (run_id, step))""",
    """CREATE FUNCTION gs_procedure_facts() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, public, pg_temp AS $$
    DECLARE
        m text;
    BEGIN
        SELECT mineral INTO m FROM applications WHERE id = NEW.application_id;
        INSERT INTO procedure_run_facts (run_id, authority, mineral, started_at, outcome, finished_at)
        VALUES (NEW.id, NEW.authority, m, NEW.started_at, NEW.outcome,
                CASE WHEN NEW.status = 'finished' THEN (NEW.state ->> 'finished_at')::timestamptz END)
        ON CONFLICT (run_id) DO UPDATE SET authority = EXCLUDED.authority, outcome = EXCLUDED.outcome,
            finished_at = EXCLUDED.finished_at;
        -- Steps are only ever appended or finished: an upsert per step.
        INSERT INTO procedure_stage_facts (run_id, step, authority, mineral, stage, role, started_at, due, return_due,
                                           finished_at, action)
        SELECT NEW.id, (e.o - 1)::int, NEW.authority, m, e.s ->> 'stage', e.s ->> 'role',
               (e.s ->> 'started_at')::timestamptz, (e.s ->> 'due')::timestamptz, (e.s ->> 'return_due')::timestamptz,
               (e.s ->> 'finished_at')::timestamptz, e.s ->> 'action'
        FROM jsonb_array_elements(NEW.state -> 'steps') WITH ORDINALITY AS e (s, o)
        ON CONFLICT (run_id, step) DO UPDATE SET authority = EXCLUDED.authority, due = EXCLUDED.due,
            return_due = EXCLUDED.return_due, finished_at = EXCLUDED.finished_at, action = EXCLUDED.action;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER procedure_runs_facts AFTER INSERT OR UPDATE OF state, status, outcome, authority
        ON procedure_runs FOR EACH ROW EXECUTE FUNCTION gs_procedure_facts()""",
    # The runs there already.
    "UPDATE procedure_runs SET state = state",
    "CREATE INDEX licence_states_issued ON licence_states (issued_on)",
    "CREATE INDEX applications_received ON applications (received_at)",
    "CREATE INDEX auctions_closed ON auctions (closed_at) WHERE winner IS NOT NULL",
]

INSERT = text("""INSERT INTO regions (code, name_kk, name_ru, name_en, type, geom)
    SELECT :code, :kk, :ru, :en, :type,
           ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON(:geometry), 4326)), 3))""")


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)
    with (REGIONS / "names.csv").open(encoding="utf-8", newline="") as f:
        names = {row["code"]: row for row in csv.DictReader(f)}
    shapes = json.loads((REGIONS / "kazakhstan2023High.json").read_text(encoding="utf-8"))
    bind = op.get_bind()
    for feature in shapes["features"]:
        row = names[feature["properties"]["id"]]
        bind.execute(INSERT, {"code": row["code"], "kk": row["name_kk"], "ru": row["name_ru"], "en": row["name_en"],
                              "type": row["type"], "geometry": json.dumps(feature["geometry"])})
    op.execute("INSERT INTO region_parts (code, geom) SELECT code, ST_Subdivide(geom, 128) FROM regions")
    # The licence states there already (the trigger above needs the regions, so it came first).
    op.execute("INSERT INTO licence_state_regions (state_id, region) SELECT s.id, (SELECT p.code FROM region_parts p "
               "WHERE ST_Intersects(p.geom, ST_PointOnSurface(s.geom)) ORDER BY p.code LIMIT 1) FROM licence_states s")


def downgrade() -> None:
    for statement in ("DROP INDEX IF EXISTS auctions_closed", "DROP INDEX IF EXISTS applications_received",
                      "DROP INDEX IF EXISTS licence_states_issued",
                      "DROP TRIGGER IF EXISTS procedure_runs_facts ON procedure_runs",
                      "DROP FUNCTION IF EXISTS gs_procedure_facts()",
                      "DROP TRIGGER IF EXISTS licence_states_region ON licence_states",
                      "DROP FUNCTION IF EXISTS gs_licence_state_region()", "DROP TABLE IF EXISTS licence_state_regions",
                      "DROP TABLE IF EXISTS procedure_stage_facts",
                      "DROP TABLE IF EXISTS procedure_run_facts", "DROP TABLE IF EXISTS region_parts",
                      "DROP TABLE IF EXISTS regions"):
        op.execute(statement)

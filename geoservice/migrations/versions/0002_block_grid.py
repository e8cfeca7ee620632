"""The national 1'x1' block grid: nomenclature functions in SQL and the ``blocks`` table.

The SQL functions repeat layers/grid.py exactly (tests compare them block for block):

* ``gs_block_code(lon, lat) -> text``      code of the block containing a point (grid-datum degrees)
* ``gs_block_id(code) -> bigint``          ``m_lat * 21600 + m_lon + 10800`` of a code
* ``gs_block_code_from_id(id) -> text``
* ``gs_block_envelope(code) -> geometry``  the block's minute rectangle, Polygon SRID 4326, in
  grid-datum degrees (equal to its true position only when the grid datum is EPSG:4326)
* ``gs_block_geom(code, datum) -> geometry``  the block as stored in ``blocks``: MultiPolygon in
  EPSG:4326, shifted by EPSG:1291 when datum is 'EPSG:4284'
* ``gs_block_list(text) -> setof text``    expand a licence block list, like parse_block_list
* ``gs_block_code_at(m_lon, m_lat)``, ``gs_block_envelope_at(m_lon, m_lat, srid)``: building
  blocks on integer minutes, inlinable, NULL outside the grid, used by layers/grid_build.py.

Invalid codes, ids and points raise SQLSTATE 22023 (invalid_parameter_value).

``blocks`` is filled (and atomically replaced) by ``layers.grid_build.build_grid``; ``cell10``
is the 10' cell written the way a licence lists a whole cell, ``L-43-63-(10а)``.

Revision ID: 0002_block_grid
Revises: 0001_core
"""
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0002_block_grid"
down_revision = "0001_core"
branch_labels = None
depends_on = None

# Pulkovo 1942 pinned to EPSG:1291 (Pulkovo 1942 to WGS 84 (7): dx=15, dy=-130, dz=-84 m, as
# pyproj reports for urn:ogc:def:coordinateOperation:EPSG::1291). A plain 4284 -> 4326
# ST_Transform would let PROJ choose among several Pulkovo transformations.
PULKOVO_SRID = 904284
PULKOVO_PROJ4 = "+proj=longlat +ellps=krass +towgs84=15,-130,-84,0,0,0,0 +no_defs"

HYPHEN = "[-\u2010\u2011\u2212]"
SP = "[ \t\r\f\v]*"   # spaces outside parentheses (a new line there separates items)
NUM = "[0-9]+(?![0-9])"
RANGE = "\\s*(?:\u2013|\u2014|\\.\\.)\\s*"
ITEM_NUM = f"{NUM}(?:{RANGE}{NUM})?"
LETTER = "[^\\s0-9,;()\u2013\u2014.\u2010\u2011\u2212-]"


def _group(o: str) -> str:
    """One 10'-5'-numbers group (``o`` opens the three groups: capturing or not). A number after
    a comma that is followed by a letter starts the next group ("14,15,10а-5в-1"), as in Python."""
    return (f"10\\s*{o}{LETTER})\\s*{HYPHEN}\\s*5\\s*{o}{LETTER})\\s*{HYPHEN}\\s*"
            f"{o}{ITEM_NUM}(?:\\s*,\\s*{ITEM_NUM}(?!\\s*{LETTER}))*)")


def _item(o: str) -> str:
    """A 1:100,000 sheet and its parenthesised groups (capturing: letter, column, sheet, groups)."""
    g = _group("(?:")
    content = f"\\s*{g}(?:\\s*[;,]?\\s*{g})*\\s*[;,]?\\s*"
    return (f"{SP}{o}\\S){SP}{HYPHEN}{SP}{o}[0-9]+){SP}{HYPHEN}{SP}{o}[0-9]+){SP}{HYPHEN}{SP}"
            f"\\({o}{content})\\)")


GROUP = _group("(")
ITEM = _item("(")
LIST = f"^[\\s;,]*(?:{_item('(?:')}(?:{SP}[;,\n][\\s;,]*{_item('(?:')})*)?[\\s;,]*$"


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# Composed from the constants above, never from input.
FUNCTIONS = f"""
-- The *_at functions and gs_minute_index are plain SQL, neither STRICT nor calling anything
-- merely STABLE (hence the explicit ::text casts), so that the planner inlines them.
CREATE FUNCTION gs_block_code_at(m_lon integer, m_lat integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN m_lat >= 0 AND m_lat < 5280 AND m_lon >= -10800 AND m_lon < 10800 THEN
    chr(65 + m_lat / 240) || '-' || ((m_lon + 10800) / 360 + 1)::text || '-'
    || ((239 - m_lat % 240) / 20 * 12 + (m_lon + 10800) % 360 / 30 + 1)::text
    || '-(10' || substr('абвгде', (19 - m_lat % 20) / 10 * 3 + (m_lon + 10800) % 30 / 10 + 1, 1)
    || '-5' || substr('абвг', (9 - m_lat % 10) / 5 * 2 + (m_lon + 10800) % 10 / 5 + 1, 1)
    || '-' || ((4 - m_lat % 5) * 5 + (m_lon + 10800) % 5 + 1)::text || ')'
  END
$$;

CREATE FUNCTION gs_block_envelope_at(m_lon integer, m_lat integer, srid integer DEFAULT 4326)
RETURNS geometry LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ST_MakeEnvelope(m_lon::float8 / 60, m_lat::float8 / 60,
                         (m_lon + 1)::float8 / 60, (m_lat + 1)::float8 / 60, srid)
$$;

-- floor(deg * 60), corrected so that m / 60 <= deg < (m + 1) / 60 in floating point
CREATE FUNCTION gs_minute_index(deg double precision) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (floor(deg * 60) + CASE WHEN (floor(deg * 60) + 1) / 60 <= deg THEN 1
                                 WHEN floor(deg * 60) / 60 > deg THEN -1 ELSE 0 END)::integer
$$;

CREATE FUNCTION gs_block_code(lon double precision, lat double precision) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  code text := gs_block_code_at(gs_minute_index(lon), gs_minute_index(lat));
BEGIN
  IF code IS NULL THEN
    RAISE EXCEPTION 'point (%, %) is outside the block grid (0-88 N)', lon, lat
      USING ERRCODE = '22023';
  END IF;
  RETURN code;
END
$$;

CREATE FUNCTION gs_block_id(code text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  p text[] := regexp_match(code,
    '^\\s*(\\S)\\s*{HYPHEN}\\s*([0-9]+)\\s*{HYPHEN}\\s*([0-9]+)\\s*{HYPHEN}\\s*\\(\\s*10\\s*(\\S)\\s*{HYPHEN}'
    '\\s*5\\s*(\\S)\\s*{HYPHEN}\\s*([0-9]+)\\s*\\)\\s*$');
  band integer; col integer; sheet integer; c10 integer; c5 integer; num integer;
BEGIN
  IF p IS NOT NULL THEN
    band := strpos('ABCDEFGHIJKLMNOPQRSTUV',
                   translate(p[1], 'abcdefghijklmnopqrstuvАВЕКМНОРСТХ', 'ABCDEFGHIJKLMNOPQRSTUVABEKMHOPCTX')) - 1;
    col := least(p[2]::numeric, 1000)::integer;  -- least(): no overflow on absurdly long numbers
    sheet := least(p[3]::numeric, 1000)::integer;
    c10 := strpos('абвгде', translate(p[4], 'ABVGDEabvgdeАБВГДЕ', 'абвгдеабвгдеабвгде')) - 1;
    c5 := strpos('абвг', translate(p[5], 'ABVGDEabvgdeАБВГДЕ', 'абвгдеабвгдеабвгде')) - 1;
    num := least(p[6]::numeric, 1000)::integer;
    IF band >= 0 AND col BETWEEN 1 AND 60 AND sheet BETWEEN 1 AND 144 AND c10 >= 0 AND c5 >= 0
       AND num BETWEEN 1 AND 25 THEN
      -- rows count from the north edge of each enclosing cell, as in layers/grid.py minutes_of
      RETURN (band * 240 + 240 - 20 * ((sheet - 1) / 12) - 10 * (c10 / 3) - 5 * (c5 / 2) - (num - 1) / 5 - 1)::bigint
             * 21600
             + (col - 1) * 360 + 30 * ((sheet - 1) % 12) + 10 * (c10 % 3) + 5 * (c5 % 2) + (num - 1) % 5;
    END IF;
  END IF;
  RAISE EXCEPTION 'invalid block code: %', code USING ERRCODE = '22023',
    HINT = 'a block code looks like L-43-63-(10а-5б-14)';
END
$$;

CREATE FUNCTION gs_block_code_from_id(id bigint) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
  IF id < 0 OR id >= 5280::bigint * 21600 THEN
    RAISE EXCEPTION '% is not a block id', id USING ERRCODE = '22023';
  END IF;
  RETURN gs_block_code_at((id % 21600)::integer - 10800, (id / 21600)::integer);
END
$$;

CREATE FUNCTION gs_block_envelope(code text) RETURNS geometry
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT gs_block_envelope_at((i % 21600)::integer - 10800, (i / 21600)::integer, 4326)
  FROM (SELECT gs_block_id(code) AS i) AS b
$$;

CREATE FUNCTION gs_block_geom(code text, datum text DEFAULT 'EPSG:4326') RETURNS geometry
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  i bigint := gs_block_id(code);
  x integer := (i % 21600)::integer - 10800;
  y integer := (i / 21600)::integer;
BEGIN
  CASE upper(trim(datum))
    WHEN 'EPSG:4326' THEN RETURN ST_Multi(gs_block_envelope_at(x, y, 4326));
    WHEN 'EPSG:4284' THEN RETURN ST_Transform(ST_Multi(gs_block_envelope_at(x, y, {PULKOVO_SRID})), 4326);
    ELSE RAISE EXCEPTION 'grid datum % is not supported', datum USING ERRCODE = '22023';
  END CASE;
END
$$;

-- A licence block list, expanded in order without duplicates; the same language as
-- layers.grid.parse_block_list (which also says which token is wrong).
CREATE FUNCTION gs_block_list(list text) RETURNS SETOF text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  item text[]; grp text[]; part text; bounds text[]; lo integer; hi integer; n integer;
  codes text[] := '{{}}';
BEGIN
  IF list !~ {_sql_literal(LIST)} THEN
    RAISE EXCEPTION 'invalid block list: %', list USING ERRCODE = '22023';
  END IF;
  FOR item IN SELECT regexp_matches(list, {_sql_literal(ITEM)}, 'g') LOOP
    FOR grp IN SELECT regexp_matches(item[4], {_sql_literal(GROUP)}, 'g') LOOP
      FOREACH part IN ARRAY regexp_split_to_array(grp[3], '\\s*,\\s*') LOOP
        bounds := regexp_split_to_array(part, {_sql_literal(RANGE)});
        lo := bounds[1]::integer;
        hi := coalesce(bounds[2], bounds[1])::integer;
        IF lo > hi THEN
          RAISE EXCEPTION 'invalid block list: range % goes backwards', part USING ERRCODE = '22023';
        END IF;
        FOR n IN lo .. hi LOOP
          -- through the id and back: validates every part and spells the code canonically
          codes := codes || gs_block_code_from_id(gs_block_id(
            item[1] || '-' || item[2] || '-' || item[3] || '-(10' || grp[1] || '-5' || grp[2] || '-' || n || ')'));
        END LOOP;
      END LOOP;
    END LOOP;
  END LOOP;
  RETURN QUERY SELECT c FROM unnest(codes) WITH ORDINALITY AS u(c, o) GROUP BY c ORDER BY min(o);
END
$$;

INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text)
VALUES ({PULKOVO_SRID}, NULL, NULL, NULL, '{PULKOVO_PROJ4}')
ON CONFLICT (srid) DO UPDATE SET proj4text = EXCLUDED.proj4text;
"""  # noqa: S608 - built from this module's constants only

DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS gs_block_list(text);
DROP FUNCTION IF EXISTS gs_block_geom(text, text);
DROP FUNCTION IF EXISTS gs_block_envelope(text);
DROP FUNCTION IF EXISTS gs_block_code_from_id(bigint);
DROP FUNCTION IF EXISTS gs_block_id(text);
DROP FUNCTION IF EXISTS gs_block_code(double precision, double precision);
DROP FUNCTION IF EXISTS gs_minute_index(double precision);
DROP FUNCTION IF EXISTS gs_block_envelope_at(integer, integer, integer);
DROP FUNCTION IF EXISTS gs_block_code_at(integer, integer);
"""


def upgrade() -> None:
    op.execute(FUNCTIONS)
    op.create_table(
        "blocks",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        # "C" collation: codes are compared for equality only; bytewise is faster and portable.
        sa.Column("code", sa.Text(collation="C"), nullable=False, unique=True),
        sa.Column("sheet", sa.Text, nullable=False),
        sa.Column("sheet100k", sa.Text, nullable=False),
        sa.Column("cell10", sa.Text, nullable=True),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False),
    )
    op.execute("COMMENT ON TABLE blocks IS 'National 1''x1'' block grid, rebuilt by layers.grid_build'")


def downgrade() -> None:
    op.drop_table("blocks")
    op.execute(DROP_FUNCTIONS)
    op.get_bind().execute(sa.text("DELETE FROM spatial_ref_sys WHERE srid = :srid"), {"srid": PULKOVO_SRID})

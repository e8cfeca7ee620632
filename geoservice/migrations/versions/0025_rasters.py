"""Raster layers (issue 12): versions of uploaded rasters and their sheets, each a Cloud-Optimized
GeoTIFF under the raster store (settings.raster_path), a mosaic per layer.

* ``raster_versions``: one accepted upload of a raster layer (one or more sheets), with who, when,
  the source file and its checksum; like ``layer_versions`` for vector layers.
* ``raster_sheets``: one COG of a version: the sheet's name (the newest version of each sheet
  wins in the mosaic), its path relative to the raster store, the COG's SHA-256, CRS, footprint
  (EPSG:4326, for the index and the mosaic's order), size, bands, data type, nodata and band
  statistics. ``current_raster_sheets``: the sheets the mosaic shows now.

Revision ID: 0025_rasters
Revises: 0024_geo_reports
"""
from alembic import op

revision = "0025_rasters"
down_revision = "0024_geo_reports"
branch_labels = None
depends_on = None

UPGRADE: list[str] = [
    """CREATE TABLE raster_versions (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        layer_id text NOT NULL CHECK (layer_id ~ '^[a-z][a-z0-9-]{0,62}$'),
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        actor text NOT NULL,
        client text,
        source_file text NOT NULL,
        source_format text NOT NULL,
        checksum text NOT NULL,
        sheets integer NOT NULL CHECK (sheets > 0))""",
    "CREATE INDEX raster_versions_layer ON raster_versions (layer_id, id DESC)",
    """CREATE TABLE raster_sheets (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        layer_id text NOT NULL,
        version_id bigint NOT NULL REFERENCES raster_versions (id),
        sheet text NOT NULL CHECK (length(sheet) BETWEEN 1 AND 200),
        path text NOT NULL CHECK (path !~ '(^/|\\.\\.)'),
        checksum text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
        crs text NOT NULL,
        footprint geometry(MultiPolygon, 4326) NOT NULL,
        width integer NOT NULL CHECK (width > 0),
        height integer NOT NULL CHECK (height > 0),
        bands integer NOT NULL CHECK (bands > 0),
        dtype text NOT NULL,
        nodata double precision,
        stats jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL DEFAULT clock_timestamp())""",
    "CREATE INDEX raster_sheets_footprint ON raster_sheets USING gist (footprint)",
    "CREATE INDEX raster_sheets_layer_sheet ON raster_sheets (layer_id, sheet, id DESC)",
    # The mosaic now: per layer and sheet, the newest version's COG.
    """CREATE VIEW current_raster_sheets AS
        SELECT DISTINCT ON (layer_id, sheet) * FROM raster_sheets ORDER BY layer_id, sheet, id DESC""",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in ("DROP VIEW IF EXISTS current_raster_sheets", "DROP TABLE IF EXISTS raster_sheets",
                      "DROP TABLE IF EXISTS raster_versions"):
        op.execute(statement)

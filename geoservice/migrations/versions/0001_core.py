"""Core catalog: layers, their versions, authorities and tokens, the event journal, the national
boundary. Feature data of each layer version lives in its own table in schema ``layer_data``
(created by the layer store, see layers/store.py), so a version is loaded with COPY and indexed
once, and switching versions is a pointer update.

Revision ID: 0001_core
Revises:
"""
import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None

BOUNDARY = Path(__file__).resolve().parents[3] / "layers" / "data" / "kazakhstan_boundary.geojson"


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE SCHEMA IF NOT EXISTS layer_data")
    op.create_table(
        "authorities",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name_kk", sa.Text, nullable=False),
        sa.Column("name_ru", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
    )
    op.create_table(
        "layers",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name_kk", sa.Text, nullable=False),
        sa.Column("name_ru", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("geometry_type", sa.Text, nullable=False),
        sa.Column("current_version_id", sa.BigInteger, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "layer_versions",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("layer_id", sa.Text, sa.ForeignKey("layers.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("table_name", sa.Text, nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("authority", sa.Text, nullable=True),
        sa.Column("token_id", sa.Integer, nullable=True),
        sa.Column("mode", sa.Text, nullable=False),
        sa.Column("based_on", sa.Integer, nullable=True),
        sa.Column("source_file", sa.Text, nullable=True),
        sa.Column("source_format", sa.Text, nullable=True),
        sa.Column("checksum", sa.Text, nullable=True),
        sa.Column("source_crs", sa.Text, nullable=True),
        sa.Column("transformation", sa.Text, nullable=True),
        sa.Column("feature_count", sa.Integer, nullable=False),
        sa.Column("bbox", sa.ARRAY(sa.Float), nullable=True),
        sa.Column("report", JSONB, nullable=False, server_default="{}"),
        sa.UniqueConstraint("layer_id", "version"),
    )
    op.create_foreign_key("layers_current_version_fk", "layers", "layer_versions",
                          ["current_version_id"], ["id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("authority", sa.Text, sa.ForeignKey("authorities.id"), nullable=False),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("label", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    # Event journal: a unique, automatically assigned sequential number per operation, with
    # time (microseconds), initiator and result, as the platform's rules require.
    op.create_table(
        "journal",
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("layer_id", sa.Text, nullable=True),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("detail", JSONB, nullable=False, server_default="{}"),
    )
    op.create_table(
        "country_boundary",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False),
    )
    feature = json.loads(BOUNDARY.read_text())["features"][0]
    op.get_bind().execute(
        sa.text("INSERT INTO country_boundary (id, name, geom) VALUES ('KAZ', :name, "
                "ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326)))"),
        {"name": feature["properties"]["name"], "g": json.dumps(feature["geometry"])},
    )


def downgrade() -> None:
    op.drop_table("country_boundary")
    op.drop_table("journal")
    op.drop_table("api_tokens")
    op.drop_constraint("layers_current_version_fk", "layers")
    op.drop_table("layer_versions")
    op.drop_table("layers")
    op.drop_table("authorities")
    op.execute("DROP SCHEMA IF EXISTS layer_data CASCADE")

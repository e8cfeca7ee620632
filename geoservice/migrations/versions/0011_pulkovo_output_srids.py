"""Pulkovo 1942 Gauss–Krüger zones as spatial_ref_sys rows carrying EPSG:1291's shift, for the
OGC API's output and filter CRSs. PostGIS caches a transformation between SRIDs per session,
but builds one from PROJ strings afresh for every row (ST_Transform(geom, from_proj, to_proj)):
about 3 ms a feature, so a page of 3,600 blocks in EPSG:28414 ran past the statement timeout.
SRID = 900000 + EPSG code (the user range); Pulkovo 1942 itself is 904284 (migration 0002).
layers/datum.py says the same (a test keeps them equal; migrations hold their own copy).

Revision ID: 0011_pulkovo_output_srids
Revises: 0010_documents
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_pulkovo_output_srids"
down_revision = "0010_documents"
branch_labels = None
depends_on = None

SRID_OFFSET = 900000
# Zone n (EPSG 28400 + n): central meridian 6n − 3°, false easting n·10⁶ + 500 000 m.
GAUSS_KRUGER = ("+proj=tmerc +lat_0=0 +lon_0={lon} +k=1 +x_0={x} +y_0=0 +ellps=krass +units=m "
                "+towgs84=15,-130,-84,0,0,0,0 +no_defs")
PROJ4 = {28400 + n: GAUSS_KRUGER.format(lon=6 * n - 3, x=n * 1_000_000 + 500_000) for n in range(8, 16)}


def upgrade() -> None:
    bind = op.get_bind()
    for epsg, proj in PROJ4.items():
        bind.execute(sa.text("DELETE FROM spatial_ref_sys WHERE srid = :srid"), {"srid": SRID_OFFSET + epsg})
        bind.execute(sa.text("INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) "
                             "VALUES (:srid, NULL, NULL, NULL, :proj)"), {"srid": SRID_OFFSET + epsg, "proj": proj})


def downgrade() -> None:
    op.get_bind().execute(sa.text("DELETE FROM spatial_ref_sys WHERE srid = ANY(:srids)"),
                          {"srids": [SRID_OFFSET + e for e in PROJ4]})

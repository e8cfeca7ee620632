"""Apply Alembic migrations and bring the catalog tables in line with layers/catalog.py."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from geoservice.kernel.db import connect, sqlalchemy_url
from layers.catalog import AUTHORITIES, LAYERS

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")


def alembic_config(url: str) -> Config:
    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    command.upgrade(alembic_config(url), "head")
    sync_catalog(url)


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

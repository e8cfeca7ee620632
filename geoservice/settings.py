"""Runtime settings, read once from the environment (prefix ``GEOSERVICE_``; ``DATABASE_URL``,
``HOST`` and ``PORT`` are also read bare because that is what deploy tooling sets)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GEOSERVICE_", extra="ignore")

    # With DATABASE_URL set we use that database and never start a cluster of our own.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "GEOSERVICE_DATABASE_URL")
    )
    var_dir: Path = PROJECT_ROOT / "var"
    pg_port: int = 55432
    pg_database: str = "geoservice"

    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("HOST", "GEOSERVICE_HOST"))
    port: int = Field(default=8000, validation_alias=AliasChoices("PORT", "GEOSERVICE_PORT"))

    # Datum the 1'x1' block grid is drawn in. Licences name blocks by graticule minutes; which
    # datum those minutes are read in is a legal choice, so it is a setting. Blocks are always
    # stored in EPSG:4326; with EPSG:4284 (Pulkovo 1942) block corners are shifted by EPSG:1291.
    grid_datum: str = "EPSG:4326"

    # Upload limits: the raw request, what an archive may unpack to, and how many members.
    max_upload_bytes: int = 200 * 1024 * 1024
    max_unpacked_bytes: int = 1024 * 1024 * 1024
    max_archive_members: int = 2000
    # Uploaded features may stick out of the national boundary by this much (degrees): the
    # shipped boundary is a 1:110m generalisation, off by kilometres along the border.
    boundary_tolerance_deg: float = 0.15

    @property
    def cluster_url(self) -> str:
        return f"postgresql://geoservice@127.0.0.1:{self.pg_port}/{self.pg_database}"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or self.cluster_url


@lru_cache
def get_settings() -> Settings:
    return Settings()

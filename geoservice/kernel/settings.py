"""Runtime settings, read once from the environment (prefix ``GEOSERVICE_``; ``DATABASE_URL``,
``HOST`` and ``PORT`` are also read bare because that is what deploy tooling sets).

A plain dataclass rather than pydantic-settings: ``geoservice import`` starts a process per file,
and its start-up counts against ogr2ogr in bench/import_vs_ogr2ogr.py. The import path loads no
pydantic today; ``import pydantic_settings`` alone costs 160–480 ms here (``python -X importtime``,
5 runs), against ogr2ogr's whole 1.4 s import of 100,000 polygons.

Settings are read once at the edge (``get_settings()`` in the app factory and the CLI) and passed
down: routes get them as a dependency (geoservice/deps.py), domain code as arguments."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from geoservice.kernel.errors import Problem

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Variables read without the GEOSERVICE_ prefix too (the prefixed one wins).
BARE_NAMES = {"database_url": "DATABASE_URL", "host": "HOST", "port": "PORT",
              "eds_online_revocation": "GEOSERVICE_EDS_ONLINE"}  # the short name of the issue


@dataclass(frozen=True)
class Settings:
    # With DATABASE_URL set we use that database and never start a cluster of our own. This is
    # the owner's connection: migrations, the grid, tokens, the demo (see README, "Roles").
    database_url: str | None = None
    # The service (serve, import, layers prune) connects as a role that owns nothing it need not
    # own: APP_DATABASE_URL when given, else DATABASE_URL with the user APP_ROLE and the
    # password APP_PASSWORD. `geoservice db migrate` creates the role and grants what it needs.
    # (APP_DATABASE_URL=$DATABASE_URL runs the service as the owner, as before.)
    app_database_url: str | None = None
    app_role: str = "geoservice_app"
    app_password: str | None = None
    var_dir: Path = PROJECT_ROOT / "var"
    pg_port: int = 55432
    pg_database: str = "geoservice"

    host: str = "127.0.0.1"
    port: int = 8000

    # Datum the 1'x1' block grid is drawn in. Licences name blocks by graticule minutes; which
    # datum those minutes are read in is a legal choice, so it is a setting. Blocks are always
    # stored in EPSG:4326; with EPSG:4284 (Pulkovo 1942) block corners are shifted by EPSG:1291.
    grid_datum: str = "EPSG:4326"

    # Upload limits: the raw request, what an archive may unpack to, and how many members.
    max_upload_bytes: int = 200 * 1024 * 1024
    max_unpacked_bytes: int = 1024 * 1024 * 1024
    max_archive_members: int = 2000
    # Every other route's request body (a restore, a GET that carries one) is refused over this.
    max_body_bytes: int = 64 * 1024
    # Uploaded features may stick out of the national boundary by this much (degrees): the
    # shipped boundary is a 1:110m generalisation, off by kilometres along the border.
    boundary_tolerance_deg: float = 0.15

    # Retention of layer versions: the last KEEP_VERSIONS versions of a layer and every version of
    # the last KEEP_DAYS days keep their data (the current one always); older versions' tables
    # are dropped after each upload and by `geoservice layers prune`, and stay listed as pruned.
    keep_versions: int = 10
    keep_days: float = 30.0

    # Invalid bearer tokens one client address may send within a window (seconds) before every
    # token it sends is answered 429 until the window ends; 0 turns the limit off.
    token_failure_limit: int = 20
    token_failure_window: float = 60.0

    # One request cannot starve everyone (README, "OGC API", limits). Every serving query (OGC
    # items, tiles) is cancelled after STATEMENT_TIMEOUT seconds: a 503 with Retry-After. Queries
    # on a collection of more than EXPENSIVE_ROWS features that no index narrows (unindexed
    # filters, LIKE '%…', CASEI/ACCENTI, long IN lists, large geometries) run at most
    # EXPENSIVE_CONCURRENCY at a time, so that cheap requests keep their connections; one waits
    # at most EXPENSIVE_WAIT seconds for its turn, then gets a 503 with Retry-After.
    statement_timeout: float = 10.0
    expensive_rows: int = 100_000
    expensive_concurrency: int = 2
    expensive_wait: float = 1.0
    # Anonymous callers, per client address: a token bucket of RATE_BURST requests refilled at
    # RATE_LIMIT per second (an expensive query costs RATE_EXPENSIVE_COST of them), then 429 with
    # Retry-After; RATE_LIMIT 0 turns it off. At most RATE_CLIENTS addresses are tracked (the
    # least recently seen are forgotten first). Callers with a valid token are not limited.
    rate_limit: float = 100.0
    rate_burst: int = 400
    rate_expensive_cost: int = 20
    rate_clients: int = 10_000

    # Production: refuse to start when a database URL has no password (GEOSERVICE_PRODUCTION=1,
    # set by docker/compose.yaml).
    production: bool = False
    # Demo data is opt-in: `geoservice demo load` loads nothing unless GEOSERVICE_DEMO=1 (make
    # serve sets it; a production image must never publish the demo as version 1).
    demo: bool = False

    # The cabinet (issue 8): a sign-in session lasts SESSION_HOURS, a challenge nonce must be
    # signed within CHALLENGE_SECONDS, a development sign-in link (demo only) works once within
    # DEMO_LINK_MINUTES.
    session_hours: float = 12.0
    challenge_seconds: float = 300.0
    demo_link_minutes: float = 15.0
    # Where the cabinet's page finds NCALayer (the person's desktop signer); tests point it at a
    # test peer on a free port so that parallel runs never share the fixed 13579.
    ncalayer_url: str = "wss://127.0.0.1:13579/"

    # Optional raster basemap under the public map, an XYZ template such as
    # https://tiles.example/{z}/{x}/{y}.png; none by default (the map draws its own outline).
    basemap_url: str | None = None

    # --- Operations (README "Operations") ------------------------------------------------------
    # What a client is told to wait (Retry-After, seconds) when the database is unreachable.
    retry_after_seconds: int = 5
    # Opening a database connection gives up after this long (seconds): an outage is a quick
    # 503, not a request hanging on a host that does not answer.
    db_connect_timeout: float = 5.0
    # /readyz: the database must answer within this (seconds).
    ready_timeout: float = 2.0
    # Every server process LISTENs for version switches; should that connection drop, it is
    # opened again with backoff up to this pause (seconds). A poll every registry_poll_seconds
    # is the backstop.
    listen_retry_max_seconds: float = 2.0
    registry_poll_seconds: float = 5.0
    # Writers: an upload or restore waits this long for its layer's lock, then gives up (409,
    # "being written by someone else", naming who). A lock holder whose COPY received nothing
    # from its client for writer_stall_seconds (the client was stopped mid-upload) has its
    # session ended by the next writer; 0 never.
    lock_wait_seconds: float = 30.0
    writer_stall_seconds: float = 20.0
    # PostgreSQL ends a session idle inside a transaction (its client stopped between two
    # statements) after this long (seconds), releasing its locks.
    idle_in_transaction_timeout: float = 60.0
    # TCP keepalives on database connections, at both ends: a peer that vanished (host down,
    # network cut) is noticed within idle + interval x count seconds (25 s), not hours.
    tcp_keepalives_idle: int = 10
    tcp_keepalives_interval: int = 5
    tcp_keepalives_count: int = 3
    # HTTP: the request line and headers must arrive within http_header_timeout seconds and stay
    # under http_max_header_bytes; a body gets http_body_timeout seconds of grace, then must
    # keep up at least http_body_min_rate bytes/s on average (a trickling body is cut with 408);
    # an idle kept-alive connection is closed after http_keepalive_timeout. At most
    # http_limit_concurrency connections per process (0: no limit), and max_concurrent_uploads
    # uploads at once per process (more get 503 + Retry-After).
    http_header_timeout: float = 10.0
    http_max_header_bytes: int = 64 * 1024
    http_body_timeout: float = 10.0
    http_body_min_rate: int = 8 * 1024
    http_keepalive_timeout: float = 5.0
    http_limit_concurrency: int = 1000
    max_concurrent_uploads: int = 4
    # Uploads wait in folders here while they are read and stored (default var/spool); what a
    # killed process left is swept when a server process starts.
    spool_dir: str | None = None

    # Signed documents of the cabinet (README, "Signed documents"): the largest document, the
    # largest signature file, and how many signature files one request may carry.
    max_document_bytes: int = 50 * 1024 * 1024
    max_signature_bytes: int = 1024 * 1024
    max_signature_files: int = 8

    # Signature verification (POST /api/signatures/verify): revocation is decided from the CRLs
    # stored with `geoservice eds crl add`; with EDS_ONLINE_REVOCATION (or GEOSERVICE_EDS_ONLINE)
    # also by asking the NCA's OCSP responder and fetching CRLs over HTTP, each request given up
    # after eds_revocation_timeout seconds. Off by default: build machines reach no NCA server.
    eds_online_revocation: bool = False
    eds_revocation_timeout: float = 5.0

    # Electronic auctions (issue 10): the defaults a new lot takes; each lot stores its own figures,
    # so changing a setting never changes a published lot. Fee and deposit are fractions of the
    # starting bonus; a bid in the last `auction_extension_minutes` moves the end by as much.
    auction_fee_ratio: float = 0.01
    auction_deposit_ratio: float = 1.0
    auction_step_ratio: float = 0.05
    auction_duration_minutes: float = 60.0
    auction_extension_minutes: float = 5.0
    # Withdrawn and changed bids (seed 001 journals them); off for ascending auctions.
    auction_bid_changes: bool = False
    # When the winner does not pay: "next-bidder" or "new-auction".
    auction_unpaid_rule: str = "next-bidder"
    auction_unpaid_days: int = 10
    # The live hall: the largest message a client may send, and bids per participant per second.
    auction_max_frame_bytes: int = 16 * 1024
    auction_rate_per_second: float = 5.0
    auction_rate_burst: int = 10
    # The operator's signing key for auction protocols (PKCS#12 or PEM key + certificate); the
    # demo makes one under var/ when unset.
    operator_key_file: str | None = None
    operator_key_password: str | None = None

    # Mail (issue 11, cadastre/outbox.py): messages wait in the outbox table and are sent through
    # SMTP_HOST; none means mail is off (messages still queue, nothing is sent). SMTP_TLS is
    # "starttls", "ssl" (implicit TLS, usually port 465) or "none" (a local sink only).
    # A failed message is tried again after mail_retry_seconds, doubling up to
    # mail_retry_max_seconds, at most mail_max_attempts times in all.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "geoservice@localhost"
    smtp_tls: str = "starttls"
    smtp_timeout: float = 10.0
    mail_max_attempts: int = 8
    mail_retry_seconds: float = 60.0
    mail_retry_max_seconds: float = 3600.0
    # The obligation checker (cadastre/checker.py, geoservice/obligation_watch.py): one server
    # process of a deployment checks every this many seconds, and at once when obligations change;
    # 0 turns the servers' checker off (run `geoservice obligations check` from cron instead).
    checker_interval_seconds: float = 300.0
    # Issue 12: where raster layers' Cloud-Optimized GeoTIFFs are kept (default var/rasters).
    raster_dir: str | None = None
    # A raster upload's file (a GeoTIFF, or the TIFF inside a zip) may be at most raster_max_bytes
    # (over HTTP max_upload_bytes caps it first), and its header may declare at most
    # raster_max_pixels (width x height), checked before any pixel is read: a small compressed
    # file declaring billions of pixels is refused unread.
    raster_max_bytes: int = 1024 * 1024 * 1024
    raster_max_pixels: int = 400_000_000
    # TIFFs in one zip (a series of map sheets in one upload, not an archive of the whole country).
    raster_max_sheets: int = 200

    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def cluster_url(self) -> str:
        return f"postgresql://geoservice@127.0.0.1:{self.pg_port}/{self.pg_database}"

    @property
    def spool_path(self) -> Path:
        return Path(self.spool_dir) if self.spool_dir else self.var_dir / "spool"

    @property
    def raster_path(self) -> Path:
        return Path(self.raster_dir) if self.raster_dir else self.var_dir / "rasters"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or self.cluster_url

    @property
    def service_database_url(self) -> str:
        """Where the service connects: as the service role, not as the owner."""
        if self.app_database_url:
            return self.app_database_url
        if not self.app_role:
            return self.effective_database_url
        return with_user(self.effective_database_url, self.app_role, self.app_password)

    def refuse_unsafe(self) -> None:
        """In production, a database URL without a password is refused (Problem
        ``settings.no_password``): the service must not start on a passwordless database."""
        if not self.production:
            return
        if not self.database_url or url_user(self.database_url)[1] is None:
            raise Problem("settings.no_password", 500, variable="DATABASE_URL")
        if url_user(self.service_database_url)[1] is None:
            variable = "GEOSERVICE_APP_DATABASE_URL" if self.app_database_url else "GEOSERVICE_APP_PASSWORD"
            raise Problem("settings.no_password", 500, variable=variable)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """From ``env`` (default: the process environment, under the checkout's local settings
        file, see ``local_settings``)."""
        env = {**local_settings(os.environ), **os.environ} if env is None else dict(env)
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = env.get(f"GEOSERVICE_{f.name.upper()}")
            if raw is None and f.name in BARE_NAMES:
                raw = env.get(BARE_NAMES[f.name])
            if raw is None or raw == "":
                continue
            parse: Any = (_flag if isinstance(f.default, bool) else Path if isinstance(f.default, Path)
                          else type(f.default) if f.default is not None else str)
            try:
                values[f.name] = parse(raw)
            except ValueError as exc:
                raise ValueError(f"GEOSERVICE_{f.name.upper()}: cannot read {raw!r}") from exc
        return cls(**values)


# The checkout's own settings: `make serve` writes GEOSERVICE_DEMO=1 here, so that the commands a
# newcomer types next (`geoservice demo sign-in IIN`) run with the settings the server runs with.
# GEOSERVICE_LOCAL_SETTINGS names another file ("" for none: the tests); never read in production.
LOCAL_SETTINGS = PROJECT_ROOT / "var" / "local.env"


def local_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """KEY=VALUE lines of the local settings file (``#`` comments); the environment wins over it."""
    if _flag_or_false(environ.get("GEOSERVICE_PRODUCTION")):
        return {}
    named = environ.get("GEOSERVICE_LOCAL_SETTINGS")
    path = LOCAL_SETTINGS if named is None else Path(named) if named else None
    if path is None or not path.is_file():
        return {}
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and not key.startswith("#") and key.strip().startswith("GEOSERVICE_"):
            found[key.strip()] = value.strip()
    return found


def _flag_or_false(raw: str | None) -> bool:
    try:
        return raw is not None and _flag(raw)
    except ValueError:
        return False


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def with_user(url: str, user: str, password: str | None) -> str:
    """``url`` with another user (and password, or none). URL handling only: importing a URL
    library of a driver here would cost the import command's start-up."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return urlunsplit(parts._replace(netloc=f"{auth}@{host}"))


def url_user(url: str) -> tuple[str | None, str | None]:
    """The user and password a database URL names (None when it names none)."""
    parts = urlsplit(url)
    return (unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None)


@lru_cache
def get_settings() -> Settings:
    return Settings.from_env()

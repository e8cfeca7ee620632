"""The ``geoservice`` command."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from geoservice.kernel.settings import get_settings

app = typer.Typer(help="geoservice: PostGIS layer store, OGC API and vector tiles for subsoil use.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="The database: a project-local PostGIS cluster under var/ unless DATABASE_URL is set.",
                     no_args_is_help=True)
grid_app = typer.Typer(help="The national 1'x1' block grid.", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens of uploading authorities.", no_args_is_help=True)
demo_app = typer.Typer(help="The demo data set.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(grid_app, name="grid")
app.add_typer(token_app, name="token")
app.add_typer(demo_app, name="demo")


def _fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


@db_app.command("up")
def db_up() -> None:
    """Create (first time) and start the local PostGIS cluster; create the database."""
    from geoservice import cluster

    typer.echo(cluster.up(get_settings()))


@db_app.command("down")
def db_down() -> None:
    """Stop the local PostGIS cluster."""
    from geoservice import cluster

    typer.echo(cluster.down(get_settings()))


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply schema migrations (Alembic) and sync the layer catalog."""
    from geoservice.migrate import current_revision, migrate

    url = get_settings().effective_database_url
    migrate(url)
    typer.echo(f"database at revision {current_revision(url)}")


@db_app.command("status")
def db_status() -> None:
    """Show cluster state, schema revision and the layers' current versions."""
    from geoservice import cluster
    from geoservice.kernel.db import connect
    from geoservice.migrate import current_revision

    settings = get_settings()
    typer.echo(f"cluster: {cluster.status(settings)}")
    try:
        typer.echo(f"revision: {current_revision(settings.effective_database_url)}")
        with connect(settings.effective_database_url) as conn:
            rows = conn.execute(
                "SELECT l.id, v.version, v.feature_count FROM layers l "
                "LEFT JOIN layer_versions v ON v.id = l.current_version_id ORDER BY l.id").fetchall()
            for layer_id, version, count in rows:
                typer.echo(f"  {layer_id}: " + (f"version {version}, {count} features" if version else "empty"))
            blocks = conn.execute("SELECT to_regclass('public.blocks') IS NOT NULL").fetchone()
            if blocks and blocks[0]:
                n = conn.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = 'public.blocks'::regclass"
                                 ).fetchone()
                typer.echo(f"  blocks: about {max(int(n[0]), 0) if n else 0} blocks")
    except Exception as exc:  # noqa: BLE001 - status must report, not crash
        typer.echo(f"database not reachable: {exc}")


@grid_app.command("build")
def grid_build(
    bbox: Annotated[str | None, typer.Option(help="Only blocks in west,south,east,north (degrees)")] = None,
) -> None:
    """Generate every 1'x1' block covering Kazakhstan (about 1.2 million), with codes."""
    from layers.grid_build import build_grid

    box = tuple(float(v) for v in bbox.split(",")) if bbox else None
    if box is not None and len(box) != 4:
        _fail("--bbox takes west,south,east,north")
    settings = get_settings()
    count = build_grid(settings.effective_database_url, bbox=box, progress=sys.stderr.isatty(),  # type: ignore[arg-type]
                       tolerance_deg=settings.boundary_tolerance_deg, datum=settings.grid_datum)
    typer.echo(f"{count} blocks")


@app.command("import")
def import_layer(
    layer: Annotated[str, typer.Argument(help="Layer id: subsoil-plots, restriction-zones, geological-studies")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The file to load")],
    crs: Annotated[str | None, typer.Option(help="Source CRS if the file has none, e.g. EPSG:28412")] = None,
    encoding: Annotated[str | None, typer.Option(help="Attribute encoding, e.g. cp1251")] = None,
    mode: Annotated[str, typer.Option(help="replace (default) or append")] = "replace",
    mapping: Annotated[str | None, typer.Option(help='Column mapping, JSON {"column": "attribute"}')] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="ATTRIBUTE=VALUE",
        help="A value for every feature where the file has none, e.g. --set kind=settlement (repeatable); "
             "the file's own non-empty values win")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and report; change nothing")] = False,
    lang: Annotated[str, typer.Option(help="Language of messages: en, ru, kk")] = "en",
) -> None:
    """Validate a file and load it as the layer's new version (or report why not)."""
    from geoservice.kernel.errors import Problem
    from geoservice.kernel.i18n import translate
    from importers.pipeline import UploadRequest, run_upload
    from importers.validate import parse_assignments, parse_mapping

    def waiting(key: str, params: dict[str, object]) -> None:
        # Whoever runs the import learns that it waits, and for whom, instead of a silent hang.
        typer.echo(translate(key, lang, **params), err=True)

    try:
        settings = get_settings()
        result = run_upload(UploadRequest(layer_id=layer, path=file, file_name=file.name, crs=crs,
                                          encoding=encoding, mode=mode, dry_run=dry_run,
                                          mapping=parse_mapping(mapping), defaults=parse_assignments(set_),
                                          actor="cli"),
                            settings.effective_database_url, settings, on_wait=waiting)
    except Problem as problem:
        typer.echo(json.dumps(problem.render(lang), ensure_ascii=False, indent=2), err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    # The version is committed and reported: skip tearing down ~100k geometries and their
    # arrays one by one at interpreter exit (a quarter of a second on a large file).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@token_app.command("create")
def token_create(
    authority: Annotated[str, typer.Option(help="Authority id, e.g. operator, solid-minerals, akimat")],
    label: Annotated[str | None, typer.Option(help="A note on who holds the token")] = None,
) -> None:
    """Create a bearer token for an authority; it is shown once, only its hash is stored."""
    from geoservice.kernel.db import connect
    from geoservice.kernel.errors import Problem
    from layers.access import create_token

    try:
        with connect(get_settings().effective_database_url) as conn:
            token_id, token = create_token(conn, authority, label)
            conn.commit()
    except Problem as problem:
        _fail(problem.render("en")["detail"])
    typer.echo(token)
    typer.echo(f"(token #{token_id} for {authority}; store it now, it cannot be shown again)", err=True)


@demo_app.command("load")
def demo_load(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Only when no layer has data yet")] = False,
) -> None:
    """Load the demo data set: the national grid and small authority layers."""
    from importers.demo import load_demo

    settings = get_settings()
    typer.echo(load_demo(settings.effective_database_url, only_if_empty=if_empty, settings=settings))


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Address (default HOST or 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default PORT or 8000)")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    access_log: Annotated[bool, typer.Option(help="Log every request (costs a little per request)")] = False,
) -> None:
    """Serve the HTTP API (timeouts and limits: the GEOSERVICE_HTTP_* settings)."""
    from geoservice import server

    settings = get_settings()
    server.run(settings, host=host or settings.host, port=port or settings.port, workers=workers,
               access_log=access_log)


def main() -> None:
    from geoservice.messages import register_all

    register_all()
    app()


if __name__ == "__main__":
    main()

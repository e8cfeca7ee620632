"""The ``geoservice`` command."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
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
layers_app = typer.Typer(help="The layers' versions.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(layers_app, name="layers")
app.add_typer(grid_app, name="grid")
app.add_typer(token_app, name="token")
app.add_typer(demo_app, name="demo")
registry_app = typer.Typer(help="The state registers (individuals, legal entities) sign-in checks.",
                           no_args_is_help=True)
users_app = typer.Typer(help="People's roles in the cabinet.", no_args_is_help=True)
app.add_typer(registry_app, name="registry")
app.add_typer(users_app, name="users")


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
    """Apply schema migrations (Alembic), sync the layer catalog, and create the service's role
    (GEOSERVICE_APP_ROLE, geoservice_app) with exactly the rights it needs. Run as the owner."""
    from geoservice.kernel.settings import url_user
    from geoservice.migrate import current_revision, migrate

    settings = get_settings()
    url = settings.effective_database_url
    migrate(url)
    typer.echo(f"database at revision {current_revision(url)}; the service connects as "
               f"{url_user(settings.service_database_url)[0]}")


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
    sheet: Annotated[str | None, typer.Option(help="Raster layers: the sheet's name (default: the file's stem)")
                     ] = None,
) -> None:
    """Validate a file and load it as the layer's new version (or report why not)."""
    from geoservice.kernel.errors import Problem
    from geoservice.kernel.i18n import translate
    from importers.pipeline import UploadRequest, run_upload
    from importers.validate import parse_assignments, parse_mapping
    from layers.catalog import RASTER_LAYERS

    if layer in RASTER_LAYERS:  # a GeoTIFF (or zip with world file and .prj): importers/rasters.py
        _import_raster(layer, file, crs=crs, sheet=sheet, dry_run=dry_run, lang=lang)
        return

    def waiting(key: str, params: dict[str, object]) -> None:
        # Whoever runs the import learns that it waits, and for whom, instead of a silent hang.
        typer.echo(translate(key, lang, **params), err=True)

    try:
        settings = get_settings()
        result = run_upload(UploadRequest(layer_id=layer, path=file, file_name=file.name, crs=crs,
                                          encoding=encoding, mode=mode, dry_run=dry_run,
                                          mapping=parse_mapping(mapping), defaults=parse_assignments(set_),
                                          actor="cli"),
                            settings.service_database_url, settings, on_wait=waiting)
    except Problem as problem:
        typer.echo(json.dumps(problem.render(lang), ensure_ascii=False, indent=2), err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    # The version is committed and reported: skip tearing down ~100k geometries and their
    # arrays one by one at interpreter exit (a quarter of a second on a large file).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _import_raster(layer: str, file: Path, *, crs: str | None, sheet: str | None, dry_run: bool, lang: str) -> None:
    from geoservice.kernel.errors import Problem
    from importers.rasters import RasterRequest, run_raster_upload

    settings = get_settings()
    try:
        result = run_raster_upload(RasterRequest(layer_id=layer, path=file, file_name=file.name, crs=crs,
                                                 sheet=sheet, dry_run=dry_run, actor="cli"),
                                   settings.service_database_url, settings)
    except Problem as problem:
        typer.echo(json.dumps(problem.render(lang), ensure_ascii=False, indent=2), err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))


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
            try:
                token_id, token = create_token(conn, authority, label, actor="cli", client="cli")
            finally:
                conn.commit()  # the journal row, of a refusal too
    except Problem as problem:
        _fail(problem.render("en")["detail"])
    typer.echo(token)
    typer.echo(f"(token #{token_id} for {authority}; store it now, it cannot be shown again)", err=True)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="The token's number (see 'token list')")],
) -> None:
    """Revoke a token: every running server refuses it at once (they hear it by NOTIFY)."""
    from geoservice.kernel.db import connect
    from geoservice.kernel.errors import Problem
    from layers.access import revoke_token

    try:
        with connect(get_settings().effective_database_url) as conn:
            try:
                info = revoke_token(conn, token_id, actor="cli", client="cli")
            finally:
                conn.commit()  # the journal row, of a refusal too; NOTIFY is sent at commit
    except Problem as problem:
        _fail(problem.render("en")["detail"])
    typer.echo(f"token #{info.id} ({info.authority}) revoked at {info.revoked_at:%Y-%m-%d %H:%M:%S%z}")


@token_app.command("list")
def token_list() -> None:
    """Every token: number, authority, label, created, revoked, last used (never the token)."""
    from geoservice.kernel.db import connect
    from layers.access import list_tokens

    def when(value: object) -> str:
        return f"{value:%Y-%m-%d %H:%M:%S%z}" if value is not None else "-"

    with connect(get_settings().effective_database_url) as conn:
        tokens = list_tokens(conn)
    rows = [("id", "authority", "label", "created", "revoked", "last used")]
    rows += [(str(t.id), t.authority, t.label or "-", when(t.created_at), when(t.revoked_at), when(t.last_used_at))
             for t in tokens]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


@layers_app.command("prune")
def layers_prune(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be dropped; change nothing")] = False,
    layer: Annotated[str | None, typer.Option(help="Only this layer (default: every layer)")] = None,
) -> None:
    """Drop the data of versions beyond the retention policy: every version but the current one,
    the last GEOSERVICE_KEEP_VERSIONS and those of the last GEOSERVICE_KEEP_DAYS days. They stay
    listed as pruned and can no longer be restored. Raster layers too: versions none of whose
    sheets is shown, their COG files removed unless a version still kept uses them."""
    from geoservice.kernel.db import connect
    from geoservice.kernel.errors import Problem
    from importers.pipeline import resolve_layer
    from layers import raster_versions, store
    from layers.catalog import LAYERS, RASTER_LAYERS

    settings = get_settings()
    policy = store.Retention(settings.keep_versions, settings.keep_days)
    # Raster layers too (issue 12): with --layer only the one named, vector or raster.
    rasters = [RASTER_LAYERS[layer]] if layer in RASTER_LAYERS else [] if layer else list(RASTER_LAYERS.values())
    try:
        if rasters and layer:
            chosen = []
        else:
            chosen = [resolve_layer(layer)] if layer else [lay for lay in LAYERS.values() if lay.uploadable]
    except Problem as problem:
        _fail(problem.render("en")["detail"])
    typer.echo(f"policy: keep the last {policy.keep_versions} versions and those of the last "
               f"{policy.keep_days:g} days{' (dry run)' if dry_run else ''}")
    done = "would be pruned" if dry_run else "pruned"
    with connect(settings.service_database_url) as conn:
        for each in chosen:
            versions = store.prune(conn, each, policy, actor="cli", client="cli", dry_run=dry_run)
            conn.commit()
            if not versions:
                typer.echo(f"{each.id}: nothing to prune")
            for v in versions:
                typer.echo(f"{each.id}: version {v.version} ({v.created_at:%Y-%m-%d}, {v.feature_count} features, "
                           f"table layer_data.{v.table_name}) {done}")
        for raster in rasters:
            # Commits before it removes files (a crash never leaves shown rows without their files).
            pruned = raster_versions.prune(conn, raster, policy, settings.raster_path, actor="cli", client="cli",
                                           dry_run=dry_run)
            conn.commit()
            if not pruned:
                typer.echo(f"{raster.id}: nothing to prune")
            for r in pruned:
                typer.echo(f"{raster.id}: version {r.version} ({r.created_at:%Y-%m-%d}, {r.sheets} sheet(s), "
                           f"{len(r.files)} file(s) under {settings.raster_path}) {done}")


@demo_app.command("load")
def demo_load(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Only when no layer has data yet")] = False,
) -> None:
    """Load the demo data set: the national grid and small authority layers. Only with
    GEOSERVICE_DEMO=1: demo data is opt-in, so a production start never publishes it."""
    from importers.demo import load_demo

    settings = get_settings()
    if not settings.demo:
        typer.echo("demo data is off (set GEOSERVICE_DEMO=1 to load it): nothing loaded")
        return
    typer.echo(load_demo(settings.effective_database_url, only_if_empty=if_empty, settings=settings))
    # The people part (cadastre/demo.py): refreshed every time, whatever the layers hold; the
    # demo CA is made once under var/demo-pki and trusted.
    from cadastre.demo import load_people
    from geoservice.kernel.db import connect

    with connect(settings.effective_database_url) as conn:
        typer.echo(load_people(conn, settings.var_dir / "demo-pki"))
        conn.commit()
    # Licences with obligations (cadastre/demo_licences.py): one overdue, one due in 7 days.
    from cadastre.demo_licences import load_licences

    with connect(settings.effective_database_url) as conn:
        typer.echo(load_licences(conn))
        conn.commit()
    # The demo rasters (importers/demo_rasters.py): a geological map sheet and a magnetic grid,
    # generated now and loaded through the raster upload pipeline (once each).
    from importers.demo_rasters import load_demo_rasters

    typer.echo(load_demo_rasters(settings.effective_database_url, settings))
    # Geological reports (cadastre/geo_reports.py): a public and an official-use one per demo study.
    from cadastre.geo_reports import load_demo_reports

    with connect(settings.effective_database_url) as conn:
        typer.echo(load_demo_reports(conn))
        conn.commit()
    # The demo auction (cadastre/demo_auction.py): a lot starting in a few minutes, unless one is
    # already published or open.
    typer.echo(_demo_auction(5.0, only_if_none=True))


@demo_app.command("sign-in")
def demo_sign_in(
    iin: Annotated[str, typer.Argument(metavar="IIN", help="A person of the register, e.g. 900315300123")],
    bin_: Annotated[str | None, typer.Option("--bin", help="Sign in for this company (its head, or with the "
                                                          "right to sign)")] = None,
) -> None:
    """Print a one-time link that signs the person in to the cabinet without NCALayer. Only with
    GEOSERVICE_DEMO=1 (and the server must run with it too)."""
    from datetime import timedelta

    from cadastre.accounts import create_demo_link
    from cadastre.registers import TableRegisters
    from geoservice.kernel.db import connect
    from geoservice.kernel.errors import Problem
    from geoservice.kernel.i18n import translate

    settings = get_settings()
    if not settings.demo:
        _fail(translate("signin.demo_off", "en"))
    try:
        with connect(settings.effective_database_url) as conn:
            token = create_demo_link(conn, TableRegisters(conn), iin, bin_,
                                     lifetime=timedelta(minutes=settings.demo_link_minutes))
            conn.commit()
    except Problem as problem:
        _fail(problem.render("en")["detail"])
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104
    typer.echo(f"http://{host}:{settings.port}/cabinet/demo-sign-in?token={token}")
    typer.echo(f"(works once, within {settings.demo_link_minutes:g} minutes)", err=True)


@registry_app.command("load")
def registry_load(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                         help="CSV: type,id,name,head_iin,status,tax_debt")],
    lang: Annotated[str, typer.Option(help="Language of messages: en, ru, kk")] = "en",
) -> None:
    """Replace the state register with a CSV file (type individual|legal-entity, id = IIN/BIN,
    name, head_iin for companies, status active|liquidated, tax_debt true|false): all rows, or
    none when any row is at fault (each fault named by line and column)."""
    from cadastre.registers import load_register
    from geoservice.kernel.db import connect
    from geoservice.kernel.errors import Problem

    try:
        with connect(get_settings().effective_database_url) as conn:
            try:
                counts = load_register(conn, file.read_bytes(), file.name)
            finally:
                conn.commit()  # the rows, or the journal row of the refusal
    except Problem as problem:
        typer.echo(json.dumps(problem.render(lang), ensure_ascii=False, indent=2), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"register loaded: {counts['individual']} individuals, {counts['legal-entity']} legal entities")


@users_app.command("grant")
def users_grant(
    iin: Annotated[str, typer.Argument(metavar="IIN")],
    role: Annotated[str, typer.Argument(metavar="ROLE", help="applicant, officer, commission, admin, auditor")],
    authority: Annotated[str | None, typer.Option(help="The officer's authority, e.g. solid-minerals")] = None,
) -> None:
    """Grant a role; signed-in sessions of the person get it at once."""
    _users_change("grant", iin, role, authority)


@users_app.command("revoke")
def users_revoke(
    iin: Annotated[str, typer.Argument(metavar="IIN")],
    role: Annotated[str, typer.Argument(metavar="ROLE")],
    authority: Annotated[str | None, typer.Option(help="Only the officer role of this authority")] = None,
) -> None:
    """Take a role back; signed-in sessions of the person lose it at once."""
    _users_change("revoke", iin, role, authority)


def _users_change(action: str, iin: str, role: str, authority: str | None) -> None:
    from cadastre.accounts import grant_role, revoke_role
    from geoservice.kernel.db import connect
    from geoservice.kernel.errors import Problem

    change = grant_role if action == "grant" else revoke_role
    try:
        with connect(get_settings().effective_database_url) as conn:
            try:
                changed = change(conn, iin, role, authority)
            finally:
                conn.commit()
    except Problem as problem:
        _fail(problem.render("en")["detail"])
    what = f"{role}" + (f" ({authority})" if authority else "")
    if action == "grant":
        typer.echo(f"IIN {iin.strip()}: {what} granted" if changed else f"IIN {iin.strip()} already holds {what}")
    else:
        typer.echo(f"IIN {iin.strip()}: {what} revoked" if changed else f"IIN {iin.strip()} does not hold {what}")


@users_app.command("list")
def users_list() -> None:
    """Every role granted: IIN, name (from the register), role, authority, since when."""
    from cadastre.accounts import list_grants
    from geoservice.kernel.db import connect

    with connect(get_settings().effective_database_url) as conn:
        grants = list_grants(conn)
    rows = [("iin", "name", "role", "authority", "granted")]
    rows += [(g.iin, g.name or "-", g.role, g.authority or "-", f"{g.granted_at:%Y-%m-%d %H:%M:%S%z}") for g in grants]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Address (default HOST or 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default PORT or 8000)")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    access_log: Annotated[bool, typer.Option(help="Log every request (costs a little per request)")] = False,
) -> None:
    """Serve the HTTP API (as the service's role, see README "Roles"; timeouts and limits: the
    GEOSERVICE_HTTP_* settings)."""
    from geoservice import server
    from geoservice.kernel.errors import Problem

    settings = get_settings()
    try:
        settings.refuse_unsafe()
    except Problem as problem:
        _fail(problem.render("en")["detail"])
    server.run(settings, host=host or settings.host, port=port or settings.port, workers=workers,
               access_log=access_log)


# --- electronic signatures: trusted CAs and CRLs (issue 8) ----------------------------------------
eds_app = typer.Typer(help="Electronic digital signatures: the trusted NCA certificates and CRLs.",
                      no_args_is_help=True)
eds_trust_app = typer.Typer(help="Trusted certification authorities.", no_args_is_help=True)
eds_crl_app = typer.Typer(help="Certificate revocation lists.", no_args_is_help=True)
app.add_typer(eds_app, name="eds")
eds_app.add_typer(eds_trust_app, name="trust")
eds_app.add_typer(eds_crl_app, name="crl")


def _eds_add(kind: str, file: Path) -> None:
    from cadastre import eds_trust
    from geoservice.kernel.db import connect
    from geoservice.kernel.errors import Problem

    try:
        with connect(get_settings().effective_database_url) as conn:
            try:
                if kind == "certificate":
                    ca = eds_trust.add_certificate(conn, file.read_bytes(), actor="cli", client="cli")
                    typer.echo(f"{'added' if ca.added else 'already trusted'}: {ca.subject} "
                               f"({'root' if ca.is_root else 'intermediate'}, valid {ca.not_before:%Y-%m-%d} to "
                               f"{ca.not_after:%Y-%m-%d}, SHA-256 {ca.fingerprint})")
                else:
                    crl = eds_trust.add_crl(conn, file.read_bytes(), actor="cli", client="cli")
                    nxt = f"{crl.next_update:%Y-%m-%d %H:%M%z}" if crl.next_update else "-"
                    typer.echo(f"{'added' if crl.added else 'already stored'}: CRL of {crl.issuer}, "
                               f"{crl.entries} revoked, this update {crl.this_update:%Y-%m-%d %H:%M%z}, "
                               f"next update {nxt}")
            finally:
                conn.commit()  # the journal row, of a refusal too
    except Problem as problem:
        _fail(problem.render("en")["detail"])


@eds_trust_app.command("add")
def eds_trust_add(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A CA certificate, DER or PEM")],
) -> None:
    """Trust a certification authority's certificate (a root or an intermediate): signatures must
    chain to a trusted one. Certificates without the CA flag are refused."""
    _eds_add("certificate", file)


@eds_crl_app.command("add")
def eds_crl_add(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A CRL, DER or PEM")],
) -> None:
    """Store a certificate revocation list; its signature must check out against a trusted CA."""
    _eds_add("crl", file)


@eds_trust_app.command("list")
def eds_trust_list() -> None:
    """Every trusted CA (subject, SHA-256 fingerprint, validity, root or intermediate) and every
    stored CRL with its next update."""
    from cadastre import eds_trust
    from geoservice.kernel.db import connect

    with connect(get_settings().effective_database_url) as conn:
        cas, crls = eds_trust.list_trust(conn)
    typer.echo(f"trusted certification authorities: {len(cas)}")
    for ca in cas:
        typer.echo(f"  {ca.subject}\n    {'root' if ca.is_root else 'intermediate'}, valid "
                   f"{ca.not_before:%Y-%m-%d} to {ca.not_after:%Y-%m-%d}, SHA-256 {ca.fingerprint}")
    typer.echo(f"CRLs: {len(crls)}")
    for crl in crls:
        nxt = f"{crl.next_update:%Y-%m-%d %H:%M%z}" if crl.next_update else "-"
        typer.echo(f"  {crl.issuer}\n    this update {crl.this_update:%Y-%m-%d %H:%M%z}, next update {nxt}, "
                   f"SHA-256 {crl.fingerprint}")
journal_app = typer.Typer(help="The platform journal: numbered, hash-chained, append-only.", no_args_is_help=True)
app.add_typer(journal_app, name="journal")


@journal_app.command("verify")
def journal_verify() -> None:
    """Recompute the journal's SHA-256 chain from its first row to its head and name the first
    broken row number (a changed, deleted or smuggled-in row). Exit status 1 when broken."""
    from geoservice.kernel.db import connect
    from geoservice.kernel.i18n import translate
    from layers.journal import verify_chain

    with connect(get_settings().effective_database_url) as conn:
        report = verify_chain(conn)  # seals what is committed first
    if report.pending:
        typer.echo(translate("journal.pending", "en", count=report.pending))
    if report.ok:
        typer.echo(f"OK: {report.text('en')}")
        return
    _fail(f"BROKEN at row {report.first_broken_seq} ({report.rows} rows checked): {report.text('en')}")


def _seal_journal() -> None:
    """A command that journaled seals its rows into the chain before the process ends (a running
    server's sealer would, within a second; without one they would wait for the next reader)."""
    journal_module = sys.modules.get("layers.journal")
    if journal_module is None or not journal_module.written():
        return
    import psycopg

    from geoservice.kernel.db import connect
    from geoservice.kernel.i18n import translate

    try:
        with connect(get_settings().effective_database_url) as conn:
            journal_module.seal(conn)
    except psycopg.Error as exc:
        typer.echo(translate("journal.seal_failed", "en", reason=str(exc).strip()[:200]), err=True)


def main() -> None:
    from geoservice.messages import register_all

    register_all()
    try:
        app()
    finally:
        _seal_journal()



# --- procedures and working days (issue 9) --------------------------------------------------------
procedures_app = typer.Typer(help="Procedures as data: stages, roles, deadlines, actions.", no_args_is_help=True)
holidays_app = typer.Typer(help="Kazakhstan's public holidays and transferred days (working days).",
                           no_args_is_help=True)
app.add_typer(procedures_app, name="procedures")
app.add_typer(holidays_app, name="holidays")


@procedures_app.command("list")
def procedures_list(
    lang: Annotated[str, typer.Option(help="Language of the names: en, ru, kk")] = "en",
) -> None:
    """Every declared procedure (cadastre/procedures.toml) with its stages in order: the acting
    role, the deadline and the allowed actions."""
    from cadastre.procedures import procedures

    for p in procedures().values():
        typer.echo(f"{p.id}: {p.names.get(lang, p.names['en'])}  [{p.source}]")
        for i, s in enumerate((*p.stages, p.revision), 1):
            due = s.deadline.text() if s.deadline else f"no deadline ({s.no_deadline})"
            if s.return_deadline:
                due += f"; return within {s.return_deadline.text()}"
            num = f"{i}." if s.id != "revision" else "-"
            typer.echo(f"  {num:3} {s.id} ({s.role}): {s.names.get(lang, s.names['en'])}; {due}; "
                       f"actions: {', '.join(s.actions)}")


@holidays_app.command("list")
def holidays_list(
    year: Annotated[int | None, typer.Option(help="Only this year")] = None,
    lang: Annotated[str, typer.Option(help="Language of the names: en, ru, kk")] = "en",
) -> None:
    """Every date that is not an ordinary working day or weekend: holidays, moved days off,
    weekend days made working."""
    from cadastre.calendar import load_calendar
    from geoservice.kernel.db import connect

    with connect(get_settings().effective_database_url) as conn:
        calendar = load_calendar(conn)
    typer.echo(f"years covered: {', '.join(str(y) for y in sorted(calendar.years)) or '-'}")
    for day in sorted(calendar.days.values(), key=lambda d: d.day):
        if year is None or day.day.year == year:
            typer.echo(f"{day.day:%Y-%m-%d} {day.day:%a}  {day.kind:11}  {day.names.get(lang, day.names['en'])}")


@holidays_app.command("add")
def holidays_add(
    day: Annotated[str, typer.Argument(metavar="DATE", help="YYYY-MM-DD")],
    name: Annotated[str, typer.Argument(metavar="NAME", help="The name in English")],
    name_ru: Annotated[str | None, typer.Option(help="The name in Russian (default: NAME)")] = None,
    name_kk: Annotated[str | None, typer.Option(help="The name in Kazakh (default: NAME)")] = None,
    kind: Annotated[str, typer.Option(help="holiday, day_off (a weekday off by transfer), working_day "
                                           "(a weekend day worked by transfer)")] = "holiday",
    basis: Annotated[str | None, typer.Option(help="The decree or law")] = None,
    move: Annotated[bool, typer.Option(help="A public holiday on a weekend: also make the next working day "
                                            "a day off (not for religious days off)")] = True,
) -> None:
    """Add a day to the calendar the deadlines count on."""
    import datetime as dt

    from cadastre.calendar import add_holiday, load_calendar, weekend_transfer
    from geoservice.kernel.db import connect
    from geoservice.kernel.errors import Problem

    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        _fail(f"not a date (YYYY-MM-DD): {day}")
    names = {"en": name, "ru": name_ru or name, "kk": name_kk or name}
    try:
        with connect(get_settings().effective_database_url) as conn:
            add_holiday(conn, date, names, kind=kind, basis=basis)
            typer.echo(f"added: {date} {kind} {name}")
            moved = weekend_transfer(load_calendar(conn), date) if kind == "holiday" and move else None
            if moved is not None:
                add_holiday(conn, moved, {k: f"{v} ({date})" for k, v in names.items()}, kind="day_off",
                            moved_from=date, basis=basis)
                typer.echo(f"added: {moved} day_off (moved from {date}, a weekend)")
            conn.commit()
    except Problem as problem:
        _fail(problem.render("en")["detail"])




# --- the licence registry (issue 9) ---------------------------------------------------------------
licences_app = typer.Typer(help="The licence registry (open to everyone).", no_args_is_help=True)
app.add_typer(licences_app, name="licences")


@licences_app.command("import")
def licences_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=(
        "CSV: number, holder_iin or holder_bin, holder_name, kind, mineral, blocks (a list such as "
        "L-43-63-(10а-5б-14,15)) or wkt, issued_on, term_until, status"))],
    lang: Annotated[str, typer.Option(help="Language of messages: en, ru, kk")] = "en",
) -> None:
    """Add the licences of the existing registry: every row, or none when any row is at fault
    (each fault named by row and column). Journaled; the map shows them once committed."""
    from cadastre.licences import import_licences
    from geoservice.kernel.db import connect
    from geoservice.kernel.errors import Problem

    settings = get_settings()
    try:
        with connect(settings.effective_database_url) as conn:
            try:
                count = import_licences(conn, file.read_bytes(), file.name, datum=settings.grid_datum)
            finally:
                conn.commit()  # the licences, or the journal row of the refusal
    except Problem as problem:
        typer.echo(json.dumps(problem.render(lang), ensure_ascii=False, indent=2), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"licences imported: {count}")


# --- auctions: payments and the demo lot (issue 10) -----------------------------------------------
payments_app = typer.Typer(help="Auction payments: the table-backed payments adapter.", no_args_is_help=True)
app.add_typer(payments_app, name="payments")


@payments_app.command("confirm")
def payments_confirm(
    lot: Annotated[str, typer.Argument(metavar="LOT", help="The auction's number (AUC-2026-0001) or id")],
    payer: Annotated[str, typer.Argument(metavar="IIN|BIN", help="Who paid: twelve digits")],
    purpose: Annotated[str, typer.Option("--purpose", help="fee, deposit or both")] = "both",
    reference: Annotated[str | None, typer.Option("--reference", help="The payment's reference")] = None,
) -> None:
    """Record the participation fee and/or the guarantee deposit of a lot as paid (the lot's
    amounts); a registered participant who is eligible and has paid both is admitted. Journaled."""
    from cadastre.auctions import confirm_payment
    from cadastre.payments import TablePayments
    from cadastre.registers import TableRegisters
    from geoservice.kernel.db import connect
    from geoservice.kernel.errors import Problem
    from geoservice.kernel.i18n import translate

    purposes = {"fee": ["fee"], "deposit": ["deposit"], "both": ["fee", "deposit"]}.get(purpose)
    if purposes is None:
        _fail(translate("auctions.bad_field", "en", field="--purpose"), 2)
    settings = get_settings()
    try:
        with connect(settings.effective_database_url) as conn:
            done = confirm_payment(conn, lot, payer, purposes or [], payments=TablePayments(conn),
                                   registers=TableRegisters(conn), actor="cli", reference=reference, client="cli")
            conn.commit()
    except Problem as problem:
        _fail(problem.render("en")["detail"])
    typer.echo(translate("auctions.payments_confirmed", "en", auction=done["auction"], payer=payer,
                         confirmed=", ".join(done["confirmed"]) or "-", status=done["participant_status"] or "-"))


def _demo_auction(minutes: float, *, only_if_none: bool) -> str:
    from datetime import timedelta

    from cadastre.auctions import Defaults
    from cadastre.demo_auction import make_demo_auction
    from geoservice.kernel import clock
    from geoservice.kernel.db import connect

    settings = get_settings()
    with connect(settings.effective_database_url) as conn:
        text = make_demo_auction(conn, settings.var_dir / "demo-pki", defaults=Defaults.from_settings(settings),
                                 now=clock.now(), starts_in=timedelta(minutes=minutes),
                                 grid_datum=settings.grid_datum, only_if_none=only_if_none)
        if not settings.operator_key_file:  # the server signs protocols as the demo operator
            from cadastre.demo_auction import trust_operator

            text += "\n" + trust_operator(conn, settings.var_dir / "operator")
        conn.commit()
    return text


@demo_app.command("auction")
def demo_auction(
    minutes: Annotated[float, typer.Option("--minutes", help="Start in this many minutes")] = 5.0,
) -> None:
    """A fresh demo lot starting in N minutes, with two demo bidders registered and paid (only
    with GEOSERVICE_DEMO=1; after `geoservice demo load`)."""
    if not get_settings().demo:
        typer.echo("demo data is off (set GEOSERVICE_DEMO=1 to load it): nothing made")
        return
    typer.echo(_demo_auction(minutes, only_if_none=False))


# --- commissions (issue 9, seed 004) ---------------------------------------------------------------
commission_app = typer.Typer(help="Commissions that vote at procedure stages: who sits in which seat.",
                             no_args_is_help=True)
app.add_typer(commission_app, name="commission")


@commission_app.command("add")
def commission_add(
    commission: Annotated[str, typer.Argument(metavar="COMMISSION", help="As a procedure names it, e.g. "
                                                                         "recognition")],
    iin: Annotated[str, typer.Argument(metavar="IIN")],
    seat: Annotated[str, typer.Option(help="chair, deputy_chair or member")] = "member",
) -> None:
    """Seat a person on a commission (or move them to another seat). Journaled."""
    _commission_change(commission, iin, seat)


@commission_app.command("remove")
def commission_remove(
    commission: Annotated[str, typer.Argument(metavar="COMMISSION")],
    iin: Annotated[str, typer.Argument(metavar="IIN")],
) -> None:
    """Take a person off a commission. Journaled."""
    _commission_change(commission, iin, None)


def _commission_change(commission: str, iin: str, seat: str | None) -> None:
    from cadastre.commission import add_member, remove_member
    from geoservice.kernel.db import connect
    from geoservice.kernel.errors import Problem

    try:
        with connect(get_settings().effective_database_url) as conn:
            try:
                if seat is None:
                    changed = remove_member(conn, commission, iin)
                else:
                    changed = add_member(conn, commission, iin, seat)
            finally:
                conn.commit()  # the change, or the journal row
    except Problem as problem:
        _fail(problem.render("en")["detail"])
    if seat is None:
        typer.echo(f"IIN {iin.strip()} removed from {commission}" if changed
                   else f"IIN {iin.strip()} is not on {commission}")
    else:
        typer.echo(f"IIN {iin.strip()}: {seat} of {commission}" if changed
                   else f"IIN {iin.strip()} already sits on {commission} as {seat}")


@commission_app.command("list")
def commission_list() -> None:
    """Every commission the procedures name, with its members and their seats."""
    from cadastre.commission import declared, roster
    from geoservice.kernel.db import connect

    with connect(get_settings().effective_database_url) as conn:
        for name in declared():
            seats = roster(conn, name)
            typer.echo(f"{name}: {len(seats.seats)} members")
            for iin in seats.members:
                typer.echo(f"  {iin}  {seats.seats[iin]}")


# --- auction protocols (issue 10) -----------------------------------------------------------------
auction_app = typer.Typer(help="Electronic auctions: the protocol and its verification.", no_args_is_help=True)
app.add_typer(auction_app, name="auction")


def _user_language() -> str:
    """kk or ru from the locale (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), else en."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")[:2].lower()
        if value in ("kk", "ru", "en"):
            return value
    return "en"


@auction_app.command("verify")
def auction_verify(
    ref: Annotated[str, typer.Argument(metavar="ID|NUMBER", help="The auction's id or number (AUC-YYYY-NNNN)")],
    lang: Annotated[str | None, typer.Option(help="Language of the report: kk, ru, en (default: the locale's)")]
    = None,
) -> None:
    """Recompute the auction's protocol from its journal and compare it with the stored protocol,
    its SHA-256 and documents; check the operator's signature (the operator CA must be trusted:
    `geoservice eds trust add`, its CRL `geoservice eds crl add`) and the journal's chain. Exit
    status 0 when all agree, 1 with every reason otherwise."""
    from cadastre.auction_protocol import resolve, verify
    from geoservice.kernel.db import connect
    from geoservice.kernel.errors import Problem
    from geoservice.kernel.i18n import translate

    language = lang if lang in ("kk", "ru", "en") else _user_language()
    try:
        with connect(get_settings().effective_database_url) as conn:
            report = verify(conn, resolve(conn, ref))
    except Problem as problem:
        _fail(problem.render(language)["detail"], 2)
    name = report.number or str(report.auction_id)
    if report.ok:
        typer.echo(translate("protocol.verified", language, auction=name, sha256=report.sha256,
                             last_seq=report.last_seq))
        return
    lines = [translate("protocol.broken", language, auction=name, count=len(report.problems))]
    lines += [f"  - {translate(p['code'], language, **p['params'])}" for p in report.problems]
    _fail("\n".join(lines))


mail_app = typer.Typer(help="Mail: the local SMTP sink of the demo.", no_args_is_help=True)
app.add_typer(mail_app, name="mail")


@mail_app.command("sink")
def mail_sink(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1")] = 8025,
    folder: Annotated[Path | None, typer.Option(help="Maildir to keep the messages in (default var/mail)")] = None,
) -> None:
    """Run a local SMTP server that keeps every message in a Maildir (the demo's mail: `make
    serve` starts it and points GEOSERVICE_SMTP_HOST at it). It delivers nothing onwards."""
    from geoservice.mail_sink import serve

    target = folder or get_settings().var_dir / "mail"
    typer.echo(f"SMTP sink on 127.0.0.1:{port}, keeping mail in {target}")
    serve(target, port=port)


@mail_app.command("list")
def mail_list(
    folder: Annotated[Path | None, typer.Option(help="The sink's Maildir (default var/mail)")] = None,
    show: Annotated[int, typer.Option(help="Print the bodies of the last N messages")] = 0,
) -> None:
    """The messages the local SMTP sink received: time, recipient, subject."""
    from geoservice.mail_sink import received

    messages = received(folder or get_settings().var_dir / "mail")
    for m in messages:
        typer.echo(f"{m['Date']}  {m['To']}  {m['Subject']}")
    for m in messages[-show:] if show else []:
        body = m.get_body(preferencelist=("plain",))
        typer.echo(f"\n--- {m['To']}: {m['Subject']}\n{body.get_content() if body else ''}")
    typer.echo(f"{len(messages)} message(s)")
# --- the obligation checker (issue 11) -------------------------------------------------------------
obligations_app = typer.Typer(help="Licences' obligations: the checker of deadlines and deviations.",
                              no_args_is_help=True)
app.add_typer(obligations_app, name="obligations")


@obligations_app.command("check")
def obligations_check(
    day: Annotated[datetime | None, typer.Option("--day", formats=["%Y-%m-%d"],
                                                 help="The day to check as (default: today in Kazakhstan)")] = None,
) -> None:
    """Run the obligation checker once (warnings of coming deadlines, overdue obligations,
    deviations of reports), notify each new finding once, then send the mail that is due through
    SMTP_HOST. Safe beside running servers: a finding is notified once whoever finds it."""
    from geoservice.kernel.db import Database
    from geoservice.obligation_watch import check_and_deliver

    settings = get_settings()
    counts = check_and_deliver(Database(settings.effective_database_url), settings, trigger="cli",
                               day=day.date() if day else None)
    typer.echo(json.dumps(counts))



# --- geological reports (issue 12) ------------------------------------------------------------------
geoinfo_app = typer.Typer(help="Geological information: reports of geological studies.", no_args_is_help=True)
app.add_typer(geoinfo_app, name="geoinfo")


@geoinfo_app.command("add-report")
def geoinfo_add_report(
    study: Annotated[str, typer.Option("--study", help="The study's id (geological-studies study_id)")],
    inventory: Annotated[str, typer.Option("--inventory", help="The report's inventory number (unique)")],
    title: Annotated[str, typer.Option("--title", help="The title in its original language")],
    access_level: Annotated[str, typer.Option("--access-level", help="public | official-use | confidential")],
    authority: Annotated[str, typer.Option("--authority", help="The owning authority")] = "operator",
    author: Annotated[list[str] | None, typer.Option("--author", help="An author (repeat)")] = None,
    organisation: Annotated[str | None, typer.Option("--organisation")] = None,
    year: Annotated[int | None, typer.Option("--year")] = None,
    mineral: Annotated[list[str] | None, typer.Option("--mineral", help="A mineral code (repeat)")] = None,
    title_lang: Annotated[str | None, typer.Option("--title-lang", help="kk | ru | en")] = None,
    file: Annotated[list[Path] | None, typer.Option("--file", help="A file of the report (repeat)")] = None,
    lang: Annotated[str, typer.Option(help="Language of messages: en, ru, kk")] = "en",
) -> None:
    """Add a report to a geological study, with its files (stored in the document store)."""
    from cadastre import geo_reports as gr
    from geoservice.kernel.db import connect
    from geoservice.kernel.errors import Problem
    from layers.catalog import GEOLOGICAL_STUDIES, can_write

    settings = get_settings()
    try:
        with connect(settings.effective_database_url) as conn:
            if not can_write(authority, GEOLOGICAL_STUDIES):
                raise Problem("geoinfo.forbidden_write", 403, authority=authority)
            report = gr.add_report(conn, gr.NewReport(
                study_key=study, inventory=inventory, title=title, access_level=access_level, authors=author or [],
                organisation=organisation, year=year, minerals=mineral or [], title_lang=title_lang),
                authority=authority, actor="cli", client="cli")
            for path in file or []:
                gr.add_file(conn, report, path.name, path.read_bytes(), actor="cli", client="cli")
            conn.commit()
    except Problem as problem:
        typer.echo(json.dumps(problem.render(lang), ensure_ascii=False, indent=2), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"report {report.inventory} added to study {report.study_key} ({report.access_level}), "
               f"{len(file or [])} file(s)")


if __name__ == "__main__":  # last: `python -m geoservice.cli` sees every command
    main()

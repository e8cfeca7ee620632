"""Applicants for the e-application tests and bench/fcfs_race.py: open programme areas
(subsoil-plots features of kind fund-area), people in the register with signing certificates of
the demo PKI and real accounts, and signed application bodies."""

from __future__ import annotations

import base64
import json
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import rfc8785
from psycopg import sql

from cadastre import accounts
from cadastre.demo import load_people
from cadastre.eds.pki import DemoPki, Identity, Issued, demo_pki, sign_cms
from cadastre.registers import TableRegisters
from geoservice.kernel.db import with_database
from layers.access import Person
from layers.grid import code_at

# Two areas over central Kazakhstan, 30' x 30' (900 blocks each), whole minutes.
FCFS_AREA = ("TEST-FCFS", 70 * 60, 48 * 60)      # opened 90 days ago: strictly by receipt
WINDOW_AREA = ("TEST-WINDOW", 71 * 60, 48 * 60)  # opened 5 days ago: the one-month window
AREA_MINUTES = 30


# The exploration licence's stages, in order, with the action that moves each on
# (cadastre/procedures.toml).
APPROVAL = [("register", "forward"), ("assign_department", "forward"), ("assign_executor", "forward"),
            ("check", "accept"), ("prepare", "forward"), ("approve", "approve"), ("sign", "sign"),
            ("send", "forward")]


@contextmanager
def programme_database(database_url: str, prefix: str) -> Iterator[str]:
    """A migrated database of the module's own, with the programme's open areas (``open_areas``):
    a module that adds programme areas to subsoil-plots must not change what other modules on the
    worker count. Dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = with_database(database_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(database_url, name)
    try:
        from geoservice.migrate import migrate

        migrate(url)
        open_areas(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def area_feature(plot_id: str, m_lon: int, m_lat: int, opened: date) -> dict[str, Any]:
    lon, lat, size = m_lon / 60, m_lat / 60, AREA_MINUTES / 60
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"plot_id": plot_id, "name": plot_id, "kind": "fund-area", "status": "open",
                           "valid_from": opened.isoformat()}}


def open_areas(database_url: str, today: date | None = None) -> None:
    """Upload the two programme areas (appended to subsoil-plots)."""
    from importers.pipeline import UploadRequest, run_upload

    today = today or date.today()
    features = [area_feature(*FCFS_AREA, today - timedelta(days=90)),
                area_feature(*WINDOW_AREA, today - timedelta(days=5))]
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "areas.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
        run_upload(UploadRequest("subsoil-plots", path, "areas.geojson", mode="append", actor="test"), database_url)


def square(area: tuple[str, int, int], dx: int, dy: int, width: int, height: int | None = None) -> list[str]:
    """Block codes of a width x height rectangle, dx/dy minutes from the area's south-west corner."""
    _, x0, y0 = area
    return [code_at(x0 + dx + i, y0 + dy + j) for j in range(height or width) for i in range(width)]


def person(conn: psycopg.Connection, iin: str, bin_: str | None = None) -> Person:
    """A signed-in person (an account made as a sign-in makes it, and a session)."""
    result = accounts.sign_in(conn, TableRegisters(conn), accounts.Identity(iin, bin_), method="demo",
                              lifetime=timedelta(hours=2), client="test")
    roles, authorities = accounts.granted_roles(conn, iin)
    return Person(result.account_id, result.session_id, iin, bin_, result.user["name"], frozenset(roles),
                  frozenset(authorities))


def session_token(conn: psycopg.Connection, iin: str, bin_: str | None = None) -> str:
    result = accounts.sign_in(conn, TableRegisters(conn), accounts.Identity(iin, bin_), method="demo",
                              lifetime=timedelta(hours=2), client="test")
    return result.token


def bearer(conn: psycopg.Connection, iin: str, bin_: str | None = None, *, lang: str = "en") -> dict[str, str]:
    """Headers of a fresh session of the person (of the company with ``bin_``), asking for ``lang``."""
    return {"Authorization": f"Bearer {session_token(conn, iin, bin_)}", "Accept-Language": lang}


def demo_people(app_db: str, directory: Path) -> DemoPki:
    """The demo people loaded into ``app_db`` with their PKI made under ``directory``."""
    with psycopg.connect(app_db) as conn:
        load_people(conn, directory)
        conn.commit()
    return demo_pki(directory)


@contextmanager
def app_client(app_db: str) -> Iterator[Any]:
    """The app on ``app_db`` through Starlette's TestClient (lifespan included)."""
    import dataclasses

    from fastapi.testclient import TestClient

    from geoservice.app import create_app
    from geoservice.kernel.settings import get_settings

    with TestClient(create_app(dataclasses.replace(get_settings(), database_url=app_db))) as client:
        yield client


def iin_of(number: int, prefix: str = "0202025") -> str:
    return f"{prefix}{number:05d}"


def make_applicants(conn: psycopg.Connection, pki: DemoPki, count: int,
                    prefix: str = "0202025") -> list[tuple[str, Issued]]:
    """``count`` people in the register with an RSA signing certificate each: (IIN, certificate)."""
    out = []
    for n in range(count):
        iin = iin_of(n, prefix)
        conn.execute("INSERT INTO register_entries (type, id, name, status) VALUES ('individual', %s, %s, 'active') "
                     "ON CONFLICT (type, id) DO NOTHING", (iin, f"ӨТІНІШ БЕРУШІ {n}"))
        cert = pki.authorities["nca-rsa"].issue(Identity(f"ӨТІНІШ БЕРУШІ{n}", iin=iin), purpose="signature")
        out.append((iin, cert))
    return out


def other_officer(app_db: str, pki: DemoPki, prefix: str, authority: str = "hydrocarbons") -> tuple[str, Issued]:
    """An officer of another authority than the one deciding (hydrocarbons), with a signing
    certificate: the person an authority's rule must turn away."""
    with psycopg.connect(app_db) as conn:
        ((iin, cert),) = make_applicants(conn, pki, 1, prefix=prefix)
        accounts.grant_role(conn, iin, "officer", authority, actor="test")
        conn.commit()
    return iin, cert


def application(codes: list[str] | str, iin: str | None = None, bin_: str | None = None, *,
                kind: str = "exploration-licence", mineral: str | None = "gold", **more: Any) -> dict[str, Any]:
    app: dict[str, Any] = {"kind": kind, "applicant": {"iin": iin} if iin else {"bin": bin_}, "documents": []}
    if codes:
        app["parcel"] = {"blocks": codes}
    if mineral is not None:
        app["mineral"] = mineral
    app.update(more)
    return app


def signed(app: dict[str, Any], signer: Issued, *, over: bytes | None = None) -> dict[str, Any]:
    """The request body: the application and a detached CMS over its canonical JSON (or ``over``)."""
    cms = sign_cms(rfc8785.dumps(app) if over is None else over, signer, detached=True)
    return {"application": app, "signature": base64.b64encode(cms).decode()}

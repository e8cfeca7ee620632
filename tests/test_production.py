"""Production files and the service's own refusals: no default password, no demo data unless
asked for, and no start on a database URL without a password when production is set."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import translate
from geoservice.kernel.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
GEOSERVICE = [str(Path(sys.executable).with_name("geoservice"))]
OWNER = "postgresql://geoservice:s3cret@db:5432/geoservice"


def test_flags_are_read_as_flags():
    for raw, value in (("1", True), ("true", True), ("yes", True), ("0", False), ("false", False), ("off", False)):
        assert Settings.from_env({"GEOSERVICE_PRODUCTION": raw}).production is value
    assert Settings.from_env({}).production is False and Settings.from_env({}).demo is False
    with pytest.raises(ValueError, match="GEOSERVICE_DEMO"):
        Settings.from_env({"GEOSERVICE_DEMO": "maybe"})


@pytest.mark.parametrize(("env", "variable"), [
    ({}, "DATABASE_URL"),  # the local cluster: no password
    ({"DATABASE_URL": "postgresql://geoservice@db:5432/geoservice"}, "DATABASE_URL"),
    ({"DATABASE_URL": "postgresql://geoservice:@db:5432/geoservice"}, "DATABASE_URL"),
    ({"DATABASE_URL": OWNER}, "GEOSERVICE_APP_PASSWORD"),  # the service's role has none
    ({"DATABASE_URL": OWNER, "GEOSERVICE_APP_DATABASE_URL": "postgresql://app@db/geoservice"},
     "GEOSERVICE_APP_DATABASE_URL"),
])
def test_production_refuses_a_database_url_without_password(env, variable):
    settings = Settings.from_env({"GEOSERVICE_PRODUCTION": "1", **env})
    with pytest.raises(Problem) as info:
        settings.refuse_unsafe()
    assert info.value.key == "settings.no_password" and info.value.params["variable"] == variable
    for lang in ("kk", "ru", "en"):
        assert variable in translate("settings.no_password", lang, variable=variable)
    from geoservice.app import create_app

    with pytest.raises(Problem):
        create_app(settings)  # no app: uvicorn's workers fail to start
    Settings.from_env(env).refuse_unsafe()  # not production: allowed (the local cluster, tests)


def test_production_with_passwords_starts():
    from geoservice.app import create_app

    for env in ({"DATABASE_URL": OWNER, "GEOSERVICE_APP_PASSWORD": "an0ther"},
                {"DATABASE_URL": OWNER, "GEOSERVICE_APP_DATABASE_URL": "postgresql://app:pw@db/geoservice"}):
        settings = Settings.from_env({"GEOSERVICE_PRODUCTION": "1", **env})
        settings.refuse_unsafe()
        assert create_app(settings) is not None
    derived = Settings.from_env({"DATABASE_URL": OWNER, "GEOSERVICE_APP_PASSWORD": "p@ss/word"}).service_database_url
    assert derived == "postgresql://geoservice_app:p%40ss%2Fword@db:5432/geoservice"


def test_serve_refuses_to_start_and_demo_is_opt_in(database_url, db):
    env = {**os.environ, "DATABASE_URL": "postgresql://geoservice@127.0.0.1:1/none", "GEOSERVICE_PRODUCTION": "1"}
    res = subprocess.run([*GEOSERVICE, "serve", "--port", "1"], capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode != 0 and "DATABASE_URL" in res.stderr and "refusing to start" in res.stderr

    before = db.execute("SELECT count(*) FROM layer_versions").fetchone()[0]
    env = {**os.environ, "DATABASE_URL": database_url, "GEOSERVICE_DEMO": "0"}
    res = subprocess.run([*GEOSERVICE, "demo", "load", "--if-empty"], capture_output=True, text=True, env=env,
                         timeout=60)
    assert res.returncode == 0 and "GEOSERVICE_DEMO=1" in res.stdout
    assert db.execute("SELECT count(*) FROM layer_versions").fetchone()[0] == before


# --- the production files, read (no Docker engine here) --------------------------------------------

def test_dockerfile_copies_every_package_and_loads_no_demo_by_itself():
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = set(re.findall(r"^COPY (\w+) \1$", dockerfile, re.M))
    assert {p.rstrip("*") for p in packages} <= copied
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD"))
    # The demo command is a no-op unless GEOSERVICE_DEMO=1, and the image does not set it.
    assert "GEOSERVICE_DEMO" not in "".join(line for line in dockerfile.splitlines() if line.startswith("ENV"))
    assert "demo load" in cmd and "GEOSERVICE_DEMO=1" not in cmd


def test_compose_has_no_default_password_and_says_production():
    compose = (ROOT / "docker" / "compose.yaml").read_text()
    assert "change-me" not in compose
    uses = re.findall(r"\$\{(POSTGRES_PASSWORD|GEOSERVICE_APP_PASSWORD)([^}]*)\}", compose)
    assert {name for name, _ in uses} == {"POSTGRES_PASSWORD", "GEOSERVICE_APP_PASSWORD"}
    assert all(rest.startswith(":?") for _, rest in uses), uses  # required, never a fallback
    assert re.search(r'GEOSERVICE_PRODUCTION: "1"', compose)
    assert re.search(r"GEOSERVICE_DEMO: \$\{GEOSERVICE_DEMO:-0\}", compose)

"""The console command, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import feature_collection, square, write_json

GEOSERVICE = [str(Path(sys.executable).with_name("geoservice"))]


def run(args: list[str], database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(GEOSERVICE + args, capture_output=True, text=True, env=env, timeout=120)


def test_help_on_every_command(database_url):
    for args in (["--help"], ["db", "--help"], ["grid", "build", "--help"], ["import", "--help"],
                 ["token", "create", "--help"], ["token", "list", "--help"], ["token", "revoke", "--help"],
                 ["layers", "prune", "--help"], ["serve", "--help"], ["db", "migrate", "--help"]):
        res = run(args, database_url)
        assert res.returncode == 0, res.stderr
        assert "Usage" in res.stdout


def test_token_create_and_import_dry_run_and_error(database_url, db, tmp_path):
    res = run(["token", "create", "--authority", "akimat"], database_url)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().startswith("gs_")
    res = run(["token", "create", "--authority", "nobody"], database_url)
    assert res.returncode != 0 and "nobody" in res.stderr

    fc = feature_collection([(square(70.0, 48.0), {"plot_id": "P1", "name": "Участок", "kind": "exploration"})])
    path = write_json(tmp_path / "p.geojson", fc)
    before = db.execute("SELECT count(*) FROM layer_versions").fetchone()[0]
    res = run(["import", "subsoil-plots", str(path), "--dry-run"], database_url)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["features_in_file"] == 1
    assert db.execute("SELECT count(*) FROM layer_versions").fetchone()[0] == before

    # No kind (the name is not needed: it falls back to the plot id).
    bad = write_json(tmp_path / "bad.geojson", feature_collection([(square(70.0, 48.0), {"plot_id": "P1"})]))
    res = run(["import", "subsoil-plots", str(bad), "--lang", "ru"], database_url)
    assert res.returncode == 2
    problem = json.loads(res.stderr)
    assert problem["status"] == 422 and problem["field"] == "kind" and "'kind'" in problem["detail"]

    res = run(["db", "status"], database_url)
    assert res.returncode == 0 and "revision" in res.stdout

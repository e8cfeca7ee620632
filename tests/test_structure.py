"""The house rules, checked on the source itself: imports run one way (app edge → domain → store
→ kernel), migrations import no application code, and every message a person reads exists in
kk, ru and en and is registered explicitly."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from geoservice.kernel.i18n import LANGUAGES, MESSAGES
from geoservice.messages import CATALOGS, register_all

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("geoservice", "layers", "importers", "tiles", "styles", "cadastre")

# Lower rank never imports higher rank. Domain packages do not import each other either: what
# two of them share belongs in the store or the kernel.
KERNEL, STORE, DOMAIN, EDGE = 0, 1, 2, 3
RANK_NAMES = {KERNEL: "kernel", STORE: "store", DOMAIN: "domain", EDGE: "app edge"}


def room(module: str) -> tuple[int, str] | None:
    """(rank, room name) of a project module; None for third-party and standard modules."""
    top = module.split(".")[0]
    if module == "geoservice.kernel" or module.startswith("geoservice.kernel."):
        return KERNEL, "geoservice.kernel"
    if top == "geoservice":
        return EDGE, "geoservice"
    if top == "layers":
        return STORE, "layers"
    if top in ("importers", "tiles", "styles", "cadastre"):
        return DOMAIN, top
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every module imported anywhere in the file (function bodies too), relative ones resolved,
    plus importlib.import_module("…") with a literal name."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[:len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            # "from package import module" names a module too
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names
                      if room(f"{base}.{alias.name}") is not None and base.count(".") < 3]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args and isinstance(node.args[0], ast.Constant)):
            found.append((node.lineno, str(node.args[0].value)))
    return found


def violations_in(source: str, module: str, is_package: bool = False) -> list[str]:
    here = room(module)
    assert here is not None, module
    rank, name = here
    is_migration = module.startswith("geoservice.migrations")
    out = []
    for line, target in imported(ast.parse(source), module, is_package):
        there = room(target)
        if there is None:
            continue
        if is_migration:
            out.append(f"{module}:{line} imports {target}: migrations hold their own SQL")
        elif there[0] > rank or (there[0] == rank == DOMAIN and there[1] != name):
            out.append(f"{module}:{line} ({RANK_NAMES[rank]}) imports {target} ({RANK_NAMES[there[0]]})")
    return out


def sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES if (ROOT / pkg).is_dir() for p in (ROOT / pkg).rglob("*.py"))


def test_imports_run_one_way() -> None:
    problems = []
    for path in sources():
        problems += violations_in(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(("module", "source", "bad"), [
    ("layers.store", "from importers.validate import ValidatedFeatures", True),
    ("layers.grid_build", "def f():\n    from tiles.levels import CELL_LEVELS", True),
    ("geoservice.kernel.i18n", "import importlib\nimportlib.import_module('tiles.messages')", True),
    ("geoservice.kernel.errors", "from geoservice.ogc import crs", True),
    ("tiles.sql", "from styles.palette import BLOCK_LEVELS", True),
    ("geoservice.migrations.versions.0009_x", "from layers.grid import grid_srid", True),
    ("layers.store", "from . import copy_text", False),
    ("tiles.sql", "from layers.access import public_filter\nfrom geoservice.kernel.errors import Problem", False),
    ("geoservice.ogc.routes", "from tiles.conformance import CONFORMANCE", False),
])
def test_the_direction_check_catches_what_it_should(module: str, source: str, bad: bool) -> None:
    assert bool(violations_in(source, module)) is bad


# --- messages ------------------------------------------------------------------------------------

KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
# Callables whose first argument is a message code.
RAISERS = {"Problem", "UploadError", "Issue", "upload_error", "translate", "_Invalid", "add", "note"}
# Strings shaped like codes that are not messages: ASGI event types, file names, and the request
# fields a reason points at (``parcel.blocks``, beside the ``parcel.*`` codes).
NOT_MESSAGES = re.compile(r"^(http\.request|http\.disconnect|http\.response\.\w+|parcel\.(blocks|geometry))$"
                          r"|\.(bin|shp|dbf|shx|cpg|prj|py|json)$")


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_message_has_three_languages_with_the_same_placeholders() -> None:
    register_all()
    for module in CATALOGS:
        for key, texts in module.MESSAGES.items():
            assert KEY.match(key), key
            assert set(texts) == set(LANGUAGES), (module.__name__, key)
            assert all(t.strip() for t in texts.values()), (module.__name__, key)
            assert _fields(texts["en"]) == _fields(texts["ru"]) == _fields(texts["kk"]), (module.__name__, key)
            # Kazakh and Russian texts are written in Cyrillic, not left in English
            for lang in ("ru", "kk"):
                assert re.search("[а-яА-ЯәғқңөұүһіӘҒҚҢӨҰҮҺІ]", texts[lang]), (module.__name__, key, lang)
            assert MESSAGES[key] is texts


def test_every_package_messages_module_is_registered() -> None:
    registered = {m.__name__ for m in CATALOGS}
    on_disk = {module_name(p) for p in sources() if p.name == "messages.py" and p.parent.name != "geoservice"}
    assert on_disk == registered


def test_only_the_app_edge_registers_messages() -> None:
    callers = []
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "register":
                callers.append(module_name(path))
    assert set(callers) <= {"geoservice.messages"}, callers


def used_codes() -> dict[str, str]:
    """Message codes in the code: first arguments of the raisers, and any string constant in a
    message namespace (dict values like {404: "http.not_found"})."""
    namespaces = {k.split(".")[0] for k in MESSAGES}
    found: dict[str, str] = {}
    for path in sources():
        if path.name == "messages.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            value = None
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", None))
                if name in RAISERS and node.args and isinstance(node.args[0], ast.Constant):
                    value = node.args[0].value
                    if isinstance(value, str) and KEY.match(value):
                        found[value] = f"{module_name(path)}:{node.lineno}"
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and KEY.match(node.value):
                if node.value.split(".")[0] in namespaces and not NOT_MESSAGES.search(node.value):
                    found.setdefault(node.value, f"{module_name(path)}:{node.lineno}")
    return found


def test_every_code_used_exists() -> None:
    register_all()
    missing = {code: where for code, where in used_codes().items() if code not in MESSAGES}
    assert missing == {}


def test_every_note_gives_the_placeholders_of_its_texts() -> None:
    """A report note is rendered when the upload is read, often on a rare path (mixed SRIDs, a
    text cut mid-letter): a missing parameter would turn an accepted upload into a crash."""
    register_all()
    problems, seen = [], 0
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "note" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                continue
            seen += 1
            key, given = node.args[0].value, {k.arg for k in node.keywords}
            if None in given:  # **params: checked when it runs
                continue
            needed = _fields(MESSAGES[key]["en"]) if key in MESSAGES else {"(unknown code)"}
            if needed - given or given & {"code", "message"}:
                problems.append(f"{module_name(path)}:{node.lineno} note({key!r}) gives {sorted(given)}, "
                                f"its texts use {sorted(needed)}")
    assert seen > 20 and problems == [], "\n".join(problems)


def test_the_usage_scan_sees_codes() -> None:
    codes = used_codes()
    for code in ("upload.invalid_features", "http.not_found", "cql2.too_complex", "tiles.out_of_range",
                 "auth.forbidden_layer", "styles.not_found", "viewer.search_empty", "shapefile.no_prj",
                 "kml.ring_closed", "geometry.repaired"):
        assert code in codes, code


# --- one datum policy -----------------------------------------------------------------------------

def test_sql_and_python_use_the_same_pulkovo_shift() -> None:
    """Migration 0002 holds its own copy of EPSG:1291 (migrations import no live code): it must
    say what layers/datum.py says."""
    import importlib.util

    from layers import datum

    path = ROOT / "geoservice" / "migrations" / "versions" / "0002_block_grid.py"
    spec = importlib.util.spec_from_file_location("migration_0002", path)
    assert spec and spec.loader
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.PULKOVO_SRID == datum.PULKOVO_1291_SRID
    shift = ",".join(f"{v:g}" for v in datum.towgs84())
    assert f"+towgs84={shift},0,0,0,0" in migration.PULKOVO_PROJ4
    assert datum.proj_string(4284) == migration.PULKOVO_PROJ4


def test_the_pinned_gauss_kruger_rows_say_what_the_datum_module_says() -> None:
    """Migration 0011's spatial_ref_sys rows for the Gauss–Krüger zones (own copy) against
    layers/datum.py, zone by zone."""
    import importlib.util

    from layers import datum

    path = ROOT / "geoservice" / "migrations" / "versions" / "0011_pulkovo_output_srids.py"
    spec = importlib.util.spec_from_file_location("migration_0011", path)
    assert spec and spec.loader
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert set(migration.PROJ4) == set(datum.GAUSS_KRUGER_ZONES)
    for epsg, proj in migration.PROJ4.items():
        assert migration.SRID_OFFSET + epsg == datum.pinned_srid(epsg)
        assert proj == datum.proj_string(epsg), epsg


def test_the_catalog_offers_only_what_the_code_serves() -> None:
    from layers.catalog import LAYERS

    assert {layer.geometry_type for layer in LAYERS.values()} == {"MultiPolygon"}

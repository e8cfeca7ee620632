"""Raster uploads (issue 12): a GeoTIFF, or a zip of one or more TIFFs, each with its world file
(.tfw/.wld) and .prj, checked and kept as Cloud-Optimized GeoTIFFs: the sheets of one new version
of a raster layer (a map series or a set of grid tiles in one upload: all of them, or none).

Order matters: the header is checked (format, size, declared pixels, bands, CRS, footprint inside
Kazakhstan) before a single pixel is read, so a small file declaring billions of pixels costs
nothing. The COG is written to a staging folder on the raster store's own filesystem, then
renamed into place inside the database transaction that records it and removed if that
transaction fails: bad input, or a failed write, leaves no row and no file.

The COG keeps the source CRS (no resampling of the uploaded pixels; conversion is a copy with
tiling, compression and overviews). For Pulkovo 1942 CRSs (SK-42, the Gauss-Krüger zones) the
file carries the datum policy's shift (layers/datum.py: EPSG:1291 on land, EPSG:1303 in the
Caspian) as TOWGS84, so GDAL, QGIS and the tile server all bring it to WGS 84 the same way."""

from __future__ import annotations

import logging
import math
import os
import re
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import psycopg
import rasterio
import rasterio.shutil
import shapely
from affine import Affine
from psycopg.types.json import Jsonb
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from rasterio._err import CPLE_BaseError  # GDAL's own errors (a short read) are not RasterioErrors
from rasterio.errors import NotGeoreferencedWarning, RasterioError

from geoservice.kernel.db import Database, libpq_params
from geoservice.kernel.errors import Problem, UploadError
from geoservice.kernel.settings import Settings
from importers.archive import Budget, Limits, is_junk, open_zip
from importers.messages import note, upload_error
from importers.pipeline import journal_rejected_upload, sha256_file
from importers.validate import crs_label, parse_crs
from layers import store
from layers.boundary import outside_country, tolerant_boundary
from layers.catalog import RASTER_LAYERS, RasterLayer
from layers.datum import WGS84, choose_transformer, is_pulkovo, operation_for, towgs84

log = logging.getLogger("geoservice.rasters")

TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF, both byte orders
ZIP_MAGIC = b"PK\x03\x04"
WORLD_SUFFIXES = (".tfw", ".tifw", ".tiffw", ".wld")
TIFF_SUFFIXES = (".tif", ".tiff")
SHEET = re.compile(r"^(?!\.)[\w\-. ()]{1,200}$")
MAP_BANDS = (1, 3, 4)
# The COG's options: the same in bench/raster_cog.py, where gdal_translate gets them too.
COG_OPTIONS: dict[str, str] = {
    "COMPRESS": "DEFLATE", "PREDICTOR": "YES", "BLOCKSIZE": "512", "OVERVIEWS": "AUTO",
    "RESAMPLING": "AVERAGE", "BIGTIFF": "IF_SAFER", "NUM_THREADS": "ALL_CPUS",
}
STALE_STAGING_SECONDS = 24 * 3600.0
FOOTPRINT_STEPS = 16  # points per edge when the footprint is brought to WGS 84 (edges curve)


@dataclass
class RasterRequest:
    layer_id: str
    path: Path
    file_name: str
    crs: str | None = None
    sheet: str | None = None
    actor: str = "cli"
    authority: str | None = None
    token_id: int | None = None
    client: str | None = "cli"
    dry_run: bool = False         # checked and converted (so the pixels were read), not stored


@dataclass
class Source:
    """One TIFF of an upload: the file itself, or a member of the zip with its sidecars' texts."""
    tiff: Path
    name: str                     # what messages call it: the upload's name, or the member's
    stem: str | None = None       # the member's stem (the sheet's name when a zip has several)
    world_text: str | None = None
    world_name: str | None = None
    prj_text: str | None = None
    prj_name: str | None = None


@dataclass
class Checked:
    """What the header said, and what we make of it, before any pixel is read."""
    tiff: Path                    # the TIFF to convert (the upload, or unpacked from the zip)
    name: str                     # the TIFF's name for messages
    source_format: str            # geotiff | geotiff-zip
    crs: CRS
    crs_text: str                 # EPSG:N, or the WKT when the CRS has no code
    stored_crs: CRS               # what the COG says: the CRS, with the datum shift for Pulkovo
    transform: Affine
    transformation: str | None    # how the footprint was brought to WGS 84
    footprint: shapely.MultiPolygon
    width: int
    height: int
    bands: int
    dtype: str
    nodata: float | None
    sidecar: bool                 # georeference from a world file / .prj / the crs field
    notes: list[dict[str, Any]] = field(default_factory=list)


def resolve_raster_layer(layer_id: str) -> RasterLayer:
    layer = RASTER_LAYERS.get(layer_id)
    if layer is None:
        raise Problem("layer.not_found", 404, layer=layer_id)
    return layer


def sheet_name(requested: str | None, file_name: str) -> str:
    sheet = (requested or "").strip() or PurePosixPath(file_name).stem
    if not SHEET.match(sheet) or ".." in sheet:
        raise UploadError("geotiff.bad_sheet", field="sheet", sheet=sheet[:200])
    return sheet


# --- reading the upload ----------------------------------------------------------------------------

def _magic(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(4)


def _too_large(path: Path, display: str, settings: Settings) -> None:
    if path.stat().st_size > settings.raster_max_bytes:
        raise upload_error("upload.file_too_large", display, limit_mb=max(1, round(settings.raster_max_bytes / 2**20)))


def _unpack(path: Path, display: str, staging: Path, settings: Settings) -> list[Source]:
    """The TIFFs of a zip (unpacked under ``staging``), each with its world file's and .prj's texts.
    Hostile archives are refused by importers.archive."""
    with open_zip(path, display, Budget(Limits.from_settings(settings))) as archive:
        members = [m for m in archive.members if not is_junk(m)]
        tiffs = [m for m in members if m.suffix in TIFF_SUFFIXES]
        if not tiffs:
            raise upload_error("geotiff.archive_no_raster", display,
                               found=", ".join(m.name for m in members[:10]) or "—")
        if len(tiffs) > settings.raster_max_sheets:
            raise upload_error("geotiff.too_many_sheets", display, count=len(tiffs), limit=settings.raster_max_sheets)
        stems: dict[str, str] = {}
        for tiff in tiffs:
            stem = PurePosixPath(tiff.name).stem
            if stem in stems:  # two sheets of one name would replace each other in the mosaic
                raise upload_error("geotiff.duplicate_sheet", display, sheet=stem, first=stems[stem],
                                   second=tiff.name)
            stems[stem] = tiff.name
        sources: list[Source] = []
        for index, tiff in enumerate(tiffs):
            stem = tiff.path.with_suffix("")
            # The sidecars of that TIFF (same stem), else (one TIFF) the archive's only one of a kind.
            def sidecar(suffixes: tuple[str, ...], stem: Any = stem) -> Any:
                same = [m for m in members if m.suffix in suffixes and m.path.with_suffix("") == stem]
                anywhere = [m for m in members if m.suffix in suffixes]
                return same[0] if same else (anywhere[0] if len(anywhere) == 1 and len(tiffs) == 1 else None)
            world, prj = sidecar(WORLD_SUFFIXES), sidecar((".prj",))
            if tiff.size > settings.raster_max_bytes:
                raise upload_error("upload.file_too_large", tiff.name,
                                   limit_mb=max(1, round(settings.raster_max_bytes / 2**20)))
            # Member names are never used as paths: our own names, in our own folder (and no
            # sidecar beside it that GDAL could pick up on its own).
            target = archive.extract(tiff, staging / f"source-{index}.tif")
            texts: list[str | None] = []
            for member in (world, prj):
                if member is None or member.size > 64 * 1024:
                    texts.append(None)
                    continue
                data = archive.extract(member, staging / f"sidecar-{index}-{len(texts)}")
                texts.append(data.read_bytes().decode("utf-8", "replace"))
                data.unlink()
            sources.append(Source(tiff=target, name=tiff.name, stem=PurePosixPath(tiff.name).stem,
                                  world_text=texts[0], world_name=world.name if world else None,
                                  prj_text=texts[1], prj_name=prj.name if prj else None))
        return sources


def _world(text: str, name: str) -> Affine:
    """A world file's six numbers (A, D, B, E, C, F; C/F the centre of the top-left pixel) as a
    GDAL geotransform (corner of the top-left pixel)."""
    try:
        a, d, b, e, c, f = (float(v) for v in text.split())
    except ValueError:
        raise upload_error("geotiff.bad_world_file", name) from None
    if not all(math.isfinite(v) for v in (a, b, c, d, e, f)) or a * e - b * d == 0:
        raise upload_error("geotiff.bad_world_file", name)
    return Affine(a, b, c - a / 2 - b / 2, d, e, f - d / 2 - e / 2)


def _prj(text: str, name: str) -> CRS:
    try:
        return CRS.from_user_input(text.strip())
    except CRSError:
        raise upload_error("geotiff.bad_prj", name) from None


def _bound_crs(crs: CRS, operation: int) -> CRS:
    """``crs`` with the datum policy's Pulkovo → WGS 84 shift written in (TOWGS84)."""
    with warnings.catch_warnings():  # a PROJ string is what carries the shift into GeoTIFF keys
        warnings.simplefilter("ignore", UserWarning)
        base = crs.to_proj4()
    parts = [p for p in base.split() if p not in ("+no_defs", "+type=crs") and not p.startswith("+towgs84")]
    shift = ",".join(f"{v:g}" for v in towgs84(operation))
    return CRS.from_proj4(" ".join([*parts, f"+towgs84={shift},0,0,0,0", "+no_defs"]))


def _edge_points(transform: Affine, width: int, height: int) -> np.ndarray:
    steps = np.linspace(0.0, 1.0, FOOTPRINT_STEPS + 1)
    cols = np.concatenate([steps * width, np.full_like(steps, width), steps[::-1] * width, np.zeros_like(steps)])
    rows = np.concatenate([np.zeros_like(steps), steps * height, np.full_like(steps, height), steps[::-1] * height])
    xs = transform.a * cols + transform.b * rows + transform.c
    ys = transform.d * cols + transform.e * rows + transform.f
    return np.column_stack([xs, ys])


def _footprint(crs: CRS, transform: Affine, width: int, height: int) -> tuple[shapely.MultiPolygon, str | None]:
    ring = _edge_points(transform, width, height)
    bounds = (float(ring[:, 0].min()), float(ring[:, 1].min()), float(ring[:, 0].max()), float(ring[:, 1].max()))
    if crs.equals(WGS84, ignore_axis_order=True):
        lonlat, how = ring, None
    else:
        transformer: Transformer
        transformer, how = choose_transformer(crs, bounds)
        xs, ys = transformer.transform(ring[:, 0], ring[:, 1])
        lonlat = np.column_stack([xs, ys])
    if not np.isfinite(lonlat).all():  # corners outside the CRS's domain: nowhere on Earth we serve
        return shapely.MultiPolygon(), how
    polygon = shapely.Polygon(lonlat)
    if not polygon.is_valid:
        polygon = shapely.make_valid(polygon)
    parts = [g for g in shapely.get_parts(polygon) if shapely.get_type_id(g) == 3]
    return shapely.MultiPolygon(parts), how


def check(path: Path, display: str, layer: RasterLayer, *, crs: str | None, staging: Path,
          settings: Settings) -> list[Checked]:
    """Everything that can be said from the upload's headers, one Checked per TIFF (a sheet);
    UploadError when any of them is refused."""
    _too_large(path, display, settings)
    magic = _magic(path)
    if magic == ZIP_MAGIC:
        sources, source_format = _unpack(path, display, staging, settings), "geotiff-zip"
    elif magic in TIFF_MAGIC:
        sources, source_format = [Source(tiff=path, name=display)], "geotiff"
    else:
        raise upload_error("geotiff.not_geotiff", display)
    return [check_one(source, source_format, layer, crs=crs, settings=settings) for source in sources]


def check_one(source: Source, source_format: str, layer: RasterLayer, *, crs: str | None,
              settings: Settings) -> Checked:
    """One TIFF's header: format, size, declared pixels, bands, CRS, footprint inside Kazakhstan."""
    tiff, tiff_name = source.tiff, source.name
    world_text, world_name, prj_text, prj_name = source.world_text, source.world_name, source.prj_text, source.prj_name
    if _magic(tiff) not in TIFF_MAGIC:
        raise upload_error("geotiff.not_geotiff", tiff_name)
    given = parse_crs(crs) if crs else None
    notes: list[dict[str, Any]] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            src = rasterio.open(tiff)
    except (RasterioError, CPLE_BaseError) as exc:
        raise upload_error("geotiff.truncated", tiff_name, detail=_gdal_detail(exc, tiff_name)) from None
    with src:
        if src.driver != "GTiff":
            raise upload_error("geotiff.not_geotiff", tiff_name)
        width, height, bands = src.width, src.height, src.count
        # The header's declared size is all we have read so far: a bomb stops here.
        if width * height > settings.raster_max_pixels:
            raise upload_error("geotiff.too_many_pixels", tiff_name, width=width, height=height,
                               limit=settings.raster_max_pixels)
        _check_bands(src, layer, tiff_name)
        transform = src.transform
        sidecar = False
        if world_text is not None:
            transform, sidecar = _world(world_text, world_name or tiff_name), True
        elif transform.is_identity:
            raise upload_error("geotiff.no_georeference", tiff_name)
        file_crs = CRS.from_wkt(src.crs.to_wkt()) if src.crs else None
        if file_crs is None and prj_text is not None:
            file_crs = _prj(prj_text, prj_name or tiff_name)
            sidecar = True
        if given is not None:
            if file_crs is not None and not given.equals(file_crs, ignore_axis_order=True):
                notes.append(note("crs.overridden", file_crs=crs_label(file_crs), given=crs_label(given)))
            target, sidecar = given, sidecar or not given.equals(file_crs or WGS84)
        elif file_crs is not None:
            target = file_crs
        else:
            raise UploadError("upload.no_crs", file=tiff_name, field="crs")
        # A .prj's ESRI WKT or a GeoTIFF's keys naming an EPSG CRS: that CRS itself, so the datum
        # policy recognises SK-42 however it was written.
        code = target.to_epsg(min_confidence=70)
        if code is not None:
            target = CRS.from_epsg(code)
        dtype, nodata = src.dtypes[0], src.nodata
    footprint, how = _footprint(target, transform, width, height)
    country = tolerant_boundary(settings.boundary_tolerance_deg)
    if footprint.is_empty or not footprint.intersects(country):
        box = [round(v, 4) for v in footprint.bounds] if not footprint.is_empty else []
        raise upload_error("geotiff.outside_country", tiff_name, bbox=box)
    if len(outside_country(np.array([footprint], dtype=object), settings.boundary_tolerance_deg)):
        # A border sheet of a map series shows the neighbours' land too: kept whole, and said.
        inside = shapely.area(shapely.intersection(footprint, country)) / shapely.area(footprint)
        notes.append(note("geotiff.partly_outside", name=tiff_name, inside=round(100 * inside)))
    stored = target
    if is_pulkovo(target):
        geo = Transformer.from_crs(target, target.geodetic_crs, always_xy=True).transform_bounds(
            *(float(v) for v in shapely.bounds(shapely.Polygon(_edge_points(transform, width, height)))))
        stored, sidecar = _bound_crs(target, operation_for(geo)), True
    return Checked(tiff=tiff, name=tiff_name, source_format=source_format, crs=target, crs_text=_crs_text(target),
                   stored_crs=stored, transform=transform, transformation=how, footprint=footprint,
                   width=width, height=height, bands=bands, dtype=dtype, nodata=nodata, sidecar=sidecar,
                   notes=notes)


def _crs_text(crs: CRS) -> str:
    epsg = crs.to_epsg(min_confidence=70)
    return f"EPSG:{epsg}" if epsg else crs.to_wkt()


def _gdal_detail(exc: Exception, name: str) -> str:
    # GDAL's first line says what is wrong (offsets past the end, bad IFD); our paths and our
    # own names for the file (upload.bin, source-0.tif, sheet-0.tif) become the user's name.
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = re.sub(r"(/[^\s:]+)+", "…", text)
    text = re.sub(r"(…/?)?\b(upload\.bin|source(-\d+)?\.tif|sheet-\d+\.tif)\b", lambda _: name, text)
    return text[:300]


def _check_bands(src: Any, layer: RasterLayer, name: str) -> None:
    if layer.kind == "grid":
        if src.count != 1:
            raise upload_error("geotiff.band_count", name, count=src.count, expected="1", layer=layer.id)
        if np.dtype(src.dtypes[0]).kind not in "iuf":
            raise upload_error("geotiff.band_type", name, field="band 1", band=1, dtype=src.dtypes[0],
                               expected="int/float", layer=layer.id)
        return
    if src.count not in MAP_BANDS:
        raise upload_error("geotiff.band_count", name, count=src.count, expected="1, 3, 4", layer=layer.id)
    for band, dtype in enumerate(src.dtypes, start=1):
        if dtype != "uint8":
            raise upload_error("geotiff.band_type", name, field=f"band {band}", band=band, dtype=dtype,
                               expected="uint8", layer=layer.id)


# --- converting ------------------------------------------------------------------------------------

def to_cog(source: Path, target: Path, *, crs: CRS | None = None, transform: Affine | None = None) -> None:
    """``source`` as a Cloud-Optimized GeoTIFF at ``target`` (COG_OPTIONS), its georeference
    replaced by ``crs``/``transform`` when given. Reading pixels may find the file damaged:
    UploadError geotiff.truncated (the caller names the file)."""
    with rasterio.Env(GDAL_NUM_THREADS="ALL_CPUS"), warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        if crs is not None or transform is not None:
            # Our own copy's header gets the georeference (the upload in the spool is ours too).
            with rasterio.open(source, "r+") as ds:
                if crs is not None:
                    ds.crs = rasterio.crs.CRS.from_wkt(crs.to_wkt())
                if transform is not None:
                    ds.transform = transform
        rasterio.shutil.copy(source, target, driver="COG", **COG_OPTIONS)


def band_stats(path: Path) -> list[dict[str, Any]]:
    """Per band min, max, mean and standard deviation, from the overviews (approximate: what a
    colour ramp and a legend need, without a second pass over every pixel)."""
    with rasterio.open(path) as ds:
        out = []
        for band, stats in enumerate(ds.stats(approx=True), start=1):
            values = {k: float(getattr(stats, k)) for k in ("min", "max", "mean", "std")}
            out.append({"band": band, **{k: (v if math.isfinite(v) else None) for k, v in values.items()},
                        "approximate": True})
        return out


# --- the pipeline -----------------------------------------------------------------------------------

def run_raster_upload(req: RasterRequest, db: Database | str, settings: Settings | None = None) -> dict[str, Any]:
    """One raster upload, start to end: checked, converted, stored as a new version of one sheet,
    or refused with nothing changed (the refusal journaled)."""
    settings = settings or Settings()
    db = Database(db, params=libpq_params(settings)) if isinstance(db, str) else db
    checksum: str | None = None
    root = settings.raster_path
    try:
        layer = resolve_raster_layer(req.layer_id)
        if (req.sheet or "").strip():
            sheet_name(req.sheet, req.file_name)   # a bad sheet field is refused before the file is read
        _too_large(req.path, req.file_name, settings)
        checksum = sha256_file(req.path)
        root.mkdir(parents=True, exist_ok=True)
        _sweep_staging(root)
        # Staging on the store's own filesystem: the COGs are renamed into place, never copied.
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
        try:
            checked = check(req.path, req.file_name, layer, crs=req.crs, staging=staging, settings=settings)
            sheets = _sheet_names(req, checked)
            made: list[Made] = []
            for index, each in enumerate(checked):
                made.append(_convert(req, each, staging, index))
            if req.dry_run:
                return _answer(layer, req, sheets, checked, checksum, made, None)
            with db.connection() as conn:
                result = _store(conn, layer, req, sheets, checked, made, checksum, root)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return result
    except Problem as problem:
        if not req.dry_run:
            journal_rejected_upload(db, actor=req.actor, layer_id=req.layer_id, client=req.client,
                                    file_name=req.file_name, checksum=checksum, problem=problem)
        raise


@dataclass
class Made:
    """A sheet's COG in the staging folder, its checksum and band statistics."""
    cog: Path
    checksum: str
    stats: list[dict[str, Any]]


def _sheet_names(req: RasterRequest, checked: list[Checked]) -> list[str]:
    """One TIFF: the ``sheet`` field or the upload's name. Several (a zip of a series): each
    TIFF's own name; a ``sheet`` field cannot name them all."""
    if len(checked) == 1:
        return [sheet_name(req.sheet, req.file_name)]
    if (req.sheet or "").strip():
        raise UploadError("geotiff.sheet_for_many", file=req.file_name, field="sheet", count=len(checked))
    return [sheet_name(None, each.name) for each in checked]


def _convert(req: RasterRequest, checked: Checked, staging: Path, index: int) -> Made:
    cog = staging / f"sheet-{index}.tif"
    if checked.tiff == req.path and checked.sidecar:
        # The georeference is written into a copy: the caller's file (a CLI user's) stays as it is.
        shutil.copyfile(req.path, staging / "source.tif")
        checked.tiff = staging / "source.tif"
    try:
        to_cog(checked.tiff, cog, crs=checked.stored_crs if checked.sidecar else None,
               transform=checked.transform if checked.sidecar else None)
    except (RasterioError, CPLE_BaseError) as exc:
        raise upload_error("geotiff.truncated", checked.name, detail=_gdal_detail(exc, checked.name)) from None
    if checked.tiff != req.path:
        checked.tiff.unlink(missing_ok=True)   # the unpacked source is not needed any more
    return Made(cog=cog, checksum=sha256_file(cog), stats=band_stats(cog))


def _store(conn: psycopg.Connection, layer: RasterLayer, req: RasterRequest, sheets: list[str],
           checked: list[Checked], made: list[Made], checksum: str, root: Path) -> dict[str, Any]:
    row = conn.execute(
        "INSERT INTO raster_versions (layer_id, actor, client, source_file, source_format, checksum, sheets) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id, created_at",
        (layer.id, req.actor, req.client, req.file_name, checked[0].source_format, checksum, len(sheets))).fetchone()
    assert row is not None
    version, created_at = int(row[0]), row[1]
    paths = [f"{layer.id}/{version}/{sheet}.tif" for sheet in sheets]
    for sheet, relative, each, cog in zip(sheets, paths, checked, made, strict=True):
        conn.execute(
            "INSERT INTO raster_sheets (layer_id, version_id, sheet, path, checksum, crs, footprint, width, "
            "height, bands, dtype, nodata, stats) VALUES (%s, %s, %s, %s, %s, %s, "
            "ST_Multi(ST_GeomFromWKB(%s, 4326)), %s, %s, %s, %s, %s, %s)",
            (layer.id, version, sheet, relative, cog.checksum, each.crs_text, shapely.to_wkb(each.footprint),
             each.width, each.height, each.bands, each.dtype, each.nodata, Jsonb(cog.stats)))
    store.journal(conn, req.actor, "upload", "ok", layer_id=layer.id, version=version, client=req.client,
                  # raster_versions has no authority/token columns: the journal keeps who acted for whom.
                  detail={"file": req.file_name, "checksum": checksum, "sheets": sheets, "kind": "raster",
                          "authority": req.authority, "token_id": req.token_id})
    finals = [root / relative for relative in paths]
    finals[0].parent.mkdir(parents=True, exist_ok=True)
    try:
        for cog, final in zip(made, finals, strict=True):
            os.rename(cog.cog, final)
        conn.commit()
    except BaseException:
        for final in finals:
            final.unlink(missing_ok=True)
        _remove_empty(finals[0].parent)
        raise
    return _answer(layer, req, sheets, checked, checksum, made, (version, created_at, paths))


def _answer(layer: RasterLayer, req: RasterRequest, sheets: list[str], checked: list[Checked], checksum: str,
            made: list[Made], stored: tuple[int, Any, list[str]] | None) -> dict[str, Any]:
    """The upload's answer; ``stored``: the version, its time and the sheets' paths (None: a dry run)."""
    version, created_at, paths = stored if stored else (None, None, [None] * len(sheets))
    return {
        "layer": layer.id, "dry_run": req.dry_run, "version": version,
        "created_at": created_at.isoformat() if created_at else None, "file": req.file_name,
        "format": checked[0].source_format, "checksum": checksum,
        "sheets": [{"sheet": sheet, "file": each.name, "path": relative, "checksum": cog.checksum,
                    "crs": each.crs_text, "transformation": each.transformation,
                    "bbox": [round(v, 6) for v in each.footprint.bounds], "width": each.width,
                    "height": each.height, "bands": each.bands, "dtype": each.dtype, "nodata": each.nodata,
                    "stats": cog.stats}
                   for sheet, each, cog, relative in zip(sheets, checked, made, paths, strict=True)],
        "report": {"notes": [n for each in checked for n in each.notes]},
    }


def _sweep_staging(root: Path, older_than: float = STALE_STAGING_SECONDS) -> None:
    """Staging folders a killed process left (no upload runs for a day)."""
    now = time.time()
    for folder in root.glob(".staging-*"):
        try:
            if now - folder.stat().st_mtime > older_than:
                shutil.rmtree(folder, ignore_errors=True)
        except FileNotFoundError:
            pass


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def list_raster_versions(conn: psycopg.Connection, layer: RasterLayer) -> list[dict[str, Any]]:
    """The layer's versions, newest first, each with its sheets, whether each is shown now, when it
    was pruned and which version it restores (layers/raster_versions.py, which restores and prunes)."""
    from layers import raster_versions

    return raster_versions.describe(conn, layer)

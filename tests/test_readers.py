"""The reading stage of uploads: every format, the encodings and CRSs authorities send, and the
hostile inputs. Every test file is built here in tmp_path; no database needed."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import string
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
import pyproj
import pytest
import shapely

from geoservice.kernel.errors import UploadError
from geoservice.kernel.i18n import LANGUAGES, MESSAGES, translate
from importers.archive import Budget, Limits, open_zip
from importers.messages import MESSAGES as UPLOAD_MESSAGES
from importers.sources import SourceData, codec_from_cpg, read_upload
from layers import dms

RU = "Участок Южный-2"
KK = "Қарағанды әғқңөұүһі"

# ------------------------------------------------------------------------------------ helpers


def read(path: Path, name: str | None = None, **kw: Any) -> SourceData:
    return read_upload(path, name or path.name, **kw)


def fails(key: str, fn: Callable[[], Any], *, status: int = 422) -> UploadError:
    """Run fn, expect UploadError(key); check its status and that its message renders fully."""
    with pytest.raises(UploadError) as info:
        fn()
    err = info.value
    assert err.key == key, (err.key, err.params)
    assert err.status == status
    for lang in LANGUAGES:
        assert set(_fields(MESSAGES[key][lang])) <= set(err.params), (lang, err.params)
        assert translate(err.key, lang, **err.params) != err.key
    return err


def notes_of(data: SourceData, code: str) -> list[dict[str, Any]]:
    """The report notes of one code; each carries its text in kk, ru and en, all three different
    and fully filled in."""
    found = [n for n in data.notes if n["code"] == code]
    for n in found:
        texts = n["message"]
        assert set(texts) == set(LANGUAGES), n
        assert len(set(texts.values())) == 3, n
        assert all(t.strip() and "{" not in t for t in texts.values()), n
        assert MESSAGES[code] is UPLOAD_MESSAGES[code]
    return found


def note_of(data: SourceData, code: str) -> dict[str, Any]:
    (found,) = notes_of(data, code)
    return found


def write_shapefile(folder: Path, stem: str = "plots", *, names: list[str] | None = None,
                    encoding: str = "UTF-8", crs: str | None = "EPSG:28412",
                    field: str = "name") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    names = names or [RU, "Второй"]
    geoms = np.array([shapely.to_wkb(shapely.box(i, i, i + 1, i + 1)) for i in range(len(names))],
                     dtype=object)
    dates = np.array(["2024-01-15"] * len(names), dtype="datetime64[D]")
    numbers = np.arange(1, len(names) + 1, dtype=np.int64)
    kwargs: dict[str, Any] = {"crs": crs} if crs else {}
    with pytest.warns(UserWarning) if crs is None else _nothing():
        pyogrio.raw.write(str(folder / f"{stem}.shp"), geoms, [np.array(names, dtype=object), numbers, dates],
                          [field, "num", "issued"], geometry_type="Polygon", driver="ESRI Shapefile",
                          encoding=encoding, **kwargs)
    return folder


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def set_ldid(folder: Path, stem: str, ldid: int) -> None:
    dbf = folder / f"{stem}.dbf"
    data = bytearray(dbf.read_bytes())
    data[29] = ldid
    dbf.write_bytes(bytes(data))


def zip_folder(folder: Path, zpath: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, prefix + f.name)
    return zpath


def zip_bytes(zpath: Path, files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(zpath, "w", method) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return zpath


def write_gpkg(path: Path, layer: str = "plots", geometry_type: str = "Polygon",
               crs: str = "EPSG:32642") -> Path:
    if geometry_type == "Polygon":
        geoms = [shapely.box(500000, 5400000, 501000, 5401000), shapely.box(502000, 5400000, 503000, 5401000)]
    else:
        geoms = [shapely.Point(500000, 5400000), shapely.Point(500100, 5400100)]
    pyogrio.raw.write(str(path), np.array([shapely.to_wkb(g) for g in geoms], dtype=object),
                      [np.array(["ТОО Кен", KK], dtype=object), np.array([1.5, np.nan]),
                       np.array(["2023-05-01", "2024-02-29"], dtype="datetime64[D]")],
                      ["holder", "area", "issued"], geometry_type=geometry_type, crs=crs,
                      driver="GPKG", layer=layer)
    return path


def feature_collection(features: list[dict[str, Any]], **extra: Any) -> str:
    return json.dumps({"type": "FeatureCollection", **extra, "features": features}, ensure_ascii=False)


def feature(props: dict[str, Any], geometry: dict[str, Any] | None) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


SQUARE = {"type": "Polygon", "coordinates": [[[76, 49], [77, 49], [77, 50], [76, 50], [76, 49]]]}


# -------------------------------------------------------------------------------------- GeoJSON


def test_geojson_types_order_and_wgs84(tmp_path: Path) -> None:
    path = tmp_path / "zones.geojson"
    path.write_text(feature_collection([
        feature({"name": KK, "n": 3, "area": 1.25, "ok": True, "since": "2024-01-15"}, SQUARE),
        feature({"name": "Б", "n": None, "area": None, "ok": False, "since": None}, None),
        feature({"name": "В", "n": 7, "area": 2.0, "ok": None, "since": "2020-12-31"},
                {"type": "Point", "coordinates": [80.5, 45.25]}),
    ]), encoding="utf-8")
    data = read(path)
    assert (data.file, data.format, data.encoding) == ("zones.geojson", "geojson", None)
    assert data.crs == pyproj.CRS.from_epsg(4326)
    assert data.geometries[0].equals(shapely.geometry.shape(SQUARE))
    assert data.geometries[1] is None
    assert (data.geometries[2].x, data.geometries[2].y) == (80.5, 45.25)
    assert data.columns["name"] == [KK, "Б", "В"]
    assert data.columns["n"] == [3, None, 7] and all(type(v) is int for v in data.columns["n"] if v)
    assert data.columns["area"] == [1.25, None, 2.0]
    assert data.columns["ok"] == [True, False, None]
    assert data.columns["since"] == [dt.date(2024, 1, 15), None, dt.date(2020, 12, 31)]


@pytest.mark.parametrize("crs_name", ["urn:ogc:def:crs:EPSG::28412", "EPSG:28412",
                                      "http://www.opengis.net/def/crs/EPSG/0/28412"])
def test_geojson_legacy_crs_member_is_honoured(tmp_path: Path, crs_name: str) -> None:
    path = tmp_path / "gk.json"
    path.write_text(feature_collection(
        [feature({"a": 1}, {"type": "Point", "coordinates": [12500000, 5400000]})],
        crs={"type": "name", "properties": {"name": crs_name}}))
    data = read(path)
    assert data.crs == pyproj.CRS.from_epsg(28412)
    assert data.geometries[0].x == 12500000


@pytest.mark.parametrize("crs_member", [
    '{"type": "link", "properties": {"href": "http://127.0.0.1:9/x.wkt", "type": "ogcwkt"}}',
    '{"type": "name", "properties": {"name": "http://127.0.0.1:9/crs"}}',
    '{"type": "name", "properties": {"name": "/etc/passwd"}}',
])
@pytest.mark.parametrize("key", ['"crs"', '"\\u0063rs"'])
def test_geojson_crs_that_gdal_would_fetch_is_refused(tmp_path: Path, crs_member: str, key: str) -> None:
    path = tmp_path / "ssrf.geojson"
    path.write_text('{"type": "FeatureCollection", ' + key + ": " + crs_member + ', "features": ['
                    + json.dumps(feature({}, SQUARE)) + "]}")
    err = fails("geojson.crs_unsupported", lambda: read(path))
    assert err.location.file == "ssrf.geojson"


def test_geojson_attribute_named_crs_is_just_data(tmp_path: Path) -> None:
    path = tmp_path / "zones.geojson"
    path.write_text(feature_collection([feature({"crs": "Пулково-42, зона 12"}, SQUARE)]))
    assert read(path).columns["crs"] == ["Пулково-42, зона 12"]


def test_gdal_pipeline_or_vrt_disguised_as_geojson_is_not_run(tmp_path: Path) -> None:
    secret = tmp_path / "secret.geojson"
    secret.write_text(feature_collection([feature({"secret": "s3cr3t"}, SQUARE)]))
    gdalg = tmp_path / "a.geojson"
    gdalg.write_text(json.dumps({"type": "gdal_streamed_alg",
                                 "command_line": f"gdal vector pipeline ! read {secret} ! write --of stream x"}))
    err = fails("upload.unreadable", lambda: read(gdalg))
    assert str(tmp_path) not in err.params["detail"]
    vrt = tmp_path / "b.geojson"
    vrt.write_text(f'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>{secret}</SrcDataSource>'
                   "</OGRVRTLayer></OGRVRTDataSource>")
    fails("upload.unknown_format", lambda: read(vrt))


def test_garbage_and_truncated_geojson(tmp_path: Path) -> None:
    garbage = tmp_path / "zones.geojson"
    garbage.write_bytes(bytes(range(256)) * 4)
    err = fails("upload.corrupt", lambda: read(garbage))
    assert err.params["format"] == "GeoJSON" and err.location.file == "zones.geojson"

    truncated = tmp_path / "cut.geojson"
    truncated.write_text(feature_collection([feature({"a": 1}, SQUARE)] * 3)[:-40])
    err = fails("upload.unreadable", lambda: read(truncated))
    assert "geoservice-upload-" not in err.params["detail"] and "/tmp" not in err.params["detail"]


def test_geojson_without_features_and_empty_file(tmp_path: Path) -> None:
    (tmp_path / "none.geojson").write_text(feature_collection([]))
    fails("upload.empty", lambda: read(tmp_path / "none.geojson"))
    (tmp_path / "zero.geojson").write_bytes(b"")
    err = fails("upload.empty", lambda: read(tmp_path / "zero.geojson"))
    assert err.location.file == "zero.geojson"


# ------------------------------------------------------------------------------------ Shapefile


def test_shapefile_cp1251_from_cpg(tmp_path: Path) -> None:
    folder = write_shapefile(tmp_path / "shp", encoding="cp1251", field="имя")
    assert (folder / "plots.cpg").read_text().strip().upper() == "CP1251"
    data = read(zip_folder(folder, tmp_path / "upload.zip"))
    assert (data.file, data.format, data.encoding) == ("plots.shp", "shapefile", "cp1251")
    assert data.columns["имя"] == [RU, "Второй"]
    assert data.columns["num"] == [1, 2]
    assert data.columns["issued"] == [dt.date(2024, 1, 15)] * 2
    assert note_of(data, "shapefile.encoding_from_cpg")["encoding"] == "cp1251"
    assert data.geometries[1].equals(shapely.box(1, 1, 2, 2))


def test_shapefile_cp1251_from_language_driver_byte(tmp_path: Path) -> None:
    folder = write_shapefile(tmp_path / "shp", encoding="cp1251")
    (folder / "plots.cpg").unlink()
    set_ldid(folder, "plots", 0xC9)
    data = read(zip_folder(folder, tmp_path / "upload.zip"))
    assert data.encoding == "cp1251" and data.columns["name"] == [RU, "Второй"]
    ldid = note_of(data, "shapefile.encoding_from_ldid")
    assert (ldid["driver"], ldid["encoding"]) == ("0xC9", "cp1251")


def test_shapefile_cp866_from_language_driver_byte(tmp_path: Path) -> None:
    folder = write_shapefile(tmp_path / "shp", encoding="cp866")
    (folder / "plots.cpg").unlink()
    set_ldid(folder, "plots", 0x26)
    data = read(zip_folder(folder, tmp_path / "upload.zip"))
    assert data.encoding == "cp866" and data.columns["name"] == [RU, "Второй"]


def test_shapefile_encoding_given_by_user(tmp_path: Path) -> None:
    # cp866 with neither .cpg nor language driver: only the user can know.
    folder = write_shapefile(tmp_path / "shp", encoding="cp866")
    (folder / "plots.cpg").unlink()
    set_ldid(folder, "plots", 0)
    upload = zip_folder(folder, tmp_path / "upload.zip")
    assert read(upload).columns["name"] != [RU, "Второй"]
    data = read(upload, encoding="CP866")
    assert data.encoding == "cp866" and data.columns["name"] == [RU, "Второй"]
    assert note_of(data, "shapefile.encoding_chosen")["encoding"] == "cp866"


def test_user_encoding_wins_over_cpg(tmp_path: Path) -> None:
    folder = write_shapefile(tmp_path / "shp", encoding="cp866")
    (folder / "plots.cpg").write_text("1251")
    upload = zip_folder(folder, tmp_path / "upload.zip")
    assert read(upload).columns["name"] != [RU, "Второй"]
    assert read(upload, encoding="cp866").columns["name"] == [RU, "Второй"]


def test_shapefile_ansi_language_driver_is_guessed_as_cp1251(tmp_path: Path) -> None:
    folder = write_shapefile(tmp_path / "shp", encoding="cp1251")
    (folder / "plots.cpg").unlink()
    set_ldid(folder, "plots", 0x57)
    data = read(zip_folder(folder, tmp_path / "upload.zip"))
    assert data.encoding == "cp1251" and data.columns["name"] == [RU, "Второй"]
    guessed = note_of(data, "shapefile.encoding_guessed_cp1251")
    assert (guessed["driver"], guessed["encoding"]) == ("0x57", "cp1251")


def test_shapefile_utf8_kazakh(tmp_path: Path) -> None:
    folder = write_shapefile(tmp_path / "shp", names=[KK, "Өскемен ұңғыма"], field="атауы")
    data = read(zip_folder(folder, tmp_path / "upload.zip"))
    assert data.encoding == "utf-8"
    assert data.columns["атауы"] == [KK, "Өскемен ұңғыма"]
    # the same bytes without .cpg are recognised as UTF-8 instead of GDAL's Latin-1 default
    (folder / "plots.cpg").unlink()
    data = read(zip_folder(folder, tmp_path / "nocpg.zip"))
    assert data.encoding == "utf-8" and data.columns["атауы"] == [KK, "Өскемен ұңғыма"]


def test_wrong_encoding_given_names_feature_and_field(tmp_path: Path) -> None:
    folder = write_shapefile(tmp_path / "shp", encoding="cp1251", names=["Latin", RU])
    err = fails("upload.encoding_mismatch", lambda: read(zip_folder(folder, tmp_path / "u.zip"),
                                                         encoding="utf-8"))
    assert (err.location.file, err.location.feature, err.location.field) == ("plots.shp", 2, "name")
    fails("upload.unknown_encoding", lambda: read(tmp_path / "u.zip", encoding="klingon"))
    fails("upload.unknown_encoding", lambda: read(tmp_path / "u.zip", encoding="base64"))


def test_shapefile_prj_and_no_prj(tmp_path: Path) -> None:
    folder = write_shapefile(tmp_path / "gk")
    data = read(zip_folder(folder, tmp_path / "gk.zip"))
    assert data.crs == pyproj.CRS.from_epsg(28412)

    bare = write_shapefile(tmp_path / "bare", crs=None)
    assert not (bare / "plots.prj").exists()
    data = read(zip_folder(bare, tmp_path / "bare.zip"))
    assert data.crs is None
    assert note_of(data, "shapefile.no_prj")["file"] == "plots.shp"


def test_shapefile_without_prj_is_noted_in_three_languages(tmp_path: Path) -> None:
    data = read(zip_folder(write_shapefile(tmp_path / "bare", crs=None), tmp_path / "bare.zip"))
    missing = note_of(data, "shapefile.no_prj")
    assert missing["message"]["ru"] == "Для plots.shp нет файла .prj: система координат не указана."
    assert missing["message"]["en"] == "plots.shp has no .prj file: its coordinate system is not declared."
    assert missing["message"]["kk"].startswith("plots.shp үшін .prj файлы жоқ")
    assert all(isinstance(n, dict) and n["code"] != "reader.note" for n in data.notes)


def test_cp1251_dbf_without_cpg_is_guessed_and_noted(tmp_path: Path) -> None:
    folder = write_shapefile(tmp_path / "shp", encoding="cp1251")
    (folder / "plots.cpg").unlink()
    set_ldid(folder, "plots", 0)  # no language driver either: only the bytes tell
    data = read(zip_folder(folder, tmp_path / "upload.zip"))
    assert data.encoding == "cp1251" and data.columns["name"] == [RU, "Второй"]
    guessed = note_of(data, "shapefile.encoding_guessed_cp1251")
    assert (guessed["file"], guessed["driver"], guessed["encoding"]) == ("plots.shp", "0x00", "cp1251")
    assert "Windows-1251" in guessed["message"]["ru"] and "кодировку при загрузке" in guessed["message"]["ru"]
    assert "кодталуды көрсетіңіз" in guessed["message"]["kk"]
    assert [n["code"] for n in data.notes] == ["shapefile.encoding_guessed_cp1251"]


def test_text_cut_mid_character_is_noted_once_per_field(tmp_path: Path) -> None:
    # DBF fields have a byte width: writers cut UTF-8 mid-letter, in the values and the names.
    folder = write_shapefile(tmp_path / "shp", names=["x" * 10, "y" * 10])
    dbf = folder / "plots.dbf"
    raw = dbf.read_bytes()
    cut = "Ә".encode() + b"z" * 7 + "Ә".encode()[:1]
    raw = raw.replace(b"x" * 10, cut).replace(b"y" * 10, cut)
    raw = raw.replace(b"name\x00", "и".encode() + "и".encode()[:1] + b"\x00\x00", 1)  # same 5 bytes
    dbf.write_bytes(raw)
    data = read(zip_folder(folder, tmp_path / "u.zip"))
    assert data.columns["и"] == ["Әzzzzzzz"] * 2
    text = note_of(data, "shapefile.text_cut")
    assert (text["field"], text["count"], text["feature"]) == ("и", 2, 1)
    assert note_of(data, "shapefile.field_name_cut")["field"] == "и"


@pytest.mark.parametrize("prj", ["EPSG:28412", "PROJCS[\"broken\"]", "http://127.0.0.1:9/x.prj"])
def test_unusable_prj_leaves_crs_undeclared(tmp_path: Path, prj: str) -> None:
    folder = write_shapefile(tmp_path / "shp")
    (folder / "plots.prj").write_text(prj)
    data = read(zip_folder(folder, tmp_path / "u.zip"))
    assert data.crs is None and len(data.geometries) == 2
    assert note_of(data, "shapefile.prj_unreadable")["file"] == "plots.shp"
    assert not notes_of(data, "shapefile.no_prj")


def test_vrt_disguised_as_shp_is_not_opened(tmp_path: Path) -> None:
    secret = tmp_path / "secret.geojson"
    secret.write_text(feature_collection([feature({"secret": "s3cr3t"}, SQUARE)]))
    folder = write_shapefile(tmp_path / "shp")
    (folder / "plots.shp").write_text(f'<OGRVRTDataSource><OGRVRTLayer name="plots"><SrcDataSource>{secret}'
                                      "</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>")
    err = fails("upload.corrupt", lambda: read(zip_folder(folder, tmp_path / "u.zip")))
    assert err.params["format"] == "Shapefile"


def test_shapefile_in_subfolder_with_macos_junk(tmp_path: Path) -> None:
    folder = write_shapefile(tmp_path / "shp")
    upload = zip_folder(folder, tmp_path / "upload.zip", prefix="Границы/")
    with zipfile.ZipFile(upload, "a") as zf:
        zf.writestr("__MACOSX/Границы/._plots.shp", b"junk")
        zf.writestr("Границы/readme.txt", "не данные")
    data = read(upload)
    assert data.file == "Границы/plots.shp" and len(data.geometries) == 2


def test_zip_with_two_shapefiles_names_them(tmp_path: Path) -> None:
    write_shapefile(tmp_path / "shp", "a")
    write_shapefile(tmp_path / "shp", "b")
    err = fails("archive.several_datasets", lambda: read(zip_folder(tmp_path / "shp", tmp_path / "u.zip")))
    assert "a.shp" in err.params["found"] and "b.shp" in err.params["found"]
    assert err.location.file == "u.zip"


def test_shapefile_missing_dbf(tmp_path: Path) -> None:
    folder = write_shapefile(tmp_path / "shp")
    (folder / "plots.dbf").unlink()
    err = fails("shapefile.part_missing", lambda: read(zip_folder(folder, tmp_path / "u.zip")))
    assert err.params["part"] == "plots.dbf" and err.location.file == "plots.shp"


def test_damaged_shapefile_does_not_leak_paths(tmp_path: Path) -> None:
    folder = write_shapefile(tmp_path / "shp")
    shp = folder / "plots.shp"
    shp.write_bytes(shp.read_bytes()[:60])
    err = fails("upload.unreadable", lambda: read(zip_folder(folder, tmp_path / "u.zip")))
    assert "geoservice-upload-" not in err.params["detail"]


def test_lone_shp_is_asked_to_be_zipped(tmp_path: Path) -> None:
    folder = write_shapefile(tmp_path / "shp")
    fails("shapefile.not_zipped", lambda: read(folder / "plots.shp"))
    fails("shapefile.not_zipped", lambda: read(folder / "plots.dbf"))


def test_cpg_spellings() -> None:
    assert codec_from_cpg("UTF-8") == "utf-8"
    assert codec_from_cpg("1251") == "cp1251"
    assert codec_from_cpg("ANSI 1251") == "cp1251"
    assert codec_from_cpg("8859_5") == "iso8859-5"
    assert codec_from_cpg("88591") == "iso8859-1"
    assert codec_from_cpg("65001") == "utf-8"
    assert codec_from_cpg("nonsense") is None
    assert codec_from_cpg("") is None


# ----------------------------------------------------------------------------------- GeoPackage


def test_geopackage_utm(tmp_path: Path) -> None:
    data = read(write_gpkg(tmp_path / "plots.gpkg"))
    assert (data.file, data.format, data.encoding) == ("plots.gpkg", "gpkg", None)
    assert data.crs == pyproj.CRS.from_epsg(32642)
    assert data.columns["holder"] == ["ТОО Кен", KK]
    assert data.columns["area"] == [1.5, None]
    assert data.columns["issued"] == [dt.date(2023, 5, 1), dt.date(2024, 2, 29)]
    assert data.geometries[0].bounds == (500000, 5400000, 501000, 5401000)


def test_geopackage_attribute_tables_are_not_layers(tmp_path: Path) -> None:
    path = tmp_path / "plots.gpkg"
    pyogrio.raw.write(str(path), None, [np.array([1])], ["i"], geometry_type=None, driver="GPKG", layer="codes")
    fails("upload.empty", lambda: read(path))
    write_gpkg(path)
    data = read(path, encoding="cp1251")
    assert data.columns["holder"] == ["ТОО Кен", KK] and data.encoding is None
    unused = note_of(data, "note.encoding_not_used")
    assert (unused["encoding"], unused["format"]) == ("cp1251", "GeoPackage")


def test_geopackage_takes_the_only_polygon_layer(tmp_path: Path) -> None:
    path = write_gpkg(tmp_path / "two.gpkg", "wells", "Point")
    write_gpkg(path, "plots", "Polygon")
    data = read(path)
    assert data.geometries[0].geom_type == "Polygon"
    assert note_of(data, "gpkg.polygon_layer_chosen")["layer"] == "plots"

    write_gpkg(path, "zones", "Polygon")
    err = fails("gpkg.several_layers", lambda: read(path))
    assert {"wells", "plots", "zones"} <= set(err.params["layers"].split(", "))


def test_truncated_geopackage(tmp_path: Path) -> None:
    path = write_gpkg(tmp_path / "plots.gpkg")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    err = fails("upload.corrupt", lambda: read(path))
    assert err.params["format"] == "GeoPackage"


def test_geopackage_named_zip_is_read_by_content(tmp_path: Path) -> None:
    path = write_gpkg(tmp_path / "plots.gpkg")
    data = read(path, "plots.zip")
    assert data.format == "gpkg"
    by_content = note_of(data, "note.format_by_content")
    assert (by_content["file"], by_content["named"], by_content["found"]) == ("plots.zip", "ZIP", "GeoPackage")


# ------------------------------------------------------------------------------------ KML / KMZ

KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Schema name="plots" id="plots"><SimpleField name="licence" type="string"/>
<SimpleField name="area" type="double"/><SimpleField name="blocks" type="int"/></Schema>
<Folder><name>A</name>
<Placemark><name>Участок 1</name><description>Описание ә</description>
<ExtendedData><SchemaData schemaUrl="#plots"><SimpleData name="licence">123-ТПИ</SimpleData>
<SimpleData name="area">12.5</SimpleData><SimpleData name="blocks">4</SimpleData></SchemaData></ExtendedData>
<Polygon><outerBoundaryIs><LinearRing><coordinates>
76.0,49.0,0 76.1,49.0,0 76.1,49.1,0 76.0,49.1,0
</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
</Folder>
<Placemark><name>P2</name><ExtendedData><Data name="owner"><value>ТОО Кен</value></Data></ExtendedData>
<Point><coordinates>76.5, 49.5</coordinates></Point></Placemark>
<Folder><Placemark><name>P3</name><MultiGeometry>
<LineString><coordinates>76,49 77,50</coordinates></LineString>
<LineString><coordinates>78,49 79,50</coordinates></LineString></MultiGeometry></Placemark></Folder>
</Document></kml>
"""


def test_kml_placemarks_in_file_order_with_extended_data(tmp_path: Path) -> None:
    path = tmp_path / "plots.kml"
    path.write_text(KML, encoding="utf-8")
    data = read(path)
    assert (data.format, data.crs) == ("kml", pyproj.CRS.from_epsg(4326))
    assert data.columns["name"] == ["Участок 1", "P2", "P3"]
    assert data.columns["description"] == ["Описание ә", None, None]
    assert data.columns["licence"] == ["123-ТПИ", None, None]
    assert data.columns["area"] == [12.5, None, None]
    assert data.columns["blocks"] == [4, None, None]
    assert data.columns["owner"] == [None, "ТОО Кен", None]
    polygon, point, lines = data.geometries
    assert list(polygon.exterior.coords) == [(76.0, 49.0), (76.1, 49.0), (76.1, 49.1), (76.0, 49.1), (76.0, 49.0)]
    closed = note_of(data, "kml.ring_closed")
    assert (closed["count"], closed["features"]) == (1, "1")
    assert (point.x, point.y) == (76.5, 49.5)
    assert lines.geom_type == "MultiLineString"


def test_unclosed_kml_rings_give_one_note_in_three_languages(tmp_path: Path) -> None:
    def placemark(coords: str) -> str:
        return (f"<Placemark><Polygon><outerBoundaryIs><LinearRing><coordinates>{coords}</coordinates>"
                "</LinearRing></outerBoundaryIs></Polygon></Placemark>")

    path = tmp_path / "rings.kml"
    path.write_text('<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
                    + placemark("76,49 76.1,49 76.1,49.1")
                    + placemark("77,49 77.1,49 77.1,49.1 77,49")
                    + placemark("78,49 78.1,49 78.1,49.1") + "<NetworkLink/></Document></kml>")
    data = read(path)
    assert all(g.exterior.is_closed for g in data.geometries)
    closed = note_of(data, "kml.ring_closed")
    assert (closed["count"], closed["features"]) == (2, "1, 3")
    assert closed["message"]["ru"] == ("Незамкнутые контуры полигонов замкнуты автоматически у объектов: 2 "
                                       "(номера: 1, 3).")
    assert all("1, 3" in text for text in closed["message"].values())
    assert note_of(data, "kml.ignored_elements")["count"] == 1


def test_kmz(tmp_path: Path) -> None:
    upload = zip_bytes(tmp_path / "plots.kmz", {"doc.kml": KML.encode(), "files/icon.png": b"\x89PNG"})
    data = read(upload)
    assert (data.file, data.format) == ("doc.kml", "kmz")
    assert len(data.geometries) == 3


BOMB = """<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&c;</name></Placemark></kml>"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&xxe;</name></Placemark></kml>"""


@pytest.mark.parametrize("doc", [BOMB, XXE, '<!DOCTYPE kml SYSTEM "http://127.0.0.1:9/x.dtd"><kml/>'])
def test_kml_with_doctype_or_entities_is_refused(tmp_path: Path, doc: str) -> None:
    path = tmp_path / "evil.kml"
    path.write_text(doc)
    err = fails("kml.forbidden_dtd", lambda: read(path))
    assert err.location.file == "evil.kml"
    kmz = zip_bytes(tmp_path / "evil.kmz", {"doc.kml": doc.encode()})
    err = fails("kml.forbidden_dtd", lambda: read(kmz))
    assert err.location.file == "doc.kml"


def test_kml_bad_coordinates_name_the_placemark(tmp_path: Path) -> None:
    path = tmp_path / "bad.kml"
    path.write_text(KML.replace("76.5, 49.5", "76.5;49.5"))
    err = fails("upload.bad_geometry", lambda: read(path))
    assert err.location.feature == 2


def test_kml_content_named_json_is_read_as_kml(tmp_path: Path) -> None:
    path = tmp_path / "plots.json"
    path.write_text(KML)
    data = read(path)
    assert data.format == "kml" and note_of(data, "note.format_by_content")["found"] == "KML"


# ------------------------------------------------------------------------------------------ CSV


def test_csv_wkt_semicolon_cp1251(tmp_path: Path) -> None:
    path = tmp_path / "zones.csv"
    path.write_bytes(
        "Название;WKT;Площадь\n"
        f"{RU};POLYGON((76 49, 77 49, 77 50, 76 49));12,5\n"
        "Пусто;;\n".encode("cp1251"))
    data = read(path)
    assert (data.format, data.encoding, data.crs) == ("csv", "cp1251", None)
    assert data.geometries[0].equals(shapely.from_wkt("POLYGON((76 49, 77 49, 77 50, 76 49))"))
    assert data.geometries[1] is None
    assert data.columns == {"Название": [RU, "Пусто"], "Площадь": ["12,5", None]}


def test_semicolon_csv_with_commas_in_header_and_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "wells.csv"
    path.write_text("Скважина;Долгота, в.д.;Широта, с.ш.\nС-1;77,5;49,25\nС-2;78,75;50,5\n", encoding="utf-8")
    data = read(path)
    assert [(g.x, g.y) for g in data.geometries] == [(77.5, 49.25), (78.75, 50.5)]


def test_csv_ewkt_declares_its_crs(tmp_path: Path) -> None:
    path = tmp_path / "zones.csv"
    path.write_text('id,geom\n1,"SRID=32642;POINT(500000 5400000)"\n')
    data = read(path)
    assert data.crs == pyproj.CRS.from_epsg(32642)


def test_csv_bad_wkt(tmp_path: Path) -> None:
    path = tmp_path / "zones.csv"
    path.write_text('id,wkt\n1,"POINT(1 2)"\n2,"POLYGON((1 2, 3"\n')
    err = fails("csv.bad_wkt", lambda: read(path))
    assert (err.location.feature, err.location.field, err.params["line"]) == (2, "wkt", 3)


def test_csv_lon_lat_points_utf8_bom(tmp_path: Path) -> None:
    path = tmp_path / "wells.csv"
    path.write_bytes("\ufeffНомер скважины,Долгота (WGS 84),Широта\nС-1,76.95,43.25\nС-2,\"77,5\",\"44,125\"\n"
                     .encode())
    data = read(path)
    assert (data.format, data.encoding) == ("csv", "utf-8")
    assert [(g.x, g.y) for g in data.geometries] == [(76.95, 43.25), (77.5, 44.125)]
    assert data.columns == {"Номер скважины": ["С-1", "С-2"]}


def test_csv_with_unique_ids_is_points_not_polygons(tmp_path: Path) -> None:
    path = tmp_path / "wells.csv"
    path.write_text("id,lon,lat\n1,76,43\n2,77,44\n3,78,45\n")
    data = read(path)
    assert data.format == "csv" and [g.geom_type for g in data.geometries] == ["Point"] * 3
    assert data.columns["id"] == ["1", "2", "3"]


def test_corner_table_decimal(tmp_path: Path) -> None:
    path = tmp_path / "corners.csv"
    path.write_text("id,point,lat,lon,holder\n"
                    "A,2,49.5,77.5,ТОО Кен\n"
                    "A,1,49.5,77.0,ТОО Кен\n"
                    "B,1,50,78\n"
                    "A,3,49.0,77.5,\n"
                    "B,2,50,79\nB,3,51,79\nB,4,50,78\n"
                    "A,4,49.0,77.0,\n")
    data = read(path)
    assert data.format == "corner-table" and data.crs is None
    assert data.columns == {"id": ["A", "B"], "holder": ["ТОО Кен", None]}
    a, b = data.geometries
    assert list(a.exterior.coords) == [(77.0, 49.5), (77.5, 49.5), (77.5, 49.0), (77.0, 49.0), (77.0, 49.5)]
    assert list(b.exterior.coords) == [(78, 50), (79, 50), (79, 51), (78, 50)]
    closed = note_of(data, "csv.ring_closed")
    assert (closed["count"], closed["polygons"]) == (1, "«A»")  # B's last point is its first


def test_table_notes_are_coded(tmp_path: Path) -> None:
    path = tmp_path / "corners.csv"
    path.write_bytes("участок;точка;lat;lon;владелец;владелец\n"
                     "A;1;49;77;ТОО Кен;x\n;2;49;78;ТОО Бір;;лишнее\n;3;50;78;;\n"
                     "B;1;51;77;;\nB;2;51;78;;\nB;3;52;78;;\n".encode("cp1251"))
    data = read(path)
    assert data.format == "corner-table" and data.encoding == "cp1251"
    assert note_of(data, "csv.encoding_cp1251")["file"] == "corners.csv"
    assert (note_of(data, "csv.duplicate_column")["renamed"]) == "владелец_2"
    extra = note_of(data, "csv.extra_cells")
    assert (extra["count"], extra["line"]) == (1, 3)
    assert note_of(data, "csv.corner_id_filled_down")["column"] == "участок"
    differ = note_of(data, "csv.corner_values_differ")
    assert (differ["column"], differ["count"], differ["polygons"]) == ("владелец", 1, "«A»")
    closed = note_of(data, "csv.ring_closed")
    assert (closed["count"], closed["polygons"]) == (2, "«A», «B»")
    assert data.columns["владелец"] == ["ТОО Кен", None]


def test_long_lists_in_notes_are_cut() -> None:
    from importers.messages import listing

    assert listing([1, 2, 3]) == "1, 2, 3"
    assert listing(list(range(1, 14))) == "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, … (+3)"


def test_corner_table_dms_tab_separated_txt(tmp_path: Path) -> None:
    path = tmp_path / "Ақжол.txt"
    path.write_text("Участок\t№ точки\tСеверная широта\tВосточная долгота\n"
                    "Ақжол\t1\t49°12'30,5\" N\t77°10'05\" E\n"
                    "\t2\t49 12 30.5\t77°15'\n"
                    "\t3\t49°10.5'\t77°15'00\"в.д.\n"
                    "\t4\t49:10:30 с.ш.\t77 10 05\n", encoding="utf-8")
    data = read(path)
    assert data.format == "corner-table"
    lat1 = 49 + 12 / 60 + 30.5 / 3600
    lon1 = 77 + 10 / 60 + 5 / 3600
    expected = [(lon1, lat1), (77.25, lat1), (77.25, 49.175), (lon1, 49.175), (lon1, lat1)]
    got = list(data.geometries[0].exterior.coords)
    assert np.allclose(got, expected, rtol=0, atol=1e-12), got
    assert data.columns == {"Участок": ["Ақжол"]}


def test_corner_table_too_few_points(tmp_path: Path) -> None:
    path = tmp_path / "corners.csv"
    path.write_text("plot;n;lat;lon\nA;1;49;77\nA;2;49;78\nA;3;50;78\nB;1;49;77\nB;2;49;78\nB;3;49;77\n")
    err = fails("csv.corner_too_few_points", lambda: read(path))
    assert (err.params["id"], err.params["count"], err.location.feature) == ("B", 2, 2)


def test_corner_table_duplicate_point_number(tmp_path: Path) -> None:
    path = tmp_path / "corners.csv"
    path.write_text("plot,n,lat,lon\nA,1,49,77\nA,2,49,78\nA,2,50,78\nA,3,50,77\n")
    err = fails("csv.corner_duplicate_point", lambda: read(path))
    assert (err.params["id"], err.params["number"]) == ("A", 2)


@pytest.mark.parametrize(("cell", "key"), [
    ("49°12'x", "csv.bad_coordinate"),
    ("сорок девять", "csv.bad_coordinate"),
    ("49°61'00\"", "csv.dms_out_of_range"),
    ("49 12 60", "csv.dms_out_of_range"),
    ("91", "csv.coordinate_out_of_range"),
    ("49 12 30 E", "csv.bad_coordinate"),
])
def test_corner_table_bad_coordinate_names_row_and_column(tmp_path: Path, cell: str, key: str) -> None:
    path = tmp_path / "corners.csv"
    rows = [("A", "1", "49", "77"), ("A", "2", cell, "78"), ("A", "3", "50", "78")]
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([("Участок", "Точка", "Широта", "Долгота"), *rows])
    err = fails(key, lambda: read(path))
    assert err.params["line"] == 3 and err.params["column"] == "Широта" and err.params["value"] == cell
    assert (err.location.feature, err.location.field) == (1, "Широта")


def test_points_bad_coordinate_is_located_by_row(tmp_path: Path) -> None:
    path = tmp_path / "wells.csv"
    path.write_text("name,lon,lat\na,76,43\nb,76,43\nc,7б,43\n")
    err = fails("csv.bad_coordinate", lambda: read(path))
    assert (err.location.feature, err.location.field, err.params["line"]) == (3, "lon", 4)


def test_csv_without_coordinates_and_without_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("name,area\na,1\n")
    err = fails("csv.no_geometry", lambda: read(path))
    assert err.params["columns"] == "name, area"
    path.write_text("id,lon,lat\n")
    fails("upload.empty", lambda: read(path))


def test_csv_in_zip(tmp_path: Path) -> None:
    upload = zip_bytes(tmp_path / "u.zip", {"coords/corners.csv": b"id,n,lat,lon\n1,1,49,77\n1,2,49,78\n1,3,50,78\n"})
    data = read(upload)
    assert (data.file, data.format) == ("coords/corners.csv", "corner-table")


# ------------------------------------------------------------------------------------- archives


def test_truncated_zip(tmp_path: Path) -> None:
    upload = zip_folder(write_shapefile(tmp_path / "shp"), tmp_path / "u.zip")
    upload.write_bytes(upload.read_bytes()[:300])
    err = fails("upload.corrupt", lambda: read(upload))
    assert err.params["format"] == "ZIP" and err.location.file == "u.zip"


@pytest.mark.parametrize("member", ["../evil.geojson", "/etc/evil.geojson", "a/../../evil.geojson",
                                    "..\\evil.geojson", "C:/evil.geojson"])
def test_path_traversal_is_refused(tmp_path: Path, member: str) -> None:
    upload = tmp_path / "up" / "u.zip"
    upload.parent.mkdir()
    zip_bytes(upload, {"ok.txt": b"x", member: feature_collection([feature({}, SQUARE)]).encode()})
    assert member in zipfile.ZipFile(upload).namelist()  # the hostile name really is in the archive
    err = fails("archive.unsafe_path", lambda: read(upload))
    assert err.params["member"] == member
    assert not (tmp_path / "evil.geojson").exists() and not list(tmp_path.glob("evil*"))


def test_symlink_member_is_refused(tmp_path: Path) -> None:
    info = zipfile.ZipInfo("plots.geojson")
    info.create_system = 3
    info.external_attr = (0o120777 << 16)
    with zipfile.ZipFile(tmp_path / "u.zip", "w") as zf:
        zf.writestr(info, "/etc/passwd")
    err = fails("archive.symlink", lambda: read(tmp_path / "u.zip"))
    assert err.params["member"] == "plots.geojson"


def test_encrypted_member_is_refused(tmp_path: Path) -> None:
    upload = zip_bytes(tmp_path / "u.zip", {"a.geojson": b"{}"}, zipfile.ZIP_STORED)
    data = bytearray(upload.read_bytes())
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # general purpose flag, bit 0
        pos = data.find(sig)
        data[pos + offset] |= 0x1
    upload.write_bytes(bytes(data))
    fails("archive.encrypted", lambda: read(upload))


def test_zip_over_unpacked_limit(tmp_path: Path) -> None:
    upload = zip_bytes(tmp_path / "u.zip", {"big.geojson": b" " * 5000 + b"{}"})
    err = fails("archive.too_large", lambda: read(upload, limits=Limits(max_unpacked_bytes=4096)),
                status=413)
    assert err.location.file == "u.zip"


def test_zip_with_lying_size_header(tmp_path: Path) -> None:
    content = feature_collection([feature({"pad": "x" * 20000}, SQUARE)]).encode()
    upload = zip_bytes(tmp_path / "u.zip", {"a.geojson": content})
    data = bytearray(upload.read_bytes())
    cd = data.rfind(b"PK\x01\x02")
    assert struct.unpack("<I", data[cd + 24: cd + 28])[0] == len(content)
    data[cd + 24: cd + 28] = struct.pack("<I", 100)  # central directory claims 100 bytes
    upload.write_bytes(bytes(data))
    fails("upload.corrupt", lambda: read(upload, limits=Limits(max_unpacked_bytes=1000)))


def test_extraction_enforces_the_budget_even_when_headers_pass(tmp_path: Path) -> None:
    upload = zip_bytes(tmp_path / "u.zip", {"a.bin": b"x" * 10000})
    budget = Budget(Limits(max_unpacked_bytes=1_000_000))
    with open_zip(upload, "u.zip", budget) as zf:
        budget.remaining = 5000  # as if an earlier member had used the rest
        err = fails("archive.too_large", lambda: zf.extract(zf.members[0], tmp_path / "out"), status=413)
    assert err.location.file == "u.zip"


def test_too_many_members(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    upload = zip_bytes(tmp_path / "u.zip", {f"f{i}.txt": b"x" for i in range(11)})
    err = fails("archive.too_many_members", lambda: read(upload, limits=Limits(max_archive_members=10)),
                status=413)
    assert (err.params["count"], err.params["limit"]) == (11, 10)
    # refused from the end-of-central-directory record, before zipfile parses every entry
    monkeypatch.setattr(zipfile, "ZipFile", None)
    fails("archive.too_many_members", lambda: read(upload, limits=Limits(max_archive_members=10)),
          status=413)


@pytest.mark.parametrize(("member", "fmt"), [("plots.gpkg", "gpkg"), ("zones.geojson", "geojson"),
                                             ("plots.kml", "kml")])
def test_zip_with_a_single_other_format(tmp_path: Path, member: str, fmt: str) -> None:
    source = tmp_path / member
    if fmt == "gpkg":
        write_gpkg(source)
    elif fmt == "geojson":
        source.write_text(feature_collection([feature({"a": 1}, SQUARE)]))
    else:
        source.write_text(KML)
    data = read(zip_bytes(tmp_path / "u.zip", {f"data/{member}": source.read_bytes(), "readme.txt": b"hi"}))
    assert (data.file, data.format) == (f"data/{member}", fmt)


def test_zip_bomb_ratio(tmp_path: Path) -> None:
    upload = zip_bytes(tmp_path / "u.zip", {"plots.geojson": b"{" + b" " * (6 * 2**20) + b"}"})
    assert upload.stat().st_size < 60_000
    err = fails("archive.bomb", lambda: read(upload), status=413)
    assert err.params["member"] == "plots.geojson" and err.params["ratio"] > 200


def test_nested_archive_one_level_is_read_two_levels_refused(tmp_path: Path) -> None:
    inner = zip_folder(write_shapefile(tmp_path / "shp"), tmp_path / "inner.zip")
    outer = zip_bytes(tmp_path / "outer.zip", {"inner.zip": inner.read_bytes()})
    data = read(outer)
    assert (data.file, data.format) == ("inner.zip/plots.shp", "shapefile")

    deepest = zip_bytes(tmp_path / "deepest.zip", {"outer.zip": outer.read_bytes()})
    err = fails("archive.nested", lambda: read(deepest))
    assert err.location.file == "outer.zip/inner.zip"


def test_archive_without_data_lists_what_it_found(tmp_path: Path) -> None:
    upload = zip_bytes(tmp_path / "u.zip", {"scan.pdf": b"%PDF", "plots.dbf": b"x"})
    err = fails("archive.no_data", lambda: read(upload))
    assert err.params["found"] == "scan.pdf, plots.dbf"


def test_unknown_formats(tmp_path: Path) -> None:
    (tmp_path / "blocks.xlsx").write_bytes(b"PK\x03\x04rest")
    fails("upload.unknown_format", lambda: read(tmp_path / "blocks.xlsx"))
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)))
    err = fails("upload.unknown_format", lambda: read(tmp_path / "blob.bin"))
    assert err.location.file == "blob.bin"
    (tmp_path / "rivers.gml").write_text("<gml:FeatureCollection/>")
    fails("upload.unknown_format", lambda: read(tmp_path / "rivers.gml"))


def test_client_path_is_reduced_to_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_text(feature_collection([feature({}, SQUARE)]))
    assert read(path, "C:\\fakepath\\zones.geojson").file == "zones.geojson"


def test_upload_over_raw_limit(tmp_path: Path) -> None:
    path = tmp_path / "zones.geojson"
    path.write_text(feature_collection([feature({}, SQUARE)]))
    fails("upload.file_too_large", lambda: read(path, limits=Limits(max_upload_bytes=10)), status=413)


# ------------------------------------------------------------------------------------ dms, i18n


@pytest.mark.parametrize(("text", "axis", "value"), [
    ("49°12'30.5\"", "lat", 49 + 12 / 60 + 30.5 / 3600),
    ("49 12 30.5", "lat", 49 + 12 / 60 + 30.5 / 3600),
    ("49°12.5'", "lat", 49 + 12.5 / 60),
    ("49,5", "lat", 49.5),
    ("49.2083°", "lat", 49.2083),
    ("49°12′30,5″ с.ш.", "lat", 49 + 12 / 60 + 30.5 / 3600),
    ("77°10'05\" в.д.", "lon", 77 + 10 / 60 + 5 / 3600),
    ("49 12 30 с.е.", "lat", 49 + 12 / 60 + 30 / 3600),
    ("77 10 05 ш.б.", "lon", 77 + 10 / 60 + 5 / 3600),
    ("N 49:12:30", "lat", 49 + 12 / 60 + 30 / 3600),
    ("49°12'30\"S", "lat", -(49 + 12 / 60 + 30 / 3600)),
    ("-77 10 05", "lon", -(77 + 10 / 60 + 5 / 3600)),
    ("77º10´05´´ E", "lon", 77 + 10 / 60 + 5 / 3600),
    ("77 10 05 B", "lon", 77 + 10 / 60 + 5 / 3600),   # Latin B typed for Cyrillic В
    ("49.5N", "lat", 49.5),
    ("77°15'00\"в.д.", "lon", 77.25),
])
def test_dms_parses(text: str, axis: dms.Axis, value: float) -> None:
    assert dms.parse_angle(text, axis) == pytest.approx(value, abs=1e-12)


@pytest.mark.parametrize(("text", "axis", "reason"), [
    ("49°60'", "lat", "minutes"),
    ("49 12 60", "lat", "seconds"),
    ("49 12 75.5", "lat", "seconds"),
    ("91", "lat", "degrees"),
    ("181°", "lon", "degrees"),
    ("49 12 30 E", "lat", "hemisphere"),
    ("77 10 05 N", "lon", "hemisphere"),
    ("-49 N", "lat", "syntax"),
    ("49.5 12", "lat", "syntax"),
    ("49 12.5 30", "lat", "syntax"),
    ("сорок", "lat", "syntax"),
    ("7б", "lon", "syntax"),          # a typo for 76, not 7° west
    ("49с", "lat", "syntax"),
    ("", "lat", "syntax"),
])
def test_dms_errors(text: str, axis: dms.Axis, reason: str) -> None:
    with pytest.raises(dms.DMSError) as info:
        dms.parse_angle(text, axis)
    assert info.value.reason == reason


def test_parse_number_allows_grouped_thousands_and_decimal_comma() -> None:
    assert dms.parse_number("5 432 100,25") == 5432100.25
    assert dms.parse_number("-12.5") == -12.5
    assert dms.parse_number("49 12 30") is None


def test_every_upload_message_has_three_languages() -> None:
    for key, texts in UPLOAD_MESSAGES.items():
        assert MESSAGES[key] is texts
        assert set(texts) == set(LANGUAGES)
        placeholders = [sorted(set(_fields(texts[lang]))) for lang in LANGUAGES]
        assert placeholders[0] == placeholders[1] == placeholders[2], key


def _fields(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


def test_readers_clean_up_their_temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    upload = zip_folder(write_shapefile(tmp_path / "shp"), tmp_path / "u.zip")
    read(upload)
    fails("archive.too_large", lambda: read(upload, limits=Limits(max_unpacked_bytes=10)), status=413)
    assert list((tmp_path / "tmp").iterdir()) == []
    shutil.rmtree(tmp_path / "shp")

"""Reading stage of authority uploads: one uploaded file (hostile until proven otherwise) becomes
plain arrays of geometries and attribute values, or a clear UploadError.

Nothing here validates against a layer, transforms coordinates or repairs geometry: that comes
after. Geometries are in the source CRS with x = easting/longitude, y = northing/latitude
(traditional GIS order, also for EPSG:4326), so transform them with ``always_xy=True``.

The format is decided by content (magic bytes), the file extension only breaking ties between
text formats. Archives are unpacked by ``importers.archive`` into a temp dir of our own, which is
removed before ``read_upload`` returns."""

from __future__ import annotations

import codecs
import json
import mmap
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pyproj
from pyproj.exceptions import CRSError

from importers.archive import Budget, Limits, Member, SafeZip, is_junk, open_zip
from importers.formats.kml import read_kml
from importers.formats.ogr import UnreadableCRS, list_layers, read_layer
from importers.formats.table import read_table
from importers.messages import note, upload_error

__all__ = ["Limits", "SourceData", "read_upload"]

WGS84 = pyproj.CRS.from_epsg(4326)


@dataclass
class SourceData:
    file: str                  # the file the features came from, as the user knows it
    format: str                # geojson | shapefile | gpkg | kml | kmz | csv | corner-table
    geometries: np.ndarray     # shapely geometries (or None) in the source CRS, in file order
    columns: dict[str, list[Any]]  # attribute name -> values, one per feature
    crs: pyproj.CRS | None     # CRS the file declares; None when it declares none
    encoding: str | None       # codec of attribute text where the file does not fix it (shapefile, CSV)
    notes: list[dict[str, Any]] = field(default_factory=list)  # worth telling the uploader: note()s
    id_column: str | None = None  # corner tables: the column whose values grouped rows into polygons


def read_upload(path: Path, original_name: str, *, encoding: str | None = None,
                limits: Limits | None = None, id_columns: Iterable[str] = ()) -> SourceData:
    """Read one uploaded file. ``original_name`` is the client's file name; ``encoding`` is the
    attribute encoding the user chose (wins over .cpg, the DBF header and guessing);
    ``id_columns`` are further column names that number the polygons of a corner table (the
    target layer's key and its aliases)."""
    limits = limits or Limits()
    name = _client_name(original_name)
    if encoding is not None:
        encoding = _codec(encoding)
    size = path.stat().st_size
    if size == 0:
        raise upload_error("upload.empty", name)
    if size > limits.max_upload_bytes:
        raise upload_error("upload.file_too_large", name, limit_mb=max(1, round(limits.max_upload_bytes / 2**20)))
    with tempfile.TemporaryDirectory(prefix="geoservice-upload-") as tmp:
        return _Reader(Path(tmp), limits, encoding, tuple(id_columns)).read(path, name, depth=0)


# --------------------------------------------------------------------------------- detection

_EXT_KIND = {
    ".geojson": "geojson", ".json": "geojson", ".zip": "zip", ".kmz": "kmz", ".gpkg": "gpkg",
    ".kml": "kml", ".csv": "csv", ".txt": "csv", ".tsv": "csv", ".shp": "shapefile",
}
_LABEL = {"geojson": "GeoJSON", "zip": "ZIP", "kmz": "KMZ", "gpkg": "GeoPackage", "kml": "KML",
          "csv": "CSV", "shapefile": "Shapefile"}
# Formats people do send but that we do not read: refuse by name before looking inside
# (an .xlsx or .docx is a ZIP and would otherwise end as "no data in the archive").
_REFUSED = {".xlsx", ".xls", ".xlsm", ".ods", ".docx", ".doc", ".odt", ".pdf", ".dwg", ".dxf", ".mif",
            ".mid", ".tab", ".gml", ".gpx", ".rar", ".7z", ".gz", ".tgz", ".tar", ".bz2", ".xz",
            ".jpg", ".jpeg", ".png", ".tif", ".tiff"}
_SHAPEFILE_PARTS = {".shx", ".dbf", ".prj", ".cpg", ".sbn", ".sbx", ".qix"}
_ARCHIVE_DATA = {".gpkg", ".geojson", ".json", ".kml", ".kmz", ".csv", ".zip"}
_SQLITE = b"SQLite format 3\x00"
_SHP_MAGIC = b"\x00\x00\x27\x0a"
_KML_ROOT = re.compile(rb"<(?:[\w.-]+:)?kml[\s>/]")


def _client_name(original_name: str) -> str:
    # Browsers on Windows may send "C:\fakepath\plots.zip"; keep the last part, printable only.
    base = re.split(r"[\\/]", original_name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:200] or "upload"


def _codec(encoding: str) -> str:
    try:
        info = codecs.lookup(encoding.strip())
    except (LookupError, ValueError):
        raise upload_error("upload.unknown_encoding", None, encoding=encoding) from None
    if not getattr(info, "_is_text_encoding", True):  # base64, rot13 and friends
        raise upload_error("upload.unknown_encoding", None, encoding=encoding)
    return info.name


def _sniff(path: Path, name: str, notes: list[dict[str, Any]]) -> str:
    ext = PurePosixPath(name).suffix.lower()
    if ext in _REFUSED:
        raise upload_error("upload.unknown_format", name)
    with open(path, "rb") as f:
        head = f.read(8192)
    kind: str | None = None
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        kind = "kmz" if ext == ".kmz" else "zip"
    elif head.startswith(_SQLITE):
        kind = "gpkg"
    elif head.startswith(_SHP_MAGIC) or ext in _SHAPEFILE_PARTS or ext == ".shp":
        raise upload_error("shapefile.not_zipped", name)
    else:
        text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
        if text.startswith(b"{"):
            kind = "geojson"
        elif text.startswith(b"<"):
            if ext == ".kml" or _KML_ROOT.search(head):
                kind = "kml"
            else:
                raise upload_error("upload.unknown_format", name)
        elif ext in (".csv", ".txt", ".tsv"):
            kind = "csv"
    if kind is None:
        if ext in _EXT_KIND:  # named like something we read, but the content is not that
            raise upload_error("upload.corrupt", name, format=_LABEL[_EXT_KIND[ext]])
        raise upload_error("upload.unknown_format", name)
    named = _EXT_KIND.get(ext)
    if named is not None and named != kind and {named, kind} != {"zip", "kmz"}:
        notes.append(note("note.format_by_content", file=name, named=_LABEL[named], found=_LABEL[kind]))
    return kind


# ---------------------------------------------------------------------------- shapefile text

# dBase language driver IDs (DBF header byte 29) -> Python codec. 0x57 ("ANSI": whatever the
# writer's Windows code page was) is deliberately absent: see _guess_dbf_encoding.
_LDID = {
    0x01: "cp437", 0x02: "cp850", 0x03: "cp1252", 0x04: "mac_roman", 0x08: "cp865", 0x09: "cp437",
    0x0A: "cp850", 0x0B: "cp437", 0x0D: "cp437", 0x0E: "cp850", 0x0F: "cp437", 0x10: "cp850",
    0x11: "cp437", 0x12: "cp850", 0x13: "cp932", 0x14: "cp850", 0x15: "cp437", 0x16: "cp850",
    0x17: "cp865", 0x18: "cp437", 0x19: "cp437", 0x1A: "cp850", 0x1B: "cp437", 0x1C: "cp863",
    0x1D: "cp850", 0x1F: "cp852", 0x22: "cp852", 0x23: "cp852", 0x24: "cp860", 0x25: "cp850",
    0x26: "cp866", 0x37: "cp850", 0x40: "cp852", 0x4D: "cp936", 0x4E: "cp949", 0x4F: "cp950",
    0x50: "cp874", 0x58: "cp1252", 0x59: "cp1252", 0x64: "cp852", 0x65: "cp866", 0x66: "cp865",
    0x67: "cp861", 0x6A: "cp737", 0x6B: "cp857", 0x6C: "cp863", 0x78: "cp950", 0x79: "cp949",
    0x7A: "cp936", 0x7B: "cp932", 0x7C: "cp874", 0x86: "cp737", 0x87: "cp852", 0x88: "cp857",
    0x96: "mac_cyrillic", 0x97: "mac_latin2", 0x98: "mac_greek", 0xC8: "cp1250", 0xC9: "cp1251",
    0xCA: "cp1254", 0xCB: "cp1253", 0xCC: "cp1257",
}
_CODE_PAGES = {"65001": "utf-8", "20127": "ascii", "1048": "kz1048", "20866": "koi8_r", "21866": "koi8_u"}


def codec_from_cpg(text: str) -> str | None:
    """A .cpg as ESRI, QGIS and GDAL write it ("UTF-8", "1251", "ANSI 1251", "8859_5") -> codec."""
    t = text.replace("\x00", "").strip().lower()
    if not t:
        return None
    m = re.fullmatch(r"(?:iso)?[\s_-]*8859[\s_-]*(\d{1,2})", t)
    if m:
        t = f"iso8859-{m.group(1)}"
    else:
        m = re.fullmatch(r"(?:ansi|oem|cp|windows|win)?[\s_-]*(\d{3,5})", t)
        if m:
            page = m.group(1)
            if page.startswith("2859") and len(page) == 5:
                t = f"iso8859-{int(page) - 28590}"
            else:
                t = _CODE_PAGES.get(page, f"cp{page}")
    try:
        info = codecs.lookup(t)
    except LookupError:
        return None
    return info.name if getattr(info, "_is_text_encoding", True) else None


def _looks_cyrillic_cp1251(sample: bytes) -> bool:
    """Russian/Kazakh words in cp1251 are runs of high bytes; Latin-1 text has lone accents."""
    high = sum(1 for b in sample if b >= 0x80)
    if not high:
        return False
    in_words = sum(len(m.group()) for m in re.finditer(rb"[\xc0-\xff\xa8\xb8\xb2\xb3]{3,}", sample))
    return in_words >= 0.6 * high


def _guess_dbf_encoding(records: bytes, file: str, ldid: int, notes: list[dict[str, Any]]) -> str:
    """No usable declaration. GDAL would read ISO-8859-1 (also for LDID 0x57 "ANSI"), which turns
    the cp1251 text authorities usually send into mojibake; look at the bytes instead."""
    driver = f"0x{ldid:02X}"
    if records.isascii():
        return "iso8859-1"
    try:
        records.decode("utf-8")
        valid_utf8 = True
    except UnicodeDecodeError as exc:  # a sample cut mid-letter still counts
        valid_utf8 = exc.reason == "unexpected end of data" and exc.start >= len(records) - 3
    if valid_utf8:
        notes.append(note("shapefile.encoding_guessed_utf8", file=file, driver=driver, encoding="utf-8"))
        return "utf-8"
    if _looks_cyrillic_cp1251(records):
        notes.append(note("shapefile.encoding_guessed_cp1251", file=file, driver=driver, encoding="cp1251"))
        return "cp1251"
    notes.append(note("shapefile.encoding_default_latin1", file=file, driver=driver, encoding="iso8859-1"))
    return "iso8859-1"


# -------------------------------------------------------------------------- GeoJSON CRS

# GDAL fetches a "link" CRS over HTTP (and some "name" values are URLs it would fetch too), so
# every crs member is checked before GDAL sees the file. Keys may be written with \u escapes.
_CRS_KEY = re.compile(rb'"(?:c|\\u0063)(?:r|\\u0072)(?:s|\\u0073)"\s*:', re.IGNORECASE)
_SAFE_CRS_NAME = re.compile(
    r"^(?:urn:ogc:def:crs:[A-Za-z0-9.]+:[A-Za-z0-9.]*:[A-Za-z0-9.]+"
    r"|EPSG:\d+"
    r"|(?:https?://)?(?:www\.)?opengis\.net/def/crs/[A-Za-z0-9.]+/[A-Za-z0-9.]+/[A-Za-z0-9.]+"
    r"|(?:OGC:)?CRS84)$", re.IGNORECASE)


def _check_geojson_crs(path: Path, name: str) -> None:
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        for m in _CRS_KEY.finditer(mm):  # type: ignore[call-overload]
            window = mm[m.end(): m.end() + 65536].decode("utf-8", "replace").lstrip()
            try:
                value, _ = json.JSONDecoder().raw_decode(window)
            except ValueError:
                raise upload_error("geojson.crs_unsupported", name, crs=window[:80]) from None
            if not _safe_crs_member(value):
                shown = json.dumps(value, ensure_ascii=False)[:120]
                raise upload_error("geojson.crs_unsupported", name, crs=shown)


def _safe_crs_member(value: Any) -> bool:
    if not isinstance(value, dict):
        return True  # GDAL reads only objects; a "crs" attribute with a text value is just data
    props = value.get("properties")
    if not isinstance(props, dict):
        return False
    if value.get("type") == "EPSG":
        return isinstance(props.get("code"), int)
    crs_name = props.get("name")
    if value.get("type") != "name" or not isinstance(crs_name, str) or not _SAFE_CRS_NAME.match(crs_name):
        return False
    try:
        pyproj.CRS.from_user_input(crs_name)
    except CRSError:
        return False
    return True


# ------------------------------------------------------------------------------------ reader


class _Reader:
    def __init__(self, tmp: Path, limits: Limits, encoding: str | None, id_columns: tuple[str, ...] = ()) -> None:
        self.tmp = tmp
        self.encoding = encoding
        self.id_columns = id_columns
        self.budget = Budget(limits)
        self.notes: list[dict[str, Any]] = []
        self.scrub: list[tuple[str, str]] = [(str(tmp), "")]
        self._dirs = 0

    def workdir(self) -> Path:
        self._dirs += 1
        path = self.tmp / str(self._dirs)
        path.mkdir()
        return path

    def stage(self, path: Path, name: str, suffix: str) -> Path:
        """A link to the file under a name we chose (GDAL wants extensions; paths stay ours)."""
        link = self.workdir() / f"data{suffix}"
        link.symlink_to(path.resolve())
        self.scrub += [(str(link), name), (str(path), name), (str(path.resolve()), name)]
        return link

    def read(self, path: Path, name: str, depth: int) -> SourceData:
        if path.stat().st_size == 0:
            raise upload_error("upload.empty", name)
        kind = _sniff(path, name, self.notes)
        if kind in ("zip", "kmz"):
            return self.archive(path, name, depth, kmz=kind == "kmz")
        if kind == "geojson":
            return self.geojson(path, name)
        if kind == "gpkg":
            return self.gpkg(path, name)
        if kind == "kml":
            geometries, columns = read_kml(path, name, self.notes)
            return self.result(name, "kml", geometries, columns, WGS84, None)
        table = read_table(path.read_bytes(), name, self.encoding, self.notes, self.id_columns)
        crs = pyproj.CRS.from_epsg(table.crs_srid) if table.crs_srid else None
        result = self.result(name, table.kind, table.geometries, table.columns, crs, table.encoding)
        result.id_column = table.id_column
        return result

    def result(self, name: str, fmt: str, geometries: Any, columns: dict[str, list[Any]],
               crs: pyproj.CRS | None, encoding: str | None) -> SourceData:
        if len(geometries) == 0:
            raise upload_error("upload.empty", name)
        if self.encoding and encoding is None:
            self.notes.append(note("note.encoding_not_used", encoding=self.encoding,
                                   format=_LABEL.get(fmt, fmt.upper())))
        array = np.empty(len(geometries), dtype=object)
        for i, geometry in enumerate(geometries):
            array[i] = geometry
        return SourceData(name, fmt, array, columns, crs, encoding, self.notes)

    def crs(self, text: str | None, name: str) -> pyproj.CRS | None:
        if not text:
            return None
        try:
            return pyproj.CRS.from_user_input(text)
        except CRSError:
            self.notes.append(note("note.crs_unreadable", file=name))
            return None

    # ------------------------------------------------------------------------ GDAL formats

    def geojson(self, path: Path, name: str) -> SourceData:
        _check_geojson_crs(path, name)
        link = self.stage(path, name, ".geojson")
        geometries, columns, crs = read_layer(f"GeoJSON:{link}", name, self.scrub, self.notes)
        return self.result(name, "geojson", geometries, columns, self.crs(crs, name) or WGS84, None)

    def gpkg(self, path: Path, name: str) -> SourceData:
        with open(path, "rb") as f:
            head = f.read(100)
        if len(head) < 100:
            raise upload_error("upload.corrupt", name, format="GeoPackage")
        page_size = int.from_bytes(head[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        pages = int.from_bytes(head[28:32], "big")
        # The page count is trustworthy only when "version-valid-for" equals the change counter.
        if head[92:96] == head[24:28] and pages and path.stat().st_size < page_size * pages:
            raise upload_error("upload.corrupt", name, format="GeoPackage")
        source = f"GPKG:{self.stage(path, name, '.gpkg')}"
        layers = [(n, g) for n, g in list_layers(source, name, self.scrub) if g is not None]
        if not layers:
            raise upload_error("upload.empty", name)
        if len(layers) == 1:
            layer = layers[0][0]
        else:
            polygons = [n for n, g in layers if re.search("polygon|surface", g, re.IGNORECASE)]
            if len(polygons) != 1:
                raise upload_error("gpkg.several_layers", name,
                                   layers=", ".join(n for n, _ in layers))
            layer = polygons[0]
            self.notes.append(note("gpkg.polygon_layer_chosen", file=name,
                                   layers=", ".join(n for n, _ in layers), layer=layer))
        geometries, columns, crs = read_layer(source, name, self.scrub, self.notes, layer=layer)
        return self.result(name, "gpkg", geometries, columns, self.crs(crs, name), None)

    # ---------------------------------------------------------------------------- archives

    def archive(self, path: Path, name: str, depth: int, *, kmz: bool) -> SourceData:
        if depth >= 2:
            raise upload_error("archive.nested", name, member=name)
        with open_zip(path, name, self.budget) as zf:
            members = [m for m in zf.members if not is_junk(m)]
            inner = (lambda m: m.name) if depth == 0 else (lambda m: f"{name}/{m.name}")
            if kmz:
                member = self._pick_kml(members, name)
            else:
                shapefiles = [m for m in members if m.suffix == ".shp"]
                data = [m for m in members if m.suffix in _ARCHIVE_DATA]
                if shapefiles and len(shapefiles) + len(data) > 1:
                    raise upload_error("archive.several_datasets", name,
                                       found=_listing(shapefiles + data))
                if shapefiles:
                    return self.shapefile(zf, shapefiles[0], members, inner(shapefiles[0]))
                if not data:  # a lone .txt may be a coordinate table; next to data it is a readme
                    data = [m for m in members if m.suffix in (".txt", ".tsv")]
                if not data:
                    raise upload_error("archive.no_data", name, found=_listing(members) or "—")
                if len(data) > 1:
                    raise upload_error("archive.several_datasets", name, found=_listing(data))
                member = data[0]
            display = inner(member)
            dest = zf.extract(member, self.workdir() / f"data{member.suffix}")
            self.scrub.append((str(dest), display))
        result = self.read(dest, display, depth + 1)
        if kmz and result.format == "kml":
            result.format = "kmz"
        return result

    @staticmethod
    def _pick_kml(members: list[Member], name: str) -> Member:
        kmls = [m for m in members if m.suffix == ".kml"]
        if not kmls:
            raise upload_error("archive.no_data", name, found=_listing(members) or "—")
        # Google Earth reads doc.kml, else the first .kml at the root.
        for candidates in ([m for m in kmls if m.name.lower() == "doc.kml"],
                           [m for m in kmls if "/" not in m.name], kmls):
            if len(candidates) == 1:
                return candidates[0]
        raise upload_error("archive.several_datasets", name, found=_listing(kmls))

    def shapefile(self, zf: SafeZip, shp: Member, members: list[Member], display: str) -> SourceData:
        stem = shp.name[: -len(".shp")].lower()
        parts = {m.suffix: m for m in members if m.name[: -len(m.suffix) or None].lower() == stem}
        for required in (".shx", ".dbf"):
            if required not in parts:
                raise upload_error("shapefile.part_missing", display,
                                   part=PurePosixPath(shp.name).stem + required)
        work = self.workdir()
        for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            if suffix in parts:
                dest = zf.extract(parts[suffix], work / f"layer{suffix}")
                self.scrub.append((str(dest), PurePosixPath(parts[suffix].name).name))
        shp_path, dbf_path = work / "layer.shp", work / "layer.dbf"
        with open(shp_path, "rb") as f:
            if f.read(4) != _SHP_MAGIC:  # also keeps GDAL's content-sniffing drivers away
                raise upload_error("upload.corrupt", display, format="Shapefile")
        with open(dbf_path, "rb") as f:
            dbf_head = f.read(32)
            if len(dbf_head) < 32:
                raise upload_error("upload.corrupt", display, format="DBF")
            f.seek(int.from_bytes(dbf_head[8:10], "little"))
            records = f.read(2 * 2**20)
        encoding = self._shapefile_encoding(display, work / "layer.cpg", dbf_head[29], records)
        try:
            geometries, columns, crs_text = read_layer(str(shp_path), display, self.scrub, self.notes,
                                                       text_encoding=encoding)
        except UnreadableCRS:  # a damaged .prj must not hide the data: read it as undeclared
            (work / "layer.prj").unlink()
            geometries, columns, crs_text = read_layer(str(shp_path), display, self.scrub, self.notes,
                                                       text_encoding=encoding)
        crs = self.crs(crs_text, display)
        if ".prj" not in parts:
            self.notes.append(note("shapefile.no_prj", file=display))
        elif crs is None:
            self.notes.append(note("shapefile.prj_unreadable", file=display))
        return self.result(display, "shapefile", geometries, columns, crs, encoding)

    def _shapefile_encoding(self, display: str, cpg: Path, ldid: int, records: bytes) -> str:
        if self.encoding:
            self.notes.append(note("shapefile.encoding_chosen", file=display, encoding=self.encoding))
            return self.encoding
        if cpg.exists():
            text = cpg.read_bytes()[:64].decode("ascii", "replace").strip()
            codec = codec_from_cpg(text)
            if codec:
                self.notes.append(note("shapefile.encoding_from_cpg", file=display, encoding=codec))
                return codec
            self.notes.append(note("shapefile.cpg_unknown", file=display,
                                   cpg="".join(ch for ch in text if ch.isprintable())))
        codec = _LDID.get(ldid)
        if codec:
            self.notes.append(note("shapefile.encoding_from_ldid", file=display, driver=f"0x{ldid:02X}",
                                   encoding=codec))
            return codec
        return _guess_dbf_encoding(records, display, ldid, self.notes)


def _listing(members: list[Member]) -> str:
    names = [m.name for m in members[:20]]
    return ", ".join(names) + (f" (+{len(members) - 20})" if len(members) > 20 else "")

"""Safe reading of uploaded ZIP archives (zipped shapefiles, KMZ).

Every member is checked before anything is written: no absolute paths, no ``..``, no symlinks, no
encryption, a bounded member count, a bounded declared size and no bomb-like compression ratio.
Extraction writes only to paths the caller chooses inside its own temp dir (member names are
never used as paths) and counts the bytes actually inflated, so a header that lies about sizes
cannot get past the limit."""

from __future__ import annotations

import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from geoservice.kernel.errors import UploadError
from geoservice.kernel.settings import Settings
from importers.messages import upload_error

MiB = 1024 * 1024
_CHUNK = MiB


@dataclass(frozen=True)
class Limits:
    """How much an upload may unpack to (the settings' defaults unless given)."""

    max_unpacked_bytes: int = Settings.max_unpacked_bytes
    max_archive_members: int = Settings.max_archive_members
    max_upload_bytes: int = Settings.max_upload_bytes
    # A member inflating more than bomb_ratio times, once past bomb_min_bytes, is a zip bomb:
    # real shapefiles and GeoPackages compress 2-20x, rarely above 100x.
    bomb_ratio: float = 200.0
    bomb_min_bytes: int = 4 * MiB

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(settings.max_unpacked_bytes, settings.max_archive_members, settings.max_upload_bytes)


class Budget:
    """Bytes still allowed to be unpacked, shared by an archive and the archives inside it."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.remaining = limits.max_unpacked_bytes

    def take(self, n: int, archive: str) -> None:
        self.remaining -= n
        if self.remaining < 0:
            raise upload_error("archive.too_large", archive,
                               limit_mb=_mb(self.limits.max_unpacked_bytes))


def _mb(n: int) -> int:
    return max(1, round(n / MiB))


@dataclass(frozen=True)
class Member:
    name: str            # path inside the archive as the user sees it ("data/plots.shp")
    info: zipfile.ZipInfo

    @property
    def path(self) -> PurePosixPath:
        return PurePosixPath(self.name)

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()

    @property
    def size(self) -> int:
        return self.info.file_size


_DRIVE = re.compile(r"^[A-Za-z]:")
_JUNK = {".ds_store", "thumbs.db", "desktop.ini"}


def _display_name(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if not info.flag_bits & 0x800 and not name.isascii():
        # Without the UTF-8 flag Python decodes names as cp437; Russian Windows wrote cp866.
        try:
            name = name.encode("cp437").decode("cp866")
        except UnicodeError:
            pass
    return name


def _unsafe(name: str) -> bool:
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return True
    return any(part == ".." for part in re.split(r"[\\/]", name))


def is_junk(member: Member) -> bool:
    """Files archivers add on their own (macOS resource forks, Explorer thumbnails)."""
    parts = member.name.replace("\\", "/").split("/")
    return parts[0] == "__MACOSX" or parts[-1].startswith("._") or parts[-1].lower() in _JUNK


class SafeZip:
    """A validated ZIP archive. Use ``open_zip``; ``members`` lists the files (not directories)."""

    def __init__(self, zf: zipfile.ZipFile, display: str, budget: Budget) -> None:
        self._zf = zf
        self.display = display
        self.budget = budget
        self.members: list[Member] = []
        self._validate()

    def _validate(self) -> None:
        limits = self.budget.limits
        infos = self._zf.infolist()
        if len(infos) > limits.max_archive_members:
            raise upload_error("archive.too_many_members", self.display,
                              count=len(infos), limit=limits.max_archive_members)
        total = packed = 0
        for info in infos:
            name = _display_name(info)
            if _unsafe(info.filename):
                raise upload_error("archive.unsafe_path", self.display, member=name)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise upload_error("archive.symlink", self.display, member=name)
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise upload_error("archive.encrypted", self.display, member=name)
            if (info.file_size >= limits.bomb_min_bytes
                    and info.file_size > limits.bomb_ratio * max(info.compress_size, 1)):
                raise upload_error("archive.bomb", self.display, member=name,
                                  ratio=info.file_size // max(info.compress_size, 1))
            total += info.file_size
            packed += info.compress_size
            self.members.append(Member(name, info))
        if total > self.budget.remaining:
            raise upload_error("archive.too_large", self.display,
                              limit_mb=_mb(limits.max_unpacked_bytes))
        if total >= limits.bomb_min_bytes and total > limits.bomb_ratio * max(packed, 1):
            raise upload_error("archive.bomb", self.display, member=self.display,
                              ratio=total // max(packed, 1))

    def extract(self, member: Member, dest: Path) -> Path:
        """Inflate one member to ``dest`` (a new file), enforcing the declared size and budget."""
        written = 0
        try:
            with self._zf.open(member.info) as src, open(dest, "xb") as out:
                while chunk := src.read(_CHUNK):
                    written += len(chunk)
                    if written > member.size:  # more data than the header declared
                        raise upload_error("upload.corrupt", self.display, format="ZIP")
                    self.budget.take(len(chunk), self.display)
                    out.write(chunk)
        except UploadError:
            raise
        except NotImplementedError:
            raise upload_error("archive.unsupported_compression", self.display,
                              member=member.name) from None
        except RuntimeError:  # zipfile says "password required" this way
            raise upload_error("archive.encrypted", self.display, member=member.name) from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
            raise upload_error("upload.corrupt", self.display, format="ZIP") from None
        if written != member.size:
            raise upload_error("upload.corrupt", self.display, format="ZIP")
        return dest


def _declared_entries(path: Path) -> int | None:
    """The entry count in the end-of-central-directory record (ZIP64 too), read before zipfile
    builds an object per entry: millions of empty entries fit in an allowed upload."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        f.seek(max(0, size - 65557))  # EOCD (22 bytes) + the longest possible comment
        tail = f.read()
        pos = tail.rfind(b"PK\x05\x06")
        if pos < 0 or len(tail) < pos + 22:
            return None
        count = int.from_bytes(tail[pos + 10: pos + 12], "little")
        locator = tail[pos - 20: pos] if pos >= 20 else b""
        if count == 0xFFFF and locator[:4] == b"PK\x06\x07":
            f.seek(int.from_bytes(locator[8:16], "little"))
            record = f.read(40)
            if record[:4] == b"PK\x06\x06":
                count = int.from_bytes(record[32:40], "little")
    return count


@contextmanager
def open_zip(path: Path, display: str, budget: Budget) -> Iterator[SafeZip]:
    """Open and validate an archive; UploadError when it is damaged or hostile."""
    declared = _declared_entries(path)
    if declared is not None and declared > budget.limits.max_archive_members:
        raise upload_error("archive.too_many_members", display, count=declared,
                           limit=budget.limits.max_archive_members)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError):
        raise upload_error("upload.corrupt", display, format="ZIP") from None
    with zf:
        yield SafeZip(zf, display, budget)

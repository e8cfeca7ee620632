"""Where an upload's file waits while it is read and stored: a folder of its own under the
service's ``var/spool`` (setting ``spool_dir``), not /tmp, removed when the upload ends.

A process killed mid-upload cannot remove its folder, so every server process sweeps the spool
when it starts. Several workers (or containers) may share ``var/``: a folder is swept only when
its owner is gone, which its lock file tells — the owner holds an exclusive ``flock`` on it for
the upload's life, and the kernel drops that lock when the owner dies, however it dies. (A pid
check would not do: pids are reused, and another container's pids are not ours to see.)"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PREFIX = "gs-upload-"
NEW = ".new-"          # a folder being made, not yet locked: the sweep leaves it alone while young
LOCK = ".owner"
STALE_NEW_SECONDS = 60.0


@contextlib.contextmanager
def spool(root: Path) -> Iterator[Path]:
    """A fresh folder under ``root`` for one upload, locked as ours until the block ends."""
    root.mkdir(parents=True, exist_ok=True)
    # Made under a name the sweep skips, locked, then renamed: it never shows as ownerless.
    fresh = Path(tempfile.mkdtemp(prefix=NEW, dir=root))
    lock = open(fresh / LOCK, "w")  # noqa: SIM115 - held open for the life of the upload
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        work = root / f"{PREFIX}{os.getpid()}-{fresh.name[len(NEW):]}"
        fresh.rename(work)
    except BaseException:
        lock.close()
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)
        lock.close()


def sweep(root: Path) -> list[Path]:
    """Remove the folders of uploads whose process is gone; returns what was removed."""
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    for folder in root.iterdir():
        if folder.name.startswith(PREFIX) and folder.is_dir():
            if _owner_gone(folder):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        elif folder.name.startswith(NEW) and folder.is_dir():
            with contextlib.suppress(FileNotFoundError):
                if time.time() - folder.stat().st_mtime > STALE_NEW_SECONDS:
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(folder)
    return removed


def _owner_gone(folder: Path) -> bool:
    try:
        fd = os.open(folder / LOCK, os.O_RDONLY)
    except FileNotFoundError:
        return True  # only renamed into view after it was locked: no lock file, no owner
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops the lock we may have taken
    return True

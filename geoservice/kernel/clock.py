"""The one source of the current time, so that deadlines and journals can be tested at a
chosen instant (``frozen``) instead of with sleeps."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

_frozen: dt.datetime | None = None
# Kazakhstan's one time zone since March 2024 (UTC+5): the days of deadlines, registries and the
# programme are its calendar days.
KAZAKHSTAN = dt.timezone(dt.timedelta(hours=5), "Asia/Almaty")


def now() -> dt.datetime:
    """Aware UTC now (or the frozen instant)."""
    return _frozen if _frozen is not None else dt.datetime.now(dt.UTC)


def today_in_kazakhstan() -> dt.date:
    """The calendar day in Kazakhstan now (or at the frozen instant)."""
    return now().astimezone(KAZAKHSTAN).date()


@contextlib.contextmanager
def frozen(at: dt.datetime) -> Iterator[None]:
    """Within the block, ``now()`` answers ``at`` (tests)."""
    global _frozen
    if at.tzinfo is None:
        raise ValueError("a frozen time must be timezone-aware")
    previous, _frozen = _frozen, at
    try:
        yield
    finally:
        _frozen = previous

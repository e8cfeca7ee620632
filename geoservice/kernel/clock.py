"""The one source of the current time, so that deadlines and journals can be tested at a
chosen instant (``frozen``) instead of with sleeps."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """Aware UTC now (or the frozen instant)."""
    return _frozen if _frozen is not None else dt.datetime.now(dt.UTC)


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

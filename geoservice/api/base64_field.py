"""Base64 fields of request bodies (detached CMS signatures, signed-in challenges, data to sign):
one reader, each route naming its own problem code so the message says what was wrong where."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from geoservice.kernel.errors import Problem


def decode_base64(value: Any, problem: str, *, max_bytes: int | None = None, **params: Any) -> bytes:
    """The bytes of a base64 text (whitespace and line breaks allowed, as NCALayer and PEM wrap
    it); ``Problem(problem, 400, **params)`` for anything else, for nothing, or past ``max_bytes``."""
    if not isinstance(value, str):
        raise Problem(problem, 400, **params)
    try:
        data = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise Problem(problem, 400, **params) from None
    if not data or (max_bytes is not None and len(data) > max_bytes):
        raise Problem(problem, 400, **params)
    return data

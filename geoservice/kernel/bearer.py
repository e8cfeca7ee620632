"""The one parser of ``Authorization: Bearer …`` headers."""

from __future__ import annotations

from geoservice.kernel.errors import Problem


def bearer_token(header: str | None) -> str | None:
    """The token of a bearer header; None when there is no header. Any other scheme, or an empty
    token, is a 401: a caller who tried to authenticate must learn that it did not work."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem("auth.required", 401)
    return token.strip()

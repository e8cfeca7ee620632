"""Bearer tokens of the authorities that upload layers. Only a SHA-256 of each token is stored:
tokens are 256-bit random strings, so a plain hash is as strong as a slow one here."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import psycopg

from geoservice.errors import Problem
from layers.catalog import AUTHORITIES, Layer, can_write

TOKEN_PREFIX = "gs_"


@dataclass(frozen=True)
class Principal:
    token_id: int
    authority: str

    @property
    def actor(self) -> str:
        return f"{self.authority}#token{self.token_id}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(conn: psycopg.Connection, authority: str, label: str | None = None) -> tuple[int, str]:
    if authority not in AUTHORITIES:
        raise Problem("auth.unknown_authority", 400, authority=authority, known=", ".join(sorted(AUTHORITIES)))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = conn.execute("INSERT INTO api_tokens (authority, token_hash, label) VALUES (%s, %s, %s) RETURNING id",
                       (authority, _digest(token), label)).fetchone()
    assert row is not None
    return int(row[0]), token


def authenticate(conn: psycopg.Connection, authorization: str | None) -> Principal:
    if not authorization:
        raise Problem("auth.required", 401)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem("auth.required", 401)
    row = conn.execute("SELECT id, authority FROM api_tokens WHERE token_hash = %s AND revoked_at IS NULL",
                       (_digest(token.strip()),)).fetchone()
    if row is None:
        raise Problem("auth.invalid_token", 401)
    return Principal(int(row[0]), row[1])


def require_writer(principal: Principal, layer: Layer) -> None:
    if not can_write(principal.authority, layer):
        raise Problem("auth.forbidden_layer", 403, authority=principal.authority, layer=layer.id)

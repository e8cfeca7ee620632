"""The trusted NCA certificates and CRLs of the database (``geoservice eds trust/crl add``), as
the app's routes verify with them: one cache per app, shared by signature verification, EDS
sign-in and documents, reloaded when the trust tables change."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
from fastapi import Request

from cadastre.eds.revocation import ChainRevocation, HttpRevocation, RevocationSource
from cadastre.eds.trust import TrustStore
from cadastre.eds_trust import load_trust, trust_version
from geoservice.kernel.settings import Settings


class TrustCache:
    """The trust material of the database, loaded once and again only when the tables changed
    (a four-number query per use tells); the HTTP source's CRL cache lives as long as the app."""

    def __init__(self, settings: Settings) -> None:
        self._lock = threading.Lock()
        self._version: tuple[Any, ...] | None = None
        self._trust = TrustStore()
        self._revocation: RevocationSource | None = None
        self._online = (HttpRevocation(timeout=settings.eds_revocation_timeout)
                        if settings.eds_online_revocation else None)

    def get(self, conn: psycopg.Connection) -> tuple[TrustStore, RevocationSource]:
        version = trust_version(conn)
        with self._lock:
            if version != self._version or self._revocation is None:
                trust, stored = load_trust(conn)
                sources: list[RevocationSource] = [stored] + ([self._online] if self._online else [])
                self._trust, self._revocation = trust, ChainRevocation(sources)
                self._version = version
            return self._trust, self._revocation


_CREATE = threading.Lock()


def trust_cache(request: Request) -> TrustCache:
    """The app's cache, made on first use (with the app's settings): apps built without the
    lifespan (tests of single routers) get one too."""
    state = request.app.state
    with _CREATE:
        if getattr(state, "eds_trust", None) is None:
            state.eds_trust = TrustCache(state.settings)
    return state.eds_trust

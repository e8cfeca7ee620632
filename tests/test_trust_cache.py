"""The app's one trust cache (geoservice/trust.py): signature verification, EDS sign-in and
documents use the same object; it is not reloaded while the trust tables stay as they are, and a
CA trusted later is used by the next document upload."""

from __future__ import annotations

import datetime as dt
import os

import psycopg

from cadastre import eds_trust
from cadastre.eds.pki import Identity, make_ca, sign_cms
from layers.access import create_token

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_one_cache_for_every_route_and_a_trust_change_is_seen(client, database_url) -> None:
    from geoservice.trust import TrustCache

    start, end = dt.datetime(2025, 1, 1, tzinfo=dt.UTC), dt.datetime(2035, 1, 1, tzinfo=dt.UTC)
    root = make_ca("TRUST CACHE ROOT RSA", "RSA-SHA256", not_before=start, not_after=end)
    ca = make_ca("TRUST CACHE NCA RSA", "RSA-SHA256", parent=root, not_before=start, not_after=end)
    holder = ca.issue(Identity("КЭШ ТЕСТ", iin="900101300011", surname="КЭШ", given_name="ТЕСТ"),
                      purpose="signature", not_before=start, not_after=end)
    with psycopg.connect(database_url) as conn:
        token = create_token(conn, "operator", "trust cache")[1]
        conn.commit()
    headers = {"Authorization": f"Bearer {token}"}

    def upload() -> bool:
        content = PDF + os.urandom(16)
        files = [("file", ("a.pdf", content, "application/pdf")),
                 ("signature", ("a.p7s", sign_cms(content, holder, detached=True), "application/octet-stream"))]
        r = client.post("/api/documents", files=files, data={"access_level": "confidential"}, headers=headers)
        assert r.status_code == 201, r.text
        return bool(r.json()["signatures"][0]["valid"])

    def verify() -> bool:
        content = b"to verify"
        import base64

        r = client.post("/api/signatures/verify", json={
            "cms": base64.b64encode(sign_cms(content, holder, detached=True)).decode(),
            "data": base64.b64encode(content).decode()})
        assert r.status_code == 200, r.text
        return bool(r.json()["valid"])

    assert upload() is False and verify() is False  # the CA is not trusted yet
    cache = client.app.state.eds_trust
    assert isinstance(cache, TrustCache)
    with psycopg.connect(database_url) as conn:
        loaded = cache.get(conn)
    assert upload() is False and verify() is False
    with psycopg.connect(database_url) as conn:
        assert cache.get(conn) == loaded  # the same objects: nothing was reloaded
        for authority in (root, ca):
            eds_trust.add_certificate(conn, authority.certificate, actor="test", client="test")
            eds_trust.add_crl(conn, authority.crl(), actor="test", client="test")
        conn.commit()
    assert upload() is True and verify() is True  # the next use sees the new trust
    assert client.app.state.eds_trust is cache
    with psycopg.connect(database_url) as conn:
        assert cache.get(conn)[0] is not loaded[0]


def test_sign_in_and_documents_use_the_shared_cache() -> None:
    """No route module keeps a trust cache of its own, nor reaches into another's."""
    import inspect

    import geoservice.api.accounts as accounts
    import geoservice.api.documents as documents
    import geoservice.api.signatures as signatures

    for module in (accounts, documents, signatures):
        source = inspect.getsource(module)
        assert "trust_cache(request)" in source and "load_trust" not in source, module.__name__
        assert "_cache" not in source.replace("trust_cache", ""), module.__name__

"""A test NCALayer: a TLS WebSocket peer on a free loopback port that speaks NCALayer's protocol as
the cabinet's page (geoservice/viewer/static/cabinet-sign.js) uses it, signing with a real key of
the demo PKI (cadastre/eds/pki.py). It proves the page's side of the protocol, not that a real
NCALayer on a person's desktop behaves the same (see README, "The personal cabinet").

On connect it greets as NCALayer does (``{"result": {"version": "1.4"}}``); to
``{"module": "kz.gov.pki.knca.commonUtils", "method": "createCAdESFromBase64",
"args": [storage, keyType, dataB64, attached]}`` it answers ``{"code": "200", "responseObject":
base64 CMS}`` made by ``sign_cms`` (as NCALayer's createCAdESFromBase64 makes it) with the
person's AUTHENTICATION key for keyType AUTHENTICATION and their SIGNATURE key otherwise, or,
when told to cancel, ``{"code": "500", "message": "action.canceled"}`` as NCALayer does when the
person closes its dialog. Every request is recorded for the test to check."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import ssl
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from cadastre.eds.pki import DemoHolder, sign_cms

MODULE = "kz.gov.pki.knca.commonUtils"
METHOD = "createCAdESFromBase64"
GREETING: dict[str, Any] = {"result": {"version": "1.4"}}
CANCELLED: dict[str, Any] = {"code": "500", "message": "action.canceled"}


@dataclass
class Request:
    """One createCAdESFromBase64 call as the page sent it, and the CMS answered (None if cancelled)."""

    storage: str
    key_type: str
    data: bytes
    attached: bool
    cms: bytes | None = None


@dataclass
class NcaLayerPeer:
    """The peer's state: who signs, how it answers, what it was asked. ``url`` once started."""

    holder: DemoHolder
    family: Literal["rsa", "gost"] = "rsa"
    cancel: bool = False
    greeting: dict[str, Any] = field(default_factory=lambda: dict(GREETING))
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    connections: int = 0

    def answer(self, message: str) -> dict[str, Any]:
        try:
            call = json.loads(message)
            storage, key_type, data_b64, attached = call["args"]
            if (call["module"], call["method"]) != (MODULE, METHOD):
                raise ValueError(call["method"])
            data = base64.b64decode(data_b64, validate=True)
        except (ValueError, KeyError, TypeError):
            return {"code": "500", "message": "unknown request"}
        request = Request(storage, key_type, data, bool(attached))
        self.requests.append(request)
        if self.cancel:
            return dict(CANCELLED)
        issued = self.holder.auth(self.family) if key_type == "AUTHENTICATION" else self.holder.sign(self.family)
        request.cms = sign_cms(data, issued, detached=not attached)
        return {"code": "200", "responseObject": base64.b64encode(request.cms).decode()}

    async def handle(self, socket: ServerConnection) -> None:
        self.connections += 1
        try:
            await socket.send(json.dumps(self.greeting))
            async for message in socket:
                await socket.send(json.dumps(self.answer(str(message))))
        except ConnectionClosed:
            pass  # the page closed first (as it does on an answer it cannot read): nothing to say


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (PEM files), as NCALayer's own self-signed one."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "ncalayer.crt", directory / "ncalayer.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@contextmanager
def running_ncalayer(holder: DemoHolder, family: Literal["rsa", "gost"] = "rsa") -> Iterator[NcaLayerPeer]:
    """The test NCALayer signing as ``holder``, served from a thread of this process on a free
    loopback port (wss, self-signed); yields its state, ``url`` set, and stops it after."""
    peer = NcaLayerPeer(holder, family)
    with tempfile.TemporaryDirectory(prefix="ncalayer-") as tmp:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*self_signed(Path(tmp)))
        loop = asyncio.new_event_loop()
        started = threading.Event()
        stop: asyncio.Future[None] = loop.create_future()
        failure: list[BaseException] = []

        async def run() -> None:
            try:
                async with serve(peer.handle, "127.0.0.1", 0, ssl=context) as server:
                    port = next(iter(server.sockets)).getsockname()[1]
                    peer.url = f"wss://127.0.0.1:{port}/"
                    started.set()
                    await stop
            except BaseException as exc:  # the test must hear why the peer did not start
                failure.append(exc)
                started.set()

        thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
        thread.start()
        if not started.wait(30) or failure:
            raise RuntimeError(f"test NCALayer did not start: {failure}")
        try:
            yield peer
        finally:
            loop.call_soon_threadsafe(stop.set_result, None)
            thread.join(timeout=10)
            loop.close()

"""The demo's local SMTP sink (`geoservice mail sink`, started by `make serve`): a real SMTP
server in its own process; what the outbox's SMTP sender sends lands in its Maildir."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from cadastre.outbox import Message, SmtpSender
from geoservice.mail_sink import listening, received


def test_the_sink_keeps_what_the_platform_sends(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = tmp_path / "mail"
    proc = subprocess.Popen([sys.executable, "-m", "geoservice.cli", "mail", "sink", "--port", str(port),
                             "--folder", str(folder)], env={**os.environ, "GEOSERVICE_LOCAL_SETTINGS": ""})
    try:
        deadline = time.monotonic() + 20
        while not listening("127.0.0.1", port):
            assert proc.poll() is None and time.monotonic() < deadline, "the sink did not start"
            time.sleep(0.1)
        sender = SmtpSender("127.0.0.1", port, sender="geoservice@localhost", tls="none")
        sender.send(Message(0, "email", "applicant@demo.geoservice.invalid", "Мерзім / Срок / Deadline",
                            "Лицензия KZ-EL-DEMO-0002: подписной бонус через 7 дней", "kk", "test:1"))
        messages = received(folder)
        assert [(m["To"], str(m["Subject"])) for m in messages] == [
            ("applicant@demo.geoservice.invalid", "Мерзім / Срок / Deadline")]
        assert "через 7 дней" in messages[0].get_body(preferencelist=("plain",)).get_content()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert received(tmp_path / "nothing") == []

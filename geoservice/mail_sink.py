"""A local SMTP sink for the demo (`make serve`): a real SMTP server (aiosmtpd) on 127.0.0.1 that
keeps every message it receives in a Maildir under var/mail, so a newcomer sees the mail the
platform sends (obligation warnings, notices) without a mail server. Never for production: it
accepts mail for anybody and delivers nowhere."""

from __future__ import annotations

import email
import email.policy
import mailbox
import socket
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

DEFAULT_PORT = 8025


@dataclass
class MaildirSink:
    folder: Path

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = (envelope.original_content or envelope.content).replace(b"\r\n", b"\n")
        box = mailbox.Maildir(self.folder, create=True)
        box.add(raw)
        return "250 OK"


def listening(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def serve(folder: Path, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
    """Run the sink in the foreground until interrupted."""
    controller = Controller(MaildirSink(folder), hostname=host, port=port)
    controller.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


def received(folder: Path) -> list[EmailMessage]:
    """The messages in the sink's Maildir, oldest first (Maildir names begin with the time)."""
    if not folder.is_dir():
        return []
    box = mailbox.Maildir(folder, create=False)
    found = []
    for key in sorted(box.keys()):
        parsed = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        found.append(parsed)
    return found

"""Mail and SMS as an adapter (issue 11): an outbox table with retries.

``queue`` writes a message into the ``outbox`` table in the caller's transaction, once per
``key`` (a finding queued again, by another checker run or another process, is the same row).
``deliver_due`` sends what is due through a ``Sender``: each row is claimed with ``FOR UPDATE
SKIP LOCKED`` in its own short transaction, so several processes never send one row twice; a
failure counts the attempt, keeps the error and schedules a retry with doubling backoff, up to
``max_attempts`` in all.

Delivery is at least once: a process that dies between the server's acceptance and its commit
sends that one message again on the next run (the Message-ID, made from the key, stays the same,
so a receiving system can tell).

Senders: ``SmtpSender`` (smtplib; host, port, account, sender address and TLS from the settings;
no SMTP_HOST means mail is off) and ``LogSms``: there is no SMS gateway yet, so SMS messages are
written to the service log and counted as sent; a gateway is another class with ``send``.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formatdate
from hashlib import sha256
from typing import Protocol

import psycopg

from geoservice.kernel.settings import Settings

log = logging.getLogger("geoservice.outbox")

CHANNELS = ("email", "sms")
LANGUAGES = ("kk", "ru", "en")
# The last error kept per row (an SMTP reply can be long).
ERROR_CHARS = 1000


@dataclass(frozen=True)
class Message:
    id: int
    channel: str
    recipient: str
    subject: str
    body: str
    language: str
    key: str


class Sender(Protocol):
    """Sends one message of its channel, or raises (the row is then retried)."""

    channel: str

    def send(self, message: Message) -> None: ...


@dataclass(frozen=True)
class Retry:
    max_attempts: int = 8
    first_seconds: float = 60.0
    max_seconds: float = 3600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Retry:
        return cls(settings.mail_max_attempts, settings.mail_retry_seconds, settings.mail_retry_max_seconds)

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt (1, 2, …): doubling, capped."""
        return timedelta(seconds=min(self.first_seconds * 2 ** (attempts - 1), self.max_seconds))


def queue(conn: psycopg.Connection, channel: str, recipient: str, subject: str, body: str, *,
          key: str, language: str) -> int | None:
    """Queue a message in the caller's transaction; its id, or None when ``key`` was queued
    before (whatever its text was then: the first one stands)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    row = conn.execute("INSERT INTO outbox (channel, recipient, subject, body, language, dedup_key) "
                       "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
                       (channel, recipient, subject, body, language, key)).fetchone()
    return int(row[0]) if row else None


def deliver_due(conn: psycopg.Connection, sender: Sender, now: datetime, *, retry: Retry = Retry(),
                limit: int = 100) -> dict[str, int]:
    """Send the sender's channel's messages due at ``now``, at most ``limit``; counts of sent and
    failed. Each message is its own transaction on ``conn`` (which must not be inside one: the
    row lock is what keeps other processes off it, and it must end with each message)."""
    sent = failed = 0
    for _ in range(limit):
        with conn.transaction():
            row = conn.execute(
                "SELECT id, channel, recipient, subject, body, language, dedup_key, attempts FROM outbox "
                "WHERE channel = %s AND sent_at IS NULL AND next_attempt_at <= %s "
                "ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
                (sender.channel, now)).fetchone()
            if row is None:
                break
            message = Message(*row[:7])
            attempts = int(row[7]) + 1
            try:
                sender.send(message)
            except Exception as exc:  # any failure of the adapter is the row's error, not ours
                error = f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
                retry_at = now + retry.delay(attempts) if attempts < retry.max_attempts else None
                conn.execute("UPDATE outbox SET attempts = %s, last_error = %s, next_attempt_at = %s WHERE id = %s",
                             (attempts, error, retry_at, message.id))
                log.warning("outbox %s (%s to %s) attempt %s failed: %s%s", message.id, message.channel,
                            message.recipient, attempts, error, "" if retry_at else "; given up")
                failed += 1
            else:
                conn.execute("UPDATE outbox SET attempts = %s, sent_at = clock_timestamp() WHERE id = %s",
                             (attempts, message.id))
                sent += 1
    return {"sent": sent, "failed": failed}


class SmtpSender:
    """Email through an SMTP server (one connection per message: a run sends few)."""

    channel = "email"

    def __init__(self, host: str, port: int = 25, *, sender: str, user: str | None = None,
                 password: str | None = None, tls: str = "starttls", timeout: float = 10.0) -> None:
        if tls not in ("starttls", "ssl", "none"):
            raise ValueError(f"SMTP_TLS must be starttls, ssl or none, not {tls!r}")
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.tls, self.timeout = user, password, tls, timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSender | None:
        """The configured server; None when SMTP_HOST is unset (mail is off)."""
        if not settings.smtp_host:
            return None
        return cls(settings.smtp_host, settings.smtp_port, sender=settings.smtp_from, user=settings.smtp_user,
                   password=settings.smtp_password, tls=settings.smtp_tls, timeout=settings.smtp_timeout)

    def build(self, message: Message) -> MIMEText:
        # The legacy (compat32) message and Header on purpose: Python 3.11's default policy folds a
        # long non-ASCII subject with the space between two words outside the encoded words,
        # where readers drop it ("уведомлениев"); Header keeps spaces inside them.
        mail = MIMEText(message.body, "plain", "utf-8")
        mail["From"] = self.sender
        mail["To"] = message.recipient
        mail["Subject"] = Header(message.subject, "utf-8")
        mail["Date"] = formatdate(localtime=False)
        # The same key, the same Message-ID: a message sent again after a crash is recognisable.
        domain = self.sender.rpartition("@")[2] or "localhost"
        mail["Message-ID"] = f"<{sha256(message.key.encode()).hexdigest()[:32]}@{domain}>"
        mail["Content-Language"] = message.language
        return mail

    def send(self, message: Message) -> None:
        mail = self.build(message)
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.tls == "ssl":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.tls == "starttls":
                smtp.starttls(context=context)
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(mail)


class LogSms:
    """SMS without a gateway: the message goes to the service log and counts as sent. Replace it
    with a gateway's client (same ``send``) when there is one."""

    channel = "sms"

    def send(self, message: Message) -> None:
        log.info("sms to %s [%s]: %s", message.recipient, message.language, message.body)

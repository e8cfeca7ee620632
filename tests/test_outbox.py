"""The mail outbox (issue 11, "Mail is an adapter"): messages queued in the database and sent
to a real SMTP server (the aiosmtpd sink of tests/smtp_sink.py) by the service role, once per
key, once across concurrent senders, and retried with backoff while the server is down."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from cadastre.outbox import LogSms, Message, Retry, SmtpSender, deliver_due, queue
from geoservice.kernel.settings import Settings
from tests.smtp_sink import SmtpSink

TEXTS = {
    "kk": ("Міндеттеме мерзімі жақындады", "Лицензия № 123-ҚТБ: есеп 7 күннен кейін тапсырылуы тиіс."),
    # A long subject of many words: folded into several encoded words, no space may be lost.
    "ru": ("Срок обязательства по лицензии на разведку твёрдых полезных ископаемых подходит через семь дней",
           "Лицензия № 123-ТПИ: отчёт нужно сдать через 7 дней. Ёжик « » — €"),
    "en": ("An obligation is coming due", "Licence No. 123: the report is due in 7 days."),
}


@pytest.fixture(scope="module")
def service_url(database_url: str) -> str:
    return Settings(database_url=database_url).service_database_url


@pytest.fixture
def service(service_url: str, database_url: str):
    """A connection as the service role (what the grants allow), on an empty outbox."""
    with psycopg.connect(database_url, autocommit=True) as owner:
        owner.execute("DELETE FROM outbox")
    with psycopg.connect(service_url, autocommit=True) as conn:
        yield conn


def smtp(sink: SmtpSink) -> SmtpSender:
    return SmtpSender(sink.host, sink.port, sender="geoservice@example.kz", tls="none", timeout=5)


def row(conn: psycopg.Connection, key: str) -> tuple:
    found = conn.execute("SELECT attempts, sent_at, next_attempt_at, last_error FROM outbox WHERE dedup_key = %s",
                         (key,)).fetchone()
    assert found is not None
    return found


def test_queued_mail_arrives_in_each_language(service, smtp_sink):
    for language, (subject, body) in TEXTS.items():
        with service.transaction():
            assert queue(service, "email", f"holder-{language}@example.kz", subject, body,
                         key=f"lang:{language}", language=language) is not None
    now = datetime.now(UTC)
    assert deliver_due(service, smtp(smtp_sink), now) == {"sent": 3, "failed": 0}
    by_to = {r.rcpt_tos[0]: r for r in smtp_sink.received}
    assert sorted(by_to) == sorted(f"holder-{lang}@example.kz" for lang in TEXTS)
    for language, (subject, body) in TEXTS.items():
        got = by_to[f"holder-{language}@example.kz"]
        assert got.mail_from == "geoservice@example.kz"
        assert got.message["Subject"] == subject
        assert got.message["To"] == f"holder-{language}@example.kz"
        assert got.message["Content-Language"] == language
        assert got.message.get_content().rstrip("\n") == body
        attempts, sent_at, _, error = row(service, f"lang:{language}")
        assert (attempts, error) == (1, None) and sent_at is not None
    # Sent is sent: nothing goes out again.
    assert deliver_due(service, smtp(smtp_sink), now + timedelta(days=1)) == {"sent": 0, "failed": 0}
    assert len(smtp_sink.received) == 3


def test_a_key_queued_twice_is_sent_once(service, smtp_sink):
    first = queue(service, "email", "a@example.kz", "Subject", "first", key="finding:1", language="en")
    assert first is not None
    # Another checker run, another process, other wording: the same finding is the same row.
    with psycopg.connect(service.info.dsn, autocommit=True) as other:
        assert queue(other, "email", "a@example.kz", "Subject", "second", key="finding:1", language="en") is None
    assert deliver_due(service, smtp(smtp_sink), datetime.now(UTC)) == {"sent": 1, "failed": 0}
    assert queue(service, "email", "a@example.kz", "Subject", "third", key="finding:1", language="en") is None
    assert deliver_due(service, smtp(smtp_sink), datetime.now(UTC) + timedelta(hours=1))["sent"] == 0
    assert [m.get_content().strip() for m in smtp_sink.messages] == ["first"]


def test_queue_follows_the_callers_transaction(service, smtp_sink):
    with pytest.raises(RuntimeError):
        with service.transaction():
            queue(service, "email", "b@example.kz", "S", "rolled back", key="rollback:1", language="ru")
            raise RuntimeError("the finding's transaction fails")
    assert service.execute("SELECT count(*) FROM outbox WHERE dedup_key = 'rollback:1'").fetchone() == (0,)
    assert deliver_due(service, smtp(smtp_sink), datetime.now(UTC))["sent"] == 0
    assert smtp_sink.received == []


class SlowSmtp(SmtpSender):
    """The real sender, a little slower, so that two runs overlap for certain."""

    def send(self, message: Message) -> None:
        time.sleep(0.02)
        super().send(message)


def test_two_concurrent_senders_send_each_message_once(service, service_url, smtp_sink):
    n = 40
    with service.transaction():
        for i in range(n):
            queue(service, "email", f"p{i}@example.kz", f"Notice {i}", f"body {i}", key=f"many:{i}", language="kk")
    now = datetime.now(UTC)
    results: list[dict[str, int]] = []
    start = threading.Barrier(2)

    def run() -> None:
        with psycopg.connect(service_url, autocommit=True) as conn:
            start.wait()
            results.append(deliver_due(conn, SlowSmtp(smtp_sink.host, smtp_sink.port, sender="g@example.kz",
                                                      tls="none"), now))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["sent"] for r in results) == n and all(r["failed"] == 0 for r in results)
    assert all(r["sent"] > 0 for r in results), results  # both really ran at once
    subjects = sorted(m["Subject"] for m in smtp_sink.messages)
    assert subjects == sorted(f"Notice {i}" for i in range(n))  # each exactly once
    assert service.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL OR attempts <> 1").fetchone() == (0,)


def test_server_down_records_the_error_and_retries_later(service, smtp_sink):
    queue(service, "email", "c@example.kz", "Тема", "Мәтін", key="down:1", language="kk")
    smtp_sink.stop()
    retry = Retry(max_attempts=5, first_seconds=60, max_seconds=600)
    now = datetime.now(UTC)
    assert deliver_due(service, smtp(smtp_sink), now, retry=retry) == {"sent": 0, "failed": 1}
    attempts, sent_at, next_at, error = row(service, "down:1")
    assert attempts == 1 and sent_at is None and "Connection" in error
    assert next_at == now + timedelta(seconds=60)
    # Not due again before its time.
    assert deliver_due(service, smtp(smtp_sink), now + timedelta(seconds=30), retry=retry) == {"sent": 0, "failed": 0}
    # Still down at the second try: the wait doubles.
    assert deliver_due(service, smtp(smtp_sink), now + timedelta(seconds=61), retry=retry)["failed"] == 1
    attempts, _, next_at, _ = row(service, "down:1")
    assert attempts == 2 and next_at == now + timedelta(seconds=61 + 120)
    smtp_sink.start()  # back up, on the same port
    later = now + timedelta(seconds=200)
    assert deliver_due(service, smtp(smtp_sink), later, retry=retry) == {"sent": 1, "failed": 0}
    attempts, sent_at, _, error = row(service, "down:1")
    assert attempts == 3 and sent_at is not None
    assert error is not None  # the last failure stays on record
    assert [(m["Subject"], m.get_content().strip()) for m in smtp_sink.messages] == [("Тема", "Мәтін")]


def test_gives_up_after_the_last_attempt(service, smtp_sink):
    queue(service, "email", "d@example.kz", "S", "B", key="dead:1", language="en")
    smtp_sink.stop()
    retry = Retry(max_attempts=2, first_seconds=1, max_seconds=1)
    now = datetime.now(UTC)
    assert deliver_due(service, smtp(smtp_sink), now, retry=retry)["failed"] == 1
    assert deliver_due(service, smtp(smtp_sink), now + timedelta(seconds=2), retry=retry)["failed"] == 1
    attempts, sent_at, next_at, error = row(service, "dead:1")
    assert (attempts, sent_at, next_at) == (2, None, None) and error
    smtp_sink.start()
    assert deliver_due(service, smtp(smtp_sink), now + timedelta(days=30), retry=retry) == {"sent": 0, "failed": 0}
    assert smtp_sink.received == []


def test_sms_goes_through_its_own_adapter(service, smtp_sink, caplog):
    queue(service, "sms", "+77010000000", "", "Есеп мерзімі: 7 күн", key="sms:1", language="kk")
    queue(service, "email", "e@example.kz", "S", "B", key="mail:1", language="en")
    caplog.set_level("INFO", logger="geoservice.outbox")
    assert deliver_due(service, LogSms(), datetime.now(UTC)) == {"sent": 1, "failed": 0}
    assert "+77010000000" in caplog.text and "Есеп мерзімі" in caplog.text
    assert row(service, "mail:1")[1] is None  # the email waits for its own sender
    assert smtp_sink.received == []


def test_smtp_is_a_setting():
    assert SmtpSender.from_settings(Settings.from_env({})) is None  # no SMTP_HOST: mail is off
    sender = SmtpSender.from_settings(Settings.from_env({
        "GEOSERVICE_SMTP_HOST": "mail.example.kz", "GEOSERVICE_SMTP_PORT": "465", "GEOSERVICE_SMTP_TLS": "ssl",
        "GEOSERVICE_SMTP_USER": "u", "GEOSERVICE_SMTP_PASSWORD": "p", "GEOSERVICE_SMTP_FROM": "cadastre@example.kz"}))
    assert sender is not None
    assert (sender.host, sender.port, sender.tls, sender.user, sender.sender) == (
        "mail.example.kz", 465, "ssl", "u", "cadastre@example.kz")
    with pytest.raises(ValueError):
        SmtpSender("h", sender="x@y", tls="maybe")


def test_a_notification_to_an_account_with_an_email_is_mailed(service, database_url, smtp_sink):
    from cadastre.messages import MESSAGES
    from cadastre.notifications import notify

    people = (("900101300001", "aigul@example.kz"), ("900101300002", None))
    with psycopg.connect(database_url, autocommit=True) as owner:
        with_mail, without = (owner.execute(
            "INSERT INTO accounts (iin, name, email) VALUES (%s, 'Айгүл Сәрсенова', %s) "
            "ON CONFLICT (iin, (coalesce(bin, ''))) DO UPDATE SET email = EXCLUDED.email RETURNING id",
            (iin, email)).fetchone()[0] for iin, email in people)
    with service.transaction():
        mailed = notify(service, with_mail, "notice.welcome", name="Айгүл")
        quiet = notify(service, without, "notice.welcome", name="Ерлан")
    assert service.execute("SELECT dedup_key FROM outbox ORDER BY id").fetchall() == [(f"notification:{mailed}",)]
    assert quiet != mailed
    assert deliver_due(service, smtp(smtp_sink), datetime.now(UTC)) == {"sent": 1, "failed": 0}
    (got,) = smtp_sink.received
    assert got.rcpt_tos == ["aigul@example.kz"]
    body = got.message.get_content()
    for lang in ("kk", "ru", "en"):
        assert MESSAGES["notice.welcome"][lang].format(name="Айгүл") in body
        assert MESSAGES["mail.notice_subject"][lang] in got.message["Subject"]

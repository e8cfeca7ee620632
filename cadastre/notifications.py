"""Notifications to a person's cabinet. A notification is a message code (cadastre/messages.py,
``notice.*``) and its parameters, so it reads in whichever language the reader chooses. It counts
as delivered when it reaches the cabinet (the first time the person's inbox is fetched), with
that time, and keeps its read/unread state.

When the account has an email in its contacts, the notification is also queued as mail
(cadastre/outbox.py) in the same transaction, once per notification. The account has no
language of its own yet, so the mail carries the text in kk, ru and en."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from cadastre.outbox import queue
from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import translate

PAGE = 100
MAIL_LANGUAGES = ("kk", "ru", "en")  # the state language first


def notify(conn: psycopg.Connection, account_id: int, code: str, **params: Any) -> int:
    """A notification for an account, in the caller's transaction; its id."""
    row = conn.execute("INSERT INTO notifications (account_id, code, params) VALUES (%s, %s, %s) RETURNING id",
                       (account_id, code, Jsonb(params))).fetchone()
    assert row is not None
    notification_id = int(row[0])
    contact = conn.execute("SELECT email FROM accounts WHERE id = %s", (account_id,)).fetchone()
    if contact is not None and contact[0] and contact[0].strip():
        subject = " / ".join(translate("mail.notice_subject", lang) for lang in MAIL_LANGUAGES)
        body = "\n\n".join(f"{translate(code, lang, **params)}\n{translate('mail.notice_footer', lang)}"
                            for lang in MAIL_LANGUAGES)
        queue(conn, "email", contact[0].strip(), subject, body, key=f"notification:{notification_id}",
              language=MAIL_LANGUAGES[0])
    return notification_id


def inbox(conn: psycopg.Connection, account_id: int, *, limit: int = PAGE) -> list[dict[str, Any]]:
    """The account's latest notifications, newest first; those not delivered yet are delivered
    now (the inbox is what the cabinet shows)."""
    conn.execute("UPDATE notifications SET delivered_at = now() WHERE account_id = %s AND delivered_at IS NULL",
                 (account_id,))
    rows = conn.execute("SELECT id, code, params, created_at, delivered_at, read_at FROM notifications "
                        "WHERE account_id = %s ORDER BY id DESC LIMIT %s", (account_id, limit)).fetchall()
    return [{"id": r[0], "code": r[1], "params": r[2], "created_at": r[3].isoformat(),
             "delivered_at": r[4].isoformat() if r[4] else None, "read_at": r[5].isoformat() if r[5] else None}
            for r in rows]


def mark_read(conn: psycopg.Connection, account_id: int, notification_id: int) -> dict[str, Any]:
    """Mark one of the account's notifications read (again: nothing changes); 404 when the
    account has no such notification."""
    row = conn.execute("UPDATE notifications SET read_at = coalesce(read_at, now()), "
                       "delivered_at = coalesce(delivered_at, now()) WHERE id = %s AND account_id = %s "
                       "RETURNING id, read_at", (notification_id, account_id)).fetchone()
    if row is None:
        raise Problem("cabinet.no_notification", 404, id=notification_id)
    return {"id": row[0], "read_at": row[1].isoformat()}


def unread(conn: psycopg.Connection, account_id: int) -> int:
    row = conn.execute("SELECT count(*) FROM notifications WHERE account_id = %s AND read_at IS NULL",
                       (account_id,)).fetchone()
    return int(row[0]) if row else 0

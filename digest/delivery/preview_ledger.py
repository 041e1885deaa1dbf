"""Which editor was sent which edition's review preview, so a restarted run does not mail it again.

Previews are not in the readers' send ledger (editors are not readers), but
they follow its rules (digest.delivery.sender): one row per edition x editor
(the store part "previews"), ``sending`` committed just before the step that
hands the preview over for good, ``sent`` only on the server's 250 (or the
outbox rename). A row left ``sending`` by a killed process is settled by the
transport where it can know (the outbox), else the preview is sent again with
the same Message-ID and the row is flagged ``uncertain``. A ``sent`` row is
never sent again; a refused preview (``failed``) is tried again by the next run.
The run that mails previews holds the edition's send lease, so two processes
never mail the same editor at once.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from digest.store import migrate
from digest.timestamps import utc_stamp

PREVIEW_MIGRATIONS = (
    """
    CREATE TABLE previews (
        edition_id TEXT NOT NULL,
        editor TEXT NOT NULL,
        message_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        uncertain INTEGER NOT NULL DEFAULT 0,
        last_reply TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (edition_id, editor)
    );
    """,
)


class PreviewStatus(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class PreviewRow:
    editor: str
    message_id: str
    status: PreviewStatus
    uncertain: bool


def ensure_previews(conn: sqlite3.Connection) -> sqlite3.Connection:
    migrate(conn, "previews", PREVIEW_MIGRATIONS)
    return conn


def find(conn: sqlite3.Connection, edition_id: str, editor: str) -> PreviewRow | None:
    row = conn.execute(
        "SELECT * FROM previews WHERE edition_id = ? AND editor = ?", (edition_id, editor)
    ).fetchone()
    if row is None:
        return None
    return PreviewRow(row["editor"], row["message_id"], PreviewStatus(row["status"]), bool(row["uncertain"]))


def mark_sending(conn: sqlite3.Connection, edition_id: str, editor: str, message_id: str, *, now: datetime) -> None:
    """The preview is about to be handed over for good: from here on its outcome is uncertain."""
    conn.execute(
        "INSERT INTO previews (edition_id, editor, message_id, status, updated_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (edition_id, editor) DO UPDATE SET status = excluded.status, "
        "message_id = excluded.message_id, updated_at = excluded.updated_at",
        (edition_id, editor, message_id, PreviewStatus.SENDING, utc_stamp(now)),
    )


def record_outcome(
    conn: sqlite3.Connection,
    edition_id: str,
    editor: str,
    message_id: str,
    *,
    status: PreviewStatus,
    reply: str,
    now: datetime,
    uncertain: bool = False,
) -> None:
    """One attempt's outcome (``uncertain``: the editor may already have had a copy; it stays marked)."""
    conn.execute(
        "INSERT INTO previews (edition_id, editor, message_id, status, attempts, uncertain, last_reply, updated_at) "
        "VALUES (?, ?, ?, ?, 1, ?, ?, ?) "
        "ON CONFLICT (edition_id, editor) DO UPDATE SET status = excluded.status, attempts = attempts + 1, "
        "uncertain = MAX(uncertain, excluded.uncertain), last_reply = excluded.last_reply, "
        "updated_at = excluded.updated_at",
        (edition_id, editor, message_id, status, int(uncertain), reply, utc_stamp(now)),
    )

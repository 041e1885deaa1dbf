"""The send ledger: which reader was sent which edition, so a crash costs nothing.

Tables (in the SQLite store, migrated under the part name "ledger"):

- ``sends``: one row per delivery of an edition (its id, the kind of send:
  to readers, a rehearsal, or the preview its editors review, SendKind), the transport, the story ids it carried and, as versioned JSON, everything
  its messages are made from, so a resumed send is byte-identical to the
  interrupted one: digest.delivery.snapshot).
- ``deliveries``: one row per send x recipient: status, attempts, the last
  SMTP reply, the deterministic Message-ID and timestamps.
- ``suppressions``: addresses that must never be mailed again
  (digest.delivery.suppressions reads and writes them).
- ``runs``: one row per scheduled fire time of an edition, so a restart
  knows what already ran, what to catch up and what it skipped as late
  (digest.delivery.runs).

A delivery row moves ``pending`` -> ``sending`` -> ``sent`` (or ``failed``
on a 5xx, ``deferred`` when a send's 4xx retries ran out, ``suppressed``).
A ``deferred`` row keeps its send open: it is tried again from its
``retry_at`` by the next send or `digest run`, until the send is older than
``smtp.give_up_after``; then it is ``failed``.
``sending`` is written immediately before the one step that hands the
message over for good (the SMTP end-of-data dot, the outbox rename); see
digest.delivery.sender for what a restart does with a row left in that state.

Every write is its own transaction; with WAL and synchronous=NORMAL a
commit survives the process being killed (not a power cut, which may lose
the last few commits: then the rows fall back to ``pending``/``sending``
and are treated as below).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from digest.delivery.preview_migration import move_previews_into_sends
from digest.delivery.snapshot import convert_pickled_sends
from digest.store import migrate, write_transaction
from digest.timestamps import parse_stamp, utc_stamp

LEDGER_MIGRATIONS = (
    """
    CREATE TABLE sends (
        send_id TEXT PRIMARY KEY,
        edition_id TEXT NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('scheduled', 'manual', 'dry-run', 'test')),
        run_at TEXT NOT NULL,
        transport TEXT NOT NULL,
        stories TEXT NOT NULL,
        snapshot BLOB NOT NULL,
        created_at TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE INDEX sends_by_name ON sends (name, kind, run_at);
    CREATE TABLE deliveries (
        send_id TEXT NOT NULL REFERENCES sends (send_id),
        recipient TEXT NOT NULL,
        position INTEGER NOT NULL,
        message_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN
            ('pending', 'sending', 'sent', 'failed', 'deferred', 'suppressed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        uncertain INTEGER NOT NULL DEFAULT 0,
        last_reply TEXT,
        updated_at TEXT NOT NULL,
        sent_at TEXT,
        PRIMARY KEY (send_id, recipient)
    );
    CREATE INDEX deliveries_by_status ON deliveries (send_id, status, position);
    CREATE TABLE suppressions (
        address TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        added_at TEXT NOT NULL
    );
    CREATE TABLE runs (
        name TEXT NOT NULL,
        scheduled_for TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN
            ('started', 'sent', 'skipped-late', 'skipped-no-new', 'failed')),
        send_id TEXT,
        detail TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL,
        PRIMARY KEY (name, scheduled_for)
    );
    """,
    # The moment the SMTP end-of-data dot was handed to the connection. No longer written:
    # a written dot is not an accepted message (a server may drop it when the client dies
    # before the reply), so only the 250 counts (see digest.delivery.sender).
    "ALTER TABLE deliveries ADD COLUMN handed_at TEXT",
    # the message a send is made from, as JSON (sends.outgoing) instead of a pickle (sends.snapshot)
    convert_pickled_sends,
    # When a reader the server keeps deferring (4xx) is tried again by the next `digest send` or `digest run`.
    "ALTER TABLE deliveries ADD COLUMN retry_at TEXT",
    # A run of a reviewed edition ends 'in-review' (editors were sent its preview) or 'held' (its review
    # deadline passed); SQLite changes a CHECK only by rebuilding the table. scheduler_starts: the first
    # `digest run` of each edition, before which no fire time is owed (digest.delivery.runs).
    """
    CREATE TABLE runs_reviewed (
        name TEXT NOT NULL,
        scheduled_for TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN
            ('started', 'sent', 'skipped-late', 'skipped-no-new', 'failed', 'in-review', 'held')),
        send_id TEXT,
        detail TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL,
        PRIMARY KEY (name, scheduled_for)
    );
    INSERT INTO runs_reviewed SELECT name, scheduled_for, status, send_id, detail, updated_at FROM runs;
    DROP TABLE runs;
    ALTER TABLE runs_reviewed RENAME TO runs;
    CREATE TABLE scheduler_starts (
        name TEXT PRIMARY KEY,
        started_at TEXT NOT NULL
    );
    """,
    # A reviewed edition's preview is a send of its own kind (its editors' rows beside the readers'); the
    # rows of the ledger previews had of their own before (store part 'previews') move in.
    move_previews_into_sends,
)


class SendKind(StrEnum):
    """Why an edition was sent (the values are the ones the schema's CHECK allows)."""

    SCHEDULED = "scheduled"
    MANUAL = "manual"
    DRY_RUN = "dry-run"
    TEST = "test"
    PREVIEW = "preview"
    """A reviewed edition's preview to its editors (digest.delivery.preview)."""

    @property
    def reaches_readers(self) -> bool:
        """Dry runs, test copies and previews do not count as the edition having been sent."""
        return self in REAL_KINDS

    @property
    def addressee(self) -> str:
        """Who a send's rows are, in what is logged about them."""
        return "editor" if self is SendKind.PREVIEW else "reader"

    def keyed_send_id(self, edition_id: str) -> str | None:
        """The id of the one send of this kind an edition has, so a second attempt finds the first one's rows
        (None: each dry run or test copy is a rehearsal of its own)."""
        if self.reaches_readers:
            return edition_id
        return preview_send_id(edition_id) if self is SendKind.PREVIEW else None

    def mail_key(self, edition_id: str) -> str:
        """What a send's Message-IDs and outbox folder are made from: a preview's are its own, so an editor who is
        also a reader gets both messages, and the readers' copy is never taken for the preview after a crash."""
        return f"{edition_id}.preview" if self is SendKind.PREVIEW else edition_id


def preview_send_id(edition_id: str) -> str:
    """The one preview send of an edition (digest.delivery.preview)."""
    return f"{edition_id}~{SendKind.PREVIEW}"


REAL_KINDS = (SendKind.SCHEDULED, SendKind.MANUAL)
_REAL_KINDS_SQL = ", ".join(f"'{kind}'" for kind in REAL_KINDS)


class DeliveryStatus(StrEnum):
    """Where one reader's copy of a send stands (see the module docstring for the moves)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DEFERRED = "deferred"
    SUPPRESSED = "suppressed"


OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.DEFERRED, DeliveryStatus.SENDING)
"""Rows a resumed send still has to deal with."""


def ensure_ledger(conn: sqlite3.Connection) -> sqlite3.Connection:
    migrate(conn, "ledger", LEDGER_MIGRATIONS)
    return conn


@dataclass(frozen=True)
class SendRecord:
    send_id: str
    edition_id: str
    name: str
    kind: SendKind
    run_at: datetime
    transport: str
    stories: tuple[str, ...]
    outgoing: str | None
    """The JSON of digest.delivery.snapshot (None: an older digest's copy that could not be converted)."""
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class Delivery:
    recipient: str
    message_id: str
    status: DeliveryStatus
    attempts: int
    uncertain: bool
    last_reply: str | None


def _send(row: sqlite3.Row) -> SendRecord:
    return SendRecord(
        send_id=row["send_id"],
        edition_id=row["edition_id"],
        name=row["name"],
        kind=SendKind(row["kind"]),
        run_at=parse_stamp(row["run_at"]),
        transport=row["transport"],
        stories=tuple(json.loads(row["stories"])),
        outgoing=row["outgoing"],
        created_at=parse_stamp(row["created_at"]),
        finished_at=parse_stamp(row["finished_at"]) if row["finished_at"] else None,
    )


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(
        recipient=row["recipient"],
        message_id=row["message_id"],
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        uncertain=bool(row["uncertain"]),
        last_reply=row["last_reply"],
    )


# --- sends and deliveries ---------------------------------------------------


def create_send(
    conn: sqlite3.Connection,
    *,
    send_id: str,
    edition_id: str,
    name: str,
    kind: SendKind,
    run_at: datetime,
    transport: str,
    stories: Sequence[str],
    outgoing: str,
    recipients: Sequence[tuple[str, str]],
    now: datetime,
) -> bool:
    """Record a send and one pending row per (recipient, Message-ID), atomically.

    Returns False (and changes nothing) when the send already exists: its
    recipients were fixed when it began.
    """
    created = utc_stamp(now)
    with write_transaction(conn):
        inserted = conn.execute(
            "INSERT INTO sends (send_id, edition_id, name, kind, run_at, transport, stories, outgoing, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (send_id) DO NOTHING",
            (send_id, edition_id, name, kind, utc_stamp(run_at), transport, json.dumps(list(stories)), outgoing, created),
        ).rowcount
        if inserted:
            conn.executemany(
                "INSERT INTO deliveries (send_id, recipient, position, message_id, status, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (send_id, address, i, mid, DeliveryStatus.PENDING, created)
                    for i, (address, mid) in enumerate(recipients)
                ],
            )
    return bool(inserted)


def find_send(conn: sqlite3.Connection, send_id: str) -> SendRecord | None:
    row = conn.execute("SELECT * FROM sends WHERE send_id = ?", (send_id,)).fetchone()
    return _send(row) if row else None


def send_for_run(conn: sqlite3.Connection, name: str, run_at: datetime) -> SendRecord | None:
    """The real send of edition ``name`` built for this run time, if one was begun."""
    row = conn.execute(
        f"SELECT * FROM sends WHERE name = ? AND run_at = ? AND kind IN ({_REAL_KINDS_SQL}) "
        "ORDER BY created_at LIMIT 1",
        (name, utc_stamp(run_at)),
    ).fetchone()
    return _send(row) if row else None


def unfinished_send(conn: sqlite3.Connection, name: str) -> SendRecord | None:
    """The latest real send of ``name`` that was interrupted before it finished."""
    row = conn.execute(
        f"SELECT * FROM sends WHERE name = ? AND kind IN ({_REAL_KINDS_SQL}) AND finished_at IS NULL "
        "ORDER BY created_at DESC LIMIT 1",
        (name,),
    ).fetchone()
    return _send(row) if row else None


def replace_outgoing(conn: sqlite3.Connection, send_id: str, outgoing: str) -> None:
    """What the rest of a send's readers get, recomposed after its configuration was fixed."""
    conn.execute("UPDATE sends SET outgoing = ? WHERE send_id = ?", (outgoing, send_id))


def finish_send(conn: sqlite3.Connection, send_id: str, now: datetime) -> None:
    conn.execute("UPDATE sends SET finished_at = ? WHERE send_id = ?", (utc_stamp(now), send_id))


def stories_sent(conn: sqlite3.Connection, name: str, *, before: datetime) -> set[str]:
    """Story ids of every finished real send of ``name`` built before ``before``."""
    rows = conn.execute(
        f"SELECT stories FROM sends WHERE name = ? AND kind IN ({_REAL_KINDS_SQL}) "
        "AND finished_at IS NOT NULL AND run_at < ?",
        (name, utc_stamp(before)),
    )
    return {story for row in rows for story in json.loads(row["stories"])}


def deliveries(
    conn: sqlite3.Connection, send_id: str, statuses: Iterable[DeliveryStatus] | None = None
) -> list[Delivery]:
    """Rows of a send in list order, optionally only those in ``statuses``."""
    if statuses is None:
        rows = conn.execute("SELECT * FROM deliveries WHERE send_id = ? ORDER BY position", (send_id,))
    else:
        wanted = tuple(statuses)
        marks = ", ".join("?" * len(wanted))
        rows = conn.execute(
            f"SELECT * FROM deliveries WHERE send_id = ? AND status IN ({marks}) ORDER BY position",
            (send_id, *wanted),
        )
    return [_delivery(row) for row in rows]


def mark_sending(conn: sqlite3.Connection, send_id: str, recipient: str, now: datetime) -> None:
    """The message is about to be handed over for good: from here on the outcome is uncertain."""
    conn.execute(
        "UPDATE deliveries SET status = ?, updated_at = ? WHERE send_id = ? AND recipient = ?",
        (DeliveryStatus.SENDING, utc_stamp(now), send_id, recipient),
    )


def record_attempt(
    conn: sqlite3.Connection,
    send_id: str,
    recipient: str,
    *,
    status: DeliveryStatus,
    reply: str,
    now: datetime,
    uncertain: bool = False,
) -> None:
    """The outcome of one attempt: counts it, keeps the reply, sets the new status.

    ``uncertain`` marks a row whose message may already have reached the
    server once (it stays marked after a later successful send).
    """
    at = utc_stamp(now)
    conn.execute(
        "UPDATE deliveries SET status = ?, attempts = attempts + 1, last_reply = ?, updated_at = ?, "
        "uncertain = MAX(uncertain, ?), sent_at = CASE WHEN ? THEN ? ELSE sent_at END "
        "WHERE send_id = ? AND recipient = ?",
        (status, reply, at, int(uncertain), status is DeliveryStatus.SENT, at, send_id, recipient),
    )


def mark_delivered_earlier(
    conn: sqlite3.Connection, send_id: str, recipient: str, *, reply: str, now: datetime
) -> None:
    """A row left in 'sending' whose copy the transport proved was delivered."""
    at = utc_stamp(now)
    conn.execute(
        "UPDATE deliveries SET status = ?, last_reply = ?, updated_at = ?, sent_at = ? "
        "WHERE send_id = ? AND recipient = ?",
        (DeliveryStatus.SENT, reply, at, at, send_id, recipient),
    )


def mark_suppressed(conn: sqlite3.Connection, send_id: str, recipient: str, now: datetime) -> None:
    conn.execute(
        "UPDATE deliveries SET status = ?, last_reply = 'on the suppression list', updated_at = ? "
        "WHERE send_id = ? AND recipient = ?",
        (DeliveryStatus.SUPPRESSED, utc_stamp(now), send_id, recipient),
    )


def defer(conn: sqlite3.Connection, send_id: str, recipients: Sequence[str], *, retry_at: datetime) -> None:
    """Readers still deferred when a send's retries ran out: tried again from ``retry_at``."""
    conn.executemany(
        "UPDATE deliveries SET retry_at = ? WHERE send_id = ? AND recipient = ? AND status = 'deferred'",
        [(utc_stamp(retry_at), send_id, recipient) for recipient in recipients],
    )


def next_retry(conn: sqlite3.Connection, send_id: str) -> datetime | None:
    """When the send's earliest deferred reader is due to be tried again (None: nobody is deferred)."""
    row = conn.execute(
        "SELECT MIN(coalesce(retry_at, updated_at)) FROM deliveries WHERE send_id = ? AND status = 'deferred'",
        (send_id,),
    ).fetchone()
    return parse_stamp(row[0]) if row[0] else None


def give_up_deferred(conn: sqlite3.Connection, send_id: str, *, reason: str, now: datetime) -> int:
    """Readers still deferred are failed for good; returns how many."""
    return conn.execute(
        "UPDATE deliveries SET status = 'failed', last_reply = ? || coalesce(': ' || last_reply, ''), "
        "updated_at = ? WHERE send_id = ? AND status = 'deferred'",
        (reason, utc_stamp(now), send_id),
    ).rowcount


def tally(conn: sqlite3.Connection, send_id: str) -> dict[str, int]:
    """Rows per status, plus 'uncertain': rows that may have been delivered twice."""
    counts = {
        row["status"]: row["n"]
        for row in conn.execute(
            "SELECT status, COUNT(*) AS n FROM deliveries WHERE send_id = ? GROUP BY status", (send_id,)
        )
    }
    counts["uncertain"] = conn.execute(
        "SELECT COUNT(*) FROM deliveries WHERE send_id = ? AND uncertain = 1", (send_id,)
    ).fetchone()[0]
    return counts

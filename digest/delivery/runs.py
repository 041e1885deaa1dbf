"""Scheduled runs: one row per fire time of an edition (the ledger's ``runs`` table).

What a restart of `digest run` reads to know which fire times already ran,
which to catch up and which it skipped as late (digest.scheduler).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from digest.timestamps import parse_stamp, utc_stamp


class RunStatus(StrEnum):
    """How one fire time went (the values are the ones the schema's CHECK allows)."""

    STARTED = "started"
    SENT = "sent"
    SKIPPED_LATE = "skipped-late"
    SKIPPED_NO_NEW = "skipped-no-new"
    FAILED = "failed"
    IN_REVIEW = "in-review"
    """A reviewed edition's preview went to its editors; `digest approve` (or its deadline) decides the rest."""
    HELD = "held"
    """A reviewed edition's deadline passed without approval (``on_deadline: hold``)."""

    @property
    def final(self) -> bool:
        """Such a fire time is never run again (a started or failed one is retried within grace)."""
        return self not in (RunStatus.STARTED, RunStatus.FAILED)


@dataclass(frozen=True)
class RunRecord:
    name: str
    scheduled_for: datetime
    status: RunStatus
    send_id: str | None
    detail: str


def _run(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        name=row["name"],
        scheduled_for=parse_stamp(row["scheduled_for"]),
        status=RunStatus(row["status"]),
        send_id=row["send_id"],
        detail=row["detail"],
    )


def find_run(conn: sqlite3.Connection, name: str, scheduled_for: datetime) -> RunRecord | None:
    row = conn.execute(
        "SELECT * FROM runs WHERE name = ? AND scheduled_for = ?", (name, utc_stamp(scheduled_for))
    ).fetchone()
    return _run(row) if row else None


def set_run(
    conn: sqlite3.Connection,
    name: str,
    scheduled_for: datetime,
    status: RunStatus,
    *,
    now: datetime,
    detail: str = "",
    send_id: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO runs (name, scheduled_for, status, send_id, detail, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (name, scheduled_for) DO UPDATE SET status = excluded.status, "
        "send_id = COALESCE(excluded.send_id, runs.send_id), detail = excluded.detail, "
        "updated_at = excluded.updated_at",
        (name, utc_stamp(scheduled_for), status, send_id, detail, utc_stamp(now)),
    )


def latest_run(conn: sqlite3.Connection, name: str) -> RunRecord | None:
    row = conn.execute(
        "SELECT * FROM runs WHERE name = ? ORDER BY scheduled_for DESC LIMIT 1", (name,)
    ).fetchone()
    return _run(row) if row else None


def unfinished_runs(conn: sqlite3.Connection, name: str) -> list[RunRecord]:
    """Runs that were stopped midway (the process ended) or failed (e.g. the SMTP server was down)."""
    rows = conn.execute(
        "SELECT * FROM runs WHERE name = ? AND status IN (?, ?) ORDER BY scheduled_for",
        (name, RunStatus.STARTED, RunStatus.FAILED),
    )
    return [_run(row) for row in rows]


def scheduler_start(conn: sqlite3.Connection, name: str, *, now: datetime) -> datetime:
    """When `digest run` first ran for edition ``name`` (recorded as ``now`` the first time it asks).

    No fire time before it is owed: a new store, or an edition just added to
    the config, starts from its first run, never with a catch-up or a "missed" report.
    """
    conn.execute(
        "INSERT INTO scheduler_starts (name, started_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
        (name, utc_stamp(now)),
    )
    row = conn.execute("SELECT started_at FROM scheduler_starts WHERE name = ?", (name,)).fetchone()
    return parse_stamp(row["started_at"])

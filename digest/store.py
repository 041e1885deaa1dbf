"""The SQLite store: one file for state that must survive restarts.

Each part of digest that keeps state (feeds, the send ledger, …) owns its
tables and declares them as an ordered list of migrations under its own
name; ``migrate`` applies the ones a database has not seen yet, each in a
transaction, and records the version reached in ``schema_versions``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from digest.errors import DigestError

BUSY_TIMEOUT = 30.0
"""Seconds a connection waits for another's write to finish before it gives up."""

EDITION_MIGRATIONS = (
    """
    CREATE TABLE editions (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        built_at TEXT NOT NULL,
        window_start TEXT,
        window_end TEXT NOT NULL,
        stories INTEGER NOT NULL
    );
    CREATE INDEX editions_by_name ON editions (name, window_end);
    """,
)


def connect(path: Path | str) -> sqlite3.Connection:
    """Open (creating if needed) the store, with every known migration applied."""
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
        conn.row_factory = sqlite3.Row
        _use_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_versions (part TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
    except sqlite3.Error as exc:
        raise DigestError(f"{path}: cannot open the SQLite store: {exc}") from None
    migrate(conn, "editions", EDITION_MIGRATIONS)
    return conn


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch a new store to write-ahead logging, waiting out other connections doing the same.

    SQLite gives up on this switch at once, without its busy timeout, while another
    connection holds a lock (two processes opening a new store together), so it is retried here.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def migrate(conn: sqlite3.Connection, part: str, migrations: Sequence[str]) -> None:
    """Apply the migrations of ``part`` that this database has not applied yet.

    The version is read inside the write transaction, so two processes opening
    a new store at once apply each migration exactly once.
    """
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT version FROM schema_versions WHERE part = ?", (part,)).fetchone()
            current = row["version"] if row else 0
            if current > len(migrations):
                raise DigestError(
                    f"the store's '{part}' tables are at version {current}, newer than this digest "
                    f"knows ({len(migrations)}); upgrade digest"
                )
            if current == len(migrations):
                conn.execute("COMMIT")
                return
            for statement in filter(str.strip, migrations[current].split(";")):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_versions (part, version) VALUES (?, ?) "
                "ON CONFLICT (part) DO UPDATE SET version = excluded.version",
                (part, current + 1),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def record_edition(
    conn: sqlite3.Connection,
    edition_id: str,
    name: str,
    built_at: datetime,
    window_start: datetime | None,
    window_end: datetime,
    stories: int,
) -> None:
    """Remember that an edition covered a window, so the next one starts after it."""
    conn.execute(
        "INSERT INTO editions (id, name, built_at, window_start, window_end, stories) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET built_at = excluded.built_at, "
        "window_start = excluded.window_start, window_end = excluded.window_end, stories = excluded.stories",
        (
            edition_id,
            name,
            built_at.isoformat(),
            window_start.isoformat() if window_start else None,
            window_end.isoformat(),
            stories,
        ),
    )


def previous_window_end(conn: sqlite3.Connection, name: str, before: datetime) -> datetime | None:
    """End of the latest window of edition ``name`` that closed before ``before``.

    Strictly before: rebuilding an edition for the same moment covers the same
    window again, so the same inputs and clock give the same edition.
    """
    row = conn.execute(
        "SELECT window_end FROM editions WHERE name = ? AND window_end < ? "
        "ORDER BY window_end DESC LIMIT 1",
        (name, before.isoformat()),
    ).fetchone()
    return datetime.fromisoformat(row["window_end"]) if row else None

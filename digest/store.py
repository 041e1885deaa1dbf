"""The SQLite store: one file for state that must survive restarts.

Each part of digest that keeps state (feeds, the send ledger, …) owns its
tables and declares them as an ordered list of migrations under its own
name; ``migrate`` applies the ones a database has not seen yet, each in a
transaction, and records the version reached in ``schema_versions``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from digest import store_identity
from digest.errors import DigestError
from digest.timestamps import restamp, utc_stamp

Migration = str | Callable[[sqlite3.Connection], None]
"""One step of a part's schema: SQL statements, or a function for what SQL cannot do (rewriting values)."""

BUSY_TIMEOUT = 30.0
"""Seconds a connection waits for another's write to finish before it gives up."""

SQLITE_HEADER = b"SQLite format 3\x00"
"""How every SQLite database file begins (sqlite.org/fileformat.html, "The Database Header")."""


class NotAStore(DigestError):
    """The store: path holds a folder, or a file that is not an SQLite database: a mistake in the config (exit 2).

    SQLite itself would take a file shorter than its header for an empty database and write
    over it; whatever the file was, it is refused untouched.
    """

    exit_code = 2

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
    # An edition is a draft until it is published (digest.editions); only a published one closes its
    # window. Rows from before had closed theirs, so they count as published. A draft keeps its
    # edition as JSON (content) for review, `digest drop` and `digest publish`.
    """
    ALTER TABLE editions ADD COLUMN state TEXT NOT NULL DEFAULT 'published';
    ALTER TABLE editions ADD COLUMN published_at TEXT;
    ALTER TABLE editions ADD COLUMN content TEXT;
    ALTER TABLE editions ADD COLUMN review_deadline TEXT;
    CREATE TABLE edition_drops (
        edition_id TEXT NOT NULL REFERENCES editions (id) ON DELETE CASCADE,
        story_id TEXT NOT NULL,
        title TEXT NOT NULL,
        reason TEXT NOT NULL,
        dropped_at TEXT NOT NULL,
        PRIMARY KEY (edition_id, story_id)
    );
    """,
    # older digests wrote these with the caller's UTC offset, which SQL then compared as text
    lambda conn: restamp_columns(conn, "editions", ("built_at", "window_start", "window_end")),
    # who dropped a story from a reviewed edition (`digest drop --by`, by default the login name)
    "ALTER TABLE edition_drops ADD COLUMN dropped_by TEXT NOT NULL DEFAULT ''",
)


def connect(path: Path | str) -> sqlite3.Connection:
    """Open (creating if needed) the store, with every known migration applied.

    A store that is not the one that recorded earlier editions is refused
    (digest.store_identity); a brand-new one is created with its identity.
    """
    path = Path(path)
    in_memory = str(path) == ":memory:"
    mirror = None
    if not in_memory:
        if path.parent.exists() and not path.parent.is_dir():
            raise NotAStore(f"{path}: the store's folder {path.parent} is a file; check `store:` in the config")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DigestError(
                f"{path}: cannot create the store's folder {path.parent} ({exc.strerror or exc}); "
                "check `store:` in the config"
            ) from None
        if path.is_dir():
            raise NotAStore(f"{path}: is a folder, not the store's file; check `store:` in the config (e.g. digest.sqlite)")
        _refuse_other_files(path)
        mirror = store_identity.check_before_open(path)
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
    migrate(conn, "identity", store_identity.IDENTITY_MIGRATIONS)
    if not in_memory:
        try:
            store_identity.check_after_open(conn, path, mirror)
        except BaseException:
            conn.close()
            raise
    return conn


def _refuse_other_files(path: Path) -> None:
    """Refuse a file that is there, not empty, and not an SQLite database (an empty one is a new store)."""
    try:
        with path.open("rb") as existing:
            start = existing.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise DigestError(f"{path}: cannot read the store ({exc.strerror or exc}); check `store:` in the config") from None
    if start and start != SQLITE_HEADER:
        size = path.stat().st_size
        raise NotAStore(
            f"{path}: not an SQLite database, so not digest's store ({size:,} byte{'' if size == 1 else 's'}, "
            "left as they are); check `store:` in the config, or move that file away"
        )


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


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, taken at once (BEGIN IMMEDIATE, so a concurrent writer waits for the
    busy timeout rather than failing at its first write), committed when the block ends and rolled
    back on any exception, KeyboardInterrupt included."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def migrate(conn: sqlite3.Connection, part: str, migrations: Sequence[Migration]) -> None:
    """Apply the migrations of ``part`` that this database has not applied yet.

    The version is read inside the write transaction, so two processes opening
    a new store at once apply each migration exactly once.
    """
    while True:
        with write_transaction(conn):
            row = conn.execute("SELECT version FROM schema_versions WHERE part = ?", (part,)).fetchone()
            current = row["version"] if row else 0
            if current > len(migrations):
                raise DigestError(
                    f"the store's '{part}' tables are at version {current}, newer than this digest "
                    f"knows ({len(migrations)}); upgrade digest"
                )
            if current == len(migrations):
                return
            step = migrations[current]
            if callable(step):
                step(conn)
            else:
                for statement in filter(str.strip, step.split(";")):
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_versions (part, version) VALUES (?, ?) "
                "ON CONFLICT (part) DO UPDATE SET version = excluded.version",
                (part, current + 1),
            )


def restamp_columns(conn: sqlite3.Connection, table: str, columns: Sequence[str]) -> None:
    """A migration step: rewrite the timestamps in these columns of every row in the one UTC form."""
    rows = conn.execute(f"SELECT rowid, {', '.join(columns)} FROM {table}").fetchall()
    updates = []
    for row in rows:
        stored = [row[column] for column in columns]
        try:
            rewritten = [restamp(value) for value in stored]
        except ValueError as exc:
            raise DigestError(
                f"the store's {table} table (row {row['rowid']}) holds a time digest cannot read: {exc}"
            ) from None
        if rewritten != stored:
            updates.append((*rewritten, row["rowid"]))
    assignments = ", ".join(f"{column} = ?" for column in columns)
    conn.executemany(f"UPDATE {table} SET {assignments} WHERE rowid = ?", updates)


THEME_MIGRATIONS = (
    """
    CREATE TABLE theme_corrections (
        edition TEXT NOT NULL,
        story TEXT NOT NULL,
        theme TEXT NOT NULL,
        belongs INTEGER NOT NULL,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (edition, story, theme)
    );
    CREATE TABLE theme_models (
        key TEXT PRIMARY KEY,
        model TEXT NOT NULL,
        trained_at TEXT NOT NULL
    );
    CREATE TABLE edition_stories (
        edition TEXT NOT NULL,
        story TEXT NOT NULL,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        theme TEXT,
        PRIMARY KEY (edition, story)
    );
    """,
)
"""The themes' part: editors' corrections, trained models by training key, and each recorded
edition's stories (so a correction can name a story by edition and id)."""
MODELS_KEPT = 4
STORY_TEXT_CHARS = 2000
"""Of a story's text, this much is kept to learn from: a model reads the title and lede."""


def ensure_themes(conn: sqlite3.Connection) -> sqlite3.Connection:
    migrate(conn, "themes", THEME_MIGRATIONS)
    return conn


def record_edition_stories(conn: sqlite3.Connection, edition_id: str, stories: Sequence[tuple[str, str, str, str | None]]) -> None:
    """(story id, title, text, theme) of each story an edition showed."""
    ensure_themes(conn)
    conn.executemany(
        "INSERT INTO edition_stories (edition, story, title, text, theme) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (edition, story) DO UPDATE SET title = excluded.title, text = excluded.text, "
        "theme = excluded.theme",
        [(edition_id, story, title, text[:STORY_TEXT_CHARS], theme) for story, title, text, theme in stories],
    )


def edition_story(conn: sqlite3.Connection, edition_id: str, story_id: str) -> sqlite3.Row | None:
    ensure_themes(conn)
    row: sqlite3.Row | None = conn.execute(
        "SELECT title, text, theme FROM edition_stories WHERE edition = ? AND story = ?", (edition_id, story_id)
    ).fetchone()
    return row


def edition_story_ids(conn: sqlite3.Connection, edition_id: str) -> list[str]:
    """The ids of the stories recorded for an edition (none: the store has no such edition's stories)."""
    ensure_themes(conn)
    return [row["story"] for row in conn.execute("SELECT story FROM edition_stories WHERE edition = ? ORDER BY rowid",
                                                 (edition_id,))]


def record_theme_correction(
    conn: sqlite3.Connection,
    edition_id: str,
    story_id: str,
    theme: str,
    belongs: bool,
    recorded_at: datetime,
    story: tuple[str, str] | None = None,
) -> None:
    """An editor's word that a story of an edition belongs (or not) to a theme; the latest word stands.

    ``story`` is its (title, text), else looked up among the edition stories the store recorded.
    """
    if story is None:
        row = edition_story(conn, edition_id, story_id)
        if row is None:
            raise DigestError(
                f"no story {story_id!r} in edition {edition_id!r} of this store; name the edition's JSON file instead"
            )
        story = (row["title"], row["text"])
    title, text = story
    ensure_themes(conn)
    conn.execute(
        "INSERT INTO theme_corrections (edition, story, theme, belongs, title, text, recorded_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (edition, story, theme) DO UPDATE SET "
        "belongs = excluded.belongs, recorded_at = excluded.recorded_at",
        (edition_id, story_id, theme, int(belongs), title, text[:STORY_TEXT_CHARS], utc_stamp(recorded_at)),
    )


def theme_corrections(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every correction, oldest first: (story, theme, belongs, title, text)."""
    ensure_themes(conn)
    return conn.execute(
        "SELECT story, theme, belongs, title, text FROM theme_corrections ORDER BY recorded_at, edition, story, theme"
    ).fetchall()


def kept_theme_model(conn: sqlite3.Connection, key: str) -> str | None:
    ensure_themes(conn)
    row = conn.execute("SELECT model FROM theme_models WHERE key = ?", (key,)).fetchone()
    return row["model"] if row else None


def keep_theme_model(conn: sqlite3.Connection, key: str, model_json: str, trained_at: datetime) -> None:
    """Keep a trained model (JSON) for the next build with the same training set; only the newest few stay."""
    ensure_themes(conn)
    conn.execute(
        "INSERT INTO theme_models (key, model, trained_at) VALUES (?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET model = excluded.model, trained_at = excluded.trained_at",
        (key, model_json, utc_stamp(trained_at)),
    )
    conn.execute(
        "DELETE FROM theme_models WHERE key NOT IN "
        "(SELECT key FROM theme_models ORDER BY trained_at DESC, key LIMIT ?)",
        (MODELS_KEPT,),
    )

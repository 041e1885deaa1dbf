"""What digest remembers about feeds, in the SQLite store.

Per feed: the HTTP validators for the next conditional request and how the
last fetches went (a streak of failures is reported). Per entry: its text
and when digest first saw it. Entries are keyed globally, not per feed, so a
story that shows up in a second feed later is still not new: no story
repeats across editions.

Times are stored as digest.timestamps writes them (UTC, one fixed width),
so SQL can compare them as text.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from digest.sources.fetch import Validators
from digest.store import migrate, write_transaction
from digest.timestamps import parse_stamp, utc_stamp

FEED_MIGRATIONS = (
    """
    CREATE TABLE feed_state (
        url TEXT PRIMARY KEY,
        title TEXT,
        entries INTEGER,
        etag TEXT,
        last_modified TEXT,
        last_attempt TEXT,
        last_success TEXT,
        last_status TEXT,
        last_error TEXT,
        consecutive_failures INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE feed_entries (
        key TEXT PRIMARY KEY,
        first_seen TEXT NOT NULL,
        published TEXT,
        title TEXT,
        link TEXT,
        text TEXT NOT NULL
    );
    CREATE INDEX feed_entries_by_first_seen ON feed_entries (first_seen);
    CREATE INDEX feed_entries_by_published ON feed_entries (published);
    CREATE TABLE feed_entry_sources (
        feed_url TEXT NOT NULL,
        key TEXT NOT NULL REFERENCES feed_entries (key) ON DELETE CASCADE,
        PRIMARY KEY (feed_url, key)
    );
    CREATE INDEX feed_entry_sources_by_key ON feed_entry_sources (key);
    """,
    # paragraphs of the text that were links rather than text in the markup (a JSON list)
    "ALTER TABLE feed_entries ADD COLUMN link_lines TEXT NOT NULL DEFAULT '[]'",
    # what was wrong with the feed at its last parse (a malformed feed whose entries were kept), kept over 304s
    "ALTER TABLE feed_state ADD COLUMN last_problem TEXT",
)

Window = Literal["first-seen", "published"]


class EntryFields(Protocol):
    """What the store keeps of a parsed entry."""

    @property
    def key(self) -> str: ...
    @property
    def title(self) -> str | None: ...
    @property
    def link(self) -> str | None: ...
    @property
    def text(self) -> str: ...
    @property
    def published(self) -> datetime | None: ...
    @property
    def link_lines(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class FeedState:
    url: str
    title: str | None = None
    entries: int | None = None
    """Entries in the feed at its last successful parse."""
    etag: str | None = None
    last_modified: str | None = None
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_status: str | None = None
    """'ok', 'not-modified' or 'error'."""
    last_error: str | None = None
    consecutive_failures: int = 0
    last_problem: str | None = None
    """What was wrong with the feed when it was last parsed (entries kept); a 304 since means it still is."""

    @property
    def validators(self) -> Validators:
        return Validators(self.etag, self.last_modified)


@dataclass(frozen=True)
class StoredEntry:
    key: str
    first_seen: datetime
    published: datetime | None
    title: str | None
    link: str | None
    text: str
    feeds: tuple[str, ...]
    """URLs of every feed that has carried this entry."""
    link_lines: tuple[str, ...] = ()


def ensure_tables(conn: sqlite3.Connection) -> None:
    migrate(conn, "feeds", FEED_MIGRATIONS)


def _moment(text: str | None) -> datetime | None:
    return parse_stamp(text) if text else None


def feed_states(conn: sqlite3.Connection, urls: Iterable[str]) -> dict[str, FeedState]:
    """The stored state of each URL (a fresh state for feeds never fetched)."""
    wanted = list(dict.fromkeys(urls))
    rows = conn.execute(
        "SELECT * FROM feed_state WHERE url IN (SELECT value FROM json_each(?))",
        (json.dumps(wanted),),
    ).fetchall()
    found = {row["url"]: _state(row) for row in rows}
    return {url: found.get(url, FeedState(url)) for url in wanted}


def _state(row: sqlite3.Row) -> FeedState:
    return FeedState(
        url=row["url"],
        title=row["title"],
        entries=row["entries"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_attempt=_moment(row["last_attempt"]),
        last_success=_moment(row["last_success"]),
        last_status=row["last_status"],
        last_error=row["last_error"],
        consecutive_failures=row["consecutive_failures"],
        last_problem=row["last_problem"],
    )


def _state_of(conn: sqlite3.Connection, url: str) -> FeedState:
    """One URL's state, looked up by its key (feed_states' json_each list reads every row)."""
    row = conn.execute("SELECT * FROM feed_state WHERE url = ?", (url,)).fetchone()
    return _state(row) if row is not None else FeedState(url)


def record_success(
    conn: sqlite3.Connection,
    url: str,
    *,
    at: datetime,
    validators: Validators,
    title: str | None,
    entries: int,
    problem: str | None = None,
) -> FeedState:
    """A parsed feed: its title, entry count and ``problem`` (what was wrong, None when it parsed cleanly)."""
    conn.execute(
        "INSERT INTO feed_state (url, title, entries, etag, last_modified, last_attempt, last_success, "
        "last_status, last_error, consecutive_failures, last_problem) VALUES (?, ?, ?, ?, ?, ?, ?, 'ok', NULL, 0, ?) "
        "ON CONFLICT (url) DO UPDATE SET title = excluded.title, entries = excluded.entries, "
        "etag = excluded.etag, last_modified = excluded.last_modified, "
        "last_attempt = excluded.last_attempt, last_success = excluded.last_success, "
        "last_status = 'ok', last_error = NULL, consecutive_failures = 0, last_problem = excluded.last_problem",
        (url, title, entries, validators.etag, validators.last_modified, utc_stamp(at), utc_stamp(at), problem),
    )
    return _state_of(conn, url)


def record_not_modified(
    conn: sqlite3.Connection, url: str, *, at: datetime, validators: Validators
) -> FeedState:
    """A 304: the feed answered properly; validators it re-sent replace the stored ones. Its bytes are those
    last parsed, so what was wrong with them then (``last_problem``) still is."""
    conn.execute(
        "INSERT INTO feed_state (url, etag, last_modified, last_attempt, last_success, last_status, "
        "consecutive_failures) VALUES (?, ?, ?, ?, ?, 'not-modified', 0) "
        "ON CONFLICT (url) DO UPDATE SET etag = coalesce(excluded.etag, etag), "
        "last_modified = coalesce(excluded.last_modified, last_modified), "
        "last_attempt = excluded.last_attempt, last_success = excluded.last_success, "
        "last_status = 'not-modified', last_error = NULL, consecutive_failures = 0",
        (url, validators.etag, validators.last_modified, utc_stamp(at), utc_stamp(at)),
    )
    return _state_of(conn, url)


def record_failure(conn: sqlite3.Connection, url: str, *, at: datetime, error: str) -> FeedState:
    """Count one more failure in a row; validators are kept for when the feed recovers."""
    conn.execute(
        "INSERT INTO feed_state (url, last_attempt, last_status, last_error, consecutive_failures) "
        "VALUES (?, ?, 'error', ?, 1) "
        "ON CONFLICT (url) DO UPDATE SET last_attempt = excluded.last_attempt, "
        "last_status = 'error', last_error = excluded.last_error, "
        "consecutive_failures = consecutive_failures + 1",
        (url, utc_stamp(at), error),
    )
    return _state_of(conn, url)


def record_entries(
    conn: sqlite3.Connection, feed_url: str, entries: Sequence[EntryFields], *, now: datetime
) -> int:
    """Store a feed's entries; returns how many digest had never seen (from any feed).

    An entry seen before keeps its first-seen time; its text and title are
    refreshed, since publishers correct stories.
    """
    with write_transaction(conn):
        known = {
            row["key"]
            for row in conn.execute(
                "SELECT key FROM feed_entries WHERE key IN (SELECT value FROM json_each(?))",
                (json.dumps([entry.key for entry in entries]),),
            )
        }
        conn.executemany(
            "INSERT INTO feed_entries (key, first_seen, published, title, link, text, link_lines) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET published = excluded.published, "
            "title = excluded.title, link = excluded.link, text = excluded.text, "
            "link_lines = excluded.link_lines",
            [
                (
                    entry.key,
                    utc_stamp(now),
                    utc_stamp(entry.published) if entry.published else None,
                    entry.title,
                    entry.link,
                    entry.text,
                    json.dumps(list(entry.link_lines), ensure_ascii=False),
                )
                for entry in entries
            ],
        )
        conn.executemany(
            "INSERT OR IGNORE INTO feed_entry_sources (feed_url, key) VALUES (?, ?)",
            [(feed_url, entry.key) for entry in entries],
        )
    return len({entry.key for entry in entries} - known)


def entries_in_window(
    conn: sqlite3.Connection,
    feed_urls: Iterable[str],
    *,
    since: datetime | None,
    until: datetime | None,
    window: Window = "first-seen",
) -> list[StoredEntry]:
    """Entries of these feeds in a window, by publication (else first-seen) date.

    ``first-seen``: first seen after ``since`` (exclusive: the previous
    edition's end) and no later than ``until``. ``published``: published (else
    first seen) from ``since`` to ``until``, both inclusive.
    """
    moment = "e.first_seen" if window == "first-seen" else "coalesce(e.published, e.first_seen)"
    order = "coalesce(e.published, e.first_seen), e.first_seen, e.key, s.feed_url"
    conditions = ["s.feed_url IN (SELECT value FROM json_each(?))"]
    params: list[str] = [json.dumps(list(dict.fromkeys(feed_urls)))]
    if since is not None:
        conditions.append(f"{moment} {'>' if window == 'first-seen' else '>='} ?")
        params.append(utc_stamp(since))
    if until is not None:
        conditions.append(f"{moment} <= ?")
        params.append(utc_stamp(until))
    rows = conn.execute(
        "SELECT e.key, e.first_seen, e.published, e.title, e.link, e.text, e.link_lines, s.feed_url "
        "FROM feed_entries e JOIN feed_entry_sources s ON s.key = e.key "
        f"WHERE {' AND '.join(conditions)} ORDER BY {order}",
        params,
    ).fetchall()
    grouped: dict[str, tuple[sqlite3.Row, list[str]]] = {}
    for row in rows:
        grouped.setdefault(row["key"], (row, []))[1].append(row["feed_url"])
    return [
        StoredEntry(
            key=row["key"],
            first_seen=parse_stamp(row["first_seen"]),
            published=_moment(row["published"]),
            title=row["title"],
            link=row["link"],
            text=row["text"],
            feeds=tuple(feeds),
            link_lines=tuple(json.loads(row["link_lines"])),
        )
        for row, feeds in grouped.values()
    ]

"""What digest remembers about article pages, in the SQLite store (part "pages").

One row per page, keyed by the canonical form of the link that led to it,
with the page's own canonical URL beside it (two links to one page find the
same row): the article digest read from it, or why it read none, when, and
the validators for a conditional request. A re-build reuses a row without a
request while it is fresh, and asks the server "changed since?" after that.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from digest.models import PageRefusal
from digest.sources.article import Article, from_json, to_json
from digest.sources.fetch import Validators
from digest.store import migrate, restamp_columns
from digest.timestamps import parse_stamp, utc_stamp

PAGE_MIGRATIONS = (
    """
    CREATE TABLE pages (
        url TEXT PRIMARY KEY,
        canonical_url TEXT,
        fetched_at TEXT NOT NULL,
        refusal TEXT,
        detail TEXT,
        etag TEXT,
        last_modified TEXT,
        article TEXT
    );
    CREATE INDEX pages_by_canonical_url ON pages (canonical_url);
    """,
    # written as '…Z' before every table's times came from digest.timestamps
    lambda conn: restamp_columns(conn, "pages", ("fetched_at",)),
)


@dataclass(frozen=True)
class StoredPage:
    url: str
    fetched_at: datetime
    article: Article | None
    refusal: PageRefusal | None
    detail: str | None
    validators: Validators


def ensure_tables(conn: sqlite3.Connection) -> None:
    migrate(conn, "pages", PAGE_MIGRATIONS)


def stored_page(conn: sqlite3.Connection, url: str) -> StoredPage | None:
    """The row for a link, found by the link or by a page's canonical URL."""
    row = conn.execute(
        "SELECT * FROM pages WHERE url = ? UNION ALL SELECT * FROM pages WHERE canonical_url = ? LIMIT 1",
        (url, url),
    ).fetchone()
    if row is None:
        return None
    return StoredPage(
        url=row["url"],
        fetched_at=parse_stamp(row["fetched_at"]),
        article=from_json(row["article"]) if row["article"] else None,
        refusal=PageRefusal[row["refusal"]] if row["refusal"] else None,
        detail=row["detail"],
        validators=Validators(row["etag"], row["last_modified"]),
    )


def record_page(
    conn: sqlite3.Connection,
    url: str,
    *,
    at: datetime,
    article: Article | None,
    refusal: PageRefusal | None = None,
    detail: str | None = None,
    validators: Validators | None = None,
) -> None:
    validators = validators or Validators()
    conn.execute(
        "INSERT INTO pages (url, canonical_url, fetched_at, refusal, detail, etag, last_modified, article) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET canonical_url = excluded.canonical_url, "
        "fetched_at = excluded.fetched_at, refusal = excluded.refusal, detail = excluded.detail, "
        "etag = excluded.etag, last_modified = excluded.last_modified, article = excluded.article",
        (
            url,
            article.url if article else None,
            utc_stamp(at),
            refusal.name if refusal else None,
            detail,
            validators.etag,
            validators.last_modified,
            json.dumps(to_json(article), ensure_ascii=False) if article else None,
        ),
    )


def touch_page(conn: sqlite3.Connection, url: str, at: datetime) -> None:
    """A 304: the stored page is still the page, as of ``at``."""
    conn.execute("UPDATE pages SET fetched_at = ? WHERE url = ?", (utc_stamp(at), url))

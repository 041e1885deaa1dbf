"""Readers who joined an edition themselves (double opt-in), or whom the operator added.

Tables (store part "subscribers"):

- ``subscribers``: one row per edition x address, with where it came from.
- ``signups``: requests waiting for their confirmation link to be clicked.
  Only a SHA-256 of each link's random token is kept, so a copy of the store
  cannot confirm anything; a token works once, and only until it expires.

An edition's readers are its configured recipients plus its subscribers;
suppressed addresses (the ledger's suppression list, checked again just
before each message) are then skipped at send time.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from digest.config import Config
from digest.delivery import ledger
from digest.delivery.recipients import load_recipients
from digest.delivery.signing import BadLink
from digest.delivery.suppressions import is_suppressed, suppression_key
from digest.store import migrate, write_transaction
from digest.timestamps import parse_stamp, utc_stamp

SUBSCRIBER_MIGRATIONS = (
    """
    CREATE TABLE subscribers (
        edition TEXT NOT NULL,
        key TEXT NOT NULL,
        address TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('sign-up', 'operator', 'import')),
        subscribed_at TEXT NOT NULL,
        PRIMARY KEY (edition, key)
    );
    CREATE TABLE signups (
        token_hash TEXT PRIMARY KEY,
        edition TEXT NOT NULL,
        address TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        confirmed_at TEXT
    );
    CREATE INDEX signups_by_expiry ON signups (expires_at);
    """,
)


class Source(StrEnum):
    """How an address became a subscriber."""

    SIGN_UP = "sign-up"
    OPERATOR = "operator"
    IMPORT = "import"


class SuppressionReason(StrEnum):
    """Why digest itself put an address on the suppression list."""

    UNSUBSCRIBED = "unsubscribed"
    HARD_BOUNCE = "hard bounce"
    SOFT_BOUNCES = "soft bounces"


@dataclass(frozen=True)
class Subscriber:
    edition: str
    address: str
    source: Source
    subscribed_at: datetime
    suppressed: bool = False


def ensure_subscribers(conn: sqlite3.Connection) -> sqlite3.Connection:
    ledger.ensure_ledger(conn)
    migrate(conn, "subscribers", SUBSCRIBER_MIGRATIONS)
    return conn


def add(conn: sqlite3.Connection, edition: str, addresses: Iterable[str], *, source: Source, now: datetime) -> int:
    """Subscribe normalised addresses to an edition; returns how many were new."""
    at = utc_stamp(now)
    with write_transaction(conn):
        added = sum(
            conn.execute(
                "INSERT INTO subscribers (edition, key, address, source, subscribed_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (edition, key) DO NOTHING",
                (edition, suppression_key(address), address, source.value, at),
            ).rowcount
            for address in addresses
        )
    return added


def remove(conn: sqlite3.Connection, edition: str, addresses: Iterable[str]) -> int:
    """Unsubscribe addresses from an edition (without suppressing them); returns how many were there."""
    with write_transaction(conn):
        removed = sum(
            conn.execute(
                "DELETE FROM subscribers WHERE edition = ? AND key = ?", (edition, suppression_key(address))
            ).rowcount
            for address in addresses
        )
    return removed


def subscribers(conn: sqlite3.Connection, edition: str | None = None) -> list[Subscriber]:
    """Subscribers (of one edition, or all), oldest first, each saying whether it is suppressed."""
    query = (
        "SELECT s.*, p.address IS NOT NULL AS suppressed FROM subscribers s "
        "LEFT JOIN suppressions p ON p.address = s.key"
    )
    rows = (
        conn.execute(query + " WHERE s.edition = ? ORDER BY s.subscribed_at, s.key", (edition,))
        if edition is not None
        else conn.execute(query + " ORDER BY s.edition, s.subscribed_at, s.key")
    )
    return [
        Subscriber(
            edition=row["edition"],
            address=row["address"],
            source=Source(row["source"]),
            subscribed_at=parse_stamp(row["subscribed_at"]),
            suppressed=bool(row["suppressed"]),
        )
        for row in rows
    ]


def edition_readers(config: Config, conn: sqlite3.Connection, name: str) -> list[str]:
    """Configured recipients, then subscribers, without duplicates (suppression is applied per message)."""
    ensure_subscribers(conn)
    readers = load_recipients(config, name)
    seen = {suppression_key(address) for address in readers}
    for subscriber in subscribers(conn, name):
        if suppression_key(subscriber.address) not in seen:
            seen.add(suppression_key(subscriber.address))
            readers.append(subscriber.address)
    return readers


# --- double opt-in -------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def request_signup(
    conn: sqlite3.Connection, edition: str, address: str, *, now: datetime, valid_for: timedelta
) -> str:
    """Remember a sign-up request; returns the secret token its confirmation link carries."""
    token = secrets.token_urlsafe(32)
    conn.execute("DELETE FROM signups WHERE expires_at < ?", (utc_stamp(now),))
    conn.execute(
        "INSERT INTO signups (token_hash, edition, address, requested_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        (_token_hash(token), edition, address, utc_stamp(now), utc_stamp(now + valid_for)),
    )
    return token


def pending_signup(conn: sqlite3.Connection, token: str, *, now: datetime) -> tuple[str, str]:
    """(edition, address) of a confirmation token that can still be used; BadLink otherwise."""
    row = conn.execute(
        "SELECT edition, address, expires_at, confirmed_at FROM signups WHERE token_hash = ?", (_token_hash(token),)
    ).fetchone()
    if row is None:
        raise BadLink("this confirmation link is not one we sent, or it has expired", 404)
    if row["confirmed_at"] is not None:
        raise BadLink("this confirmation link has already been used", 410)
    if row["expires_at"] < utc_stamp(now):
        raise BadLink("this confirmation link has expired; sign up again for a new one", 410)
    return row["edition"], row["address"]


def confirm_signup(conn: sqlite3.Connection, token: str, *, now: datetime) -> Subscriber:
    """Use a confirmation token once: the address becomes a subscriber of its edition.

    An address that had unsubscribed, and has now proved again that it wants
    the mail, comes off the suppression list; one suppressed for another reason
    (bounces, the operator) stays there.
    """
    at = utc_stamp(now)
    with write_transaction(conn):
        edition, address = pending_signup(conn, token, now=now)
        conn.execute("UPDATE signups SET confirmed_at = ? WHERE token_hash = ?", (at, _token_hash(token)))
        key = suppression_key(address)
        conn.execute(
            "INSERT INTO subscribers (edition, key, address, source, subscribed_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (edition, key) DO NOTHING",
            (edition, key, address, Source.SIGN_UP.value, at),
        )
        conn.execute(
            "DELETE FROM suppressions WHERE address = ? AND reason = ?", (key, SuppressionReason.UNSUBSCRIBED.value)
        )
    suppressed = is_suppressed(conn, address)
    return Subscriber(edition, address, Source.SIGN_UP, now, suppressed)

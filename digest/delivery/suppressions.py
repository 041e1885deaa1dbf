"""The suppression list: addresses that must never be mailed again (the ledger's ``suppressions`` table)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from digest.store import write_transaction
from digest.timestamps import parse_stamp, utc_stamp


def suppression_key(address: str) -> str:
    """Addresses are matched case-insensitively: nobody reads Ann@ and ann@ as two people."""
    return address.strip().lower()


def suppress(conn: sqlite3.Connection, addresses: Iterable[str], *, reason: str, now: datetime) -> int:
    """Add addresses to the suppression list; returns how many were new."""
    at = utc_stamp(now)
    with write_transaction(conn):
        added = sum(
            conn.execute(
                "INSERT INTO suppressions (address, reason, added_at) VALUES (?, ?, ?) "
                "ON CONFLICT (address) DO NOTHING",
                (suppression_key(address), reason, at),
            ).rowcount
            for address in addresses
        )
    return added


def is_suppressed(conn: sqlite3.Connection, address: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM suppressions WHERE address = ?", (suppression_key(address),)).fetchone()
        is not None
    )


@dataclass(frozen=True)
class Suppression:
    address: str
    reason: str
    added_at: datetime


def suppressions(conn: sqlite3.Connection) -> list[Suppression]:
    """The whole suppression list, oldest first."""
    rows = conn.execute("SELECT * FROM suppressions ORDER BY added_at, address")
    return [Suppression(row["address"], row["reason"], parse_stamp(row["added_at"])) for row in rows]


def unsuppress(conn: sqlite3.Connection, addresses: Iterable[str]) -> int:
    """Take addresses off the suppression list; returns how many were on it."""
    with write_transaction(conn):
        removed = sum(
            conn.execute("DELETE FROM suppressions WHERE address = ?", (suppression_key(address),)).rowcount
            for address in addresses
        )
    return removed

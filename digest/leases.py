"""Leases in the store: one process at a time sends an edition, one scheduler runs per store.

Two `digest send` (or a send and `digest run`) working through the same
readers at once would each mail every reader the other had not yet marked:
the ledger records outcomes, it does not share out the work. So a process
takes a lease before it sends and keeps it renewed while it works: a row in
``leases`` naming the holder (a random id, its pid and host) and when the
lease runs out. Another process finding a live lease stops with LeaseHeld
(exit code 75, EX_TEMPFAIL: try again later) and sends nothing. A lease
whose holder died is taken over: at once when the holder was on this host
and its pid is gone, otherwise once it has run out (LEASE_TTL after the
last renewal). A holder that finds its lease taken (it was thought dead:
say, suspended for minutes) sets its stop flag and ends after the message
in flight.

Each check-and-take is one SQLite write transaction, so two processes
starting together cannot both win.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from digest.errors import DigestError
from digest.store import connect, migrate, write_transaction
from digest.timestamps import parse_stamp, utc_stamp

log = logging.getLogger(__name__)

LEASE_MIGRATIONS = (
    """
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        acquired_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    """,
)

LEASE_TTL = timedelta(seconds=60)
"""How long a lease lasts without renewal: a holder on another host that died is taken over after this."""

RENEW_EVERY = LEASE_TTL / 4


class LeaseHeld(DigestError):
    """Another live process holds the lease: this one must not do the same work."""

    exit_code = 75


@dataclass(frozen=True)
class Holder:
    name: str
    holder: str
    pid: int
    host: str
    acquired_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Me:
    """Who takes a lease: one id per process and purpose."""

    holder: str
    pid: int
    host: str

    @classmethod
    def this_process(cls) -> Me:
        return cls(uuid.uuid4().hex, os.getpid(), socket.gethostname())


def ensure_leases(conn: sqlite3.Connection) -> sqlite3.Connection:
    migrate(conn, "leases", LEASE_MIGRATIONS)
    return conn


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def current_holder(conn: sqlite3.Connection, name: str) -> Holder | None:
    row = conn.execute("SELECT * FROM leases WHERE name = ?", (name,)).fetchone()
    if row is None:
        return None
    return Holder(
        name=row["name"],
        holder=row["holder"],
        pid=row["pid"],
        host=row["host"],
        acquired_at=parse_stamp(row["acquired_at"]),
        expires_at=parse_stamp(row["expires_at"]),
    )


def _stale(holder: Holder, now: datetime, alive: Callable[[int], bool]) -> str | None:
    """Why a lease may be taken over, or None while its holder may still be working."""
    if holder.expires_at <= now:
        return f"it ran out at {holder.expires_at.isoformat(timespec='seconds')}"
    if holder.host == socket.gethostname() and not alive(holder.pid):
        return f"process {holder.pid} is gone"
    return None


def acquire(
    conn: sqlite3.Connection,
    name: str,
    me: Me,
    *,
    what: str,
    now: datetime,
    ttl: timedelta = LEASE_TTL,
    alive: Callable[[int], bool] = pid_alive,
) -> None:
    """Take lease ``name`` for ``me``, or raise LeaseHeld naming who has it and what they are doing."""
    with write_transaction(conn):
        holder = current_holder(conn, name)
        if holder is not None and holder.holder != me.holder:
            reason = _stale(holder, now, alive)
            if reason is None:
                raise LeaseHeld(
                    f"another digest (pid {holder.pid} on {holder.host}, since "
                    f"{holder.acquired_at.isoformat(timespec='seconds')}) is {what} from this store; "
                    f"this one stops without sending, so nobody gets anything twice. "
                    f"Try again once that one has finished."
                )
            log.warning(
                "taking over the lease '%s' of pid %d on %s: %s", name, holder.pid, holder.host, reason
            )
        conn.execute(
            "INSERT INTO leases (name, holder, pid, host, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, pid = excluded.pid, "
            "host = excluded.host, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at",
            (name, me.holder, me.pid, me.host, utc_stamp(now), utc_stamp(now + ttl)),
        )


def renew(conn: sqlite3.Connection, name: str, me: Me, *, now: datetime, ttl: timedelta = LEASE_TTL) -> bool:
    """Push the lease's end further; False when it is no longer ours (another process took it over)."""
    changed = conn.execute(
        "UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?", (utc_stamp(now + ttl), name, me.holder)
    ).rowcount
    return bool(changed)


def release(conn: sqlite3.Connection, name: str, me: Me) -> None:
    conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, me.holder))


def _utcnow() -> datetime:
    return datetime.now(UTC)


@contextmanager
def held(
    store: Path,
    name: str,
    *,
    what: str,
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] = _utcnow,
) -> Iterator[threading.Event]:
    """Hold lease ``name`` in the store at ``store`` for the block, renewed in the background.

    Yields an event set if the lease is lost; ``stop`` (if given) is set then too, so the
    work in hand ends after its message in flight.
    """
    me = Me.this_process()
    with closing(ensure_leases(connect(store))) as conn:
        acquire(conn, name, me, what=what, now=clock())
    lost = threading.Event()
    done = threading.Event()

    def keep_renewing() -> None:
        with closing(connect(store)) as conn:
            while not done.wait(RENEW_EVERY.total_seconds()):
                try:
                    still_ours = renew(conn, name, me, now=clock())
                except sqlite3.Error as exc:
                    log.warning("could not renew the lease '%s' (%s); trying again", name, exc)
                    continue
                if not still_ours:
                    log.error("the lease '%s' was taken over by another process: stopping", name)
                    lost.set()
                    if stop is not None:
                        stop.set()
                    return

    renewer = threading.Thread(target=keep_renewing, name=f"lease {name}", daemon=True)
    renewer.start()
    try:
        yield lost
    finally:
        done.set()
        renewer.join()
        with closing(connect(store)) as conn:
            release(conn, name, me)

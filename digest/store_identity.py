"""A store that cannot lie: its identity, mirrored beside it, checked at every open.

The ledger is what stops digest mailing a reader twice and the feed store
what stops it publishing an entry twice. A store file that is lost, emptied,
truncated or swapped for another one would, if silently recreated, send
every reader the edition again and treat every feed entry as new. So:

- a store gets an identity when it is created (a random id, in its
  ``store_identity`` table);
- a small JSON file beside it (``NAME.identity.json``) mirrors that id and
  the last edition published (sent or put in the archive: digest.editions),
  rewritten atomically after each;
- at every open, a store file that is missing or empty while that file
  exists, whose id differs, or that lacks the last edition the file names,
  is refused with StoreRefused, naming what is wrong and what to do.

A brand-new store (no file, no mirror) is created as before; a store from an
older digest (a file, no mirror) gets its identity and mirror on first open.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from digest.errors import DigestError
from digest.timestamps import utc_stamp

IDENTITY_MIGRATIONS = (
    """
    CREATE TABLE store_identity (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL
    );
    INSERT INTO store_identity (id, created_at)
        VALUES (lower(hex(randomblob(16))), strftime('%Y-%m-%dT%H:%M:%S', 'now') || '.000000+00:00');
    """,
)

MIRROR_SCHEMA = 1


class StoreRefused(DigestError):
    """The store is not the one that recorded earlier editions: using it would resend or republish."""


@dataclass(frozen=True)
class Mirror:
    """What the file beside the store remembers about it."""

    store_id: str
    last_edition: str | None


def mirror_path(store: Path) -> Path:
    return store.with_name(store.name + ".identity.json")


def read_mirror(store: Path) -> Mirror | None:
    path = mirror_path(store)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StoreRefused(f"{path}: cannot read the store's identity file ({exc})") from None
    if not isinstance(data, dict) or data.get("schema") != MIRROR_SCHEMA or not isinstance(data.get("store_id"), str):
        raise StoreRefused(f"{path}: not a digest store identity file (schema {MIRROR_SCHEMA} expected)")
    last = data.get("last_edition")
    return Mirror(data["store_id"], last if isinstance(last, str) else None)


def write_mirror(store: Path, mirror: Mirror) -> None:
    """Replace the file beside the store in one rename: it is never seen half-written."""
    path = mirror_path(store)
    data = {
        "schema": MIRROR_SCHEMA,
        "store_id": mirror.store_id,
        "last_edition": mirror.last_edition,
        "updated_at": utc_stamp(datetime.now(UTC)),
    }
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _restore_hint(store: Path) -> str:
    return (
        f"restore it from a backup; only if you mean to start afresh (every reader would be sent "
        f"the next edition as new, every feed entry would be new again), delete {mirror_path(store).name}"
    )


def check_before_open(store: Path) -> Mirror | None:
    """Refuse a store file that is missing or empty while its mirror says it held a store."""
    mirror = read_mirror(store)
    size = store.stat().st_size if store.exists() else None
    if mirror is None:
        return None  # a new store (an empty file may be one another process is creating), or an older digest's
    if size is None:
        raise StoreRefused(
            f"{store}: the store is missing, but {mirror_path(store).name} says it held store "
            f"{mirror.store_id} (last edition {mirror.last_edition or 'none yet'}); {_restore_hint(store)}"
        )
    if size == 0:
        raise StoreRefused(
            f"{store}: the store is an empty file (truncated?), but it held store {mirror.store_id} "
            f"(last edition {mirror.last_edition or 'none yet'}); {_restore_hint(store)}"
        )
    return mirror


def _store_id(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT id FROM store_identity").fetchone()
    return row[0] if row else None


def check_after_open(conn: sqlite3.Connection, store: Path, mirror: Mirror | None) -> None:
    """Compare the opened store with its mirror (writing the mirror of a store that has none)."""
    store_id = _store_id(conn)
    if store_id is None:
        raise StoreRefused(f"{store}: the store has lost its identity row; {_restore_hint(store)}")
    if mirror is None:
        last = conn.execute(
            "SELECT id FROM editions WHERE state = 'published' ORDER BY published_at DESC, built_at DESC LIMIT 1"
        ).fetchone()
        write_mirror(store, Mirror(store_id, last[0] if last else None))
        return
    if store_id != mirror.store_id:
        raise StoreRefused(
            f"{store}: this is store {store_id}, not store {mirror.store_id} that recorded the earlier editions "
            f"(last {mirror.last_edition or 'none yet'}); put that store back, or {_restore_hint(store)}"
        )
    if mirror.last_edition is not None:
        found = conn.execute("SELECT 1 FROM editions WHERE id = ?", (mirror.last_edition,)).fetchone()
        if found is None:
            raise StoreRefused(
                f"{store}: the store does not know edition {mirror.last_edition}, the last one it recorded "
                f"(an older copy, or it lost its latest writes); {_restore_hint(store)}"
            )


def store_file(conn: sqlite3.Connection) -> Path | None:
    """The file a connection's main database lives in (None in memory)."""
    for row in conn.execute("PRAGMA database_list"):
        if row[1] == "main":
            return Path(row[2]) if row[2] else None
    return None


def mirror_edition(conn: sqlite3.Connection, edition_id: str) -> None:
    """After an edition's publication is committed: the mirror names it as the last one published."""
    store = store_file(conn)
    store_id = _store_id(conn)
    if store is not None and store_id is not None:
        write_mirror(store, Mirror(store_id, edition_id))

"""Signed unsubscribe links: nobody can unsubscribe an address they cannot read mail for.

A link names its list, its address and the moment it was issued (the
message's date, so a resumed send builds the same bytes), and carries an
HMAC-SHA256 of the three under the site's key. The key is the value of the
environment variable ``delivery.unsubscribe_secret_env`` names; without one,
a random key is generated into the store on first use (table ``signing_keys``,
store part "keys") and kept, so links in mail already sent stay valid.

The fields stay readable in the URL rather than packed into an opaque token
(itsdangerous): its timestamps come from the clock, and the issue time here
must be the message's own.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from digest.config import Config
from digest.errors import DeliveryError
from digest.store import migrate, restamp_columns
from digest.timestamps import utc_stamp

KEY_MIGRATIONS = (
    """
    CREATE TABLE signing_keys (
        name TEXT PRIMARY KEY,
        secret BLOB NOT NULL,
        created_at TEXT NOT NULL
    );
    """,
    # written with a variable width before every table's times came from digest.timestamps
    lambda conn: restamp_columns(conn, "signing_keys", ("created_at",)),
)

UNSUBSCRIBE_KEY = "unsubscribe"
SIGNATURE_HEX = 32
"""128 bits of HMAC-SHA256 in each link: far beyond guessing, short enough for a header."""


class BadLink(ValueError):
    """A link that is not ours, was altered, was used, or has expired: nothing may change.

    ``status`` is the HTTP status `digest serve` answers with.
    """

    def __init__(self, message: str, status: int = 403):
        super().__init__(message)
        self.status = status


def signing_key(config: Config, conn: sqlite3.Connection, environ: Mapping[str, str] = os.environ) -> bytes:
    """The configured key, else the store's own (generated once, shared by every process)."""
    name = config.delivery.unsubscribe_secret_env
    if name is not None:
        if not environ.get(name):
            raise DeliveryError(f"delivery.unsubscribe_secret_env: environment variable {name} is not set")
        return environ[name].encode("utf-8")
    migrate(conn, "keys", KEY_MIGRATIONS)
    conn.execute(
        "INSERT INTO signing_keys (name, secret, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
        (UNSUBSCRIBE_KEY, secrets.token_bytes(32), utc_stamp(datetime.now(UTC))),
    )
    row = conn.execute("SELECT secret FROM signing_keys WHERE name = ?", (UNSUBSCRIBE_KEY,)).fetchone()
    return bytes(row["secret"])


def _signature(key: bytes, list_name: str, address: str, issued: int) -> str:
    payload = f"unsubscribe\0{list_name}\0{address.lower()}\0{issued}".encode()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()[:SIGNATURE_HEX]


def unsubscribe_url(base_url: str, list_name: str, recipient: str, key: bytes, *, issued: datetime) -> str:
    """The reader's one-click unsubscribe link (RFC 8058) for mail dated ``issued``."""
    stamp = int(issued.timestamp())
    return (
        f"{base_url.rstrip('/')}/unsubscribe?list={quote(list_name, safe='')}"
        f"&address={quote(recipient, safe='@')}&t={stamp}&sig={_signature(key, list_name, recipient, stamp)}"
    )


@dataclass(frozen=True)
class UnsubscribeRequest:
    list_name: str
    address: str
    issued: datetime


def verify_unsubscribe(
    params: Mapping[str, str], key: bytes, *, now: datetime, valid_for: timedelta
) -> UnsubscribeRequest:
    """The link's list and address if its signature holds and it has not expired; BadLink otherwise."""
    try:
        list_name, address, stamp, signature = (params[k] for k in ("list", "address", "t", "sig"))
        issued_at = int(stamp)
    except (KeyError, ValueError):
        raise BadLink("this link is incomplete; copy all of it from the message", 400) from None
    if not hmac.compare_digest(signature.encode("utf-8"), _signature(key, list_name, address, issued_at).encode()):
        raise BadLink("this link is not one we sent, or it was altered")
    issued = datetime.fromtimestamp(issued_at, UTC)
    if now - issued > valid_for:
        raise BadLink("this link has expired; use the link in a more recent message", 410)
    return UnsubscribeRequest(list_name, address, issued)

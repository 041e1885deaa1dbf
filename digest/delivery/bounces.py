"""Bounces: delivery status notifications read from a Maildir or an IMAP folder.

flufl.bounce (Mailman's detectors: RFC 3464 DSNs and the formats of Exim,
Postfix, qmail, Exchange, Yahoo and others) finds the failed addresses and
whether each failure is permanent or temporary. A permanent one (hard
bounce: no such user, domain gone) suppresses the address at once. A
temporary one (soft: mailbox full, server busy, delayed, or a failure whose
DSN status is 4.x.x) counts towards a row; ``bounces.soft_limit`` in a row suppress it. A row is broken when
``bounces.soft_reset`` passes between two soft bounces (mail got through
in between), and repeated notices about the same message count once.

Each bounce is recorded (store part "bounces") with the edition it was about
when the notice quotes the original Message-ID and the ledger knows it.
Reading the same mailbox again records nothing twice: a notice is known by
its own Message-ID (or a hash of its bytes).
"""

from __future__ import annotations

import email
import hashlib
import imaplib
import logging
import mailbox
import sqlite3
import ssl
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from enum import StrEnum
from pathlib import Path

from flufl.bounce import all_failures

from digest.config import BouncesConfig
from digest.delivery import ledger, suppressions
from digest.delivery.subscribers import SuppressionReason
from digest.errors import DeliveryError, variables_not_set
from digest.models import assume_utc
from digest.store import migrate
from digest.timestamps import utc_stamp

log = logging.getLogger(__name__)
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)
"""Its detectors' exceptions come with a traceback at ERROR; record_message reports them in one line."""

BOUNCE_MIGRATIONS = (
    """
    CREATE TABLE bounces (
        report_id TEXT NOT NULL,
        address TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('hard', 'soft')),
        original_message_id TEXT,
        send_id TEXT,
        edition_id TEXT,
        bounced_at TEXT NOT NULL,
        PRIMARY KEY (report_id, address)
    );
    CREATE INDEX bounces_by_address ON bounces (address, bounced_at);
    CREATE INDEX bounces_by_edition ON bounces (edition_id);
    """,
)


class BounceKind(StrEnum):
    HARD = "hard"
    SOFT = "soft"


@dataclass(frozen=True)
class BounceCounts:
    hard: int = 0
    soft: int = 0


@dataclass
class ReadReport:
    """What one read of a mailbox found."""

    reports: int = 0
    """Messages read."""
    not_bounces: int = 0
    """Messages in which no failed address was found."""
    unreadable: int = 0
    """Messages flufl.bounce failed on (say, one with no From header): skipped, the others still read."""
    already_seen: int = 0
    hard: int = 0
    soft: int = 0
    suppressed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"{self.reports} message(s) read: {self.hard} hard and {self.soft} soft bounce(s) recorded, "
            f"{self.already_seen} seen before, {self.not_bounces} not a bounce; "
            f"{len(self.suppressed)} address(es) suppressed"
        )
        if self.unreadable:
            text += f"; {self.unreadable} could not be read (see the warnings)"
        return text


def ensure_bounces(conn: sqlite3.Connection) -> sqlite3.Connection:
    ledger.ensure_ledger(conn)
    migrate(conn, "bounces", BOUNCE_MIGRATIONS)
    return conn


def _report_id(message: Message, raw: bytes) -> str:
    given = (message.get("Message-ID") or "").strip()
    return given or "sha256:" + hashlib.sha256(raw).hexdigest()


def _bounced_at(message: Message, fallback: datetime) -> datetime:
    try:
        moment = parsedate_to_datetime(message.get("Date", ""))
    except (TypeError, ValueError, IndexError):
        return fallback
    return assume_utc(moment).astimezone(UTC)


def _original_message_id(message: Message) -> str | None:
    """The Message-ID of the message that bounced, from the notice's returned headers or message."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                found = email.message_from_bytes(payload).get("Message-ID")
                if found:
                    return str(found).strip()
        elif kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message) and inner[0].get("Message-ID"):
                return str(inner[0]["Message-ID"]).strip()
    return None


def _transient(message: Message) -> set[str]:
    """Recipients whose DSN status is 4.x.x: the MTA gave up on a temporary condition (a full
    mailbox, a busy server), which counts as soft however flufl.bounce files the notice."""
    found = set()
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status" or not part.is_multipart():
            continue
        for block in part.get_payload():
            if isinstance(block, Message) and str(block.get("Status", "")).strip().startswith("4."):
                recipient = str(block.get("Final-Recipient", "")).rpartition(";")[2]
                found.add(recipient.strip().strip("<>").lower())
    return found


def _send_of(conn: sqlite3.Connection, message_id: str | None, address: str) -> tuple[str | None, str | None]:
    """The send and edition a bounced message was part of; an editor's preview is not counted as the edition's
    (an edition's bounces are its readers')."""
    if message_id is None:
        return None, None
    row = conn.execute(
        "SELECT d.send_id, s.edition_id FROM deliveries d JOIN sends s ON s.send_id = d.send_id "
        "WHERE d.message_id = ? AND lower(d.recipient) = ? AND s.kind <> ?",
        (message_id, address, ledger.SendKind.PREVIEW),
    ).fetchone()
    return (row["send_id"], row["edition_id"]) if row else (None, None)


def soft_streak(conn: sqlite3.Connection, address: str, config: BouncesConfig) -> int:
    """Soft bounces in a row for an address, newest first, one per bounced message."""
    rows = conn.execute(
        "SELECT kind, bounced_at, COALESCE(original_message_id, report_id) AS about FROM bounces "
        "WHERE address = ? ORDER BY bounced_at DESC",
        (address,),
    )
    messages: set[str] = set()
    newer: datetime | None = None
    for row in rows:
        if row["kind"] != BounceKind.SOFT:
            break
        moment = datetime.fromisoformat(row["bounced_at"])
        if newer is not None and newer - moment > config.soft_reset:
            break
        messages.add(row["about"])
        newer = moment
    return len(messages)


def record_message(
    conn: sqlite3.Connection, raw: bytes, config: BouncesConfig, report: ReadReport, *, now: datetime
) -> None:
    """Read one message: record each failed address it names, suppressing where due."""
    message = email.message_from_bytes(raw)
    report.reports += 1
    try:
        temporary, permanent = all_failures(message)
    except Exception as exc:  # noqa: BLE001 - flufl.bounce re-raises whatever a detector raised on odd mail
        report.unreadable += 1
        log.warning(
            "skipped a message that could not be read as a bounce (From %r, Subject %r): %s: %s",
            message.get("From"), message.get("Subject"), type(exc).__name__, exc,
        )
        return
    transient = _transient(message)
    failures = {
        address: BounceKind.SOFT if address in transient else BounceKind.HARD
        for address in (a.decode("utf-8", "replace").strip().lower() for a in permanent)
    }
    for failed in temporary:
        failures.setdefault(failed.decode("utf-8", "replace").strip().lower(), BounceKind.SOFT)
    failures.pop("", None)
    if not failures:
        report.not_bounces += 1
        return
    report_id = _report_id(message, raw)
    original = _original_message_id(message)
    bounced_at = _bounced_at(message, now)
    for address, kind in sorted(failures.items()):
        send_id, edition_id = _send_of(conn, original, address)
        inserted = conn.execute(
            "INSERT INTO bounces (report_id, address, kind, original_message_id, send_id, edition_id, bounced_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (report_id, address) DO NOTHING",
            (report_id, address, kind.value, original, send_id, edition_id, utc_stamp(bounced_at)),
        ).rowcount
        if not inserted:
            report.already_seen += 1
            continue
        if kind is BounceKind.HARD:
            report.hard += 1
            reason = SuppressionReason.HARD_BOUNCE
        else:
            report.soft += 1
            if soft_streak(conn, address, config) < config.soft_limit:
                continue
            reason = SuppressionReason.SOFT_BOUNCES
        if suppressions.suppress(conn, [address], reason=reason.value, now=now):
            report.suppressed.append(address)
            log.info("suppressed %s after a %s", address, "hard bounce" if kind is BounceKind.HARD else
                     f"row of {config.soft_limit} soft bounces")


def read_messages(conn: sqlite3.Connection, messages: Iterable[bytes], config: BouncesConfig) -> ReadReport:
    ensure_bounces(conn)
    report = ReadReport()
    now = datetime.now(UTC)
    for raw in messages:
        record_message(conn, raw, config, report, now=now)
    return report


class BounceSourceRefused(DeliveryError):
    """Where to read bounces from is wrong as given (not a Maildir, the IMAP settings unset or malformed,
    no such folder): a mistake in the command line, the config or the environment (exit 2)."""

    exit_code = 2


def maildir_messages(path: Path) -> Iterator[bytes]:
    """Every message of a Maildir (new/ and cur/), left where it is."""
    if not (path / "new").is_dir() or not (path / "cur").is_dir():
        raise BounceSourceRefused(f"{path}: not a Maildir (it needs new/ and cur/ folders)")
    box = mailbox.Maildir(path, factory=None, create=False)
    for key in sorted(box.iterkeys()):
        with box.get_file(key) as handle:
            yield handle.read()


def imap_messages(config: BouncesConfig, environ: Mapping[str, str]) -> Iterator[bytes]:
    """Every message of the IMAP folder (TLS, port 993 unless host:port says otherwise), read without
    marking it seen; the server and credentials come only from the environment."""
    names = (config.imap_host_env, config.imap_user_env, config.imap_password_env)
    missing = [name for name in names if not environ.get(name)]
    if missing:
        raise BounceSourceRefused(f"IMAP: {variables_not_set(missing)}")
    server = environ[config.imap_host_env]
    host, _, port = server.partition(":")
    if port and not port.isdigit():
        raise BounceSourceRefused(
            f"IMAP: {config.imap_host_env}={server!r}: the port {port!r} is not a number (give host or host:port)"
        )
    user = environ[config.imap_user_env]
    try:
        # imaplib's default context verifies nothing: the server's certificate must be checked
        with imaplib.IMAP4_SSL(host, int(port or 993), ssl_context=ssl.create_default_context(), timeout=60) as imap:
            try:
                imap.login(user, environ[config.imap_password_env])
            except imaplib.IMAP4.error as exc:
                raise DeliveryError(f"IMAP {server}: the server refused the login of {user!r} ({exc})") from None
            status, _ = imap.select(config.imap_folder, readonly=True)
            if status != "OK":
                raise BounceSourceRefused(
                    f"IMAP {server}: no folder {config.imap_folder!r}; check bounces.imap_folder in the config"
                )
            _, found = imap.uid("SEARCH", "ALL")
            for uid in found[0].split():
                _, data = imap.uid("FETCH", uid, "(BODY.PEEK[])")
                for item in data:
                    if isinstance(item, tuple):
                        yield item[1]
    except (OSError, imaplib.IMAP4.error, ValueError) as exc:
        raise DeliveryError(f"IMAP {server}: {exc}") from None


def bounce_counts(conn: sqlite3.Connection, edition_ids: Iterable[str] | None = None) -> dict[str, BounceCounts]:
    """Hard and soft bounces per edition id (the editions whose notices named their message).

    For `digest editions`: ``bounce_counts(conn, [edition.id, …])``; editions without bounces are absent.
    """
    ensure_bounces(conn)
    rows = conn.execute(
        "SELECT edition_id, kind, COUNT(*) AS n FROM bounces WHERE edition_id IS NOT NULL GROUP BY edition_id, kind"
    )
    wanted = set(edition_ids) if edition_ids is not None else None
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        if wanted is None or row["edition_id"] in wanted:
            counts.setdefault(row["edition_id"], {})[row["kind"]] = row["n"]
    return {edition: BounceCounts(**kinds) for edition, kinds in counts.items()}

"""Delivery: one rendered edition to every reader, each exactly once where that can be known.

An edition is rendered once; digest.delivery.message turns that rendering into one
message per reader by substituting To, Message-ID and unsubscribe link.
Transports hand a message over: SMTP (one reused connection, throttled to
``smtp.rate`` messages a second) or a directory (.eml files or a Maildir),
used for dry runs and whenever no ``smtp:`` is configured.

Exactly once — the guarantee
----------------------------
Every send is recorded in the ledger (digest.delivery.ledger) before the first
message leaves: one row per reader with a deterministic Message-ID (a hash
of edition id and address). For each reader:

1. ``sending`` is committed immediately before the step that hands the
   message over for good: the SMTP end-of-data dot, or the rename of the
   finished file into the outbox.
2. ``sent`` is committed as soon as the server answers 250 (or the rename
   returns).

3. For SMTP, ``handed_at`` is committed as soon as the dot has been written
   to the connection, before the server's answer. From then on the server
   receives the whole message even if this process dies: the kernel holds
   the bytes and closing the socket flushes them.

A crash or ``kill -9`` anywhere leaves each row in one of these states. A
row still ``pending`` was never handed over (a server discards a transaction
whose connection drops before the dot, RFC 5321 4.1.4), so a restart sends
it. A ``sent`` row is never sent again. A row in ``sending`` with
``handed_at`` set reached the server whole: it is recorded as delivered and
not sent again (what is not known is the server's answer; a server that
accepts DATA and then refuses the message is the rare case this misses).
That leaves one window, between the dot's write returning and the
``handed_at`` commit: one SQLite commit, a fraction of a millisecond per
message, where a kill leaves ``sending`` without ``handed_at``. On restart:

- directory transport: the rename is atomic, so the file's presence settles
  it: exactly once, no exception.
- SMTP: no command asks a server whether it accepted a message, so the row is
  sent again (at least once rather than at most once: a missed edition is
  silent, a duplicate is visible and harmless) with the same Message-ID, and
  the row is flagged ``uncertain``. Mail stores that de-duplicate by
  Message-ID (Gmail, many IMAP clients) then show one copy; the send report
  names how many readers may have a second one. At most one message per
  connection is in that window, so a crash costs at most one possible
  duplicate, and only when it strikes inside that one commit.

The same holds within a run: a connection lost after the dot is retried and
flagged the same way; a 4xx or 5xx answer is definite and is not.

Retries: a 4xx answer defers the reader to the next round (rounds are
``smtp.retries`` long, waiting ``smtp.retry_delay`` doubling each round); a
dropped connection or a 421 reconnects after the same backoff, and
``smtp.retries`` consecutive failures stop the send (it can be resumed). A
5xx is recorded for that reader and not retried. The suppression list is
checked for each reader just before their message is sent.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import pickle
import re
import smtplib
import socket
import sqlite3
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlsplit

from digest.render import archive
from digest.delivery import ledger
from digest.config import Config, EditionConfig, SmtpConfig
from digest.errors import ConfigError, DeliveryError
from digest.delivery.message import MessageTemplate, make_message_id, prepare_message
from digest.models import Edition
from digest.pipeline import build_edition
from digest.delivery.recipients import load_recipients, normalize_address
from digest.render.edition import MONTHS, RenderedEdition, render_edition

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0
"""Seconds: the longest wait between two retries, however many came before."""


class TemporaryFailure(Exception):
    """A 4xx answer, or a connection that broke: worth trying again later."""

    def __init__(self, reply: str, *, connection_lost: bool = False):
        super().__init__(reply)
        self.reply = reply
        self.connection_lost = connection_lost


class PermanentFailure(Exception):
    """A 5xx answer for one reader: recorded, never retried."""

    def __init__(self, reply: str):
        super().__init__(reply)
        self.reply = reply


class Transport(Protocol):
    description: str
    rate: float | None
    """Messages per second at most (None: as fast as it goes)."""

    def deliver(
        self,
        envelope_from: str,
        recipient: str,
        message: bytes,
        *,
        edition_id: str,
        message_id: str,
        commit: Callable[[], None],
        handed: Callable[[], None],
    ) -> str:
        """Hand one message over, calling ``commit`` just before the irrevocable step and ``handed``
        as soon as it is done (before any reply); returns the reply."""

    def delivered_before(self, edition_id: str, recipient: str, message_id: str) -> bool | None:
        """Whether an earlier, interrupted hand-over completed (None: cannot be known)."""

    def close(self) -> None: ...


# --- SMTP -------------------------------------------------------------------


def _dot_stuffed(message: bytes) -> bytes:
    """The DATA payload without its terminator (RFC 5321 4.5.2).

    smtplib.SMTP.data() writes payload and terminating dot in one call; we
    need the ledger commit between the two, so the quoting is repeated here.
    """
    message = message.replace(b"\n.", b"\n..")
    if message.startswith(b"."):
        message = b"." + message
    return message if message.endswith(b"\r\n") else message + b"\r\n"


class SmtpTransport:
    """One SMTP connection, opened on first use and reused for every message."""

    def __init__(self, config: SmtpConfig, *, environ: Mapping[str, str] = os.environ):
        self.config = config
        self.rate = config.rate
        self.description = f"SMTP {config.host}:{config.port} ({config.security})"
        self._credentials = self._read_credentials(config, environ)
        self._smtp: smtplib.SMTP | None = None

    @staticmethod
    def _read_credentials(config: SmtpConfig, environ: Mapping[str, str]) -> tuple[str, str] | None:
        """User name and password, only ever from the environment variables the config names."""
        if not config.username_env and not config.password_env:
            return None
        if not (config.username_env and config.password_env):
            raise ConfigError("smtp: set both username_env and password_env, or neither")
        missing = [name for name in (config.username_env, config.password_env) if name not in environ]
        if missing:
            raise DeliveryError(f"SMTP credentials: environment variable {', '.join(missing)} is not set")
        return environ[config.username_env], environ[config.password_env]

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        context = ssl.create_default_context()
        try:
            if config.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    config.host, config.port, timeout=config.timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        except (smtplib.SMTPException, OSError) as exc:
            raise self._connect_failure(exc) from None
        try:
            # The end-of-data dot is a tiny write after a large one: without
            # this, Nagle's algorithm holds it until the body is acknowledged.
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo()
            if config.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if self._credentials:
                smtp.login(*self._credentials)
        except (smtplib.SMTPException, OSError) as exc:
            smtp.close()
            raise self._connect_failure(exc) from None
        return smtp

    def _connect_failure(self, exc: Exception) -> Exception:
        """A setup problem (login, TLS, a 5xx greeting) stops the send; anything else is retried."""
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return DeliveryError(f"{self.description}: login refused: {exc.smtp_code} {_text(exc.smtp_error)}")
        if isinstance(exc, (smtplib.SMTPNotSupportedError, ssl.SSLCertVerificationError)):
            return DeliveryError(f"{self.description}: {exc}")
        if isinstance(exc, smtplib.SMTPResponseException):
            reply = f"{exc.smtp_code} {_text(exc.smtp_error)}"
            if exc.smtp_code >= 500:
                return DeliveryError(f"{self.description}: refused the connection: {reply}")
            return TemporaryFailure(f"cannot connect: {reply}", connection_lost=True)
        return TemporaryFailure(f"cannot connect: {exc}", connection_lost=True)

    def deliver(
        self,
        envelope_from: str,
        recipient: str,
        message: bytes,
        *,
        edition_id: str,
        message_id: str,
        commit: Callable[[], None],
        handed: Callable[[], None],
    ) -> str:
        if self._smtp is None:
            self._smtp = self._connect()
        smtp = self._smtp
        try:
            self._expect(smtp.mail(envelope_from), "MAIL FROM", sender=True)
            self._expect(smtp.rcpt(recipient), "RCPT TO")
            self._expect(smtp.docmd("DATA"), "DATA", wanted=354)
            smtp.send(_dot_stuffed(message))
            try:
                commit()
            except BaseException:
                self._drop()  # without the dot, the server discards the message
                raise
            smtp.send(b".\r\n")
            # The dot is in the kernel's buffer: even if this process dies now,
            # closing the socket flushes it and the server receives the message.
            handed()
            return self._expect(smtp.getreply(), "end of data")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise TemporaryFailure(f"connection lost: {exc}", connection_lost=True) from None

    def _expect(self, reply: tuple[int, bytes], step: str, *, wanted: int = 250, sender: bool = False) -> str:
        code, raw = reply
        text = f"{code} {_text(raw)}"
        if code == wanted or (wanted == 250 and code == 251):
            return text
        if code == 421:
            self._drop()
            raise TemporaryFailure(f"{step}: {text}", connection_lost=True)
        self._reset()
        if 400 <= code < 500:
            raise TemporaryFailure(f"{step}: {text}")
        if sender:
            raise DeliveryError(f"{self.description} refused the sender {step}: {text}")
        raise PermanentFailure(f"{step}: {text}")

    def _reset(self) -> None:
        """Abandon the transaction; a server that will not even do that is dropped."""
        if self._smtp is None:
            return
        try:
            self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

    def delivered_before(self, edition_id: str, recipient: str, message_id: str) -> bool | None:
        return None

    def close(self) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except (smtplib.SMTPException, OSError):
            self._smtp.close()
        self._smtp = None


def _text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return " ".join(text.split())


# --- directory --------------------------------------------------------------


def _file_safe(text: str) -> str:
    """A file name for an address or edition id; a hash keeps altered names distinct."""
    safe = re.sub(r"[^A-Za-z0-9@._+-]", "_", text)
    if safe != text or safe.startswith("."):
        safe = f"{safe.lstrip('.')}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"
    return safe


class DirectoryTransport:
    """Messages as files: ``OUTBOX/EDITION/ADDRESS.eml``, or one Maildir at OUTBOX.

    Each file is written under a temporary name and renamed into place, so a
    file that exists is complete: after a crash, its presence says whether
    the message was delivered.
    """

    rate = None

    def __init__(self, root: Path, layout: str = "eml"):
        self.root = root
        self.layout = layout
        kind = "a Maildir" if layout == "maildir" else ".eml files"
        self.description = f"directory {root} ({kind})"

    def _target(self, edition_id: str, recipient: str, message_id: str) -> tuple[Path, Path]:
        if self.layout == "maildir":
            name = hashlib.sha256(message_id.encode("ascii")).hexdigest()[:40] + ".digest"
            return self.root / "tmp" / name, self.root / "new" / name
        folder = self.root / _file_safe(edition_id)
        name = _file_safe(recipient) + ".eml"
        return folder / f".{name}.tmp", folder / name

    def deliver(
        self,
        envelope_from: str,
        recipient: str,
        message: bytes,
        *,
        edition_id: str,
        message_id: str,
        commit: Callable[[], None],
        handed: Callable[[], None],
    ) -> str:
        """The atomic rename settles every crash (delivered_before), so ``handed`` is not needed."""
        tmp, final = self._target(edition_id, recipient, message_id)
        try:
            if self.layout == "maildir":
                for sub in ("tmp", "new", "cur"):
                    (self.root / sub).mkdir(parents=True, exist_ok=True)
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(message)
            commit()
            os.replace(tmp, final)
        except OSError as exc:
            raise DeliveryError(f"cannot write {final}: {exc}") from None
        return f"written to {final}"

    def delivered_before(self, edition_id: str, recipient: str, message_id: str) -> bool | None:
        _, final = self._target(edition_id, recipient, message_id)
        if final.exists():
            return True
        # A mail client moves read messages from new/ to cur/, adding flags.
        return self.layout == "maildir" and any((self.root / "cur").glob(final.name + "*"))

    def close(self) -> None:
        return None


def make_transport(config: Config, *, dry_run: bool = False, outbox: Path | None = None) -> Transport:
    """SMTP when configured (and not a dry run); otherwise the outbox directory."""
    if config.smtp is not None and not dry_run:
        return SmtpTransport(config.smtp)
    root = outbox if outbox is not None else config.path(config.delivery.outbox)
    return DirectoryTransport(root, config.delivery.outbox_format)


# --- what is sent -------------------------------------------------------------


def domain_of(base_url: str) -> str:
    return urlsplit(base_url).hostname or ""


def subject_line(template: str, edition: Edition) -> str:
    """The edition's subject from the config template ({title}, {date})."""
    day = f"{edition.date.day} {MONTHS[edition.date.month - 1]} {edition.date.year}"
    try:
        return template.format(title=edition.title, date=day)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"subject {template!r}: only {{title}} and {{date}} can be used ({exc})") from None


@dataclass(frozen=True)
class Outgoing:
    """Everything needed to produce an edition's messages: pickled into the ledger,
    so a resumed send produces the same bytes as the one it continues."""

    edition: Edition
    rendered: RenderedEdition
    sender: str
    subject: str
    list_id: str
    unsubscribe_mailto: str | None
    date: datetime
    base_url: str

    @property
    def domain(self) -> str:
        return domain_of(self.base_url)

    def template(self) -> MessageTemplate:
        return prepare_message(
            self.rendered,
            self.edition,
            sender=self.sender,
            subject=self.subject,
            list_id=self.list_id,
            unsubscribe_mailto=self.unsubscribe_mailto,
            date=self.date,
            boundary_seed=self.edition.id,
        )

    def message_id(self, recipient: str) -> str:
        return make_message_id(self.edition.id, recipient, self.domain)


def compose(config: Config, name: str, edition: Edition, *, date: datetime) -> Outgoing:
    """Render an edition once and fix every header that is the same for all readers."""
    _, edition_config = config.edition(name)
    base_url = config.delivery.base_url
    domain = domain_of(base_url)
    rendered = render_edition(
        edition,
        web_url=archive.page_url(base_url, edition),
        unsubscribe_page=f"{base_url.rstrip('/')}/unsubscribe",
    )
    return Outgoing(
        edition=edition,
        rendered=rendered,
        sender=_sender(edition_config, domain),
        subject=subject_line(edition_config.subject, edition),
        list_id=f"{edition_config.title} <{name}.{domain}>",
        unsubscribe_mailto=config.delivery.unsubscribe_mailto,
        date=date,
        base_url=base_url,
    )


def _sender(edition_config: EditionConfig, domain: str) -> str:
    return edition_config.sender or f"digest@{domain}"


def unsubscribe_url(base_url: str, list_name: str, recipient: str, secret: bytes | None) -> str:
    """The reader's one-click unsubscribe link (RFC 8058), signed when a key is configured."""
    url = f"{base_url.rstrip('/')}/unsubscribe?list={quote(list_name, safe='')}&address={quote(recipient, safe='@')}"
    if secret is None:
        return url
    signature = hmac.new(secret, f"{list_name}\0{recipient.lower()}".encode("utf-8"), hashlib.sha256)
    return f"{url}&sig={signature.hexdigest()[:32]}"


def unsubscribe_secret(config: Config, environ: Mapping[str, str] = os.environ) -> bytes | None:
    name = config.delivery.unsubscribe_secret_env
    if name is None:
        return None
    if not environ.get(name):
        raise DeliveryError(f"delivery.unsubscribe_secret_env: environment variable {name} is not set")
    return environ[name].encode("utf-8")


def begin_send(
    conn: sqlite3.Connection,
    config: Config,
    outgoing: Outgoing,
    *,
    kind: str,
    run_at: datetime,
    recipients: list[str],
    transport: Transport,
    now: datetime,
) -> ledger.SendRecord:
    """Publish a real edition to the archive and record its send with every reader pending.

    A real send is keyed by the edition id, so a second attempt at the same
    edition finds the first one's ledger; dry runs and test copies get keys
    of their own and never count as the edition having been sent.
    """
    edition = outgoing.edition
    if kind in ledger.REAL_KINDS:
        archive.publish(
            config.path(config.delivery.archive),
            edition,
            outgoing.rendered.web_html,
            base_url=config.delivery.base_url,
        )
        send_id = edition.id
    else:
        send_id = f"{edition.id}~{kind}~{ledger.stamp(now)}"
    ledger.create_send(
        conn,
        send_id=send_id,
        edition_id=edition.id,
        name=edition.name,
        kind=kind,
        run_at=run_at,
        transport=transport.description,
        stories=[story.id for story in edition.stories],
        snapshot=pickle.dumps(outgoing),
        recipients=[(address, outgoing.message_id(address)) for address in recipients],
        now=now,
    )
    record = ledger.find_send(conn, send_id)
    assert record is not None
    return record


def outgoing_of(record: ledger.SendRecord) -> Outgoing:
    """The snapshot a send was begun with (the store is trusted local state)."""
    try:
        outgoing = pickle.loads(record.snapshot)
    except (pickle.UnpicklingError, AttributeError, TypeError, ModuleNotFoundError) as exc:
        raise DeliveryError(
            f"send {record.send_id}: its saved edition cannot be read by this version of digest ({exc})"
        ) from None
    if not isinstance(outgoing, Outgoing):
        raise DeliveryError(f"send {record.send_id}: the ledger holds no edition snapshot")
    return outgoing


# --- the send loop ------------------------------------------------------------


@dataclass(frozen=True)
class SendReport:
    send_id: str
    edition_id: str
    transport: str
    counts: Mapping[str, int]
    interrupted: bool

    @property
    def sent(self) -> int:
        return self.counts.get("sent", 0)

    def summary(self) -> str:
        parts = [f"{self.counts.get(s, 0)} {s}" for s in ("sent", "failed", "deferred", "suppressed")]
        left = sum(self.counts.get(s, 0) for s in ("pending", "sending"))
        if left:
            parts.append(f"{left} not yet sent")
        text = f"{self.send_id}: " + ", ".join(parts) + f" via {self.transport}"
        if self.counts.get("uncertain"):
            text += f"; {self.counts['uncertain']} may have received it twice (same Message-ID)"
        if self.interrupted:
            text += "; stopped early, run again to finish"
        return text


class _Pace:
    """At most ``rate`` hand-overs a second."""

    def __init__(self, rate: float | None, wait: Callable[[float], object], clock: Callable[[], float]):
        self.interval = 1.0 / rate if rate else 0.0
        self.wait = wait
        self.clock = clock
        self.next_at: float | None = None

    def __call__(self) -> None:
        if not self.interval:
            return
        now = self.clock()
        if self.next_at is not None and now < self.next_at:
            self.wait(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Sender:
    """Works through one send's ledger rows until each has an outcome (or a stop is asked)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        record: ledger.SendRecord,
        transport: Transport,
        *,
        retries: int,
        retry_delay: float,
        secret: bytes | None = None,
        stop: threading.Event | None = None,
        wait: Callable[[float], object] | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utcnow,
    ):
        self.conn = conn
        self.record = record
        self.outgoing = outgoing_of(record)
        self.transport = transport
        self.retries = retries
        self.retry_delay = retry_delay
        self.secret = secret
        self.stop = stop or threading.Event()
        self.wait = wait if wait is not None else self.stop.wait
        self.now = now
        self.pace = _Pace(transport.rate, self.wait, clock)
        self.envelope_from = parseaddr(self.outgoing.sender)[1]

    def backoff(self, failures: int) -> float:
        return min(self.retry_delay * 2 ** (failures - 1), MAX_BACKOFF)

    def run(self) -> SendReport:
        send_id = self.record.send_id
        template = self.outgoing.template()
        self._settle_interrupted()
        queue = ledger.deliveries(self.conn, send_id, ("pending", "deferred"))
        interrupted = False
        for round_ in range(self.retries + 1):
            if round_:
                log.info("%s: retrying %d deferred reader(s) in %.1fs", send_id, len(queue), self.backoff(round_))
                self.wait(self.backoff(round_))
            deferred = []
            for row in queue:
                if self.stop.is_set():
                    interrupted = True
                    break
                outcome = self._deliver_one(template, row)
                if outcome == "deferred":
                    deferred.append(row)
                elif outcome == "interrupted":
                    interrupted = True
                    break
            queue = deferred
            if interrupted or not queue:
                break
        if not interrupted:
            ledger.finish_send(self.conn, send_id, self.now())
        report = SendReport(
            send_id, self.record.edition_id, self.transport.description, ledger.tally(self.conn, send_id), interrupted
        )
        log.info("%s", report.summary())
        return report

    def _settle_interrupted(self) -> None:
        """Decide about rows a killed process left in 'sending' (see the module docstring)."""
        record = self.record
        for row in ledger.deliveries(self.conn, record.send_id, ("sending",)):
            if row.handed:
                ledger.mark_delivered_earlier(
                    self.conn, record.send_id, row.recipient,
                    reply="the whole message reached the connection before the run stopped; "
                          "its reply was not recorded",
                    now=self.now(),
                )
                continue
            verdict = self.transport.delivered_before(record.edition_id, row.recipient, row.message_id)
            if verdict:
                ledger.mark_delivered_earlier(
                    self.conn, record.send_id, row.recipient, reply="found delivered after a restart", now=self.now()
                )
                continue
            ledger.record_attempt(
                self.conn,
                record.send_id,
                row.recipient,
                status="pending",
                reply="interrupted before the server confirmed",
                now=self.now(),
                uncertain=verdict is None,
            )
            if verdict is None:
                log.warning(
                    "%s: %s may already have this message (the run stopped before the server's answer); "
                    "sending it again with the same Message-ID %s",
                    record.send_id, row.recipient, row.message_id,
                )

    def _deliver_one(self, template: MessageTemplate, row: ledger.Delivery) -> str:
        send_id = self.record.send_id
        recipient = row.recipient
        if ledger.is_suppressed(self.conn, recipient):
            ledger.mark_suppressed(self.conn, send_id, recipient, self.now())
            return "suppressed"
        message = template.for_recipient(
            recipient,
            unsubscribe_url=unsubscribe_url(self.outgoing.base_url, self.record.name, recipient, self.secret),
            message_id=row.message_id,
        )
        failures = 0
        while True:
            committed = False

            def commit() -> None:
                nonlocal committed
                ledger.mark_sending(self.conn, send_id, recipient, self.now())
                committed = True

            def handed() -> None:
                ledger.mark_handed(self.conn, send_id, recipient, self.now())

            self.pace()
            try:
                reply = self.transport.deliver(
                    self.envelope_from,
                    recipient,
                    message,
                    edition_id=self.record.edition_id,
                    message_id=row.message_id,
                    commit=commit,
                    handed=handed,
                )
            except PermanentFailure as exc:
                ledger.record_attempt(self.conn, send_id, recipient, status="failed", reply=exc.reply, now=self.now())
                log.warning("%s: %s refused for good: %s", send_id, recipient, exc.reply)
                return "failed"
            except TemporaryFailure as exc:
                if not exc.connection_lost:
                    ledger.record_attempt(
                        self.conn, send_id, recipient, status="deferred", reply=exc.reply, now=self.now()
                    )
                    log.info("%s: %s deferred: %s", send_id, recipient, exc.reply)
                    return "deferred"
                failures += 1
                ledger.record_attempt(
                    self.conn, send_id, recipient, status="pending", reply=exc.reply, now=self.now(),
                    uncertain=committed,
                )
                if failures > self.retries:
                    raise DeliveryError(
                        f"{self.transport.description}: giving up after {failures} failed connections "
                        f"({exc.reply}); the send can be resumed"
                    ) from None
                delay = self.backoff(failures)
                log.warning("%s: %s; reconnecting in %.1fs", send_id, exc.reply, delay)
                self.wait(delay)
                if self.stop.is_set():
                    return "interrupted"
                continue
            ledger.record_attempt(self.conn, send_id, recipient, status="sent", reply=reply, now=self.now())
            return "sent"


def deliver_send(
    conn: sqlite3.Connection,
    config: Config,
    record: ledger.SendRecord,
    transport: Transport,
    *,
    stop: threading.Event | None = None,
    wait: Callable[[float], object] | None = None,
) -> SendReport:
    """Send (or resume) a recorded send with the retry policy from ``smtp:``."""
    smtp = config.smtp
    sender = Sender(
        conn,
        record,
        transport,
        retries=smtp.retries if smtp else 0,
        retry_delay=smtp.retry_delay.total_seconds() if smtp else 0.0,
        secret=unsubscribe_secret(config),
        stop=stop,
        wait=wait,
    )
    try:
        return sender.run()
    finally:
        transport.close()


RESUME_WINDOW = timedelta(hours=1)
"""How old an interrupted manual send may be and still be resumed (editions without a schedule)."""


def send_now(
    config: Config,
    conn: sqlite3.Connection,
    name: str | None,
    *,
    now: datetime,
    transport: Transport,
    run_at: datetime | None = None,
    kind: str = "manual",
    to: str | None = None,
    stop: threading.Event | None = None,
) -> SendReport:
    """`digest send`: build an edition now and deliver it, or finish the one a crash interrupted.

    A real send first looks for its own unfinished ledger: the send of the
    edition built for ``run_at`` when given, else the latest interrupted send
    of this edition if it began within the edition's grace window. Test
    copies (``to``) and dry runs always build afresh and never touch the
    readers' ledger.
    """
    name, edition_config = config.edition(name)
    ledger.ensure_ledger(conn)
    if kind in ledger.REAL_KINDS:
        record = ledger.send_for_run(conn, name, run_at) if run_at else _resumable(conn, name, edition_config, now)
        if record is not None:
            log.info("%s: resuming the send of %s begun %s", name, record.edition_id, record.created_at)
            return deliver_send(conn, config, record, transport, stop=stop)
    result = build_edition(config, name, now=run_at or now, conn=conn, record_window=kind in ledger.REAL_KINDS)
    for warning in result.warnings:
        log.warning("%s: %s", name, warning)
    recipients = [_test_address(to)] if to else load_recipients(config, name)
    if not recipients:
        log.warning("%s: no readers: add addresses to editions.%s.recipients (or a file of them)", name, name)
    record = begin_send(
        conn,
        config,
        compose(config, name, result.edition, date=now),
        kind=kind,
        run_at=run_at or now,
        recipients=recipients,
        transport=transport,
        now=now,
    )
    log.info("%s: edition %s to %d reader(s) via %s", name, record.edition_id, len(recipients), transport.description)
    return deliver_send(conn, config, record, transport, stop=stop)


def _resumable(
    conn: sqlite3.Connection, name: str, edition_config: EditionConfig, now: datetime
) -> ledger.SendRecord | None:
    record = ledger.unfinished_send(conn, name)
    if record is None:
        return None
    window = edition_config.schedule.grace if edition_config.schedule else RESUME_WINDOW
    if now - record.created_at <= window:
        return record
    left = sum(ledger.tally(conn, record.send_id).get(s, 0) for s in ledger.OPEN_STATUSES)
    log.warning(
        "%s: the send of %s begun %s was interrupted and is too old to finish; %d reader(s) never got it",
        name, record.edition_id, record.created_at, left,
    )
    ledger.finish_send(conn, record.send_id, now)
    return None


def _test_address(address: str) -> str:
    try:
        return normalize_address(address)
    except ValueError as exc:
        raise DeliveryError(f"--to {address!r} is not a valid address: {exc}") from None

"""Delivery: one rendered edition to every reader, each exactly once where that can be known.

An edition is rendered once; digest.delivery.message turns that rendering into one
message per reader by substituting To, Message-ID and unsubscribe link.
Transports hand a message over: SMTP (one reused connection, throttled to
``smtp.rate`` messages a second) or a directory (.eml files or a Maildir),
used for dry runs and whenever no ``smtp:`` is configured.

No reader missed; a duplicate only in the reply window — the guarantee
-----------------------------------------------------------------------
Every send is recorded in the ledger (digest.delivery.ledger) before the first
message leaves: one row per reader with a deterministic Message-ID (a hash
of edition id and address). For each reader:

1. ``sending`` is committed immediately before the step that hands the
   message over for good: the SMTP end-of-data dot, or the rename of the
   finished file into the outbox.
2. ``sent`` is committed only when that step is confirmed: the server's
   250 reply to the dot, or the rename returning.

A crash or ``kill -9`` anywhere leaves each row in one of three states. A
row still ``pending`` was never handed over (a server discards a transaction
whose connection drops before the dot, RFC 5321 4.1.4), so a restart sends
it. A ``sent`` row is never sent again. A row left in ``sending`` is the
window between the dot and its reply:

- directory transport: the rename is atomic, so the file's presence settles
  it: exactly once, no exception.
- SMTP: no command asks a server whether it accepted a message, and a
  written dot proves nothing (a server still answering may drop the message
  when the client's connection dies: aiosmtpd does). So the row is sent
  again with the same Message-ID and flagged ``uncertain``: at least once
  rather than at most once, since a missed edition is silent and a
  duplicate is visible and harmless. Mail stores that de-duplicate by
  Message-ID (Gmail, many IMAP clients) then show one copy; the send report
  names how many readers "may have received it twice". At most one message
  per connection is in that window, so a crash costs at most one possible
  duplicate.

The same holds within a run: a connection lost after the dot is retried and
flagged the same way; a 4xx or 5xx answer is definite and is not.

Retries: a 4xx answer defers the reader to the next round (rounds are
``smtp.retries`` long, waiting ``smtp.retry_delay`` doubling each round); a
dropped connection or a 421 reconnects after the same backoff, and
``smtp.retries`` consecutive failures stop the send (it can be resumed). A
reader still deferred after the last round (a greylisting server) stays
pending: the send stays open and the next `digest send` or `digest run`
tries them again from ``smtp.deferred_retry`` later, until the send is
``smtp.give_up_after`` old; then they are failed. A
5xx is recorded for that reader and not retried. The suppression list is
checked for each reader just before their message is sent.
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr

from digest.config import Config
from digest.delivery import ledger
from digest.delivery.compose import Outgoing
from digest.delivery.ledger import DeliveryStatus, SendKind
from digest.delivery.message import make_message_id
from digest.delivery.signing import signing_key, unsubscribe_url
from digest.delivery.snapshot import UnreadableSnapshot, outgoing_from_json, outgoing_to_json
from digest.delivery.suppressions import is_suppressed
from digest.delivery.transport import PermanentFailure, TemporaryFailure, Transport
from digest.errors import DeliveryError
from digest.timestamps import utc_stamp

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0
"""Seconds: the longest wait between two retries, however many came before."""

MessageMaker = Callable[[str, str], bytes]
"""One recipient's message, from their address and Message-ID."""


def begin_send(
    conn: sqlite3.Connection,
    outgoing: Outgoing,
    *,
    kind: SendKind,
    run_at: datetime,
    recipients: list[str],
    transport: Transport,
    now: datetime,
) -> ledger.SendRecord:
    """Record an edition's send with every reader pending, before the first message leaves.

    A real send (and a preview) is keyed by the edition id, so a second attempt
    at the same edition finds the first one's ledger; dry runs and test copies
    get keys of their own; none but a real send counts as the edition having been sent.
    """
    edition = outgoing.edition
    mail_key = kind.mail_key(edition.id)

    def create(send_id: str) -> bool:
        return ledger.create_send(
            conn,
            send_id=send_id,
            edition_id=edition.id,
            name=edition.name,
            kind=kind,
            run_at=run_at,
            transport=transport.description,
            stories=[story.id for story in edition.stories],
            outgoing=outgoing_to_json(outgoing),
            recipients=[(address, make_message_id(mail_key, address, outgoing.domain)) for address in recipients],
            now=now,
        )

    keyed = kind.keyed_send_id(edition.id)
    if keyed is not None:
        send_id = keyed
        create(send_id)
    else:
        rehearsal = send_id = f"{edition.id}~{kind}~{utc_stamp(now)}"
        # a second dry run or test copy within the same second is a rehearsal of its own, not the first again
        for again in itertools.count(2):
            if create(send_id):
                break
            send_id = f"{rehearsal}~{again}"
    record = ledger.find_send(conn, send_id)
    assert record is not None
    return record


def recompose_send(conn: sqlite3.Connection, record: ledger.SendRecord, outgoing: Outgoing) -> ledger.SendRecord:
    """Replace a send's saved message when its headers changed (the config was fixed after it stopped on a bad
    sender, say); readers already sent are untouched, the rest get ``outgoing``, with the same Message-IDs.
    A preview moved from the ledger previews had of their own has no saved message: it gets ``outgoing``."""
    fields = ("sender", "subject", "list_id", "unsubscribe_mailto", "base_url")
    if record.outgoing is not None:
        before = outgoing_of(record)
        if all(getattr(before, field) == getattr(outgoing, field) for field in fields):
            return record
    log.info("%s: the configuration changed since the send began; readers not yet sent get the new headers",
             record.send_id)
    ledger.replace_outgoing(conn, record.send_id, outgoing_to_json(outgoing))
    found = ledger.find_send(conn, record.send_id)
    assert found is not None
    return found


def outgoing_of(record: ledger.SendRecord) -> Outgoing:
    """What a send was begun with, as the ledger saved it."""
    if record.outgoing is None:
        raise DeliveryError(
            f"send {record.send_id}: its saved message, kept by an older digest, could not be converted when "
            "the ledger was upgraded, so it cannot be resumed; build and send the edition again"
        )
    try:
        return outgoing_from_json(record.outgoing)
    except UnreadableSnapshot as exc:
        raise DeliveryError(f"send {record.send_id}: its saved message cannot be read: {exc}") from None


# --- the send loop ------------------------------------------------------------


@dataclass(frozen=True)
class SendReport:
    send_id: str
    edition_id: str
    transport: str
    counts: Mapping[str, int]
    interrupted: bool

    retry_at: datetime | None = None
    """When the readers still deferred are tried again (None: nobody is)."""
    give_up_at: datetime | None = None

    @property
    def sent(self) -> int:
        return self.counts.get(DeliveryStatus.SENT, 0)

    @property
    def pending(self) -> int:
        """Readers who have not got the edition yet but still may: deferred, or not yet tried."""
        return sum(self.counts.get(s, 0) for s in ledger.OPEN_STATUSES)

    def summary(self) -> str:
        done = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.DEFERRED, DeliveryStatus.SUPPRESSED)
        parts = [f"{self.counts.get(s, 0)} {s}" for s in done]
        left = sum(self.counts.get(s, 0) for s in (DeliveryStatus.PENDING, DeliveryStatus.SENDING))
        if left:
            parts.append(f"{left} not yet sent")
        text = f"{self.send_id}: " + ", ".join(parts) + f" via {self.transport}"
        if self.counts.get("uncertain"):
            text += f"; {self.counts['uncertain']} may have received it twice (same Message-ID)"
        if self.interrupted:
            text += "; stopped early, run again to finish"
        elif self.retry_at is not None and self.give_up_at is not None:
            text += (
                f"; {self.pending} still pending: the server deferred them, `digest send` or `digest run` "
                f"tries again from {self.retry_at:%Y-%m-%d %H:%M} UTC until {self.give_up_at:%Y-%m-%d %H:%M} UTC"
            )
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
        secret: bytes,
        deferred_retry: timedelta,
        give_up_after: timedelta,
        stop: threading.Event | None = None,
        wait: Callable[[float], object] | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utcnow,
        messages: MessageMaker | None = None,
    ):
        self.conn = conn
        self.record = record
        self.outgoing = outgoing_of(record)
        self.messages = messages or self._reader_messages()
        self.mail_key = record.kind.mail_key(record.edition_id)
        self.transport = transport
        self.retries = retries
        self.retry_delay = retry_delay
        self.deferred_retry = deferred_retry
        self.give_up_at = record.created_at + give_up_after
        self.secret = secret
        self.stop = stop or threading.Event()
        self.wait = wait if wait is not None else self.stop.wait
        self.now = now
        self.pace = _Pace(transport.rate, self.wait, clock)
        self.envelope_from = parseaddr(self.outgoing.sender)[1]

    def backoff(self, failures: int) -> float:
        return min(self.retry_delay * 2.0 ** (failures - 1), MAX_BACKOFF)

    def _after_giving_up(self, recipient: str) -> str:
        """What is left to do once the server stays out of reach: resume a send the ledger keeps (readers',
        editors' previews), or send afresh a test copy, which is a one-off with nothing to resume."""
        kind = self.record.kind
        if kind.keyed_send_id(self.record.edition_id) is not None:
            return "the send can be resumed"
        if kind is SendKind.TEST:
            return f"the test copy to {recipient} was not sent; send it again (`digest send --to {recipient}`)"
        return f"this {kind} stopped; run it again (it is not resumed)"

    def run(self) -> SendReport:
        send_id = self.record.send_id
        self._settle_interrupted()
        self._give_up_if_due()
        queue = ledger.deliveries(self.conn, send_id, (DeliveryStatus.PENDING, DeliveryStatus.DEFERRED))
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
                outcome = self._deliver_one(row)
                if outcome is DeliveryStatus.DEFERRED:
                    deferred.append(row)
                elif outcome is None:
                    interrupted = True
                    break
            queue = deferred
            if interrupted or not queue:
                break
        retry_at = None
        if queue and not interrupted:
            retry_at = self.now() + self.deferred_retry
            ledger.defer(self.conn, send_id, [row.recipient for row in queue], retry_at=retry_at)
            if self._give_up_if_due(before=retry_at):
                retry_at = None
        if not interrupted and retry_at is None:
            ledger.finish_send(self.conn, send_id, self.now())
        report = SendReport(
            send_id, self.record.edition_id, self.transport.description, ledger.tally(self.conn, send_id), interrupted,
            retry_at, self.give_up_at if retry_at else None,
        )
        log.info("%s", report.summary())
        return report

    def _give_up_if_due(self, before: datetime | None = None) -> int:
        """Readers still deferred when the send is older than give_up_after (or will be by ``before``, the next
        retry) are failed for good."""
        if (before or self.now()) < self.give_up_at:
            return 0
        given_up = ledger.give_up_deferred(
            self.conn, self.record.send_id,
            reason=f"gave up: still deferred {self.give_up_at - self.record.created_at} after the send began",
            now=self.now(),
        )
        if given_up:
            log.warning("%s: gave up on %d reader(s) the server kept deferring", self.record.send_id, given_up)
        return given_up

    def _settle_interrupted(self) -> None:
        """Decide about rows a killed process left in 'sending' (see the module docstring)."""
        record = self.record
        for row in ledger.deliveries(self.conn, record.send_id, (DeliveryStatus.SENDING,)):
            verdict = self.transport.delivered_before(self.mail_key, row.recipient, row.message_id)
            if verdict:
                ledger.mark_delivered_earlier(
                    self.conn, record.send_id, row.recipient, reply="found delivered after a restart", now=self.now()
                )
                continue
            ledger.record_attempt(
                self.conn,
                record.send_id,
                row.recipient,
                status=DeliveryStatus.PENDING,
                reply="interrupted before the server confirmed",
                now=self.now(),
                uncertain=verdict is None,
            )
            if verdict is None:
                log.warning(
                    "%s: %s %s may already have the %s (the run stopped before the server's answer); "
                    "sending it again with the same Message-ID %s",
                    record.send_id, record.kind.addressee, row.recipient,
                    "preview" if record.kind is SendKind.PREVIEW else "edition", row.message_id,
                )

    def _reader_messages(self) -> MessageMaker:
        """The edition as each reader gets it, with their own unsubscribe link."""
        template = self.outgoing.template()

        def message(recipient: str, message_id: str) -> bytes:
            return template.for_recipient(
                recipient,
                unsubscribe_url=unsubscribe_url(
                    self.outgoing.base_url, self.record.name, recipient, self.secret, issued=self.outgoing.date
                ),
                message_id=message_id,
            )

        return message

    def _deliver_one(self, row: ledger.Delivery) -> DeliveryStatus | None:
        """One reader's message, reconnecting as the retry policy allows: the row's new status, or None
        when a stop was asked while waiting to reconnect.

        An editor's preview is not checked against the suppression list: leaving the readers' list (or a
        bounce there) does not end their review work."""
        send_id = self.record.send_id
        recipient = row.recipient
        if self.record.kind is not SendKind.PREVIEW and is_suppressed(self.conn, recipient):
            ledger.mark_suppressed(self.conn, send_id, recipient, self.now())
            return DeliveryStatus.SUPPRESSED
        message = self.messages(recipient, row.message_id)
        failures = 0
        while True:
            committed = False

            def commit() -> None:
                nonlocal committed
                ledger.mark_sending(self.conn, send_id, recipient, self.now())
                committed = True

            self.pace()
            try:
                reply = self.transport.deliver(
                    self.envelope_from,
                    recipient,
                    message,
                    edition_id=self.mail_key,
                    message_id=row.message_id,
                    commit=commit,
                )
            except PermanentFailure as exc:
                ledger.record_attempt(
                    self.conn, send_id, recipient, status=DeliveryStatus.FAILED, reply=exc.reply, now=self.now()
                )
                log.warning("%s: %s refused for good: %s", send_id, recipient, exc.reply)
                return DeliveryStatus.FAILED
            except TemporaryFailure as exc:
                if not exc.connection_lost:
                    ledger.record_attempt(
                        self.conn, send_id, recipient, status=DeliveryStatus.DEFERRED, reply=exc.reply, now=self.now()
                    )
                    log.info("%s: %s deferred: %s", send_id, recipient, exc.reply)
                    return DeliveryStatus.DEFERRED
                failures += 1
                ledger.record_attempt(
                    self.conn, send_id, recipient, status=DeliveryStatus.PENDING, reply=exc.reply, now=self.now(),
                    uncertain=committed,
                )
                if failures > self.retries:
                    raise DeliveryError(
                        f"{self.transport.description}: giving up after {failures} failed connections "
                        f"({exc.reply}); {self._after_giving_up(recipient)}"
                    ) from None
                delay = self.backoff(failures)
                log.warning("%s: %s; reconnecting in %.1fs", send_id, exc.reply, delay)
                self.wait(delay)
                if self.stop.is_set():
                    return None
                continue
            ledger.record_attempt(
                self.conn, send_id, recipient, status=DeliveryStatus.SENT, reply=reply, now=self.now()
            )
            return DeliveryStatus.SENT


def deliver_send(
    conn: sqlite3.Connection,
    config: Config,
    record: ledger.SendRecord,
    transport: Transport,
    *,
    stop: threading.Event | None = None,
    wait: Callable[[float], object] | None = None,
    messages: MessageMaker | None = None,
) -> SendReport:
    """Send (or resume) a recorded send with the retry policy from ``smtp:`` (``messages``: how each
    recipient's message is made, by default the readers' edition with their own unsubscribe link)."""
    smtp = config.smtp
    sender = Sender(
        conn,
        record,
        transport,
        retries=smtp.retries if smtp else 0,
        retry_delay=smtp.retry_delay.total_seconds() if smtp else 0.0,
        # without smtp: the outbox folder never defers a reader
        deferred_retry=smtp.deferred_retry if smtp else timedelta(0),
        give_up_after=smtp.give_up_after if smtp else timedelta(0),
        secret=signing_key(config, conn),
        stop=stop,
        wait=wait,
        messages=messages,
    )
    try:
        return sender.run()
    finally:
        transport.close()

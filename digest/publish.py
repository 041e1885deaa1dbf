"""The one path from a built edition to its readers: build, compose, record, deliver, publish.

`digest send` (``send_now``) and the scheduler (digest.scheduler) both go
through ``begin_edition_send`` and ``finish_edition_send``, so a send started
by hand and one started on schedule are recorded, archived and delivered the
same way. An edition is kept as a draft before its send is recorded and
becomes *published* (digest.editions) once it is: only then is its window
closed and its page put in the archive. A failure before that changes nothing.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from digest import editions
from digest.config import Config, EditionConfig
from digest.delivery import ledger
from digest.delivery.compose import check_before_send, compose
from digest.delivery.ledger import SendKind
from digest.delivery.recipients import normalize_address
from digest.delivery.sender import SendReport, begin_send, deliver_send, outgoing_of, recompose_send
from digest.delivery.subscribers import edition_readers
from digest.delivery.transport import Transport
from digest.errors import DeliveryError, DigestError
from digest.models import Edition, Window
from digest.pipeline import build_edition
from digest.render import archive

log = logging.getLogger(__name__)

RESUME_WINDOW = timedelta(hours=1)
"""How old an interrupted manual send may be and still be resumed (editions without a schedule)."""


@dataclass(frozen=True)
class NotSent:
    """A send that did not happen, and why (nothing new, no stories)."""

    name: str
    reason: str

    def summary(self) -> str:
        return f"{self.name}: nothing sent: {self.reason}"


def send_now(
    config: Config,
    conn: sqlite3.Connection,
    name: str | None,
    *,
    now: datetime,
    transport: Transport,
    run_at: datetime | None = None,
    kind: SendKind = SendKind.MANUAL,
    to: str | None = None,
    stop: threading.Event | None = None,
    force: bool = False,
) -> SendReport | NotSent:
    """`digest send`: build an edition now and deliver it, or finish the one a crash interrupted.

    A real send first looks for its own unfinished ledger: the send of the
    edition built for ``run_at`` when given, else the latest interrupted send
    of this edition if it began within the edition's grace window. Test
    copies (``to``) and dry runs always build afresh and never touch the
    readers' ledger. An edition with no stories is never sent; one with no
    story its readers have not had is sent only with ``force`` when the
    edition says ``only_when_new``.
    """
    name, edition_config = config.edition(name)
    check_before_send(config, name)
    ledger.ensure_ledger(conn)
    real = kind.reaches_readers
    if real:
        record = ledger.send_for_run(conn, name, run_at) if run_at else _resumable(conn, config, name, now)
        if record is not None:
            log.info("%s: resuming the send of %s begun %s", name, record.edition_id, record.created_at)
            return finish_edition_send(conn, config, record, transport, now=now, stop=stop)
    waiting = editions.awaiting_review(conn, name) if real else None
    if waiting is not None:
        raise DigestError(
            f"edition {waiting.id} is {waiting.state}, waiting for its editors: `digest approve {waiting.id}` "
            "sends it; a send now would repeat its stories"
        )
    result = build_edition(config, name, now=run_at or now, conn=conn)
    for warning in result.warnings:
        log.warning("%s: %s", name, warning)
    reason = reason_not_to_send(conn, edition_config, result.edition, force=force or not real)
    if reason is not None:
        log.info("%s: nothing sent: %s", name, reason)
        return NotSent(name, reason)
    recipients = [_test_address(to)] if to else edition_readers(config, conn, name)
    if not recipients:
        log.warning(
            "%s: no readers: add addresses to editions.%s.recipients (or a file of them), or subscribers", name, name
        )
    record = begin_edition_send(
        conn, config, name, result.edition, result.window,
        kind=kind, run_at=run_at or now, recipients=recipients, transport=transport, now=now,
        message_date=run_at or now,
    )
    return finish_edition_send(conn, config, record, transport, now=now, stop=stop)


def reason_not_to_send(
    conn: sqlite3.Connection, edition_config: EditionConfig, edition: Edition, *, force: bool
) -> str | None:
    """Why this edition must not go to readers, or None: empty, or (``only_when_new``) nothing new."""
    if not edition.stories:
        return "the edition has no stories"
    if force or not edition_config.only_when_new:
        return None
    seen = ledger.stories_sent(conn, edition.name, before=edition.date)
    if not {story.id for story in edition.stories} - seen:
        return "no new stories since the last edition (--force sends it anyway)"
    return None


def begin_edition_send(
    conn: sqlite3.Connection,
    config: Config,
    name: str,
    edition: Edition,
    window: Window | None,
    *,
    kind: SendKind,
    run_at: datetime,
    recipients: list[str],
    transport: Transport,
    now: datetime,
    message_date: datetime | None = None,
) -> ledger.SendRecord:
    """Compose a built edition once and record its send; a real one is kept as a draft first, so the
    send's record always has its edition (and window) beside it.

    ``message_date`` is the messages' Date header (and their unsubscribe links' issue time), by default
    ``now``: `digest send --now` gives its fixed clock, so the same inputs give byte-identical messages."""
    outgoing = compose(config, name, edition, date=message_date or now)
    if kind.reaches_readers and window is not None:
        editions.record_draft(conn, edition, window, built_at=now)
    record = begin_send(
        conn, outgoing, kind=kind, run_at=run_at, recipients=recipients, transport=transport, now=now
    )
    log.info("%s: edition %s to %d reader(s) via %s", name, record.edition_id, len(recipients), transport.description)
    return record


def finish_edition_send(
    conn: sqlite3.Connection,
    config: Config,
    record: ledger.SendRecord,
    transport: Transport,
    *,
    now: datetime,
    stop: threading.Event | None = None,
) -> SendReport:
    """Publish a recorded real send (archive page, edition state), then deliver it to every reader."""
    if record.kind.reaches_readers:
        outgoing = outgoing_of(record)
        record = recompose_send(conn, record, compose(config, record.name, outgoing.edition, date=outgoing.date))
        archive.publish(
            config.path(config.delivery.archive),
            outgoing.edition,
            outgoing.rendered.web_html,
            base_url=config.delivery.base_url,
        )
        editions.set_state(conn, record.edition_id, editions.EditionState.PUBLISHED, at=now)
    return deliver_send(conn, config, record, transport, stop=stop)


def _resumable(
    conn: sqlite3.Connection, config: Config, name: str, now: datetime
) -> ledger.SendRecord | None:
    """The latest unfinished real send of ``name``, if it may still be finished."""
    _, edition_config = config.edition(name)
    record = ledger.unfinished_send(conn, name)
    if record is None:
        return None
    window = edition_config.schedule.grace if edition_config.schedule else RESUME_WINDOW
    if config.smtp is not None and ledger.next_retry(conn, record.send_id) is not None:
        window = max(window, config.smtp.give_up_after)  # readers the server deferred are retried until then
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


def publish_draft(conn: sqlite3.Connection, config: Config, record: editions.EditionRecord, *, now: datetime) -> Path:
    """`digest publish`: a draft, as it is, to the web archive only (a web-only edition); returns its page."""
    if record.state is editions.EditionState.PUBLISHED:
        raise DigestError(f"edition {record.id} is already published")
    if record.state in (editions.EditionState.IN_REVIEW, editions.EditionState.HELD):
        raise DigestError(f"edition {record.id} is {record.state}: `digest approve {record.id}` publishes it")
    if editions.superseded(conn, record):
        raise DigestError(
            f"edition {record.id} is out of date: a later edition of {record.name!r} was published since it "
            "was built; build a new draft"
        )
    edition = record.edition()
    outgoing = compose(config, record.name, edition, date=now)
    archive_dir = config.path(config.delivery.archive)
    archive.publish(archive_dir, edition, outgoing.rendered.web_html, base_url=config.delivery.base_url)
    editions.set_state(conn, record.id, editions.EditionState.PUBLISHED, at=now)
    return archive_dir / archive.page_name(edition)

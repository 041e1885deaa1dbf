"""The one path from a built edition to its readers: build, compose, record, archive, deliver.

`digest send` (``send_now``) and the scheduler (digest.scheduler) both go
through ``begin_edition_send``, so a send started by hand and one started on
schedule are recorded, archived and delivered the same way.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from datetime import datetime, timedelta

from digest.config import Config, EditionConfig
from digest.delivery import ledger
from digest.delivery.compose import compose
from digest.delivery.recipients import normalize_address
from digest.delivery.sender import SendReport, begin_send, deliver_send
from digest.delivery.subscribers import edition_readers
from digest.delivery.transport import Transport
from digest.errors import DeliveryError
from digest.models import Edition
from digest.pipeline import build_edition
from digest.render import archive

log = logging.getLogger(__name__)

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
    recipients = [_test_address(to)] if to else edition_readers(config, conn, name)
    if not recipients:
        log.warning(
            "%s: no readers: add addresses to editions.%s.recipients (or a file of them), or subscribers", name, name
        )
    record = begin_edition_send(
        conn, config, name, result.edition,
        kind=kind, run_at=run_at or now, recipients=recipients, transport=transport, now=now,
    )
    return deliver_send(conn, config, record, transport, stop=stop)


def begin_edition_send(
    conn: sqlite3.Connection,
    config: Config,
    name: str,
    edition: Edition,
    *,
    kind: str,
    run_at: datetime,
    recipients: list[str],
    transport: Transport,
    now: datetime,
) -> ledger.SendRecord:
    """Compose a built edition once, publish a real one to the archive, and record its send."""
    outgoing = compose(config, name, edition, date=now)
    if kind in ledger.REAL_KINDS:
        archive.publish(
            config.path(config.delivery.archive),
            edition,
            outgoing.rendered.web_html,
            base_url=config.delivery.base_url,
        )
    record = begin_send(
        conn, outgoing, kind=kind, run_at=run_at, recipients=recipients, transport=transport, now=now
    )
    log.info("%s: edition %s to %d reader(s) via %s", name, record.edition_id, len(recipients), transport.description)
    return record


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

"""Review before send: editors see a marked preview, may drop stories, and approve; readers get what was approved.

An edition with ``review: {editors, deadline, on_deadline}`` in schedule.yaml:

- At its fire time `digest run` builds it as usual (digest.scheduler), keeps it
  as an *in-review* draft with a deadline (the moment of the preview plus
  ``review.deadline``) and mails each editor a preview: subject and banner say it
  awaits approval, with the edition id, each story's number and id, the exact
  `digest drop` / `digest approve` commands, the deadline, and the web page
  attached. Editors are never readers: the preview is a send of its own kind in
  the send ledger (SendKind.PREVIEW, never counted as the edition sent), so a run
  killed part-way and restarted mails only the editors who do not have it yet.
- `digest drop EDITION STORY` takes a story out of the draft (digest.editions
  keeps it, with its reason, who and when). A dropped story does not come back
  in the next edition: the edition's window still closes when it is published,
  since an editor's drop is a decision (a misquote must not return a week later),
  and the drop is listed by `digest editions --explain` and ``--json``.
- `digest approve EDITION` sends the draft as it now is through digest.publish,
  the one path to readers (send lease, ledger, only a 250 counts, deferred
  readers retried). Approving again does nothing new; an approved send that was
  interrupted is resumed by it.
- Past the deadline, every `digest run` (at start, with ``--once``, and each
  minute while it runs) holds the edition (``on_deadline: hold``: logged,
  recorded as the run's status, `digest editions` shows ``held``; `digest approve`
  still sends it) or sends it as it is (``on_deadline: send``).
- A fire time that comes while an earlier edition of the same name is still in
  review or held builds nothing: the run is recorded ``held`` and logged. Its
  stories are not lost: the next edition starts where the last *published* one
  ended, so they go out in the first edition built after the open one is
  approved. Nothing is sent twice: an edition published meanwhile by hand makes the
  open one out of date, and `digest approve` refuses it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from digest import editions, leases
from digest.config import Config, Review
from digest.delivery import ledger, runs
from digest.delivery.compose import check_before_send, compose
from digest.delivery.preview import deliver_previews
from digest.delivery.runs import RunStatus
from digest.delivery.sender import SendReport
from digest.delivery.subscribers import edition_readers
from digest.delivery.transport import Transport, make_transport
from digest.editions import EditionRecord, EditionState
from digest.errors import DeliveryError, DigestError
from digest.models import Edition, EditionStory, Window
from digest.publish import begin_edition_send, finish_edition_send
from digest.store import connect

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReviewStep:
    """What a scheduled run or a deadline did with a reviewed edition."""

    name: str
    scheduled_for: datetime
    status: RunStatus
    detail: str
    report: SendReport | None = None


def _stamp(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def begin_review(
    conn: sqlite3.Connection,
    config: Config,
    edition: Edition,
    window: Window,
    *,
    scheduled_for: datetime,
    transport: Transport,
    now: datetime,
) -> ReviewStep:
    """A run's work for a reviewed edition: keep it in review with its deadline, mail the editors."""
    review = _review_of(config, edition.name)
    editions.record_draft(
        conn, edition, window, built_at=now, state=EditionState.IN_REVIEW, review_deadline=now + review.deadline
    )
    record = editions.find(conn, edition.id)
    assert record is not None
    return _previewed(conn, config, record, scheduled_for, transport=transport, now=now)


def rerun_with_review_open(
    conn: sqlite3.Connection,
    config: Config,
    waiting: EditionRecord,
    *,
    scheduled_for: datetime,
    transport: Transport,
    now: datetime,
) -> ReviewStep:
    """A run of an edition whose earlier (or own) edition still awaits its editors.

    Its own, from a run that stopped before every editor was mailed: the
    preview goes to the editors who do not have it yet (the editors' drops are kept). An earlier one: this
    fire time builds nothing and is recorded held (see the module docstring).
    """
    if waiting.edition().date == scheduled_for:
        return _previewed(conn, config, waiting, scheduled_for, transport=transport, now=now)
    detail = (
        f"edition {waiting.id} is still {waiting.state}: nothing is built until it is approved "
        f"(`digest approve {waiting.id}`); the stories since go in the edition after it"
    )
    log.warning("%s: the run due %s is held: %s", waiting.name, scheduled_for, detail)
    return ReviewStep(waiting.name, scheduled_for, RunStatus.HELD, detail)


def _previewed(
    conn: sqlite3.Connection,
    config: Config,
    record: EditionRecord,
    scheduled_for: datetime,
    *,
    transport: Transport,
    now: datetime,
) -> ReviewStep:
    reached = mail_preview(conn, config, record, transport=transport, now=now)
    assert record.review_deadline is not None
    detail = (
        f"preview of {record.id} sent to {reached} of {len(_review_of(config, record.name).editors)} editor(s); "
        f"awaiting `digest approve {record.id}` until {_stamp(record.review_deadline)}"
    )
    log.info("%s: %s", record.name, detail)
    return ReviewStep(record.name, scheduled_for, RunStatus.IN_REVIEW, detail)


def _review_of(config: Config, name: str) -> Review:
    _, edition_config = config.edition(name)
    if edition_config.review is None:
        raise DigestError(f"edition {name!r} has no review: section")
    return edition_config.review


def mail_preview(
    conn: sqlite3.Connection, config: Config, record: EditionRecord, *, transport: Transport, now: datetime
) -> int:
    """The marked preview to every editor who does not have it yet; returns how many have it. None having
    it is an error (the run fails and is retried within its grace window)."""
    review = _review_of(config, record.name)
    assert record.review_deadline is not None
    outgoing = compose(config, record.name, record.edition(), date=now)
    report, refusals = deliver_previews(
        conn, config, outgoing, review.editors,
        deadline=record.review_deadline, on_deadline=review.on_deadline, transport=transport, now=now,
    )
    for refusal in refusals:
        log.warning("%s: the preview did not reach editor %s", record.id, refusal)
    if not report.sent:
        raise DeliveryError(f"{record.id}: no editor could be sent the preview ({'; '.join(refusals)})")
    return report.sent


# --- approval ---------------------------------------------------------------


@dataclass(frozen=True)
class AlreadySent:
    """`digest approve` of an edition whose readers already have it: nothing is sent again."""

    record: EditionRecord

    def summary(self) -> str:
        when = _stamp(self.record.published_at) if self.record.published_at else "earlier"
        return f"{self.record.id}: already approved and sent ({when}); nothing sent again"


@dataclass(frozen=True)
class NothingLeft:
    """`digest approve` of an edition whose every story was dropped: nobody is mailed, and the edition is
    closed (published with no stories, not archived) so the next one starts after its window."""

    record: EditionRecord

    def summary(self) -> str:
        return f"{self.record.id}: every story was dropped; nothing sent, the edition is closed"


def approve(
    conn: sqlite3.Connection,
    config: Config,
    record: EditionRecord,
    *,
    now: datetime,
    transport_for: Callable[[], Transport],
    stop: threading.Event | None = None,
) -> SendReport | AlreadySent | NothingLeft:
    """Send a reviewed edition, as it now is, to its readers through the one publish path.

    Under the edition's send lease, so a `digest drop` (which takes it too) is
    either in the draft read here or refused because the send began.
    """
    name = record.name
    check_before_send(config, name)
    with leases.held(config.path(config.store), f"send:{name}", what=f"sending edition '{name}'", stop=stop):
        current = editions.find(conn, record.id)
        assert current is not None
        send = ledger.find_send(conn, current.id)
        if current.state is EditionState.PUBLISHED and send is None:
            if not current.edition().stories:
                return NothingLeft(current)  # closed when its editors dropped every story
            raise DigestError(
                f"edition {current.id} was published to the web archive only (`digest publish`) and never "
                "sent: it was not in review, so there is nothing to approve"
            )
        if current.state is EditionState.PUBLISHED and send is not None and send.finished_at is not None:
            return AlreadySent(current)
        transport = transport_for()
        if send is None:
            edition = _approvable(conn, current)
            if not edition.stories:
                editions.set_state(conn, current.id, EditionState.PUBLISHED, at=now)
                _record_run(conn, current.name, edition.date, RunStatus.SKIPPED_NO_NEW, "every story was dropped in review",
                            now=now)
                return NothingLeft(current)
            send = begin_edition_send(
                conn, config, name, edition, None,
                kind=ledger.SendKind.SCHEDULED, run_at=edition.date,
                recipients=edition_readers(config, conn, name), transport=transport, now=now,
            )
        # a send begun by an earlier approve (or at the deadline) that stopped part-way is finished
        report = finish_edition_send(conn, config, send, transport, now=now, stop=stop)
    status = RunStatus.STARTED if report.interrupted else RunStatus.SENT
    _record_run(conn, name, send.run_at, status, report.summary(), now=now, send_id=report.send_id)
    return report


def _record_run(
    conn: sqlite3.Connection, name: str, due: datetime, status: RunStatus, detail: str, *, now: datetime,
    send_id: str | None = None,
) -> None:
    """The run the edition was built by (if `digest run` built it) ends as its review did."""
    if runs.find_run(conn, name, due) is not None:
        runs.set_run(conn, name, due, status, now=now, detail=detail, send_id=send_id)


def _approvable(conn: sqlite3.Connection, record: EditionRecord) -> Edition:
    """The edition to send, or why this one may not be approved."""
    if record.state is EditionState.DRAFT:
        raise DigestError(
            f"edition {record.id} is a draft, not in review: `digest send` sends an edition, "
            "`digest publish` puts a draft in the archive"
        )
    if editions.superseded(conn, record):
        raise DigestError(
            f"edition {record.id} is out of date: a later edition of {record.name!r} was published since it "
            "was built, with its stories; approving it would send them twice"
        )
    return record.edition()


def drop(
    conn: sqlite3.Connection,
    config: Config,
    record: EditionRecord,
    story: str,
    *,
    reason: str,
    by: str,
    now: datetime,
) -> tuple[EditionStory, EditionRecord]:
    """`digest drop`: one story out of an edition not yet sent (digest.editions keeps it, why, who, when).

    Returns the story and the edition as it now is.
    """
    with leases.held(config.path(config.store), f"send:{record.name}", what=f"sending edition '{record.name}'"):
        if ledger.find_send(conn, record.id) is not None:
            raise DigestError(f"edition {record.id} was approved and its send has begun: too late to drop a story")
        dropped = editions.drop_story(conn, record, story, reason=reason, by=by, at=now)
    current = editions.find(conn, record.id)
    assert current is not None
    return dropped, current


# --- deadlines --------------------------------------------------------------


def settle_deadlines(
    conn: sqlite3.Connection,
    config: Config,
    *,
    now: datetime,
    transport_for: Callable[[], Transport],
    stop: threading.Event | None = None,
) -> list[ReviewStep]:
    """Editions in review past their deadline: held and reported, or (``on_deadline: send``) sent as they are."""
    steps = []
    for record in editions.in_state(conn, EditionState.IN_REVIEW):
        if record.review_deadline is None or record.review_deadline > now:
            continue
        if stop is not None and stop.is_set():
            break
        edition_config = config.editions.get(record.name)
        due = record.edition().date
        if edition_config is not None and edition_config.schedule is not None:
            due = due.astimezone(ZoneInfo(edition_config.schedule.timezone))  # as the run summary names it
        send_it = edition_config is not None and edition_config.review is not None and (
            edition_config.review.on_deadline == "send"
        )
        late = f"the review deadline {_stamp(record.review_deadline)} passed without approval"
        if send_it:
            log.info("%s: %s: sending it as it is (on_deadline: send)", record.id, late)
            try:
                report = approve(conn, config, record, now=now, transport_for=transport_for, stop=stop)
            except leases.LeaseHeld as exc:  # being sent (`digest approve`) right now, or tried again next time
                log.info("%s: %s", record.id, exc)
                continue
            except DigestError as exc:
                steps.append(_hold(conn, record, due, f"{late}; it could not be sent ({exc})", now=now))
                continue
            if isinstance(report, SendReport):
                status = RunStatus.STARTED if report.interrupted else RunStatus.SENT
                steps.append(ReviewStep(record.name, due, status, report.summary(), report))
            else:
                steps.append(ReviewStep(record.name, due, RunStatus.SKIPPED_NO_NEW, report.summary()))
        else:
            steps.append(_hold(conn, record, due, f"{late}: held, nothing sent; `digest approve {record.id}` sends it",
                               now=now))
    return steps


def _hold(conn: sqlite3.Connection, record: EditionRecord, due: datetime, detail: str, *, now: datetime) -> ReviewStep:
    editions.set_state(conn, record.id, EditionState.HELD, at=now)
    _record_run(conn, record.name, due, RunStatus.HELD, detail, now=now)
    log.warning("%s: %s", record.id, detail)
    return ReviewStep(record.name, due, RunStatus.HELD, detail)


class DeadlineJob:
    """What a running `digest run` calls every REVIEW_CHECK: settle_deadlines."""

    def __init__(self, config: Config, stop: threading.Event):
        self.config = config
        self.stop = stop

    def __call__(self) -> None:
        with closing(connect(self.config.path(self.config.store))) as conn:
            ledger.ensure_ledger(conn)
            settle_deadlines(
                conn, self.config, now=datetime.now(UTC), transport_for=lambda: make_transport(self.config),
                stop=self.stop,
            )


DEADLINE_JOB = "review-deadlines"
REVIEW_CHECK = timedelta(minutes=1)
"""How often a running `digest run` looks for review deadlines that passed."""

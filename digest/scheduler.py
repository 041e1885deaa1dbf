"""Scheduled editions: one APScheduler 3 cron job per edition, catch-up, graceful stop.

Each edition with a ``schedule:`` gets a cron trigger in its own IANA time
zone (so '0 7 * * mon' in Europe/London is 07:00 local in winter and in
summer; digest.cron says what happens in the repeated and the skipped hour), ``misfire_grace_time`` = the edition's grace and ``coalesce``: a run
late by less than the grace still happens, once; a later one is skipped and
logged. APScheduler keeps its jobs in memory; what must survive a restart is
in the SQLite ledger: one ``runs`` row per fire time (started, sent,
skipped-late, skipped-no-new, failed, and for a reviewed edition in-review and
held: digest.review). On start, ``catch_up`` looks at the
fire times since the last recorded run: the latest is sent if it is still
within the grace window, older ones are recorded as skipped and reported,
and a run a crash interrupted (or that failed, say with the SMTP server
down) is tried again within grace, resuming from its ledger, so nobody gets
it twice. An edition's first `digest run` is recorded (runs.scheduler_start) and
nothing before it is owed: a new store starts from now, with no catch-up and no
"missed" runs from before it existed. SIGTERM/SIGINT set a stop flag: the message in flight
is finished and recorded, then the process exits; the next start resumes.
One `digest run` per store: it holds the store's "scheduler" lease
(digest.leases) and a second one stops at once; each run holds its
edition's send lease, so a `digest send` of the same edition cannot overlap it.

The edition of a run is built with ``now`` = its scheduled time, so its id
(and every Message-ID) is the same however late or often the run is retried.
"""

from __future__ import annotations

import logging
import signal
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from digest import editions, leases, review
from digest.config import Config, Schedule
from digest.cron import WallClockCron, count_fire_times, latest_fire_time
from digest.delivery import ledger, runs
from digest.delivery.compose import check_before_send
from digest.delivery.ledger import SendKind
from digest.delivery.runs import RunStatus
from digest.delivery.sender import SendReport
from digest.delivery.subscribers import edition_readers
from digest.delivery.transport import Transport, make_transport
from digest.errors import ConfigError, DigestError
from digest.models import Window
from digest.pipeline import build_edition
from digest.publish import begin_edition_send, finish_edition_send, reason_not_to_send
from digest.store import connect

log = logging.getLogger(__name__)

LOOKBACK = timedelta(days=400)
"""How far back a restart looks for missed fire times (older ones are not even reported)."""

MISSED_COUNT_CAP = 1000
"""Missed runs are counted up to this many (an every-minute cron down for a year misses 500,000)."""


@dataclass(frozen=True)
class RunOutcome:
    name: str
    scheduled_for: datetime
    status: RunStatus
    detail: str = ""
    report: SendReport | None = None


def trigger_for(schedule: Schedule) -> WallClockCron:
    return WallClockCron(schedule.cron, schedule.timezone)


def due_fire_time(schedule: Schedule, now: datetime) -> datetime | None:
    """The fire time a job started at ``now`` belongs to: the latest within the grace window."""
    return latest_fire_time(trigger_for(schedule), now - schedule.grace - timedelta(seconds=1), now)


def _schedule(config: Config, name: str) -> Schedule:
    _, edition = config.edition(name)
    if edition.schedule is None:
        raise ConfigError(f"edition {name!r} has no schedule")
    return edition.schedule


def run_scheduled(
    config: Config,
    name: str,
    scheduled_for: datetime,
    *,
    now: datetime,
    conn: sqlite3.Connection,
    transport: Transport | None = None,
    stop: threading.Event | None = None,
) -> RunOutcome:
    """Everything one fire time of an edition does: build, check, publish, send, record.

    Safe to call again for the same fire time: a finished run is not
    repeated, an interrupted one is resumed from the ledger.
    """
    schedule = _schedule(config, name)
    _, edition_config = config.edition(name)
    scheduled_for = scheduled_for.astimezone(ZoneInfo(schedule.timezone))
    ledger.ensure_ledger(conn)

    def outcome(
        status: RunStatus, detail: str, report: SendReport | None = None, *, record: bool = True
    ) -> RunOutcome:
        if record:
            send_id = report.send_id if report else None
            runs.set_run(conn, name, scheduled_for, status, now=now, detail=detail, send_id=send_id)
        return RunOutcome(name, scheduled_for, status, detail, report)

    previous = runs.find_run(conn, name, scheduled_for)
    if previous is not None and previous.status.final:
        log.info("%s: the run due %s already ended (%s); not repeating it", name, scheduled_for, previous.status)
        return outcome(previous.status, previous.detail, record=False)
    lateness = now - scheduled_for
    approved = edition_config.review is not None and ledger.send_for_run(conn, name, scheduled_for) is not None
    if lateness > schedule.grace and not approved:  # an approved send is finished however late (digest.review)
        detail = f"{_duration(lateness)} late, beyond the {_duration(schedule.grace)} grace window"
        log.warning("%s: skipping the run due %s: %s", name, scheduled_for, detail)
        return outcome(RunStatus.SKIPPED_LATE, detail)
    runs.set_run(conn, name, scheduled_for, RunStatus.STARTED, now=now)
    transport = transport or make_transport(config)
    one_sender = leases.held(config.path(config.store), f"send:{name}", what=f"sending edition '{name}'", stop=stop)
    try:
        check_before_send(config, name)
        with one_sender:
            record = ledger.send_for_run(conn, name, scheduled_for)
            waiting = editions.awaiting_review(conn, name) if edition_config.review is not None else None
            if record is None and waiting is not None:
                step = review.rerun_with_review_open(
                    conn, config, waiting, scheduled_for=scheduled_for, transport=transport, now=now
                )
                return outcome(step.status, step.detail)
            if record is None:
                result = build_edition(config, name, now=scheduled_for, conn=conn)
                for warning in result.warnings:
                    log.warning("%s: %s", name, warning)
                edition = result.edition
                reason = reason_not_to_send(conn, edition_config, edition, force=False)
                if reason is not None:
                    log.info("%s: nothing sent for %s: %s", name, scheduled_for, reason)
                    return outcome(RunStatus.SKIPPED_NO_NEW, reason)
                if edition_config.review is not None:
                    step = review.begin_review(
                        conn, config, edition, result.window or Window(None, scheduled_for), scheduled_for=scheduled_for,
                        transport=transport, now=now,
                    )
                    return outcome(step.status, step.detail)
                record = begin_edition_send(
                    conn, config, name, edition, result.window,
                    kind=SendKind.SCHEDULED, run_at=scheduled_for, recipients=edition_readers(config, conn, name),
                    transport=transport, now=now,
                )
            else:
                log.info("%s: resuming the send of %s", name, record.edition_id)
            report = finish_edition_send(conn, config, record, transport, now=now, stop=stop)
    except DigestError as exc:
        log.error("%s: the run due %s failed: %s", name, scheduled_for, exc)
        return outcome(RunStatus.FAILED, str(exc))
    if report.interrupted:
        return outcome(RunStatus.STARTED, report.summary(), report)
    return outcome(RunStatus.SENT, report.summary(), report)


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


def catch_up(
    config: Config,
    conn: sqlite3.Connection,
    *,
    now: datetime,
    transport: Transport | None = None,
    stop: threading.Event | None = None,
) -> list[RunOutcome]:
    """What a (re)start owes: interrupted runs, and fire times missed while digest was down."""
    ledger.ensure_ledger(conn)
    outcomes: list[RunOutcome] = []
    for name, edition in config.editions.items():
        schedule = edition.schedule
        if schedule is None:
            continue
        for run in runs.unfinished_runs(conn, name):
            if stop is not None and stop.is_set():
                return outcomes
            log.info("%s: the run due %s did not finish (%s); trying it again", name, run.scheduled_for, run.status)
            outcomes.append(run_scheduled(config, name, run.scheduled_for, now=now, conn=conn, transport=transport, stop=stop))
        last = runs.latest_run(conn, name)
        if last is None:  # nothing before the edition's first `digest run` is owed (a new store starts from now)
            after = runs.scheduler_start(conn, name, now=now) - timedelta(microseconds=1)
        else:
            after = max(last.scheduled_for, now - LOOKBACK)
        trigger = trigger_for(schedule)
        latest = latest_fire_time(trigger, after, now)
        if latest is None:
            continue
        in_grace = now - latest <= schedule.grace
        last_missed = latest_fire_time(trigger, after, latest - timedelta(microseconds=1)) if in_grace else latest
        if last_missed is not None:
            count = count_fire_times(trigger, after, last_missed, cap=MISSED_COUNT_CAP)
            counted = f"{count}" if count < MISSED_COUNT_CAP else f"{MISSED_COUNT_CAP} or more"
            detail = (
                f"{counted} run(s) missed while digest was not running, the last due {last_missed}: "
                f"beyond the {_duration(schedule.grace)} grace window, not sent"
            )
            log.warning("%s: %s", name, detail)
            runs.set_run(conn, name, last_missed, RunStatus.SKIPPED_LATE, now=now, detail=detail)
            outcomes.append(RunOutcome(name, last_missed, RunStatus.SKIPPED_LATE, detail))
        if in_grace and not (stop is not None and stop.is_set()):
            log.info("%s: the run due %s was missed; catching up (within grace)", name, latest)
            outcomes.append(run_scheduled(config, name, latest, now=now, conn=conn, transport=transport, stop=stop))
    steps = review.settle_deadlines(
        conn, config, now=now, transport_for=lambda: transport or make_transport(config), stop=stop
    )
    outcomes += [RunOutcome(step.name, step.scheduled_for, step.status, step.detail, step.report) for step in steps]
    retry_deferred(config, conn, now=now, transport=transport, stop=stop)
    return outcomes




def retry_deferred(
    config: Config,
    conn: sqlite3.Connection,
    *,
    now: datetime,
    transport: Transport | None = None,
    stop: threading.Event | None = None,
) -> list[SendReport]:
    """Sends whose readers a server deferred (4xx, e.g. greylisting) past their retries: tried again once due,
    until ``smtp.give_up_after`` (digest.delivery.sender)."""
    ledger.ensure_ledger(conn)
    reports = []
    for name in config.editions:
        record = ledger.unfinished_send(conn, name)
        if record is None or (stop is not None and stop.is_set()):
            continue
        due = ledger.next_retry(conn, record.send_id)
        if due is None or due > now:
            continue
        log.info("%s: trying again the reader(s) the server deferred for %s", name, record.edition_id)
        try:
            with leases.held(config.path(config.store), f"send:{name}", what=f"sending edition '{name}'", stop=stop):
                reports.append(
                    finish_edition_send(conn, config, record, transport or make_transport(config), now=now, stop=stop)
                )
        except DigestError as exc:
            log.error("%s: retrying the deferred reader(s) of %s failed: %s", name, record.edition_id, exc)
    return reports


class RetryDeferredJob:
    """What APScheduler calls every ``smtp.deferred_retry``: retry_deferred."""

    def __init__(self, config: Config, stop: threading.Event):
        self.config = config
        self.stop = stop

    def __call__(self) -> None:
        with closing(connect(self.config.path(self.config.store))) as conn:
            retry_deferred(self.config, conn, now=datetime.now(UTC), stop=self.stop)


RETRY_JOB = "retry-deferred"


class EditionJob:
    """What APScheduler calls at each fire time of one edition."""

    def __init__(self, config: Config, name: str, stop: threading.Event):
        self.config = config
        self.name = name
        self.stop = stop
        self.schedule = _schedule(config, name)

    def __call__(self) -> None:
        now = datetime.now(UTC)
        scheduled_for = due_fire_time(self.schedule, now)
        with closing(connect(self.config.path(self.config.store))) as conn:
            if scheduled_for is None:
                missed = latest_fire_time(trigger_for(self.schedule), now - LOOKBACK, now)
                detail = f"started at {now} with no fire time within the grace window; not sent"
                log.warning("%s: skipping the run due %s: %s", self.name, missed, detail)
                if missed is not None:
                    ledger.ensure_ledger(conn)
                    runs.set_run(conn, self.name, missed, RunStatus.SKIPPED_LATE, now=now, detail=detail)
                return
            run_scheduled(self.config, self.name, scheduled_for, now=now, conn=conn, stop=self.stop)


def build_scheduler(config: Config, stop: threading.Event) -> BackgroundScheduler:
    """A scheduler with one cron job per scheduled edition (not started)."""
    names = [name for name, edition in config.editions.items() if edition.schedule is not None]
    if not names:
        raise ConfigError("no edition has a schedule: nothing for `digest run` to do")
    scheduler = BackgroundScheduler(
        timezone=UTC, executors={"default": ThreadPoolExecutor(max_workers=len(names) + 2)}
    )
    for name in names:
        schedule = _schedule(config, name)
        scheduler.add_job(
            EditionJob(config, name, stop),
            trigger=trigger_for(schedule),
            id=name,
            name=f"edition {name}",
            misfire_grace_time=max(1, int(schedule.grace.total_seconds())),
            coalesce=True,
            max_instances=1,
        )

    if config.smtp is not None:
        scheduler.add_job(
            RetryDeferredJob(config, stop),
            trigger=IntervalTrigger(seconds=max(1, int(config.smtp.deferred_retry.total_seconds()))),
            id=RETRY_JOB,
            name="readers the server deferred",
            coalesce=True,
            max_instances=1,
        )

    if any(edition.review is not None for edition in config.editions.values()):
        scheduler.add_job(
            review.DeadlineJob(config, stop),
            trigger=IntervalTrigger(seconds=int(review.REVIEW_CHECK.total_seconds())),
            id=review.DEADLINE_JOB,
            name="review deadlines",
            coalesce=True,
            max_instances=1,
        )

    def missed(event: JobExecutionEvent) -> None:
        detail = f"APScheduler missed it by more than the grace window (due {event.scheduled_run_time})"
        log.warning("%s: %s; skipped", event.job_id, detail)
        with closing(connect(config.path(config.store))) as conn:
            ledger.ensure_ledger(conn)
            runs.set_run(
                conn, event.job_id, event.scheduled_run_time, RunStatus.SKIPPED_LATE, now=datetime.now(UTC),
                detail=detail,
            )

    scheduler.add_listener(missed, EVENT_JOB_MISSED)
    return scheduler


def describe_transport(config: Config, *, outbox: Path | None = None) -> str:
    """Where messages go, for the log: an operator must see at once that nothing is mailed."""
    if config.smtp is None:
        folder = outbox or config.path(config.delivery.outbox)
        return f"no smtp: configured: messages are written to the directory {folder} ({config.delivery.outbox_format})"
    return f"messages are sent through SMTP {config.smtp.host}:{config.smtp.port} ({config.smtp.security})"


def run_due(config: Config, *, now: datetime, stop: threading.Event) -> list[RunOutcome]:
    """`digest run --once`: whatever is due at ``now`` (catch_up's rules), then return.

    For cron and systemd timers: each call sends an edition whose fire time
    is within its grace window and not yet sent, resumes an interrupted one,
    and records missed ones as skipped, exactly as a long-running `digest run`
    does on start.
    """
    if not any(edition.schedule is not None for edition in config.editions.values()):
        raise ConfigError("no edition has a schedule: nothing for `digest run` to do")
    log.info("%s", describe_transport(config))
    store = config.path(config.store)
    with leases.held(store, "scheduler", what="running the scheduler (digest run)", stop=stop), closing(connect(store)) as conn:
        return catch_up(config, conn, now=now, stop=stop)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def serve(config: Config, *, stop: threading.Event, clock: Callable[[], datetime] = _utcnow) -> None:
    """`digest run`: catch up, then run every scheduled edition until ``stop`` is set.

    ``clock`` is the time catch-up and the logged next runs are reckoned from
    (APScheduler itself keeps the real time).
    """
    log.info("%s", describe_transport(config))
    scheduler = build_scheduler(config, stop)
    with leases.held(config.path(config.store), "scheduler", what="running the scheduler (digest run)", stop=stop):
        _serve(config, scheduler, stop=stop, clock=clock)
    log.info("stopped")


def _serve(
    config: Config, scheduler: BackgroundScheduler, *, stop: threading.Event, clock: Callable[[], datetime]
) -> None:
    with closing(connect(config.path(config.store))) as conn:
        catch_up(config, conn, now=clock(), stop=stop)
    if stop.is_set():
        return
    scheduler.start()
    try:
        for job in scheduler.get_jobs():
            if job.id in (RETRY_JOB, review.DEADLINE_JOB):
                continue
            schedule = _schedule(config, job.id)
            upcoming = trigger_for(schedule).next_after(clock())
            when = upcoming.astimezone(ZoneInfo(schedule.timezone)).isoformat() if upcoming else "never"
            log.info("%s: next run %s (%s, cron '%s')", job.id, when, schedule.timezone, schedule.cron)
        while not stop.wait(1.0):
            pass
        log.info("stopping: waiting for the message in flight")
    finally:
        scheduler.shutdown(wait=True)


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """A flag SIGTERM and SIGINT set instead of killing the process mid-message."""
    stop = threading.Event()

    def handle(signum: int, _frame: object) -> None:
        log.info("%s received: finishing the message in flight, then stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

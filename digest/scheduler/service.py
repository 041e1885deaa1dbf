"""`digest run`: APScheduler 3 wiring: one cron job per edition, the retry and deadline jobs, graceful stop.

The decisions each job makes (a fire time's run, catch-up, late runs) are in
digest.scheduler.fire_time; this module starts, runs and stops the scheduler
under the store's "scheduler" lease.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from digest import leases, review
from digest.config import Config
from digest.cron import latest_fire_time
from digest.delivery import ledger, runs
from digest.delivery.runs import RunStatus
from digest.errors import ConfigError
from digest.scheduler.fire_time import (
    LOOKBACK,
    RunOutcome,
    catch_up,
    due_fire_time,
    retry_deferred,
    run_scheduled,
    schedule_of,
    trigger_for,
)
from digest.store import connect

log = logging.getLogger(__name__)


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
        self.schedule = schedule_of(config, name)

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
        schedule = schedule_of(config, name)
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
            schedule = schedule_of(config, job.id)
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

"""What one fire time of a scheduled edition does, and what a (re)start owes (digest.scheduler).

``run_scheduled`` builds, checks, publishes and sends one fire time, recorded in
the ledger's ``runs`` table so it is never repeated and an interrupted one is
resumed; ``catch_up`` decides, at a start, which missed fire times are still
within their grace window and which are recorded skipped-late; ``retry_deferred``
tries again readers a server deferred. APScheduler is not imported here
(digest.scheduler.service wires these into its jobs).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

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


def schedule_of(config: Config, name: str) -> Schedule:
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
    schedule = schedule_of(config, name)
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

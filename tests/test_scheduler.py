"""Scheduled runs with a controlled clock: the job is called with a fixed fire time, never slept for."""

from __future__ import annotations

import logging
import threading
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from zoneinfo import ZoneInfo

import pytest
from smtpserver import SmtpServer, delivery_config, free_port

from digest.config import Schedule
from digest.cron import fire_times
from digest.delivery import ledger, runs
from digest.delivery.message import make_message_id
from digest.delivery.runs import RunStatus
from digest.delivery.smtp import SmtpTransport
from digest.editions import previous_window_end
from digest.models import Window
from digest.pipeline import build_edition
from digest.scheduler.fire_time import catch_up, run_scheduled, trigger_for
from digest.scheduler.service import build_scheduler, serve
from digest.store import connect

LONDON = ZoneInfo("Europe/London")
DUE = datetime(2026, 11, 23, 7, 0, tzinfo=LONDON)  # a Monday, the bundled cron '0 7 * * mon'
WEEK = timedelta(days=7)
READERS = ["ann@example.org", "bob@example.net", "chloe@example.com"]


@pytest.fixture
def server():
    with SmtpServer() as running:
        yield running


@pytest.fixture
def setup(tmp_path, server):
    config = delivery_config(tmp_path, recipients=READERS, port=server.port)
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        yield config, conn, server


def run_status(conn, due):
    return runs.find_run(conn, "weekly", due).status


def test_cron_keeps_local_time_across_daylight_saving_changes():
    trigger = trigger_for(Schedule(cron="0 7 * * mon", timezone="Europe/London"))
    spring = list(fire_times(trigger, datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 4, 7, tzinfo=UTC)))
    assert [t.astimezone(UTC).hour for t in spring] == [7, 6, 6]  # GMT, then BST from 29 March
    assert {(t.hour, t.minute) for t in spring} == {(7, 0)}
    autumn = list(fire_times(trigger, datetime(2026, 10, 15, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)))
    assert [t.astimezone(UTC).hour for t in autumn] == [6, 7, 7]  # BST, then GMT from 25 October


def test_fire_times_exclude_the_start_and_include_the_end():
    trigger = trigger_for(Schedule(cron="0 7 * * mon", timezone="Europe/London"))
    assert list(fire_times(trigger, DUE, DUE + WEEK)) == [DUE + WEEK]
    assert list(fire_times(trigger, DUE - timedelta(seconds=1), DUE)) == [DUE]


def test_the_scheduled_job_sends_the_edition_of_its_fire_time_once(setup):
    config, conn, server = setup
    outcome = run_scheduled(config, "weekly", DUE, now=DUE + timedelta(minutes=5), conn=conn)

    assert outcome.status == "sent" and outcome.report.counts["sent"] == 3
    assert server.copies_per_recipient() == {address: 1 for address in READERS}
    edition_id = "weekly-20261123T0700+0000"
    for received in server.messages:
        message = BytesParser(policy=policy.default).parsebytes(received.content)
        (address,) = received.recipients
        assert message["To"] == address
        assert message["Message-ID"].strip() == make_message_id(edition_id, address, "digest.example.org")  # folded
        assert message["Subject"] == "The Weekly Digest — 23 November 2026"
        assert message["Date"] == "Mon, 23 Nov 2026 07:05:00 +0000"
        assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert (config.path(config.delivery.archive) / "weekly-2026-11-23-0700.html").exists()
    assert run_status(conn, DUE) == "sent"

    again = run_scheduled(config, "weekly", DUE, now=DUE + timedelta(minutes=30), conn=conn)
    assert again.status == "sent" and again.report is None
    assert server.copies_per_recipient() == {address: 1 for address in READERS}


def test_the_edition_date_is_the_local_fire_time_in_summer(setup):
    config, conn, server = setup
    summer = datetime(2026, 7, 6, 6, 0, tzinfo=UTC)  # 07:00 BST
    outcome = run_scheduled(config, "weekly", summer, now=summer + timedelta(minutes=1), conn=conn)
    assert outcome.report.edition_id == "weekly-20260706T0700+0100"
    assert outcome.scheduled_for.utcoffset() == timedelta(hours=1)


def test_a_run_later_than_the_grace_window_is_skipped_and_recorded(setup):
    config, conn, server = setup
    outcome = run_scheduled(config, "weekly", DUE, now=DUE + timedelta(hours=2, minutes=1), conn=conn)
    assert outcome.status == "skipped-late"
    assert "2h01m late, beyond the 2h00m grace window" in outcome.detail
    assert server.messages == []
    assert run_status(conn, DUE) == "skipped-late"


def test_no_new_stories_means_no_send_when_so_configured(setup):
    config, conn, server = setup
    run_scheduled(config, "weekly", DUE, now=DUE, conn=conn)
    outcome = run_scheduled(config, "weekly", DUE + WEEK, now=DUE + WEEK, conn=conn)
    assert outcome.status == "skipped-no-new"
    assert len(server.messages) == 3
    assert run_status(conn, DUE + WEEK) == "skipped-no-new"


def test_without_only_when_new_the_same_stories_go_out_again(tmp_path, server):
    config = delivery_config(tmp_path, recipients=READERS, port=server.port, edition={"only_when_new": False})
    with closing(connect(config.store)) as conn:
        run_scheduled(config, "weekly", DUE, now=DUE, conn=conn)
        outcome = run_scheduled(config, "weekly", DUE + WEEK, now=DUE + WEEK, conn=conn)
    assert outcome.status == "sent"
    assert server.copies_per_recipient() == {address: 2 for address in READERS}


def test_the_first_start_on_a_new_store_owes_no_run_from_before_it(setup):
    config, conn, server = setup
    assert catch_up(config, conn, now=DUE + 20 * WEEK + timedelta(hours=3)) == []  # nothing "missed" before the store
    assert server.messages == [] and runs.latest_run(conn, "weekly") is None


def test_a_first_start_within_grace_of_a_fire_time_does_not_send_it(setup):
    """The first `digest run` starts from now: even a run due 30 minutes before it is not owed."""
    config, conn, server = setup
    assert catch_up(config, conn, now=DUE + timedelta(minutes=30)) == []
    assert server.messages == [] and runs.latest_run(conn, "weekly") is None
    outcomes = catch_up(config, conn, now=DUE + WEEK + timedelta(minutes=30))  # the next one is owed
    assert [(o.scheduled_for, o.status) for o in outcomes] == [(DUE + WEEK, "sent")]
    assert server.copies_per_recipient() == {address: 1 for address in READERS}


def test_catch_up_after_a_first_start_sends_a_run_due_since_within_grace(setup):
    config, conn, server = setup
    assert catch_up(config, conn, now=DUE - timedelta(minutes=10)) == []
    outcomes = catch_up(config, conn, now=DUE + timedelta(minutes=30))
    assert [(o.scheduled_for, o.status) for o in outcomes] == [(DUE, "sent")]
    assert server.copies_per_recipient() == {address: 1 for address in READERS}


def test_runs_missed_after_the_first_start_are_reported_and_recorded_but_none_before_it(setup, caplog):
    config, conn, server = setup
    assert catch_up(config, conn, now=DUE - timedelta(days=1)) == []  # the first start, a day before DUE
    with caplog.at_level(logging.WARNING, logger="digest"):
        outcomes = catch_up(config, conn, now=DUE + 2 * WEEK + timedelta(hours=3))
    assert [(o.scheduled_for, o.status) for o in outcomes] == [(DUE + 2 * WEEK, "skipped-late")]
    assert outcomes[0].detail.startswith("3 run(s) missed while digest was not running")
    assert "3 run(s) missed" in caplog.text
    assert run_status(conn, DUE + 2 * WEEK) == "skipped-late"
    assert server.messages == []


def test_catch_up_on_a_restart_within_grace(tmp_path, server):
    config = delivery_config(tmp_path, recipients=READERS, port=server.port, edition={"only_when_new": False})
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        run_scheduled(config, "weekly", DUE - WEEK, now=DUE - WEEK, conn=conn)
        outcomes = catch_up(config, conn, now=DUE + timedelta(minutes=30))
    assert [(o.scheduled_for, o.status) for o in outcomes] == [(DUE, "sent")]
    assert server.copies_per_recipient() == {address: 2 for address in READERS}


def test_catch_up_after_weeks_down_skips_the_old_runs_and_sends_the_due_one(tmp_path, server):
    config = delivery_config(tmp_path, recipients=READERS, port=server.port, edition={"only_when_new": False})
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        run_scheduled(config, "weekly", DUE, now=DUE, conn=conn)
        outcomes = catch_up(config, conn, now=DUE + 3 * WEEK + timedelta(minutes=30))
        assert [(o.scheduled_for, o.status) for o in outcomes] == [
            (DUE + 2 * WEEK, "skipped-late"),
            (DUE + 3 * WEEK, "sent"),
        ]
        assert outcomes[0].detail.startswith("2 run(s) missed while digest was not running")
        assert run_status(conn, DUE + 2 * WEEK) == "skipped-late"
    assert server.copies_per_recipient() == {address: 2 for address in READERS}


def test_catch_up_never_sends_hours_late(setup):
    config, conn, server = setup
    run_scheduled(config, "weekly", DUE, now=DUE, conn=conn)
    outcomes = catch_up(config, conn, now=DUE + WEEK + timedelta(hours=3))
    assert [(o.scheduled_for, o.status) for o in outcomes] == [(DUE + WEEK, "skipped-late")]
    assert len(server.messages) == 3
    assert catch_up(config, conn, now=DUE + WEEK + timedelta(hours=4)) == []


class StopAfter(SmtpTransport):
    """Sets the stop flag (as SIGTERM would) once ``count`` messages were handed over."""

    def __init__(self, config, stop, count):
        super().__init__(config)
        self.stop, self.count = stop, count

    def deliver(self, *args, **kwargs):
        reply = super().deliver(*args, **kwargs)
        self.count -= 1
        if self.count == 0:
            self.stop.set()
        return reply


def test_an_interrupted_run_is_resumed_on_restart_without_a_duplicate(setup):
    config, conn, server = setup
    stop = threading.Event()
    first = run_scheduled(
        config, "weekly", DUE, now=DUE, conn=conn, transport=StopAfter(config.smtp, stop, 1), stop=stop
    )
    assert first.status == "started" and first.report.interrupted
    assert server.copies_per_recipient() == {"ann@example.org": 1}
    outcomes = catch_up(config, conn, now=DUE + timedelta(minutes=20))
    assert [(o.scheduled_for, o.status) for o in outcomes] == [(DUE, "sent")]
    assert server.copies_per_recipient() == {address: 1 for address in READERS}


def test_an_interrupted_run_is_not_finished_hours_late(setup):
    config, conn, server = setup
    stop = threading.Event()
    run_scheduled(config, "weekly", DUE, now=DUE, conn=conn, transport=StopAfter(config.smtp, stop, 1), stop=stop)
    outcomes = catch_up(config, conn, now=DUE + timedelta(hours=5))
    assert [(o.scheduled_for, o.status) for o in outcomes] == [(DUE, "skipped-late")]
    assert server.copies_per_recipient() == {"ann@example.org": 1}


def test_one_job_per_scheduled_edition_with_its_grace_and_time_zone(tmp_path):
    config = delivery_config(tmp_path, recipients=[])
    scheduler = build_scheduler(config, threading.Event())
    (job,) = scheduler.get_jobs()
    assert job.id == "weekly"
    assert job.misfire_grace_time == 2 * 3600
    assert job.coalesce is True and job.max_instances == 1
    assert str(job.trigger.timezone) == "Europe/London"


def test_serve_logs_the_next_run_and_stops_on_request(tmp_path, caplog):
    config = delivery_config(tmp_path, recipients=[])
    stop = threading.Event()
    caplog.set_level(logging.INFO, logger="digest")
    worker = threading.Thread(target=serve, args=(config,), kwargs={"stop": stop})
    worker.start()
    try:
        seen = threading.Event()
        for _ in range(600):
            if any("next run" in r.getMessage() for r in caplog.records):
                seen.set()
                break
            stop.wait(0.05)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert seen.is_set() and not worker.is_alive()
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("no smtp: configured: messages are written to the directory") for m in messages)
    (next_run,) = [m for m in messages if "next run" in m]
    assert next_run.startswith("weekly: next run ") and "Europe/London" in next_run
    when = datetime.fromisoformat(next_run.split()[3])
    assert (when.weekday(), when.hour, when.minute) == (0, 7, 0)
    assert messages[-1] == "stopped"


def test_a_run_that_failed_is_tried_again_on_restart_within_grace(tmp_path):
    config = delivery_config(tmp_path, recipients=READERS, port=free_port())  # nothing listens there
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        failed = run_scheduled(config, "weekly", DUE, now=DUE, conn=conn)
        assert failed.status == "failed" and "giving up after 4 failed connections" in failed.detail
        with SmtpServer() as server:
            config = delivery_config(tmp_path, recipients=READERS, port=server.port)
            outcomes = catch_up(config, conn, now=DUE + timedelta(minutes=45))
            assert [(o.scheduled_for, o.status) for o in outcomes] == [(DUE, "sent")]
            assert server.copies_per_recipient() == {address: 1 for address in READERS}


def test_a_fire_time_the_scheduler_itself_missed_is_recorded_as_skipped(tmp_path):
    config = delivery_config(tmp_path, recipients=[])
    scheduler = build_scheduler(config, threading.Event())
    missed = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)  # beyond the 2h grace
    scheduler.start(paused=True)
    try:
        scheduler.modify_job("weekly", next_run_time=missed)
        scheduler.resume()
        with closing(ledger.ensure_ledger(connect(config.store))) as conn:
            for _ in range(400):
                if runs.find_run(conn, "weekly", missed) is not None:
                    break
                time.sleep(0.05)
            run = runs.find_run(conn, "weekly", missed)
    finally:
        scheduler.shutdown(wait=True)
    assert run is not None and run.status == "skipped-late"
    assert "missed it by more than the grace window" in run.detail


def test_a_build_after_a_scheduled_edition_in_another_zone_starts_where_it_ended(tmp_path, server):
    """The scheduler builds at local time (07:00 in Berlin is 06:00Z); `digest build` later, in UTC,
    must start from that edition's end, not from nothing (which would repeat its stories)."""
    config = delivery_config(
        tmp_path, recipients=READERS, port=server.port,
        edition={"schedule": {"cron": "0 7 * * mon", "timezone": "Europe/Berlin"}},
    )
    due = datetime(2026, 11, 23, 7, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    later = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        assert run_scheduled(config, "weekly", due, now=due + timedelta(minutes=1), conn=conn).status == "sent"
        assert previous_window_end(conn, "weekly", later) == due
        assert build_edition(config, "weekly", now=later, conn=conn).window == Window(due, later)


def test_serve_at_the_october_change_logs_its_next_run_and_stops(tmp_path, caplog):
    """The case that hung: cron '30 1 * * *' in London, started at 01:35Z on 2026-10-25 (01:35 GMT, the repeated hour)."""
    config = delivery_config(
        tmp_path, recipients=[], edition={"schedule": {"cron": "30 1 * * *", "timezone": "Europe/London", "grace": "1h"}}
    )
    stop = threading.Event()
    caplog.set_level(logging.INFO, logger="digest")
    started = datetime(2026, 10, 25, 1, 35, tzinfo=UTC)
    worker = threading.Thread(target=serve, args=(config,), kwargs={"stop": stop, "clock": lambda: started})
    worker.start()
    try:
        for _ in range(600):
            if any("next run" in r.getMessage() for r in caplog.records):
                break
            stop.wait(0.05)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert not worker.is_alive()
    messages = [r.getMessage() for r in caplog.records]
    assert "weekly: next run 2026-10-26T01:30:00+00:00 (Europe/London, cron '30 1 * * *')" in messages
    assert not (tmp_path / "outbox").exists()  # 01:30 BST (00:30Z) is before the hour of grace of a first start
    assert messages[-1] == "stopped"


def test_catch_up_after_a_year_down_on_an_every_minute_cron_counts_no_further_than_its_cap(tmp_path):
    config = delivery_config(
        tmp_path, recipients=[], edition={"schedule": {"cron": "* * * * *", "timezone": "Europe/London", "grace": "2m"}}
    )
    now = datetime(2026, 10, 25, 1, 35, 30, tzinfo=UTC)
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        runs.set_run(conn, "weekly", now - timedelta(days=365), RunStatus.SENT, now=now - timedelta(days=365))
        outcomes = catch_up(config, conn, now=now)
    # 01:35Z is in the repeated hour (01:xx GMT): the last fire time was 01:59 BST, 00:59Z
    assert [(o.scheduled_for.astimezone(UTC), o.status) for o in outcomes] == [
        (datetime(2026, 10, 25, 0, 59, tzinfo=UTC), "skipped-late")
    ]
    assert outcomes[0].detail.startswith("1000 or more run(s) missed while digest was not running")


def test_the_runs_of_an_older_ledger_survive_the_table_rebuilt_for_review_states(tmp_path):
    import sqlite3

    from digest.store import migrate

    path = tmp_path / "old.sqlite"
    with closing(sqlite3.connect(path, isolation_level=None)) as old:
        old.row_factory = sqlite3.Row
        old.execute("CREATE TABLE schema_versions (part TEXT PRIMARY KEY, version INTEGER NOT NULL)")
        migrate(old, "ledger", ledger.LEDGER_MIGRATIONS[:4])
        runs.set_run(old, "weekly", DUE, RunStatus.SENT, now=DUE, detail="3 sent", send_id="weekly-x")
        with pytest.raises(sqlite3.IntegrityError):
            runs.set_run(old, "weekly", DUE + WEEK, RunStatus.IN_REVIEW, now=DUE)
    with closing(ledger.ensure_ledger(connect(path))) as conn:
        kept = runs.find_run(conn, "weekly", DUE)
        assert (kept.status, kept.detail, kept.send_id) == ("sent", "3 sent", "weekly-x")
        runs.set_run(conn, "weekly", DUE + WEEK, RunStatus.IN_REVIEW, now=DUE + WEEK)
        assert run_status(conn, DUE + WEEK) == "in-review" and RunStatus.IN_REVIEW.final


EDITOR = "editor@example.com"


def test_a_reviewed_run_mails_only_its_editors_and_a_retried_run_keeps_their_drops(tmp_path, server):
    from digest import editions
    from digest.review import DEADLINE_JOB

    config = delivery_config(tmp_path, recipients=READERS, port=server.port, edition={"review": {"editors": [EDITOR]}})
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        outcome = run_scheduled(config, "weekly", DUE, now=DUE + timedelta(minutes=1), conn=conn)
        assert outcome.status == "in-review" and outcome.report is None
        assert run_status(conn, DUE) == "in-review"
        assert server.copies_per_recipient() == {EDITOR: 1}
        record = editions.awaiting_review(conn, "weekly")
        assert record.review_deadline == DUE + timedelta(minutes=1, hours=6)  # the default deadline
        assert run_scheduled(config, "weekly", DUE, now=DUE + timedelta(minutes=5), conn=conn).status == "in-review"
        assert len(server.messages) == 1  # a finished run is not repeated

        editions.drop_story(conn, record, "1", reason="misquote", at=DUE)
        runs.set_run(conn, "weekly", DUE, RunStatus.STARTED, now=DUE)  # as if it had stopped before recording it
        retried = run_scheduled(config, "weekly", DUE, now=DUE + timedelta(minutes=10), conn=conn)
        assert retried.status == "in-review" and "sent to 1 of 1 editor(s)" in retried.detail
        assert server.copies_per_recipient() == {EDITOR: 1}  # the editor has it: not mailed again
        again = editions.awaiting_review(conn, "weekly")
        assert again.stories == record.stories - 1 and again.review_deadline == record.review_deadline

        blocked = run_scheduled(config, "weekly", DUE + WEEK, now=DUE + WEEK, conn=conn)
        assert blocked.status == "held" and f"edition {record.id} is still in-review" in blocked.detail
        assert len(server.messages) == 1 and ledger.find_send(conn, record.id) is None

    jobs = {job.id for job in build_scheduler(config, threading.Event()).get_jobs()}
    assert jobs == {"weekly", DEADLINE_JOB, "retry-deferred"}


def test_an_approval_stopped_part_way_is_finished_by_the_next_run_never_twice(tmp_path, server):
    from digest import editions, review
    from digest.delivery.transport import make_transport

    config = delivery_config(tmp_path, recipients=READERS, port=server.port, edition={"review": {"editors": [EDITOR]}})
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        run_scheduled(config, "weekly", DUE, now=DUE, conn=conn)
        record = editions.awaiting_review(conn, "weekly")
        stopped = threading.Event()
        stopped.set()  # as SIGTERM would, before the first reader
        first = review.approve(conn, config, record, now=DUE, transport_for=lambda: make_transport(config), stop=stopped)
        assert first.interrupted and first.sent == 0 and run_status(conn, DUE) == "started"
        later = DUE + timedelta(hours=5)  # beyond grace: an approved send is finished however late
        (resumed,) = catch_up(config, conn, now=later)
        assert (resumed.status, resumed.report.sent) == ("sent", 3) and run_status(conn, DUE) == "sent"
        second = review.approve(conn, config, record, now=later, transport_for=lambda: make_transport(config))
        assert isinstance(second, review.AlreadySent)
    assert server.copies_per_recipient() == {EDITOR: 1, **{address: 1 for address in READERS}}


def test_a_job_started_with_no_fire_time_within_grace_logs_and_records_the_missed_run(tmp_path, caplog):
    from digest.cron import latest_fire_time
    from digest.scheduler.fire_time import LOOKBACK, due_fire_time
    from digest.scheduler.service import EditionJob

    config = delivery_config(tmp_path, recipients=[])
    job = EditionJob(config, "weekly", threading.Event())
    now = datetime.now(UTC)
    if due_fire_time(job.schedule, now) is not None:
        pytest.skip("the real clock is within grace of a fire time right now")
    missed = latest_fire_time(trigger_for(job.schedule), now - LOOKBACK, now)
    with caplog.at_level(logging.WARNING, logger="digest"):
        job()
    assert f"weekly: skipping the run due {missed}: started at " in caplog.text
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        run = runs.find_run(conn, "weekly", missed)
    assert run.status == "skipped-late" and "no fire time within the grace window" in run.detail


def test_a_deadline_send_waits_while_the_edition_is_being_sent_by_hand(tmp_path, server):
    from digest import editions, leases

    config = delivery_config(
        tmp_path, recipients=READERS, port=server.port,
        edition={"review": {"editors": [EDITOR], "deadline": "1h", "on_deadline": "send"}},
    )
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        run_scheduled(config, "weekly", DUE, now=DUE, conn=conn)
        with leases.held(config.store, "send:weekly", what="a test holding the send"):
            assert catch_up(config, conn, now=DUE + timedelta(hours=2)) == []
        assert editions.awaiting_review(conn, "weekly").state == "in-review"  # not held: tried again next time
        (sent,) = catch_up(config, conn, now=DUE + timedelta(hours=2, minutes=1))
        assert (sent.status, sent.report.sent) == ("sent", 3)
    assert server.copies_per_recipient() == {EDITOR: 1, **{address: 1 for address in READERS}}

"""The send ledger in a real SQLite file: migrations, rows, suppressions, runs."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from digest.delivery import ledger, runs, suppressions
from digest.delivery.ledger import DeliveryStatus, SendKind
from digest.delivery.runs import RunStatus
from digest.errors import DigestError
from digest.store import connect, migrate
from digest.timestamps import utc_stamp

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


@pytest.fixture
def conn(tmp_path):
    with closing(ledger.ensure_ledger(connect(tmp_path / "digest.sqlite"))) as connection:
        yield connection


def new_send(conn, send_id="weekly-1", *, kind=SendKind.MANUAL, run_at=T0, stories=("a", "b"), recipients=None):
    recipients = recipients or [("ann@example.org", "<1@x.org>"), ("bob@example.net", "<2@x.org>")]
    return ledger.create_send(
        conn, send_id=send_id, edition_id=send_id, name="weekly", kind=kind, run_at=run_at,
        transport="test", stories=list(stories), outgoing="{}", recipients=recipients, now=T0,
    )


def test_the_ledger_migrates_once_and_refuses_a_newer_schema(tmp_path):
    path = tmp_path / "digest.sqlite"
    with closing(ledger.ensure_ledger(connect(path))) as conn:
        ledger.ensure_ledger(conn)
        version = conn.execute("SELECT version FROM schema_versions WHERE part = 'ledger'").fetchone()[0]
        assert version == len(ledger.LEDGER_MIGRATIONS)
        conn.execute("UPDATE schema_versions SET version = 99 WHERE part = 'ledger'")
        with pytest.raises(DigestError, match="newer than this digest knows"):
            migrate(conn, "ledger", ledger.LEDGER_MIGRATIONS)


def test_a_send_is_recorded_once_with_every_reader_pending(conn):
    assert new_send(conn) is True
    assert new_send(conn, recipients=[("mallory@example.com", "<3@x.org>")]) is False
    rows = ledger.deliveries(conn, "weekly-1")
    assert [(r.recipient, r.status, r.attempts) for r in rows] == [
        ("ann@example.org", "pending", 0),
        ("bob@example.net", "pending", 0),
    ]
    record = ledger.find_send(conn, "weekly-1")
    assert (record.stories, record.outgoing, record.finished_at) == (("a", "b"), "{}", None)


def test_attempts_count_replies_stay_and_uncertain_sticks(conn):
    new_send(conn)
    ledger.mark_sending(conn, "weekly-1", "ann@example.org", T0)
    assert ledger.deliveries(conn, "weekly-1", [DeliveryStatus.SENDING])[0].recipient == "ann@example.org"
    ledger.record_attempt(conn, "weekly-1", "ann@example.org", status=DeliveryStatus.PENDING, reply="connection lost",
                          now=T0, uncertain=True)
    ledger.record_attempt(conn, "weekly-1", "ann@example.org", status=DeliveryStatus.SENT, reply="250 OK", now=T0)
    (ann,) = ledger.deliveries(conn, "weekly-1", [DeliveryStatus.SENT])
    assert (ann.attempts, ann.last_reply, ann.uncertain) == (2, "250 OK", True)
    sent_at = conn.execute("SELECT sent_at FROM deliveries WHERE recipient = 'ann@example.org'").fetchone()[0]
    assert sent_at == utc_stamp(T0)
    assert ledger.tally(conn, "weekly-1") == {"sent": 1, "pending": 1, "uncertain": 1}


def test_unknown_statuses_are_refused_by_the_schema(conn):
    new_send(conn)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        ledger.record_attempt(conn, "weekly-1", "ann@example.org", status="delivered", reply="", now=T0)


def test_suppression_is_case_insensitive_and_counts_new_addresses(conn):
    assert suppressions.suppress(conn, ["Ann@Example.org", "bob@example.net"], reason="unsubscribed", now=T0) == 2
    assert suppressions.suppress(conn, ["ann@example.org"], reason="bounce", now=T0) == 0
    assert suppressions.is_suppressed(conn, "ANN@example.org")
    assert not suppressions.is_suppressed(conn, "chloe@example.com")


def test_stamps_sort_as_instants_whatever_the_zone():
    london = datetime(2026, 7, 6, 8, 0, tzinfo=ZoneInfo("Europe/London"))  # 07:00 UTC
    assert utc_stamp(london) == utc_stamp(datetime(2026, 7, 6, 7, 0, tzinfo=UTC))
    assert utc_stamp(london) < utc_stamp(datetime(2026, 7, 6, 7, 30, tzinfo=UTC))


def test_stories_sent_counts_only_finished_real_sends_before_a_time(conn):
    new_send(conn, "w-1", stories=("a",), run_at=T0)
    new_send(conn, "w-2", stories=("b",), run_at=T0 + timedelta(days=7))
    new_send(conn, "w-dry", kind=SendKind.DRY_RUN, stories=("c",), run_at=T0)
    new_send(conn, "w-open", stories=("d",), run_at=T0)
    for send_id in ("w-1", "w-2", "w-dry"):
        ledger.finish_send(conn, send_id, T0)
    assert ledger.stories_sent(conn, "weekly", before=T0 + timedelta(days=7)) == {"a"}
    assert ledger.stories_sent(conn, "weekly", before=T0 + timedelta(days=8)) == {"a", "b"}
    assert ledger.unfinished_send(conn, "weekly").send_id == "w-open"
    assert ledger.send_for_run(conn, "weekly", T0 + timedelta(days=7)).send_id == "w-2"


def test_runs_are_one_row_per_fire_time(conn):
    due = datetime(2026, 11, 23, 7, 0, tzinfo=ZoneInfo("Europe/London"))
    runs.set_run(conn, "weekly", due, RunStatus.STARTED, now=T0)
    runs.set_run(conn, "weekly", due, RunStatus.SENT, now=T0, detail="3 sent", send_id="weekly-1")
    runs.set_run(conn, "weekly", due + timedelta(days=7), RunStatus.STARTED, now=T0)
    runs.set_run(conn, "weekly", due + timedelta(days=14), RunStatus.FAILED, now=T0, detail="SMTP down")
    run = runs.find_run(conn, "weekly", due.astimezone(UTC))
    assert (run.status, run.detail, run.send_id) == (RunStatus.SENT, "3 sent", "weekly-1")
    assert runs.latest_run(conn, "weekly").scheduled_for == due + timedelta(days=14)
    assert [r.scheduled_for for r in runs.unfinished_runs(conn, "weekly")] == [
        due + timedelta(days=7),
        due + timedelta(days=14),
    ]

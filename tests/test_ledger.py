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


def test_a_preview_never_counts_as_the_edition_sent(conn):
    new_send(conn, "w-preview", kind=SendKind.PREVIEW, stories=("a",), run_at=T0)
    ledger.finish_send(conn, "w-preview", T0)
    new_send(conn, "w-preview-open", kind=SendKind.PREVIEW, stories=("b",), run_at=T0)
    assert ledger.stories_sent(conn, "weekly", before=T0 + timedelta(days=1)) == set()
    assert ledger.unfinished_send(conn, "weekly") is None
    assert ledger.send_for_run(conn, "weekly", T0) is None


OLD_PREVIEWS_TABLE = """
    CREATE TABLE previews (
        edition_id TEXT NOT NULL,
        editor TEXT NOT NULL,
        message_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        uncertain INTEGER NOT NULL DEFAULT 0,
        last_reply TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (edition_id, editor)
    )
"""
"""The store part 'previews' as digest kept it before previews became sends (its one migration)."""


def old_store(path):
    """A store at the schema before previews joined the ledger: two sends with readers, the previews of two
    editions (one of them no longer in the editions table), one editor's preview cut off before its 250."""
    from edition_fixture import sample_edition

    from digest import editions
    from digest.models import Window

    conn = connect(path)
    migrate(conn, "ledger", ledger.LEDGER_MIGRATIONS[:5])
    migrate(conn, "previews", (OLD_PREVIEWS_TABLE,))
    edition = sample_edition()
    editions.record_draft(conn, edition, Window(None, T0), built_at=T0, state=editions.EditionState.IN_REVIEW,
                          review_deadline=T0 + timedelta(hours=6))
    new_send(conn, "weekly-1", kind=SendKind.SCHEDULED)
    ledger.record_attempt(conn, "weekly-1", "ann@example.org", status=DeliveryStatus.SENT, reply="250 OK", now=T0)
    new_send(conn, "weekly-1~dry-run", kind=SendKind.DRY_RUN, recipients=[("cat@example.com", "<3@x.org>")])
    conn.executemany(
        "INSERT INTO previews (edition_id, editor, message_id, status, attempts, uncertain, last_reply, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (edition.id, "ed@example.org", "<p1@x.org>", "sent", 1, 0, "250 OK", utc_stamp(T0)),
            (edition.id, "eve@example.org", "<p2@x.org>", "sending", 1, 0, None, utc_stamp(T0 + timedelta(minutes=1))),
            (edition.id, "fay@example.org", "<p3@x.org>", "failed", 2, 1, "550 no such user", utc_stamp(T0)),
            ("weekly-20251101T0700+0000", "ed@example.org", "<p4@x.org>", "sent", 1, 0, "250 OK", utc_stamp(T0)),
        ],
    )
    return conn, edition


def test_an_old_store_keeps_its_sends_and_its_previews_become_preview_sends(tmp_path):
    conn, edition = old_store(tmp_path / "digest.sqlite")
    with closing(conn):
        sends_before = [tuple(row) for row in conn.execute("SELECT rowid, * FROM sends ORDER BY rowid")]
        deliveries_before = [tuple(row) for row in conn.execute("SELECT rowid, * FROM deliveries ORDER BY rowid")]
        ledger.ensure_ledger(conn)

        sends_after = [tuple(row) for row in conn.execute("SELECT rowid, * FROM sends ORDER BY rowid")]
        deliveries_after = [tuple(row) for row in conn.execute("SELECT rowid, * FROM deliveries ORDER BY rowid")]
        assert sends_after[:2] == sends_before and deliveries_after[:3] == deliveries_before
        preview = ledger.find_send(conn, ledger.preview_send_id(edition.id))
        assert (preview.kind, preview.name, preview.edition_id) == (SendKind.PREVIEW, "weekly", edition.id)
        assert preview.stories == tuple(story.id for story in edition.stories)
        assert preview.finished_at is None  # eve's preview may not have reached her: the next run settles it
        assert [(d.recipient, d.message_id, d.status, d.attempts, d.uncertain, d.last_reply)
                for d in ledger.deliveries(conn, preview.send_id)] == [
            ("ed@example.org", "<p1@x.org>", DeliveryStatus.SENT, 1, False, "250 OK"),
            ("eve@example.org", "<p2@x.org>", DeliveryStatus.SENDING, 1, False, None),
            ("fay@example.org", "<p3@x.org>", DeliveryStatus.FAILED, 2, True, "550 no such user"),
        ]
        orphan = ledger.find_send(conn, ledger.preview_send_id("weekly-20251101T0700+0000"))
        assert (orphan.kind, orphan.name, orphan.stories, orphan.finished_at) == (SendKind.PREVIEW, "weekly", (), T0)
        assert ledger.tally(conn, orphan.send_id) == {"sent": 1, "uncertain": 0}

        assert ledger.stories_sent(conn, "weekly", before=T0 + timedelta(days=1)) == set()  # no send finished
        assert ledger.unfinished_send(conn, "weekly").send_id == "weekly-1"  # the previews are not resumed as it
        tables = {row["name"] for row in conn.execute("SELECT name FROM sqlite_master")}
        assert "previews" not in tables and {"sends", "deliveries", "sends_by_name", "deliveries_by_status"} <= tables
        assert conn.execute("SELECT part FROM schema_versions WHERE part = 'previews'").fetchone() is None
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            conn.execute("INSERT INTO deliveries (send_id, recipient, position, message_id, status, updated_at) "
                         "VALUES ('nobody', 'x@example.org', 0, '<x@x.org>', 'pending', '')")
        with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
            new_send(conn, "weekly-2", kind="rehearsal")


def test_a_preview_cut_off_before_the_upgrade_is_finished_by_the_next_run(tmp_path):
    """The moved preview has no saved message (the old table kept none): the next run's gives it one, mails the
    editor whose 250 never came, and leaves the editors who have it (or refused it for good) alone."""
    from smtpserver import delivery_config

    from digest.delivery.compose import compose
    from digest.delivery.outbox import DirectoryTransport
    from digest.delivery.preview import deliver_previews

    conn, edition = old_store(tmp_path / "digest.sqlite")
    with closing(conn):
        ledger.ensure_ledger(conn)
        config = delivery_config(tmp_path, recipients=["ann@example.org"])
        outgoing = compose(config, "weekly", edition, date=T0)
        outbox = tmp_path / "outbox"
        report, refusals = deliver_previews(
            conn, config, outgoing, ["ed@example.org", "eve@example.org", "fay@example.org"],
            deadline=T0 + timedelta(hours=6), on_deadline="hold", transport=DirectoryTransport(outbox), now=T0,
        )
        assert (report.sent, refusals) == (2, ["fay@example.org: 550 no such user"])
        assert sorted(path.name for path in outbox.rglob("*.eml")) == ["eve@example.org.eml"]
        assert ledger.find_send(conn, report.send_id).finished_at is not None

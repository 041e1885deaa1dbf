"""digest.sources.feedstore on a real SQLite file."""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest

from digest.sources import feedstore
from digest.sources.fetch import Validators
from digest.store import connect, migrate
from digest.timestamps import utc_stamp

T0 = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
FEED = "https://news.example/feed"
OTHER = "https://other.example/rss"


@dataclass(frozen=True)
class Entry:
    key: str
    title: str | None = "A title"
    link: str | None = None
    text: str = "Some text."
    published: datetime | None = None
    link_lines: tuple[str, ...] = ()


@pytest.fixture
def conn(tmp_path):
    connection = connect(tmp_path / "digest.sqlite")
    feedstore.ensure_tables(connection)
    yield connection
    connection.close()


def test_migrations_are_versioned_and_applied_once(tmp_path, conn):
    feedstore.ensure_tables(conn)
    version = conn.execute("SELECT version FROM schema_versions WHERE part = 'feeds'").fetchone()[0]
    assert version == len(feedstore.FEED_MIGRATIONS)
    conn.close()
    reopened = connect(tmp_path / "digest.sqlite")
    feedstore.ensure_tables(reopened)
    tables = {r[0] for r in reopened.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"feed_state", "feed_entries", "feed_entry_sources"} <= tables
    reopened.close()


def test_new_entries_are_counted_once_across_feeds(conn):
    assert feedstore.record_entries(conn, FEED, [Entry("a"), Entry("b")], now=T0) == 2
    assert feedstore.record_entries(conn, FEED, [Entry("a"), Entry("c")], now=T0 + timedelta(hours=1)) == 1
    assert feedstore.record_entries(conn, OTHER, [Entry("a")], now=T0 + timedelta(hours=2)) == 0
    [a] = [e for e in feedstore.entries_in_window(conn, [FEED, OTHER], since=None, until=None) if e.key == "a"]
    assert a.first_seen == T0
    assert a.feeds == (FEED, OTHER)


def test_a_seen_entry_keeps_its_first_seen_time_but_takes_corrections(conn):
    feedstore.record_entries(conn, FEED, [Entry("a", text="Frist version.")], now=T0)
    feedstore.record_entries(conn, FEED, [Entry("a", text="First version.")], now=T0 + timedelta(days=1))
    [a] = feedstore.entries_in_window(conn, [FEED], since=None, until=None)
    assert (a.first_seen, a.text) == (T0, "First version.")


def test_first_seen_window_excludes_its_start_and_includes_its_end(conn):
    for hours, key in ((0, "at-start"), (1, "inside"), (2, "at-end"), (3, "after")):
        feedstore.record_entries(conn, FEED, [Entry(key)], now=T0 + timedelta(hours=hours))
    window = feedstore.entries_in_window(conn, [FEED], since=T0, until=T0 + timedelta(hours=2))
    assert [e.key for e in window] == ["inside", "at-end"]


def test_published_window_uses_publication_date_else_first_seen(conn):
    may = datetime(2024, 5, 1, tzinfo=UTC)
    feedstore.record_entries(
        conn,
        FEED,
        [Entry("old", published=may - timedelta(days=30)), Entry("may", published=may), Entry("undated")],
        now=T0,
    )
    window = feedstore.entries_in_window(
        conn, [FEED], since=may, until=T0, window="published"
    )
    assert [e.key for e in window] == ["may", "undated"]


def test_window_only_covers_the_feeds_asked_for(conn):
    feedstore.record_entries(conn, FEED, [Entry("mine")], now=T0)
    feedstore.record_entries(conn, OTHER, [Entry("theirs")], now=T0)
    assert [e.key for e in feedstore.entries_in_window(conn, [FEED], since=None, until=None)] == ["mine"]


def test_times_in_other_zones_compare_as_utc_and_naive_times_are_refused(conn):
    feedstore.record_entries(conn, FEED, [Entry("a")], now=T0)
    plus_two = timezone(timedelta(hours=2))
    assert feedstore.entries_in_window(conn, [FEED], since=T0.astimezone(plus_two), until=None) == []
    before_in_plus_two = (T0 - timedelta(seconds=1)).astimezone(plus_two)
    assert len(feedstore.entries_in_window(conn, [FEED], since=before_in_plus_two, until=None)) == 1
    naive_before = (T0 - timedelta(seconds=1)).replace(tzinfo=None)
    with pytest.raises(ValueError, match="has no time zone"):
        feedstore.entries_in_window(conn, [FEED], since=naive_before, until=None)


def test_failures_count_in_a_row_and_reset_on_success(conn):
    for n in (1, 2, 3):
        state = feedstore.record_failure(conn, FEED, at=T0 + timedelta(hours=n), error="HTTP 500")
        assert state.consecutive_failures == n
    assert (state.last_status, state.last_error, state.last_success) == ("error", "HTTP 500", None)
    state = feedstore.record_success(
        conn, FEED, at=T0 + timedelta(hours=4), validators=Validators('"e"', None), title="News", entries=3
    )
    assert (state.consecutive_failures, state.last_status, state.entries, state.etag) == (0, "ok", 3, '"e"')
    assert state.last_success == T0 + timedelta(hours=4)


def test_not_modified_keeps_validators_the_server_did_not_resend(conn):
    feedstore.record_success(
        conn, FEED, at=T0, validators=Validators('"e1"', "Mon, 06 May 2024 09:00:00 GMT"), title="N", entries=1
    )
    state = feedstore.record_not_modified(conn, FEED, at=T0 + timedelta(hours=1), validators=Validators())
    assert state.validators == Validators('"e1"', "Mon, 06 May 2024 09:00:00 GMT")
    assert (state.last_status, state.title, state.entries) == ("not-modified", "N", 1)


def test_feed_states_gives_a_fresh_state_for_unknown_feeds(conn):
    feedstore.record_failure(conn, FEED, at=T0, error="boom")
    states = feedstore.feed_states(conn, [OTHER, FEED])
    assert list(states) == [OTHER, FEED]
    assert states[OTHER] == feedstore.FeedState(OTHER)
    assert states[FEED].consecutive_failures == 1


def test_link_lines_are_kept_with_the_entry_and_refreshed(conn):
    promo = "Get our morning and afternoon news emails"
    entry = Entry("a", text=f"Lead.\n\n{promo}\n\nBody.", link_lines=(promo,))
    feedstore.record_entries(conn, FEED, [entry], now=T0)
    (stored,) = feedstore.entries_in_window(conn, [FEED], since=None, until=T0)
    assert stored.link_lines == (promo,)
    feedstore.record_entries(conn, FEED, [Entry("a", text="Lead.\n\nBody.")], now=T0 + timedelta(hours=1))
    (stored,) = feedstore.entries_in_window(conn, [FEED], since=None, until=T0 + timedelta(hours=1))
    assert stored.link_lines == ()


def test_a_store_from_before_link_lists_gains_the_column_and_keeps_its_entries(tmp_path):
    path = tmp_path / "old.sqlite"
    with closing(connect(path)) as old:
        migrate(old, "feeds", feedstore.FEED_MIGRATIONS[:1])
        old.execute(
            "INSERT INTO feed_entries (key, first_seen, text) VALUES ('k', ?, 'Old text.')", (utc_stamp(T0),)
        )
        old.execute("INSERT INTO feed_entry_sources (feed_url, key) VALUES (?, 'k')", (FEED,))
    with closing(connect(path)) as upgraded:
        feedstore.ensure_tables(upgraded)
        (stored,) = feedstore.entries_in_window(upgraded, [FEED], since=None, until=T0)
    assert (stored.text, stored.link_lines) == ("Old text.", ())

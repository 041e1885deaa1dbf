"""The edition lifecycle in the store: drafts never close a window, publishing does."""

from __future__ import annotations

from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from edition_fixture import sample_edition

from digest import editions
from digest.editions import EditionState
from digest.errors import DigestError
from digest.models import Window
from digest.render.export import edition_from_json, edition_to_json
from digest.store import connect

T1 = datetime(2026, 11, 16, 7, tzinfo=UTC)
T2 = datetime(2026, 11, 23, 7, tzinfo=UTC)


def edition_at(moment: datetime):
    return replace(sample_edition(), name="weekly", date=moment)


def test_an_edition_survives_its_json_unchanged():
    edition = sample_edition()
    assert edition_from_json(edition_to_json(edition)) == edition


def test_drafts_never_close_a_window_and_published_editions_do(tmp_path):
    with closing(connect(tmp_path / "s.sqlite")) as conn:
        editions.record_draft(conn, edition_at(T1), Window(None, T1), built_at=T1)
        assert editions.previous_window_end(conn, "weekly", T2) is None
        editions.set_state(conn, edition_at(T1).id, EditionState.PUBLISHED, at=T1)
        assert editions.previous_window_end(conn, "weekly", T2) == T1
        assert editions.previous_window_end(conn, "weekly", T1) is None  # strictly before
        assert editions.previous_window_end(conn, "daily", T2) is None


def test_rebuilding_a_published_edition_never_makes_it_a_draft_again(tmp_path):
    with closing(connect(tmp_path / "s.sqlite")) as conn:
        editions.record_draft(conn, edition_at(T1), Window(None, T1), built_at=T1)
        editions.set_state(conn, edition_at(T1).id, EditionState.PUBLISHED, at=T1)
        assert not editions.record_draft(conn, edition_at(T1), Window(None, T1), built_at=T2)
        record = editions.find(conn, edition_at(T1).id)
        assert record is not None and record.state is EditionState.PUBLISHED and record.published_at == T1


def test_a_draft_built_before_a_later_publication_is_superseded(tmp_path):
    with closing(connect(tmp_path / "s.sqlite")) as conn:
        editions.record_draft(conn, edition_at(T1), Window(None, T1), built_at=T1)
        editions.record_draft(conn, edition_at(T2), Window(None, T2), built_at=T2)
        draft = editions.find(conn, edition_at(T1).id)
        assert draft is not None and not editions.superseded(conn, draft)
        editions.set_state(conn, edition_at(T2).id, EditionState.PUBLISHED, at=T2)
        assert editions.superseded(conn, draft)
        later = edition_at(T2 + timedelta(days=7))
        editions.record_draft(conn, later, Window(T2, later.date), built_at=later.date)
        assert not editions.superseded(conn, editions.resolve(conn, "weekly"))


def test_dropping_a_story_keeps_it_and_its_reason_and_leaves_the_rest(tmp_path):
    edition = edition_at(T1)
    first, second = edition.stories[0], edition.stories[1]
    with closing(connect(tmp_path / "s.sqlite")) as conn:
        editions.record_draft(conn, edition, Window(None, T1), built_at=T1)
        dropped = editions.drop_story(conn, editions.resolve(conn, "weekly"), first.id, reason="misquote", at=T1)
        assert dropped == first
        editions.drop_story(conn, editions.resolve(conn, "weekly"), "1", reason="duplicate", at=T2)
        record = editions.resolve(conn, "weekly")
        assert [s.id for s in record.edition().stories] == [s.id for s in edition.stories[2:]]
        assert record.stories == len(edition.stories) - 2
        assert [(d.story_id, d.reason) for d in editions.dropped(conn, edition.id)] == [
            (first.id, "misquote"), (second.id, "duplicate"),
        ]
        with pytest.raises(DigestError, match="has no story '99'"):
            editions.drop_story(conn, record, "99", reason="x", at=T2)
        editions.set_state(conn, edition.id, EditionState.PUBLISHED, at=T2)
        with pytest.raises(DigestError, match="already published"):
            editions.drop_story(conn, editions.resolve(conn, edition.id), "1", reason="x", at=T2)


def test_a_window_ending_in_another_utc_offset_is_found_by_a_build_in_utc(tmp_path):
    """10:30+02:00 is 08:30Z: a build at 09:00Z starts where that window ended (as text it sorts after)."""
    end = datetime(2026, 11, 23, 10, 30, tzinfo=timezone(timedelta(hours=2)))
    with closing(connect(tmp_path / "s.sqlite")) as conn:
        editions.record_draft(conn, edition_at(end), Window(None, end), built_at=end)
        editions.set_state(conn, edition_at(end).id, EditionState.PUBLISHED, at=end)
        stored = conn.execute("SELECT window_end FROM editions").fetchone()[0]
        assert stored == "2026-11-23T08:30:00.000000+00:00"
        found = editions.previous_window_end(conn, "weekly", datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
        assert found == end and found.tzinfo is UTC
        assert editions.previous_window_end(conn, "weekly", datetime(2026, 11, 23, 8, 30, tzinfo=UTC)) is None


def test_naive_times_are_refused_rather_than_guessed(tmp_path):
    naive = datetime(2026, 11, 23, 7)
    with closing(connect(tmp_path / "s.sqlite")) as conn, pytest.raises(ValueError, match="has no time zone"):
        editions.record_draft(conn, edition_at(T1), Window(None, naive), built_at=T1)


def test_the_edition_awaiting_review_is_the_one_in_review_or_held(tmp_path):
    with closing(connect(tmp_path / "s.sqlite")) as conn:
        editions.record_draft(conn, edition_at(T1), Window(None, T1), built_at=T1)
        assert editions.awaiting_review(conn, "weekly") is None  # a plain draft awaits nobody
        editions.record_draft(
            conn, edition_at(T2), Window(None, T2), built_at=T2, state=EditionState.IN_REVIEW,
            review_deadline=T2 + timedelta(hours=6),
        )
        waiting = editions.awaiting_review(conn, "weekly")
        assert waiting is not None and waiting.id == edition_at(T2).id and waiting.review_deadline == T2 + timedelta(hours=6)
        editions.set_state(conn, waiting.id, EditionState.HELD, at=T2)
        assert editions.awaiting_review(conn, "weekly").state is EditionState.HELD
        assert editions.awaiting_review(conn, "daily") is None
        editions.set_state(conn, waiting.id, EditionState.PUBLISHED, at=T2)
        assert editions.awaiting_review(conn, "weekly") is None


def test_a_drop_reads_the_draft_afresh_and_keeps_who_dropped_it(tmp_path):
    """Two editors each holding the same (stale) record: the second drop keeps the first."""
    edition = edition_at(T1)
    with closing(connect(tmp_path / "s.sqlite")) as conn:
        editions.record_draft(conn, edition, Window(None, T1), built_at=T1, state=EditionState.IN_REVIEW)
        stale = editions.resolve(conn, "weekly")
        editions.drop_story(conn, stale, edition.stories[0].id, reason="misquote", at=T1, by="ann")
        editions.drop_story(conn, stale, edition.stories[1].id, reason="duplicate", at=T1, by="bob")
        kept = editions.resolve(conn, "weekly").edition().stories
        assert [s.id for s in kept] == [s.id for s in edition.stories[2:]]
        assert [(d.story_id, d.dropped_by) for d in editions.dropped(conn, edition.id)] == [
            (edition.stories[0].id, "ann"), (edition.stories[1].id, "bob"),
        ]

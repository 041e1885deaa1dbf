"""The edition lifecycle: a built edition is a draft until it is published.

    build ──> draft ──(send / publish)──> published
    run (review:) ──> in-review ──(approve, or deadline + on_deadline: send)──> published
                          │  (drop: a story out, kept with its reason, who and when)
                          └──(deadline + on_deadline: hold)──> held ──(approve)──> published

A draft costs nobody a story: only publishing (the send is recorded in the
ledger, or the page is in the archive for a web-only edition) closes the
edition's window, so the next edition starts where the last *published* one
ended. A draft keeps its edition as JSON, so what editors reviewed is what
readers get, less the stories an editor dropped (kept with their reason).
The review itself (preview, approve, deadlines) is digest.review.

The rows live in the store's "editions" part (digest.store).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from digest import store_identity
from digest.errors import DigestError
from digest.models import Edition, EditionStory, Window
from digest.render.export import edition_from_json, edition_to_json
from digest.store import write_transaction
from digest.timestamps import parse_stamp, utc_stamp


class EditionState(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in-review"
    """Editors were sent a preview; it goes out on `digest approve` (or at the deadline)."""
    HELD = "held"
    """The review deadline passed without approval and the edition says ``on_deadline: hold``."""
    PUBLISHED = "published"


UNPUBLISHED = (EditionState.DRAFT, EditionState.IN_REVIEW, EditionState.HELD)


class EditionNotFound(DigestError):
    exit_code = 2


@dataclass(frozen=True)
class EditionRecord:
    id: str
    name: str
    state: EditionState
    built_at: datetime
    window: Window
    stories: int
    published_at: datetime | None
    review_deadline: datetime | None
    content: str | None

    def edition(self) -> Edition:
        if self.content is None:
            raise DigestError(f"edition {self.id}: the store holds no copy of it (recorded by an older digest)")
        return edition_from_json(self.content)


@dataclass(frozen=True)
class DroppedStory:
    story_id: str
    title: str
    reason: str
    dropped_at: datetime
    dropped_by: str


def _moment(text: str | None) -> datetime | None:
    return parse_stamp(text) if text else None


def _record(row: sqlite3.Row) -> EditionRecord:
    return EditionRecord(
        id=row["id"],
        name=row["name"],
        state=EditionState(row["state"]),
        built_at=parse_stamp(row["built_at"]),
        window=Window(_moment(row["window_start"]), parse_stamp(row["window_end"])),
        stories=row["stories"],
        published_at=_moment(row["published_at"]),
        review_deadline=_moment(row["review_deadline"]),
        content=row["content"],
    )


def record_draft(
    conn: sqlite3.Connection,
    edition: Edition,
    window: Window,
    *,
    built_at: datetime,
    state: EditionState = EditionState.DRAFT,
    review_deadline: datetime | None = None,
) -> bool:
    """Keep a built edition as a draft (replacing an unpublished one of the same id).

    Returns False, changing nothing, when that edition is already published:
    rebuilding it never turns it back into a draft.
    """
    changed = conn.execute(
        "INSERT INTO editions (id, name, built_at, window_start, window_end, stories, state, content, "
        "review_deadline) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "built_at = excluded.built_at, window_start = excluded.window_start, window_end = excluded.window_end, "
        "stories = excluded.stories, state = excluded.state, content = excluded.content, "
        "review_deadline = excluded.review_deadline WHERE editions.state != 'published'",
        (
            edition.id,
            edition.name,
            utc_stamp(built_at),
            utc_stamp(window.start) if window.start else None,
            utc_stamp(window.end),
            len(edition.stories),
            state.value,
            edition_to_json(edition),
            utc_stamp(review_deadline) if review_deadline else None,
        ),
    ).rowcount
    return bool(changed)


def set_state(conn: sqlite3.Connection, edition_id: str, state: EditionState, *, at: datetime) -> None:
    """Move an edition to ``state``; publishing stamps the moment, and a published edition stays so."""
    published_at = utc_stamp(at) if state is EditionState.PUBLISHED else None
    conn.execute(
        "UPDATE editions SET state = ?, published_at = coalesce(published_at, ?) "
        "WHERE id = ? AND state != 'published'",
        (state.value, published_at, edition_id),
    )
    if state is EditionState.PUBLISHED:
        store_identity.mirror_edition(conn, edition_id)


def find(conn: sqlite3.Connection, edition_id: str) -> EditionRecord | None:
    row = conn.execute("SELECT * FROM editions WHERE id = ?", (edition_id,)).fetchone()
    return _record(row) if row else None


def resolve(conn: sqlite3.Connection, reference: str) -> EditionRecord:
    """An edition by its id, or by its name: then the latest one not yet published."""
    record = find(conn, reference)
    if record is not None:
        return record
    row = conn.execute(
        "SELECT * FROM editions WHERE name = ? AND state != 'published' ORDER BY window_end DESC LIMIT 1",
        (reference,),
    ).fetchone()
    if row is None:
        raise EditionNotFound(
            f"no edition {reference!r}: give an id from `digest editions`, or the name of an edition with a draft"
        )
    return _record(row)


def all_editions(conn: sqlite3.Connection, name: str | None = None) -> list[EditionRecord]:
    """Every recorded edition (of ``name``), oldest first."""
    if name is None:
        rows = conn.execute("SELECT * FROM editions ORDER BY window_end, id")
    else:
        rows = conn.execute("SELECT * FROM editions WHERE name = ? ORDER BY window_end, id", (name,))
    return [_record(row) for row in rows]


def in_state(conn: sqlite3.Connection, state: EditionState) -> list[EditionRecord]:
    rows = conn.execute("SELECT * FROM editions WHERE state = ? ORDER BY window_end, id", (state.value,))
    return [_record(row) for row in rows]


def awaiting_review(conn: sqlite3.Connection, name: str) -> EditionRecord | None:
    """The edition of ``name`` waiting for its editors (in review, or held), if there is one."""
    row = conn.execute(
        "SELECT * FROM editions WHERE name = ? AND state IN (?, ?) ORDER BY window_end DESC LIMIT 1",
        (name, EditionState.IN_REVIEW.value, EditionState.HELD.value),
    ).fetchone()
    return _record(row) if row else None


def _published_ends(conn: sqlite3.Connection, name: str) -> list[datetime]:
    """Window ends of the published editions of ``name``."""
    rows = conn.execute("SELECT window_end FROM editions WHERE name = ? AND state = 'published'", (name,))
    return [parse_stamp(row["window_end"]) for row in rows]


def previous_window_end(conn: sqlite3.Connection, name: str, before: datetime) -> datetime | None:
    """End of the latest *published* window of edition ``name`` that closed before ``before``.

    Strictly before: rebuilding an edition for the same moment covers the same
    window again, so the same inputs and clock give the same edition.
    """
    ends = [end for end in _published_ends(conn, name) if end < before]
    return max(ends) if ends else None


def superseded(conn: sqlite3.Connection, record: EditionRecord) -> bool:
    """True when another edition of its name was published after this draft was built: its stories
    (some of them) have gone out already, so it must be built again rather than published."""
    ends = _published_ends(conn, record.name)
    if not ends:
        return False
    return record.window.start is None or max(ends) > record.window.start


def drop_story(
    conn: sqlite3.Connection, record: EditionRecord, story_ref: str, *, reason: str, at: datetime, by: str = ""
) -> EditionStory:
    """Take one story out of an unpublished edition, keeping what it was, why it went and who took it out."""
    with write_transaction(conn):  # read again inside it: another drop may have changed the draft since
        current = find(conn, record.id)
        if current is None or current.state is EditionState.PUBLISHED:
            raise DigestError(f"edition {record.id} is already published: its stories cannot be dropped")
        edition = current.edition()
        story = find_story(edition, story_ref)
        remaining = without_story(edition, story.id)
        conn.execute(
            "INSERT INTO edition_drops (edition_id, story_id, title, reason, dropped_at, dropped_by) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (record.id, story.id, story.title, reason, utc_stamp(at), by),
        )
        conn.execute(
            "UPDATE editions SET content = ?, stories = ? WHERE id = ?",
            (edition_to_json(remaining), len(remaining.stories), record.id),
        )
    return story


def find_story(edition: Edition, reference: str) -> EditionStory:
    """A story by its id, or by its number in the edition (1 is the first, as `digest editions` lists them)."""
    stories = edition.stories
    for story in stories:
        if story.id == reference:
            return story
    if reference.isdigit() and 1 <= int(reference) <= len(stories):
        return stories[int(reference) - 1]
    raise EditionNotFound(
        f"edition {edition.id} has no story {reference!r} (give its id, or its number from 1 to {len(stories)})"
    )


def without_story(edition: Edition, story_id: str) -> Edition:
    sections = tuple(
        replace(section, stories=tuple(s for s in section.stories if s.id != story_id))
        for section in edition.sections
    )
    also = edition.also_noted
    if also is not None:
        kept = tuple(s for s in also.stories if s.id != story_id)
        also = replace(also, stories=kept) if kept else None
    return replace(edition, sections=sections, also_noted=also)


def dropped(conn: sqlite3.Connection, edition_id: str) -> list[DroppedStory]:
    rows = conn.execute(
        "SELECT * FROM edition_drops WHERE edition_id = ? ORDER BY dropped_at, story_id", (edition_id,)
    )
    return [
        DroppedStory(row["story_id"], row["title"], row["reason"], parse_stamp(row["dropped_at"]), row["dropped_by"])
        for row in rows
    ]

"""`digest editions` and `digest publish`: the lifecycle of editions (digest.editions)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from digest import editions
from digest.cli.common import CONFIG_OPTION, JSON_OPTION, DigestCommand, fit_line, json_document, say, terminal_width
from digest.config import load_config
from digest.delivery import bounces, ledger
from digest.store import connect


def _readers(conn: sqlite3.Connection, send_id: str) -> dict[str, int]:
    """Recipients of a send by outcome: sent, pending (including deferred, to be retried), failed."""
    counts = ledger.tally(conn, send_id)
    return {
        "sent": counts.get("sent", 0),
        "pending": sum(counts.get(status, 0) for status in ledger.OPEN_STATUSES),
        "failed": counts.get("failed", 0),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _entry(
    conn: sqlite3.Connection, record: editions.EditionRecord, bounced: dict[str, bounces.BounceCounts]
) -> dict[str, Any]:
    counts = bounced.get(record.id, bounces.BounceCounts())
    preview = ledger.preview_send_id(record.id)
    return {
        "id": record.id,
        "name": record.name,
        "state": record.state.value,
        "window": {"start": _iso(record.window.start), "end": _iso(record.window.end)},
        "stories": record.stories,
        "built_at": _iso(record.built_at),
        "published_at": _iso(record.published_at),
        "review_deadline": _iso(record.review_deadline),
        "readers": _readers(conn, record.id),
        "preview": _readers(conn, preview) if ledger.find_send(conn, preview) else None,
        "bounces": {"hard": counts.hard, "soft": counts.soft},
        "dropped": [
            {
                "story": drop.story_id, "title": drop.title, "reason": drop.reason, "at": _iso(drop.dropped_at),
                "by": drop.dropped_by,
            }
            for drop in editions.dropped(conn, record.id)
        ],
    }


def _moment_label(text: str | None, *, year: bool = True) -> str:
    if not text:
        return "the start"
    return text[:16].replace("T", " ") if year else text[5:16].replace("T", " ")


def _window_label(window: dict[str, str | None]) -> str:
    """The window in UTC, its end without the year when the start says it already."""
    start, end = window["start"], window["end"]
    same_year = bool(start and end and start[:4] == end[:4])
    return f"{_moment_label(start)} → {_moment_label(end, year=not same_year)} UTC"


def _readers_label(entry: dict[str, Any]) -> str:
    readers = entry["readers"]
    if not any(readers.values()):
        return "not sent yet" if entry["state"] != "published" else "0 sent"
    return ", ".join(f"{count} {outcome}" for outcome, count in readers.items() if count or outcome == "sent")


def _entry_lines(entry: dict[str, Any], width: int) -> list[str]:
    """Two lines an edition: its id, state, stories and readers; then its window and bounces.

    Fits ``width`` columns; a line too long for it (a very long edition name)
    is cut with "…" (`--json` has every value whole).
    """
    bounced = entry["bounces"]
    second = f"  window {_window_label(entry['window'])}"
    if bounced["hard"] or bounced["soft"]:
        second += f"; bounced {bounced['hard']} hard, {bounced['soft']} soft"
    if entry["preview"]:
        second += "; preview to editors: " + ", ".join(
            f"{count} {outcome}" for outcome, count in entry["preview"].items() if count or outcome == "sent"
        )
    first = f"{entry['id']}  {entry['state']:<9}  {entry['stories']} stories  {_readers_label(entry)}"
    return [fit_line(first, width), fit_line(second, width)]


def _summary(entries: list[dict[str, Any]]) -> str:
    if not entries:
        return "no editions yet: `digest build` makes a draft, `digest send` publishes one"
    states: dict[str, int] = {}
    for entry in entries:
        states[entry["state"]] = states.get(entry["state"], 0) + 1
    counted = ", ".join(
        f"{count} {state}{'s' if state == 'draft' and count != 1 else ''}" for state, count in sorted(states.items())
    )
    return f"{len(entries)} edition{'s' if len(entries) != 1 else ''}: {counted}"


@click.command("editions", cls=DigestCommand)
@CONFIG_OPTION
@click.option("--edition", "edition_name", help="Only editions of this name.")
@JSON_OPTION
@click.option("--explain", "show_explain", is_flag=True, help="Also each review deadline and dropped story, with why.")
def editions_command(config_path: Path, edition_name: str | None, as_json: bool, show_explain: bool) -> None:
    """List editions: state (draft, in-review, held, published), stories, readers, window.

    The window is the time the edition's feed entries were first seen in
    (UTC); readers are those of its send: sent, pending (to be retried),
    failed (a reviewed edition's preview to its editors is listed apart);
    bounced counts the notices `digest bounces` read about it.
    """
    config = load_config(config_path)
    if edition_name is not None:
        config.edition(edition_name)
    with closing(connect(config.path(config.store))) as conn:
        ledger.ensure_ledger(conn)
        bounced = bounces.bounce_counts(conn)
        records = editions.all_editions(conn, edition_name)
        entries = [_entry(conn, record, bounced) for record in records]
        reviewed = ""
        if show_explain and not as_json:
            from digest.cli.review import explain

            reviewed = explain(conn, records)
    summary = _summary(entries)
    if as_json:
        click.echo(json_document("editions", summary=summary, editions=entries))
        return
    width = terminal_width()
    for entry in entries:
        for line in _entry_lines(entry, width):
            click.echo(line)
    if show_explain and entries:
        click.echo(f"\n{reviewed}")
    if entries:
        say(summary)
    else:
        click.echo(summary)


@click.command("publish", cls=DigestCommand)
@CONFIG_OPTION
@click.argument("edition")
def publish(config_path: Path, edition: str) -> None:
    """Publish a draft to the web archive as it is, without mailing anyone (a web-only edition).

    EDITION is an id from `digest editions`, or an edition's name (its
    latest draft). Publishing closes the draft's window: the next edition
    starts where it ended.
    """
    from digest.publish import publish_draft

    config = load_config(config_path)
    with closing(connect(config.path(config.store))) as conn:
        record = editions.resolve(conn, edition)
        page = publish_draft(conn, config, record, now=datetime.now(UTC))
    click.echo(f"{record.id}: published to the archive: {page}")

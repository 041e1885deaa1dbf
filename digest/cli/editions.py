"""`digest editions` and `digest publish`: the lifecycle of editions (digest.editions)."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from digest import editions
from digest.cli.common import CONFIG_OPTION, DigestCommand
from digest.config import load_config
from digest.delivery import bounces, ledger
from digest.store import connect

EDITIONS_SCHEMA = 1
"""Version of `digest editions --json`'s document; raised when a key changes meaning or goes away."""


def _readers(conn: sqlite3.Connection, edition_id: str) -> dict[str, int]:
    """Readers of an edition's real send by outcome: sent, pending (including deferred, to be retried), failed."""
    counts = ledger.tally(conn, edition_id)
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
        "bounces": {"hard": counts.hard, "soft": counts.soft},
        "dropped": [
            {
                "story": drop.story_id, "title": drop.title, "reason": drop.reason, "at": _iso(drop.dropped_at),
                "by": drop.dropped_by,
            }
            for drop in editions.dropped(conn, record.id)
        ],
    }


def _moment_label(text: str | None) -> str:
    return text[:16].replace("T", " ") if text else "the start"


@click.command("editions", cls=DigestCommand)
@CONFIG_OPTION
@click.option("--edition", "edition_name", help="Only editions of this name.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document (schema version in 'schema').")
@click.option("--explain", "show_explain", is_flag=True, help="Also each review deadline and dropped story, with why.")
def editions_command(config_path: Path, edition_name: str | None, as_json: bool, show_explain: bool) -> None:
    """List editions: state (draft, in-review, held, published), window, stories, readers.

    The window is the time the edition's feed entries were first seen in
    (UTC); readers are those of its send: sent, pending (to be retried),
    failed; bounced counts the notices `digest bounces` read about it.
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
    if as_json:
        click.echo(json.dumps({"schema": EDITIONS_SCHEMA, "editions": entries}, ensure_ascii=False, indent=2))
        return
    if not entries:
        click.echo("no editions yet: `digest build` makes a draft, `digest send` publishes one")
        return
    rows = [("EDITION", "STATE", "WINDOW (UTC)", "STORIES", "SENT", "PENDING", "FAILED", "BOUNCED")]
    for entry in entries:
        window = f"{_moment_label(entry['window']['start'])} → {_moment_label(entry['window']['end'])}"
        readers = entry["readers"]
        rows.append((
            entry["id"], entry["state"], window, str(entry["stories"]),
            str(readers["sent"]), str(readers["pending"]), str(readers["failed"]),
            f"{entry['bounces']['hard']} hard, {entry['bounces']['soft']} soft",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    if show_explain:
        click.echo(f"\n{reviewed}")


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

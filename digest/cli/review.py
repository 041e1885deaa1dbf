"""`digest approve` and `digest drop`: editors decide what a reviewed edition sends (digest.review)."""

from __future__ import annotations

import getpass
import logging
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import click

from digest import editions
from digest.cli.common import CONFIG_OPTION, DigestCommand, finish
from digest.cli.delivery import logging_to_stderr
from digest.cli.report import send_exit_code, send_summary
from digest.config import load_config
from digest.delivery import ledger
from digest.delivery.ledger import SendKind
from digest.delivery.transport import make_transport
from digest.scheduler.service import stop_on_signals
from digest.store import connect


def _reviewed(conn: sqlite3.Connection, reference: str) -> editions.EditionRecord:
    """An edition by id; by name, the one awaiting its editors (a later `digest build` draft is not it)."""
    return editions.find(conn, reference) or editions.awaiting_review(conn, reference) or editions.resolve(conn, reference)


def _words(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A reason or a name is kept and shown with the drop: blank, it would say nothing there."""
    if value is not None and not value.strip():
        raise click.BadParameter("is blank: give it in words, or leave the option out")
    return value.strip() if value is not None else None


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "unknown"


@click.command("approve", cls=DigestCommand)
@CONFIG_OPTION
@click.argument("edition")
def approve(config_path: Path, edition: str) -> None:
    """Send a reviewed edition, as the editors left it, to its readers.

    EDITION is the id the preview names (or the edition's name: its latest
    edition in review). It goes through the same path as every send: once to
    each reader, recorded in the ledger, resumable. Approving an edition
    already sent sends nothing again. Exit status 2 for an unknown edition.
    """
    from digest.review import AlreadySent, NothingLeft
    from digest.review import approve as approve_edition

    config = load_config(config_path)
    now = datetime.now(UTC).replace(microsecond=0)
    with logging_to_stderr(logging.WARNING), stop_on_signals() as stop, closing(connect(config.path(config.store))) as conn:
        ledger.ensure_ledger(conn)
        record = _reviewed(conn, edition)
        report = approve_edition(conn, config, record, now=now, transport_for=lambda: make_transport(config), stop=stop)
    if isinstance(report, (AlreadySent, NothingLeft)):
        click.echo(report.summary())
        return
    _, edition_config = config.edition(record.name)
    date = record.edition().date
    title = f"{record.id}: approved; {edition_config.title} of {date.day} {date:%B %Y}"
    click.echo(send_summary(report, title=title, kind=SendKind.SCHEDULED, mailed=config.smtp is not None))
    finish(send_exit_code(report))


@click.command("drop", cls=DigestCommand)
@CONFIG_OPTION
@click.argument("edition")
@click.argument("story")
@click.option(
    "--reason", default="dropped in review", show_default=True, callback=_words, help="Why, kept with the drop."
)
@click.option("--by", "by", callback=_words, help="Who drops it (default: your login name).")
def drop(config_path: Path, edition: str, story: str, reason: str, by: str | None) -> None:
    """Take one story out of an edition before it is approved.

    STORY is the story's number or id, as the preview lists them. The drop is
    kept with its reason, who and when (`digest editions --explain`); the
    story does not come back in the next edition. Exit status 2 for an
    unknown edition or story.
    """
    from digest.review import drop as drop_story

    config = load_config(config_path)
    with closing(connect(config.path(config.store))) as conn:
        ledger.ensure_ledger(conn)
        record = _reviewed(conn, edition)
        dropped, current = drop_story(
            conn, config, record, story, reason=reason, by=by or _login(), now=datetime.now(UTC)
        )
    click.echo(
        f"{current.id}: dropped {dropped.id} {dropped.title!r} ({reason}); {current.stories} "
        f"{'story' if current.stories == 1 else 'stories'} left; `digest approve {current.id}` sends them"
    )


def explain(conn: sqlite3.Connection, records: list[editions.EditionRecord]) -> str:
    """`digest editions --explain`: each edition's review deadline and the stories dropped from it, with why."""
    lines = []
    for record in records:
        drops = editions.dropped(conn, record.id)
        if record.review_deadline is None and not drops:
            continue
        deadline = f", review deadline {record.review_deadline:%Y-%m-%d %H:%M %Z}" if record.review_deadline else ""
        lines.append(f"{record.id} ({record.state}{deadline})")
        lines += [
            f"  dropped {d.story_id} {d.title!r}: {d.reason} (by {d.dropped_by or 'unknown'}, "
            f"{d.dropped_at:%Y-%m-%d %H:%M} UTC)"
            for d in drops
        ]
    return "\n".join(lines) if lines else "no edition was reviewed or had a story dropped"

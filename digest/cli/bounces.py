"""`digest bounces`: read delivery status notifications and suppress the addresses that bounce."""

from __future__ import annotations

import os
from contextlib import closing
from pathlib import Path

import click

from digest.cli.common import CONFIG_OPTION, JSON_OPTION, DigestCommand, json_document
from digest.config import load_config
from digest.delivery import bounces as bounce_reader
from digest.store import connect


@click.command("bounces", cls=DigestCommand)
@CONFIG_OPTION
@click.option("--maildir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="A Maildir holding the bounces (the return path's mailbox).")
@click.option("--imap", "use_imap", is_flag=True,
              help="Read the IMAP folder named by bounces.imap_folder; server, user and password from the "
                   "environment variables bounces.imap_*_env name (DIGEST_IMAP_HOST, _USER, _PASSWORD).")
@JSON_OPTION
def bounces(config_path: Path, maildir: Path | None, use_imap: bool, as_json: bool) -> None:
    """Record bounces: a hard bounce suppresses the address at once, soft ones after bounces.soft_limit in a row.

    Messages are left where they are; reading them again records nothing twice.
    """
    if (maildir is None) == (not use_imap):
        raise click.UsageError("give --maildir DIR or --imap")
    config = load_config(config_path)
    messages = (
        bounce_reader.maildir_messages(maildir) if maildir is not None
        else bounce_reader.imap_messages(config.bounces, os.environ)
    )
    with closing(connect(config.path(config.store))) as conn:
        report = bounce_reader.read_messages(conn, messages, config.bounces)
        counts = bounce_reader.bounce_counts(conn)
    if as_json:
        click.echo(json_document(
            "bounces", summary=report.summary(), read=report.reports, hard=report.hard, soft=report.soft,
            already_seen=report.already_seen, not_bounces=report.not_bounces, unreadable=report.unreadable,
            suppressed=report.suppressed,
            editions={edition: {"hard": c.hard, "soft": c.soft} for edition, c in sorted(counts.items())},
        ))
        return
    for address in report.suppressed:
        click.echo(f"suppressed {address}")
    for edition, count in sorted(counts.items()):
        click.echo(f"{edition}: {count.hard} hard, {count.soft} soft bounce(s) in all")
    click.echo(report.summary())

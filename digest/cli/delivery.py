"""`digest send`, `digest run` and `digest unsubscribe`: options in, one call out."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import closing, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

import click

from digest import leases
from digest.cli.common import (
    CONFIG_OPTION,
    JSON_OPTION,
    DigestCommand,
    Verbosity,
    finish,
    json_document,
    parse_instant,
    verbosity,
)
from digest.cli.report import run_json, run_summary, send_exit_code, send_json, send_summary
from digest.config import load_config
from digest.delivery import ledger
from digest.delivery.ledger import SendKind
from digest.delivery.recipients import normalize_address, read_address_file, validate_addresses
from digest.delivery.suppressions import suppress
from digest.delivery.transport import make_transport
from digest.publish import send_now
from digest.scheduler.service import describe_transport, run_due, serve, stop_on_signals
from digest.store import connect

log = logging.getLogger("digest")


def _an_address(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--to is checked before anything is built: a mistyped address is a usage error (exit 2)."""
    if value is not None:
        try:
            normalize_address(value)
        except ValueError as exc:
            raise click.BadParameter(f"{value!r} is not a valid address: {exc}") from None
    return value

class _StderrHandler(logging.Handler):
    """Writes through click.echo, so the lines land wherever click's stderr is at that moment."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


@contextmanager
def logging_to_stderr(level: int = logging.INFO) -> Iterator[None]:
    """digest's log lines (retries, next run times) on stderr while a command runs.

    ``level`` is the command's own; --verbose lowers it to INFO, --quiet raises it to ERROR.
    """
    logger = logging.getLogger("digest")
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    previous = logger.level
    logger.addHandler(handler)
    chosen = verbosity()
    logger.setLevel(logging.INFO if chosen is Verbosity.VERBOSE else logging.ERROR if chosen is Verbosity.QUIET else level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


@click.command("send", cls=DigestCommand)
@CONFIG_OPTION
@click.option("--edition", "edition_name", help="Edition to send (default: the first in the config).")
@click.option(
    "--dry-run", is_flag=True,
    help="Write every reader's message into the outbox folder instead of sending it.",
)
@click.option(
    "--outbox", type=click.Path(file_okay=False, path_type=Path),
    help="Folder for messages that are written rather than sent (default: delivery.outbox).",
)
@click.option("--to", "to_address", callback=_an_address, help="Send one test copy to this address only; readers are not mailed.")
@click.option(
    "--now",
    help="The edition's date-time (ISO 8601), also its messages' Date: a fixed clock gives byte-identical messages. Sending again with the same value resumes that send, never repeats it.",
)
@click.option("--force", is_flag=True, help="Send even when no story is new (only_when_new), if it has stories.")
@JSON_OPTION
def send(
    config_path: Path, edition_name: str | None, dry_run: bool, outbox: Path | None, to_address: str | None,
    now: str | None, force: bool, as_json: bool,
) -> None:
    """Build an edition and send it now, once to every reader (a ledger remembers who has it).

    Delivery goes through smtp: when configured, otherwise (and with
    --dry-run) into the outbox folder as .eml files or a Maildir. An
    interrupted send (crash, SIGTERM) is resumed by running the same command
    again: readers who got the edition are skipped. SIGTERM or Ctrl-C finish
    the message in flight, then stop. Exit status 3 when a reader was not
    reached (refused, or still pending after the server deferred them: the
    next send or `digest run` retries those), 1 when stopped before the end.
    """
    config = load_config(config_path)
    moment = datetime.now(UTC).replace(microsecond=0)
    kind = SendKind.TEST if to_address else SendKind.DRY_RUN if dry_run else SendKind.MANUAL
    with logging_to_stderr(logging.WARNING), stop_on_signals() as stop:
        transport = make_transport(config, dry_run=dry_run, outbox=outbox)
        if dry_run:
            log.info("--dry-run: messages are written to the %s", transport.description)
        else:
            log.info("%s", describe_transport(config, outbox=outbox))
        store = config.path(config.store)
        name, _ = config.edition(edition_name)
        one_sender = (
            leases.held(store, f"send:{name}", what=f"sending edition '{name}'", stop=stop)
            if kind is SendKind.MANUAL else nullcontext()
        )
        with one_sender, closing(connect(store)) as conn:
            report = send_now(
                config, conn, name, now=moment, run_at=parse_instant(now, "--now"), transport=transport,
                kind=kind, to=to_address, stop=stop, force=force,
            )
    _, edition = config.edition(edition_name)
    dated = parse_instant(now, "--now") or moment
    title = f"{edition.title} of {dated.day} {dated:%B %Y}"
    mailed = config.smtp is not None and not dry_run
    summary = send_summary(report, title=title, kind=kind, mailed=mailed, to=to_address)
    exit_code = send_exit_code(report)
    if as_json:
        click.echo(json_document("send", summary=summary, exit_code=exit_code, **send_json(report, kind=kind)))
    else:
        click.echo(summary)
    finish(exit_code)


@click.command("run", cls=DigestCommand)
@CONFIG_OPTION
@click.option("--once", is_flag=True, help="Send whatever is due now, then exit (for cron and systemd timers).")
@click.option("--now", help="With --once: the time to act as if it were (ISO 8601; default: now).")
@JSON_OPTION
def run(config_path: Path, once: bool, now: str | None, as_json: bool) -> None:
    """Send every scheduled edition on time, until stopped.

    Logs each edition's next run time. On start it catches up a run missed
    while it was down if that is still within the edition's grace window
    (later ones are skipped and reported) and resumes a send a crash
    interrupted. SIGTERM or Ctrl-C finish the message in flight, then stop.
    A second `digest run` on the same store refuses to start (exit code 75).

    With --once it does only that catching up, then exits: run it from cron
    or a systemd timer as often as you like (every few minutes), and each
    edition is still sent once. Exit status 1 when a run failed.
    """
    config = load_config(config_path)
    if not once:
        if now is not None or as_json:
            raise click.UsageError("--now and --json go with --once")
        with logging_to_stderr(), stop_on_signals() as stop:
            serve(config, stop=stop)
        return
    moment = parse_instant(now, "--now") or datetime.now(UTC)
    with logging_to_stderr(logging.WARNING), stop_on_signals() as stop:
        outcomes = run_due(config, now=moment, stop=stop)
    summary, exit_code = run_summary(outcomes)
    if as_json:
        click.echo(json_document("run", summary=summary, exit_code=exit_code, runs=[run_json(o) for o in outcomes]))
    else:
        click.echo(summary)
    finish(exit_code)


@click.command("unsubscribe", cls=DigestCommand)
@CONFIG_OPTION
@click.argument("addresses", nargs=-1)
@click.option(
    "--import", "import_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A file of addresses to suppress, one per line ('#' starts a comment).",
)
@click.option("--reason", default="unsubscribed", show_default=True, help="Why, kept with each address.")
def unsubscribe(config_path: Path, addresses: tuple[str, ...], import_path: Path | None, reason: str) -> None:
    """Never mail these addresses again (the suppression list, checked at send time).

    Give addresses as arguments, or --import a file of them (for example an
    export of unsubscribes and bounces). Nothing is added unless every
    address is valid.
    """
    if not addresses and import_path is None:
        raise click.UsageError("give one or more ADDRESSES, or --import FILE")
    config = load_config(config_path)
    entries = [(f"argument {i}", text) for i, text in enumerate(addresses, start=1)]
    if import_path is not None:
        entries += [(f"{import_path.name}:{line}", text) for line, text in read_address_file(import_path)]
    valid = validate_addresses(entries)
    with closing(connect(config.path(config.store))) as conn:
        ledger.ensure_ledger(conn)
        added = suppress(conn, valid, reason=reason, now=datetime.now(UTC))
    click.echo(f"{added} address(es) added to the suppression list, {len(valid) - added} already on it")

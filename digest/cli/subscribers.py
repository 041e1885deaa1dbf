"""`digest subscribers …` and `digest suppressions …`: the operator's view of who reads and who must not be mailed."""

from __future__ import annotations

import csv
import io
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from digest.cli.common import CONFIG_OPTION, JSON_OPTION, DigestCommand, DigestGroup, json_document, say
from digest.config import Config, load_config
from digest.delivery import subscribers, suppressions
from digest.delivery.recipients import normalize_address, validate_addresses
from digest.errors import ConfigError
from digest.store import connect

EDITION_OPTION = click.option("--edition", "edition_name", help="The edition (default: the first in the config).")
CSV_COLUMNS = ("address", "edition", "source", "subscribed_at", "suppressed")


@contextmanager
def _store(config: Config) -> Iterator[sqlite3.Connection]:
    with closing(connect(config.path(config.store))) as conn:
        yield subscribers.ensure_subscribers(conn)


def _row(subscriber: subscribers.Subscriber) -> dict[str, Any]:
    return {
        "address": subscriber.address,
        "edition": subscriber.edition,
        "source": subscriber.source.value,
        "subscribed_at": subscriber.subscribed_at.isoformat(),
        "suppressed": subscriber.suppressed,
    }


def _valid(addresses: tuple[str, ...]) -> list[str]:
    if not addresses:
        raise click.UsageError("give one or more ADDRESSES")
    return validate_addresses((f"argument {i}", text) for i, text in enumerate(addresses, start=1))


@click.group("subscribers", cls=DigestGroup)
def subscribers_group() -> None:
    """Readers who signed up (double opt-in) or whom you added, per edition.

    An edition's readers are its configured recipients plus these, minus
    the suppression list (see `digest suppressions`).
    """


@subscribers_group.command("list", cls=DigestCommand)
@CONFIG_OPTION
@click.option("--edition", "edition_name", help="Only this edition's subscribers (default: every edition).")
@JSON_OPTION
def list_subscribers(config_path: Path, edition_name: str | None, as_json: bool) -> None:
    """List subscribers, oldest first: address, edition, how they came, when, whether suppressed."""
    config = load_config(config_path)
    if edition_name is not None:
        config.edition(edition_name)
    with _store(config) as conn:
        rows = [_row(s) for s in subscribers.subscribers(conn, edition_name)]
    suppressed = sum(row["suppressed"] for row in rows)
    summary = f"{len(rows)} subscriber(s)" + (f", {suppressed} suppressed" if suppressed else "")
    if as_json:
        click.echo(json_document("subscribers list", summary=summary, subscribers=rows))
        return
    for row in rows:
        flag = "  (suppressed)" if row["suppressed"] else ""
        click.echo(f"{row['address']}  {row['edition']}  {row['source']}  {row['subscribed_at'][:10]}{flag}")
    say(summary)


@subscribers_group.command("add", cls=DigestCommand)
@CONFIG_OPTION
@EDITION_OPTION
@click.argument("addresses", nargs=-1)
@JSON_OPTION
def add(config_path: Path, edition_name: str | None, addresses: tuple[str, ...], as_json: bool) -> None:
    """Subscribe addresses to an edition (no confirmation mail: you vouch for them)."""
    config = load_config(config_path)
    name, _ = config.edition(edition_name)
    valid = _valid(addresses)
    with _store(config) as conn:
        added = subscribers.add(conn, name, valid, source=subscribers.Source.OPERATOR, now=datetime.now(UTC))
    summary = f"{added} subscriber(s) added to {name}, {len(valid) - added} already there"
    click.echo(json_document("subscribers add", summary=summary, edition=name, added=added) if as_json else summary)


@subscribers_group.command("remove", cls=DigestCommand)
@CONFIG_OPTION
@EDITION_OPTION
@click.argument("addresses", nargs=-1)
@JSON_OPTION
def remove(config_path: Path, edition_name: str | None, addresses: tuple[str, ...], as_json: bool) -> None:
    """Unsubscribe addresses from an edition (to stop all mail to them, use `digest unsubscribe`)."""
    config = load_config(config_path)
    name, _ = config.edition(edition_name)
    valid = _valid(addresses)
    with _store(config) as conn:
        removed = subscribers.remove(conn, name, valid)
    absent = len(valid) - removed
    summary = f"{removed} subscriber(s) removed from {name}, {absent} {'was' if absent == 1 else 'were'} not subscribed"
    click.echo(json_document("subscribers remove", summary=summary, edition=name, removed=removed) if as_json
               else summary)


ADDRESS_HEADERS = ("address", "email", "e-mail", "email address", "e-mail address", "mail")
"""Column names taken for the addresses (case, spaces, '_' and '-' aside: 'Email Address', 'email_address')."""


def _header_name(cell: str) -> str:
    return " ".join(cell.replace("_", " ").split()).lower()


def _is_address(text: str) -> bool:
    try:
        normalize_address(text)
    except ValueError:
        return False
    return True


def _delimiter(text: str) -> str:
    """',' unless the file's first lines are separated by ';' (a spreadsheet's CSV in many languages) or tabs."""
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
    except csv.Error:  # one column: no delimiter to find
        return ","


def read_csv_addresses(path: Path) -> list[tuple[str, str]]:
    """(where, text) of each address in a CSV file: the column the first row names like an address
    (ADDRESS_HEADERS), else the first column when it holds addresses. Blank rows are skipped.

    A file with neither is refused as a whole, naming the columns it has: reporting each of its cells as a bad
    address would bury the one mistake (the column's name) under hundreds of lines."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    rows = list(csv.reader(io.StringIO(text), delimiter=_delimiter(text)))
    column, start = 0, 0
    if rows:
        header = [_header_name(cell) for cell in rows[0]]
        named = [name for name in ADDRESS_HEADERS if name in header]
        if named:
            column, start = header.index(named[0]), 1
        elif not any(row and _is_address(row[0]) for row in rows):
            found = ", ".join(repr(cell.strip()) for cell in rows[0] if cell.strip()) or "none"
            raise ConfigError(
                f"{path.name}: no column of addresses: found the columns {found}; a column named "
                f"{', '.join(ADDRESS_HEADERS[:-1])} or {ADDRESS_HEADERS[-1]} (any case) is needed, or a file of "
                "addresses alone, one per row. Nothing was imported"
            )
    entries = []
    for number, row in enumerate(rows[start:], start=start + 1):
        if not any(cell.strip() for cell in row):
            continue
        if column >= len(row):
            raise ConfigError(f"{path.name}:{number}: no column {column + 1} in this row")
        entries.append((f"{path.name}:{number}", row[column]))
    return entries


@subscribers_group.command("import", cls=DigestCommand)
@CONFIG_OPTION
@EDITION_OPTION
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@JSON_OPTION
def import_csv(config_path: Path, edition_name: str | None, file: Path, as_json: bool) -> None:
    """Subscribe every address of a CSV file (an 'address' or 'email' column, else the first).

    A file with no such column and no address in its first column is refused
    (exit status 2), naming the columns it found.

    Nothing is added unless every address is valid; each mistake is
    reported with its line. Suppressed addresses are added but stay unmailed.
    """
    config = load_config(config_path)
    name, _ = config.edition(edition_name)
    valid = validate_addresses(read_csv_addresses(file))
    with _store(config) as conn:
        added = subscribers.add(conn, name, valid, source=subscribers.Source.IMPORT, now=datetime.now(UTC))
    summary = f"{added} subscriber(s) imported into {name} from {file.name}, {len(valid) - added} already there"
    click.echo(json_document("subscribers import", summary=summary, edition=name, added=added) if as_json
               else summary)


@subscribers_group.command("export", cls=DigestCommand)
@CONFIG_OPTION
@click.option("--edition", "edition_name", help="Only this edition's subscribers (default: every edition).")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
def export_csv(config_path: Path, edition_name: str | None, file: Path | None) -> None:
    """Write subscribers as CSV (address, edition, source, subscribed_at, suppressed) to FILE or stdout."""
    config = load_config(config_path)
    if edition_name is not None:
        config.edition(edition_name)
    with _store(config) as conn:
        rows = [_row(s) for s in subscribers.subscribers(conn, edition_name)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({**row, "suppressed": "yes" if row["suppressed"] else "no"} for row in rows)
    if file is None:
        sys.stdout.write(buffer.getvalue())
        return
    file.write_text(buffer.getvalue(), encoding="utf-8")
    say(f"{len(rows)} subscriber(s) written to {file}", err=True)


@click.group("suppressions", cls=DigestGroup)
def suppressions_group() -> None:
    """The suppression list: addresses never mailed, whatever edition lists them.

    Added by one-click unsubscribes, bounces (`digest bounces`) and `digest unsubscribe`.
    """


@suppressions_group.command("list", cls=DigestCommand)
@CONFIG_OPTION
@JSON_OPTION
def list_suppressions(config_path: Path, as_json: bool) -> None:
    """List suppressed addresses, oldest first, with why and when."""
    config = load_config(config_path)
    with _store(config) as conn:
        entries = suppressions.suppressions(conn)
    rows = [{"address": e.address, "reason": e.reason, "added_at": e.added_at.isoformat()} for e in entries]
    summary = f"{len(rows)} suppressed address(es)"
    if as_json:
        click.echo(json_document("suppressions list", summary=summary, suppressions=rows))
        return
    for row in rows:
        click.echo(f"{row['address']}  {row['reason']}  {row['added_at'][:10]}")
    say(summary)


@suppressions_group.command("remove", cls=DigestCommand)
@CONFIG_OPTION
@click.argument("addresses", nargs=-1)
@JSON_OPTION
def remove_suppressions(config_path: Path, addresses: tuple[str, ...], as_json: bool) -> None:
    """Take addresses off the suppression list: they will be mailed again."""
    config = load_config(config_path)
    valid = _valid(addresses)
    with _store(config) as conn:
        removed = suppressions.unsuppress(conn, valid)
    absent = len(valid) - removed
    summary = (
        f"{removed} address(es) taken off the suppression list, {absent} {'was' if absent == 1 else 'were'} not on it"
    )
    click.echo(json_document("suppressions remove", summary=summary, removed=removed) if as_json else summary)

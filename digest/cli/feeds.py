"""`digest feeds …`: manage the feeds listed in schedule.yaml.

Edits go through digest.cli.configedit (comments and order kept; an edit that
would break the config is refused). Everything a feed says is untrusted: it
is printed as plain text, never as rich markup, with control characters
(terminal escapes) removed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from digest.cli import configedit
from digest.cli.common import CONFIG_OPTION, DigestGroup
from digest.config import Config, FeedConfig, load_config
from digest.errors import ConfigError, DigestError, FetchError
from digest.sources.feeds import FeedCheck, canonical_url, fetch_feeds, parse_feed
from digest.sources.fetch import Fetcher
from digest.sources.opml import read_opml, write_opml
from digest.sources.sanitize import strip_control_chars
from digest.store import connect


def _text(value: str | None) -> Text:
    """Untrusted text for rich: no markup, no control characters."""
    return Text(strip_control_chars(value or ""))


def _print_table(table: Table) -> None:
    """On a terminal rich fits the table to the screen; in a pipe nothing is cut."""
    width = None if sys.stdout.isatty() else 10_000
    Console(highlight=False, width=width).print(table)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def _find_feed(config: Config, selector: str) -> int:
    """Index of the feed named by its number in `feeds list`, its URL or its name."""
    if selector.isdigit():
        number = int(selector)
        if 1 <= number <= len(config.feeds):
            return number - 1
        raise DigestError(f"there is no feed #{number} (see `digest feeds list`)")
    by_url = [i for i, f in enumerate(config.feeds) if canonical_url(f.url) == canonical_url(selector)]
    by_name = [i for i, f in enumerate(config.feeds) if f.name and f.name.lower() == selector.lower()]
    matches = by_url or by_name
    if not matches:
        raise DigestError(f"no feed with URL or name {selector!r} (see `digest feeds list`)")
    if len(matches) > 1:
        numbers = ", ".join(f"#{i + 1}" for i in matches)
        raise DigestError(f"{selector!r} names several feeds ({numbers}); remove one by its number")
    return matches[0]


def _listed(config: Config, url: str) -> int | None:
    wanted = canonical_url(url)
    return next((i for i, f in enumerate(config.feeds) if canonical_url(f.url) == wanted), None)


def _require_known_themes(config: Config, themes: Sequence[str]) -> None:
    unknown = [t for t in themes if t not in config.themes]
    if unknown:
        known = ", ".join(config.themes)
        raise ConfigError(f"unknown theme {unknown[0]!r} (configured: {known})")


@click.group("feeds", cls=DigestGroup)
def feeds() -> None:
    """Add, list, remove, check, import and export the feeds in schedule.yaml."""


@feeds.command("add")
@CONFIG_OPTION
@click.argument("url")
@click.option("--name", help="Name shown as the source (default: the feed's own title).")
@click.option("--theme", "themes", multiple=True, help="Theme hint (a theme key); repeatable.")
@click.option("--include", multiple=True, help="Only entries matching this regular expression; repeatable.")
@click.option("--exclude", multiple=True, help="Leave out entries matching this regular expression; repeatable.")
@click.option("--no-check", is_flag=True, help="Add without fetching the feed once first.")
def add(
    config_path: Path,
    url: str,
    name: str | None,
    themes: tuple[str, ...],
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    no_check: bool,
) -> None:
    """Add the feed at URL to schedule.yaml (fetching it once to show what it holds)."""
    config = load_config(config_path)
    try:
        feed = FeedConfig(
            url=url.strip(), name=name, themes=list(themes), include=list(include), exclude=list(exclude)
        )
    except ValidationError as exc:
        problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise ConfigError(f"cannot add {url!r}: {problems}") from None
    _require_known_themes(config, feed.themes)
    already = _listed(config, feed.url)
    if already is not None:
        raise ConfigError(f"{feed.url} is already listed (feed #{already + 1})")
    if not no_check:
        with Fetcher(config.fetch) as fetcher:
            try:
                fetched = fetcher.fetch(feed.url)
                parsed = parse_feed(
                    fetched.body,
                    url=fetched.url,
                    content_type=fetched.content_type,
                    max_bytes=config.fetch.max_bytes,
                )
            except FetchError as exc:
                raise FetchError(f"{feed.url}: {exc} (add it anyway with --no-check)") from None
        title = strip_control_chars(parsed.title or "(untitled)")
        click.echo(f"{title}: {len(parsed.entries)} entries")
        if parsed.problem:
            click.echo(f"warning: {strip_control_chars(parsed.problem)}", err=True)
    configedit.add_feeds(config_path, [feed.model_dump(exclude_defaults=True)])
    click.echo(f"Added feed #{len(config.feeds) + 1} to {config_path}: {feed.url}")


@feeds.command("list")
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_feeds(config_path: Path, as_json: bool) -> None:
    """List the configured feeds, numbered as `remove` expects."""
    config = load_config(config_path)
    if as_json:
        rows = [{"number": i + 1, **f.model_dump()} for i, f in enumerate(config.feeds)]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not config.feeds:
        click.echo("No feeds configured. Add one with `digest feeds add URL`.")
        return
    table = Table("#", "on", "name", "themes", "filters", "url", box=None, pad_edge=False)
    for i, feed in enumerate(config.feeds, start=1):
        filters = [f"+/{p}/" for p in feed.include] + [f"-/{p}/" for p in feed.exclude]
        table.add_row(
            str(i),
            "yes" if feed.enabled else "no",
            _text(feed.name or ""),
            _text(", ".join(feed.themes)),
            _text(" ".join(filters)),
            _text(feed.url),
        )
    _print_table(table)


@feeds.command("remove")
@CONFIG_OPTION
@click.argument("selector")
def remove(config_path: Path, selector: str) -> None:
    """Remove a feed, given its number (from `feeds list`), URL or name."""
    config = load_config(config_path)
    index = _find_feed(config, selector)
    configedit.remove_feed(config_path, index)
    click.echo(f"Removed feed #{index + 1} from {config_path}: {config.feeds[index].url}")


def _check_row(number: int, feed: FeedConfig, check: FeedCheck, threshold: int) -> dict[str, Any]:
    state = check.state
    return {
        "number": number,
        "url": feed.url,
        "name": feed.name or state.title,
        "status": check.status,
        "failing": state.consecutive_failures >= threshold,
        "entries": check.entries if check.entries is not None else state.entries,
        "new_entries": check.new_entries,
        "last_success": state.last_success.isoformat() if state.last_success else None,
        "consecutive_failures": state.consecutive_failures,
        "message": strip_control_chars(check.message) if check.message else None,
    }


@feeds.command("check")
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def check(config_path: Path, as_json: bool) -> None:
    """Fetch every enabled feed now and report how each is doing.

    New entries are recorded as seen, so the next edition includes them.
    Exits with status 1 when a feed has failed failure_threshold times in a row.
    """
    config = load_config(config_path)
    enabled = [feed for feed in config.feeds if feed.enabled]
    threshold = config.fetch.failure_threshold
    conn = connect(config.path(config.store))
    try:
        checks = {c.url: c for c in fetch_feeds(config, conn, now=datetime.now(UTC))}
    finally:
        conn.close()
    numbers = {id(feed): i for i, feed in enumerate(config.feeds, start=1)}
    rows = [_check_row(numbers[id(f)], f, checks[f.url], threshold) for f in enabled]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    elif not rows:
        click.echo("No enabled feeds.")
    else:
        table = Table(
            "#", "feed", "status", "entries", "new", "last success", "failures", "message",
            box=None, pad_edge=False,
        )  # fmt: skip
        for row in rows:
            status = "FAILING" if row["failing"] else row["status"]
            table.add_row(
                str(row["number"]),
                _text(row["name"] or row["url"]),
                status,
                "" if row["entries"] is None else str(row["entries"]),
                str(row["new_entries"]),
                _when(checks[row["url"]].state.last_success),
                str(row["consecutive_failures"]),
                _text(row["message"]),
            )
        _print_table(table)
    if any(row["failing"] for row in rows):
        click.get_current_context().exit(1)


@feeds.command("import")
@CONFIG_OPTION
@click.argument("opml_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--theme", "themes", multiple=True, help="Theme hint for every imported feed; repeatable.")
@click.option("--disabled", is_flag=True, help="Import the feeds switched off (enabled: false).")
def import_opml(config_path: Path, opml_file: Path, themes: tuple[str, ...], disabled: bool) -> None:
    """Add the feeds of an OPML file (from a feed reader) that are not listed yet.

    An OPML folder or category named like a theme (its key or title) becomes
    a theme hint for the feeds in it.
    """
    config = load_config(config_path)
    _require_known_themes(config, themes)
    opml = read_opml(opml_file.read_bytes(), opml_file.name)
    by_label = {key.lower(): key for key in config.themes}
    by_label.update({theme.title.lower(): key for key, theme in config.themes.items()})
    listed = {canonical_url(f.url) for f in config.feeds}
    new: list[dict[str, Any]] = []
    duplicates = 0
    for item in opml.feeds:
        if canonical_url(item.url) in listed:
            duplicates += 1
            continue
        listed.add(canonical_url(item.url))
        hinted = [by_label[label.lower()] for label in item.labels if label.lower() in by_label]
        feed = FeedConfig(
            url=item.url,
            name=item.name,
            themes=list(dict.fromkeys([*themes, *hinted])),
            enabled=not disabled,
        )
        new.append(feed.model_dump(exclude_defaults=True))
    configedit.add_feeds(config_path, new)
    click.echo(f"Imported {len(new)} feeds into {config_path} ({duplicates} already listed).")
    for line in opml.skipped:
        click.echo(f"skipped {strip_control_chars(line)}", err=True)


@feeds.command("export")
@CONFIG_OPTION
@click.argument("output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), default=Path("-"))
@click.option("--all", "include_disabled", is_flag=True, help="Include the feeds switched off.")
def export_opml(config_path: Path, output: Path, include_disabled: bool) -> None:
    """Write the feeds as OPML to OUTPUT (default: standard output), for a feed reader."""
    config = load_config(config_path)
    chosen = [f for f in config.feeds if f.enabled or include_disabled]
    data = write_opml(chosen, title=next(iter(config.editions.values())).title)
    if str(output) == "-":
        click.echo(data, nl=False)
    else:
        output.write_bytes(data)
        click.echo(f"Wrote {len(chosen)} feeds to {output}")

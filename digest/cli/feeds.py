"""`digest feeds …`: manage the feeds listed in schedule.yaml.

Edits go through digest.cli.configedit (comments and order kept; an edit that
would break the config is refused). Feeds are numbered from 1 everywhere
(`feeds list`, config errors, messages) and can be named by number, URL or
name. Everything a feed says is untrusted: it is printed as plain text, never
as rich markup, with control characters (terminal escapes) removed.
"""

from __future__ import annotations

import sqlite3
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.table import Table
from rich.text import Text

from digest.cli import configedit
from digest.cli.common import (
    CONFIG_OPTION,
    JSON_OPTION,
    DigestGroup,
    ExitCode,
    finish,
    fit_line,
    json_document,
    say,
    terminal_width,
)
from digest.cli.feedadd import add, require_known_themes
from digest.config import Config, FeedConfig, load_config
from digest.errors import DigestError
from digest.sources import feedstore
from digest.sources.harvest import FeedCheck, fetch_feeds
from digest.sources.opml import read_opml, write_opml
from digest.sources.progress import host_of
from digest.sources.sanitize import strip_control_chars
from digest.sources.urls import canonical_url
from digest.store import connect


def _text(value: str | None) -> Text:
    """Untrusted text for rich: no markup, no control characters."""
    return Text(strip_control_chars(value or ""))


def _print_table(table: Table, width: int | None = None) -> None:
    """On a terminal rich fits the table to the screen; in a pipe nothing is cut unless ``width`` says."""
    if width is None and not sys.stdout.isatty():
        width = 10_000
    Console(highlight=False, width=width).print(table)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else "never"


def stored_titles(config: Config) -> dict[str, str]:
    """The titles feeds gave themselves when last fetched (for feeds added without a name)."""
    path = config.path(config.store)
    if not path.exists() or not config.feeds:
        return {}
    try:
        with closing(connect(path)) as conn:
            feedstore.ensure_tables(conn)
            states = feedstore.feed_states(conn, (f.url for f in config.feeds))
    except sqlite3.Error:
        return {}
    return {url: state.title for url, state in states.items() if state.title}


def feed_label(feed: FeedConfig, titles: dict[str, str]) -> str:
    """How a feed is called: its name, else its own title, else its host."""
    return feed.name or titles.get(feed.url) or host_of(feed.url)


class UnknownFeed(DigestError):
    """A feed the command line names that the config does not have: a mistake in the command (exit 2)."""

    exit_code = 2


def find_feed(config: Config, selector: str) -> int:
    """Index of the feed given by its number in `feeds list`, its URL or its name.

    A name may be abbreviated to any part of it that names one feed only.
    """
    if selector.isdigit():
        number = int(selector)
        if 1 <= number <= len(config.feeds):
            return number - 1
        raise UnknownFeed(f"there is no feed #{number} (see `digest feeds list`)")
    wanted = selector.strip().lower()
    titles = stored_titles(config)
    labels = [feed_label(f, titles).lower() for f in config.feeds]
    by_url = [i for i, f in enumerate(config.feeds) if canonical_url(f.url) == canonical_url(selector)]
    by_name = [i for i, label in enumerate(labels) if label == wanted]
    by_part = [i for i, label in enumerate(labels) if wanted and wanted in label]
    matches = by_url or by_name or by_part
    if not matches:
        raise UnknownFeed(f"no feed with URL or name {selector!r} (see `digest feeds list`)")
    if len(matches) > 1:
        numbers = ", ".join(f"#{i + 1}" for i in matches)
        raise UnknownFeed(f"{selector!r} names several feeds ({numbers}); give its number")
    return matches[0]


@click.group("feeds", cls=DigestGroup)
def feeds() -> None:
    """Add, list, pause, remove, check, import and export the feeds in schedule.yaml.

    A feed is named by its number in `digest feeds list`, its URL or its name.
    """


feeds.add_command(add)


def _fit(text: str, width: int) -> str:
    """``text`` in exactly ``width`` terminal cells: padded, or cut with an ellipsis."""
    text = strip_control_chars(text)
    if cell_len(text) > width:
        text = set_cell_size(text, max(width - 1, 0)) + "…"
    return set_cell_size(text, width)


def _narrow_lines(rows: list[dict[str, Any]], width: int) -> list[str]:
    """`feeds list`: number, name, "paused", URL, each line within ``width`` columns."""
    number_width = max(len("#"), len(str(len(rows))))
    state_width = len("paused") + 2 if any(not row["enabled"] for row in rows) else 0
    room = max(width - number_width - 4 - state_width, 20)
    name_width = min(max(cell_len(strip_control_chars(row["label"])) for row in rows), room * 2 // 5)
    url_width = room - name_width
    lines = [f"{'#':>{number_width}}  {_fit('name', name_width)}  {' ' * state_width}url"]
    for row in rows:
        state = _fit("" if row["enabled"] else "paused", state_width - 2) + "  " if state_width else ""
        lines.append(
            f"{row['number']:>{number_width}}  {_fit(row['label'], name_width)}  {state}{_fit(row['url'], url_width)}"
        )
    return [line.rstrip() for line in lines]


def _feed_row(number: int, feed: FeedConfig, titles: dict[str, str]) -> dict[str, Any]:
    return {"number": number, "label": feed_label(feed, titles), **feed.model_dump()}


@feeds.command("list")
@CONFIG_OPTION
@click.option("--long", "long_form", is_flag=True, help="Every detail (themes, filters), however wide.")
@JSON_OPTION
def list_feeds(config_path: Path, long_form: bool, as_json: bool) -> None:
    """List the configured feeds, numbered as the other feeds commands expect."""
    config = load_config(config_path)
    titles = stored_titles(config)
    rows = [_feed_row(i, f, titles) for i, f in enumerate(config.feeds, start=1)]
    paused = sum(not f.enabled for f in config.feeds)
    summary = f"{len(rows)} feeds" + (f", {paused} paused" if paused else "")
    if as_json:
        click.echo(json_document("feeds list", summary=summary, feeds=rows))
        return
    if not rows:
        click.echo("No feeds configured. Add one with `digest feeds add URL`.")
        return
    if long_form:
        table = Table("#", "on", "name", "themes", "filters", "url", box=None, pad_edge=False)
        for row in rows:
            filters = [f"+/{p}/" for p in row["include"]] + [f"-/{p}/" for p in row["exclude"]]
            table.add_row(
                str(row["number"]), "yes" if row["enabled"] else "paused", _text(row["label"]),
                _text(", ".join(row["themes"])), _text(" ".join(filters)), _text(row["url"]),
            )
        _print_table(table)
    else:
        for line in _narrow_lines(rows, terminal_width()):
            click.echo(line)
    say(summary)


@feeds.command("remove")
@CONFIG_OPTION
@click.argument("selector")
def remove(config_path: Path, selector: str) -> None:
    """Remove a feed, given its number (from `feeds list`), URL or name."""
    config = load_config(config_path)
    index = find_feed(config, selector)
    configedit.remove_feed(config_path, index)
    click.echo(f"Removed feed #{index + 1} from {config_path}: {config.feeds[index].url}")


def _switch(config_path: Path, selector: str, enabled: bool) -> None:
    config = load_config(config_path)
    index = find_feed(config, selector)
    feed = config.feeds[index]
    label = strip_control_chars(feed_label(feed, stored_titles(config)))
    if feed.enabled == enabled:
        click.echo(f"Feed #{index + 1} {label!r} is already {'on' if enabled else 'paused'}.")
        return
    configedit.set_enabled(config_path, index, enabled)
    if enabled:
        click.echo(f"Resumed feed #{index + 1} {label!r}: the next edition fetches it again.")
    else:
        click.echo(f"Paused feed #{index + 1} {label!r}: not fetched until `digest feeds resume {index + 1}`.")


@feeds.command("pause")
@CONFIG_OPTION
@click.argument("selector")
def pause(config_path: Path, selector: str) -> None:
    """Stop fetching a feed (it stays listed, as `enabled: false`); given its number, URL or name."""
    _switch(config_path, selector, enabled=False)


@feeds.command("resume")
@CONFIG_OPTION
@click.argument("selector")
def resume(config_path: Path, selector: str) -> None:
    """Fetch a paused feed again; given its number, URL or name."""
    _switch(config_path, selector, enabled=True)


def _check_row(number: int, feed: FeedConfig, check: FeedCheck, threshold: int) -> dict[str, Any]:
    state = check.state
    return {
        "number": number,
        "url": feed.url,
        "name": feed.name or state.title or host_of(feed.url),
        "status": check.status,
        "failing": state.consecutive_failures >= threshold,
        "entries": check.entries if check.entries is not None else state.entries,
        "new_entries": check.new_entries,
        "last_success": state.last_success.isoformat() if state.last_success else None,
        "consecutive_failures": state.consecutive_failures,
        "message": strip_control_chars(check.message) if check.message else None,
    }


def check_outcome(rows: list[dict[str, Any]]) -> tuple[str, ExitCode]:
    """The summary line of a fetch of every feed, and its exit code (some failed: 3; all: 1)."""
    failed = [row for row in rows if row["status"] == "error"]
    new = sum(row["new_entries"] for row in rows)
    summary = f"{len(rows) - len(failed)} of {len(rows)} feeds answered, {new} new entries"
    if failed:
        names = ", ".join(f"#{row['number']} {fit_line(row['name'], 24)}" for row in failed[:3])
        summary += f"; failed: {names}" + (f" and {len(failed) - 3} more" if len(failed) > 3 else "")
    if rows and len(failed) == len(rows):
        return summary, ExitCode.FAILED
    return summary, ExitCode.WARNINGS if failed else ExitCode.DONE


@feeds.command("check")
@CONFIG_OPTION
@JSON_OPTION
def check(config_path: Path, as_json: bool) -> None:
    """Fetch every enabled feed now and report how each is doing.

    New entries are recorded as seen, so the next edition includes them.
    Exit status 3 when some feed failed, 1 when every feed failed.
    """
    config = load_config(config_path)
    enabled = [feed for feed in config.feeds if feed.enabled]
    threshold = config.fetch.failure_threshold
    with closing(connect(config.path(config.store))) as conn:
        checks = {c.url: c for c in fetch_feeds(config, conn, now=datetime.now(UTC))}
    numbers = {id(feed): i for i, feed in enumerate(config.feeds, start=1)}
    rows = [_check_row(numbers[id(f)], f, checks[f.url], threshold) for f in enabled]
    summary, exit_code = check_outcome(rows)
    if as_json:
        warnings = [f"feed #{r['number']} {r['name']}: {r['message']}" for r in rows if r["message"]]
        click.echo(json_document("feeds check", summary=summary, exit_code=exit_code, warnings=warnings, feeds=rows))
        finish(exit_code)
        return
    if not rows:
        click.echo("No enabled feeds.")
        return
    last_success = {row["url"]: _when(checks[row["url"]].state.last_success) for row in rows}
    for line in _check_lines(rows, last_success, terminal_width()):
        click.echo(line)
    click.echo(summary)
    finish(exit_code)


def _check_lines(rows: list[dict[str, Any]], last_success: dict[str, str], width: int) -> list[str]:
    """`feeds check` for people: a line a feed within ``width`` columns, its message indented below.

    The feed's name is cut with "…" to make room, the message to the line's
    width; `--json` has both whole.
    """
    number_width = max(len("#"), len(str(max(row["number"] for row in rows))))
    columns = [("status", 12), ("entries", 7), ("new", 4), ("last ok (UTC)", 16), ("fails", 5)]
    fixed = number_width + 2 + sum(w + 2 for _, w in columns)
    longest = max(cell_len(strip_control_chars(name)) for name in ["feed", *(row["name"] for row in rows)])
    name_width = min(longest, max(width - fixed, 8))

    def line(number: str, name: str, cells: list[str]) -> str:
        widths = [w for _, w in columns]
        right = f"  {cells[0]:<{widths[0]}}" + "".join(f"  {c:>{w}}" for c, w in zip(cells[1:], widths[1:], strict=True))
        return f"{number:>{number_width}}  {_fit(name, name_width)}{right}".rstrip()

    lines = [line("#", "feed", [title for title, _ in columns])]
    for row in rows:
        lines.append(line(
            str(row["number"]),
            row["name"],
            [
                "FAILING" if row["failing"] else row["status"],
                "" if row["entries"] is None else str(row["entries"]),
                str(row["new_entries"]),
                last_success[row["url"]],
                str(row["consecutive_failures"]),
            ],
        ))
        if row["message"]:
            lines.append(fit_line(f"{' ' * (number_width + 2)}{strip_control_chars(row['message'])}", width))
    return lines


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
    require_known_themes(config, themes)
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
    titles = stored_titles(config)
    chosen = [
        feed.model_copy(update={"name": feed_label(feed, titles)} if feed.url in titles else {})
        for feed in config.feeds
        if feed.enabled or include_disabled
    ]
    data = write_opml(chosen, title=next(iter(config.editions.values())).title)
    if str(output) == "-":
        click.echo(data, nl=False)
    else:
        output.write_bytes(data)
        click.echo(f"Wrote {len(chosen)} feeds to {output}")

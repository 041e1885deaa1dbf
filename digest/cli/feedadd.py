"""`digest feeds add URL`: fetch once, find the feed (a page's advertised ones too), name it, add it.

The feed's own title is stored as its ``name`` (unless --name is given), so
`feeds list`, editions, OPML and `feeds remove NAME` all call it the same.
Given a web page rather than a feed, the page's advertised feeds (and the
usual /feed, /rss.xml… paths) are fetched and listed; the one chosen with
--pick N, or the only one, is added.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from pydantic import ValidationError

from digest.cli import configedit
from digest.cli.common import (
    CONFIG_OPTION,
    JSON_OPTION,
    DigestCommand,
    ExitCode,
    json_document,
    say,
)
from digest.config import Config, FeedConfig, load_config
from digest.errors import ConfigError, FetchError
from digest.sources.discover import (
    Candidate,
    advertised_feeds,
    looks_like_html,
    usual_paths,
)
from digest.sources.feeds import ParsedFeed, parse_feed
from digest.sources.fetch import Fetched, Fetcher
from digest.sources.html import collapse
from digest.sources.progress import fetch_progress
from digest.sources.sanitize import strip_control_chars
from digest.sources.urls import canonical_url


@dataclass(frozen=True)
class FoundFeed:
    url: str
    title: str | None
    entries: int
    problem: str | None = None

    def as_json(self, number: int) -> dict[str, Any]:
        return {"number": number, "url": self.url, "title": self.title, "entries": self.entries}


def _parsed(fetched: Fetched, config: Config) -> ParsedFeed:
    return parse_feed(
        fetched.body, url=fetched.url, content_type=fetched.content_type, max_bytes=config.fetch.max_bytes
    )


def _found(url: str, parsed: ParsedFeed) -> FoundFeed:
    title = collapse(parsed.title) if parsed.title else None
    return FoundFeed(url, title or None, len(parsed.entries), parsed.problem)


def find_feeds(config: Config, url: str) -> list[FoundFeed]:
    """The feed at ``url``, or the feeds the page at ``url`` leads to. Raises FetchError."""
    slow_after = config.fetch.slow_after
    with Fetcher(config.fetch) as fetcher:
        with fetch_progress(1, slow_after=slow_after, label="Fetching") as shown:
            shown.started(url)
            try:
                fetched = fetcher.fetch(url)
            finally:
                shown.finished(url)
        try:
            return [_found(url, _parsed(fetched, config))]
        except FetchError:
            if not looks_like_html(fetched.body, fetched.content_type):
                raise
        candidates = advertised_feeds(fetched.body, fetched.url)
        if not candidates:
            candidates = usual_paths(fetched.url, {url, fetched.url})
        found: list[FoundFeed] = []
        with fetch_progress(len(candidates), slow_after=slow_after, label="Looking for feeds") as shown:
            for candidate in candidates:
                shown.started(candidate.url)
                try:
                    found.append(_checked(fetcher, candidate, config))
                except FetchError as exc:
                    if candidate.advertised:
                        click.echo(f"warning: the page's feed {candidate.url}: {exc}", err=True)
                finally:
                    shown.finished(candidate.url)
    if not found:
        if any(c.advertised for c in candidates):
            raise FetchError("a web page whose advertised feeds could not be read (see the warnings above)")
        paths = [urlsplit(c.url).path for c in candidates]
        raise FetchError(
            f"a web page, not a feed; it advertises no feed (<link rel=\"alternate\">) and none answers at "
            f"{', '.join(paths[:-1])} or {paths[-1]}; give the feed's own URL"
        )
    return found


def _checked(fetcher: Fetcher, candidate: Candidate, config: Config) -> FoundFeed:
    fetched = fetcher.fetch(candidate.url)
    found = _found(fetched.url if fetched.url != candidate.url else candidate.url, _parsed(fetched, config))
    return found if found.title or not candidate.title else FoundFeed(
        found.url, candidate.title, found.entries, found.problem
    )


def _choose(found: list[FoundFeed], pick: int | None, as_json: bool) -> FoundFeed:
    if pick is not None:
        if not 1 <= pick <= len(found):
            raise click.BadParameter(f"the page offers {len(found)} feed(s); choose 1 to {len(found)}", param_hint="--pick")
        return found[pick - 1]
    if len(found) == 1:
        return found[0]
    summary = f"this page offers {len(found)} feeds: add one with --pick N"
    if as_json:
        click.echo(json_document(
            "feeds add", summary=summary, exit_code=ExitCode.USAGE,
            candidates=[f.as_json(i) for i, f in enumerate(found, start=1)],
        ))
    else:
        for i, feed in enumerate(found, start=1):
            title = strip_control_chars(feed.title or "(untitled)")
            click.echo(f"{i:>3}  {title} ({feed.entries} entries)  {feed.url}")
        click.echo(summary)
    raise click.exceptions.Exit(ExitCode.USAGE)


def listed_at(config: Config, url: str) -> int | None:
    """Index of the configured feed at ``url`` (compared as canonical URLs), if any."""
    wanted = canonical_url(url)
    return next((i for i, f in enumerate(config.feeds) if canonical_url(f.url) == wanted), None)


def require_known_themes(config: Config, themes: Sequence[str]) -> None:
    unknown = [t for t in themes if t not in config.themes]
    if unknown:
        known = ", ".join(config.themes)
        raise ConfigError(f"unknown theme {unknown[0]!r} (configured: {known})")


@click.command("add", cls=DigestCommand)
@CONFIG_OPTION
@click.argument("url")
@click.option("--name", help="Name shown as the source (default: the feed's own title).")
@click.option("--pick", type=click.IntRange(min=1), help="Given a page that offers several feeds: add feed N of its list.")
@click.option("--theme", "themes", multiple=True, help="Theme hint (a theme key); repeatable.")
@click.option("--include", multiple=True, help="Only entries matching this regular expression; repeatable.")
@click.option("--exclude", multiple=True, help="Leave out entries matching this regular expression; repeatable.")
@click.option("--no-check", is_flag=True, help="Add without fetching the feed once first (its name comes later).")
@JSON_OPTION
def add(
    config_path: Path,
    url: str,
    name: str | None,
    pick: int | None,
    themes: tuple[str, ...],
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    no_check: bool,
    as_json: bool,
) -> None:
    """Add the feed at URL (or the feed a web page at URL advertises) to schedule.yaml.

    The feed is fetched once to show what it holds and to store its title as
    its name. Given a web page, its feeds are listed: the only one is added,
    or the one chosen with --pick N.
    """
    config = load_config(config_path)
    feed = _feed_config(url.strip(), name, themes, include, exclude)
    require_known_themes(config, feed.themes)
    found: FoundFeed | None = None
    if not no_check:
        _refuse_listed(config, feed.url)
        try:
            found = _choose(find_feeds(config, feed.url), pick, as_json)
        except FetchError as exc:
            raise FetchError(f"{feed.url}: {exc} (add it anyway with --no-check)") from None
        feed = feed.model_copy(update={"url": found.url, "name": name or found.title})
    _refuse_listed(config, feed.url)
    configedit.add_feeds(config_path, [feed.model_dump(exclude_defaults=True)])
    number = len(config.feeds) + 1
    shown_name = f" \"{strip_control_chars(feed.name)}\"" if feed.name else ""
    held = f" ({found.entries} entries)" if found else ""
    summary = f"Added feed #{number}{shown_name}{held} to {config_path}: {feed.url}"
    if found and found.problem:
        click.echo(f"warning: {strip_control_chars(found.problem)}", err=True)
    if as_json:
        row = {"number": number, **feed.model_dump(), "entries": found.entries if found else None}
        warnings = [found.problem] if found and found.problem else []
        click.echo(json_document("feeds add", summary=summary, warnings=warnings, feed=row))
        return
    if found and found.url != url.strip():
        say(f"found the feed {found.url} on {url.strip()}")
    click.echo(summary)


def _feed_config(
    url: str, name: str | None, themes: tuple[str, ...], include: tuple[str, ...], exclude: tuple[str, ...]
) -> FeedConfig:
    try:
        return FeedConfig(url=url, name=name, themes=list(themes), include=list(include), exclude=list(exclude))
    except ValidationError as exc:
        problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise ConfigError(f"cannot add {url!r}: {problems}") from None


def _refuse_listed(config: Config, url: str) -> None:
    already = listed_at(config, url)
    if already is not None:
        raise ConfigError(f"{url} is already listed (feed #{already + 1})")

"""RSS and Atom feeds as Documents.

Feeds are fetched (concurrently, politely: see digest.sources.fetch), parsed
(digest.sources.feeds) from the fetched bytes, and remembered in the store
(digest.sources.feedstore) with the time digest first saw each entry. An
edition then takes the entries of its window from the store, so a feed that
answers 304 still contributes what it carried earlier.

A feed that fails is reported in one line and never stops the others.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any, Literal

from digest.config import Config, FeedConfig, FetchConfig
from digest.errors import FetchError
from digest.models import PUBLISHER_NOT_NAMED, Document, FeedOutcome, FeedStatus, SourceRef
from digest.sources import feedstore
from digest.sources.feeds import ParsedFeed, parse_feed
from digest.sources.feedstore import FeedState, StoredEntry, Window
from digest.sources.fetch import Fetched, Fetcher
from digest.sources.html import collapse
from digest.sources.progress import SILENT, FetchProgress, fetch_progress, host_of
from digest.sources.sanitize import WEB_SCHEMES, clean_title, safe_url, visible_text
from digest.speed import parallel


@dataclass(frozen=True)
class FeedHarvest:
    documents: tuple[Document, ...]
    warnings: tuple[str, ...]
    feeds: tuple[FeedOutcome, ...] = ()
    """Each enabled feed: fetched or not, and how many of the documents are its."""


@dataclass(frozen=True)
class FeedCheck:
    """How one feed's fetch went, for `digest feeds check` and the build summary."""

    url: str
    status: Literal["ok", "not-modified", "error"]
    state: FeedState
    """The feed's stored state after this fetch."""
    entries: int | None = None
    """Entries in the feed as fetched now (None on a 304 or an error)."""
    new_entries: int = 0
    message: str | None = None
    """The error, or what was wrong with a feed whose entries were kept (on a 304: when it was last read, for
    the feed has not changed since: the warning, and the build's exit status, stay until it parses cleanly)."""

    def warning(self, threshold: int) -> str | None:
        """One line for the build summary, or None when all went well."""
        if self.status == "error":
            streak = self.state.consecutive_failures
            tail = f"; failed {streak} times in a row" if streak >= threshold else ""
            return f"feed {self.url}: {self.message}{tail}"
        if self.message:
            return f"feed {self.url}: {self.message}"
        return None


@dataclass(frozen=True)
class _Outcome:
    fetched: Fetched | None = None
    parsed: ParsedFeed | None = None
    error: str | None = None


def _fetch_one(
    fetcher: Fetcher, url: str, state: FeedState, max_bytes: int, parse: Callable[..., ParsedFeed] = parse_feed,
    shown: FetchProgress = SILENT,
) -> _Outcome:
    shown.started(url)
    try:
        fetched = fetcher.fetch(url, state.validators)
        if fetched.not_modified:
            return _Outcome(fetched)
        parsed = parse(fetched.body, url=fetched.url, content_type=fetched.content_type, max_bytes=max_bytes)
    except FetchError as exc:
        return _Outcome(error=str(exc))
    except Exception as exc:  # noqa: BLE001 - one feed tripping a library bug must not stop the rest
        return _Outcome(error=f"unexpected error ({type(exc).__name__}: {collapse(str(exc))})")
    return _Outcome(fetched, parsed)


def _parse_in(processes: ProcessPoolExecutor, body: bytes, **options: Any) -> ParsedFeed:
    """parse_feed() in a worker process; this fetching thread waits without holding the GIL."""
    return processes.submit(_parse_for_store, body, **options).result()


def _parse_for_store(body: bytes, **options: Any) -> ParsedFeed:
    """parse_feed() without the entries' markup, which the store does not keep: less to send back."""
    parsed = parse_feed(body, **options)
    return replace(parsed, entries=tuple(replace(entry, html="") for entry in parsed.entries))


def _fetch_all(
    urls: Sequence[str],
    states: dict[str, FeedState],
    settings: FetchConfig,
    shown: FetchProgress,
    backoff: float,
    parallel_settings: parallel.ParallelSettings,
) -> Iterator[tuple[str, _Outcome]]:
    """Each feed's outcome, in the order of ``urls``, as soon as it and every feed before it are done.

    So the caller can record feeds while later ones are still being fetched,
    and only the feeds that finished out of order wait in memory.
    """
    waiting: dict[str, _Outcome] = {}
    next_url = iter(urls)
    expected = next(next_url, None)
    with ExitStack() as stack:
        parse: Callable[..., ParsedFeed] = parse_feed
        if workers := parallel.workers_for(len(urls), parallel_settings.feeds):
            parse = partial(_parse_in, stack.enter_context(parallel.worker_pool(workers)))
        fetcher = stack.enter_context(Fetcher(settings, backoff=backoff))
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="feed"))
        futures = {
            pool.submit(_fetch_one, fetcher, url, states[url], settings.max_bytes, parse, shown): url
            for url in urls
        }
        for future in as_completed(futures):
            # popped: a finished future holds its feed's bytes and entries until dropped
            url = futures.pop(future)
            waiting[url] = future.result()
            shown.finished(url)
            while expected in waiting:
                yield expected, waiting.pop(expected)
                expected = next(next_url, None)


def fetch_feeds(
    config: Config,
    conn: sqlite3.Connection,
    *,
    now: datetime,
    progress: bool | None = None,
    backoff: float = 1.0,
    parallel_settings: parallel.ParallelSettings = parallel.DEFAULT_PARALLEL,
) -> tuple[FeedCheck, ...]:
    """Fetch every enabled feed at once and record what came back; one FeedCheck per feed.

    Results are recorded in config order, so the store ends up the same
    whichever feed answers first.
    """
    feedstore.ensure_tables(conn)
    urls = list(dict.fromkeys(feed.url for feed in config.feeds if feed.enabled))
    states = feedstore.feed_states(conn, urls)
    names = {feed.url: _label(feed, states.get(feed.url)) for feed in config.feeds if feed.enabled}
    with fetch_progress(len(urls), names=names, slow_after=config.fetch.slow_after, show=progress) as shown:
        return tuple(
            _record(conn, url, outcome, now)
            for url, outcome in _fetch_all(urls, states, config.fetch, shown, backoff, parallel_settings)
        )


def _record(conn: sqlite3.Connection, url: str, outcome: _Outcome, now: datetime) -> FeedCheck:
    if outcome.error is not None or outcome.fetched is None:
        state = feedstore.record_failure(conn, url, at=now, error=outcome.error or "failed")
        return FeedCheck(url, "error", state, message=outcome.error)
    if outcome.parsed is None:
        state = feedstore.record_not_modified(
            conn, url, at=now, validators=outcome.fetched.validators
        )
        unchanged = f"{state.last_problem} (unchanged since it was read)" if state.last_problem else None
        return FeedCheck(url, "not-modified", state, message=unchanged)
    parsed = outcome.parsed
    new = feedstore.record_entries(conn, url, parsed.entries, now=now)
    state = feedstore.record_success(
        conn,
        url,
        at=now,
        validators=outcome.fetched.validators,
        title=parsed.title,
        entries=len(parsed.entries),
        problem=parsed.problem,
    )
    return FeedCheck(url, "ok", state, len(parsed.entries), new, parsed.problem)


def _stored_problem(state: FeedState, threshold: int) -> str | None:
    """An offline build's word on a feed, from what its last fetch left in the store: its failures once they
    reach the threshold, else what was wrong with it when last read (the entries it gives are those)."""
    if state.consecutive_failures >= threshold:
        return f"{state.last_error}; failed {state.consecutive_failures} times in a row"
    if state.last_problem:
        return f"{state.last_problem} (as it was last read; not fetched: --offline)"
    return None


def _compile(patterns: Sequence[str]) -> list[re.Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in patterns]


class _Filter:
    """A feed's include/exclude patterns (case-insensitive, on title or text)."""

    def __init__(self, feed: FeedConfig):
        self.include = _compile(feed.include)
        self.exclude = _compile(feed.exclude)

    def admits(self, entry: StoredEntry) -> bool:
        fields = (entry.title or "", entry.text)

        def hit(pattern: re.Pattern[str]) -> bool:
            return any(pattern.search(field) for field in fields)

        if self.include and not any(hit(p) for p in self.include):
            return False
        return not any(hit(p) for p in self.exclude)


def _label(feed: FeedConfig, state: FeedState | None) -> str:
    """How digest calls a feed to its user (progress, build summary): its name, its title, else its host."""
    return feed.name or (state.title if state else None) or host_of(feed.url)


def _source_name(feed: FeedConfig, state: FeedState | None) -> str:
    """The publisher: the name the config gives the feed, else the feed's own title.

    Never its URL: a story whose page names its site takes that name instead
    (digest.pipeline), and readers always get the story's link beside the name.
    """
    if feed.name:
        return feed.name
    if state and state.title:
        return state.title
    return PUBLISHER_NOT_NAMED


def _documents(
    entries: Sequence[StoredEntry], feeds: Sequence[FeedConfig], states: dict[str, FeedState]
) -> tuple[tuple[Document, ...], Counter[str]]:
    """The entries as Documents, and how many came from each feed URL (the first feed carrying each)."""
    filters = {id(feed): _Filter(feed) for feed in feeds}
    # the feeds (in config order) configured at each URL: an entry's carriers are found by its
    # feeds' URLs, not by going through every configured feed for every entry
    at_url: dict[str, list[FeedConfig]] = {}
    for feed in feeds:
        at_url.setdefault(feed.url, []).append(feed)
    order = {id(feed): position for position, feed in enumerate(feeds)}
    documents = []
    per_feed: Counter[str] = Counter()
    for entry in entries:
        carriers = sorted(
            (feed for url in set(entry.feeds) for feed in at_url.get(url, ()) if filters[id(feed)].admits(entry)),
            key=lambda feed: order[id(feed)],
        )
        if not carriers:
            continue
        first = carriers[0]
        per_feed[first.url] += 1
        hints = tuple(dict.fromkeys(theme for feed in carriers for theme in feed.themes))
        documents.append(
            Document(
                id=entry.key,
                text=visible_text(entry.text),
                title=clean_title(entry.title),
                source=SourceRef(
                    name=clean_title(_source_name(first, states.get(first.url))) or first.url,
                    url=safe_url(entry.link, schemes=WEB_SCHEMES),
                    published=entry.published,
                    document=entry.key,
                ),
                theme_hints=hints,
                link_lines=frozenset(visible_text(line) for line in entry.link_lines),
                full_text=first.full_text,
            )
        )
    return tuple(documents), per_feed


CHECK_STATUS = {"ok": FeedStatus.OK, "not-modified": FeedStatus.NOT_MODIFIED, "error": FeedStatus.FAILED}


def harvest(
    config: Config,
    conn: sqlite3.Connection,
    *,
    now: datetime,
    since: datetime | None,
    until: datetime | None,
    fetch: bool = True,
    progress: bool | None = None,
    window: Window = "first-seen",
    parallel_settings: parallel.ParallelSettings = parallel.DEFAULT_PARALLEL,
) -> FeedHarvest:
    """The feed entries of an edition's window, after fetching every enabled feed.

    ``window="first-seen"`` (a regular edition): entries first seen after
    ``since`` (the previous edition's end) up to ``until``.
    ``window="published"`` (a one-off edition of a period): entries
    published, else first seen, from ``since`` to ``until``.
    Never raises for one feed's failure: each failing feed is one warning.
    """
    feedstore.ensure_tables(conn)
    feeds = [feed for feed in config.feeds if feed.enabled]
    threshold = config.fetch.failure_threshold
    checked: dict[str, FeedCheck] = {}
    stored: dict[str, str] = {}
    if fetch:
        checks = fetch_feeds(config, conn, now=now, progress=progress, parallel_settings=parallel_settings)
        warnings = [w for check in checks if (w := check.warning(threshold)) is not None]
        states = {check.url: check.state for check in checks}
        checked = {check.url: check for check in checks}
    else:
        states = feedstore.feed_states(conn, (feed.url for feed in feeds))
        stored = {url: problem for url, state in states.items() if (problem := _stored_problem(state, threshold))}
        warnings = [f"feed {url}: {problem}" for url, problem in stored.items()]
    first_at: dict[str, FeedConfig] = {}
    for feed in feeds:
        first_at.setdefault(feed.url, feed)
    entries = feedstore.entries_in_window(
        conn, (feed.url for feed in feeds), since=since, until=until, window=window
    )
    documents, per_feed = _documents(entries, feeds, states)
    outcomes = tuple(
        FeedOutcome(
            feed.url,
            _label(feed, states.get(feed.url)),
            CHECK_STATUS[checked[feed.url].status] if feed.url in checked else FeedStatus.NOT_FETCHED,
            per_feed.get(feed.url, 0) if first_at[feed.url] is feed else 0,
            checked[feed.url].message if feed.url in checked else stored.get(feed.url),
        )
        for feed in feeds
    )
    return FeedHarvest(documents, tuple(warnings), outcomes)

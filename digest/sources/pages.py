"""Full text: the article pages that teaser feed entries link to, read politely and remembered.

Every request goes through digest.sources.fetch.Fetcher, as feeds do (its
timeouts, size cap, redirect limit and public-addresses-only redirects, its
per-host spacing and User-Agent), after the site's robots.txt has been read
(urllib.robotparser) and only if it allows the path. A build fetches at most
``pages.max_pages`` pages and starts none after ``pages.max_seconds``; a page
read before is reused from the store (digest.sources.pagestore) while fresh,
and asked for again only conditionally. Whatever goes wrong, the story keeps
its feed text and the reason (PageRefusal) is shown by ``--explain``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

from tld import get_fld

from digest.config import FetchConfig, PagesConfig
from digest.errors import FetchError, FetchFailure
from digest.models import PageRefusal, PageSource
from digest.sources import pagestore
from digest.sources.article import Article, extract, is_html
from digest.sources.fetch import Fetched, Fetcher, Validators
from digest.sources.progress import SILENT, FetchProgress
from digest.sources.urls import canonical_url

ROBOTS_AGENT = "digest"
"""The product token robots.txt rules are matched against (the User-Agent's first word)."""


@dataclass(frozen=True)
class PageRequest:
    document: str
    url: str
    feed_words: int
    """Words of the entry's own text: a page that says no more is not used."""


@dataclass(frozen=True)
class PageResult:
    document: str
    url: str
    source: PageSource
    article: Article | None = None
    refusal: PageRefusal | None = None
    detail: str | None = None
    """What the server or the fetcher said, when that explains the refusal."""


@dataclass
class _Network:
    """One build's fetching: the fetcher, robots.txt per site, and the budget left."""

    fetcher: Fetcher
    settings: PagesConfig
    started: float = field(default_factory=time.monotonic)
    fetched: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    robots: dict[str, RobotFileParser] = field(default_factory=dict)
    robots_locks: dict[str, threading.Lock] = field(default_factory=dict)
    robots_unread: dict[str, str] = field(default_factory=dict)
    """Per site whose robots.txt could not be read: why (then it disallows all, and a refusal says so)."""
    unreachable: dict[str, FetchError] = field(default_factory=dict)
    """Per site that could not be connected to (or timed out) when its robots.txt was asked for: a page
    there is refused for that, not in robots.txt's name."""

    def take_budget(self) -> bool:
        with self.lock:
            if self.fetched >= self.settings.max_pages:
                return False
            if time.monotonic() - self.started > self.settings.max_seconds:
                return False
            self.fetched += 1
            return True

    def robots_problem(self, url: str) -> str | None:
        """Why the site's robots.txt disallows everything, when it could not be read at all."""
        return self.robots_unread.get(_site(url))

    def connection_problem(self, url: str) -> FetchError | None:
        """Why the site could not be reached at all, when asking for its robots.txt found that."""
        return self.unreachable.get(_site(url))

    def allows(self, url: str) -> bool:
        """Whether the site's robots.txt lets digest fetch ``url`` (read once per site and build)."""
        site = _site(url)
        with self.lock:
            site_lock = self.robots_locks.setdefault(site, threading.Lock())
        with site_lock:
            if site not in self.robots:
                self.robots[site] = self._read_robots(site)
        return self.robots[site].can_fetch(ROBOTS_AGENT, url)

    def _read_robots(self, site: str) -> RobotFileParser:
        """RFC 9309: a robots.txt that is not there (4xx) allows all; one that cannot be read disallows all."""
        rules = RobotFileParser()
        try:
            fetched = self.fetcher.fetch(f"{site}/robots.txt")
        except FetchError as exc:
            if exc.kind is FetchFailure.STATUS and exc.status is not None and 400 <= exc.status < 500:
                rules.parse([])
            elif exc.kind in (FetchFailure.UNREACHABLE, FetchFailure.TIMEOUT):
                rules.parse(["User-agent: *", "Disallow: /"])
                self.unreachable[site] = exc
            else:
                rules.parse(["User-agent: *", "Disallow: /"])
                self.robots_unread[site] = f"its robots.txt could not be read, which counts as disallowing all: {exc}"
            return rules
        rules.parse(fetched.body.decode("utf-8", "replace").splitlines())
        return rules


def read_pages(
    conn: sqlite3.Connection | None,
    requests: Sequence[PageRequest],
    *,
    fetch: FetchConfig,
    settings: PagesConfig,
    now: datetime,
    network: bool,
    progress: FetchProgress = SILENT,
) -> list[PageResult]:
    """Each request's page, in order: from the store while fresh, else fetched within the budget
    (``progress`` is told as each fetch starts and ends)."""
    if conn is not None:
        pagestore.ensure_tables(conn)
    stored = {r.url: _stored(conn, r.url) for r in requests}
    results: dict[int, PageResult] = {}
    to_fetch: list[int] = []
    for position, request in enumerate(requests):
        page = stored[request.url]
        if page is not None and (not network or now - page.fetched_at < settings.fresh_for):
            results[position] = _reuse(request, page)
        elif not network:
            results[position] = PageResult(request.document, request.url, PageSource.REFUSED,
                                           refusal=PageRefusal.OFFLINE)
        else:
            to_fetch.append(position)
    if to_fetch:
        with Fetcher(fetch) as fetcher, ThreadPoolExecutor(fetch.concurrency, thread_name_prefix="page") as pool:
            state = _Network(fetcher, settings)
            outcomes = pool.map(lambda p: _fetch_shown(state, requests[p], stored[requests[p].url], progress), to_fetch)
            for position, (result, record) in zip(to_fetch, outcomes, strict=True):
                results[position] = result
                if conn is not None and record is not None:
                    record(conn, now)
    return [results[position] for position in range(len(requests))]


def _stored(conn: sqlite3.Connection | None, url: str) -> pagestore.StoredPage | None:
    return pagestore.stored_page(conn, canonical_url(url)) if conn is not None else None


def _reuse(request: PageRequest, page: pagestore.StoredPage) -> PageResult:
    if page.article is None:
        return PageResult(request.document, request.url, PageSource.REFUSED, refusal=page.refusal, detail=page.detail)
    return _usable(request, page.article, PageSource.REUSED)


def _usable(request: PageRequest, article: Article, source: PageSource) -> PageResult:
    """The page's article, unless it says no more than the feed did."""
    if article.words <= request.feed_words:
        return PageResult(request.document, request.url, PageSource.REFUSED, refusal=PageRefusal.SHORTER)
    return PageResult(request.document, request.url, source, article=article)


@dataclass(frozen=True)
class _Record:
    """What to remember of a fetch, written by the thread that owns the store connection."""

    url: str
    article: Article | None = None
    refusal: PageRefusal | None = None
    detail: str | None = None
    validators: Validators = Validators()
    unchanged: bool = False
    """A 304: the stored page still stands."""

    def __call__(self, conn: sqlite3.Connection, now: datetime) -> None:
        if self.unchanged:
            pagestore.touch_page(conn, self.url, now)
        else:
            pagestore.record_page(conn, self.url, at=now, article=self.article, refusal=self.refusal,
                                  detail=self.detail, validators=self.validators)


_Outcome = tuple[PageResult, _Record | None]


def _refused(request: PageRequest, refusal: PageRefusal, detail: str | None = None, remember: bool = True) -> _Outcome:
    result = PageResult(request.document, request.url, PageSource.REFUSED, refusal=refusal, detail=detail)
    return result, (_Record(canonical_url(request.url), None, refusal, detail) if remember else None)


def _fetch_shown(
    state: _Network, request: PageRequest, page: pagestore.StoredPage | None, progress: FetchProgress
) -> _Outcome:
    progress.started(request.url)
    try:
        return _fetch(state, request, page)
    finally:
        progress.finished(request.url)


def _fetch(state: _Network, request: PageRequest, page: pagestore.StoredPage | None) -> _Outcome:
    if not state.take_budget():
        return _refused(request, PageRefusal.BUDGET, remember=False)
    if not state.allows(request.url):
        unreachable = state.connection_problem(request.url)
        if unreachable is not None:
            return _refused(request, _refusal(unreachable), unreachable.detail)
        return _refused(request, PageRefusal.DISALLOWED, state.robots_problem(request.url))
    try:
        fetched = state.fetcher.fetch(request.url, page.validators if page is not None else Validators())
    except FetchError as exc:
        return _refused(request, _refusal(exc), exc.detail)
    if fetched.not_modified and page is not None:
        return _reuse(request, page), _Record(page.url, unchanged=True)
    return _read(request, fetched)


def _read(request: PageRequest, fetched: Fetched) -> _Outcome:
    if not is_html(fetched.content_type):
        return _refused(request, PageRefusal.NOT_HTML, f"content type {fetched.content_type}")
    if not same_site(request.url, fetched.url):
        return _refused(request, PageRefusal.OFF_SITE, f"to {fetched.url}")
    article = extract(fetched.body, fetched.url)
    if isinstance(article, PageRefusal):
        return _refused(request, article)
    record = _Record(canonical_url(request.url), article, validators=fetched.validators)
    return _usable(request, article, PageSource.FETCHED), record


def _refusal(exc: FetchError) -> PageRefusal:
    if exc.kind is FetchFailure.STATUS:
        if exc.status in (401, 403):
            return PageRefusal.FORBIDDEN
        if exc.status == 402:
            return PageRefusal.PAYWALL
        if exc.status in (404, 410):
            return PageRefusal.NOT_FOUND
    return {
        FetchFailure.TIMEOUT: PageRefusal.TIMEOUT,
        FetchFailure.UNREACHABLE: PageRefusal.UNREACHABLE,
        FetchFailure.TOO_LARGE: PageRefusal.TOO_LARGE,
        FetchFailure.CONTENT_TYPE: PageRefusal.NOT_HTML,
        FetchFailure.ADDRESS_REFUSED: PageRefusal.OFF_SITE,
    }.get(exc.kind, PageRefusal.FAILED)


def _site(url: str) -> str:
    """'https://example.org': the scheme and host (and port) a robots.txt speaks for."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def same_site(link: str, landed: str) -> bool:
    """Whether a page came from the site its link named: the same registered domain
    (www.cnn.com and edition.cnn.com are one site), or for a host without one, the same host."""
    first, second = (get_fld(url, fail_silently=True) for url in (link, landed))
    if first is not None or second is not None:
        return first == second
    return urlsplit(link).hostname == urlsplit(landed).hostname

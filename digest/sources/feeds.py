"""RSS and Atom feeds as Documents.

Feeds are fetched (concurrently, politely: see digest.sources.fetch), parsed by
feedparser from the fetched bytes, turned into plain text with lxml, and
remembered in the store (digest.sources.feedstore) with the time digest first saw
each entry. An edition then takes the entries of its window from the store,
so a feed that answers 304 still contributes what it carried earlier.

A feed that fails is reported in one line and never stops the others.
"""

from __future__ import annotations

import hashlib
import io
import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import feedparser
import nh3
from lxml import etree
from lxml import html as lxml_html

from digest.config import Config, FeedConfig, FetchConfig
from digest.errors import FetchError
from digest.models import PUBLISHER_NOT_NAMED, Document, FeedOutcome, FeedStatus, SourceRef
from digest.sources import feedstore, media_captions
from digest.sources.feedstore import FeedState, StoredEntry, Window
from digest.sources.fetch import Fetched, Fetcher, gunzip_if_gzipped
from digest.sources.progress import SILENT, FetchProgress, fetch_progress, host_of
from digest.sources.sanitize import WEB_SCHEMES, clean_title, safe_url, strip_control_chars, visible_text
from digest.speed import feedparser_fix, parallel

BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "caption", "center", "dd", "details", "dialog",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4",
        "h5", "h6", "header", "hgroup", "hr", "li", "main", "nav", "ol", "p", "pre", "section",
        "summary", "table", "tr", "ul",
    }
)  # fmt: skip
"""Elements that start and end a paragraph of their own."""

CELL_TAGS = frozenset({"td", "th"})
LIST_TAGS = frozenset({"ul", "ol", "menu"})

DROPPED_TAGS = frozenset(
    {
        "script", "style", "noscript", "template", "iframe", "frame", "frameset", "object",
        "applet", "svg", "math", "head", "title", "form", "button", "select",
        "textarea", "audio", "video", "canvas", "map",
    }
)  # fmt: skip
"""Elements whose content is code or controls, never article text.

(Not <embed>: it is void, but libxml2 nests whatever follows it inside it.)
"""

FLAT_TAGS = frozenset({"p", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"})
"""Paragraph boundaries kept when over-deep markup is flattened."""

HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d]*[1-9])|"
    r"opacity\s*:\s*0(?![.\d]*[1-9])",
    re.IGNORECASE,
)
"""Inline styles that hide text from readers: hidden text must not reach a summary."""

TRACKING_PARAMS = re.compile(
    r"^(utm_\w*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|igshid|"
    r"yclid|twclid|ncid|cmp)$",
    re.IGNORECASE,
)
TAG_LIKE = re.compile(r"<[a-zA-Z!/][^>]*>")
HAS_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:\S", re.IGNORECASE)
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
DEFAULT_PORTS = {"http": 80, "https": 443}
SAX_POSITION = re.compile(r"^<unknown>:(\d+):(\d+):")

HARMLESS_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
"""feedparser notes that change nothing for readers: a wrong charset or content-type header."""


@dataclass(frozen=True)
class FeedEntry:
    """One parsed entry, before the store."""

    key: str
    title: str | None
    text: str
    link: str | None
    published: datetime | None
    html: str
    """The entry's own markup, untouched: pass it through digest.sources.sanitize before showing it."""
    link_lines: tuple[str, ...] = ()
    """Paragraphs of ``text`` that are links rather than text (Paragraphs.link_lines)."""


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    entries: tuple[FeedEntry, ...]
    problem: str | None = None
    """Why feedparser found the feed malformed, when its entries were kept anyway."""


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
    """The error, or what was wrong with a feed whose entries were kept."""

    def warning(self, threshold: int) -> str | None:
        """One line for the build summary, or None when all went well."""
        if self.status == "error":
            streak = self.state.consecutive_failures
            tail = f"; failed {streak} times in a row" if streak >= threshold else ""
            return f"feed {self.url}: {self.message}{tail}"
        if self.message:
            return f"feed {self.url}: {self.message}"
        return None


# --- text ---------------------------------------------------------------------------


def collapse(text: str) -> str:
    """One line: runs of whitespace (as str.split sees it, the same set as \\s) become one space."""
    return " ".join(strip_control_chars(text).split())


def html_to_text(markup: str) -> str:
    """Readable text of an HTML fragment: one paragraph per line, a blank line between.

    Script, style, embeds and text hidden by inline CSS are dropped; block
    elements and <br> end a paragraph.
    """
    return html_to_paragraphs(markup).text


@dataclass(frozen=True)
class Paragraphs:
    text: str
    """The paragraphs, a blank line between."""
    link_lines: tuple[str, ...] = ()
    """Those that are links rather than text: the items of a list of links (LINK_LIST_SHARE), and
    paragraphs whose every word is link text. Navigation, promotions ("Sign up for our morning
    email") and related headlines, left in the text for the cleaner to drop with its reason."""


LINK_LIST_SHARE = 0.5
"""A list is a list of links when at least this share of every item's words is link text (the link
density of boilerplate detectors such as jusText): a newsletter promotion, "live updates" and
related-headline links in a feed entry; a list of points the story makes has little or none."""


def html_to_paragraphs(markup: str) -> Paragraphs:
    """html_to_text(), telling which paragraphs are links rather than text."""
    if not markup.strip():
        return Paragraphs("")
    root, too_deep = _parse_html(markup)
    if too_deep:
        # libxml2 gives up below 2048 nested elements, html5ever (inside nh3) does
        # not: flatten such markup to paragraphs first rather than lose its text.
        flat = nh3.clean(
            markup, tags=set(FLAT_TAGS), clean_content_tags=set(DROPPED_TAGS), attributes={}
        )
        root, _ = _parse_html(flat)
    if root is None:
        return Paragraphs("")
    paragraphs: list[str] = []
    link_lines: list[str] = []
    pending: list[str] = []
    pending_links: list[str] = []
    """The parts of ``pending`` that are link text."""
    in_links = 0
    link_list: Any = None
    """The list of links being read, if any."""

    def add(text: str) -> None:
        pending.append(text)
        if in_links:
            pending_links.append(text)

    def end_paragraph() -> None:
        paragraph = collapse("".join(pending))
        if paragraph:
            paragraphs.append(paragraph)
            if link_list is not None or len(paragraph.split()) == len("".join(pending_links).split()):
                link_lines.append(paragraph)
        pending.clear()
        pending_links.clear()

    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in DROPPED_TAGS or _hidden(element):
                walker.skip_subtree()
                continue
            if tag in BLOCK_TAGS or tag == "br":
                end_paragraph()
            if tag in LIST_TAGS and link_list is None and _is_link_list(element):
                link_list = element
            in_links += tag == "a"
            if element.text:
                add(element.text)
        else:
            if tag in BLOCK_TAGS:
                end_paragraph()
            elif tag in CELL_TAGS:
                pending.append(" ")
            if element is link_list:
                link_list = None
            in_links -= tag == "a"
            if element.tail and element is not root:
                add(element.tail)
    end_paragraph()
    return Paragraphs("\n\n".join(paragraphs), tuple(link_lines))


def _is_link_list(element: Any) -> bool:
    items = [child for child in element if isinstance(child.tag, str) and child.tag.lower() == "li"]
    return bool(items) and all(_link_share(item) >= LINK_LIST_SHARE for item in items)


def _link_share(element: Any) -> float:
    """The share of the element's words that are the text of its links (0 for an element without words)."""
    words = len(element.text_content().split())
    if not words:
        return 0.0
    return sum(len(link.text_content().split()) for link in element.iter("a")) / words


def _parse_html(markup: str) -> tuple[Any, bool]:
    """The parsed document (None if there is none) and whether it nested too deep to read whole."""
    parser = lxml_html.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True, huge_tree=True
    )
    try:
        root = lxml_html.document_fromstring(markup.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, ValueError):
        return None, False
    too_deep = any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log)
    return root, too_deep


def _hidden(element: Any) -> bool:
    if element.get("hidden") is not None or element.get("aria-hidden", "").lower() == "true":
        return True
    return bool(HIDDEN_STYLE.search(element.get("style", "")))


def plain_text(text: str) -> str:
    """Plain text (Atom type="text"): its blank lines are the paragraph breaks."""
    paragraphs = (collapse(p) for p in PARAGRAPH_BREAK.split(text))
    return "\n\n".join(p for p in paragraphs if p)


def _detail_paragraphs(value: str, content_type: str | None) -> Paragraphs:
    if content_type in ("text/html", "application/xhtml+xml"):
        return html_to_paragraphs(value)
    return Paragraphs(plain_text(value))


# --- keys and links -----------------------------------------------------------------


def _without_tracking(query: str) -> str:
    kept = [p for p in query.split("&") if p and not TRACKING_PARAMS.match(p.split("=", 1)[0])]
    return "&".join(kept)


def strip_tracking(url: str) -> str:
    """The same link without tracking parameters (utm_*, fbclid, …)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=_without_tracking(parts.query)))


def canonical_url(url: str) -> str:
    """One spelling per page: lower-case scheme and host, no default port, no fragment, no tracking."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", _without_tracking(parts.query), ""))


def entry_key(guid: str | None, link: str | None, feed_url: str, title: str | None, text: str) -> str:
    """The identity of an entry across fetches and feeds.

    The GUID when there is one (an opaque GUID such as "123" is only unique
    within its feed, so it is scoped by the feed's URL), else the canonical
    link, else a hash of the content.
    """
    guid = collapse(guid or "")
    if guid:
        if safe_url(guid):
            return canonical_url(guid)
        if HAS_SCHEME.match(guid):
            return guid
        return f"{canonical_url(feed_url)}#guid={guid}"
    if link:
        return canonical_url(link)
    digest = hashlib.sha256(f"{title or ''}\n{text}".encode()).hexdigest()
    return f"sha256:{digest[:32]}"


# --- parsing ------------------------------------------------------------------------


def _published(entry: Any) -> datetime | None:
    for field in ("published_parsed", "updated_parsed", "created_parsed"):
        stamp = entry.get(field)
        if stamp:
            try:
                year, month, day, hour, minute, second = stamp[:6]
                return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
            except (TypeError, ValueError, OverflowError):
                continue
    return None


def _body(entry: Any) -> tuple[str, Paragraphs]:
    """The fullest text the entry carries: its markup, and its paragraphs."""
    candidates = [*entry.get("content", ()), entry.get("summary_detail")]
    best = max(
        (c for c in candidates if c and c.get("value")),
        key=lambda c: len(c["value"]),
        default=None,
    )
    if best is None:
        return "", Paragraphs("")
    return best["value"], _detail_paragraphs(best["value"], best.get("type"))


def _title(detail: Any, fallback: str | None, untyped: bool) -> str | None:
    """A title as one line of text.

    RSS titles declare no type and feedparser only guesses: in an ``untyped``
    (non-Atom) feed, a title with anything tag-like in it is read as HTML,
    so markup never reaches a reader as literal text.
    """
    value = detail.get("value") if detail else fallback
    if not value:
        return None
    content_type = detail.get("type") if detail else None
    if untyped and TAG_LIKE.search(value):
        content_type = "text/html"
    return collapse(_detail_paragraphs(value, content_type).text.replace("\n\n", " ")) or None


def parse_feed(
    data: bytes, *, url: str, content_type: str | None = None, max_bytes: int = 10 * 1024 * 1024
) -> ParsedFeed:
    """Parse fetched bytes (never a URL: feedparser must not fetch anything itself).

    Raises FetchError, naming what is wrong, when the bytes are not a feed.
    A malformed feed that still yields entries is kept, with ``problem`` set.
    """
    feedparser_fix.install()
    media_captions.install()
    data = gunzip_if_gzipped(data, max_bytes)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    result = feedparser.parse(
        io.BytesIO(data), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    problem = _bozo_problem(result)
    if not result.entries and not result.get("version"):
        media = (content_type or "").split(";")[0].strip()
        reasons = [f"content type {media}"] if media else []
        reasons += [problem] if problem else []
        hint = f" ({'; '.join(reasons)})" if reasons else ""
        raise FetchError(f"not an RSS or Atom feed{hint}")
    base = result.get("href") or url
    untyped = not str(result.get("version", "")).startswith("atom")
    entries = tuple(
        parsed
        for parsed in (_entry(raw, base, untyped) for raw in result.entries)
        if parsed is not None
    )
    feed = result.get("feed", {})
    title = _title(feed.get("title_detail"), feed.get("title"), untyped)
    kept = f"malformed feed ({problem}); {len(entries)} entries kept" if problem else None
    return ParsedFeed(title, entries, kept)


def _bozo_problem(result: Any) -> str | None:
    if not result.get("bozo"):
        return None
    exception = result.get("bozo_exception")
    if isinstance(exception, HARMLESS_BOZO):
        return None
    text = SAX_POSITION.sub(r"line \1, column \2:", collapse(str(exception))) if exception else ""
    return text or (type(exception).__name__ if exception else "malformed")


def _entry(raw: Any, feed_url: str, untyped: bool) -> FeedEntry | None:
    markup, body = _body(raw)
    title = _title(raw.get("title_detail"), raw.get("title"), untyped)
    if not title and not body.text:
        return None
    link = safe_url(raw.get("link"), feed_url)
    link = strip_tracking(link) if link else None
    return FeedEntry(
        key=entry_key(raw.get("id"), link, feed_url, title, body.text),
        title=title,
        text=body.text,
        link=link,
        published=_published(raw),
        html=markup,
        link_lines=body.link_lines,
    )


# --- fetching -----------------------------------------------------------------------


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
        return FeedCheck(url, "not-modified", state)
    parsed = outcome.parsed
    new = feedstore.record_entries(conn, url, parsed.entries, now=now)
    state = feedstore.record_success(
        conn,
        url,
        at=now,
        validators=outcome.fetched.validators,
        title=parsed.title,
        entries=len(parsed.entries),
    )
    return FeedCheck(url, "ok", state, len(parsed.entries), new, parsed.problem)


# --- harvest ------------------------------------------------------------------------


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
    if fetch:
        checks = fetch_feeds(config, conn, now=now, progress=progress, parallel_settings=parallel_settings)
        warnings = [w for check in checks if (w := check.warning(threshold)) is not None]
        states = {check.url: check.state for check in checks}
        checked = {check.url: check for check in checks}
    else:
        states = feedstore.feed_states(conn, (feed.url for feed in feeds))
        warnings = [
            f"feed {state.url}: {state.last_error}; failed {state.consecutive_failures} times in a row"
            for state in states.values()
            if state.consecutive_failures >= threshold
        ]
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
            checked[feed.url].message if feed.url in checked else None,
        )
        for feed in feeds
    )
    return FeedHarvest(documents, tuple(warnings), outcomes)

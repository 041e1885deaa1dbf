"""feedparser as an adapter: fetched bytes in, ParsedFeed (FeedEntry with plain text) out.

feedparser never fetches anything itself; its HTML becomes text through
digest.sources.html and its links get their identity from digest.sources.urls.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser

from digest.errors import FetchError
from digest.sources import media_captions
from digest.sources.fetch import gunzip_if_gzipped
from digest.sources.html import Paragraphs, collapse, html_to_paragraphs, plain_text
from digest.sources.sanitize import safe_url
from digest.sources.urls import entry_key, strip_tracking
from digest.speed import feedparser_fix

TAG_LIKE = re.compile(r"<[a-zA-Z!/][^>]*>")
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


def _detail_paragraphs(value: str, content_type: str | None) -> Paragraphs:
    if content_type in ("text/html", "application/xhtml+xml"):
        return html_to_paragraphs(value)
    return Paragraphs(plain_text(value))


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

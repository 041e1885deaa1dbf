"""The article in a web page: its text and what the page says about it.

Extraction is trafilatura's (measured against readability-lxml and jusText on
the 181 pages of shared/corpus/article_pages: bench/extract.py; the README
has the figures). Its text comes back one paragraph a line; digest's own
cleaner (digest.stages.clean) runs over those paragraphs afterwards, as over
any feed entry. Metadata (title, site name, author, date, canonical URL) is
trafilatura's reading of the page's meta tags, JSON-LD and markup.

Pure: bytes in, an Article or the reason there is none out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import trafilatura
from lxml import etree

from digest.models import PageRefusal
from digest.sources.sanitize import WEB_SCHEMES, safe_url, strip_control_chars

MIN_ARTICLE_WORDS = 40
"""A page whose extracted text is shorter than this is not an article (a gallery, an index, a video)."""
PAYWALL_MARKUP = re.compile(rb"[\"']isAccessibleForFree[\"']\s*(?::|content\s*=)\s*[\"']?false", re.IGNORECASE)
"""schema.org's paywall marker, in JSON-LD or microdata: Google's markup for subscription content."""
HTML_TYPES = ("text/html", "application/xhtml+xml")
BREAKS = frozenset({"p", "head", "item", "list", "quote", "lb", "row", "cell", "table", "code", "div"})
"""Elements of trafilatura's output tree that start and end a paragraph."""


@dataclass(frozen=True)
class Article:
    """What digest reads from a page."""

    url: str
    """The page's canonical URL when it names one, else the URL it was fetched from."""
    title: str | None
    site_name: str | None
    author: str | None
    published: date | None
    paragraphs: tuple[str, ...]
    language: str | None = None

    @property
    def words(self) -> int:
        return sum(len(p.split()) for p in self.paragraphs)


def is_html(content_type: str | None) -> bool:
    """Whether a Content-Type is a web page (a missing one is given the benefit of the doubt)."""
    media = (content_type or "").split(";")[0].strip().lower()
    return not media or media in HTML_TYPES


def extract(page: bytes | str, url: str) -> Article | PageRefusal:
    """The article in a page, or why there is none (NOT_ARTICLE, PAYWALL).

    Bytes are decoded by trafilatura (the declared charset, else detected).
    """
    found: Any = trafilatura.bare_extraction(
        page, url=url, with_metadata=True, include_comments=False, include_tables=False,
        include_images=False, deduplicate=False,
    )
    body = getattr(found, "body", None) if found is not None else None
    paragraphs = _paragraphs(body) if body is not None else ()
    words = sum(len(p.split()) for p in paragraphs)
    if words < MIN_ARTICLE_WORDS:
        markup = page if isinstance(page, bytes) else page.encode("utf-8", "replace")
        return PageRefusal.PAYWALL if PAYWALL_MARKUP.search(markup) else PageRefusal.NOT_ARTICLE
    site_name = _one_line(getattr(found, "sitename", None))
    return Article(
        url=safe_url(getattr(found, "url", None), url, schemes=WEB_SCHEMES) or url,
        title=_without_site_name(_one_line(getattr(found, "title", None)), site_name),
        site_name=site_name,
        author=_one_line(getattr(found, "author", None)),
        published=_date(getattr(found, "date", None)),
        paragraphs=paragraphs,
        language=getattr(found, "language", None),
    )


def _paragraphs(body: Any) -> tuple[str, ...]:
    """The article's paragraphs from trafilatura's tree: one per block (<p>, <head>, list <item>, …) or
    line break (<lb/>), whitespace collapsed, as in trafilatura's text output but for one thing. Not its text output, which keeps the page's own line
    wrapping inside paragraphs: a hard-wrapped paragraph would come out as lines the cleaner drops."""
    paragraphs: list[str] = []
    pending: list[str] = []

    def end_paragraph() -> None:
        paragraph = " ".join(strip_control_chars("".join(pending)).split())
        if paragraph and paragraph != "-":
            paragraphs.append(paragraph)
        pending.clear()

    for event, element in etree.iterwalk(body, events=("start", "end")):
        if event == "start":
            if element.tag in BREAKS:
                end_paragraph()
            if element.tag == "item":
                pending.append("- ")  # list items read as trafilatura writes them, "- " first
            if element.text:
                pending.append(element.text)
        else:
            if element.tag in BREAKS:
                end_paragraph()
            if element.tail and element is not body:
                pending.append(element.tail)
    end_paragraph()
    return tuple(paragraphs)


def _without_site_name(title: str | None, site_name: str | None) -> str | None:
    """A page title without the site name pages append to it ("… – TechCrunch", "… | Reuters")."""
    if not title or not site_name:
        return title
    suffix = re.compile(rf"\s+[-–—|:·•]\s+{re.escape(site_name)}$", re.IGNORECASE)
    return suffix.sub("", title) or title


def _one_line(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return " ".join(strip_control_chars(value).split()) or None


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value[:10], "%Y-%m-%d").replace(tzinfo=UTC).date()
    except ValueError:
        return None


def to_json(article: Article) -> dict[str, Any]:
    """The article as `digest read --json` prints it (and the store keeps it)."""
    return {
        "url": article.url,
        "title": article.title,
        "site_name": article.site_name,
        "author": article.author,
        "published": article.published.isoformat() if article.published else None,
        "language": article.language,
        "paragraphs": list(article.paragraphs),
    }


def from_json(data: str) -> Article:
    value = json.loads(data)
    published = value.get("published")
    return Article(
        url=value["url"], title=value.get("title"), site_name=value.get("site_name"),
        author=value.get("author"), published=date.fromisoformat(published) if published else None,
        paragraphs=tuple(value.get("paragraphs", ())), language=value.get("language"),
    )

"""Feed autodiscovery: the feeds a web page points to, for `digest feeds add PAGE`.

A page advertises its feeds with ``<link rel="alternate" type="application/rss+xml"
href="…">`` (or atom+xml) in its head, the convention browsers and feed readers
follow; many sites also serve a feed at a usual path (/feed, /rss.xml, …)
without advertising it. The candidates found here are only URLs: the caller
fetches each and keeps those that really are feeds.

No maintained library fits (feedfinder2 and its async fork were last released
in 2017 and fetch pages themselves, past digest's Fetcher and its limits);
lxml, which parses every feed entry already, reads the links.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html

from digest.sources.sanitize import WEB_SCHEMES, safe_url, strip_control_chars

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml"})
"""The ``type`` of a <link rel="alternate"> that names a feed feedparser reads."""

USUAL_PATHS = ("/feed", "/rss.xml", "/atom.xml", "/index.xml", "/feed.xml", "/rss")
"""Where sites commonly serve a feed they do not advertise (WordPress, Hugo, Jekyll, Ghost…)."""


@dataclass(frozen=True)
class Candidate:
    url: str
    title: str | None = None
    """The title the page gives the link, if any."""
    advertised: bool = True
    """False for a usual path tried on the off chance."""


def advertised_feeds(page: bytes, page_url: str) -> list[Candidate]:
    """The feeds a page's <link rel="alternate"> elements name, in page order, each once."""
    try:
        root = lxml_html.document_fromstring(page)
    except (etree.ParserError, ValueError):
        return []
    base = page_url
    for element in root.iter("base"):
        if href := element.get("href"):
            base = urljoin(page_url, href.strip())
            break
    found: dict[str, Candidate] = {}
    for link in root.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        href = (link.get("href") or "").strip()
        if "alternate" not in rels or kind not in FEED_TYPES or not href:
            continue
        url = safe_url(urljoin(base, href), schemes=WEB_SCHEMES)
        if url is None or url in found:
            continue
        title = " ".join(strip_control_chars(link.get("title") or "").split()) or None
        found[url] = Candidate(url, title)
    return list(found.values())


def usual_paths(page_url: str, known: set[str] | frozenset[str] = frozenset()) -> list[Candidate]:
    """The usual feed paths at the page's site, minus ``known`` URLs."""
    parts = urlsplit(page_url)
    root = f"{parts.scheme}://{parts.netloc}"
    urls = [root + path for path in USUAL_PATHS]
    return [Candidate(url, advertised=False) for url in urls if url not in known and url != page_url]


def looks_like_html(body: bytes, content_type: str | None) -> bool:
    """Whether a fetched answer is a web page (worth looking for feed links in)."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media in ("text/html", "application/xhtml+xml"):
        return True
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))

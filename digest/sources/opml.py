"""OPML, the file format feed readers use to move subscription lists around.

Reading takes every outline with an ``xmlUrl``, however deeply nested; the
texts of the outlines around it and its ``category`` attribute are kept as
labels, which `digest feeds import` matches against theme keys and titles.
Writing puts a feed's themes in ``category`` so a round trip keeps them.
The XML parser never loads DTDs, entities or anything from the network.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from digest.config import FeedConfig
from digest.errors import SourceError
from digest.sources.sanitize import WEB_SCHEMES, safe_url, strip_control_chars


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    name: str | None
    labels: tuple[str, ...]
    """Category labels: enclosing outlines' texts, then the ``category`` attribute's parts."""


@dataclass(frozen=True)
class OpmlList:
    title: str | None
    feeds: tuple[OpmlFeed, ...]
    skipped: tuple[str, ...]
    """One line per outline that had an xmlUrl digest cannot read."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )


def _attribute(element: etree._Element, name: str) -> str | None:
    """OPML attribute names are camelCase, but files in the wild vary the case."""
    for key, value in element.attrib.items():
        if str(key).lower() == name.lower():
            text = " ".join(strip_control_chars(str(value)).split())
            return text or None
    return None


def read_opml(data: bytes, source: str = "OPML") -> OpmlList:
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"{source}: not valid XML: {exc.msg}") from None
    if root is None or etree.QName(root).localname.lower() != "opml":
        raise SourceError(f"{source}: not an OPML file (its root element is not <opml>)")
    body = next((el for el in root if etree.QName(el).localname.lower() == "body"), None)
    if body is None:
        raise SourceError(f"{source}: not an OPML file (no <body>)")
    title_element = root.find("head/title")
    title = (
        " ".join(strip_control_chars(title_element.text or "").split()) or None
        if title_element is not None
        else None
    )
    feeds: list[OpmlFeed] = []
    skipped: list[str] = []
    _collect(body, (), feeds, skipped)
    return OpmlList(title, tuple(feeds), tuple(skipped))


def _collect(
    parent: etree._Element, labels: tuple[str, ...], feeds: list[OpmlFeed], skipped: list[str]
) -> None:
    for outline in parent:
        if not isinstance(outline.tag, str) or etree.QName(outline).localname.lower() != "outline":
            continue
        text = _attribute(outline, "title") or _attribute(outline, "text")
        raw_url = _attribute(outline, "xmlUrl")
        if raw_url is None:
            _collect(outline, labels + ((text,) if text else ()), feeds, skipped)
            continue
        url = safe_url(raw_url, schemes=WEB_SCHEMES)
        if url is None:
            skipped.append(f"{raw_url}: not an http(s) URL")
            continue
        categories = _attribute(outline, "category") or ""
        extra = tuple(
            part for piece in categories.split(",") for part in piece.split("/") if part.strip()
        )
        name = text if text not in (raw_url, url) else None
        feeds.append(OpmlFeed(url, name, labels + tuple(p.strip() for p in extra)))


def write_opml(feeds: Iterable[FeedConfig], title: str) -> bytes:
    """An OPML 2.0 document listing ``feeds`` (no dates in it: same feeds, same bytes)."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    body = etree.SubElement(root, "body")
    for feed in feeds:
        outline = etree.SubElement(body, "outline", type="rss")
        outline.set("text", feed.name or feed.url)
        if feed.name:
            outline.set("title", feed.name)
        outline.set("xmlUrl", feed.url)
        if feed.themes:
            outline.set("category", ",".join(feed.themes))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)

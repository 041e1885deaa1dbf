"""HTML to plain text: a feed entry's markup as paragraphs, telling links from text.

lxml reads the markup (nh3 flattens what nests too deep for it); script,
style, embeds and text hidden by inline CSS are dropped, block elements and
<br> end a paragraph, and lists of links are marked for the cleaner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import nh3
from lxml import etree
from lxml import html as lxml_html

from digest.sources.sanitize import strip_control_chars

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
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


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

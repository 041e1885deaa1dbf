"""Make untrusted feed content safe to show.

Feed HTML is written by strangers. Wherever it reaches an output (a web page,
an e-mail, a terminal) it passes through here: HTML through nh3 with a strict
allow-list, URLs through ``safe_url``, text through ``strip_control_chars``.
feedparser's own sanitizer is switched off when parsing because nh3 replaces
it (and is much faster).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import nh3

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "cite", "code", "dd", "del", "dl", "dt", "em",
        "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "ins", "li", "ol", "p",
        "pre", "q", "s", "small", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead",
        "tr", "u", "ul",
    }
)  # fmt: skip
"""Text structure only: no images (tracking pixels), no forms, no embeds, no style."""

ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}

REMOVED_WITH_CONTENT = frozenset(
    {
        "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form",
        "button", "select", "textarea", "template", "noscript", "svg", "math", "head", "title",
    }
)  # fmt: skip
"""Elements whose content is code or chrome, not text: dropped whole."""

LINK_SCHEMES = frozenset({"http", "https", "mailto"})
WEB_SCHEMES = frozenset({"http", "https"})

_URL_NOISE = re.compile(r"[\x00-\x20\x7f]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff]")


_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 and C1 controls but tab, line feed, carriage return
    "\u00ad\u061c\u180e\u200b\u200e\u200f"  # soft hyphen, bidi marks, zero-width space
    "\u202a-\u202e\u2066-\u2069"  # bidi embeddings, overrides and isolates: they can reorder what a reader sees
    "\u2060-\u2064\u206a-\u206f\ufeff\ufff9-\ufffb]"  # word joiner, invisible operators, BOM, annotations
)
"""Characters that show nothing yet change what is shown. Zero-width (non-)joiners stay: Persian,
Indic scripts and emoji need them."""

TITLE_LIMIT = 300
"""Characters a title keeps: a headline, not a page."""


def strip_control_chars(text: str) -> str:
    """Remove control characters (terminal escapes, NULs, BOMs); keeps tab and newlines."""
    return _CONTROL.sub("", text)


def visible_text(text: str) -> str:
    """Text without invisible controls: no bidi overrides, zero-width spaces or terminal escapes."""
    return _INVISIBLE.sub("", text)


def clean_title(title: str | None) -> str | None:
    """One visible line of at most TITLE_LIMIT characters, cut at a word with an ellipsis; None if empty."""
    if title is None:
        return None
    line = " ".join(visible_text(title).split())
    if len(line) > TITLE_LIMIT:
        cut = line[: TITLE_LIMIT - 1]
        space = cut.rfind(" ")
        if space > TITLE_LIMIT // 2:
            cut = cut[:space]
        line = cut.rstrip() + "\u2026"
    return line or None


AUTHOR_LIMIT = 60
"""Characters an author line keeps: a few names, not a page's worth of credits."""
_LINK_OR_ADDRESS = re.compile(r"://|^www\.|@|^\S+\.(?:com|org|net|info|io)(?:/\S*)?$", re.IGNORECASE)
_BY = re.compile(r"^by\s+", re.IGNORECASE)
_NAME_SEPARATORS = re.compile(r"\s*[;,|]\s*|\s+and\s+", re.IGNORECASE)


def byline(author: str | None, publisher: str | None = None) -> str | None:
    """An author's name fit to show beside a source: one visible line; a URL, an e-mail address or a
    handle (any part with '@') left out; a leading "By" removed; not the publisher's own name again;
    at most AUTHOR_LIMIT characters, whole names only, "…" after the last one that fits. None if
    nothing is left."""
    if author is None:
        return None
    line = _BY.sub("", " ".join(visible_text(author).split()))
    names = [name for name in _NAME_SEPARATORS.split(line) if name and not _LINK_OR_ADDRESS.search(name)]
    names = [name for name in dict.fromkeys(names) if any(c.isalpha() for c in name)]
    if publisher is not None:
        names = [name for name in names if name.casefold() != publisher.casefold()]
    kept: list[str] = []
    for name in names:
        if len(", ".join([*kept, name])) > AUTHOR_LIMIT:
            return ", ".join(kept) + "…" if kept else name[: AUTHOR_LIMIT - 1].rsplit(" ", 1)[0] + "…"
        kept.append(name)
    return ", ".join(kept) or None


def safe_url(
    url: str | None, base: str | None = None, schemes: frozenset[str] = WEB_SCHEMES
) -> str | None:
    """``url`` made absolute against ``base`` if it is a link a reader may follow, else None.

    Browsers ignore tabs, newlines and spaces inside a scheme (``java\\tscript:``),
    so those are removed before the scheme is checked.
    """
    if not url:
        return None
    cleaned = _URL_NOISE.sub("", url)
    if not cleaned:
        return None
    if base:
        cleaned = urljoin(_URL_NOISE.sub("", base), cleaned)
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        return None
    if parts.scheme.lower() not in schemes:
        return None
    if parts.scheme.lower() in WEB_SCHEMES and not parts.netloc:
        return None
    return cleaned


def sanitize_html(html: str, base_url: str | None = None) -> str:
    """Inert HTML: only text-structure tags, only http(s)/mailto links, rel=noopener noreferrer."""

    def keep_attribute(tag: str, attribute: str, value: str) -> str | None:
        if attribute == "href":
            return safe_url(value, base_url, LINK_SCHEMES)
        return value

    return nh3.clean(
        strip_control_chars(html),
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(REMOVED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=keep_attribute,
        url_schemes=set(LINK_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )

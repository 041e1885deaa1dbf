"""The identity of a page and of a feed entry: one spelling per URL, tracking parameters dropped."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit, urlunsplit

from digest.sources.html import collapse
from digest.sources.sanitize import safe_url

TRACKING_PARAMS = re.compile(
    r"^(utm_\w*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|igshid|"
    r"yclid|twclid|ncid|cmp)$",
    re.IGNORECASE,
)
HAS_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:\S", re.IGNORECASE)
DEFAULT_PORTS = {"http": 80, "https": 443}


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

"""Photo captions (Media RSS ``media:description``) kept apart from an entry's own text.

feedparser reads ``media:description`` as if it were the entry's
``description``: after an item's ``<description>`` it files the caption as the
entry's ``content``, before it the caption becomes the ``summary`` and the
real description the ``content``. Either way a photo caption stands in for
the story (13 of the 61 entries of the real New York Times world feed in
shared/corpus). Read here as what it is, ``media_description`` of the entry,
the caption never reaches ``summary`` or ``content``.

Installed by an explicit call, ``install()``, which the feed parser makes
before it parses; later calls change nothing.
"""

from __future__ import annotations

from typing import Any

from feedparser.namespaces import mediarss

CAPTION_KEY = "media_description"


def _start_caption(parser: Any, attrs: dict[str, str]) -> None:
    parser.push_content(CAPTION_KEY, attrs, "text/plain", 1)


def _end_caption(parser: Any) -> None:
    parser.pop_content(CAPTION_KEY)


def install() -> None:
    """Route ``media:description`` to ``media_description`` on every feedparser parser (once)."""
    namespace: Any = mediarss.Namespace
    namespace._start_media_description = _start_caption
    namespace._end_media_description = _end_caption

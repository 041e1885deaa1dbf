"""An edition as JSON, for archives and for anyone building on digest's output."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from digest.models import Edition, EditionStory, Section, SourceRef


def edition_to_json(edition: Edition) -> str:
    """Stable JSON (sorted keys, 2-space indent, UTF-8 text, trailing newline): diffs stay readable."""
    document = {
        "id": edition.id,
        "edition": edition.name,
        "title": edition.title,
        "description": edition.description,
        "date": edition.date.isoformat(),
        "sections": [_section(section) for section in edition.sections],
        "also_noted": _section(edition.also_noted) if edition.also_noted else None,
    }
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _section(section: Section) -> dict[str, Any]:
    return {
        "theme": section.theme,
        "title": section.title,
        "description": section.description,
        "stories": [_story(story) for story in section.stories],
    }


def _story(story: EditionStory) -> dict[str, Any]:
    return {
        "id": story.id,
        "title": story.title,
        "summary": " ".join(story.summary),
        "sentences": list(story.summary),
        "theme": story.theme,
        "reason": story.reason,
        "sources": [_source(source) for source in story.sources],
    }


def _source(source: SourceRef) -> dict[str, Any]:
    return {
        "name": source.name,
        "url": source.url,
        "published": _iso(source.published),
        "document": source.document,
    }


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None

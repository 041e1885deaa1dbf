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
        "near_theme": story.near_theme,
        "reason": story.reason,
        "sources": [_source(source) for source in story.sources],
    }


def _source(source: SourceRef) -> dict[str, Any]:
    return {
        "name": source.name,
        "url": source.url,
        "published": _iso(source.published),
        "document": source.document,
        "author": source.author,
    }


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def edition_from_json(text: str) -> Edition:
    """The edition ``edition_to_json`` wrote: drafts are kept in the store this way until published."""
    document = json.loads(text)
    return Edition(
        name=document["edition"],
        title=document["title"],
        date=datetime.fromisoformat(document["date"]),
        sections=tuple(_section_of(section) for section in document["sections"]),
        also_noted=_section_of(document["also_noted"]) if document["also_noted"] else None,
        description=document["description"],
    )


def _section_of(data: dict[str, Any]) -> Section:
    return Section(
        theme=data["theme"],
        title=data["title"],
        description=data["description"],
        stories=tuple(_story_of(story) for story in data["stories"]),
    )


def _story_of(data: dict[str, Any]) -> EditionStory:
    return EditionStory(
        id=data["id"],
        title=data["title"],
        summary=tuple(data["sentences"]),
        sources=tuple(
            SourceRef(
                name=s["name"], url=s["url"], published=_moment(s["published"]), document=s["document"],
                author=s.get("author"),
            )
            for s in data["sources"]
        ),
        theme=data["theme"],
        reason=data["reason"],
        near_theme=data.get("near_theme"),
    )


def _moment(text: str | None) -> date | datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)

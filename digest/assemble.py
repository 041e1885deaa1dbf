"""Assembling: summarized stories -> an Edition, one section per theme.

Sections follow the edition's theme order; within a section the stories
with the strongest theme score come first (ties keep source order). A story
without a title of its own is named by its first sentence when that is short
enough to be a headline; otherwise it is called an untitled post, never given
a cut-off sentence that could read as a claim the source did not make.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from digest.config import EditionConfig, Theme
from digest.models import Edition, EditionStory, Section, SummarizedStory
from digest.sentences import split_sentences
from digest.words import words

ALSO_NOTED = "also-noted"
TITLE_WORDS = (4, 16)
"""A first sentence of this many words may stand as an untitled story's headline."""


def story_title(item: SummarizedStory) -> str:
    if item.story.title:
        return item.story.title
    first = next(iter(split_sentences(item.story.paragraphs[0])), "") if item.story.paragraphs else ""
    low, high = TITLE_WORDS
    if low <= len(words(first)) <= high:
        return first
    return f"Untitled post from {item.story.sources[0].name}"


def _edition_story(item: SummarizedStory) -> EditionStory:
    return EditionStory(
        id=item.story.id,
        title=story_title(item),
        summary=item.summary,
        sources=item.story.sources,
        theme=item.decision.theme,
        reason=item.decision.reason,
    )


def _ranked(items: Sequence[SummarizedStory]) -> list[SummarizedStory]:
    return sorted(items, key=lambda item: -item.decision.score)


def assemble(
    name: str,
    config: EditionConfig,
    themes: Mapping[str, Theme],
    stories: Sequence[SummarizedStory],
    now: datetime,
    per_theme: int | None = None,
) -> Edition:
    limit = per_theme or config.stories_per_theme
    sections = []
    for key in config.themes:
        chosen = _ranked([s for s in stories if s.decision.theme == key])[:limit]
        theme = themes[key]
        sections.append(Section(key, theme.title, theme.description, tuple(map(_edition_story, chosen))))
    also_noted = None
    if config.unthemed == "also-noted":
        unthemed = [s for s in stories if s.decision.theme not in config.themes][: config.also_noted_limit]
        if unthemed:
            also_noted = Section(
                ALSO_NOTED,
                "Also noted",
                "Stories that fit none of this edition's themes.",
                tuple(map(_edition_story, unthemed)),
            )
    return Edition(
        name=name,
        title=config.title,
        date=now,
        sections=tuple(sections),
        also_noted=also_noted,
        description=config.description,
    )

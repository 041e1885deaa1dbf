"""Assembling: summarized stories -> an Edition, one section per theme.

Sections follow the edition's theme order; within a section the stories
with the strongest theme score come first (ties keep source order). A story
without a title of its own is headed by its lead sentence (digest.stages.headline).
"Also noted" holds the stories no theme took that come nearest to one (also_noted()).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from digest.config import EditionConfig, Theme
from digest.models import Edition, EditionStory, Section, SummarizedStory, ThemeDecision
from digest.stages.headline import heading

ALSO_NOTED = "also-noted"


def _edition_story(item: SummarizedStory) -> EditionStory:
    return EditionStory(
        id=item.story.id,
        title=heading(item.story),
        summary=item.summary,
        sources=item.story.sources,
        theme=item.decision.theme,
        reason=item.decision.reason,
    )


class _Decided(Protocol):
    @property
    def decision(self) -> ThemeDecision: ...


Item = TypeVar("Item", bound=_Decided)


def _ranked(items: Sequence[Item]) -> list[Item]:
    return sorted(items, key=lambda item: -item.decision.score)


def pick(
    config: EditionConfig, stories: Sequence[Item], per_theme: int | None = None
) -> tuple[dict[str, list[Item]], list[Item]]:
    """The stories an edition shows: per theme its strongest, then the first that fit none.

    Depends on theme decisions alone, so the pipeline summarizes only these.
    """
    limit = per_theme or config.stories_per_theme
    by_theme = {key: _ranked([s for s in stories if s.decision.theme == key])[:limit] for key in config.themes}
    unthemed: list[Item] = []
    if config.unthemed == "also-noted":
        unthemed = also_noted(config, stories)
    return by_theme, unthemed


def relevance(decision: ThemeDecision, themes: Sequence[str]) -> float:
    """How likely the story is to belong to one of these themes: the highest of its theme scores (a theme
    whose cause it never names does not count)."""
    return max(
        (score for theme, score in decision.scores if theme in themes and theme not in decision.cause_unnamed),
        default=0.0,
    )


def also_noted(config: EditionConfig, stories: Sequence[Item]) -> list[Item]:
    """The stories no theme took that come nearest to the edition's themes, nearest first.

    Only those at least ``also_noted_floor`` likely to belong to a theme: a near
    miss is worth a line, unrelated world news is not (ties keep source order).
    """
    near = [
        (relevance(s.decision, config.themes), n, s)
        for n, s in enumerate(stories)
        if s.decision.theme not in config.themes
    ]
    ranked = sorted((item for item in near if item[0] >= config.also_noted_floor), key=lambda item: (-item[0], item[1]))
    return [s for _, _, s in ranked[: config.also_noted_limit]]


def assemble(
    name: str,
    config: EditionConfig,
    themes: Mapping[str, Theme],
    stories: Sequence[SummarizedStory],
    now: datetime,
    per_theme: int | None = None,
) -> Edition:
    by_theme, unthemed = pick(config, stories, per_theme)
    sections = []
    for key in config.themes:
        theme = themes[key]
        sections.append(Section(key, theme.title, theme.description, tuple(map(_edition_story, by_theme[key]))))
    also_noted = None
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

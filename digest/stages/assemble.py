"""Assembling: summarized stories -> an Edition, one section per theme.

Sections follow the edition's theme order; within a section the stories
with the strongest theme score come first, a story an editor or the keyword
rules placed with the surest (_standing; ties keep source order). A story
without a title of its own is headed by its lead sentence (digest.stages.headline).
"Also noted" holds the themed stories a section had no room for, then the stories no theme took that
come nearest to one (also_noted()).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from digest.config import EditionConfig, Theme
from digest.models import Edition, EditionStory, PlacedBy, Section, SummarizedStory, ThemeDecision
from digest.stages.headline import heading

ALSO_NOTED = "also-noted"


def _edition_story(item: SummarizedStory, near_theme: str | None = None) -> EditionStory:
    return EditionStory(
        id=item.story.id,
        title=heading(item.story),
        summary=item.summary,
        sources=item.story.sources,
        theme=item.decision.theme,
        reason=item.decision.reason,
        near_theme=near_theme,
    )


class _Decided(Protocol):
    @property
    def decision(self) -> ThemeDecision: ...


Item = TypeVar("Item", bound=_Decided)


def _ranked(items: Sequence[Item]) -> list[Item]:
    return sorted(items, key=lambda item: (-_standing(item.decision), -item.decision.score))


def _standing(decision: ThemeDecision) -> float:
    """How high a story stands in its section: the theme's probability for it, and 1 for a story an editor
    placed (digest themes learn) or a long story the keyword rules placed over its whole text; those rank
    among themselves by the probability.

    For a long story the rules placed, the model read only its title and lede, and its probability is
    below the bar by the time the rules decide: by it every such story (a seed's investigation, a full
    article) would stand below every brief and be the first cut to "Also noted". The rules placed none of
    the 163 long pages of ../shared/corpus/article_pages, none of them on a theme (bench/themes_long.py)."""
    return 1.0 if decision.placed_by in (PlacedBy.RULES, PlacedBy.EDITOR) else decision.score


def pick(
    config: EditionConfig, stories: Sequence[Item], themes: Mapping[str, Theme], per_theme: int | None = None
) -> tuple[dict[str, list[Item]], list[Item]]:
    """The stories an edition shows: per theme its strongest; then, under "Also noted", the ones a section
    had no room for (a reader does not lose them) and the stories that came nearest to a theme.

    Depends on theme decisions alone, so the pipeline summarizes only these.
    """
    limit = per_theme or config.stories_per_theme
    ranked = {key: _ranked([s for s in stories if s.decision.theme == key]) for key in config.themes}
    by_theme = {key: found[:limit] for key, found in ranked.items()}
    unthemed: list[Item] = []
    if config.unthemed == "also-noted":
        unthemed = [s for found in ranked.values() for s in found[limit:]] + also_noted(config, stories, themes)
    return by_theme, unthemed


def relevance(decision: ThemeDecision, bars: Mapping[str, float]) -> float:
    """How near the story came to one of these themes: its score as a share of the theme's bar
    (min_probability), counting only themes whose every term group it names (and whose cause)."""
    return max(_nearness(decision, bars).values(), default=0.0)


def nearest_theme(decision: ThemeDecision, bars: Mapping[str, float]) -> str | None:
    """The theme relevance() measures the story by: the one it came nearest to (the first of a tie)."""
    nearness = _nearness(decision, bars)
    return max(nearness, key=nearness.__getitem__) if nearness else None


def _nearness(decision: ThemeDecision, bars: Mapping[str, float]) -> dict[str, float]:
    return {
        theme: score / bars[theme]
        for theme, score in decision.scores
        if theme in bars and theme not in (*decision.cause_unnamed, *decision.terms_missing, *decision.excluded)
    }


def also_noted(config: EditionConfig, stories: Sequence[Item], themes: Mapping[str, Theme]) -> list[Item]:
    """The stories no theme took that come nearest to the edition's themes, nearest first.

    Only those that name every term group of a theme (its weapons and their trade, its act and its
    cause) and come at least ``also_noted_floor`` of the way to its bar: a near miss is worth a line,
    unrelated world news is not (ties keep source order).
    """
    bars = {key: themes[key].min_probability for key in config.themes}
    near = [
        (relevance(s.decision, bars), n, s)
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
    by_theme, unthemed = pick(config, stories, themes, per_theme)
    sections = []
    for key in config.themes:
        theme = themes[key]
        sections.append(Section(key, theme.title, theme.description, tuple(map(_edition_story, by_theme[key]))))
    also_noted = None
    if unthemed:
        bars = {key: themes[key].min_probability for key in config.themes}
        also_noted = Section(
            ALSO_NOTED,
            "Also noted",
            "More on this edition's themes than its sections had room for, then the stories nearest to one.",
            tuple(
                _edition_story(item, None if item.decision.theme in config.themes else nearest_theme(item.decision, bars))
                for item in unthemed
            ),
        )
    return Edition(
        name=name,
        title=config.title,
        date=now,
        sections=tuple(sections),
        also_noted=also_noted,
        description=config.description,
    )

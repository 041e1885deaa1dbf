"""Sections and Also noted: which stories a section shows first; a story a section had no room for says which
section; a near miss, which theme it came nearest to."""

from __future__ import annotations

from datetime import UTC, datetime

from digest.config import Config
from digest.models import PlacedBy, SourceRef, Story, SummarizedStory, ThemeDecision
from digest.stages.assemble import assemble

THEMES = {
    key: {"title": title, "description": f"{title}.", "min_probability": bar, "signals": {"keywords": {key: 1.0}}}
    for key, title, bar in (("floods", "Floods", 0.75), ("fires", "Fires", 0.5))
}


def _story(name: str, theme: str | None, *scores: tuple[str, float], unnamed: tuple[str, ...] = ()) -> SummarizedStory:
    story = Story(name, f"{name} on the coast", ("It happened.",), (SourceRef("Wire"),), "doc", 1)
    return SummarizedStory(story, ThemeDecision(theme, 0.9 if theme else 0.0, "why", scores, unnamed), ())


def test_a_near_miss_carries_the_theme_it_came_nearest_to_and_an_overflow_story_none():
    config = Config.model_validate({
        "themes": THEMES,
        "editions": {"daily": {"title": "Daily", "themes": ["floods", "fires"], "unthemed": "also-noted",
                               "stories_per_theme": 1, "also_noted_floor": 0.5}},
    })
    name, edition = config.edition("daily")
    stories = [
        _story("placed", "floods", ("floods", 0.9)),
        _story("overflow", "floods", ("floods", 0.8)),
        # 0.6 of the floods bar (0.45 / 0.75), 0.8 of the fires bar (0.4 / 0.5): nearest to fires
        _story("near fires", None, ("floods", 0.45), ("fires", 0.4)),
        # nearer to fires by score, but it never names their cause: near floods
        _story("near floods", None, ("floods", 0.6), ("fires", 0.45), unnamed=("fires",)),
    ]
    built = assemble(name, edition, config.themes, stories, datetime(2026, 1, 1, tzinfo=UTC))
    assert built.also_noted is not None
    noted = {story.id: (story.theme, story.near_theme) for story in built.also_noted.stories}
    assert noted == {"overflow": ("floods", None), "near fires": (None, "fires"), "near floods": (None, "floods")}


def test_a_long_story_the_keyword_rules_placed_stands_with_the_surest_in_its_section():
    config = Config.model_validate({
        "themes": THEMES,
        "editions": {"daily": {"title": "Daily", "themes": ["floods"], "unthemed": "also-noted", "stories_per_theme": 2}},
    })
    name, edition = config.edition("daily")

    def placed(story_id: str, probability: float, by: PlacedBy) -> SummarizedStory:
        story = Story(story_id, f"{story_id} on the coast", ("It happened.",), (SourceRef("Wire"),), "doc", 1)
        return SummarizedStory(story, ThemeDecision("floods", probability, "why", (), (), (), by), ())

    stories = [
        placed("brief", 0.99, PlacedBy.MODEL),
        placed("report", 0.2, PlacedBy.RULES),  # its title and lede alone: 20%; its whole text: the rules
        placed("investigation", 0.45, PlacedBy.RULES),
    ]
    built = assemble(name, edition, config.themes, stories, datetime(2026, 1, 1, tzinfo=UTC))
    assert [story.id for story in built.sections[0].stories] == ["investigation", "report"]
    assert built.also_noted is not None and [story.id for story in built.also_noted.stories] == ["brief"]

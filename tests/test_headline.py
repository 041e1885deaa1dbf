"""Headings and source names a reader trusts: no placeholder heading, no file named as a publisher."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from digest.config import Config
from digest.models import PUBLISHER_NOT_NAMED, SourceRef, Story, SummarizedStory, ThemeDecision
from digest.sources.seeds import read_seed
from digest.stages.assemble import assemble


def _edition_titles(*stories: Story) -> list[str]:
    config = Config.model_validate(
        {"themes": {"floods": {"title": "Floods", "description": "Floods.", "signals": {"keywords": {"flood": 1.0}}}},
         "editions": {"daily": {"title": "Daily", "themes": ["floods"], "unthemed": "also-noted"}}}
    )
    name, edition = config.edition("daily")
    near = (("floods", 0.7),)  # near the theme (0.75 bar): listed under 'Also noted'
    summarized = [SummarizedStory(s, ThemeDecision(None, 0.0, "no theme", near), ()) for s in stories]
    built = assemble(name, edition, config.themes, summarized, datetime(2026, 1, 1, tzinfo=UTC))
    return [story.title for story in built.stories]


def test_no_story_is_headed_by_a_placeholder() -> None:
    untitled = Story("a", None, ("Saturday mornings in suburbia mean lawnmowers. It rained.",),
                     (SourceRef("Blog"),), "doc", 1)
    titled = Story("b", "Floods close the coastal road", ("The road closed.",), (SourceRef("Wire"),), "doc", 2)
    assert _edition_titles(untitled, titled) == ["Saturday mornings in suburbia mean lawnmowers.",
                                                 "Floods close the coastal road"]


def test_a_seed_without_metadata_is_not_named_by_its_file(tmp_path: Path) -> None:
    path = tmp_path / "000_page.txt"
    path.write_text("Floods closed the coastal road on Monday.\n", encoding="utf-8")
    assert read_seed(path).source.name == PUBLISHER_NOT_NAMED

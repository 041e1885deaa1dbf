"""Theming against hand labels on real feed entries nobody on this project wrote.

The entries (Oct-Dec 2023 news) are read from the shared corpus and never copied
here; tests/data/labeled/real_entries.yaml names a sample of them by day, feed
and title, with the theme a careful editor would give each, and says how the
sample was drawn. Precision first: a story in the wrong theme misleads readers,
one left unthemed is still listed under "Also noted".
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from digest.config import load_config
from digest.models import Document, SourceRef, Story, ThemeDecision, ThemedStory
from digest.sources.html import html_to_paragraphs
from digest.stages.clean import clean_document
from digest.stages.split import split_document
from digest.stages.theme_classifier import assign_themes

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
ENTRIES = CORPUS / "real_entries" / "rumca_2023_entries.jsonl"
LABELS = Path(__file__).parent / "data" / "labeled" / "real_entries.yaml"

RECALL_FLOORS = {"arms-exports": 0.5, "solidarity": 0.75}
"""The share of its labelled entries each well-sampled theme must find.

Measured on the bundled config when the labels were made: arms-exports 5/8,
solidarity 18/21. Each floor sits a little under that, so losing two or three
clearly themed entries fails the test; none is tuned to pass at the figure.
"""
RECALL_MIN_LABELS = 5
"""Fewer labelled entries than this give too coarse a recall to hold a floor against."""

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not ENTRIES.is_file(), reason=f"shared corpus not found at {CORPUS}"),
]

Key = tuple[str, str, str]


def _labels() -> list[dict]:
    return YAML(typ="safe").load(LABELS.read_text(encoding="utf-8"))


def _key(day: str, feed: str, title: str) -> Key:
    return (day, feed, title)


def _corpus_entries(wanted: set[Key]) -> dict[Key, list[dict]]:
    found: dict[Key, list[dict]] = {key: [] for key in wanted}
    with ENTRIES.open(encoding="utf-8") as lines:
        for line in lines:
            entry = json.loads(line)
            key = _key(entry["day"], entry["feed_name"], entry["title"])
            if key in found:
                found[key].append(entry)
    return found


def _stories(entry: dict) -> list[Story]:
    """The entry as the pipeline sees it: feed HTML read as text, then cleaned and split."""
    published = entry.get("date_published")
    source = SourceRef(
        entry["feed_name"],
        url=entry.get("link"),
        published=datetime.fromisoformat(published) if published else None,
        document=entry["feed_url"],
    )
    body = html_to_paragraphs(entry["description"] or "")
    document = Document(
        entry["feed_url"], body.text, source, entry["title"], link_lines=frozenset(body.link_lines)
    )
    return split_document(clean_document(document))


@pytest.fixture(scope="module")
def labelled() -> list[tuple[dict, ThemedStory]]:
    labels = _labels()
    entries = _corpus_entries({_key(x["day"], x["feed"], x["title"]) for x in labels})
    themes = load_config(ROOT / "schedule.yaml").themes
    placed = []
    for label in labels:
        stories = _stories(entries[_key(label["day"], label["feed"], label["title"])][0])
        themed = assign_themes(stories, themes)
        # an entry whose text is all furniture yields no story, and so no theme
        chosen = next((t for t in themed if t.decision.theme), themed[0] if themed else None)
        placed.append((label, chosen or ThemedStory(Story("", label["title"], (), (), "", 0), ThemeDecision(
            None, 0.0, "no story left after cleaning"))))
    return placed


def _show(theme: str | None) -> str:
    return theme or "(none)"


def _confusion(pairs: list[tuple[str | None, str | None]]) -> str:
    """Labelled theme (rows) against the theme digest chose (columns)."""
    counts = Counter(pairs)
    names = sorted({theme for pair in pairs for theme in pair}, key=lambda t: (t is None, t or ""))
    width = max(len(_show(t)) for t in names) + 2
    lines = ["label \\ chosen".ljust(width) + "".join(_show(t).rjust(width) for t in names)]
    for label in names:
        lines.append(
            _show(label).ljust(width) + "".join(str(counts[(label, c)]).rjust(width) for c in names)
        )
    return "\n".join(lines)


def test_every_label_names_one_corpus_entry_and_a_configured_theme():
    labels = _labels()
    entries = _corpus_entries({_key(x["day"], x["feed"], x["title"]) for x in labels})
    keys = [_key(x["day"], x["feed"], x["title"]) for x in labels]
    assert len(set(keys)) == len(keys), "an entry is labelled twice"
    not_one = {key: len(found) for key, found in entries.items() if len(found) != 1}
    assert not_one == {}, "labels must name exactly one corpus entry (day, feed, title)"
    themes = set(load_config(ROOT / "schedule.yaml").themes)
    unknown = {x["theme"] for x in labels} - themes - {None}
    assert unknown == set()


def _is_ambiguous(label: dict) -> bool:
    """The labeller judged either placement defensible (the note says so)."""
    return str(label.get("note", "")).startswith("ambiguous")


def _misplaced(labelled) -> list[tuple[dict, ThemedStory]]:
    return [
        (label, themed) for label, themed in labelled
        if themed.decision.theme is not None and themed.decision.theme != label["theme"]
    ]


def _describe(label: dict, themed: ThemedStory) -> str:
    return (
        f"- {label['title']!r} ({label['day']}, {label['feed']})\n"
        f"    labelled {_show(label['theme'])}, digest chose {themed.decision.theme}: {themed.decision.reason}"
    )


def test_no_entry_is_placed_in_a_theme_other_than_its_label(labelled):
    """Precision first. Entries labelled ambiguous are reported, not held to their label; each
    known error is named in the labels with why digest gets it wrong, and one that digest now
    gets right must lose its mark."""
    pairs = [(label["theme"], themed.decision.theme) for label, themed in labelled]
    misplaced = _misplaced(labelled)
    print(_confusion(pairs))
    print("ambiguous, placed in a theme:\n" + "\n".join(_describe(*m) for m in misplaced if _is_ambiguous(m[0])))
    wrong = [m for m in misplaced if not _is_ambiguous(m[0]) and "known_error" not in m[0]]
    assert not wrong, (
        f"{len(wrong)} of {len(labelled)} real entries placed in a theme they are not about\n"
        + _confusion(pairs) + "\n" + "\n".join(_describe(*m) for m in wrong)
    )
    fixed = [label["title"] for label in (m[0] for m in labelled) if "known_error" in label
             and all(label is not m[0] for m in misplaced)]
    assert not fixed, f"no longer misplaced, remove their known_error mark: {fixed}"


def test_each_well_sampled_theme_finds_most_of_its_entries(labelled):
    labelled_per_theme = Counter(label["theme"] for label, _ in labelled if label["theme"])
    found = Counter(
        label["theme"] for label, themed in labelled
        if label["theme"] and themed.decision.theme == label["theme"]
    )
    recall = {theme: found[theme] / n for theme, n in labelled_per_theme.items()}
    unheld = f" (under {RECALL_MIN_LABELS} labels: not held to a floor)"
    report = "\n".join(
        f"{theme}: recall {found[theme]}/{n} = {recall[theme]:.0%}"
        + ("" if n >= RECALL_MIN_LABELS else unheld)
        for theme, n in sorted(labelled_per_theme.items())
    )
    print(report)
    missed = "\n".join(
        f"- {label['theme']}: {label['title']!r}: {themed.decision.reason}"
        for label, themed in labelled
        if label["theme"] and themed.decision.theme != label["theme"]
    )
    well_sampled = {theme for theme, n in labelled_per_theme.items() if n >= RECALL_MIN_LABELS}
    assert well_sampled == set(RECALL_FLOORS), "every theme with enough labels needs a floor"
    below = sorted(theme for theme in well_sampled if recall[theme] < RECALL_FLOORS[theme])
    assert below == [], f"recall under the floor for {below}:\n{report}\nmissed:\n{missed}"

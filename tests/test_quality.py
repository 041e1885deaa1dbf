"""Quality against hand labels: the seeds, and pages written in other sites' styles.

The second set exists so cleaning, splitting and theming are shown to work on
text the rules were not written against.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from digest.config import load_config
from digest.models import Document, SourceRef
from digest.sources.seeds import read_seed
from digest.stages.clean import clean_document
from digest.stages.split import split_document
from digest.stages.theme_classifier import assign_themes

ROOT = Path(__file__).resolve().parent.parent
LABELED = Path(__file__).parent / "data" / "labeled"


def _cases() -> list[tuple[str, Path, dict]]:
    cases = []
    for label_file, folder in (("seeds.yaml", ROOT / "seeds"), ("labels.yaml", LABELED)):
        labels = YAML(typ="safe").load((LABELED / label_file).read_text(encoding="utf-8"))
        cases += [(name, folder / name, label) for name, label in labels.items()]
    return cases


CASES = _cases()
IDS = [name for name, _, _ in CASES]


def _document(path: Path) -> Document:
    if path.parent.name == "seeds":
        return read_seed(path)
    return Document(path.name, path.read_text(encoding="utf-8"), SourceRef(path.name, document=path.name))


@pytest.fixture(scope="module")
def themes():
    return load_config(ROOT / "schedule.yaml").themes


@pytest.mark.parametrize(("name", "path", "label"), CASES, ids=IDS)
def test_furniture_is_dropped_and_content_kept(name, path, label):
    cleaned = clean_document(_document(path))
    kept = [block.text for block in cleaned.blocks]
    leaked = [f for f in label["furniture"] if any(f in text for text in kept)]
    assert leaked == [], f"furniture kept in {name}"
    lost = [k for k in label["keep"] if not any(k in text for text in kept)]
    assert lost == [], f"content dropped from {name}"


@pytest.mark.parametrize(("name", "path", "label"), CASES, ids=IDS)
def test_stories_split_titled_and_themed_as_labeled(name, path, label, themes):
    stories = split_document(clean_document(_document(path)))
    themed = assign_themes(stories, themes)
    found = [
        {"starts": t.story.paragraphs[0], "theme": t.decision.theme, "title": t.story.title,
         "source": t.story.sources[0].name}
        for t in themed
    ]
    assert len(found) == len(label["stories"]), [f["starts"][:50] for f in found]
    for expected, actual in zip(label["stories"], found, strict=True):
        assert actual["starts"].startswith(expected["starts"])
        assert actual["theme"] == expected["theme"], (expected["starts"], themed)
        if "title" in expected:
            assert actual["title"] == expected["title"]
        if "source" in expected:
            assert actual["source"] == expected["source"]


def test_labeled_sample_covers_every_default_theme_and_unthemed_stories():
    themes_seen = {story["theme"] for _, _, label in CASES for story in label["stories"]}
    assert themes_seen == {"arms-exports", "settler-violence", "solidarity", None}

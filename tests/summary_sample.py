"""The labelled summary sample (tests/data/summaries): articles and the sentences an editor picked.

Read by tests/test_summarize.py and by bench/summarizer.py, which scores against it.
"""

from __future__ import annotations

import json
from pathlib import Path

from digest.models import SourceRef, Story

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "summaries"


def load_sample() -> list[tuple[Story, list[str]]]:
    """(story, the editor's sentences) for each labelled article; seed articles by their line numbers."""
    sample = []
    for path in sorted(SAMPLE.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if "seed" in data:
            lines = (ROOT / "seeds" / data["seed"]).read_text(encoding="utf-8").split("\n")
            paragraphs = [lines[n - 1] for n in data["lines"] if lines[n - 1].strip()]
        else:
            paragraphs = data["paragraphs"]
        story = Story(path.stem, data["title"], tuple(paragraphs), (SourceRef("sample"),), path.stem, 0)
        sample.append((story, data["reference"]))
    return sample

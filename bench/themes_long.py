"""The themes of long off-topic stories: digest's classifier on the 181 real article pages, none on a theme.

A long story the model leaves below a theme's bar is placed by the theme's keyword
rules over its whole text, and stands with the surest in its section
(digest.stages.assemble). This counts how often that would mislead: each page of
../shared/corpus/article_pages (news and blog pages of 2019, labelled none in
tests/data/themes/labels-entries.jsonl) is read as digest reads a linked page
(extraction and cleaning, as bench/extract.py), decided with the bundled themes,
and counted as long when its text has at least LONG_STORY_WORDS words.

    .venv/bin/python bench/themes_long.py
"""

from __future__ import annotations

import gzip
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.config import load_config  # noqa: E402
from digest.models import PageRefusal, PlacedBy, SourceRef, Story  # noqa: E402
from digest.pipeline import cleaned_paragraphs  # noqa: E402
from digest.sources.article import extract  # noqa: E402
from digest.stages.theme_classifier import LONG_STORY_WORDS, classifier  # noqa: E402

PAGES = ROOT.parent / "shared" / "corpus" / "article_pages"


def main() -> None:
    if not PAGES.is_dir():
        sys.exit(f"article pages not found at {PAGES}")
    chosen = classifier(load_config(ROOT / "schedule.yaml").themes)
    rows = [line.split("\t") for line in (PAGES / "URLS.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    counts: Counter[str | PlacedBy] = Counter()
    for number, (name, url) in enumerate(rows):
        article = extract(gzip.decompress((PAGES / name).read_bytes()), url)
        if isinstance(article, PageRefusal):
            counts["refused"] += 1
            continue
        paragraphs = tuple(cleaned_paragraphs(article))
        if sum(len(paragraph.split()) for paragraph in paragraphs) < LONG_STORY_WORDS:
            counts["short"] += 1
            continue
        counts["long"] += 1
        decision = chosen.decide(Story(f"page{number}", article.title or "", paragraphs, (SourceRef(url),), name, number))
        if decision.theme is not None and decision.placed_by is not None:
            counts[decision.placed_by] += 1
            print(f"  {decision.theme} by the {decision.placed_by.value}: {article.title} — {decision.reason}")
    print(
        f"{len(rows)} pages: {counts['long']} long (≥ {LONG_STORY_WORDS} words), {counts['short']} short, "
        f"{counts['refused']} refused; of the long, placed in a theme by the keyword rules "
        f"{counts[PlacedBy.RULES]}, by the model {counts[PlacedBy.MODEL]}"
    )


if __name__ == "__main__":
    main()

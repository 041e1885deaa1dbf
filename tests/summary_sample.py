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


PAGE_REFERENCES = SAMPLE / "pages" / "references.json"
ARTICLE_PAGES = ROOT.parent / "shared" / "corpus" / "article_pages"


def load_page_sample() -> list[tuple[Story, list[str]]]:
    """(story, the editor's sentences) for the 30 labelled real article pages (tests/data/summaries/pages),
    each read as `digest read` reads it; empty when ../shared/corpus is absent."""
    import gzip

    from digest.models import PageRefusal
    from digest.pipeline import cleaned_paragraphs
    from digest.sources.article import extract
    from digest.stages.sentences import split_sentences

    if not ARTICLE_PAGES.is_dir():
        return []
    sample = []
    for item in json.loads(PAGE_REFERENCES.read_text(encoding="utf-8")):
        article = extract(gzip.decompress((ARTICLE_PAGES / item["page"]).read_bytes()), item["url"])
        if isinstance(article, PageRefusal):
            raise ValueError(f"{item['page']}: no article ({article})")
        paragraphs = cleaned_paragraphs(article)
        sentences = [s for p in paragraphs for s in split_sentences(p)]
        reference = [next(s for s in sentences if s.startswith(start)) for start in item["reference_starts"]]
        name = item["page"].split("/")[-1][:12]
        sample.append((Story(name, article.title, paragraphs, (SourceRef("sample"),), name, 0), reference))
    return sample

"""Summaries against lead-3 on the labelled samples: ROUGE-1 and ROUGE-2 F, and sentence recall.

Run: .venv/bin/python bench/summary_quality.py

Samples (tests/summary_sample.py):
- "written": tests/data/summaries/*.json, 17 articles (12 written for the sample,
  5 from seeds/), the editor's picks;
- "pages": 30 real article pages of ../shared/corpus/article_pages read as digest
  reads them, with reference sentences chosen before any tuning
  (tests/data/summaries/pages/README.md).

ROUGE-N F here: clipped n-gram overlap of lower-cased word tokens between the
summary and the reference sentences, the harmonic mean of precision and recall,
averaged over articles. Lead-3 is the first three sentences; digest's summary is
digest.stages.summarize with the default SummaryConfig (2-4 sentences, 90 words).
"""

from __future__ import annotations

import re
import statistics
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from summary_sample import load_page_sample, load_sample  # noqa: E402

from digest.config import SummaryConfig  # noqa: E402
from digest.models import Story  # noqa: E402
from digest.stages.sentences import split_sentences  # noqa: E402
from digest.stages.summarize import summarize_many  # noqa: E402

TOKEN = re.compile(r"\w+")


def ngrams(text: str, n: int) -> Counter[tuple[str, ...]]:
    tokens = TOKEN.findall(text.lower())
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def rouge_f(candidate: str, reference: str, n: int) -> float:
    ours, theirs = ngrams(candidate, n), ngrams(reference, n)
    common = sum((ours & theirs).values())
    if not common:
        return 0.0
    precision, recall = common / sum(ours.values()), common / sum(theirs.values())
    return 2 * precision * recall / (precision + recall)


def lead_three(stories: Sequence[Story]) -> list[tuple[str, ...]]:
    return [tuple(s for p in story.paragraphs for s in split_sentences(p))[:3] for story in stories]


def digest_summaries(stories: Sequence[Story]) -> list[tuple[str, ...]]:
    return summarize_many(stories, SummaryConfig())


def report(name: str, sample: list[tuple[Story, list[str]]]) -> None:
    stories = [story for story, _ in sample]
    methods: dict[str, Callable[[Sequence[Story]], list[tuple[str, ...]]]] = {
        "digest": digest_summaries, "lead-3": lead_three,
    }
    print(f"{name}: {len(sample)} articles")
    print(f"  {'method':8s} {'ROUGE-1 F':>10s} {'ROUGE-2 F':>10s} {'sentence recall':>16s} {'words':>6s}")
    for method, summarize in methods.items():
        summaries = summarize(stories)
        r1, r2, recall, length = [], [], [], []
        for summary, (_, reference) in zip(summaries, sample, strict=True):
            text, ref = " ".join(summary), " ".join(reference)
            r1.append(rouge_f(text, ref, 1))
            r2.append(rouge_f(text, ref, 2))
            recall.append(len(set(summary) & set(reference)) / len(reference))
            length.append(len(text.split()))
        print(f"  {method:8s} {statistics.mean(r1):10.3f} {statistics.mean(r2):10.3f} "
              f"{statistics.mean(recall):16.3f} {statistics.median(length):6.0f}")


def main() -> None:
    report("written", load_sample())
    pages = load_page_sample()
    if pages:
        report("pages", pages)
        report("both", load_sample() + pages)
    else:
        print("pages: ../shared/corpus/article_pages not found")


if __name__ == "__main__":
    main()

"""Speed and quality of digest's summarizer against sumy's LexRank and TextRank.

Run: .venv/bin/python bench/summarizer.py   (needs `pip install sumy`; no NLTK data)

Prints the machine's cores, then
- sentence splitting: nupunkt as shipped, nupunkt as digest configures it, and
  pysbd, on tests/data/sentences/tricky.json (accuracy) and on the seeds (speed);
- articles per second (median of RUNS runs) for digest.summarize_many and for
  sumy's LexRank and TextRank on the same stories, all given digest's sentence
  splitter so only the ranking and selection differ; caches are cleared before
  every run so no run profits from an earlier one;
- quality on the labelled sample tests/data/summaries/*.json (17 articles: 12
  written for the sample, 5 taken from seeds/), against the sentences an editor
  picked: ROUGE-1 F (unigram overlap, lower-cased words) and sentence recall.
  Sumy is scored twice: as it ships (its top 3 sentences) and with its ranking fed
  through digest's budgeted selection, which isolates the ranking itself. The
  lead-3 baseline (first three sentences) is printed for scale.

Throughput stories: the labelled sample plus the longer entries (>= 150 words)
of the real feeds in ../shared/corpus/real_feeds when that folder exists.
"""

from __future__ import annotations

import glob
import io
import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import feedparser  # noqa: E402
import nupunkt  # noqa: E402
import pysbd  # noqa: E402
from lxml import html  # noqa: E402
from summary_sample import load_sample  # noqa: E402
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence  # noqa: E402
from sumy.nlp.stemmers import Stemmer  # noqa: E402
from sumy.summarizers.lex_rank import LexRankSummarizer  # noqa: E402
from sumy.summarizers.text_rank import TextRankSummarizer  # noqa: E402
from sumy.utils import get_stop_words  # noqa: E402

from digest.config import SummaryConfig  # noqa: E402
from digest.models import SourceRef, Story  # noqa: E402
from digest.stages import sentences  # noqa: E402
from digest.stages import text as words  # noqa: E402
from digest.stages.summarize import count_words, summarize_many  # noqa: E402

RUNS = 5
CONFIG = SummaryConfig()
TRICKY = ROOT / "tests" / "data" / "sentences" / "tricky.json"
FEEDS = ROOT.parent / "shared" / "corpus" / "real_feeds"
LONG_ENOUGH = 150


def story(identifier: str, title: str | None, paragraphs: Sequence[str]) -> Story:
    return Story(identifier, title, tuple(paragraphs), (SourceRef("bench"),), identifier, 0)



def load_feed_stories() -> list[Story]:
    """Entries of the real feeds long enough to need a summary; paragraphs from their <p>s."""
    stories = []
    for path in sorted(glob.glob(str(FEEDS / "*"))):
        if path.endswith(".tsv"):
            continue
        feed = feedparser.parse(io.BytesIO(Path(path).read_bytes()))
        for n, entry in enumerate(feed.entries):
            markup = entry["content"][0]["value"] if entry.get("content") else entry.get("summary", "")
            if not markup.strip():
                continue
            tree = html.fromstring(markup)
            paragraphs = [" ".join(p.text_content().split()) for p in tree.iter("p")] or [
                " ".join(tree.text_content().split())
            ]
            paragraphs = [p for p in paragraphs if p]
            if sum(count_words(p) for p in paragraphs) >= LONG_ENOUGH:
                stories.append(story(f"{Path(path).stem}-{n}", entry.get("title"), paragraphs))
    return stories


class _Words:
    """sumy's tokenizer interface, backed by digest's splitter and word pattern (no NLTK data)."""

    @staticmethod
    def to_sentences(paragraph: str) -> list[str]:
        return sentences.split_sentences(paragraph)

    @staticmethod
    def to_words(sentence: str) -> list[str]:
        return words.words(sentence)


def sumy_document(item: Story) -> ObjectDocumentModel:
    tokenizer = _Words()
    return ObjectDocumentModel(
        [Paragraph([Sentence(s, tokenizer) for s in sentences.split_sentences(p)]) for p in item.paragraphs]
    )


def sumy_summarizer(kind: type) -> object:
    summarizer = kind(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    return summarizer


class _Ratings:
    """Keeps the ratings sumy computes so digest's budgeted selection can use them."""

    def __init__(self, kind: type):
        self.summarizer = sumy_summarizer(kind)
        self.ratings: dict = {}

        def keep(sentences_, count, rating, *args, **kwargs):
            self.ratings = rating if isinstance(rating, dict) else {s: rating(s) for s in sentences_}
            return tuple(sentences_)

        self.summarizer._get_best_sentences = keep

    def rank(self, item: Story) -> list[str]:
        document = sumy_document(item)
        self.summarizer(document, len(document.sentences))
        ordered = sorted(enumerate(document.sentences), key=lambda p: (-self.ratings[p[1]], p[0]))
        return [str(s) for _, s in ordered]


def budgeted(ranked: list[str], all_sentences: list[str]) -> tuple[str, ...]:
    """digest's budget rule applied to another ranking: best first, skip what overflows."""
    chosen, used = [], 0
    for sentence in ranked:
        if len(chosen) == CONFIG.max_sentences:
            break
        if used + count_words(sentence) <= CONFIG.max_words:
            chosen.append(sentence)
            used += count_words(sentence)
    chosen = chosen or ranked[:1]
    return tuple(sorted(chosen, key=all_sentences.index))


def sumy_as_shipped(kind: type) -> Callable[[Sequence[Story]], list[tuple[str, ...]]]:
    summarizer = sumy_summarizer(kind)
    return lambda stories: [tuple(str(s) for s in summarizer(sumy_document(t), 3)) for t in stories]


def sumy_with_budget(kind: type) -> Callable[[Sequence[Story]], list[tuple[str, ...]]]:
    ratings = _Ratings(kind)
    return lambda stories: [budgeted(ratings.rank(t), sentences.split_sentences(t.text)) for t in stories]


def lead_three(stories: Sequence[Story]) -> list[tuple[str, ...]]:
    return [tuple(sentences.split_sentences(t.text)[:3]) for t in stories]


def ours(stories: Sequence[Story]) -> list[tuple[str, ...]]:
    return summarize_many(stories, CONFIG)


def cold_caches() -> None:
    """Forget split, word and stem caches (and reload the splitter outside the timing)."""
    sentences._tokenizer.cache_clear()
    sentences._tokenizer()
    words.stem.cache_clear()
    words._CONTENT_STEM.clear()
    words.words.cache_clear()


def articles_per_second(method: Callable[[Sequence[Story]], object], stories: list[Story]) -> float:
    rates = []
    for _ in range(RUNS):
        cold_caches()
        start = time.perf_counter()
        method(stories)
        rates.append(len(stories) / (time.perf_counter() - start))
    return statistics.median(rates)


def rouge_1_f(candidate: str, reference: str) -> float:
    got = Counter(w.lower() for w in words.words(candidate))
    want = Counter(w.lower() for w in words.words(reference))
    overlap = sum((got & want).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(got.values()), overlap / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def splitter_report() -> None:
    cases = json.loads(TRICKY.read_text(encoding="utf-8"))

    def by_line(split: Callable[[str], list[str]]) -> Callable[[str], list[str]]:
        return lambda text: [s.strip() for line in text.split("\n") for s in split(line) if s.strip()]

    def fresh() -> dict[str, Callable[[str], list[str]]]:
        """New splitters, so no run reuses the decisions an earlier one cached."""
        cold_caches()
        return {
            "nupunkt as shipped": by_line(nupunkt.load_default_model().tokenize),
            "nupunkt, digest's abbreviations": sentences.split_sentences,
            "pysbd": by_line(pysbd.Segmenter(language="en", clean=False).segment),
        }

    seed_text = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt")))
    print(f"\nSentence splitting: {len(cases)} tricky cases; speed on the seeds ({len(seed_text):,} characters)")
    for name, split in fresh().items():
        right = sum(split(c["text"]) == c["sentences"] for c in cases)
        rates = []
        for _ in range(RUNS):
            split = fresh()[name]
            start = time.perf_counter()
            split(seed_text)
            rates.append(len(seed_text) / (time.perf_counter() - start))
        print(f"  {name:34s} {right:3d}/{len(cases)} right   {statistics.median(rates) / 1000:8.0f} k chars/s")


def main() -> None:
    print(f"cores: os.cpu_count()={os.cpu_count()}, usable by this process={len(os.sched_getaffinity(0))}")
    splitter_report()

    sample = load_sample()
    stories = [s for s, _ in sample] + load_feed_stories()
    sizes = sorted(count_words(s.text) for s in stories)
    print(f"\nThroughput: {len(stories)} stories ({len(sample)} labelled + {len(stories) - len(sample)} from "
          f"real feeds), median {statistics.median(sizes):.0f} words, median of {RUNS} cold runs")
    methods = {
        "digest biased LexRank": ours,
        "sumy LexRank": sumy_as_shipped(LexRankSummarizer),
        "sumy TextRank": sumy_as_shipped(TextRankSummarizer),
    }
    for name, method in methods.items():
        print(f"  {name:28s} {articles_per_second(method, stories):8.1f} articles/s")

    print(f"\nQuality on the labelled sample ({len(sample)} articles; editor picked 3-4 sentences each)")
    print(f"  {'method':44s} ROUGE-1 F  sentence recall  precision  words")
    systems = {
        "digest biased LexRank (budget 2-4 / 90 words)": ours,
        "sumy LexRank, top 3": sumy_as_shipped(LexRankSummarizer),
        "sumy LexRank ranking + digest budget": sumy_with_budget(LexRankSummarizer),
        "sumy TextRank, top 3": sumy_as_shipped(TextRankSummarizer),
        "sumy TextRank ranking + digest budget": sumy_with_budget(TextRankSummarizer),
        "lead-3 baseline": lead_three,
    }
    for name, method in systems.items():
        summaries = method([s for s, _ in sample])
        rouge, recall, precision, length = [], [], [], []
        for summary, (_, reference) in zip(summaries, sample, strict=True):
            rouge.append(rouge_1_f(" ".join(summary), " ".join(reference)))
            hits = len(set(summary) & set(reference))
            recall.append(hits / len(reference))
            precision.append(hits / len(summary) if summary else 0.0)
            length.append(count_words(" ".join(summary)))
        print(f"  {name:44s} {statistics.mean(rouge):9.3f}  {statistics.mean(recall):15.3f}"
              f"  {statistics.mean(precision):9.3f}  {statistics.mean(length):5.1f}")


if __name__ == "__main__":
    main()

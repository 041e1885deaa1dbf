"""Article extraction on the 181 real pages of ../shared/corpus/article_pages: what digest reads.

Run: .venv/bin/python bench/extract.py   (needs the bench extra: readability-lxml, justext)

The pages come without the benchmark's ground truth (it is not in shared/), so
this measures what can be measured here, per page, all from the same bytes:
- digest (trafilatura as digest.sources.article calls it, then digest's cleaner:
  what `digest read` prints): words kept, pages refused, seconds per page;
- agreement (token-level F1, the ScrapingHub benchmark's measure: lower-cased
  word tokens as multisets) of digest's text with trafilatura's own text before
  digest's cleaning, with readability-lxml and with jusText: two independent
  extractors agreeing with digest is evidence, not proof, that it found the article;
- the pages where digest and readability-lxml disagree most, to read by hand.
"""

from __future__ import annotations

import gzip
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import justext  # noqa: E402
from lxml import html  # noqa: E402
from readability import Document as Readability  # noqa: E402

from digest.models import PageRefusal  # noqa: E402
from digest.pipeline import cleaned_paragraphs  # noqa: E402
from digest.sources.article import extract  # noqa: E402

PAGES = ROOT.parent / "shared" / "corpus" / "article_pages"
TOKEN = re.compile(r"\w+")


def tokens(text: str) -> Counter[str]:
    return Counter(TOKEN.findall(text.lower()))


def f1(candidate: str, reference: str) -> float:
    ours, theirs = tokens(candidate), tokens(reference)
    common = sum((ours & theirs).values())
    if not common:
        return 0.0
    precision, recall = common / sum(ours.values()), common / sum(theirs.values())
    return 2 * precision * recall / (precision + recall)


def readability_text(page: bytes) -> str:
    try:
        return html.fromstring(Readability(page).summary()).text_content()
    except Exception:  # noqa: BLE001 - a page readability cannot read scores 0, as in the benchmark
        return ""


def justext_text(page: bytes) -> str:
    paragraphs = justext.justext(page, justext.get_stoplist("English"))
    return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)


def main() -> None:
    if not PAGES.is_dir():
        sys.exit(f"article pages not found at {PAGES}")
    rows = [line.split("\t") for line in (PAGES / "URLS.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    seconds: list[float] = []
    kept_words: list[int] = []
    refused: Counter[PageRefusal] = Counter()
    agreement: dict[str, list[float]] = {"trafilatura before cleaning": [], "readability-lxml": [], "jusText": []}
    disagreements: list[tuple[float, str]] = []
    for name, url in rows:
        page = gzip.decompress((PAGES / name).read_bytes())
        start = time.process_time()
        article = extract(page, url)
        ours = "\n".join(cleaned_paragraphs(article)) if not isinstance(article, PageRefusal) else ""
        seconds.append(time.process_time() - start)
        if isinstance(article, PageRefusal):
            refused[article] += 1
            raw = ""
        else:
            raw = "\n".join(article.paragraphs)
        kept_words.append(len(ours.split()))
        agreement["trafilatura before cleaning"].append(f1(ours, raw))
        readable = readability_text(page)
        agreement["readability-lxml"].append(f1(ours, readable))
        agreement["jusText"].append(f1(ours, justext_text(page)))
        disagreements.append((agreement["readability-lxml"][-1], url))
    print(f"{len(rows)} pages of {PAGES}")
    print(f"digest: median {statistics.median(seconds) * 1000:.0f} ms of processor time per page "
          f"(extraction and cleaning), median {statistics.median(kept_words):.0f} words kept, "
          f"{sum(refused.values())} refused: " + ", ".join(f"{r.name} {n}" for r, n in refused.items()))
    print("token F1 of digest's text against (no ground truth here; agreement, not accuracy):")
    for other, scores in agreement.items():
        print(f"  {other:28s} mean {statistics.mean(scores):.3f}  median {statistics.median(scores):.3f}  "
              f"pages under 0.8: {sum(s < 0.8 for s in scores)}")
    print("least agreement with readability-lxml (read these by hand):")
    for score, url in sorted(disagreements)[:10]:
        print(f"  {score:.3f}  {url}")


if __name__ == "__main__":
    main()

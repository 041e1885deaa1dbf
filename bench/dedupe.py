"""How fast dedupe_stories is at 10,000 stories, and how many planted repeats it finds.

Run: .venv/bin/python bench/dedupe.py

Stories are made of real words: sentences of the real feed entries in
../shared/corpus/real_entries (falling back to the labelled sample in
tests/data/summaries), with each sentence's words shuffled so that no two
stories share five words in a row by accident. Into 10,000 such stories we
plant exact copies, lightly edited copies (words changed, a paragraph cut, a
line added) and cut-down copies (first third only) of earlier stories, and a
stock paragraph shared by one story in ten. Prints the machine's cores, the
median time (wall and processor) of RUNS runs, and how many planted repeats
were merged.

Then the labelled pairs of tests/data/dedupe/pairs.jsonl (real feed entries,
one event or two): precision and recall of merging on the dev pairs (and train),
matching events by headlines alone (as before digest.stages.event_lead) and by
headlines and leads. Then the 4,780 real feed entries themselves, dated, the
same two ways: how many stories each merges, the time, and the merges only the
leads make, to be read.
"""

from __future__ import annotations

import json
import os
import random
import re
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lxml import html  # noqa: E402

from digest.models import Drop, DropReason, SourceRef, Story  # noqa: E402
from digest.stages.dedupe import Deduper, dedupe_stories, story_texts  # noqa: E402
from digest.stages.same_event import SameEvents  # noqa: E402

RUNS = 5
STORIES = 10_000
ENTRIES = ROOT.parent / "shared" / "corpus" / "real_entries" / "rumca_2023_entries.jsonl"
PAIRS = ROOT / "tests" / "data" / "dedupe" / "pairs.jsonl"
STOCK = "The ministry did not respond to a request for comment before publication."


def entry_texts() -> list[tuple[str, str, str, datetime]]:
    """(outlet, title, text, published) of the real feed entries, markup removed."""
    if not ENTRIES.exists():
        return []
    entries = []
    for line in ENTRIES.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        text = entry.get("description") or ""
        if "<" in text:
            text = html.fromstring(text).text_content()
        text = " ".join(text.split())
        published = datetime.fromisoformat(entry.get("date_published") or f"{entry['day']}T00:00:00+00:00")
        if text:
            entries.append((entry["feed_name"], entry["title"], text, published.astimezone(UTC)))
    return entries


def sentence_pool() -> list[list[str]]:
    texts = [t for _, _, t, _ in entry_texts()]
    if not texts:
        for path in sorted((ROOT / "tests" / "data" / "summaries").glob("*.json")):
            texts += json.loads(path.read_text(encoding="utf-8")).get("paragraphs", [])
    sentences = [s.split() for t in texts for s in re.split(r"(?<=[.!?])\s+", t)]
    return [s for s in sentences if len(s) >= 6]


def planted_stories(rng: random.Random) -> tuple[list[Story], dict[str, str]]:
    """The stories, and for each planted repeat the id of the story it repeats."""
    pool = sentence_pool()

    def paragraph() -> str:
        words = [w for _ in range(3) for w in rng.choice(pool)]
        rng.shuffle(words)
        return " ".join(words) + "."

    stories: list[Story] = []
    repeats: dict[str, str] = {}
    while len(stories) < STORIES:
        n = len(stories)
        roll = rng.random()
        if n > 100 and roll < 0.05:
            original = stories[rng.randrange(n)]
            if original.id in repeats:
                continue
            paragraphs = original.paragraphs
            kind = "copy"
        elif n > 100 and roll < 0.10:
            original = stories[rng.randrange(n)]
            if original.id in repeats or len(original.paragraphs) < 4:
                continue
            edited = [" ".join(w if rng.random() > 0.03 else rng.choice(pool)[0] for w in p.split())
                      for p in original.paragraphs[:-1]]
            paragraphs = (edited[0], "The crossing is the only route into the district.", *edited[1:])
            kind = "edit"
        elif n > 100 and roll < 0.12:
            original = stories[rng.randrange(n)]
            if original.id in repeats or len(original.paragraphs) < 6:
                continue
            paragraphs = original.paragraphs[: len(original.paragraphs) // 3]
            kind = "cut"
        else:
            original = None
            paragraphs = tuple(paragraph() for _ in range(rng.randint(4, 12)))
            if rng.random() < 0.1:
                paragraphs += (STOCK,)
            kind = "story"
        identifier = f"{kind}{n}"
        if original is not None:
            repeats[identifier] = original.id
        stories.append(Story(identifier, None, tuple(paragraphs), (SourceRef(f"Outlet {n % 40}"),), identifier, 1))
    return stories, repeats


def main() -> None:
    print(f"cores: os.cpu_count()={os.cpu_count()}, usable by this process={len(os.sched_getaffinity(0))}")
    stories, repeats = planted_stories(random.Random(11))
    words = statistics.median(len(s.text.split()) for s in stories)
    print(f"\n{len(stories):,} stories, median {words:.0f} words; planted: "
          + ", ".join(f"{sum(1 for r in repeats if r.startswith(k))} {k}s" for k in ("copy", "edit", "cut"))
          + f"; stock paragraph in {sum(1 for s in stories if STOCK in s.paragraphs)}")
    times, cpu = [], []
    for _ in range(RUNS):
        start, start_cpu = time.perf_counter(), time.process_time()
        kept, drops = dedupe_stories(stories)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    print(f"  dedupe_stories: median {statistics.median(times):.2f} s wall, {statistics.median(cpu):.2f} s "
          f"processor of {RUNS} runs ({len(stories) / statistics.median(times):,.0f} stories/s)")
    kept_ids = {s.id for s in kept}
    for kind in ("copy", "edit", "cut"):
        planted = [r for r in repeats if r.startswith(kind)]
        found = sum(1 for r in planted if r not in kept_ids)
        print(f"  planted {kind}s merged: {found}/{len(planted)}")
    wrongly = sum(1 for d in drops if d.reason is not DropReason.REPEATED_PARAGRAPH and d.document not in repeats)
    print(f"  original stories wrongly dropped: {wrongly}")
    print(f"  stock paragraphs removed from later stories: {sum(1 for d in drops if d.text == STOCK)}")

    pair_figures()
    real_entries()


def deduped(stories: list[Story], *, by_lead: bool) -> tuple[list[Story], list[Drop]]:
    """dedupe_stories' result, matching events by headlines alone or by headlines and leads."""
    deduper = Deduper(SameEvents(by_lead=by_lead))
    for story, text in zip(stories, story_texts(stories), strict=True):
        deduper.add(story, text)
    kept, drops = deduper.finish()
    return [k.story for k in kept], drops


def pair_story(name: str, item: dict[str, str]) -> Story:
    published = datetime.fromisoformat(item["published"])
    return Story(name, item["title"], (item["text"],) if item["text"] else (),
                 (SourceRef(item["outlet"], published=published),), name, 1)


def pair_figures() -> None:
    """Precision and recall of merging on the labelled pairs, headlines alone and with leads."""
    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines()]
    print(f"\n{len(pairs)} labelled pairs of real feed entries (tests/data/dedupe): merging precision / recall")
    for split in ("dev", "train"):
        chosen = [p for p in pairs if p["split"] == split]
        same = sum(1 for p in chosen if p["label"] == "same")
        for by_lead, name in ((False, "headlines alone"), (True, "headlines and leads")):
            merged = [len(deduped([pair_story("a", p["a"]), pair_story("b", p["b"])], by_lead=by_lead)[0]) == 1
                      for p in chosen]
            right = sum(1 for p, m in zip(chosen, merged, strict=True) if m and p["label"] == "same")
            wrong = sum(merged) - right
            print(f"  {split:5s} ({same} same, {len(chosen) - same} different), {name:19s}: "
                  f"precision {right / max(1, right + wrong):.3f} ({wrong} wrong merges), "
                  f"recall {right / same:.3f} ({right}/{same})")


def real_entries() -> None:
    """The real feed entries, dated, deduplicated both ways: what merges and how fast."""
    entries = entry_texts()
    if not entries:
        return
    real = [Story(f"e{n}", title, (text,), (SourceRef(outlet, published=published),), f"e{n}", 1)
            for n, (outlet, title, text, published) in enumerate(entries)]
    merges: dict[bool, set[tuple[str, str]]] = {}
    print(f"\n{len(real):,} real feed entries (title + description, dated):")
    for by_lead, name in ((False, "headlines alone"), (True, "headlines and leads")):
        times, cpu = [], []
        for _ in range(RUNS):
            start, start_cpu = time.perf_counter(), time.process_time()
            _, drops = deduped(real, by_lead=by_lead)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        reasons = {k.name: sum(1 for d in drops if d.reason is k) for k in
                   (DropReason.DUPLICATE_STORY, DropReason.SAME_STORY, DropReason.REPEATED_PARAGRAPH)}
        merges[by_lead] = {(d.text, d.explanation) for d in drops if d.reason is DropReason.SAME_STORY}
        print(f"  {name:19s}: median {statistics.median(times):.2f} s wall, {statistics.median(cpu):.2f} s "
              f"processor of {RUNS} runs, {reasons}")
    print("  merged only by headlines and leads:")
    for text, explanation in sorted(merges[True] - merges[False]):
        print(f"    {text[:60]!r:64s} {explanation[:70]}")


if __name__ == "__main__":
    main()

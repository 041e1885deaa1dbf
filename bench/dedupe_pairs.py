"""Draw candidate pairs of real feed items to label as one event or two (deterministic).

Items: every entry of ../shared/corpus/real_entries/rumca_2023_entries.jsonl and of the
real_feeds files (title, and description with markup removed), dated by their published
time (a real_entries item without one by its capture day). A pair is a candidate when:

- its two items come from different outlets (an outlet is its feed name up to " - ", so
  "The Guardian - World" and "The Guardian - International" are one outlet);
- they were published at most PAIR_DAYS days apart;
- their titles are not the same text (exact copies are dedupe's first pass, not this);
- they share at least MIN_SHARED content-word stems of title and text (digest.stages.text),
  with a Jaccard similarity of at least MIN_SIMILARITY.

Candidates are ranked by that similarity; the pool takes the TOP most similar ones (where
most reports of one event are, and the hardest same-topic pairs) and then, from each band of
similarity below them, a sample chosen by hash of the pair's id (so same-topic, different-event
pairs are well represented). Last come the pairs, candidates or not, of items whose titles both
name one of the events the project saw repeated in real editions (FOLLOWED: the ATACMS strikes,
the Grand Central protest, the arms sales to Israel, marches in London). Each pair is then read
and labelled by hand.

    .venv/bin/python bench/dedupe_pairs.py pool > /tmp/pairs/pool.jsonl
    .venv/bin/python bench/dedupe_pairs.py merge /tmp/pairs/pool.jsonl LABELS.tsv \\
        > tests/data/dedupe/pairs.jsonl

`merge` reads hand-written label lines (`id<TAB>same|different<TAB>note`) and writes the
labelled pairs in pool order, each with its split: "dev" when the first hex digit of the
SHA-1 of "split " and its id is below 6 (6/16 of the pairs), "train" otherwise (not the hash
that drew the banded sample, or the sample would all fall in one split).
tests/data/dedupe/README.md describes how the pairs were labelled.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import feedparser  # noqa: E402
from lxml import html  # noqa: E402

from digest.stages.text import content_stems  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
ENTRIES = CORPUS / "real_entries" / "rumca_2023_entries.jsonl"
FEEDS = CORPUS / "real_feeds"
PAIR_DAYS = 3
MIN_SHARED = 3
MIN_SIMILARITY = 0.12
TOP = 260
BANDS = ((0.25, 60), (0.18, 60), (MIN_SIMILARITY, 40))
"""Below the TOP pairs: (lowest similarity of the band, how many pairs drawn from it)."""
FOLLOWED = tuple(re.compile(p, re.IGNORECASE) for p in (
    r"\bATACMS\b", r"\bGrand Central\b", r"\b(?:arms|weapons?|tank shells?)\b.*\bsales?\b|\bsales? of (?:arms|weapons|tank)",
    r"\bmarch\w* (?:in|through) London\b",
))


def plain(markup: str) -> str:
    text = html.fromstring(markup).text_content() if "<" in markup else markup
    return " ".join(text.split())


def items() -> Iterator[dict[str, str]]:
    """Every dated item: source file, reference, outlet, title, text and published time (ISO, UTC)."""
    for number, line in enumerate(ENTRIES.read_text(encoding="utf-8").splitlines(), start=1):
        entry = json.loads(line)
        published = entry.get("date_published") or f"{entry['day']}T00:00:00+00:00"
        yield {
            "source": "real_entries/rumca_2023_entries.jsonl", "ref": f"line {number}",
            "outlet": entry["feed_name"], "title": " ".join(entry["title"].split()),
            "text": plain(entry.get("description") or ""),
            "published": datetime.fromisoformat(published).astimezone(UTC).isoformat(),
        }
    for path in sorted(FEEDS.iterdir()):
        if path.suffix not in {".xml", ".rss", ".atom"}:
            continue
        parsed = feedparser.parse(path.read_bytes())
        outlet = parsed.feed.get("title") or path.stem
        for number, entry in enumerate(parsed.entries, start=1):
            stamp = entry.get("published_parsed") or entry.get("updated_parsed")
            if stamp is None or not entry.get("title"):
                continue
            yield {
                "source": f"real_feeds/{path.name}", "ref": f"entry {number}", "outlet": outlet,
                "title": " ".join(entry["title"].split()), "text": plain(entry.get("summary") or ""),
                "published": datetime(*stamp[:6], tzinfo=UTC).isoformat(),
            }


def outlet_of(name: str) -> str:
    return name.split(" - ")[0].strip().casefold()


def pair_id(a: dict[str, str], b: dict[str, str]) -> str:
    return hashlib.sha1(f"{a['source']}#{a['ref']}|{b['source']}#{b['ref']}".encode()).hexdigest()[:12]


def split_of(identifier: str) -> str:
    return "dev" if int(hashlib.sha1(f"split {identifier}".encode()).hexdigest()[0], 16) < 6 else "train"


def dated_items() -> list[dict[str, str]]:
    return sorted(items(), key=lambda i: (i["published"], i["source"], i["ref"]))


def followed_pairs(pool: list[dict[str, str]]) -> list[tuple[float, str, dict[str, str], dict[str, str]]]:
    """Pairs of items from different outlets, at most PAIR_DAYS apart, whose titles name one FOLLOWED event."""
    found = []
    for pattern in FOLLOWED:
        named = [i for i in pool if pattern.search(i["title"])]
        for n, a in enumerate(named):
            for b in named[n + 1:]:
                apart = datetime.fromisoformat(b["published"]) - datetime.fromisoformat(a["published"])
                if outlet_of(a["outlet"]) != outlet_of(b["outlet"]) and apart.total_seconds() <= PAIR_DAYS * 86400:
                    found.append((0.0, pair_id(a, b), a, b))
    return found


def candidates(pool: list[dict[str, str]]) -> list[tuple[float, str, dict[str, str], dict[str, str]]]:
    """Every candidate pair, most similar first: (similarity, id, earlier item, later item)."""
    stems = [frozenset(content_stems(f"{i['title']} {i['text']}")) for i in pool]
    when = [datetime.fromisoformat(i["published"]) for i in pool]
    seen_titles: set[str] = set()
    found = []
    for n, a in enumerate(pool):
        for m in range(n + 1, len(pool)):
            if (when[m] - when[n]).total_seconds() > PAIR_DAYS * 86400:
                break
            b = pool[m]
            if outlet_of(a["outlet"]) == outlet_of(b["outlet"]) or a["title"].casefold() == b["title"].casefold():
                continue
            shared = len(stems[n] & stems[m])
            if shared < MIN_SHARED:
                continue
            similarity = shared / len(stems[n] | stems[m])
            titles = f"{a['title'].casefold()}|{b['title'].casefold()}"
            if similarity >= MIN_SIMILARITY and titles not in seen_titles:
                seen_titles.add(titles)
                found.append((round(similarity, 4), pair_id(a, b), a, b))
    found.sort(key=lambda c: (-c[0], c[1]))
    return found


def pool_pairs() -> list[dict[str, object]]:
    pool = dated_items()
    ranked = candidates(pool)
    chosen = ranked[:TOP]
    upper = ranked[TOP][0] if len(ranked) > TOP else 0.0
    for lowest, count in BANDS:
        band = [c for c in ranked[TOP:] if lowest <= c[0] < upper]
        chosen += sorted(band, key=lambda c: hashlib.sha1(c[1].encode()).hexdigest())[:count]
        upper = lowest
    drawn = {c[1] for c in chosen}
    chosen += [c for c in followed_pairs(pool) if c[1] not in drawn]
    return [{"id": i, "similarity": s, "a": a, "b": b} for s, i, a, b in chosen]


def merge(pool_path: Path, label_paths: list[Path]) -> None:
    labels: dict[str, tuple[str, str]] = {}
    for path in label_paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                identifier, label, *note = line.split("\t")
                if label not in {"same", "different"}:
                    raise SystemExit(f"{path}: {identifier}: label {label!r} is neither same nor different")
                labels[identifier] = (label, note[0] if note else "")
    for line in pool_path.read_text(encoding="utf-8").splitlines():
        pair = json.loads(line)
        if pair["id"] in labels:
            label, note = labels[pair["id"]]
            print(json.dumps({**pair, "label": label, "note": note, "split": split_of(pair["id"])},
                             ensure_ascii=False))


def main() -> None:
    if sys.argv[1:2] == ["pool"]:
        for pair in pool_pairs():
            print(json.dumps(pair, ensure_ascii=False))
    elif sys.argv[1:2] == ["merge"] and len(sys.argv) >= 4:
        merge(Path(sys.argv[2]), [Path(p) for p in sys.argv[3:]])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()

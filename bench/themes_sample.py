"""Draw the items of the themes label set from ../shared/corpus (deterministic).

Prints one JSON object per line (id, source, ref, title, text, candidate) to stdout;
tests/data/themes/README.md describes the draw and how the items were then labelled.

    .venv/bin/python bench/themes_sample.py > /tmp/themes_pool.jsonl
"""

from __future__ import annotations

import hashlib
import html
import json
import random
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import feedparser

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
CANDIDATE = re.compile(
    r"settler|colonist|outpost|west bank|huwara|\barms\b|weapon|munition|ammunition|missile|\bdrones?\b"
    r"|\btanks?\b|fighter jet|f-35|f-16|embargo|export|military aid|protest|\brall(?:y|ies)\b"
    r"|\bmarch(?:es|ed|ers)?\b|vigil|boycott|\bbds\b|divest|solidarity|encampment|sit-in|\bstrike\b"
    r"|refus|flotilla|convoy|recogni[sz]|pro-palestin|activist|demonstrat|sanction",
    re.IGNORECASE,
)
"""Keyword prefilter: finds candidates so positives are plentiful; labels come from reading."""
ARMS_OR_SETTLERS = re.compile(
    r"\barms\b|weapon|munition|ammunition|embargo|military aid|f-35|settler|outpost|huwara", re.IGNORECASE
)
"""Rarer themes: every headline matching these is drawn, not a sample of them."""
TAGS = re.compile(r"<[^>]+>")
SPACES = re.compile(r"\s+")
PUBLISHER_SUFFIX = re.compile(r"\s+-\s+[^-]{2,60}$")
"""Google News appends ' - Publisher' to each headline."""
LIVE_POST = re.compile(r"\t\d+\. (.+?)\s*$")
"""A post of a CNN live page: the page's date line is followed by its posts' titles, numbered."""
TEXT_CHARS = 700

# (file, candidates drawn, others drawn); None: all of them
HEADLINES = {
    "gaza-news.txt": (300, 140),
    "bds-movement-mentions.txt": (200, 40),
    "wsj-news-middleeast.txt": (None, 20),
    "googlenews-bbc-gaza.txt": (100, 20),
    "cnn-news-israel-hamas-war.txt": (130, 60),
}
ENTRIES_OTHERS = 200
FEEDS_OTHERS = 80


def plain(text: str) -> str:
    return SPACES.sub(" ", html.unescape(TAGS.sub(" ", text or ""))).strip()


def item_id(source: str, ref: str) -> str:
    return hashlib.sha1(f"{source}:{ref}".encode()).hexdigest()[:12]


def entries() -> Iterator[dict[str, str]]:
    path = CORPUS / "real_entries" / "rumca_2023_entries.jsonl"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        entry = json.loads(line)
        yield {
            "source": "real_entries/rumca_2023_entries.jsonl",
            "ref": f"line {number}",
            "title": plain(entry["title"]),
            "text": plain(entry.get("description") or "")[:TEXT_CHARS],
        }


def feeds() -> Iterator[dict[str, str]]:
    for path in sorted((CORPUS / "real_feeds").iterdir()):
        if path.suffix == ".tsv":
            continue
        for number, entry in enumerate(feedparser.parse(str(path)).entries, 1):
            yield {
                "source": f"real_feeds/{path.name}",
                "ref": f"entry {number}",
                "title": plain(entry.get("title", "")),
                "text": plain(entry.get("summary", ""))[:TEXT_CHARS],
            }


def headlines(name: str) -> Iterator[dict[str, str]]:
    path = CORPUS / "real_headlines" / "evgeny-kolonsky_gaza-news" / name
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split("\t")
        if live_post := LIVE_POST.match(line):
            title = live_post.group(1)
        elif len(fields) >= 3 and not LIVE_POST.match(line):
            title = PUBLISHER_SUFFIX.sub("", plain(fields[2]))
        else:
            continue
        if title and title != "What we covered here":
            yield {
                "source": f"real_headlines/evgeny-kolonsky_gaza-news/{name}",
                "ref": f"line {number}",
                "title": title,
                "text": "",
            }


def draw(items: list[dict[str, str]], candidates: int | None, others: int, rng: random.Random) -> list:
    def text(item: dict[str, str]) -> str:
        return item["title"] + " " + item["text"]

    hits = [item for item in items if CANDIDATE.search(text(item))]
    rest = [item for item in items if not CANDIDATE.search(text(item))]
    must = [item for item in hits if ARMS_OR_SETTLERS.search(text(item))]
    optional = [item for item in hits if not ARMS_OR_SETTLERS.search(text(item))]
    if candidates is not None:
        optional = rng.sample(optional, max(0, min(len(optional), candidates - len(must))))
    chosen = [(item, True) for item in must + optional]
    chosen += [(item, False) for item in rng.sample(rest, min(len(rest), others))]
    return chosen


def main() -> None:
    rng = random.Random(13)
    groups = [draw(list(entries()), None, ENTRIES_OTHERS, rng), draw(list(feeds()), None, FEEDS_OTHERS, rng)]
    groups += [draw(list(headlines(name)), *counts, rng) for name, counts in HEADLINES.items()]
    seen: set[str] = set()
    for group in groups:
        for item, candidate in group:
            key = SPACES.sub(" ", item["title"].lower()).strip()
            if not key or key in seen:
                continue
            seen.add(key)
            record = {"id": item_id(item["source"], item["ref"]), **item, "candidate": candidate}
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

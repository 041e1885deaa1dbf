"""Draw more title-only items from ../shared/corpus/real_headlines for the theme labels (deterministic).

The first label set (tests/data/themes/labels.jsonl, drawn by bench/themes_sample.py) holds 1,029
headlines; this script draws NEW ones from the same five headline files so that the classifier sees
more briefs, more of the vocabulary the first prefilter did not look for, and more plain "none" news.
`random.Random(1313)`; items are skipped when their id or their lower-cased, whitespace-collapsed
title is already in labels.jsonl or already drawn, and when their content words overlap an item
already drawn or labelled by half or more (Jaccard ≥ 0.5: the same event retold), so that the draw is
varied. Per file, in this order:

- every new headline naming the arms trade in words the first draw did not search for (arms sales,
  weapons shipments, munitions, F-16/F-35, Leopard, Patriot, HIMARS, ATACMS, Taiwan, Saudi,
  export licences, embargoes, military aid, defence contractors) or settlers, outposts, the
  olive harvest;
- a random sample of the other **candidates**, headlines that the first prefilter (CANDIDATE of
  bench/themes_sample.py) or the wider solidarity vocabulary here (students, march, rally, vigil,
  strike, dockworkers, flotilla, recognising Palestine, arrests of protesters, artists, athletes…)
  matches: Gaza 230, BDS 190, WSJ all, BBC 45, CNN 80;
- a random sample of the **non-candidates** (Gaza 140, BDS 60, WSJ 25, BBC 25, CNN 50): what a
  prefilter misses, so that "none" is learnt broadly and positives without keywords are found;
- the drawn items are then shuffled, so that any prefix of the labelling is a fair mix.

A second draw (MORE), appended after the first was labelled so that the first stays as it was:
every new headline naming the arms trade as the first draw's labels showed it is written (bombs
shipped to or paused for Israel, military and jet sales, US-made bombs, "arming", the $95 billion
aid package), then more candidates (Gaza 60, BDS 60, BBC 10, CNN 20) and more non-candidates
(Gaza 40, BDS 20, WSJ 10, BBC 10, CNN 20), shuffled again. A third draw (EVEN_MORE), appended
the same way: West Bank headlines, the hard cases beside settler violence (Gaza 30, WSJ 5, CNN 10),
more candidates (Gaza 50, BDS 40, BBC 10, CNN 20) and non-candidates (Gaza 90, BDS 30, WSJ 10,
BBC 15, CNN 35).

    .venv/bin/python bench/themes_sample_more.py draw > /tmp/headlines_pool.jsonl
    .venv/bin/python bench/themes_sample_more.py merge /tmp/headlines_pool.jsonl LABELS.tsv... \\
        > tests/data/themes/labels-headlines.jsonl

`merge` reads the labeller's lines `id<TAB>label<TAB>high|low<TAB>also-or-dash` and writes the
labelled records, in draw order, with the schema of labels.jsonl.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from pathlib import Path

from themes_sample import ARMS_OR_SETTLERS, CANDIDATE, SPACES, headlines, item_id

LABELS = Path(__file__).resolve().parents[1] / "tests" / "data" / "themes" / "labels.jsonl"
THEMES = ("arms-exports", "settler-violence", "solidarity", "none")
RARE = re.compile(
    r"arms (?:sales?|deals?|transfers?|shipments?)|weapons? (?:shipments?|sales?|deliver)|munitions|f-16|f-35"
    r"|leopard|patriot|himars|atacms|taiwan|saudi|export licen[cs]e|embargo|military aid|security assistance"
    r"|elbit|lockheed|raytheon|\brtx\b|\bbae\b|boeing|rheinmetall|defen[cs]e (?:contractor|firm|industry|compan)"
    r"|bombs? to israel|aid package|settler|outpost|olive harvest|west bank village|hawara|masafer yatta",
    re.IGNORECASE,
)
"""Rarer themes in words the first draw did not search for: every new headline matching is drawn."""
WIDER = re.compile(
    r"boycott|student|\bmarch|rall(?:y|ies)|vigil|sit-in|strike|dockworker|port workers?|flotilla"
    r"|recogni[sz]e.{0,20}palestin|palestinian state|arrest.{0,30}(?:protest|activist|student)|artist"
    r"|athlete|musician|writer|eurovision|walk ?out|occupy|disrupt",
    re.IGNORECASE,
)
"""Solidarity vocabulary beyond CANDIDATE."""
ARMS_TRADE = re.compile(
    r"(?:send|stop sending|paus|deliver|ship|provid|suppl)\w*.{0,25}\bbombs?\b|\bbombs? (?:shipment|delay|deliver)"
    r"|\bbombs? to israel|u\.?s\.?[- ]made|u\.?s\.? bomb fragments|military sale|\bsales? to israel|gun sale"
    r"|fighter jets? (?:from|sale)|\bjets? from the us|jet sale|\barming\b|stopsendingarms|tactical gear"
    r"|\$\d+ billion (?:house )?package|package that includes aid",
    re.IGNORECASE,
)
"""The arms trade in the words of the second draw (US bombs and jets for Israel): every new match is drawn."""
WEST_BANK = re.compile(r"west bank|olive|demoli|village|bedouin|herder|jordan valley|evict|annex", re.IGNORECASE)
"""The third draw's hard cases for settler violence: West Bank violence not (or not said to be) by settlers."""
WORD = re.compile(r"[a-z0-9]{3,}")
STOPWORDS = frozenset("the and for with from that this after over into says said its are was has have not but".split())
NEAR_DUPLICATE = 0.5

# (file, candidates drawn, others drawn); None: all of them
HEADLINES = {
    "gaza-news.txt": (230, 140),
    "bds-movement-mentions.txt": (190, 60),
    "wsj-news-middleeast.txt": (None, 25),
    "googlenews-bbc-gaza.txt": (45, 25),
    "cnn-news-israel-hamas-war.txt": (80, 50),
}


Pools = dict[str, tuple[list[dict[str, str]], list[dict[str, str]]]]
"""Per file, the first draw's shuffled candidates and others, which the later draws continue."""
Counts = tuple[int | None, int, int]
"""A later draw's counts for one file: pattern matches (None: all), further candidates, further others."""
MORE: dict[str, Counts] = {
    "gaza-news.txt": (None, 60, 40),
    "bds-movement-mentions.txt": (None, 60, 20),
    "wsj-news-middleeast.txt": (None, 0, 10),
    "googlenews-bbc-gaza.txt": (None, 10, 10),
    "cnn-news-israel-hamas-war.txt": (None, 20, 20),
}
EVEN_MORE: dict[str, Counts] = {
    "gaza-news.txt": (30, 50, 90),
    "bds-movement-mentions.txt": (0, 40, 30),
    "wsj-news-middleeast.txt": (5, 0, 10),
    "googlenews-bbc-gaza.txt": (0, 10, 15),
    "cnn-news-israel-hamas-war.txt": (10, 20, 35),
}


def title_key(title: str) -> str:
    return SPACES.sub(" ", title.lower()).strip()


def content_words(title: str) -> frozenset[str]:
    return frozenset(WORD.findall(title.lower())) - STOPWORDS


def split_of(identifier: str) -> str:
    """The rule of labels.jsonl: dev when int(sha1(id)) mod 100 < 35, fixed forever."""
    return "dev" if int(hashlib.sha1(identifier.encode()).hexdigest(), 16) % 100 < 35 else "train"


class Drawer:
    """Remembers what is labelled or drawn, to skip repeats and retold events."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.keys: set[str] = set()
        self.words: list[frozenset[str]] = []
        for line in LABELS.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            self.remember(record["id"], record["title"])

    def remember(self, identifier: str, title: str) -> None:
        self.ids.add(identifier)
        self.keys.add(title_key(title))
        self.words.append(content_words(title))

    def is_new(self, item: dict[str, str]) -> bool:
        if item_id(item["source"], item["ref"]) in self.ids or title_key(item["title"]) in self.keys:
            return False
        words = content_words(item["title"])
        return all(len(words & seen) < NEAR_DUPLICATE * len(words | seen) for seen in self.words)

    def take(self, items: list[dict[str, str]], count: int | None) -> list[dict[str, str]]:
        taken: list[dict[str, str]] = []
        for item in items:
            if count is not None and len(taken) >= count:
                break
            if self.is_new(item):
                self.remember(item_id(item["source"], item["ref"]), item["title"])
                taken.append(item)
        return taken


def draw() -> list[dict[str, object]]:
    rng = random.Random(1313)
    drawer = Drawer()
    pools: Pools = {}
    first: list[tuple[dict[str, str], bool]] = []
    for name, (candidates, others) in HEADLINES.items():
        rare: list[dict[str, str]] = []
        hits: list[dict[str, str]] = []
        rest: list[dict[str, str]] = []
        for item in headlines(name):
            if RARE.search(item["title"]) or ARMS_OR_SETTLERS.search(item["title"]):
                rare.append(item)
            elif CANDIDATE.search(item["title"]) or WIDER.search(item["title"]):
                hits.append(item)
            else:
                rest.append(item)
        rng.shuffle(hits)
        rng.shuffle(rest)
        pools[name] = (hits, rest)
        first += [(item, True) for item in drawer.take(rare, None)]
        first += [(item, True) for item in drawer.take(hits, candidates)]
        first += [(item, False) for item in drawer.take(rest, others)]
    rng.shuffle(first)
    second = draw_more(pools, drawer, rng, ARMS_TRADE, MORE)
    third = draw_more(pools, drawer, rng, WEST_BANK, EVEN_MORE)
    return [
        {"id": item_id(item["source"], item["ref"]), **item, "candidate": candidate} for item, candidate in first + second + third
    ]


def draw_more(
    pools: Pools, drawer: Drawer, rng: random.Random, pattern: re.Pattern[str], counts: dict[str, Counts]
) -> list[tuple[dict[str, str], bool]]:
    """A later draw from the first draw's shuffled pools: matches of pattern, candidates, others."""
    drawn: list[tuple[dict[str, str], bool]] = []
    for name, (matches, candidates, others) in counts.items():
        hits, rest = pools[name]
        matching = [item for item in [*hits, *rest] if pattern.search(item["title"])]
        drawn += [(item, True) for item in drawer.take(matching, matches)]
        drawn += [(item, True) for item in drawer.take(hits, candidates)]
        drawn += [(item, False) for item in drawer.take(rest, others)]
    rng.shuffle(drawn)
    return drawn


def read_labels(paths: list[Path]) -> dict[str, tuple[str, str, str | None]]:
    labels: dict[str, tuple[str, str, str | None]] = {}
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) != 4:
                raise SystemExit(f"{path}:{number}: expected id, label, confidence, also; got {line!r}")
            identifier, label, confidence, also = (field.strip() for field in fields)
            if label not in THEMES or confidence not in ("high", "low") or (also != "-" and also not in THEMES):
                raise SystemExit(f"{path}:{number}: bad label, confidence or also in {line!r}")
            if identifier in labels:
                raise SystemExit(f"{path}:{number}: {identifier} is labelled twice")
            labels[identifier] = (label, confidence, None if also == "-" else also)
    return labels


def merge(pool: Path, label_files: list[Path]) -> None:
    labels = read_labels(label_files)
    drawn = [json.loads(line) for line in pool.read_text(encoding="utf-8").splitlines()]
    unknown = set(labels) - {record["id"] for record in drawn}
    if unknown:
        raise SystemExit(f"labels for ids that were not drawn: {sorted(unknown)[:5]}")
    for record in drawn:
        if record["id"] not in labels:
            continue
        label, confidence, also = labels[record["id"]]
        labelled = {key: record[key] for key in ("id", "source", "ref", "title", "text")}
        labelled |= {"label": label, "confidence": confidence, "also": also}
        labelled |= {"candidate": record["candidate"], "split": split_of(record["id"])}
        sys.stdout.write(json.dumps(labelled, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("draw", help="print the drawn items, one JSON object a line")
    merging = commands.add_parser("merge", help="print the labelled records of the drawn items")
    merging.add_argument("pool", type=Path)
    merging.add_argument("labels", type=Path, nargs="+")
    args = parser.parse_args()
    if args.command == "draw":
        for record in draw():
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        merge(args.pool, args.labels)


if __name__ == "__main__":
    main()

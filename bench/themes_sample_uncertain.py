"""Draw real_headlines items the shipped theme classifier is least sure of, for labelling (deterministic).

Recall of arms exports and solidarity is the weak point, and more varied labelled headlines the lever.
This draws NEW headlines from the five ../shared/corpus/real_headlines files: an item is skipped when its
id or its lower-cased, whitespace-collapsed title is in any tests/data/themes/labels*.jsonl but this draw's
own (OUTPUT, so that the draw is the same before and after labelling), when its title
repeats one already drawn, and when its content words overlap a labelled or drawn title by half or more
(Jaccard ≥ 0.5, bench/themes_sample_more.py's Drawer: the same event retold). `random.Random(2026)`;
three draws, in this order, each shuffled:

1. **uncertain** (UNCERTAIN items): headlines where digest's shipped classifier
   (digest.stages.theme_classifier.classifier with the themes of schedule.yaml), deciding a Story
   built as bench/themes.py builds one with the headline file's search context as its text
   (themes_export.context_of), gives its top theme a probability in [LOW, HIGH];
2. **prefilter** (PREFILTERED items): every remaining headline in a wide arms-trade vocabulary
   (ARMS_WORDS, the rarer theme), then a sample of those in a wide solidarity vocabulary
   (SOLIDARITY_WORDS), words the earlier draws did not search for;
3. **random** (RANDOM items): any remaining headline, the base rate for honest precision.

Draw 1 depends on the shipped model: the labelled file was drawn with digest/stages/theme_examples.jsonl
as of commit 479267e; once the labels are exported and the model retrained, it draws other items.
Draws 1 and 2 are `candidate` true. The labelling is by hand, by THEMES.md; the model's probability
plays no part in a label (the labeller sees titles only).

    .venv/bin/python bench/themes_sample_uncertain.py draw > /tmp/uncertain_pool.jsonl
    .venv/bin/python bench/themes_sample_more.py merge /tmp/uncertain_pool.jsonl LABELS.tsv... \\
        > tests/data/themes/labels-headlines-uncertain.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from themes import ROOT, THEMES, Item, story
from themes_export import context_of, label_files
from themes_sample import headlines, item_id
from themes_sample_more import HEADLINES, Drawer, title_key

from digest.config import load_config
from digest.stages.theme_classifier import classifier

OUTPUT = "labels-headlines-uncertain.jsonl"
"""This draw's labelled records: not read back, so that the draw stays the same once they exist."""
UNCERTAIN, PREFILTERED, RANDOM = 700, 600, 300
LOW, HIGH = 0.15, 0.85
"""The top theme's probability between these: the items the model is least sure of."""
ARMS_WEAPON = (
    r"weapons?|arms|shells?|munitions?|ammunition|bombs?|jets?|f-?16s?|f-?35s?|missiles?|drones?|rockets?"
    r"|tanks?|helicopters?|interceptors?|iron dome|artillery|rifles?|guns?|spyware"
)
ARMS_WORDS = re.compile(
    rf"\b(?:{ARMS_WEAPON})\b|military (?:aid|assistance|support|equipment|exports?|sales?)|weapons? package"
    r"|export licen[cs]e|licen[cs]es?|rheinmetall|elbit|lockheed|\bbae\b|raytheon|\brtx\b|general dynamics"
    r"|northrop|boeing|palantir|arms (?:maker|industry|firm|trade|dealer)|defen[cs]e (?:firm|industry|deal|contract)"
    rf"|\b(?:sale|sell|sold|suppl|ship|deliver|send|sent|provid|transfer|export|donat|gift|halt|pause|suspend|block)"
    rf"\w*\b.{{0,40}}\b(?:{ARMS_WEAPON})\b",
    re.IGNORECASE,
)
"""Arms-trade vocabulary: systems, firms, licences, and a trade verb near a weapon word."""
SOLIDARITY_WORDS = re.compile(
    r"students?|campus|universit|college|encampment|walk ?outs?|sit-ins?|vigils?|\bmarch|rall(?:y|ies)"
    r"|boycott|divest|sanction|flotilla|dock ?workers?|port workers?|unions?|artists?|musicians?|singers?"
    r"|actors?|writers?|authors?|eurovision|festival|athletes?|footballers?|players?|fans|ceasefire"
    r"|councils?|councillors?|\bmps?\b|lawmakers?|protest|demonstrat|activists?|arrest|banned|\bbans?\b"
    r"|suspend|fired|expel|keffiyeh|flags?|solidarity|pro-palestin|free palestine|genocide|apartheid"
    r"|occup(?:y|ied|ation)|block(?:ade|ed)|chant|petition|letter|strike",
    re.IGNORECASE,
)
"""Solidarity vocabulary, wide: actors, actions, and crackdowns on them."""


def earlier_labels(output: str = OUTPUT) -> list[Path]:
    """Every label file but the draw's own (output)."""
    return [path for path in label_files() if path.name != output]


def unlabelled(output: str = OUTPUT) -> Iterator[dict[str, str]]:
    """Every real_headlines item of the five files whose id or title is in no label file but output."""
    ids: set[str] = set()
    keys: set[str] = set()
    for path in earlier_labels(output):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                ids.add(record["id"])
                keys.add(title_key(record["title"]))
    for name in HEADLINES:
        for item in headlines(name):
            if item_id(item["source"], item["ref"]) not in ids and title_key(item["title"]) not in keys:
                yield item


def labelled_drawer(output: str = OUTPUT) -> Drawer:
    """A Drawer that knows every labelled title (but output's), not only labels.jsonl's."""
    drawer = Drawer()
    for path in earlier_labels(output)[1:]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                drawer.remember(record["id"], record["title"])
    return drawer


def top_probability(items: list[dict[str, str]]) -> list[float]:
    """The shipped classifier's probability for each item's most likely theme."""
    themes = {key: theme for key, theme in load_config(ROOT / "schedule.yaml").themes.items() if key in THEMES}
    chosen = classifier(themes)
    tops = []
    for number, item in enumerate(items):
        scores = chosen.decide(story(Item(item["title"], context_of(item), None), number)).scores
        tops.append(max((p for _, p in scores), default=0.0))
    return tops


Drawn = list[tuple[dict[str, str], bool, str]]
"""Each drawn headline, whether a prefilter or the classifier drew it (``candidate``), and the name of its draw."""


def draw_round(
    output: str,
    seed: int,
    first: tuple[str, Callable[[list[dict[str, str]], Drawer, random.Random], list[dict[str, str]]]],
    uncertain: int,
    at_random: int,
) -> Drawn:
    """A labelling round's draws from the headlines no label file but ``output`` holds, in this order, with one
    ``random.Random(seed)``: the round's own (``first``: its name and how it draws from the pool), then
    ``uncertain`` headlines the shipped classifier gives its top theme a probability in [LOW, HIGH], then
    ``at_random`` of any; each draw's counts go to stderr."""
    rng = random.Random(seed)
    drawer = labelled_drawer(output)
    pool = list(unlabelled(output))
    print(f"{len(pool)} unlabelled headlines", file=sys.stderr)
    name, draw_first = first
    drawn: Drawn = [(item, True, name) for item in draw_first(pool, drawer, rng)]
    tops = top_probability(pool)
    unsure = [item for item, top in zip(pool, tops, strict=True) if LOW <= top <= HIGH]
    rng.shuffle(unsure)
    taken = drawer.take(unsure, uncertain)
    print(f"uncertain: {len(unsure)} at {LOW}-{HIGH}, {len(taken)} drawn", file=sys.stderr)
    drawn += [(item, True, "uncertain") for item in taken]
    rest = list(pool)
    rng.shuffle(rest)
    taken = drawer.take(rest, at_random)
    print(f"random: {len(taken)} drawn", file=sys.stderr)
    return drawn + [(item, False, "random") for item in taken]


def print_round(doc: str, drawn: Callable[[], Drawn]) -> None:
    """The command line of a labelling round: `draw` prints each drawn item, one JSON object a line."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("command", choices=["draw"], help="print the drawn items, one JSON object a line")
    parser.parse_args()
    for item, candidate, name in drawn():
        record = {"id": item_id(item["source"], item["ref"]), **item, "candidate": candidate, "draw": name}
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")

def draw() -> list[dict[str, object]]:
    rng = random.Random(2026)
    drawer = labelled_drawer()
    pool = list(unlabelled())
    tops = top_probability(pool)
    uncertain = [item for item, top in zip(pool, tops, strict=True) if LOW <= top <= HIGH]
    rng.shuffle(uncertain)
    first = drawer.take(uncertain, UNCERTAIN)
    arms = [item for item in pool if ARMS_WORDS.search(item["title"])]
    solidarity = [
        item for item in pool if SOLIDARITY_WORDS.search(item["title"]) and not ARMS_WORDS.search(item["title"])
    ]
    rng.shuffle(arms)
    rng.shuffle(solidarity)
    second = drawer.take(arms, None)
    second += drawer.take(solidarity, PREFILTERED - len(second))
    rng.shuffle(second)
    rest = list(pool)
    rng.shuffle(rest)
    third = drawer.take(rest, RANDOM)
    drawn = [(item, True) for item in first + second] + [(item, False) for item in third]
    return [{"id": item_id(item["source"], item["ref"]), **item, "candidate": candidate} for item, candidate in drawn]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["draw"], help="print the drawn items, one JSON object a line")
    parser.parse_args()
    for record in draw():
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

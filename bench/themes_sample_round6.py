"""Draw the sixth and last round of real_headlines items for the theme labels: every one left (deterministic).

The learning curve of the shipped classifier on the dev labels still rises with each doubling of the train
labels (bench/themes.py on a quarter, half, three quarters and all of them), and the five headline files still
hold headlines no label file has. This draws all of them: every real_headlines item whose id or lower-cased,
whitespace-collapsed title is in no tests/data/themes/labels*.jsonl but this draw's own (OUTPUT, so that the
draw is the same before and after labelling), skipping a headline whose content words overlap a labelled or
drawn title by half or more (Jaccard ≥ 0.5, bench/themes_sample_more.py's Drawer: the same event retold, which
would put one event on both sides of the split). `random.Random(6066)` shuffles them first, so that which
retelling of an event is kept is a fair pick and any prefix of the labelling is a fair mix. No prefilter and no
classifier draws them: `candidate` is false for all, and the labeller sees titles and their search only.

    .venv/bin/python bench/themes_sample_round6.py draw > /tmp/round6_pool.jsonl
    .venv/bin/python bench/themes_sample_more.py merge /tmp/round6_pool.jsonl LABELS.tsv... \\
        > tests/data/themes/labels-headlines-round6.jsonl
"""

from __future__ import annotations

import random
import sys

from themes_sample_uncertain import Drawn, labelled_drawer, print_round, unlabelled

OUTPUT = "labels-headlines-round6.jsonl"
"""This draw's labelled records: not read back, so that the draw stays the same once they exist."""


def draw() -> Drawn:
    pool = list(unlabelled(OUTPUT))
    random.Random(6066).shuffle(pool)
    taken = labelled_drawer(OUTPUT).take(pool, None)
    print(
        f"{len(pool)} unlabelled headlines, {len(taken)} drawn (the others retell a labelled or drawn one)",
        file=sys.stderr,
    )
    return [(item, False, "rest") for item in taken]


def main() -> None:
    print_round(__doc__, draw)


if __name__ == "__main__":
    main()

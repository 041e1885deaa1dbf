"""Draw a fourth round of real_headlines items for the theme labels, aimed at arms-exports recall (deterministic).

Arms exports has the fewest labelled positives of the themes that must reach recall 0.85, and more varied
labelled headlines are the lever. This draws NEW headlines from the five ../shared/corpus/real_headlines
files, titles normalised as bench/themes_sample.py's headlines() does (a CNN live post's "12. " number and
Google News' " - Publisher" suffix cut): an item is skipped when its id or its lower-cased,
whitespace-collapsed title is in any tests/data/themes/labels*.jsonl but this draw's own (OUTPUT, so that
the draw is the same before and after labelling), and when its content words overlap a labelled or drawn
title by half or more (Jaccard ≥ 0.5, bench/themes_sample_more.py's Drawer: the same event retold).
`random.Random(4044)`; three draws, in this order, each shuffled:

1. **arms** (up to ARMS items): every remaining headline with a weapon word (WEAPON: arms, weapons,
   munitions, bombs, shells, missiles, rockets, drones, jets, F-35/F-16, tanks, Iron Dome, interceptors,
   military aid, aid packages, arms firms, Caterpillar bulldozers, spyware, NSO/Pegasus, surveillance)
   and a trade or policy word (TRADE: sale, export, supply, ship, deliver, send, pause, halt, suspend,
   withhold, embargo, licence, deal, contract, package, bill, conditions, arming, arms); then every
   headline with a weapon word alone; then, to ARMS in all, headlines in a wider military and military-aid
   vocabulary (MILITARY: military, Pentagon, defence, artillery, aircraft, US-made, aid or support for
   Israel, funding, billions, Congress, the Senate, security assistance, warships…), because the first
   two are nearly exhausted by the earlier rounds (159 unlabelled headlines match WEAPON at all);
2. **uncertain** (UNCERTAIN items): headlines where digest's shipped classifier gives its top theme a
   probability in [LOW, HIGH], computed as bench/themes_sample_uncertain.py computes it;
3. **random** (RANDOM items): any remaining headline, the base rate.

Draw 2 depends on the shipped model: the labelled file was drawn with digest/stages/theme_examples.jsonl
as of commit b10163e (before this round's labels were exported). Draws 1 and 2 are `candidate` true.
Labels are by hand, by THEMES.md; neither the words that drew an item nor the model's probability play a
part (the labeller sees titles and their search only). Counts per draw go to stderr; each drawn record
names its draw (`draw`), which `merge` leaves out.

    .venv/bin/python bench/themes_sample_round4.py draw > /tmp/round4_pool.jsonl
    .venv/bin/python bench/themes_sample_more.py merge /tmp/round4_pool.jsonl LABELS.tsv... \\
        > tests/data/themes/labels-headlines-round4.jsonl
"""

from __future__ import annotations

import random
import re
import sys

from themes_sample_more import Drawer
from themes_sample_uncertain import Drawn, draw_round, print_round

OUTPUT = "labels-headlines-round4.jsonl"
"""This draw's labelled records: not read back, so that the draw stays the same once they exist."""
ARMS, UNCERTAIN, RANDOM = 450, 350, 150
WEAPON = re.compile(
    r"\barms\b|\bweapon|\bmunition|\bammunition|\bbomb|\bshells\b|\bmissile|\brocket|\bdrones?\b|\bjets?\b"
    r"|\bf-?35s?\b|\bf-?16s?\b|\btanks\b|iron dome|\binterceptors?\b|military aid|aid package"
    r"|defen[cs]e (?:firm|compan|contractor|industry|maker)|arms (?:firm|maker|compan|industry)|\belbit\b"
    r"|lockheed|boeing|raytheon|\bbae\b|\brafael\b|caterpillar|\bbulldozer|spyware|\bnso\b|pegasus|surveillance",
    re.IGNORECASE,
)
"""Weapons, military aid and the firms that make or sell them."""
TRADE = re.compile(
    r"\bsale|\bsell|\bsold\b|\bexport|\bimport|\bsuppl(?:y|ies|ied|ier)|\bship|\bdeliver|\bsen[dt]s?\b|\bsending"
    r"|\btransfer|\bpaus|\bhalt|\bsuspen|\bwithh[oe]ld|\bembargo|\blicen[cs]e|\bdeals?\b|\bcontracts?\b"
    r"|\bpackages?\b|\bbills?\b|\bcondition|\barming\b|\barms\b",
    re.IGNORECASE,
)
"""The trade and policy words that turn a weapon word into arms-trade news."""
MILITARY = re.compile(
    r"militar|pentagon|defen[cs]e|\barmed\b|arsenal|warplane|aircraft|artillery|\bguns?\b|firearm|rifle|\btanks?\b"
    r"|helicopter|apache|thaad|patriot|\bammo\b|jdam|phosphorus|cluster|[- ]made\b|\$\s?\d|billion|\bbn\b"
    r"|supplemental|\bfunding\b|\baid (?:to|for) israel|israel aid|support (?:to|for) israel|\bcongress|\bsenate\b"
    r"|\bhouse (?:vote|pass|approv|speaker|republican|democrat)|\bblinken|\baustin\b|\bsecurity (?:aid|assistance)"
    r"|\bsubmarine|warship|frigate|\bnavy\b|\bsoldiers? ",
    re.IGNORECASE,
)
"""Wider: the military, military aid and the money and votes behind it, where unnamed arms deals hide."""



def draw_arms(pool: list[dict[str, str]], drawer: Drawer, rng: random.Random) -> list[dict[str, str]]:
    """Every weapon-and-trade headline, then weapon-only ones, then wider military ones, to ARMS in all."""
    trade = [item for item in pool if WEAPON.search(item["title"]) and TRADE.search(item["title"])]
    weapon = [item for item in pool if WEAPON.search(item["title"]) and not TRADE.search(item["title"])]
    military = [item for item in pool if MILITARY.search(item["title"]) and not WEAPON.search(item["title"])]
    taken: list[dict[str, str]] = []
    for name, items in (("weapon-and-trade", trade), ("weapon-only", weapon), ("wider military", military)):
        rng.shuffle(items)
        more = drawer.take(items, ARMS - len(taken))
        print(f"arms: {len(items)} {name} headlines, {len(more)} drawn", file=sys.stderr)
        taken += more
    return taken


def draw() -> Drawn:
    return draw_round(OUTPUT, 4044, ("arms", draw_arms), UNCERTAIN, RANDOM)


def main() -> None:
    print_round(__doc__, draw)

if __name__ == "__main__":
    main()

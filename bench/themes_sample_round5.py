"""Draw a fifth round of real_headlines items for the theme labels, aimed at misplaced items (deterministic).

A reader notices a theme's mistakes on the items next to it: the Israelis rallying for hostages beside
solidarity, the attack on settlers beside settler violence, the battlefield missile beside arms exports, and
the theme's own edges (a crackdown on a march, a councillor resigning over Gaza, a state trade ban, a
military-aid bill). This draws NEW headlines from the five ../shared/corpus/real_headlines files, titles
normalised as bench/themes_sample.py's headlines() does: an item is skipped when its id or its lower-cased,
whitespace-collapsed title is in any tests/data/themes/labels*.jsonl but this draw's own (OUTPUT, so that the
draw is the same before and after labelling), and when its content words overlap a labelled or drawn title by
half or more (Jaccard ≥ 0.5, bench/themes_sample_more.py's Drawer: the same event retold).
`random.Random(5055)`; three draws, in this order, each shuffled:

1. **adjacency** (up to ADJACENCY items): headlines in the vocabularies of ADJACENT, each group's matches
   shuffled and taken to its cap (None: every match) in the order listed, then any group's remaining
   matches to ADJACENCY in all. THEMES.md's "other" beside a theme: Israelis protesting or rallying
   (judicial overhaul, anti-government, hostage families), rallies for Israel or against antisemitism and
   governments' solidarity with Israel, Palestinians protesting or striking for their own cause and
   Palestinian prisoners, attacks on settlers or Israelis, settlement building and annexation policy,
   army raids in the West Bank, the battlefield use of weapons, weapons found or seized, gun crime, sanctions
   and trade measures, aid convoys and trucks; and the themes' own edges: crackdowns on pro-Palestinian
   actions, politicians resigning or rebelling over Gaza, councils' resolutions, cultural and sporting
   boycotts, states cutting trade or ties, military aid;
2. **uncertain** (UNCERTAIN items): headlines where digest's shipped classifier gives its top theme a
   probability in [LOW, HIGH], computed as bench/themes_sample_uncertain.py computes it;
3. **random** (RANDOM items): any remaining headline, the base rate.

Draw 2 depends on the shipped model: the labelled file was drawn with schedule.yaml's themes and
digest/stages/theme_examples.jsonl as of commit 4d3790c; later term-group or example changes draw other items.
Draws 1 and 2 are `candidate` true. Labels are by hand, by THEMES.md; neither the words that drew an item nor
the model's probability play a part (the labeller sees titles and their search only). Counts per draw and
group go to stderr; each drawn record names its draw (`draw`), which `merge` leaves out.

    .venv/bin/python bench/themes_sample_round5.py draw > /tmp/round5_pool.jsonl
    .venv/bin/python bench/themes_sample_more.py merge /tmp/round5_pool.jsonl LABELS.tsv... \\
        > tests/data/themes/labels-headlines-round5.jsonl
"""

from __future__ import annotations

import random
import re
import sys

from themes_sample_more import Drawer
from themes_sample_uncertain import Drawn, draw_round, print_round

OUTPUT = "labels-headlines-round5.jsonl"
"""This draw's labelled records: not read back, so that the draw stays the same once they exist."""
ADJACENCY, UNCERTAIN, RANDOM = 350, 150, 100
PROTEST = r"(?:protest|rall(?:y|ies|ied)|march|demonstrat|vigil|gather)"
ADJACENT: dict[str, tuple[int | None, str]] = {
    "Israelis rallying": (
        None,
        rf"(?:israelis|tel aviv|jerusalem|hostages?'? (?:famil|relatives)|families of (?:the )?hostages"
        rf"|judicial (?:overhaul|reform)|anti-government|anti-netanyahu|reservists?|netanyahu)\b.{{0,60}}\b{PROTEST}"
        rf"|\b{PROTEST}\w*.{{0,60}}(?:in israel|tel aviv|jerusalem|hostages?|judicial|anti-government|netanyahu|knesset)",
    ),
    "for Israel, against antisemitism": (
        None,
        rf"pro-israel|stand(?:s|ing)? with israel|(?:march|rall(?:y|ies)|vigil|gather\w*) (?:for|in support of|to support)"
        rf" israel|solidarity with (?:israel|the jewish)|support(?:s|ing)? for israel|(?:against|combat|fight)\w* antisemitism"
        rf"|antisemitism.{{0,20}}{PROTEST}|israeli flags?|lights? up .{{0,20}}(?:blue and white|israel)"
        rf"|(?:hostage|kidnapped).{{0,30}}(?:posters?|vigil|rally|march)",
    ),
    "Palestinians' own protests, prisoners": (
        None,
        r"palestinians?\b.{0,40}\b(?:protest|rall(?:y|ies)|march|strike|demonstrat)|general strike"
        r"|(?:protest|rall(?:y|ies)|march|strike|demonstrat)\w*.{0,40}(?:ramallah|nablus|jenin|hebron|west bank|bethlehem"
        r"|east jerusalem|al-aqsa)|palestinian prisoners?|palestinian detainees?|hunger strike|administrative detention"
        r"|prisoners? (?:released|freed|swap|exchange)",
    ),
    "attacks on settlers or Israelis": (
        None,
        r"(?:attack|shoot|gunm[ae]n|stab|ramming|terror)\w*.{0,50}(?:settlers?|settlement|israeli (?:civilians|motorists"
        r"|car|bus|driver)|jerusalem|west bank)|(?:settlers?|israelis?) (?:killed|wounded|shot|injured|stabbed)"
        r"|shooting attack|stabbing|car-ramming|ramming attack|terror attack",
    ),
    "settlement policy": (
        None,
        r"settlements?\b|annex|outposts?|legali[sz]\w*|housing units|\be1\b|smotrich|ben[- ]gvir|land grab|state land"
        r"|return to gaza|resettle",
    ),
    "weapons found, gun crime": (
        None,
        r"(?:weapons?|arms|guns?|rifles?|explosives?|ammunition|munitions?|rockets?|cache|launchers?).{0,40}(?:found"
        r"|seized|seize|discover|uncover|confiscat|smuggl|captured|stash)|(?:found|seized|seize|discover\w*|uncover\w*"
        r"|confiscat\w*|smuggl\w*)\b.{0,40}(?:weapons?|arms|guns?|rifles?|explosives?|ammunition|cache)|\bguns?\b"
        r"|firearms?|\bshooter|\brifles?\b|ar-15|\bnra\b|mass shooting|gun (?:sales|law|control|violence|licen)|shot dead",
    ),
    "sanctions and trade": (
        None,
        r"sanction\w*|tariffs?|trade (?:ban|measure|restrict|deal|war|ties|agreement)|export (?:ban|control|curb)s?"
        r"|import ban|blacklist|\bembargo|oil (?:price|revenue|export)|freez\w+ .{0,20}assets|asset freeze",
    ),
    "crackdowns": (
        None,
        r"(?:arrest|detain|\bban(?:s|ned)?\b|suspend|expel|\bfire[sd]\b|sack|cancel|prohibit|disciplin|police|crack\w* ?down"
        r"|deport|censor|punish|investigat|charged|raid|clear|dismantl|disband|visa|silenc|dox)\w*.{0,60}(?:pro-palestin"
        r"|palestin\w* (?:protest|activist|supporter|march|rall|flag|student|group|scarf|event|voices|speech|solidarity)"
        r"|protesters?|activists?|students?|encampments?|keffiyeh|flags?|chant|slogans?|river to the sea|intifada"
        r"|students for justice|jewish voice|professors?|speech)",
    ),
    "resigning or rebelling over Gaza": (
        None,
        r"\b(?:resign\w*|quits?|rebel\w*|revolt|step(?:s|ped)? down|defy|defies|defied)\b.{0,60}\b(?:gaza|ceasefire"
        r"|cease-fire|israel|palestin\w*)|\b(?:gaza|ceasefire|cease-fire|israel)\b.{0,60}\b(?:resign\w*|rebellion|revolt"
        r"|vote)\b",
    ),
    "councils": (
        None,
        r"(?<!security )(?<!un )\bcouncil\w*.{0,60}(?:ceasefire|cease-fire|resolution|gaza|palestin|israel|boycott|divest)"
        r"|(?:city|town|county|village|borough|state) (?:council|legislat|assembly|hall)|\bcity of\b|councilmembers?"
        r"|alderm[ae]n|\bmayors?\b",
    ),
    "states cutting trade or ties": (
        None,
        r"(?:\bban\w*|halt\w*|suspend\w*|\bcut\w*|\bstop\w*|restrict\w*|\bend\w*|sever\w*|recall\w*|close\w*)\b.{0,40}"
        r"(?:trade|imports?|exports?|goods|products|shipments?|ties|relations|ambassador|ports?|airspace)\b"
        r"|settlement (?:goods|products)|(?:trade|imports?|exports?)\b.{0,30}(?:israel)",
    ),
    "military aid": (
        None,
        r"military aid|military assistance|\baid (?:to|for) (?:israel|ukraine|taiwan)|(?:israel|ukraine|taiwan)\w* aid"
        r"|aid (?:package|bill)|supplemental|foreign aid|security (?:aid|assistance)|\$\s?\d+(?:\.\d+)? ?(?:billion|bn)\b"
        r"|funding (?:for|to) (?:israel|ukraine|taiwan)|(?:weapons?|arms) (?:to|for) (?:israel|ukraine|taiwan)|\bjets?\b"
        r"|f-?35|f-?15|f-?16|\bnato\b|\bpentagon\b",
    ),
    "cultural and sporting boycotts": (
        45,
        r"boycott\w*|pull(?:s|ed)? out|withdr[ae]w\w*|\bfestival|eurovision|biennale|book fair|\bartists?\b|musicians?"
        r"|singers?|\bbands?\b|\bwriters?\b|\bauthors?\b|\bactors?\b|\bactress|\bfilm(?:maker)?s?\b|oscars?|grammys?"
        r"|\bconcerts?\b|\bgig\b|\btour\b|\bmuseum|\bgallery|\bexhibition|\btheat(?:re|er)|\bpoet|\bnovelist|\bpublisher"
        r"|\bsport|\bfifa\b|\buefa\b|olympic|footbal|\bteam\b",
    ),
    "battlefield weapons": (
        25,
        r"\b(?:fire[sd]?|firing|launch(?:es|ed)?|dropp?(?:ed|s)?|us(?:e|ed|es|ing)|intercept\w*|shot down|downs?"
        r"|deploy\w*)\b.{0,40}\b(?:missiles?|rockets?|drones?|bombs?|shells?|weapons?|munitions?|artillery|phosphorus"
        r"|tanks?|bulldozers?|ai\b|lavender)|\b(?:missile|rocket|drone|artillery|tank|sniper)s? (?:attack|strike|fire"
        r"|barrage|shell)|white phosphorus|sirens?\b|interceptor|iron dome|tunnels?",
    ),
    "West Bank raids": (
        27,
        r"\braid(?:s|ed|ing)?\b|\bjenin\b|\bnablus\b|\btulkarem\b|\btulkarm\b|nur shams|balata|west bank|\bhebron\b"
        r"|ramallah|\bqalqilya|jericho|bethlehem",
    ),
    "aid convoys": (
        27,
        r"aid (?:convoys?|trucks?|lorries|shipments?|ships?|flights?|deliver\w*|corridor|route|drops?|boats?)|\bconvoys?\b"
        r"|\btrucks?\b|\blorr(?:y|ies)\b|rafah crossing|kerem shalom|airdrop\w*|air-?drop|humanitarian (?:corridor|pier)"
        r"|\bpier\b|maritime corridor|aid (?:ship|vessel)",
    ),
}
"""Each group of hard cases beside a theme: its cap in the first pass (None: every match) and its vocabulary."""
PATTERNS = {name: re.compile(pattern, re.IGNORECASE) for name, (_, pattern) in ADJACENT.items()}



def draw_adjacency(pool: list[dict[str, str]], drawer: Drawer, rng: random.Random) -> list[dict[str, str]]:
    """Each group's matches to its cap, in ADJACENT's order, then any group's leftovers to ADJACENCY; shuffled."""
    groups = {name: [item for item in pool if pattern.search(item["title"])] for name, pattern in PATTERNS.items()}
    taken: list[dict[str, str]] = []
    for name, items in groups.items():
        rng.shuffle(items)
        cap = ADJACENT[name][0]
        more = drawer.take(items, ADJACENCY - len(taken) if cap is None else min(cap, ADJACENCY - len(taken)))
        print(f"adjacency: {len(items)} {name} headlines, {len(more)} drawn", file=sys.stderr)
        taken += more
    leftovers = [item for items in groups.values() for item in items]
    rng.shuffle(leftovers)
    more = drawer.take(leftovers, ADJACENCY - len(taken))
    print(f"adjacency: {len(more)} more of any group", file=sys.stderr)
    taken += more
    rng.shuffle(taken)
    return taken


def draw() -> Drawn:
    return draw_round(OUTPUT, 5055, ("adjacency", draw_adjacency), UNCERTAIN, RANDOM)


def main() -> None:
    print_round(__doc__, draw)

if __name__ == "__main__":
    main()

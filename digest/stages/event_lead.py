"""One event in different words, told by a story's headline and first words (a helper of same_event).

same_event's headline rule merges headlines worded alike. Reports of one event
worded apart ("Mike Pence Drops Out of 2024 Republican Presidential Race" and
"Former US Vice President Mike Pence withdraws from 2024 presidential race")
still share the event's rarer words between one's headline and the other's headline and first
LEAD_WORDS words of text (its lead). Two stories report one event by their
leads when:

- each headline has at least MIN_STEMS content-word stems;
- each headline's words are found in the other's lead: the weighted share of
  each headline's stems found there (its coverage) is at least MIN_COVERAGE;
- the lower coverage plus the cosine similarity of the two leads' weighted stems
  reaches SAME_LEAD, or the two leads give one amount (_amounts: "34 arrests",
  "$700 million", a score of "36-14"; not a rank, a day or a year), which
  says more than any word: "Police Arrest 34 in Dublin Riot Following School
  Stabbing" and "Dublin riot: 'Huge destruction' after school stabbing leads
  to 34 arrests";

and no guard says they are two events (each errs towards two stories, since a
story merged away is a story lost to the reader):

- figures: both headlines give numbers and share none, or both leads do ("at
  least 21 dead" and "at least 25 dead" are two reports a reader should see;
  number words count, so "Six suspects" and "7 suspects" disagree, while figures
  within SAME_FIGURE of each other agree: "$147M" and "$147.5 million");
- names: each headline has a rare word (RARE) that its lead never writes in
  lower case (a name, then) and the other's lead lacks ("Al-Rantisi Hospital"
  and "Al-Shifa hospital" are two hospitals; "sidesteps" and "bypasses" are
  words, and disagree on nothing);
- steps: a headline names a step of a process (STEP_WORDS: a bid, an arrest,
  bail, a ruling struck down …) that the other's lead does not: a parole bid
  and parole granted are two stories;
- kinds: the headlines are of different kinds (KIND_WORDS: an explainer, a
  video, a briefing, a live page …, or a question), or one lead tells of a
  decision still to come (PENDING) and the other does not: "What we know about
  the raid" and "How Israel built its case for the raid" are two pieces, "U.K.
  Supreme Court to Rule on Deporting Asylum Seekers to Rwanda" and "UK top
  court rules plan … is illegal" two stories.

same_event applies the last two guards to its headline rule as well, and
matches by leads only stories published at most LEAD_HOURS apart: a looser
match needs a tighter window ("Iga Swiatek ends Coco Gauff's winning streak"
and, two days on, "Coco Gauff and Iga Swiatek won't play in Billie Jean King
Cup" share most of their leads' words).

A compound written with a hyphen is one word when its parts are in lower case
or English writes it as one ("cease-fire" finds "ceasefire", "front-bench"
finds "frontbenchers"), and is found in a lead holding its parts too; a name's
compound ("Hamas-run", "al-Shifa") stays two words. A rare name is found in a
lead that spells it another way (spelling_key: "Zelenskyy" and "Zelenskiy").

A word weighs more the rarer it is in English: 7.5 less its Zipf frequency
(wordfreq's small English list, shipped in its wheel: log10 of uses per billion
words, 7.7 for "the", 3.9 for "gaza"), between 0.5 and RARE; a word the list
lacks (it stops near a Zipf frequency of 3) weighs RARE. The large list did no
better on the train pairs and takes several times the memory (README). A fixed table keeps the
weights the same in a build of two stories and of ten thousand, and in any
order of them; an IDF fitted to the build's own stories would not.

The thresholds were set on the train half of tests/data/dedupe/pairs.jsonl
(labelled pairs of real feed entries, see its README); bench/dedupe.py prints
precision and recall on the dev half.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from digest.stages.text import STOPWORDS, WordTable, stem, words, words_once
from digest.stages.word_frequency import zipf_table

MIN_STEMS = 3
"""Shorter headlines ("Wednesday Briefing") say too little to match on."""
MIN_COVERAGE = 0.45
"""Weighted share of each headline's stems that the other story's lead must hold."""
SAME_LEAD = 1.1
"""The lower coverage plus the leads' cosine similarity that makes two stories one event."""
LEAD_HOURS = 36
"""Stories matched by their leads were published at most this many hours apart."""
RARE = 4.5
"""The highest weight, that of a rare word (a Zipf frequency of 3 or less, or one the list lacks:
names, mostly): one rare word does not outweigh the rest of a headline."""
LEAD_WORDS = 40
"""A lead is the headline and the first this many words of the text (a teaser's sentence or two)."""
MIN_KEY = 5
"""Rare names match by spelling_key only when it has this many letters: "hms" is "Hamas" and "Homs"."""
SAME_FIGURE = 0.01
"""Two figures this close (relatively) are one figure told two ways: "$147M" and "$147.5 million"."""
NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
ORDINAL_ENDINGS = frozenset(("st", "nd", "rd", "th"))
MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
)
DAY_BEFORE = re.compile(rf"\b(?:{MONTH}|day)\s+$", re.IGNORECASE)
DAY_AFTER = re.compile(rf"\s+{MONTH}(?![a-z])", re.IGNORECASE)
"""A number after a month or "day", or a day's number before a month, is a day ("November 24", "24 November",
"day 11"), not an amount."""
MIN_AMOUNT = 10
"""Smaller figures ("2 shot dead", "3 shadow ministers") are shared by many events."""
YEARS = (1900, 2100)
HAS_DIGIT = re.compile(r"\d")
NUMBER_WORDS = {
    word: float(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
    if value >= 2
}
"""Number words that are figures ("one" is mostly not: "one of", "one year on")."""
CALENDAR_WORDS = frozenset(
    stem(word)
    for word in (
        "monday tuesday wednesday thursday friday saturday sunday january february march april may june "
        "july august september october november december today yesterday tomorrow week"
    ).split()
)
KIND_WORDS = frozenset(
    stem(word)
    for word in (
        "explained explainer analysis opinion watch video videos photos pictures live briefing newsletter "
        "firstft list timeline chronology mapping maps"
    ).split()
)
"""Words that make a headline a kind of piece (an explainer, a video, a live page) rather than its news."""
QUESTION_WORDS = frozenset("why how what who".split())
"""…and these when they open the headline or a part of it ("Israel attack: What is Hamas"), not
within it ("actor who starred in")."""
COMPOUND = re.compile(r"\b([^\W\d_]+)-([^\W\d_]+)\b")
"""Two words joined by a hyphen ("cease-fire", "front-bench"), which other writers may spell as one word
("ceasefire", "frontbenchers"); see _joined for which are taken as one."""
HEADLINE_PART = re.compile(r"[:|—–]\s*|\s-\s")
STEP_WORDS = frozenset(
    stem(word)
    for word in (
        "bid seek seeks appeal appeals preview due expected plans proposed considers arrested charged bail "
        "convicted sentenced acquitted jailed freed released granted denied rejected struck upheld "
        "overturned blocked approved"
    ).split()
)
"""Steps of a process: a headline at one step and a lead that never names it tell two stories."""
PENDING = re.compile(
    r"\b(?:to|will)\s+(?:rule|decide|vote|announce|hear|consider|weigh|sentence|deliver)\b", re.IGNORECASE
)
"""A decision still to come ("Supreme Court to Rule on …"): another story than the decision."""


def _stem_and_weight(word: str) -> tuple[str, float] | None:
    """A word's stem and weight; None for a word that does not count (stop, calendar and kind words)."""
    lower = word.lower()
    if len(word) < 2 or lower in STOPWORDS:
        return None
    stemmed = stem(word)
    if stemmed in CALENDAR_WORDS or stemmed in KIND_WORDS:
        return None
    return stemmed, max(0.5, min(RARE, 7.5 - zipf_table().zipf(lower.replace("’", "'"))))


_STEM_AND_WEIGHT = WordTable(_stem_and_weight)


_NONE: Mapping[str, Any] = MappingProxyType({})
"""The compounds of a headline without any: one shared empty mapping, not one dict per story."""


@dataclass(frozen=True, slots=True)
class Lead:
    """What matching by leads needs of a story: its headline's and its lead's weighted stems, and the guards'."""

    title: dict[str, float]
    """Content stems of the headline -> weight (calendar and kind words left out)."""
    title_weight: float
    lead: dict[str, float]
    """Content stems of the lead (the headline and the text's first LEAD_WORDS words) -> weight."""
    norm: float
    """Euclidean norm of the lead's weights."""
    title_figures: frozenset[float]
    figures: frozenset[float]
    """Numbers in the lead (number words included)."""
    amounts: tuple[float, ...]
    """The lead's amounts (_amounts): a tuple, since most leads have none and the empty tuple is shared."""
    kinds: frozenset[str]
    """Kind words of the headline, "?" for a question, "…" for a decision still to come."""
    steps: frozenset[str]
    rare: frozenset[str]
    """Rare stems of the headline never written in lower case in its lead (names, mostly)."""
    compounds: Mapping[str, Mapping[str, float]]
    """Stem of a compound of the headline ("ceasefir" of "cease-fire") -> its parts' stems and weights."""

    def covered_by(self, other: Lead) -> float:
        """The weighted share of this headline's stems that the other's lead holds."""
        lead = other.lead
        covered = 0.0
        for s, w in self.title.items():
            if s in lead:
                covered += w
            elif s in self.compounds:
                covered += w * _share_in(self.compounds[s], lead)
            elif w >= RARE and other.names_a_variant_of(s):
                covered += w
        return covered / self.title_weight

    def names_a_variant_of(self, name: str) -> bool:
        """Whether the lead holds another spelling of a rare name ("Zelenskiy" of "Zelenskyy"), by spelling_key."""
        key = spelling_key(name)
        return len(key) >= MIN_KEY and any(
            w >= RARE and s != name and spelling_key(s) == key for s, w in self.lead.items()
        )

    def same_event(self, other: Lead) -> bool:
        """Whether the two leads tell one event (see the module's docstring)."""
        coverage = min(self.covered_by(other), other.covered_by(self))
        if coverage < MIN_COVERAGE:
            return False
        if not _agree(self.amounts, other.amounts):
            dot = sum(w * other.lead[s] for s, w in self.lead.items() if s in other.lead)
            if coverage + dot / (self.norm * other.norm) < SAME_LEAD:
                return False
        return not self._guards_apart(other)

    def _guards_apart(self, other: Lead) -> bool:
        return (
            _disagree(self.title_figures, other.title_figures)
            or _disagree(self.figures, other.figures)
            or self.other_piece(other)
            or self._lacks_a_name_of(other) and other._lacks_a_name_of(self)
        )

    def _lacks_a_name_of(self, other: Lead) -> bool:
        """Whether this headline has a rare name that the other's lead lacks, in any spelling."""
        return any(s not in other.lead and not other.names_a_variant_of(s) for s in self.rare)

    def other_piece(self, other: Lead) -> bool:
        """Whether the headlines are of different kinds, or one names a step the other's lead does not."""
        return (
            self.kinds != other.kinds
            or bool(self.steps.difference(other.lead)) or bool(other.steps.difference(self.lead))
        )


def _disagree(figures: frozenset[float], others: frozenset[float]) -> bool:
    """Whether both give figures and none of one is (within SAME_FIGURE) one of the other's."""
    return bool(figures) and bool(others) and not _agree(figures, others)


def _agree(figures: Collection[float], others: Collection[float]) -> bool:
    """Whether a figure of one is (within SAME_FIGURE) one of the other's."""
    return any(abs(a - b) <= SAME_FIGURE * max(a, b) for a in figures for b in others)


def lead_of(title: str, paragraphs: Sequence[str]) -> Lead | None:
    """What matching by leads needs of a story (None: its headline is too short to match on)."""
    title_stems, compounds = _title_terms(title)
    if len(title_stems) < MIN_STEMS:
        return None
    first = " ".join(" ".join(paragraphs[:2]).split()[:LEAD_WORDS])
    lead = _weighted_stems(first)
    for s, w in title_stems.items():
        if w > lead.get(s, 0.0):
            lead[s] = w
    title_words = words(title)
    title_figures = _figures(title, title_words)
    figures = title_figures | _figures(first, words_once(first))
    rare = [s for s, w in title_stems.items() if w >= RARE]
    if rare:
        texts = (title, first) if "-" not in title and "-" not in first else (title, first, COMPOUND.sub(_joined, f"{title} {first}"))
        lower = {
            found[0] for text in texts for w in words_once(text)
            if w[0].islower() and (found := _STEM_AND_WEIGHT[w]) is not None and found[1] >= RARE
        }
        rare = [s for s in rare if s not in lower]
    return Lead(
        title_stems,
        sum(title_stems.values()),
        lead,
        math.sqrt(sum(w * w for w in lead.values())),
        title_figures,
        figures,
        _amounts(f"{title} {first}"),
        _kinds(title, title_words) | ({"…"} if PENDING.search(f"{title} {first}") else set()),
        frozenset(title_stems).intersection(STEP_WORDS),
        frozenset(rare),
        compounds,
    )


def _title_terms(title: str) -> tuple[dict[str, float], Mapping[str, Mapping[str, float]]]:
    """A headline's weighted stems, a compound ("cease-fire") one stem, and each compound's parts' stems."""
    if "-" not in title:
        return _weighted_stems(title), _NONE
    compounds: dict[str, Mapping[str, float]] = {}
    for found in COMPOUND.finditer(title):
        joined = _joined(found)
        stem_and_weight = _STEM_AND_WEIGHT[joined] if joined != found[0] else None
        if stem_and_weight is not None:
            compounds[stem_and_weight[0]] = _weighted_stems(found[0])
    return _weighted_stems(COMPOUND.sub(_joined, title)), compounds or _NONE


@lru_cache(maxsize=4096)
def spelling_key(name: str) -> str:
    """A name's consonants after its first letter, doubles written once: one key for the spellings of a
    name transliterated ("zelenskyy", "zelenskiy" and "zelensky": "zlnsk")."""
    key = name[:1] + "".join(c for c in name[1:] if c not in "aeiouy")
    return "".join(c for i, c in enumerate(key) if i == 0 or c != key[i - 1])


def _joined(compound: re.Match[str]) -> str:
    """A compound as one word when English writes it so or it names nothing ("front-bench"); a name's
    compound ("Hamas-run", "al-Shifa") keeps its parts."""
    joined = compound[1] + compound[2]
    if compound[1][0].islower() and compound[2][0].islower() or zipf_table().zipf(joined.lower()) > 0:
        return joined
    return compound[0]


def _share_in(parts: Mapping[str, float], lead: dict[str, float]) -> float:
    """The weighted share of a compound's parts that a lead holds ("long range" for "long-range")."""
    total = sum(parts.values())
    return sum(w for s, w in parts.items() if s in lead) / total if total else 0.0


def _amounts(text: str) -> tuple[float, ...]:
    """A text's amounts: figures that tell one event from another ("$147.5 million", "34 arrests", a score of
    "36-14"), of at least MIN_AMOUNT, not a rank ("50th ton"), a day (DAY_BEFORE, DAY_AFTER) or a year."""
    if not HAS_DIGIT.search(text):
        return ()
    amounts = set()
    for found in NUMBER.finditer(text):
        value = float(found[0].replace(",", ""))
        start, end = found.span()
        if (
            value < MIN_AMOUNT
            or YEARS[0] <= value <= YEARS[1] and value.is_integer()
            or text[end : end + 2].lower() in ORDINAL_ENDINGS
            or DAY_BEFORE.search(text, max(0, start - 12), start)
            or value <= 31 and DAY_AFTER.match(text, end, end + 12)
        ):
            continue
        amounts.add(value)
    return tuple(sorted(amounts))


def _kinds(title: str, title_words: Sequence[str]) -> frozenset[str]:
    """The kind words of a headline, and "?" for a question ("Will Xi's gamble on Putin pay off?")."""
    kinds = set(map(stem, title_words)).intersection(KIND_WORDS)
    if not QUESTION_WORDS.isdisjoint(map(str.lower, title_words)):
        for part in HEADLINE_PART.split(title):
            opening = words(part)[:1]
            if opening and opening[0].lower() in QUESTION_WORDS:
                kinds.add(opening[0].lower())
    if title.rstrip().endswith("?"):
        kinds.add("?")
    return frozenset(kinds)


def _weighted_stems(text: str) -> dict[str, float]:
    """Content stems of a text -> the weight of their rarest form in it (words_once: most are leads,
    each read once; a headline's words are remembered where other stages ask for them too)."""
    weighted: dict[str, float] = {}
    for found in map(_STEM_AND_WEIGHT.__getitem__, words_once(text)):
        if found is not None and found[1] > weighted.get(found[0], 0.0):
            weighted[found[0]] = found[1]
    return weighted


def _figures(text: str, text_words: Sequence[str]) -> frozenset[float]:
    figures = {float(number.replace(",", "")) for number in NUMBER.findall(text)} if HAS_DIGIT.search(text) else set()
    figures.update(NUMBER_WORDS[w] for w in map(str.lower, text_words) if w in NUMBER_WORDS)
    return frozenset(figures)

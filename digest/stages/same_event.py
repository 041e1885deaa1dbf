"""One event reported by several outlets, told by the stories' headlines (a helper of dedupe).

Dedupe's near-duplicate pass finds one report run twice; it cannot see that Al
Jazeera's "Biden administration bypasses Congress on weapons sales to Israel"
and the New York Times' "Biden Administration Again Bypasses Congress for
Weapons Sale to Israel" are one piece of news, since independent writers rarely
share five words in a row. Their headlines share most of their meaningful
words, though. Two stories report the same event when:

- their outlets differ (an outlet's own follow-ups stay separate stories);
- both are dated, at most EVENT_DAYS apart;
- each headline has at least MIN_STEMS content-word stems, weekday and month
  names left out ("… for Saturday, December 9" dates a puzzle series, it is not
  its news);
- the two sets of stems have a Jaccard similarity of at least SAME_EVENT;
- their figures do not disagree: when both headlines give numbers, they share one
  ("$320 million sale" and "$147 million sale" are two sales; a toll of 14 and a
  toll of 2,000 are two reports a reader should both see);
- their names do not disagree: in two sentence-case headlines the capitalised words
  past the first are names, and when each headline has a name the other lacks
  ("Thousands march in London …", "Thousands march in Paris …") they are two
  events; a name spelt two ways is one name (event_lead.spelling_key: "Zelenskyy",
  "Zelenskiy"). Title-case headlines capitalise every word, so they say nothing here.

Read one by one on ../shared/corpus/real_entries (4,808 stories of 23 outlets, Oct-Dec
2023, dated by the day they were captured), the 67 stories this merges are one event
each but one ("In photos: Hamas unleashes attack from Gaza on Israel" with "Photos:
Israel pummels Gaza after Hamas's unprecedented attack"); a few are one event at two
stages (an earthquake's toll at 14, then 2,000). A headline-only test misses reports
worded apart ("Protesters shut New York's Grand Central Station" against "Protesters
in NYC Overrun Grand Central"): two stories are left rather than one lost.

Merging a story away loses it for the reader, so the last two rules err on the side
of two stories: on real_entries they keep 72 of the 76 merges the stems alone make
(the four left apart are tolls that grew and two headlines naming Gaza and Hamas).

Reports worded apart are matched by their leads instead (digest.stages.event_lead:
each headline's rarer words found in the other's headline and first sentence, with
guards of its own, two of which, steps and kinds of piece, hold for the headline
rule too); the first three rules and the names rule hold for them as well.
Candidates are the stories whose headline holds enough of the new story's headline
stems for the headline rule, and those whose lead holds enough of its heavier stems
(LOOKUP_WEIGHT) for the lead rule; nothing else is compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from digest.models import Story, assume_utc
from digest.stages.event_lead import CALENDAR_WORDS, LEAD_HOURS, MIN_COVERAGE, MIN_KEY, Lead, lead_of, spelling_key
from digest.stages.text import content_stems

SAME_EVENT = 0.6
"""Jaccard similarity of two headlines' stems that makes their stories one event."""
MIN_STEMS = 4
"""Shorter headlines ("Live updates", "World news") say too little to match on."""
EVENT_DAYS = 2
"""Reports of one event appear within this many days of each other."""
STEM_LIMIT = 100
"""A stem remembers its first 100 stories: a word in thousands of headlines ("gaza") must not make
every pair of them a candidate; a true match shares rarer words too."""
LOOKUP_WEIGHT = 3.0
"""Leads are looked up by their stems of this weight or more (a Zipf frequency of 4.5 or less: "raid",
"gaza", not "israel" or "says"): a lead rule match shares some of them."""
LOOKUP_SHARE = 0.3
"""…and at least this share of their weight: every match on the labelled pairs (tests/data/dedupe) holds
31% or more of each headline's heavier stems in the other's lead."""

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
WORD = re.compile(r"[^\W\d_][\w'’-]*")


@dataclass(frozen=True, slots=True)
class _Report:
    """What matching needs of a story: its headline, outlet and day, and its lead."""

    stems: frozenset[str]
    outlet: str
    published: datetime
    """When it was published (midnight UTC for a story dated by its day alone)."""
    day: date
    figures: frozenset[str]
    """The numbers its headline gives, thousands separators removed."""
    names: frozenset[str] | None
    """Stems of its headline's capitalised words past the first; None for a title-case headline."""
    lead: Lead | None

    def same_event(self, other: _Report) -> bool:
        """Whether two reports tell one event."""
        if self.outlet == other.outlet or abs((self.day - other.day).days) > EVENT_DAYS:
            return False
        if self._names_disagree(other):
            return False
        if self.lead is None or other.lead is None:
            return self._headlines_agree(other)
        if self.lead.other_piece(other.lead):
            return False
        return self._headlines_agree(other) or (
            abs((self.published - other.published).total_seconds()) <= LEAD_HOURS * 3600
            and self.lead.same_event(other.lead)
        )

    def _headlines_agree(self, other: _Report) -> bool:
        if len(self.stems) < MIN_STEMS or len(other.stems) < MIN_STEMS:
            return False
        shared = len(self.stems & other.stems)
        union = len(self.stems) + len(other.stems) - shared
        return shared >= SAME_EVENT * union and not (
            self.figures and other.figures and self.figures.isdisjoint(other.figures)
        )

    def _names_disagree(self, other: _Report) -> bool:
        if self.names is None or other.names is None:
            return False
        return _lacks_a_name(self.names - other.stems, other.names) and _lacks_a_name(other.names - self.stems, self.names)


def _lacks_a_name(missing: frozenset[str], names: frozenset[str]) -> bool:
    """Whether a name of ``missing`` is none of ``names`` in another spelling ("Zelenskyy", "Zelenskiy")."""
    keys: set[str] | None = None
    for name in missing:
        key = spelling_key(name)
        if len(key) < MIN_KEY:
            return True
        if keys is None:
            keys = {other for other in map(spelling_key, names) if len(other) >= MIN_KEY}
        if key not in keys:
            return True
    return False


class SameEvents:
    """Reports of the stories kept so far, and which earlier one a new story's event matches.

    ``by_lead``: False matches by headlines alone (bench/dedupe.py compares the two).
    """

    def __init__(self, *, by_lead: bool = True) -> None:
        self._by_lead = by_lead
        self._looked_up: tuple[Story, _Report | None] | None = None
        """The story earlier_report last read, and what it read: remember() usually follows for it."""
        self._reports: dict[int, _Report] = {}
        self._with_stem: dict[str, list[int]] = {}
        """Headline stem -> the first STEM_LIMIT stories whose headline holds it."""
        self._with_lead_stem: dict[str, list[int]] = {}
        """Stem weighing LOOKUP_WEIGHT or more -> the first STEM_LIMIT stories whose lead holds it."""

    def earlier_report(self, story: Story) -> int | None:
        """The first remembered story reporting this story's event, if any."""
        report = _report(story, self._by_lead)
        self._looked_up = story, report
        if report is None:
            return None
        found: dict[int, int] = {}
        for stem in report.stems:
            for other in self._with_stem.get(stem, ()):
                found[other] = found.get(other, 0) + 1
        # the headline rule needs at least SAME_EVENT of this headline's stems in the other's
        enough = SAME_EVENT * len(report.stems) if len(report.stems) >= MIN_STEMS else float("inf")
        candidates = {other for other, shared in found.items() if shared >= enough}
        if report.lead is not None:
            candidates.update(self._lead_candidates(report.lead))
        for other in sorted(candidates):
            if report.same_event(self._reports[other]):
                return other
        return None

    def _lead_candidates(self, lead: Lead) -> list[int]:
        """Stories whose leads may hold MIN_COVERAGE of this headline's weight, told by its heavier stems."""
        heavy = {stem: weight for stem, weight in lead.title.items() if weight >= LOOKUP_WEIGHT}
        heavy_weight = sum(heavy.values())
        needed = max(MIN_COVERAGE * lead.title_weight - (lead.title_weight - heavy_weight), LOOKUP_SHARE * heavy_weight)
        found: dict[int, float] = {}
        for stem, weight in heavy.items():
            for other in self._with_lead_stem.get(stem, ()):
                found[other] = found.get(other, 0.0) + weight
        return [other for other, weight in found.items() if weight >= needed]

    def remember(self, position: int, story: Story) -> None:
        """A story kept: later reports of its event are matched with it."""
        looked_up = self._looked_up
        report = looked_up[1] if looked_up is not None and looked_up[0] is story else _report(story, self._by_lead)
        if report is None:
            return
        self._reports[position] = report
        for index, stems in (
            (self._with_stem, report.stems),
            (self._with_lead_stem, [s for s, w in report.lead.lead.items() if w >= LOOKUP_WEIGHT] if report.lead else []),
        ):
            for stem in stems:
                members = index.setdefault(stem, [])
                if len(members) < STEM_LIMIT:
                    members.append(position)


def _report(story: Story, by_lead: bool) -> _Report | None:
    """What matching needs of a story (None: undated or untitled, or too little to match on)."""
    published = story.sources[0].published if story.sources else None
    if published is None or not story.title:
        return None
    if isinstance(published, datetime):
        published = assume_utc(published)
        day = published.date()
    else:
        day, published = published, datetime.combine(published, time(), UTC)
    stems = frozenset(content_stems(story.title)) - CALENDAR_WORDS
    lead = lead_of(story.title, story.paragraphs) if by_lead else None
    if len(stems) < MIN_STEMS and lead is None:
        return None
    figures = frozenset(number.replace(",", "") for number in NUMBER.findall(story.title))
    return _Report(stems, story.sources[0].name.casefold(), published, day, figures, _names(story.title), lead)


def _names(title: str) -> frozenset[str] | None:
    """Stems of a sentence-case headline's capitalised words past its first; None when it is title case."""
    title_words = WORD.findall(title)[1:]
    capitalised = [word for word in title_words if word[0].isupper()]
    if len(title_words) < 2 or 2 * len(capitalised) > len(title_words):
        return None
    return frozenset(content_stems(" ".join(capitalised)))

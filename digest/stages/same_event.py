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
  events. Title-case headlines capitalise every word, so they say nothing here.

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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from digest.models import Story
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
CALENDAR_WORDS = frozenset(
    content_stems(
        "monday tuesday wednesday thursday friday saturday sunday january february march april may june "
        "july august september october november december today yesterday tomorrow week"
    )
)


NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
WORD = re.compile(r"[^\W\d_][\w'’-]*")


@dataclass(frozen=True, slots=True)
class _Headline:
    """What matching needs of a story's headline."""

    stems: frozenset[str]
    outlet: str
    day: date
    figures: frozenset[str]
    """The numbers it gives, thousands separators removed."""
    names: frozenset[str] | None
    """Stems of its capitalised words past the first; None for a title-case headline."""

    def same_event(self, other: _Headline, shared: int) -> bool:
        union = len(self.stems) + len(other.stems) - shared
        return (
            shared >= SAME_EVENT * union
            and self.outlet != other.outlet
            and abs((self.day - other.day).days) <= EVENT_DAYS
            and not (self.figures and other.figures and self.figures.isdisjoint(other.figures))
            and not self._names_disagree(other)
        )

    def _names_disagree(self, other: _Headline) -> bool:
        if self.names is None or other.names is None:
            return False
        return bool(self.names - other.stems) and bool(other.names - self.stems)


class SameEvents:
    """Headlines of the stories kept so far, and which earlier one a new story's event matches."""

    def __init__(self) -> None:
        self._looked_up: tuple[Story, _Headline | None] | None = None
        """The story earlier_report last read, and what it read: remember() usually follows for it."""
        self._headlines: dict[int, _Headline] = {}
        self._with_stem: dict[str, list[int]] = {}

    def earlier_report(self, story: Story) -> int | None:
        """The first remembered story reporting this story's event, if any."""
        headline = _headline(story)
        self._looked_up = story, headline
        if headline is None:
            return None
        shared: dict[int, int] = {}
        for stem in headline.stems:
            for other in self._with_stem.get(stem, ()):
                shared[other] = shared.get(other, 0) + 1
        for other in sorted(shared):
            if headline.same_event(self._headlines[other], shared[other]):
                return other
        return None

    def remember(self, position: int, story: Story) -> None:
        """A story kept: later reports of its event are matched with it."""
        looked_up = self._looked_up
        headline = looked_up[1] if looked_up is not None and looked_up[0] is story else _headline(story)
        if headline is None:
            return
        self._headlines[position] = headline
        for stem in headline.stems:
            members = self._with_stem.setdefault(stem, [])
            if len(members) < STEM_LIMIT:
                members.append(position)


def _headline(story: Story) -> _Headline | None:
    """What matching needs of a story's headline (None: too little to match on)."""
    published = story.sources[0].published if story.sources else None
    if published is None or not story.title:
        return None
    day = published.date() if isinstance(published, datetime) else published
    stems = frozenset(content_stems(story.title)) - CALENDAR_WORDS
    if len(stems) < MIN_STEMS:
        return None
    figures = frozenset(number.replace(",", "") for number in NUMBER.findall(story.title))
    return _Headline(stems, story.sources[0].name.casefold(), day, figures, _names(story.title))


def _names(title: str) -> frozenset[str] | None:
    """Stems of a sentence-case headline's capitalised words past its first; None when it is title case."""
    title_words = WORD.findall(title)[1:]
    capitalised = [word for word in title_words if word[0].isupper()]
    if len(title_words) < 2 or 2 * len(capitalised) > len(title_words):
        return None
    return frozenset(content_stems(" ".join(capitalised)))

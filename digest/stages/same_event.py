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
- the two sets of stems have a Jaccard similarity of at least SAME_EVENT.

Read one by one on ../shared/corpus/real_entries (4,808 stories of 23 outlets, Oct-Dec
2023, dated by the day they were captured), the 67 stories this merges are one event
each but one ("In photos: Hamas unleashes attack from Gaza on Israel" with "Photos:
Israel pummels Gaza after Hamas's unprecedented attack"); a few are one event at two
stages (an earthquake's toll at 14, then 2,000). A headline-only test misses reports
worded apart ("Protesters shut New York's Grand Central Station" against "Protesters
in NYC Overrun Grand Central"): two stories are left rather than one lost.
"""

from __future__ import annotations

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


class SameEvents:
    """Headlines of the stories kept so far, and which earlier one a new story's event matches."""

    def __init__(self) -> None:
        self._looked_up: tuple[Story, tuple[frozenset[str], str, date] | None] | None = None
        """The story earlier_report last read, and what it read: remember() usually follows for it."""
        self._stems: dict[int, frozenset[str]] = {}
        self._outlet: dict[int, str] = {}
        self._day: dict[int, date] = {}
        self._with_stem: dict[str, list[int]] = {}

    def earlier_report(self, story: Story) -> int | None:
        """The first remembered story reporting this story's event, if any."""
        headline = _headline(story)
        self._looked_up = story, headline
        if headline is None:
            return None
        stems, outlet, day = headline
        shared: dict[int, int] = {}
        for stem in stems:
            for other in self._with_stem.get(stem, ()):
                shared[other] = shared.get(other, 0) + 1
        for other in sorted(shared):
            union = len(stems) + len(self._stems[other]) - shared[other]
            if (shared[other] >= SAME_EVENT * union and self._outlet[other] != outlet
                    and abs((self._day[other] - day).days) <= EVENT_DAYS):
                return other
        return None

    def remember(self, position: int, story: Story) -> None:
        """A story kept: later reports of its event are matched with it."""
        looked_up = self._looked_up
        headline = looked_up[1] if looked_up is not None and looked_up[0] is story else _headline(story)
        if headline is None:
            return
        self._stems[position], self._outlet[position], self._day[position] = headline
        for stem in headline[0]:
            members = self._with_stem.setdefault(stem, [])
            if len(members) < STEM_LIMIT:
                members.append(position)


def _headline(story: Story) -> tuple[frozenset[str], str, date] | None:
    """What matching needs of a story: its headline's stems, its outlet and its day (None: too little)."""
    published = story.sources[0].published if story.sources else None
    if published is None or not story.title:
        return None
    day = published.date() if isinstance(published, datetime) else published
    stems = frozenset(content_stems(story.title)) - CALENDAR_WORDS
    if len(stems) < MIN_STEMS:
        return None
    return stems, story.sources[0].name.casefold(), day

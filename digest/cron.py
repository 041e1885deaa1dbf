"""Cron fire times in a time zone whose clock jumps: each wall-clock time once, always forwards.

APScheduler 3's CronTrigger does its arithmetic on zone-aware times and, at
the October change, hands back the repeated hour again and again (a loop
that never ends for '30 1 * * *' in Europe/London from 01:35Z on
2026-10-25). Here APScheduler's own field matching runs on a clock without
changes (naive wall times, read as UTC), and each matching wall time becomes
one instant:

- a wall time that occurs twice (the repeated hour) fires at its first
  occurrence only (``fold=0``);
- a wall time that never occurs (the skipped hour) fires once, at the
  instant the clock jumps past it (read with the offset from before the
  change: 01:30 in London on 2026-03-29 fires at 01:30Z, i.e. 02:30 BST).
  A time that lands where a later wall time also lands fires once.

The fire times are the set of those instants, so they always move forwards
and each is computed once; every question asked of them does bounded work.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

MAX_JUMP = timedelta(hours=3)
"""More than any clock change there has been: instants of later wall times are never earlier than this."""

SEARCH_WINDOWS = (timedelta(hours=2), timedelta(days=2), timedelta(days=40), timedelta(days=400))
"""How far back ``latest_fire_time`` looks, widening only while it finds nothing."""


def _instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant a naive wall time fires at (see the module docstring)."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


class WallClockCron(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 ships no types
    """A five-field cron read in an IANA zone, usable as an APScheduler 3 trigger."""

    def __init__(self, cron: str, timezone: str):
        self.cron = cron
        self.timezone: tzinfo = ZoneInfo(timezone)
        self.fields = CronTrigger.from_crontab(cron, timezone=UTC)

    def __str__(self) -> str:
        return f"cron '{self.cron}' ({self.timezone})"

    def __repr__(self) -> str:
        return f"WallClockCron({self.cron!r}, {str(self.timezone)!r})"

    def _walls(self, start: datetime) -> Iterator[datetime]:
        """Naive wall times matching the cron, from ``start`` (naive) on, ascending."""
        moment = self.fields.get_next_fire_time(None, start.replace(tzinfo=UTC))
        while moment is not None:
            yield moment.replace(tzinfo=None)
            moment = self.fields.get_next_fire_time(moment, moment + timedelta(microseconds=1))

    def instants(self, after: datetime) -> Iterator[datetime]:
        """Fire times strictly after ``after``, ascending, each once (UTC).

        Instants of ascending wall times only ever step back by less than
        MAX_JUMP, so one held back until a wall time lands MAX_JUMP past it is in order.
        """
        zone = self.timezone
        assert isinstance(zone, ZoneInfo)
        held: list[datetime] = []
        last = after
        for wall in self._walls(_wall(after, zone) - MAX_JUMP):
            moment = _instant(wall, zone)
            heapq.heappush(held, moment)
            while held[0] < moment - MAX_JUMP:
                earliest = heapq.heappop(held)
                if earliest > last:
                    last = earliest
                    yield earliest
        for earliest in sorted(held):
            if earliest > last:
                last = earliest
                yield earliest

    def next_after(self, after: datetime) -> datetime | None:
        """The first fire time strictly after ``after`` (UTC), or None if the cron never fires again."""
        return next(self.instants(after), None)

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        """APScheduler's question: the first fire time at or after ``now`` (or just after the previous one)."""
        start = now if previous_fire_time is None else min(now, previous_fire_time + timedelta(microseconds=1))
        found = self.next_after(start - timedelta(microseconds=1))
        return found.astimezone(self.timezone) if found else None


def fire_times(trigger: WallClockCron, after: datetime, until: datetime) -> Iterator[datetime]:
    """The fire times t with after < t <= until, oldest first, in the trigger's zone."""
    for moment in trigger.instants(after):
        if moment > until:
            return
        yield moment.astimezone(trigger.timezone)


def latest_fire_time(trigger: WallClockCron, after: datetime, until: datetime) -> datetime | None:
    """The last fire time t with after < t <= until, looking back no further than needed."""
    for window in SEARCH_WINDOWS:
        start = max(after, until - window)
        last = None
        for last in fire_times(trigger, start, until):  # noqa: B007 - only the last is kept
            pass
        if last is not None or start == after:
            return last
    return None


def count_fire_times(trigger: WallClockCron, after: datetime, until: datetime, *, cap: int) -> int:
    """How many fire times lie in (after, until], counting no further than ``cap``."""
    count = 0
    for count, _ in enumerate(fire_times(trigger, after, until), start=1):
        if count >= cap:
            break
    return count

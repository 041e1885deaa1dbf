"""Cron fire times across the 2026 clock changes: each wall time once, always forwards, bounded work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from digest.cron import WallClockCron, count_fire_times, fire_times, latest_fire_time

CHANGES = {
    # zone: (spring change, autumn change), as UTC instants
    "Europe/London": (datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)),
    "America/New_York": (datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC)),
}
CRONS = {"*/15 * * * *": timedelta(minutes=15), "0 * * * *": timedelta(hours=1), "30 1 * * *": timedelta(days=1)}
CASES = [(zone, which, cron) for zone in CHANGES for which in (0, 1) for cron in CRONS]


def local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


@pytest.mark.parametrize(("zone", "which", "cron"), CASES)
def test_every_start_hour_around_a_change_gives_one_forward_sequence(zone, which, cron):
    """Started at every quarter hour (give or take ten minutes) from 3 h before a change to 4 h after
    it, the fire times are the same forward sequence, with no wall-clock time twice."""
    trigger = WallClockCron(cron, zone)
    change = CHANGES[zone][which]
    day_start = change - timedelta(hours=12)
    reference = list(fire_times(trigger, day_start, change + timedelta(days=2)))
    assert reference == sorted(set(reference))
    walls = [(t.year, t.month, t.day, t.hour, t.minute) for t in reference]
    assert len(walls) == len(set(walls))
    for step in range(-3 * 4, 4 * 4 + 1):
        start = change + step * timedelta(minutes=15) + timedelta(minutes=step % 3 * 10)
        upcoming = list(fire_times(trigger, start, start + timedelta(days=1, hours=1)))
        assert upcoming and upcoming[0] > start
        assert upcoming == [t for t in reference if start < t <= start + timedelta(days=1, hours=1)]
        assert trigger.get_next_fire_time(None, start + timedelta(microseconds=1)) == upcoming[0]


@pytest.mark.parametrize("zone", list(CHANGES))
def test_the_daily_run_fires_once_on_each_change_day(zone):
    trigger = WallClockCron("30 1 * * *", zone)
    for change in CHANGES[zone]:
        day = local(change, zone).date()
        fired = list(fire_times(trigger, change - timedelta(days=3), change + timedelta(days=3)))
        dates = [t.date() for t in fired]
        assert dates == sorted(set(dates))
        assert dates.count(day) == 1
        assert set(dates) >= {day + timedelta(days=d) for d in range(-2, 3)}


def test_london_october_repeated_hour_fires_at_its_first_pass_only():
    trigger = WallClockCron("*/15 * * * *", "Europe/London")
    change = CHANGES["Europe/London"][1]
    fired = [t.astimezone(UTC) for t in fire_times(trigger, change - timedelta(hours=1), change + timedelta(hours=1))]
    assert fired == [  # 01:00Z-01:45Z read 01:00-01:45 GMT a second time: nothing fires
        datetime(2026, 10, 25, 0, 15, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 45, tzinfo=UTC),
        datetime(2026, 10, 25, 2, 0, tzinfo=UTC),
    ]


def test_london_march_skipped_hour_fires_once_after_the_jump():
    trigger = WallClockCron("*/15 * * * *", "Europe/London")
    fired = [
        t.astimezone(UTC)
        for t in fire_times(trigger, datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 3, 29, 2, tzinfo=UTC))
    ]
    assert fired == [datetime(2026, 3, 29, 0, 45, tzinfo=UTC)] + [
        datetime(2026, 3, 29, 1, tzinfo=UTC) + i * timedelta(minutes=15) for i in range(5)
    ]
    daily = WallClockCron("30 1 * * *", "Europe/London")
    (due,) = fire_times(daily, datetime(2026, 3, 29, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC))
    assert due.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 02:30 BST, once


def test_new_york_changes_hourly():
    trigger = WallClockCron("0 * * * *", "America/New_York")
    spring = [t.isoformat() for t in fire_times(trigger, datetime(2026, 3, 8, 5, 30, tzinfo=UTC),
                                                datetime(2026, 3, 8, 8, 30, tzinfo=UTC))]
    assert spring == ["2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"]
    autumn = [t.isoformat() for t in fire_times(trigger, datetime(2026, 11, 1, 4, 30, tzinfo=UTC),
                                                datetime(2026, 11, 1, 8, 30, tzinfo=UTC))]
    assert autumn == ["2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00", "2026-11-01T03:00:00-05:00"]


def test_the_october_case_that_hung_answers_at_once():
    trigger = WallClockCron("30 1 * * *", "Europe/London")
    started = datetime(2026, 10, 25, 1, 35, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, started) == datetime(2026, 10, 26, 1, 30, tzinfo=ZoneInfo("Europe/London"))
    latest = latest_fire_time(trigger, started - timedelta(days=400), started)
    assert latest is not None and latest.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_looking_back_a_year_on_an_every_minute_cron_stays_small():
    """Catch-up work is bounded: the latest fire time is found near the end, the count stops at its cap."""
    trigger = WallClockCron("* * * * *", "Europe/London")
    now = datetime(2026, 10, 25, 1, 35, tzinfo=UTC)
    latest = latest_fire_time(trigger, now - timedelta(days=400), now)
    assert latest is not None and latest.astimezone(UTC) == datetime(2026, 10, 25, 0, 59, tzinfo=UTC)
    assert count_fire_times(trigger, now - timedelta(days=400), now, cap=1000) == 1000
    assert count_fire_times(trigger, now - timedelta(minutes=10), now, cap=1000) == 0  # all in the repeated hour


def test_a_sparse_cron_is_found_far_back():
    trigger = WallClockCron("0 9 1 1 *", "America/New_York")
    now = datetime(2026, 12, 4, tzinfo=UTC)
    assert latest_fire_time(trigger, now - timedelta(days=400), now) == datetime(2026, 1, 1, 14, tzinfo=UTC)
    assert latest_fire_time(trigger, datetime(2026, 6, 1, tzinfo=UTC), now) is None

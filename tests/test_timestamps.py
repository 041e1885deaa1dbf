"""How digest reads a moment given without a time zone (models.assume_utc), and writes moments down (timestamps)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from digest.models import assume_utc
from digest.timestamps import restamp, utc_stamp

PARIS_WINTER = timezone(timedelta(hours=1))


def test_a_naive_moment_is_read_as_utc_and_an_aware_one_kept_as_given():
    assert assume_utc(datetime(2026, 11, 23, 7)) == datetime(2026, 11, 23, 7, tzinfo=UTC)
    given_in_paris = datetime(2026, 11, 23, 8, tzinfo=PARIS_WINTER)
    assert assume_utc(given_in_paris) is given_in_paris


@given(st.datetimes(datetime(1970, 1, 1), datetime(2999, 12, 31), timezones=st.none() | st.just(UTC) | st.just(PARIS_WINTER)))
def test_restamp_writes_any_stored_moment_as_utc_stamps_it(moment):
    assert restamp(moment.isoformat()) == utc_stamp(assume_utc(moment))
    assert restamp(moment.isoformat()).endswith("+00:00")

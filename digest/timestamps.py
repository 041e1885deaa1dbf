"""The one way digest writes a moment down: UTC ISO-8601 text of one fixed width.

Every table of the store keeps its timestamps in this form, so SQL compares
them as text and gets the order of the moments (text with different UTC
offsets does not sort as the moments do: 10:30+02:00 is before 09:00Z).
"""

from __future__ import annotations

from datetime import UTC, datetime

from digest.models import assume_utc


def utc_stamp(moment: datetime) -> str:
    """'2026-11-23T07:00:00.000000+00:00' for any aware datetime; a naive one is refused, not guessed."""
    if moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no time zone: digest stores only moments it can place in UTC")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_stamp(text: str) -> datetime:
    """The moment a stamp names, in UTC (a stamp without an offset is refused, as utc_stamp refuses it)."""
    moment = datetime.fromisoformat(text)
    if moment.utcoffset() is None:
        raise ValueError(f"stored time {text!r} has no UTC offset")
    return moment.astimezone(UTC)


def restamp(text: str | None) -> str | None:
    """A stored stamp rewritten in the one form (older digests wrote some with the caller's offset).

    A stamp with no offset was written from a naive datetime, which digest took as UTC.
    """
    if text is None:
        return None
    return utc_stamp(assume_utc(datetime.fromisoformat(text)))

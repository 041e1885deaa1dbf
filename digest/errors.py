"""Exceptions a user can act on; the CLI prints them without a traceback."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Sequence
from enum import StrEnum

from babel.lists import format_list


class DigestError(Exception):
    """Base for every error digest reports to its user."""

    exit_code = 1


class ConfigError(DigestError):
    """schedule.yaml is wrong: the message names the file, line and key path."""

    exit_code = 2


class SourceError(DigestError):
    """A source (seed folder, feed) could not be read."""


class FetchFailure(StrEnum):
    """What kind of failure a FetchError is, for callers that act on the kind (a page falls back by it)."""

    STATUS = "status"
    """The server answered with an error status (``FetchError.status``)."""
    TIMEOUT = "timeout"
    TOO_LARGE = "too-large"
    CONTENT_TYPE = "content-type"
    REDIRECT = "redirect"
    """More redirects than allowed."""
    ADDRESS_REFUSED = "address-refused"
    """A redirect led to an address digest does not fetch from (digest.sources.netguard)."""
    UNREACHABLE = "unreachable"
    """No connection to the host: it refused the connection, or its name was not found."""
    OTHER = "other"


class FetchError(SourceError):
    """A feed or page could not be fetched or parsed.

    ``detail`` is the message without the words its kind already says ('no data for 20s' of 'timeout (no
    data for 20s)'), for a caller that names the kind in words of its own (a page's refusal).
    """

    def __init__(
        self, message: str, kind: FetchFailure = FetchFailure.OTHER, status: int | None = None, detail: str | None = None
    ):
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.detail = detail if detail is not None else message


class RenderError(DigestError):
    """An edition could not be rendered."""


class DeliveryError(DigestError):
    """An edition could not be delivered."""


class StoreError(DigestError):
    """The SQLite store failed (damaged, locked too long, disk full): what ran was not recorded as done."""


def system_error(exc: BaseException) -> DigestError | None:
    """A database or disk failure as one line a user can act on; None for anything else."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, sqlite3.Error):
        if "full" in text:
            return StoreError(
                f"the disk holding the store is full ({text}); free some space and run the same command "
                "again: what was not recorded as done will be done then, nothing twice"
            )
        if "malformed" in text or "not a database" in text or "corrupt" in text:
            return StoreError(f"the store is damaged ({text}); run `digest store check`, and restore it from a backup")
        return StoreError(f"the store failed: {text}")
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        where = f" writing {exc.filename}" if exc.filename else ""
        return DigestError(f"the disk is full{where}; free some space and run the same command again")
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        return DigestError(f"{exc.filename}: {exc.strerror}")
    return None


def variables_not_set(names: Sequence[str]) -> str:
    """'environment variable A is not set', or 'environment variables A and B are not set' for several."""
    if len(names) == 1:
        return f"environment variable {names[0]} is not set"
    return f"environment variables {format_list(list(names), locale='en')} are not set"

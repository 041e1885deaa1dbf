"""Exceptions a user can act on; the CLI prints them without a traceback."""

from __future__ import annotations

import errno
import sqlite3


class DigestError(Exception):
    """Base for every error digest reports to its user."""

    exit_code = 1


class ConfigError(DigestError):
    """schedule.yaml is wrong: the message names the file, line and key path."""

    exit_code = 2


class SourceError(DigestError):
    """A source (seed folder, feed) could not be read."""


class FetchError(SourceError):
    """A feed could not be fetched or parsed."""


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
    return None

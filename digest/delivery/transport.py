"""What every transport is: it hands one message over and says how that went.

SMTP (digest.delivery.smtp) for real sends; a directory (digest.delivery.outbox)
for dry runs and whenever no ``smtp:`` is configured.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from digest.config import Config


class TemporaryFailure(Exception):
    """A 4xx answer, or a connection that broke: worth trying again later."""

    def __init__(self, reply: str, *, connection_lost: bool = False):
        super().__init__(reply)
        self.reply = reply
        self.connection_lost = connection_lost


class PermanentFailure(Exception):
    """A 5xx answer for one reader: recorded, never retried."""

    def __init__(self, reply: str):
        super().__init__(reply)
        self.reply = reply


class Transport(Protocol):
    description: str

    @property
    def rate(self) -> float | None:
        """Messages per second at most (None: as fast as it goes)."""

    def deliver(
        self,
        envelope_from: str,
        recipient: str,
        message: bytes,
        *,
        edition_id: str,
        message_id: str,
        commit: Callable[[], None],
    ) -> str:
        """Hand one message over, calling ``commit`` just before the irrevocable step; returns the reply."""

    def delivered_before(self, edition_id: str, recipient: str, message_id: str) -> bool | None:
        """Whether an earlier, interrupted hand-over completed (None: cannot be known)."""

    def close(self) -> None: ...


def make_transport(config: Config, *, dry_run: bool = False, outbox: Path | None = None) -> Transport:
    """SMTP when configured (and not a dry run); otherwise the outbox directory."""
    from digest.delivery.outbox import DirectoryTransport
    from digest.delivery.smtp import SmtpTransport

    if config.smtp is not None and not dry_run:
        return SmtpTransport(config.smtp)
    root = outbox if outbox is not None else config.path(config.delivery.outbox)
    return DirectoryTransport(root, config.delivery.outbox_format)

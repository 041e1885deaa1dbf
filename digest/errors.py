"""Exceptions a user can act on; the CLI prints them without a traceback."""

from enum import StrEnum


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
    OTHER = "other"


class FetchError(SourceError):
    """A feed or page could not be fetched or parsed."""

    def __init__(self, message: str, kind: FetchFailure = FetchFailure.OTHER, status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.status = status


class RenderError(DigestError):
    """An edition could not be rendered."""


class DeliveryError(DigestError):
    """An edition could not be delivered."""

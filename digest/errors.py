"""Exceptions a user can act on; the CLI prints them without a traceback."""


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

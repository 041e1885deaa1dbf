"""Fixtures shared across test modules."""

from feedserver import feed_server

__all__ = ["feed_server"]

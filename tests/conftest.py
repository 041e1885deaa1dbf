"""Fixtures shared across test modules."""

from collections.abc import Iterator

import pytest
from feedserver import feed_server
from repo_guard import entries, written

__all__ = ["feed_server"]


@pytest.fixture(autouse=True)
def nothing_written_into_the_repository() -> Iterator[None]:
    """Fails a test that leaves a file in the repository (use tmp_path, or --config/--out there)."""
    before = entries()
    yield
    new = written(before)
    if new:
        pytest.fail(f"this test wrote into the repository: {', '.join(new)} (write under tmp_path)", pytrace=False)

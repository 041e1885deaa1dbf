"""Tests never write into the repository: what a test leaves in its top folder (a store,
its identity file, an edition folder) would be mistaken for state by the next run."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WATCHED = ("", "seeds")
"""Folders of the repository a test might write into by running digest in the wrong place (not tests/,
where people add files while a run is going)."""
TOOL_CACHES = frozenset({".hypothesis", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".import_linter_cache",
                         "__pycache__", "__snapshots__"})


def entries(root: Path = REPO) -> set[str]:
    """The names in the watched folders, tool caches aside."""
    found: set[str] = set()
    for folder in WATCHED:
        path = root / folder
        if path.is_dir():
            found.update(str(child.relative_to(root)) for child in path.iterdir() if child.name not in TOOL_CACHES)
    return found


def written(before: set[str], root: Path = REPO) -> list[str]:
    """What appeared in the watched folders since ``before``."""
    return sorted(entries(root) - before)

"""What a person at a terminal sees while digest waits on the network.

A rich progress bar on stderr: feeds done of total, the host being fetched,
time elapsed, and, once a feed has kept digest waiting ``slow_after``
seconds, that feed by name ("waiting 12s for Mondoweiss"). Only on a
terminal: in a pipe, a log file or cron there is nothing (``show`` decides,
and `digest --quiet` switches it off).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from urllib.parse import urlsplit

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from digest.sources.sanitize import strip_control_chars

SHOW: ContextVar[bool | None] = ContextVar("digest_show_progress", default=None)
"""Whether to show progress: None (the default) means "when stderr is a terminal"."""


def wanted(progress: bool | None = None) -> bool:
    """An explicit choice wins, then the CLI's (SHOW), then whether stderr is a terminal."""
    if progress is not None:
        return progress
    chosen = SHOW.get()
    return sys.stderr.isatty() if chosen is None else chosen


class FetchProgress:
    """Told by the fetch loop when each feed starts and ends; shows nothing (the silent kind)."""

    def started(self, url: str) -> None:
        """Called from the fetching thread as the request goes out."""

    def finished(self, url: str) -> None:
        """Called once the feed's outcome (success or failure) is known."""


SILENT = FetchProgress()


class _InFlight(FetchProgress):
    """The feeds being fetched and since when; read by the bar's columns as they redraw."""

    def __init__(self, names: Mapping[str, str], slow_after: float):
        self.names = names
        self.slow_after = slow_after
        self.lock = threading.Lock()
        self.since: dict[str, float] = {}
        self.bar: Progress | None = None
        self.task: int | None = None

    def started(self, url: str) -> None:
        with self.lock:
            self.since[url] = time.monotonic()

    def finished(self, url: str) -> None:
        with self.lock:
            self.since.pop(url, None)
        if self.bar is not None and self.task is not None:
            self.bar.advance(self.task)  # type: ignore[arg-type]

    def status(self) -> Text:
        """The slowest feed by name once it is slow, else the host most recently asked."""
        with self.lock:
            waiting = sorted(self.since.items(), key=lambda item: item[1])
        if not waiting:
            return Text("")
        oldest, started = waiting[0]
        waited = time.monotonic() - started
        if waited >= self.slow_after:
            others = f" (+{len(waiting) - 1} more)" if len(waiting) > 1 else ""
            name = self.names.get(oldest) or host_of(oldest)
            return Text(f"waiting {waited:.0f}s for {strip_control_chars(name)}{others}", style="yellow")
        return Text(host_of(waiting[-1][0]))


class _StatusColumn(ProgressColumn):
    def __init__(self, in_flight: _InFlight):
        super().__init__()
        self.in_flight = in_flight

    def render(self, task: Task) -> Text:
        return self.in_flight.status()


def host_of(url: str) -> str:
    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url


@contextmanager
def fetch_progress(
    total: int, *, names: Mapping[str, str] | None = None, slow_after: float = 5.0,
    show: bool | None = None, label: str = "Fetching feeds",
) -> Iterator[FetchProgress]:
    """A progress display for ``total`` fetches, or a silent one (see ``wanted``).

    ``names`` gives feeds' names by URL, to name a slow feed as `feeds list` does.
    """
    if not wanted(show) or total == 0:
        yield SILENT
        return
    in_flight = _InFlight(names or {}, slow_after)
    bar = Progress(
        TextColumn(label),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        _StatusColumn(in_flight),
        console=Console(stderr=True, highlight=False),
        transient=True,
        refresh_per_second=4,
    )
    in_flight.bar = bar
    with bar:
        in_flight.task = bar.add_task(label, total=total)
        yield in_flight

"""Per-item work spread over worker processes, for large builds.

Parsing a feed, cleaning and splitting a document, tokenising a story for
de-duplication and theming it need nothing from any other item, and they are
pure Python: threads would share one core (the GIL), processes use them all.
Results come back in input order and equal what a sequential run makes.

Workers are forked: nothing is imported again and the parent's memory is
shared until written, so starting them costs milliseconds, and the items to
work on are not sent to them at all: a worker finds them in the memory it
inherited and is told only which slice is its own (only results are pickled
back). Forking is only
safe while this process runs no other thread (a thread holding a lock at the
fork leaves it locked forever in the child), and spawning instead would
re-import the caller's main module in every worker; so with other threads
running (the scheduler's, a test's server), off Linux, on one core, or for
small inputs, the work stays in this process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

CHUNKS_PER_WORKER = 8
"""Items go to workers in this many chunks each: few enough to keep messages cheap,
enough that one slow chunk does not leave the other cores idle at the end."""


@dataclass(frozen=True)
class ParallelSettings:
    """From how many items on each kind of work is spread over worker processes; below that, or
    where workers_for says no, it stays in this process.

    One object passed down from build_edition and harvest, so a test or a
    benchmark chooses by passing another, not by changing module globals.
    bench/build.py measures where workers pay off (README, Benchmarks).
    """

    documents: int = 400
    """Cleaning, splitting, tokenising and theming documents (digest.pipeline)."""
    stories: int = 1000
    """Tokenising and shingling stories for dedupe (dedupe_stories), when the documents stayed here."""
    feeds: int = 20
    """Parsing fetched feeds while threads fetch (digest.sources.feeds)."""


DEFAULT_PARALLEL = ParallelSettings()


def workers_for(items: int, minimum: int) -> int:
    """How many worker processes to spread ``items`` over (one per usable core); 0: stay in this process."""
    if sys.platform != "linux" or items < minimum or threading.active_count() > 1:
        return 0
    cores = len(os.sched_getaffinity(0))
    return cores if cores >= 2 else 0


@contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``workers`` forked processes, all started now, while this is still the only thread.

    The objects that exist at the fork are frozen (gc.freeze) while the pool
    lives: no process's collector walks them, so the workers do not copy the
    pages they share with this one, and a large build's documents are not
    traversed again at every full collection. The workers do without the
    cycle collector: the stages make no reference cycles worth collecting in a
    process that lives for one stage, and it cost them a quarter of their time.
    """
    gc.freeze()
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=gc.disable) as pool:
            pool.submit(int).result()
            yield pool
    finally:
        gc.unfreeze()


_inherited: Sequence[object] = ()
"""The items of the running map_chunks call, as the forked workers find them."""


def imap_chunks(
    function: Callable[[Sequence[Item]], Result], items: Sequence[Item], workers: int, *, let_go: bool = False
) -> Iterator[Result]:
    """``function`` applied to consecutive chunks of ``items`` in worker processes, each result as soon as
    it and the ones before it are done, in order: the caller works on early chunks while workers do later ones.

    ``function`` must be a module-level function (or a partial of one). With
    ``let_go``, ``items`` (a list) is emptied here once the workers are
    forked: they keep their copies, and this process, if it holds no other
    reference to the items, frees them for what it makes of the results.
    """
    global _inherited
    size = max(1, -(-len(items) // (workers * CHUNKS_PER_WORKER)))
    tasks = [(function, start, start + size) for start in range(0, len(items), size)]
    _inherited = items
    try:
        with worker_pool(workers) as pool:
            _inherited = ()
            if let_go:
                assert isinstance(items, list), "only a list can be let go"
                items.clear()
            yield from pool.map(_apply_to_slice, tasks)
    finally:
        _inherited = ()


def map_chunks(
    function: Callable[[Sequence[Item]], list[Result]], items: Sequence[Item], workers: int
) -> list[Result]:
    """``function`` applied to consecutive chunks of ``items`` in worker processes; the results in order.

    ``function``'s results for a chunk are the results for its items, one per item.
    """
    return [result for chunk in imap_chunks(function, items, workers) for result in chunk]


def _apply_to_slice(task: tuple[Callable[[Sequence[Item]], Result], int, int]) -> Result:
    """In a worker: the function over its slice of the items it inherited at the fork."""
    function, start, end = task
    return function(_inherited[start:end])  # type: ignore[arg-type]

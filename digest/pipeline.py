"""The one module that composes the stages into an edition.

read sources -> clean -> split -> dedupe -> theme -> summarize -> assemble.
Rendering and writing the result is digest.outputs. Every stage is a plain function over the models in
digest.models; this module only wires them and collects the record of what
was dropped and why, for ``digest build --explain``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from digest import parallel
from digest.assemble import assemble, pick
from digest.clean import clean_document, clean_documents
from digest.config import Config
from digest.dedupe import dedupe_stories
from digest.models import BuildResult, Document, Drop, Story, SummarizedStory
from digest.sources.feeds import harvest
from digest.sources.seeds import read_seeds
from digest.split import split_document, split_documents
from digest.store import previous_window_end, record_edition
from digest.summarize import has_sentences, summarize_many
from digest.themes import assign_themes


@dataclass(frozen=True)
class Sources:
    documents: tuple[Document, ...]
    warnings: tuple[str, ...] = ()


def collect_documents(
    config: Config,
    *,
    now: datetime,
    conn: sqlite3.Connection | None,
    since: datetime | None,
    until: datetime | None,
    fetch: bool,
    one_off: bool,
) -> Sources:
    """Seeds, plus feed entries: first seen in the edition's window, or published in a one-off period."""
    documents: list[Document] = []
    if config.sources.seeds is not None:
        documents.extend(read_seeds(config.path(config.sources.seeds)))
    if conn is None or not any(feed.enabled for feed in config.feeds):
        return Sources(tuple(documents))
    harvested = harvest(
        config, conn, now=now, since=since, until=until, fetch=fetch,
        window="published" if one_off else "first-seen",
    )
    return Sources(tuple(documents) + harvested.documents, harvested.warnings)


PARALLEL_MIN_DOCUMENTS = 400
"""From this many documents on, cleaning and splitting run in worker processes (digest.parallel)."""


def _clean_and_split(documents: Sequence[Document]) -> list[tuple[tuple[Drop, ...], list[Story]]]:
    """Each document's cleaning drops and stories (in a worker process)."""
    results = []
    for document in documents:
        cleaned = clean_document(document)
        results.append((cleaned.drops, split_document(cleaned)))
    return results


def build_edition(
    config: Config,
    edition_name: str | None,
    *,
    now: datetime,
    conn: sqlite3.Connection | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    per_theme: int | None = None,
    fetch: bool = True,
    record_window: bool = True,
) -> BuildResult:
    """Build an edition; with a store, it covers what is new since the previous one.

    ``record_window=False`` (dry runs, test copies) leaves the window where it
    was, so the next real edition still gets every new story.
    """
    name, edition_config = config.edition(edition_name)
    one_off = since is not None
    if not one_off and conn is not None:
        since, until = previous_window_end(conn, name, now), now
    clock = _StageClock()
    warnings, drops, split = _read_and_split(
        clock, config, now=now, conn=conn, since=since, until=until, fetch=fetch, one_off=one_off
    )
    with clock("dedupe"):
        stories, dedupe_drops = dedupe_stories(split)
    drops.extend(dedupe_drops)
    themes = {key: config.themes[key] for key in edition_config.themes}
    with clock("theme"):
        themed = assign_themes(stories, themes)
    with clock("summarize"):
        # a story with nothing to quote is still listed by its own headline, if it has one
        listed = [t for t in themed if has_sentences(t.story) or t.story.title]
        # which stories the edition shows depends on their themes alone: summarize only those
        by_theme, unthemed = pick(edition_config, listed, per_theme)
        shown = {id(t) for t in [*unthemed, *(t for chosen in by_theme.values() for t in chosen)]}
        chosen = [t for t in listed if id(t) in shown]
        summaries = summarize_many([t.story for t in chosen], edition_config.summary)
    summarized = [
        SummarizedStory(t.story, t.decision, summary) for t, summary in zip(chosen, summaries, strict=True)
    ]
    drops.extend(
        Drop("summarize", "no sentence to summarize and no headline", t.story.text[:80], t.story.document,
             t.story.line)
        for t in themed
        if not has_sentences(t.story) and not t.story.title
    )
    with clock("assemble"):
        edition = assemble(name, edition_config, themes, summarized, now, per_theme)
    if conn is not None and not one_off and record_window:
        record_edition(conn, edition.id, name, now, since, now, len(edition.stories))
    return BuildResult(edition, tuple(drops), tuple(themed), warnings, tuple(clock.seconds.items()))


def _read_and_split(
    clock: _StageClock, config: Config, **window: Any
) -> tuple[tuple[str, ...], list[Drop], list[Story]]:
    """The sources' warnings, the cleaning drops and the stories; the documents themselves
    are let go on return, so a large build does not hold their text through the later stages."""
    with clock("sources"):
        sources = collect_documents(config, **window)
    if workers := parallel.workers_for(len(sources.documents), PARALLEL_MIN_DOCUMENTS):
        with clock("clean+split"):
            per_document = parallel.map_chunks(_clean_and_split, sources.documents, workers)
        drops = [drop for document_drops, _ in per_document for drop in document_drops]
        return sources.warnings, drops, [story for _, stories in per_document for story in stories]
    with clock("clean"):
        cleaned = clean_documents(list(sources.documents))
    with clock("split"):
        split = split_documents(cleaned)
    return sources.warnings, [drop for doc in cleaned for drop in doc.drops], split


class _StageClock:
    """Wall-clock seconds per stage (perf_counter), reported by the benchmarks."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start

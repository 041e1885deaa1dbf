"""The one module that composes the stages into an edition.

read sources -> clean -> split -> dedupe -> theme -> summarize -> assemble.
Rendering and writing the result is digest.outputs. Every stage is a plain function over the models in
digest.models; this module only wires them and collects the record of what
was dropped and why, for ``digest build --explain``.

A large build runs cleaning, splitting, dedupe's tokenising and theming in
one pass of worker processes per chunk of documents, and de-duplicates each
chunk here as it comes back (digest.speed.parallel): the same result, with both
cores busy throughout.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

from digest.config import Config, EditionConfig, FetchConfig, PagesConfig, Theme
from digest.editions import previous_window_end
from digest.errors import ConfigError
from digest.models import (
    PUBLISHER_NOT_NAMED,
    BuildResult,
    Document,
    Drop,
    DropReason,
    FeedOutcome,
    PageNote,
    PageRefusal,
    SourceRef,
    Story,
    SummarizedStory,
    ThemeDecision,
    ThemedStory,
    Window,
)
from digest.sources.article import Article
from digest.sources.harvest import harvest
from digest.sources.pages import PageRequest, read_pages
from digest.sources.progress import fetch_progress
from digest.sources.sanitize import byline
from digest.sources.seeds import read_seeds
from digest.speed import parallel
from digest.stages.assemble import assemble, pick
from digest.stages.clean import clean_document, clean_documents
from digest.stages.dedupe import Deduper, StoryText, dedupe_stories, story_texts
from digest.stages.split import split_document, split_documents
from digest.stages.summarize import has_sentences, summarize_many
from digest.stages.theme_apart import train_apart
from digest.stages.theme_classifier import (
    ThemeClassifier,
    assign_themes,
    classifier,
    decide_all,
    model_key,
    teaching,
)
from digest.stages.theme_model import CORRECTION_WEIGHT, Example, ThemeModel
from digest.store import keep_theme_model, kept_theme_model, record_edition_stories, theme_corrections


@dataclass(frozen=True)
class Sources:
    documents: tuple[Document, ...]
    warnings: tuple[str, ...] = ()
    feeds: tuple[FeedOutcome, ...] = ()
    seed_documents: int = 0


def collect_documents(
    config: Config,
    *,
    now: datetime,
    conn: sqlite3.Connection | None,
    since: datetime | None,
    until: datetime | None,
    fetch: bool,
    one_off: bool,
    parallel_settings: parallel.ParallelSettings = parallel.DEFAULT_PARALLEL,
) -> Sources:
    """Seeds, plus feed entries: first seen in the edition's window, or published in a one-off period."""
    documents: list[Document] = []
    if config.sources.seeds is None and not any(feed.enabled for feed in config.feeds):
        raise ConfigError(
            "nothing to build from: sources.seeds is not set and no feed is enabled "
            "(add one with `digest feeds add URL`)"
        )
    if config.sources.seeds is not None:
        seeds_read = read_seeds(config.path(config.sources.seeds))
        documents.extend(d for d in seeds_read if not one_off or _in_period(d, since, until))
    seeds = len(documents)
    if conn is None or not any(feed.enabled for feed in config.feeds):
        return Sources(tuple(documents), seed_documents=seeds)
    harvested = harvest(
        config, conn, now=now, since=since, until=until, fetch=fetch,
        window="published" if one_off else "first-seen", parallel_settings=parallel_settings,
    )
    return Sources(tuple(documents) + harvested.documents, harvested.warnings, harvested.feeds, seeds)


def _in_period(document: Document, since: datetime | None, until: datetime | None) -> bool:
    """A seed that states its date belongs to a one-off period only if that date is in it; one without, always."""
    published = document.source.published
    if published is None:
        return True
    day = published.date() if isinstance(published, datetime) else published
    return (since is None or day >= since.date()) and (until is None or day <= until.date())


@dataclass
class _Prepared:
    """A chunk of documents made ready for de-duplication, in a worker process."""

    drops: list[Drop]
    stories: list[Story]
    texts: list[StoryText]
    decisions: list[ThemeDecision]
    seconds: dict[str, float]
    """Processor time spent per stage on the chunk (wall time would count waiting for a core)."""


def _prepare(themes: ThemeClassifier, documents: Sequence[Document]) -> _Prepared:
    """Clean and split a chunk of documents, tokenise the stories for dedupe and theme them all.

    Theming every story before dedupe wastes the few that turn out to be
    copies, but lets the main process de-duplicate while the workers go on.
    """
    seconds = {"clean": 0.0, "split": 0.0, "dedupe": 0.0, "theme": 0.0}
    drops: list[Drop] = []
    stories: list[Story] = []
    for document in documents:
        start = time.process_time()
        cleaned = clean_document(document)
        split_at = time.process_time()
        stories.extend(split_document(cleaned))
        seconds["clean"] += split_at - start
        seconds["split"] += time.process_time() - split_at
        drops.extend(cleaned.drops)
    start = time.process_time()
    texts = story_texts(stories)
    theme_at = time.process_time()
    decisions = decide_all(themes, stories)
    seconds["dedupe"] += theme_at - start
    seconds["theme"] += time.process_time() - theme_at
    return _Prepared(drops, stories, texts, decisions, seconds)


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
    parallel_settings: parallel.ParallelSettings = parallel.DEFAULT_PARALLEL,
) -> BuildResult:
    """Build an edition; with a store, it covers what is new since the last *published* one.

    Building records nothing: the caller keeps the result as a draft or
    publishes it (digest.editions), and only publishing closes the window.
    ``parallel_settings`` says from how many items on work goes to worker processes.
    """
    name, edition_config = config.edition(edition_name)
    one_off = since is not None
    window = None
    if not one_off and conn is not None:
        since, until = previous_window_end(conn, name, now), now
        window = Window(since, now)
    clock = _StageClock()
    themes = theme_classifier({key: config.themes[key] for key in edition_config.themes}, conn, now)
    inputs = {
        "now": now, "conn": conn, "since": since, "until": until, "fetch": fetch, "one_off": one_off,
        "parallel_settings": parallel_settings,
    }
    teasers: dict[str, Document] = {}
    sources, drops, themed = _sorted_stories(clock, config, themes, inputs, teasers, parallel_settings)
    with clock("pages"):
        themed, notes = _with_full_text(config, edition_config, themes, themed, teasers, drops, inputs, per_theme)
    del teasers
    with clock("summarize"):
        # a story with nothing to quote is still listed by its own headline, if it has one
        listed = [t for t in themed if has_sentences(t.story) or t.story.title]
        # which stories the edition shows depends on their themes alone: summarize only those
        by_theme, unthemed = pick(edition_config, listed, themes.themes, per_theme)
        shown = {id(t) for t in [*unthemed, *(t for chosen in by_theme.values() for t in chosen)]}
        chosen = [t for t in listed if id(t) in shown]
        summaries = summarize_many([t.story for t in chosen], edition_config.summary)
    summarized = [
        SummarizedStory(t.story, t.decision, summary) for t, summary in zip(chosen, summaries, strict=True)
    ]
    drops.extend(
        Drop(DropReason.NOTHING_TO_SUMMARIZE, t.story.text[:80], t.story.document, t.story.line)
        for t in themed
        if not has_sentences(t.story) and not t.story.title
    )
    with clock("assemble"):
        edition = assemble(name, edition_config, themes.themes, summarized, now, per_theme)
    if conn is not None:
        record_edition_stories(
            conn, edition.id, [(s.story.id, s.story.title or "", s.story.text, s.decision.theme) for s in summarized]
        )
    return BuildResult(
        edition, tuple(drops), tuple(themed), sources.warnings, tuple(clock.seconds.items()), window, pages=notes,
        feeds=sources.feeds, seed_documents=sources.seed_documents,
    )


def _sorted_stories(
    clock: _StageClock,
    config: Config,
    themes: ThemeClassifier,
    inputs: dict[str, Any],
    teasers: dict[str, Document],
    parallel_settings: parallel.ParallelSettings,
) -> tuple[Sources, list[Drop], list[ThemedStory]]:
    """What the sources said (without their documents), every drop so far, and the de-duplicated
    stories with their themes.

    The documents themselves are let go on return, so a large build does not
    hold their text through the later stages; only the teasers whose pages
    may be read are kept, in ``teasers``.
    """
    with clock("sources"):
        sources = collect_documents(config, **inputs)
    teasers.update((d.id, d) for d in sources.documents if wants_page(d, config.pages.teaser_words))
    if workers := parallel.workers_for(len(sources.documents), parallel_settings.documents):
        said, documents = replace(sources, documents=()), list(sources.documents)
        del sources  # the workers' copies are all that is needed once they are forked
        return said, *_sorted_in_workers(clock, documents, themes, workers)
    with clock("clean"):
        cleaned = clean_documents(list(sources.documents))
    with clock("split"):
        split = split_documents(cleaned)
    with clock("dedupe"):
        stories, dedupe_drops = dedupe_stories(split, parallel_settings)
    with clock("theme"):
        themed = assign_themes(stories, themes)
    said = replace(sources, documents=())
    return said, [drop for doc in cleaned for drop in doc.drops] + dedupe_drops, themed


def _sorted_in_workers(
    clock: _StageClock, documents: list[Document], themes: ThemeClassifier, workers: int
) -> tuple[list[Drop], list[ThemedStory]]:
    """_sorted_stories for many documents: workers prepare chunks of them (_prepare) while this
    process de-duplicates the stories of the chunks already done, in order (so the result is the
    one process's). Only stories that dedupe trimmed are themed again. ``documents`` is emptied
    once the workers have it, so their text is not held here beside the stories made of it.

    The clock gets the whole as "clean…theme", the main process's own dedupe
    time, and each stage's processor time in the workers as "… (workers)", summed over them.
    """
    deduper = Deduper()
    drops: list[Drop] = []
    decisions: list[ThemeDecision] = []
    in_workers: dict[str, float] = {}
    with clock("clean…theme"):
        for chunk in parallel.imap_chunks(partial(_prepare, themes), documents, workers, let_go=True):
            drops.extend(chunk.drops)
            for stage, seconds in chunk.seconds.items():
                in_workers[stage] = in_workers.get(stage, 0.0) + seconds
            with clock("dedupe"):
                for story, text in zip(chunk.stories, chunk.texts, strict=True):
                    deduper.add(story, text)
            decisions.extend(chunk.decisions)
        with clock("dedupe"):
            kept, dedupe_drops = deduper.finish()
        themed = [
            ThemedStory(k.story, themes.decide(k.story) if k.trimmed else decisions[k.position])
            for k in kept
        ]
    for stage, seconds in in_workers.items():
        clock.seconds[f"{stage} (workers)"] = seconds
    return drops + dedupe_drops, themed


def wants_page(document: Document, teaser_words: int) -> bool:
    """Whether a document's linked page may be read for its full text (its feed's full_text setting)."""
    if document.full_text == "never" or not document.source.url:
        return False
    # split no further than needed: a full article is not counted to its end
    return document.full_text == "always" or len(document.text.split(maxsplit=teaser_words)) < teaser_words


def _page_candidates(
    edition_config: EditionConfig,
    themes: Mapping[str, Theme],
    themed: list[ThemedStory],
    teasers: Mapping[str, Document],
    per_theme: int | None,
) -> list[ThemedStory]:
    """The teaser stories whose full text could put them in the edition, most promising first.

    A story counts when one of the edition's themes finds it at least half as likely as that
    theme's bar for placing a story (its page may say more on that theme), or when it would be
    listed under "Also noted": the others could not be shown whatever their pages say, so their
    pages are never fetched. (Every story has some likelihood above zero for every theme, so
    "above zero" would make every teaser a candidate.)
    """
    _, unthemed = pick(edition_config, themed, themes, per_theme)
    shortlisted = {id(t) for t in unthemed}
    wanted = set(edition_config.themes)

    def promise(item: ThemedStory) -> float:
        return max((score for theme, score in item.decision.scores if theme in wanted), default=0.0)

    def promising(item: ThemedStory) -> bool:
        return any(
            theme in wanted and score >= themes[theme].min_probability / 2 for theme, score in item.decision.scores
        )

    candidates = [
        t for t in themed if t.story.document in teasers and (promising(t) or id(t) in shortlisted)
    ]
    return sorted(candidates, key=lambda t: -promise(t))


def _with_full_text(
    config: Config,
    edition_config: EditionConfig,
    themes: ThemeClassifier,
    themed: list[ThemedStory],
    teasers: Mapping[str, Document],
    drops: list[Drop],
    inputs: dict[str, Any],
    per_theme: int | None,
) -> tuple[list[ThemedStory], tuple[PageNote, ...]]:
    """The stories again, with those of teaser entries re-read from their linked pages where that worked.

    A page's article replaces the entry's text and goes through the same cleaning,
    splitting and theming; a story whose page could not be used keeps its feed text.
    """
    candidates = _page_candidates(edition_config, themes.themes, themed, teasers, per_theme)
    documents = list(dict.fromkeys(t.story.document for t in candidates))
    if not documents:
        return themed, ()
    requests = [
        PageRequest(key, teasers[key].source.url or "", len(teasers[key].text.split())) for key in documents
    ]
    results = read_pages(
        inputs["conn"], requests, fetch=config.fetch, settings=config.pages, now=inputs["now"],
        network=inputs["fetch"],
    )
    replaced: dict[str, list[ThemedStory]] = {}
    for result in results:
        if result.article is None:
            continue
        cleaned = clean_document(page_document(teasers[result.document], result.article))
        drops.extend(cleaned.drops)
        replaced[result.document] = [
            ThemedStory(story, themes.decide(story)) for story in split_document(cleaned)
        ]
    notes = tuple(PageNote(r.document, r.url, r.source, r.refusal, r.detail) for r in results)
    return _replace_stories(themed, replaced), notes


def page_document(entry: Document, article: Article) -> Document:
    """A feed entry with its page's article as its text; the page names what the feed did not."""
    source = entry.source
    name = article.site_name if source.name == PUBLISHER_NOT_NAMED and article.site_name else source.name
    return replace(
        entry,
        text="\n\n".join(article.paragraphs),
        title=entry.title or article.title,
        source=replace(
            source, name=name, published=source.published or article.published,
            author=source.author or byline(article.author, name),
        ),
        link_lines=frozenset(),
    )


@dataclass(frozen=True)
class PageReading:
    """What `digest read` shows of one page: the article and its paragraphs after digest's cleaning."""

    url: str
    article: Article | None
    paragraphs: tuple[str, ...]
    refusal: PageRefusal | None = None
    detail: str | None = None


def cleaned_paragraphs(article: Article) -> tuple[str, ...]:
    """The article's paragraphs that digest's cleaner keeps (what a story is made of)."""
    source = SourceRef(article.site_name or PUBLISHER_NOT_NAMED, article.url)
    document = Document(article.url, "\n\n".join(article.paragraphs), source, title=article.title)
    return tuple(block.text for block in clean_document(document).blocks)


def read_articles(urls: Sequence[str], *, fetch: FetchConfig, now: datetime) -> list[PageReading]:
    """Each page as digest reads it: fetched politely (robots.txt, limits), extracted, cleaned."""
    requests = [PageRequest(url, url, 0) for url in urls]
    settings = PagesConfig(max_pages=len(requests))
    readings = []
    with fetch_progress(len(requests), slow_after=fetch.slow_after, label="Reading pages") as shown:
        results = read_pages(None, requests, fetch=fetch, settings=settings, now=now, network=True, progress=shown)
    for result in results:
        paragraphs = cleaned_paragraphs(result.article) if result.article else ()
        readings.append(PageReading(result.url, result.article, paragraphs, result.refusal, result.detail))
    return readings


def _replace_stories(themed: list[ThemedStory], replaced: Mapping[str, list[ThemedStory]]) -> list[ThemedStory]:
    """``themed`` with each replaced document's stories swapped, in place of the first of them."""
    if not replaced:
        return themed
    out: list[ThemedStory] = []
    done: set[str] = set()
    for item in themed:
        document = item.story.document
        if document not in replaced:
            out.append(item)
        elif document not in done:
            out.extend(replaced[document])
            done.add(document)
    return out


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


def theme_classifier(
    themes: Mapping[str, Theme], conn: sqlite3.Connection | None, now: datetime
) -> ThemeClassifier:
    """The classifier for an edition's themes, taught by the store's corrections too.

    A model is trained once per training set (shipped labels, the themes'
    examples, corrections) and kept in the store as JSON for the next build;
    each corrected story also gets the editor's word as its verdict.
    """
    rows = theme_corrections(conn) if conn is not None else []
    corrections = [Example(row["text"], row["theme"], bool(row["belongs"]), CORRECTION_WEIGHT, row["title"]) for row in rows]
    verdicts: dict[str, dict[str, bool]] = {}
    for row in rows:  # oldest first: an editor's latest word on a story stands
        verdicts.setdefault(row["story"], {})[row["theme"]] = bool(row["belongs"])
    examples = teaching(themes, corrections)
    key = model_key(themes, examples)
    kept = kept_theme_model(conn, key) if conn is not None else None
    if kept is not None:
        return classifier(themes, model=ThemeModel.from_json(kept), verdicts=verdicts)
    model = train_apart(themes, examples)
    if conn is not None:
        keep_theme_model(conn, key, model.to_json(), now)
    return classifier(themes, model=model, verdicts=verdicts)


def try_theme(config: Config, text: str, conn: sqlite3.Connection | None, now: datetime) -> ThemeDecision:
    """The decision the classifier makes for a text (its first line a headline), as a build would."""
    title, _, body = text.strip().partition("\n")
    story = Story("test", title.strip(), tuple(p for p in body.split("\n\n") if p.strip()), (), "test", 0)
    return theme_classifier(config.themes, conn, now).decide(story)

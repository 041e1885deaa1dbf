"""Work spread over worker processes gives exactly what one process gives.

Each check runs in a fresh interpreter: workers are forked only from a
process with no other thread, and the test process has some (servers).
Each passes ParallelSettings that keep every item here (ALONE) or spread
any number of them (SPREAD).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from feedserver import DATA, Route

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or len(os.sched_getaffinity(0)) < 2, reason="workers need Linux and two cores"
)


def run(script: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_stages_in_worker_processes_match_one_process():
    output = run(
        """
        import os
        from dataclasses import replace
        from datetime import UTC, datetime
        from functools import partial
        from pathlib import Path

        from digest import pipeline
        from digest.stages import dedupe
        from digest.speed import parallel
        from digest.speed.parallel import ParallelSettings
        from digest.stages import theme_classifier as themes
        from digest.config import load_config
        from digest.models import Document, SourceRef
        from digest.sources.seeds import read_seeds

        documents = list(read_seeds(Path("seeds")))
        for path in sorted(Path("tests/data/labeled").glob("*.txt")):
            documents.append(Document(path.name, path.read_text(encoding="utf-8"), SourceRef(path.stem)))
        # each document twice under another name: exact and repeated-paragraph duplicates for dedupe,
        # and a third time cut short: near-duplicates
        documents += [Document(d.id + "-again", d.text, SourceRef("Again"), d.title) for d in documents]
        documents += [Document(d.id + "-cut", d.text[: len(d.text) // 2], SourceRef("Cut"), None) for d in documents]
        # and entries that quote a paragraph of an earlier document after three of their own
        paragraphs = [p for d in documents[:8] for p in d.text.split("\\n\\n") if len(p.split()) > 40]
        documents += [
            Document(f"mix{n}", "\\n\\n".join(paragraphs[n + 1 : n + 4] + [paragraphs[n]]), SourceRef("Mix"), None)
            for n in range(0, 12, 4)
        ]
        pipeline.collect_documents = lambda config, **window: pipeline.Sources(tuple(documents))
        config = load_config(Path("schedule.yaml"))
        now = datetime(2026, 11, 23, 7, tzinfo=UTC)

        ALONE = ParallelSettings(documents=10**9, stories=10**9, feeds=10**9)
        SPREAD = ParallelSettings(documents=1, stories=1, feeds=1)
        assert parallel.workers_for(len(documents), SPREAD.documents) == len(os.sched_getaffinity(0))
        results = []
        for settings in (ALONE, SPREAD):
            result = pipeline.build_edition(config, None, now=now, parallel_settings=settings)
            results.append((result, [stage for stage, _ in result.timings]))
        (alone, alone_stages), (spread, spread_stages) = results
        assert "clean…theme" in spread_stages and "clean…theme" not in alone_stages
        assert replace(alone, timings=()) == replace(spread, timings=())
        reasons = {d.reason.name for d in alone.drops}
        assert {"DUPLICATE_STORY", "SAME_STORY", "REPEATED_PARAGRAPH"} <= reasons

        stories = [t.story for t in alone.decisions]
        chosen = themes.classifier({key: config.themes[key] for key in config.edition(None)[1].themes})
        assert dedupe.dedupe_stories(stories, ALONE) == dedupe.dedupe_stories(stories, SPREAD)
        workers = parallel.workers_for(len(stories), 1)
        spread_decisions = parallel.map_chunks(partial(themes.decide_all, chosen), stories, workers)
        assert themes.decide_all(chosen, stories) == spread_decisions
        print(len(documents), len(alone.decisions), len(alone.edition.stories))
        """
    )
    documents, stories, shown = map(int, output.split())
    assert documents >= 20 and stories >= shown > 0


def test_feeds_parsed_in_worker_processes_match_one_process(feed_server):
    names = ["news.rss", "atom.xml", "themed.rss", "latin-1.rss", "windows-1251.rss", "malformed.rss",
             "hostile.rss", "page.html"]
    urls = [feed_server.route(f"/{name}", Route((DATA / name).read_bytes())) for name in names]
    output = run(
        f"""
        import tempfile
        from datetime import UTC, datetime
        from pathlib import Path

        from digest.sources import feedstore
        from digest.speed import parallel
        from digest.speed.parallel import ParallelSettings
        from digest.config import Config
        from digest.sources.harvest import harvest
        from digest.store import connect

        config = Config.model_validate({{
            "themes": {{"t": {{"title": "T", "description": "t", "signals": {{"keywords": {{"t": 1}}}}}}}},
            "editions": {{"e": {{"title": "E", "themes": ["t"]}}}},
            "feeds": [{{"url": url}} for url in {urls!r}],
            "fetch": {{"per_host_delay": 0, "retries": 0}},
        }})
        now = datetime(2026, 11, 23, 7, tzinfo=UTC)
        results = []
        for minimum in (10**9, 1):
            settings = ParallelSettings(feeds=minimum)
            with tempfile.TemporaryDirectory() as folder:
                conn = connect(Path(folder) / "digest.sqlite")
                harvested = harvest(
                    config, conn, now=now, since=None, until=now, progress=False, parallel_settings=settings
                )
                stored = feedstore.entries_in_window(conn, {urls!r}, since=None, until=now)
                results.append((harvested, stored, feedstore.feed_states(conn, {urls!r})))
        assert parallel.workers_for(len({urls!r}), 1) >= 2
        assert results[0] == results[1]
        print(len(results[0][0].documents), len(results[0][0].warnings))
        """
    )
    documents, warnings = map(int, output.split())
    assert documents > 5 and warnings >= 1

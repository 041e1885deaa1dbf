"""How long feed harvests take: a first run, then a second run with nothing new.

    .venv/bin/python bench/feeds_harvest.py [--runs 5]

Serves the real feeds of ../shared/corpus (real_feeds/ and the rewrapped
real_entries/ RSS files) from a local HTTP server with ETags, then times
`harvest` twice on one store: the first run fetches, parses and stores
everything; the second gets a 304 for every feed (only conditional requests)
and must add nothing. per_host_delay is 0 because every feed is on
127.0.0.1 (the default 1 s spacing would serialise them). Prints medians.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
sys.path.insert(0, str(ROOT / "tests"))

from feedserver import FeedServer, Route  # noqa: E402

from digest.config import Config  # noqa: E402
from digest.sources.harvest import harvest  # noqa: E402
from digest.store import connect  # noqa: E402

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def feed_files() -> list[Path]:
    real = sorted((CORPUS / "real_feeds").glob("*.[rxa]*"))
    rewrapped = sorted((CORPUS / "real_entries" / "rumca_2023_rewrapped_rss").glob("*.xml"))
    return [p for p in real + rewrapped if p.suffix in {".xml", ".rss", ".atom"}]


def config(urls: list[str], base: Path) -> Config:
    return Config.model_validate(
        {
            "themes": {"t": {"title": "T", "description": "t", "signals": {"keywords": {"t": 1}}}},
            "editions": {"e": {"title": "E", "themes": ["t"]}},
            "feeds": [{"url": url} for url in urls],
            "fetch": {"per_host_delay": 0, "retries": 0},
            "base_dir": base,
        }
    )


def one_run(server: FeedServer, files: list[Path]) -> tuple[float, float, int, int, int]:
    with tempfile.TemporaryDirectory() as folder:
        cfg = config([server.url(f"/{i}") for i in range(len(files))], Path(folder))
        conn = connect(Path(folder) / "digest.sqlite")
        before = len(server.requests)
        start = time.perf_counter()
        first = harvest(cfg, conn, now=NOW, since=None, until=NOW, progress=False)
        first_seconds = time.perf_counter() - start
        later = NOW + timedelta(days=7)
        start = time.perf_counter()
        second = harvest(cfg, conn, now=later, since=NOW, until=later, progress=False)
        second_seconds = time.perf_counter() - start
        conn.close()
        conditional = sum(1 for r in server.requests[before + len(files) :] if "if-none-match" in r.headers)
        return first_seconds, second_seconds, len(first.documents), len(second.documents), conditional


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    files = feed_files()
    if not files:
        sys.exit(f"no corpus feeds under {CORPUS}")
    server = FeedServer()
    try:
        for i, path in enumerate(files):
            body = path.read_bytes()
            server.route(f"/{i}", Route(body, etag='"' + hashlib.sha256(body).hexdigest()[:16] + '"'))
        results = [one_run(server, files) for _ in range(runs)]
    finally:
        server.close()
    first = statistics.median(r[0] for r in results)
    second = statistics.median(r[1] for r in results)
    _, _, documents, repeated, conditional = results[-1]
    print(f"feeds: {len(files)}  cores: {os.cpu_count()}  runs: {runs}")
    print(f"first harvest:  {first:.2f} s  ({documents} documents, {documents / first:.0f} entries/s)")
    print(f"second harvest: {second:.3f} s  ({repeated} documents, {conditional}/{len(files)} requests conditional)")


if __name__ == "__main__":
    main()

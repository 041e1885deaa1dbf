"""Ingestion over every file of the shared corpus (../shared/corpus): nothing escapes, nothing active survives.

Each file is parsed from its bytes on disk (no HTTP), its entries are
stored and read back as Documents, and every entry's HTML is sanitized and
checked to be inert. A file that is not a feed must give a clear FetchError.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from inert import active_content

from digest.config import Config
from digest.errors import FetchError
from digest.sources import feedstore
from digest.sources.feeds import parse_feed
from digest.sources.harvest import harvest
from digest.sources.sanitize import sanitize_html
from digest.store import connect

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared corpus not found at {CORPUS}"),
]


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file())


def feed_url(path: Path) -> str:
    return "https://corpus.invalid/" + path.relative_to(CORPUS).as_posix().replace(" ", "%20")


def test_every_corpus_file_yields_entries_or_a_clear_error(tmp_path):
    files = corpus_files()
    assert len(files) > 100
    conn = connect(tmp_path / "corpus.sqlite")
    feedstore.ensure_tables(conn)
    escaped: list[str] = []
    unclear: list[str] = []
    active: list[str] = []
    unsafe: list[str] = []
    feeds: list[dict[str, str]] = []
    keys: set[str] = set()
    for path in files:
        url = feed_url(path)
        try:
            parsed = parse_feed(path.read_bytes(), url=url)
        except FetchError as exc:
            message = str(exc)
            if not message.strip() or "\n" in message:
                unclear.append(f"{path}: {message!r}")
            continue
        except Exception as exc:  # noqa: BLE001 - the assertion below lists any: none may escape
            escaped.append(f"{path}: {type(exc).__name__}: {exc}")
            continue
        for entry in parsed.entries:
            problems = active_content(sanitize_html(entry.html, entry.link))
            if problems:
                active.append(f"{path} [{entry.key}]: {problems}")
            if entry.link and not entry.link.startswith(("http://", "https://")):
                unsafe.append(f"{path}: link {entry.link!r}")
            if CONTROL.search(entry.text + (entry.title or "")):
                unsafe.append(f"{path}: control characters in {entry.key}")
        feedstore.record_entries(conn, url, parsed.entries, now=NOW)
        feeds.append({"url": url})
        keys.update(entry.key for entry in parsed.entries)
    assert escaped == []
    assert unclear == []
    assert active == []
    assert unsafe == []

    config = Config.model_validate(
        {
            "themes": {"t": {"title": "T", "description": "t", "signals": {"keywords": {"t": 1}}}},
            "editions": {"e": {"title": "E", "themes": ["t"]}},
            "feeds": feeds,
        }
    )
    documents = harvest(config, conn, now=NOW, since=None, until=NOW, fetch=False).documents
    conn.close()
    assert len(documents) == len(keys) > 5000
    assert all(d.source.url is None or d.source.url.startswith(("http://", "https://")) for d in documents)
    assert all(d.title or d.text for d in documents)

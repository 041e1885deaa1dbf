"""The web archive: every edition's page, an index (newest first) and an Atom feed.

The archive folder is meant to be served at ``delivery.base_url``. It keeps
its own record of what it holds (``editions.json``), so publishing needs no
database and the index and feed are always rebuilt from the full list;
publishing the same edition again replaces it. Every file is written to a
temporary name and renamed, so a reader (or a crash) never sees half a file.
The feed comes from feedgen; its ``updated`` is the newest edition's date,
not the clock, so the same editions give the same bytes.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import jinja2
from feedgen.feed import FeedGenerator

from digest.models import Edition

MANIFEST = "editions.json"
INDEX = "index.html"
FEED = "feed.xml"

INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{{ title }}</title>
<link rel="alternate" type="application/atom+xml" title="{{ title }}" href="{{ feed }}">
<style>
  body { font: 1.05rem/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
         max-width: 42rem; padding: 1.5rem 1rem; color: #1b1b1b; background: #fff; }
  a { color: #0b57a4; }
  li { margin: 0 0 1.25rem; }
  .date { display: block; color: #555; font-size: .9rem; }
  .stories { margin: .25rem 0 0; color: #333; font-size: .95rem; }
  footer { margin-top: 2rem; font-size: .9rem; }
  @media (prefers-color-scheme: dark) {
    body { color: #eaeaea; background: #141414; }
    a { color: #8cc4ff; }
    .date, .stories { color: #bdbdbd; }
  }
</style>
</head>
<body>
<header><h1>{{ title }}</h1><p><a href="{{ feed }}">Atom feed</a></p></header>
<main>
{% if entries %}<ol reversed>
{% for entry in entries %}  <li>
    <a href="{{ entry.page }}"><span dir="auto">{{ entry.title }}</span></a>
    <time class="date" datetime="{{ entry.date }}">{{ entry.label }}</time>
    {% if entry.stories %}<p class="stories" dir="auto">{{ entry.stories | join(" · ") }}</p>{% endif %}
  </li>
{% endfor %}</ol>
{% else %}<p>No editions yet.</p>
{% endif %}</main>
<footer><p><a href="{{ unsubscribe }}">Unsubscribe</a> from the email editions.</p></footer>
</body>
</html>
"""

_ENVIRONMENT = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
"""English month names, independent of the process locale (determinism)."""


@dataclass(frozen=True)
class ArchiveEntry:
    """What the index and the feed say about one edition."""

    id: str
    name: str
    title: str
    date: str
    page: str
    description: str
    stories: tuple[str, ...]


def page_name(edition: Edition) -> str:
    """The edition's page in the archive: readable, and unique per edition id (minute)."""
    return f"{edition.name}-{edition.date:%Y-%m-%d-%H%M}.html"


def page_url(base_url: str, edition: Edition) -> str:
    """Where readers find the edition online (the 'view in a browser' link)."""
    return f"{base_url.rstrip('/')}/{page_name(edition)}"


def publish(archive_dir: Path, edition: Edition, web_html: str, *, base_url: str) -> list[Path]:
    """Add (or replace) an edition's page, then rebuild the index and the feed."""
    archive_dir.mkdir(parents=True, exist_ok=True)
    entry = ArchiveEntry(
        id=edition.id,
        name=edition.name,
        title=edition.title,
        date=edition.date.isoformat(),
        page=page_name(edition),
        description=edition.description,
        stories=tuple(story.title for story in edition.stories),
    )
    entries = [e for e in read_manifest(archive_dir) if e.id != entry.id] + [entry]
    entries.sort(key=lambda e: (datetime.fromisoformat(e.date), e.id), reverse=True)
    page = archive_dir / entry.page
    _write(page, web_html)
    _write(archive_dir / INDEX, render_index(entries, base_url=base_url))
    _write(archive_dir / FEED, render_feed(entries, base_url=base_url))
    manifest = {"editions": [asdict(e) for e in entries]}
    _write(archive_dir / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return [page, archive_dir / INDEX, archive_dir / FEED, archive_dir / MANIFEST]


def read_manifest(archive_dir: Path) -> list[ArchiveEntry]:
    path = archive_dir / MANIFEST
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [ArchiveEntry(**{**item, "stories": tuple(item["stories"])}) for item in data["editions"]]


def _archive_title(entries: list[ArchiveEntry]) -> str:
    titles = {entry.title for entry in entries}
    return f"{titles.pop()}: archive" if len(titles) == 1 else "Digest archive"


def _date_label(iso: str) -> str:
    moment = datetime.fromisoformat(iso)
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def render_index(entries: list[ArchiveEntry], *, base_url: str) -> str:
    """The archive's home page: every edition, newest first (absolute links, so a copy still works)."""
    base = base_url.rstrip("/")
    return _ENVIRONMENT.from_string(INDEX_TEMPLATE).render(
        title=_archive_title(entries),
        feed=f"{base}/{FEED}",
        unsubscribe=f"{base}/unsubscribe",
        entries=[{**asdict(e), "page": f"{base}/{e.page}", "label": _date_label(e.date)} for e in entries],
    )


def render_feed(entries: list[ArchiveEntry], *, base_url: str) -> str:
    """An Atom 1.0 feed with one entry per edition (at least one), newest first."""
    base = base_url.rstrip("/")
    title = _archive_title(entries)
    feed = FeedGenerator()
    feed.id(f"{base}/{FEED}")
    feed.title(title)
    feed.author({"name": title})
    feed.link(href=f"{base}/{FEED}", rel="self", type="application/atom+xml")
    feed.link(href=f"{base}/", rel="alternate", type="text/html")
    feed.language("en")
    feed.updated(datetime.fromisoformat(entries[0].date))
    for entry in entries:
        item = feed.add_entry(order="append")
        item.id(f"{base}/{entry.page}")
        item.title(f"{entry.title}, {_date_label(entry.date)}")
        item.link(href=f"{base}/{entry.page}", rel="alternate", type="text/html")
        item.updated(datetime.fromisoformat(entry.date))
        item.published(datetime.fromisoformat(entry.date))
        summary = "; ".join(entry.stories) or entry.description or entry.title
        item.summary(summary)
    atom: bytes = feed.atom_str(pretty=True)
    return atom.decode("utf-8")


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)

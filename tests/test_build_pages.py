"""`digest build` reads the article pages that teaser entries link to: a real local server, real pages."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from feedserver import FeedServer, Route, rss_item

from digest.cli.main import main

PAGES = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "article_pages"
VENTUREBEAT = "html/06e5123e4ef7cfb4533250dc45d1e03d0838fc66223f45c583c4d12f48b4da85.html.gz"
TECHCRUNCH = "html/1ace8c85aaee21b9d4505eca506d50c4721c29db62848b567a9703bfe0583892.html.gz"
NOW = "2026-12-01T07:00:00+00:00"
PUBLISHED = "Mon, 18 Nov 2019 20:00:00 GMT"

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not PAGES.is_dir(), reason=f"article pages not found at {PAGES}"),
]

CONFIG = """\
sources: {{seeds: null}}
feeds:
  - url: {feed}
fetch: {{per_host_delay: 0, retries: 0}}
themes:
  arms:
    title: Arms exports
    description: Weapons sales.
    signals: {{keywords: {{weapons: 1.0, arms: 1.0}}}}
editions:
  daily:
    title: Daily
    themes: [arms]
    unthemed: also-noted
    also_noted_floor: 0   # these stories fit no theme: list them all under Also noted
"""


def _serve(server: FeedServer) -> str:
    for path, name in (("/venturebeat/wework", VENTUREBEAT), ("/techcrunch/wework", TECHCRUNCH)):
        server.route(path, Route(gzip.decompress((PAGES / name).read_bytes()), content_type="text/html"))
    server.route("/locked/story", Route(b"<p>Forbidden</p>", status=403, content_type="text/html"))
    items = [
        rss_item("New York State Attorney General investigating WeWork and former CEO",
                 server.url("/venturebeat/wework"), "The attorney general is looking into WeWork.", PUBLISHED),
        rss_item(None, server.url("/techcrunch/wework"), "WeWork faces a state inquiry, sources say.", PUBLISHED),
        rss_item("Council debates budget", server.url("/locked/story"), "The council met about the budget.", PUBLISHED),
    ]
    return server.rss("/feed.rss", items)


def _build(project: Path, *extra: str):
    out = project / "out"
    result = CliRunner().invoke(
        main, ["build", "--config", str(project / "schedule.yaml"), "--out", str(out), "--now", NOW, *extra]
    )
    assert result.exit_code == 0, result.output
    return json.loads(next(out.glob("*.json")).read_text(encoding="utf-8")), result


def test_teaser_entries_are_summarised_from_their_pages_and_named_by_them(tmp_path, feed_server):
    (tmp_path / "schedule.yaml").write_text(CONFIG.format(feed=_serve(feed_server)), encoding="utf-8")
    edition, result = _build(tmp_path, "--explain")
    assert "; linked pages read for full text: 2 fetched, 0 reused, 1 refused (feed text kept); " in result.stdout
    assert "the server refused (HTTP 403 Forbidden)" in result.stdout

    stories = {story["title"]: story for story in edition["also_noted"]["stories"]}
    venturebeat = stories["New York State Attorney General investigating WeWork and former CEO"]
    assert "attorney general is looking into" not in venturebeat["summary"]
    assert "(NYAG) is investigating WeWork" in venturebeat["summary"]
    # the feed has no title: each page names its publisher, and the refused one is "not named", with its link
    assert venturebeat["sources"][0]["name"] == "VentureBeat"
    locked = stories["Council debates budget"]
    assert locked["summary"] == "The council met about the budget."
    assert locked["sources"][0]["name"] == "Publisher not named"
    assert locked["sources"][0]["url"] == feed_server.url("/locked/story")
    techcrunch = next(s for s in stories.values() if s["sources"][0]["url"] == feed_server.url("/techcrunch/wework"))
    assert techcrunch["title"] == "New York State Attorney General reportedly investigating WeWork"
    assert techcrunch["sources"][0]["name"] == "TechCrunch"
    assert not techcrunch["summary"].startswith(techcrunch["title"])

    # the same edition built again reads the stored pages: nothing is fetched twice
    again, rebuilt = _build(tmp_path)
    assert "; linked pages read for full text: 0 fetched, 2 reused, 1 refused" in rebuilt.stdout
    assert len(feed_server.requests_to("/venturebeat/wework")) == 1
    assert again["also_noted"] == edition["also_noted"]


def test_full_text_never_reads_no_page(tmp_path, feed_server):
    config = CONFIG.format(feed=_serve(feed_server)).replace("  - url: " + feed_server.url("/feed.rss"),
                                                            "  - url: " + feed_server.url("/feed.rss") + "\n    full_text: never")
    (tmp_path / "schedule.yaml").write_text(config, encoding="utf-8")
    edition, result = _build(tmp_path)
    assert "linked pages" not in result.stdout + result.stderr
    assert feed_server.requests_to("/venturebeat/wework") == []
    assert any(s["summary"] == "The attorney general is looking into WeWork." for s in edition["also_noted"]["stories"])


def test_digest_read_prints_what_digest_reads_from_each_page(tmp_path, feed_server):
    _serve(feed_server)
    page, locked = feed_server.url("/venturebeat/wework"), feed_server.url("/locked/story")
    result = CliRunner().invoke(main, ["read", page, locked, "--json", "--config", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1, result.output
    read = json.loads(result.stdout)
    assert read["command"] == "read" and read["summary"] == "1 of 2 pages read"
    venturebeat, refused = read["pages"]
    assert venturebeat["url"] == page
    assert venturebeat["title"] == "New York State Attorney General investigating WeWork and former CEO"
    assert (venturebeat["site_name"], venturebeat["author"], venturebeat["published"]) == (
        "VentureBeat", "Reuters", "2019-11-18")
    assert venturebeat["paragraphs"][0].startswith("(Reuters) — The New York State Attorney General (NYAG)")
    assert len(venturebeat["paragraphs"]) > 15
    assert refused["paragraphs"] == [] and refused["refused"] == "forbidden"

    text = CliRunner().invoke(main, ["read", page, "--config", str(tmp_path / "none.yaml")])
    assert text.exit_code == 0
    assert "  publisher: VentureBeat" in text.stdout and "  author:    Reuters" in text.stdout
    assert text.stdout.endswith("\n1 of 1 pages read\n") and "pages read" not in text.stderr  # the result: stdout


def test_digest_read_refuses_what_is_not_a_web_address():
    result = CliRunner().invoke(main, ["read", "file:///etc/passwd"])
    assert result.exit_code == 2 and "not an http(s) address" in result.output


def test_pages_of_teasers_no_theme_could_take_are_not_fetched(tmp_path, feed_server):
    """Every story has some likelihood for every theme: that alone must not make its page worth a request."""
    floor = "    also_noted_floor: 0   # these stories fit no theme: list them all under Also noted\n"
    assert floor in CONFIG
    config = CONFIG.format(feed=_serve(feed_server)).replace(floor, "")
    (tmp_path / "schedule.yaml").write_text(config, encoding="utf-8")
    edition, result = _build(tmp_path)
    assert feed_server.requests_to("/venturebeat/wework") == []
    assert feed_server.requests_to("/techcrunch/wework") == []
    assert edition["also_noted"] is None or edition["also_noted"]["stories"] == []

"""Feed autodiscovery: `digest feeds add PAGE` against a real local HTTP server."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from feedserver import Route, fixture
from test_feeds_cli import SMALL

from digest.cli.feeds import feeds
from digest.config import load_config
from digest.sources.discover import advertised_feeds, usual_paths


def page(*links: str) -> bytes:
    head = "".join(links)
    return f"<!DOCTYPE html><html><head><title>Site</title>{head}</head><body><p>Hello</p></body></html>".encode()


@pytest.fixture
def config(tmp_path, feed_server):
    path = tmp_path / "schedule.yaml"
    path.write_text(SMALL.format(first=feed_server.url("/first.rss")), encoding="utf-8")
    return path


def add(config, *args: str):
    return CliRunner().invoke(feeds, ["add", "--config", str(config), *args], catch_exceptions=False)


def test_advertised_feeds_are_read_from_link_elements_resolved_and_deduplicated():
    markup = page(
        '<base href="https://example.org/news/">',
        '<link rel="alternate" type="application/rss+xml" title="All  news" href="feed.rss">',
        '<link rel="Alternate home" type="application/atom+xml; charset=utf-8" href="/atom">',
        '<link rel="alternate" type="application/rss+xml" href="feed.rss">',
        '<link rel="alternate" type="text/html" hreflang="fr" href="/fr/">',
        '<link rel="stylesheet" type="application/rss+xml" href="/not-a-feed">',
        '<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">',
    )
    found = advertised_feeds(markup, "https://example.org/page")
    assert [(c.url, c.title) for c in found] == [
        ("https://example.org/news/feed.rss", "All news"),
        ("https://example.org/atom", None),
    ]
    assert [c.url for c in usual_paths("https://example.org/a/b?c")][:2] == [
        "https://example.org/feed", "https://example.org/rss.xml",
    ]  # fmt: skip


def test_a_page_advertising_one_feed_gets_that_feed_added_under_its_title(config, feed_server):
    feed_server.route("/news.rss", Route(fixture("news.rss")))
    url = feed_server.route("/", Route(page('<link rel="alternate" type="application/rss+xml" href="/news.rss">'),
                                       content_type="text/html; charset=utf-8"))  # fmt: skip
    result = add(config, url, "--theme", "solidarity")
    assert result.exit_code == 0, result.output
    feed_url = feed_server.url("/news.rss")
    assert result.output == (
        f"found the feed {feed_url} on {url}\n"
        f'Added feed #3 "Example Monitor" (4 entries) to {config}: {feed_url}\n'
    )
    added = load_config(config).feeds[2]
    assert (added.url, added.name, added.themes) == (feed_url, "Example Monitor", ["solidarity"])


def test_a_page_with_several_feeds_lists_them_and_adds_the_one_picked(config, feed_server):
    feed_server.route("/news.rss", Route(fixture("news.rss")))
    feed_server.route("/notes.atom", Route(fixture("atom.xml"), content_type="application/atom+xml"))
    feed_server.route("/gone.rss", Route(b"", 404, "text/plain"))
    url = feed_server.route("/blog", Route(page(
        '<link rel="alternate" type="application/rss+xml" href="/news.rss">',
        '<link rel="alternate" type="application/rss+xml" href="/gone.rss">',
        '<link rel="alternate" type="application/atom+xml" href="/notes.atom">',
    ), content_type="text/html"))  # fmt: skip
    before = config.read_text(encoding="utf-8")
    listed = add(config, url)
    assert listed.exit_code == 2
    assert listed.stdout.splitlines() == [
        f"  1  Example Monitor (4 entries)  {feed_server.url('/news.rss')}",
        f"  2  Field Notes (2 entries)  {feed_server.url('/notes.atom')}",
        "this page offers 2 feeds: add one with --pick N",
    ]
    assert f"warning: the page's feed {feed_server.url('/gone.rss')}: HTTP 404 Not Found" in listed.stderr
    assert config.read_text(encoding="utf-8") == before
    as_json = json.loads(add(config, url, "--json").stdout)
    assert (as_json["exit_code"], [c["title"] for c in as_json["candidates"]]) == (2, ["Example Monitor", "Field Notes"])
    picked = add(config, url, "--pick", "2", "--name", "Notes")
    assert picked.exit_code == 0, picked.output
    assert [(f.url, f.name) for f in load_config(config).feeds[2:]] == [(feed_server.url("/notes.atom"), "Notes")]
    assert add(config, url, "--pick", "5").exit_code == 2


def test_a_page_that_advertises_nothing_is_looked_at_on_the_usual_paths(config, feed_server):
    feed_server.route("/atom.xml", Route(fixture("atom.xml"), content_type="application/atom+xml"))
    url = feed_server.route("/about", Route(fixture("page.html"), content_type="text/html"))
    result = add(config, url, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["feed"]["url"] == feed_server.url("/atom.xml")
    assert document["feed"]["name"] == "Field Notes"
    assert document["summary"].startswith('Added feed #3 "Field Notes" (2 entries)')

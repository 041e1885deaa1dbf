"""The web archive: edition pages, an index newest first, a valid Atom feed."""

from __future__ import annotations

import dataclasses
import io
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from edition_fixture import CLOCK, sample_edition
from lxml import etree, html

from digest.render.archive import (
    FEED,
    INDEX,
    MANIFEST,
    page_name,
    page_url,
    publish,
    read_manifest,
)

BASE = "https://digest.example.org"
ATOM = "{http://www.w3.org/2005/Atom}"
CHROMIUM = Path("/usr/bin/chromium")


def editions():
    first = sample_edition()
    second = dataclasses.replace(first, date=CLOCK + timedelta(days=7))
    return first, second


def publish_both(folder: Path):
    first, second = editions()
    publish(folder, second, "<p>second</p>", base_url=BASE)  # out of order on purpose
    publish(folder, first, "<p>first</p>", base_url=BASE)
    return first, second


def test_each_edition_gets_its_page_and_the_index_lists_newest_first(tmp_path):
    first, second = publish_both(tmp_path)
    assert (tmp_path / page_name(first)).read_text() == "<p>first</p>"
    assert (tmp_path / page_name(second)).read_text() == "<p>second</p>"
    index = html.fromstring((tmp_path / INDEX).read_bytes())
    assert index.xpath("//ol/li/a/@href") == [page_url(BASE, second), page_url(BASE, first)]
    assert index.xpath("//ol/li/time/text()") == ["30 November 2026", "23 November 2026"]
    assert index.xpath("//link[@rel='alternate']/@href") == [f"{BASE}/{FEED}"]
    assert index.xpath("//footer//a/@href") == [f"{BASE}/unsubscribe"]
    assert index.xpath("/html/@lang") == ["en"]
    assert [e.id for e in read_manifest(tmp_path)] == [second.id, first.id]


def test_the_feed_is_valid_atom_with_an_entry_per_edition(tmp_path):
    first, second = publish_both(tmp_path)
    raw = (tmp_path / FEED).read_bytes()
    parsed = feedparser.parse(io.BytesIO(raw))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert [entry.link for entry in parsed.entries] == [page_url(BASE, second), page_url(BASE, first)]
    tree = etree.fromstring(raw)
    for element in ("id", "title", "updated", "author/" + ATOM + "name"):
        assert tree.find(ATOM + element) is not None, element
    assert tree.findtext(ATOM + "updated") == second.date.isoformat()
    assert tree.find(f"{ATOM}link[@rel='self']").get("href") == f"{BASE}/{FEED}"
    ids = [entry.findtext(ATOM + "id") for entry in tree.iter(ATOM + "entry")]
    assert len(set(ids)) == len(ids) == 2
    for entry in tree.iter(ATOM + "entry"):
        for element in ("id", "title", "updated", "link", "summary"):
            assert entry.find(ATOM + element) is not None, element
    assert first.stories[0].title in parsed.entries[1].summary


def test_publishing_again_replaces_and_gives_the_same_bytes(tmp_path):
    publish_both(tmp_path / "a")
    publish_both(tmp_path / "b")
    first, _ = editions()
    publish(tmp_path / "b", first, "<p>first</p>", base_url=BASE)
    names = (INDEX, FEED, MANIFEST, page_name(first))
    assert {n: (tmp_path / "a" / n).read_bytes() for n in names} == {n: (tmp_path / "b" / n).read_bytes() for n in names}
    assert len(read_manifest(tmp_path / "b")) == 2
    assert not list((tmp_path / "b").glob(".*.tmp"))


def test_titles_are_escaped_in_the_index_and_the_feed(tmp_path):
    edition = dataclasses.replace(sample_edition(), title='<script>alert("x")</script> & co')
    publish(tmp_path, edition, "<p>page</p>", base_url=BASE)
    index = (tmp_path / INDEX).read_text()
    assert "<script>" not in index and "&lt;script&gt;" in index
    tree = etree.fromstring((tmp_path / FEED).read_bytes())
    assert tree.findtext(ATOM + "title") == '<script>alert("x")</script> & co: archive'


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
def test_the_index_fits_a_phone_and_loads_nothing_else(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    publish_both(tmp_path)
    requests: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--headless=new", "--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 375, "height": 800})
            page.on("request", lambda request: requests.append(request.url))
            page.goto((tmp_path / INDEX).as_uri(), wait_until="load")
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            assert page.evaluate("document.querySelectorAll('ol li').length") == 2
        finally:
            browser.close()
    assert requests == [(tmp_path / INDEX).as_uri()]

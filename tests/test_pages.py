"""Full-text retrieval against a real local HTTP server: real article pages and every way a page fails."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from feedserver import FeedServer, Route

from digest.config import FetchConfig, PagesConfig
from digest.models import PageRefusal, PageSource
from digest.sources.pages import PageRequest, PageResult, read_pages, same_site
from digest.store import connect

PAGES = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "article_pages"
WEWORK = "html/06e5123e4ef7cfb4533250dc45d1e03d0838fc66223f45c583c4d12f48b4da85.html.gz"
"""VentureBeat, 18 November 2019: 'New York State Attorney General investigating WeWork and former CEO'."""
RUSSIAN = "html/3c6d3381ef52ca26be2fbde19c1b0fe17d85682b726dfecf5e300c1ca34546b1.html.gz"
"""wday.ru: a Russian blog article."""
NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
FETCH = FetchConfig(per_host_delay=0, retries=0, total_timeout=2, read_timeout=2, connect_timeout=2)

needs_pages = pytest.mark.skipif(not PAGES.is_dir(), reason=f"article pages not found at {PAGES}")


def page(name: str) -> bytes:
    return gzip.decompress((PAGES / name).read_bytes())


def html(route_body: bytes, **options) -> Route:
    return Route(route_body, content_type="text/html; charset=utf-8", **options)


def read(urls: list[str], conn=None, *, now: datetime = NOW, network: bool = True, feed_words: int = 20,
         fetch: FetchConfig = FETCH, **settings) -> list[PageResult]:
    requests = [PageRequest(f"doc{i}", url, feed_words) for i, url in enumerate(urls)]
    return read_pages(conn, requests, fetch=fetch, settings=PagesConfig(**settings), now=now, network=network)


def refusal(feed_server: FeedServer, route: Route, **options) -> PageResult:
    (result,) = read([feed_server.route("/story", route)], **options)
    assert result.source is PageSource.REFUSED and result.article is None
    return result


@needs_pages
def test_a_real_article_page_gives_its_text_and_what_the_page_says_about_it(feed_server):
    (result,) = read([feed_server.route("/2019/11/18/wework", html(page(WEWORK)))])
    assert result.source is PageSource.FETCHED and result.refusal is None
    article = result.article
    assert article is not None
    assert article.site_name == "VentureBeat"
    assert article.title == "New York State Attorney General investigating WeWork and former CEO"
    assert str(article.published) == "2019-11-18"
    assert article.words > 300
    assert any("New York State Attorney General" in p for p in article.paragraphs)
    # navigation, share widgets and related-article lists stay out
    assert not any(p.startswith(("Share on", "Sign up", "Follow us")) for p in article.paragraphs)


@needs_pages
def test_a_rebuild_reuses_the_stored_page_and_later_asks_only_whether_it_changed(feed_server, tmp_path):
    url = feed_server.route("/wework", html(page(WEWORK), etag='"v1"'))
    conn = connect(tmp_path / "store.sqlite")
    first = read([url], conn)
    again = read([url], conn, now=NOW + timedelta(hours=1))
    assert [r.source for r in (*first, *again)] == [PageSource.FETCHED, PageSource.REUSED]
    assert again[0].article == first[0].article
    assert len(feed_server.requests_to("/wework")) == 1

    later = read([url], conn, now=NOW + timedelta(days=2))
    assert later[0].source is PageSource.REUSED and later[0].article == first[0].article
    conditional = feed_server.requests_to("/wework")
    assert len(conditional) == 2 and conditional[1].headers.get("if-none-match") == '"v1"'


@needs_pages
def test_offline_builds_use_stored_pages_and_fetch_nothing(feed_server, tmp_path):
    url = feed_server.route("/wework", html(page(WEWORK)))
    conn = connect(tmp_path / "store.sqlite")
    read([url], conn)
    stored, missing = read([url, feed_server.url("/other")], conn, now=NOW + timedelta(days=9), network=False)
    assert stored.source is PageSource.REUSED and stored.article is not None
    assert missing.refusal is PageRefusal.OFFLINE
    assert feed_server.requests_to("/other") == []


@needs_pages
def test_a_page_in_another_language_is_read_as_it_is(feed_server):
    (result,) = read([feed_server.route("/articles/food", html(page(RUSSIAN)))])
    assert result.article is not None and result.article.words > 300
    assert sum(any("а" <= c <= "я" for c in p) for p in result.article.paragraphs) > len(result.article.paragraphs) / 2


def test_a_paywalled_page_keeps_the_feed_text(feed_server):
    body = (
        b'<html><head><script type="application/ld+json">{"@type": "NewsArticle", "isAccessibleForFree": false}'
        b"</script></head><body><article><h1>Markets fall</h1><p>Subscribe to continue reading.</p></article>"
        b"</body></html>"
    )
    assert refusal(feed_server, html(body)).refusal is PageRefusal.PAYWALL
    assert refusal(feed_server, html(b"", status=402)).refusal is PageRefusal.PAYWALL


def test_a_forbidden_page_keeps_the_feed_text(feed_server):
    result = refusal(feed_server, html(b"<p>Forbidden</p>", status=403))
    assert result.refusal is PageRefusal.FORBIDDEN and "403" in (result.detail or "")


def test_robots_txt_disallowing_the_path_means_the_page_is_never_requested(feed_server):
    feed_server.route("/robots.txt", Route(b"User-agent: *\nDisallow: /news/\n", content_type="text/plain"))
    disallowed = feed_server.route("/news/story", html(b"<p>text</p>"))
    (result,) = read([disallowed])
    assert result.refusal is PageRefusal.DISALLOWED
    assert feed_server.requests_to("/news/story") == []


def test_robots_txt_rules_for_digest_apply_and_others_do_not(feed_server):
    feed_server.route("/robots.txt", Route(b"User-agent: digest\nDisallow: /\n\nUser-agent: *\nAllow: /\n",
                                           content_type="text/plain"))
    (result,) = read([feed_server.route("/story", html(b"<p>text</p>"))])
    assert result.refusal is PageRefusal.DISALLOWED


def test_a_slow_page_times_out_and_keeps_the_feed_text(feed_server):
    fetch = FETCH.model_copy(update={"total_timeout": 0.5, "read_timeout": 0.5})
    result = refusal(feed_server, html(b"<p>late</p>", delay=3), fetch=fetch)
    assert result.refusal is PageRefusal.TIMEOUT


def test_a_huge_page_is_refused_at_the_size_cap(feed_server):
    fetch = FETCH.model_copy(update={"max_bytes": 64 * 1024})
    body = b"<html><body>" + b"<p>" + b"word " * 100_000 + b"</p></body></html>"
    assert refusal(feed_server, html(body), fetch=fetch).refusal is PageRefusal.TOO_LARGE


@pytest.mark.parametrize("content_type", ["application/pdf", "image/jpeg", "text/plain"])
def test_a_link_to_a_pdf_or_an_image_is_not_a_web_page(feed_server, content_type):
    result = refusal(feed_server, Route(b"%PDF-1.4 binary", content_type=content_type))
    assert result.refusal is PageRefusal.NOT_HTML


def test_a_redirect_off_the_site_is_not_followed(feed_server):
    elsewhere = FeedServer()
    try:
        target = elsewhere.route("/landing", html(b"<article><p>" + b"Other site text. " * 80 + b"</p></article>"))
        (result,) = read([feed_server.redirect("/story", target)])
    finally:
        elsewhere.close()
    assert result.refusal is PageRefusal.OFF_SITE
    assert elsewhere.requests_to("/landing") == []


def test_a_page_that_is_not_an_article_keeps_the_feed_text(feed_server):
    body = b"<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav><p>Watch the video.</p></body></html>"
    assert refusal(feed_server, html(body)).refusal is PageRefusal.NOT_ARTICLE


def test_a_page_that_says_no_more_than_the_feed_is_not_used(feed_server):
    body = b"<html><body><article><p>" + b"The council met on Monday and approved the plan. " * 6 + b"</p></article></body></html>"
    assert refusal(feed_server, html(body), feed_words=200).refusal is PageRefusal.SHORTER


def test_the_page_budget_caps_what_one_build_fetches(feed_server):
    urls = [feed_server.route(f"/story{i}", html(b"<p>text</p>")) for i in range(3)]
    results = read(urls, max_pages=1)
    assert [r.refusal for r in results[1:]] == [PageRefusal.BUDGET, PageRefusal.BUDGET]
    assert sum(len(feed_server.requests_to(f"/story{i}")) for i in range(3)) == 1


def test_same_site_is_the_registered_domain():
    assert same_site("https://www.cnn.com/a", "https://edition.cnn.com/b")
    assert same_site("https://www.bbc.co.uk/a", "https://bbc.co.uk/b")
    assert not same_site("https://news.example.com/a", "https://consent.other.com/b")
    assert not same_site("http://127.0.0.1:8000/a", "http://10.0.0.1:8000/b")

"""digest.sources.feeds: parsing, keys, text, and harvests against a real local HTTP server."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from feedserver import Route, fixture, gzip_bomb

from digest.config import Config
from digest.errors import FetchError
from digest.models import Document, SourceRef
from digest.sources.feeds import parse_feed
from digest.sources.harvest import harvest
from digest.sources.html import html_to_paragraphs, html_to_text
from digest.sources.urls import canonical_url, entry_key, strip_tracking
from digest.store import connect

T1 = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
T2 = T1 + timedelta(days=7)
T3 = T2 + timedelta(days=7)
ARMS_KEY = "tag:news.example.org,2024:arms-licences"


def theme(keyword: str) -> dict:
    return {"title": keyword.title(), "description": keyword, "signals": {"keywords": {keyword: 1}}}


def make_config(tmp_path, feeds: list[dict], **fetch: object) -> Config:
    return Config.model_validate(
        {
            "themes": {"arms-exports": theme("arms"), "solidarity": theme("solidarity")},
            "editions": {"weekly": {"title": "Weekly", "themes": ["arms-exports", "solidarity"]}},
            "feeds": feeds,
            "fetch": {
                "connect_timeout": 1,
                "read_timeout": 0.3,
                "total_timeout": 2,
                "retries": 0,
                "per_host_delay": 0,
                "max_bytes": 1 << 20,
                **fetch,
            },
            "store": "digest.sqlite",
            "base_dir": tmp_path,
        }
    )


@pytest.fixture
def conn(tmp_path):
    connection = connect(tmp_path / "digest.sqlite")
    yield connection
    connection.close()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/feed"


# --- parsing ----------------------------------------------------------------------


def test_rss_entries_get_keys_text_links_and_dates():
    feed = parse_feed(fixture("news.rss"), url="https://news.example.org/feeds/news.rss")
    assert feed.title == "Example Monitor" and feed.problem is None
    arms, olives, football, dockers = feed.entries
    assert arms.key == ARMS_KEY
    assert arms.link == "https://news.example.org/2024/05/arms-licences?id=7"
    assert arms.published == datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
    assert arms.text == (
        "Members of parliament asked the trade ministry on Monday why it keeps granting arms "
        "export licences for fighter jet parts.\n\n"
        "The ministry said every licence is reviewed against the export criteria.\n\n"
        "Parts are shipped through a third country."
    )
    assert olives.key == olives.link == "https://news.example.org/2024/05/olive-trees"
    assert olives.text == (
        "Farmers said settlers uprooted about forty olive trees overnight.\n\n"
        "It was the third attack on the groves this spring."
    )
    assert football.key == "https://news.example.org/feeds/12345"
    assert dockers.key.startswith("sha256:") and dockers.link is None and dockers.published is None
    assert dockers.title == "Dockworkers refuse to load a weapons shipment"


def test_atom_plain_text_stays_text_and_xhtml_becomes_paragraphs():
    feed = parse_feed(fixture("atom.xml"), url="https://atom.example.net/feed")
    assert feed.title == "Field Notes"
    plain, xhtml = feed.entries
    assert plain.text == "Use a <b> tag for bold.\n\nA second paragraph with extra spaces."
    assert plain.link == "https://atom.example.net/blog/posts/plain"
    assert plain.key == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert xhtml.title == "An XHTML entry"
    assert xhtml.text == "Heading\n\nFirst paragraph.\n\nOne item\n\nAnother item"
    assert xhtml.published == datetime(2024, 5, 9, 6, 15, tzinfo=UTC)


def test_hostile_entry_text_has_only_what_a_reader_would_see():
    feed = parse_feed(fixture("hostile.rss"), url="https://hostile.example.com/feed")
    assert feed.title == "Hostile Feed"
    [entry] = feed.entries
    assert entry.title == "Scripted title"
    assert entry.link is None
    assert entry.text == (
        "Visible text.\n\nOffscreen but plain.\n\n"
        "js link tabbed js link data link vb link good link\n\nLast words."
    )


def test_malformed_feed_keeps_its_entries_and_says_why():
    feed = parse_feed(fixture("malformed.rss"), url="https://broken.example.org/rss")
    assert [e.title for e in feed.entries] == ["First entry survives an undefined entity", "Second entry"]
    assert feed.problem == "malformed feed (line 6, column 34: undefined entity); 2 entries kept"


@pytest.mark.parametrize(
    ("data", "content_type", "message"),
    [
        (b"<html><body><p>Hi</p></body></html>", "text/html", "not an RSS or Atom feed (content type text/html)"),
        (b"", None, "not an RSS or Atom feed"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', "application/json",
         "not an RSS or Atom feed (content type application/json; line 2, column 0: not well-formed (invalid token))"),
    ],
)  # fmt: skip
def test_things_that_are_not_feeds_are_named_as_such(data, content_type, message):
    with pytest.raises(FetchError) as caught:
        parse_feed(data, url="https://x.example/feed", content_type=content_type)
    assert str(caught.value) == message


def test_charset_from_the_http_header_decodes_an_undeclared_legacy_encoding():
    feed = parse_feed(
        fixture("windows-1251.rss"),
        url="https://cyr.example.org/rss",
        content_type="application/rss+xml; charset=windows-1251",
    )
    assert feed.title == "Новости дня"
    assert [e.text for e in feed.entries] == ["Активисты провели акцию солидарности."]


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>One</p><p>Two <b>bold</b></p>", "One\n\nTwo bold"),
        ("Line one<br>Line two<br/><br/>Line three", "Line one\n\nLine two\n\nLine three"),
        ("<div>Outer <div>inner</div> tail</div>", "Outer\n\ninner\n\ntail"),
        ("<p>Keep</p><script>var x = '<p>no</p>';</script><style>p{}</style>", "Keep"),
        ("<p>Seen</p><p style='DISPLAY: none'>unseen</p><span hidden>unseen</span>", "Seen"),
        ("<p aria-hidden='true'>unseen</p><p style='opacity:0.5'>half seen</p>", "half seen"),
        ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\n\nc"),
        ("<p>  spaced\n\t out\u00a0text </p>", "spaced out text"),
        ("<p>esc\x1b[31mape</p>", "esc[31mape"),
        ("<?xml version='1.0' encoding='utf-8'?><p>declared</p>", "declared"),
        ("", ""),
        ("   ", ""),
        ("<!-- only a comment -->", ""),
    ],
)
def test_html_to_text(markup, text):
    assert html_to_text(markup) == text


PROMOTIONS = (
    '<ul><li><a href="/live">Follow our news live blog for latest updates</a></li>'
    '<li>Get our <a href="/email">morning and afternoon news emails</a>, <a href="/app">free app</a> or '
    '<a href="/podcast">daily news podcast</a></li></ul>'
)


@pytest.mark.parametrize(
    ("markup", "items"),
    [
        # every item mostly link text: navigation, promotions, related headlines
        (f"<p>The standfirst.</p>{PROMOTIONS}<p>The story.</p>",
         ("Follow our news live blog for latest updates",
          "Get our morning and afternoon news emails, free app or daily news podcast")),
        ('<ol><li><a href="/a">Ministry halts arms sale</a></li><li><a href="/b">Court rules</a></li></ol>',
         ("Ministry halts arms sale", "Court rules")),
        # a list of the story's points, one with a source linked: text, not links
        ('<ul><li>The convoy waited three days at the crossing.</li>'
         '<li>The agency <a href="/r">published its figures</a> on Monday morning.</li></ul>', ()),
        # one item without a link makes the list prose; an item that is all link is still a link
        ('<ul><li><a href="/a">Ministry halts arms sale</a></li><li>Talks resume on Friday</li></ul>',
         ("Ministry halts arms sale",)),
        ("<p>Text with <a href='/x'>a link</a> in it.</p>", ()),
        # a paragraph that is all link text, however it is wrapped
        ('<p>The story.</p><p><strong><a href="/n">Sign up to receive an email with the top stories</a></strong></p>',
         ("Sign up to receive an email with the top stories",)),
        ('<p>The story.</p><a href="/more">Continue reading...</a>', ("Continue reading...",)),
    ],
)
def test_paragraphs_that_are_links_are_told_apart(markup, items):
    paragraphs = html_to_paragraphs(markup)
    assert paragraphs.link_lines == items
    assert paragraphs.text == html_to_text(markup)
    assert all(item in paragraphs.text.split("\n\n") for item in items)


@pytest.mark.parametrize("depth", [300, 5000])
def test_html_to_text_survives_deep_nesting(depth):
    markup = "<div>" * depth + "<p>deep</p><script>no</script><p>down</p>" + "</div>" * depth
    assert html_to_text(markup) == "deep\n\ndown"


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTPS://News.Example.org:443/a?utm_source=x&id=1&fbclid=y#top", "https://news.example.org/a?id=1"),
        ("http://news.example.org:8080", "http://news.example.org:8080/"),
        ("https://x.example/a?UTM_Campaign=z&gclid=1&mc_eid=2", "https://x.example/a"),
        ("https://x.example/a?page=2&utm=keep", "https://x.example/a?page=2&utm=keep"),
    ],
)
def test_canonical_url(url, canonical):
    assert canonical_url(url) == canonical


def test_strip_tracking_keeps_the_rest_of_the_link_as_written():
    assert strip_tracking("https://x.example/A?q=%20a&utm_medium=rss#frag") == "https://x.example/A?q=%20a#frag"


def test_entry_key_prefers_guid_then_link_then_content():
    feed = "https://news.example/feed"
    assert entry_key("https://news.example/a?utm_source=rss", None, feed, "t", "x") == "https://news.example/a"
    assert entry_key("urn:uuid:1", "https://news.example/a", feed, "t", "x") == "urn:uuid:1"
    assert entry_key("42", None, feed, "t", "x") == "https://news.example/feed#guid=42"
    assert entry_key(None, "https://news.example/a#c", feed, "t", "x") == "https://news.example/a"
    same = entry_key(None, None, feed, "Title", "Text")
    assert same == entry_key(None, None, "https://other.example/", "Title", "Text")
    assert same != entry_key(None, None, feed, "Title", "Other text")


# --- harvests ---------------------------------------------------------------------


def test_harvest_makes_one_document_per_entry(tmp_path, conn, feed_server):
    url = feed_server.route("/news.rss", Route(fixture("news.rss")))
    config = make_config(tmp_path, [{"url": url, "themes": ["arms-exports"]}])
    result = harvest(config, conn, now=T1, since=None, until=T1)
    assert result.warnings == ()
    assert [d.title for d in result.documents] == [
        "Parliament questions arms export licences for fighter jet parts",
        "Settlers uproot olive trees near a West Bank village",
        "Football club signs a new goalkeeper",
        "Dockworkers refuse to load a weapons shipment",
    ]
    arms = result.documents[0]
    assert arms == Document(
        id=ARMS_KEY,
        text=arms.text,
        title="Parliament questions arms export licences for fighter jet parts",
        source=SourceRef(
            name="Example Monitor",
            url="https://news.example.org/2024/05/arms-licences?id=7",
            published=datetime(2024, 5, 6, 9, 0, tzinfo=UTC),
            document=ARMS_KEY,
        ),
        theme_hints=("arms-exports",),
        full_text="auto",
    )
    assert arms.text.startswith("Members of parliament asked")
    assert result.documents[1].source.url == feed_server.url("/2024/05/olive-trees")


def test_a_configured_name_wins_over_the_feed_title(tmp_path, conn, feed_server):
    url = feed_server.route("/news.rss", Route(fixture("news.rss")))
    config = make_config(tmp_path, [{"url": url, "name": "The Monitor"}])
    result = harvest(config, conn, now=T1, since=None, until=T1)
    assert {d.source.name for d in result.documents} == {"The Monitor"}


def test_next_harvest_is_conditional_and_repeats_nothing(tmp_path, conn, feed_server):
    url = feed_server.route("/news.rss", Route(fixture("news.rss"), etag='"v1"'))
    config = make_config(tmp_path, [{"url": url}])
    assert len(harvest(config, conn, now=T1, since=None, until=T1).documents) == 4
    again = harvest(config, conn, now=T2, since=T1, until=T2)
    assert again.documents == () and again.warnings == ()
    second = feed_server.requests_to("/news.rss")[1]
    assert second.headers["if-none-match"] == '"v1"'


def test_next_edition_gets_only_entries_first_seen_since_the_last(tmp_path, conn, feed_server):
    versions = {"current": Route(fixture("news.rss"), etag='"v1"')}
    url = feed_server.route("/news.rss", lambda request: versions["current"])
    config = make_config(tmp_path, [{"url": url}])
    harvest(config, conn, now=T1, since=None, until=T1)
    versions["current"] = Route(fixture("news-updated.rss"), etag='"v2"')
    result = harvest(config, conn, now=T2, since=T1, until=T2)
    assert [d.title for d in result.documents] == ["Students hold a vigil in solidarity with Gaza"]


def test_published_window_reads_stored_entries_without_fetching(tmp_path, conn, feed_server):
    url = feed_server.route("/news.rss", Route(fixture("news.rss")))
    config = make_config(tmp_path, [{"url": url}])
    harvest(config, conn, now=T1, since=None, until=T1)
    result = harvest(
        config,
        conn,
        now=T2,
        since=datetime(2024, 5, 7, tzinfo=UTC),
        until=datetime(2024, 5, 8, 23, 59, tzinfo=UTC),
        fetch=False,
        window="published",
    )
    assert [d.title for d in result.documents] == [
        "Settlers uproot olive trees near a West Bank village",
        "Football club signs a new goalkeeper",
    ]
    assert len(feed_server.requests) == 1


def test_include_and_exclude_patterns_filter_entries(tmp_path, conn, feed_server):
    url = feed_server.route("/news.rss", Route(fixture("news.rss")))
    config = make_config(tmp_path, [{"url": url, "include": ["SETTLER", "arms"], "exclude": ["fighter jet"]}])
    result = harvest(config, conn, now=T1, since=None, until=T1)
    assert [d.title for d in result.documents] == ["Settlers uproot olive trees near a West Bank village"]


def test_an_entry_carried_by_two_feeds_appears_once_with_both_hints(tmp_path, conn, feed_server):
    first = feed_server.route("/a.rss", Route(fixture("news.rss")))
    second = feed_server.route("/b.rss", Route(fixture("news-updated.rss")))
    config = make_config(
        tmp_path,
        [{"url": first, "name": "A", "themes": ["arms-exports"]}, {"url": second, "name": "B", "themes": ["solidarity"]}],
    )
    result = harvest(config, conn, now=T1, since=None, until=T1)
    by_id = {d.id: d for d in result.documents}
    assert len(result.documents) == 5
    assert by_id[ARMS_KEY].theme_hints == ("arms-exports", "solidarity")
    assert by_id[ARMS_KEY].source.name == "A"
    assert by_id["https://news.example.org/2024/05/vigil"].source.name == "B"


def test_disabled_feeds_are_neither_fetched_nor_read(tmp_path, conn, feed_server):
    url = feed_server.route("/news.rss", Route(fixture("news.rss")))
    harvest(make_config(tmp_path, [{"url": url}]), conn, now=T1, since=None, until=T1)
    result = harvest(make_config(tmp_path, [{"url": url, "enabled": False}]), conn, now=T2, since=None, until=T2)
    assert result.documents == ()
    assert len(feed_server.requests) == 1


def test_failing_feeds_are_one_line_each_and_never_stop_the_others(tmp_path, conn, feed_server):
    good = feed_server.route("/news.rss", Route(fixture("news.rss")))
    broken = feed_server.route("/broken", Route(b"oops", 500, "text/plain"))
    refused = closed_port_url()
    slow = feed_server.route("/slow", Route(fixture("news.rss"), delay=5))
    bomb = feed_server.route("/bomb", Route(gzip_bomb(8 << 20), headers={"Content-Encoding": "gzip"}))
    feed_server.redirect("/loop-a", feed_server.url("/loop-b"))
    loop = feed_server.redirect("/loop-b", feed_server.url("/loop-a"))
    page = feed_server.route("/page", Route(fixture("page.html"), content_type="text/html; charset=utf-8"))
    config = make_config(
        tmp_path,
        [{"url": u} for u in (broken, refused, good, slow, bomb, loop, page)],
        failure_threshold=2,
        max_redirects=2,
    )
    first = harvest(config, conn, now=T1, since=None, until=T1)
    assert len(first.documents) == 4
    assert first.warnings == (
        f"feed {broken}: HTTP 500 Internal Server Error",
        f"feed {refused}: unreachable (127.0.0.1 port {urlsplit(refused).port} refused the connection)",
        f"feed {slow}: timeout (no data for 0.3s)",
        f"feed {bomb}: response larger than 1 MB after decompression",
        f"feed {loop}: too many redirects (more than 2)",
        f"feed {page}: not an RSS or Atom feed (content type text/html)",
    )
    second = harvest(config, conn, now=T2, since=T1, until=T2)
    assert second.warnings[0] == f"feed {broken}: HTTP 500 Internal Server Error; failed 2 times in a row"
    assert len(second.warnings) == 6


def test_without_fetching_only_feeds_over_the_threshold_are_reported(tmp_path, conn, feed_server):
    broken = feed_server.route("/broken", Route(b"", 503, "text/plain"))
    config = make_config(tmp_path, [{"url": broken}], failure_threshold=2)
    harvest(config, conn, now=T1, since=None, until=T1)
    assert harvest(config, conn, now=T2, since=T1, until=T2, fetch=False).warnings == ()
    harvest(config, conn, now=T2, since=T1, until=T2)
    assert harvest(config, conn, now=T3, since=T2, until=T3, fetch=False).warnings == (
        f"feed {broken}: HTTP 503 Service Unavailable; failed 2 times in a row",
    )
    assert len(feed_server.requests) == 2


def test_malformed_feed_is_kept_with_a_warning(tmp_path, conn, feed_server):
    url = feed_server.route("/broken.rss", Route(fixture("malformed.rss")))
    result = harvest(make_config(tmp_path, [{"url": url}]), conn, now=T1, since=None, until=T1)
    assert len(result.documents) == 2
    assert result.warnings == (
        f"feed {url}: malformed feed (line 6, column 34: undefined entity); 2 entries kept",
    )


def test_encodings_and_wrong_content_types(tmp_path, conn, feed_server):
    cyrillic = feed_server.route(
        "/cyr.rss", Route(fixture("windows-1251.rss"), content_type="text/xml; charset=windows-1251")
    )
    latin = feed_server.route("/fr.rss", Route(fixture("latin-1.rss"), content_type="text/plain"))
    as_html = feed_server.route("/news.rss", Route(fixture("news.rss"), content_type="text/html"))
    untyped = feed_server.route("/atom", Route(fixture("atom.xml"), content_type=None))
    config = make_config(tmp_path, [{"url": u} for u in (cyrillic, latin, as_html, untyped)])
    result = harvest(config, conn, now=T1, since=None, until=T1)
    assert result.warnings == ()
    texts = {d.title: d.text for d in result.documents}
    assert texts["Протест у посольства"] == "Активисты провели акцию солидарности."
    assert texts["Manifestation à Paris"] == "Des milliers de personnes ont défilé dans les rues, déçues."
    assert "Football club signs a new goalkeeper" in texts and "An XHTML entry" in texts


def test_hostile_feed_yields_plain_text_and_no_unsafe_link(tmp_path, conn, feed_server):
    url = feed_server.route("/hostile.rss", Route(fixture("hostile.rss")))
    [document] = harvest(make_config(tmp_path, [{"url": url}]), conn, now=T1, since=None, until=T1).documents
    assert document.source == SourceRef(name="Hostile Feed", url=None, published=None, document=document.id)
    assert document.title == "Scripted title"
    for hidden in ("SCRIPTED", "alert", "HIDDEN", "IFRAME-TEXT", "FORM-", "NOSCRIPT"):
        assert hidden not in document.text


def test_progress_bar_can_be_forced_on(tmp_path, conn, feed_server, capsys):
    url = feed_server.route("/news.rss", Route(fixture("news.rss")))
    result = harvest(make_config(tmp_path, [{"url": url}]), conn, now=T1, since=None, until=T1, progress=True)
    assert len(result.documents) == 4
    assert capsys.readouterr().out == ""


def test_same_store_and_clock_give_the_same_documents(tmp_path, feed_server):
    url = feed_server.route("/news.rss", Route(fixture("news.rss")))
    runs = []
    for name in ("one", "two"):
        folder = tmp_path / name
        folder.mkdir()
        connection = connect(folder / "digest.sqlite")
        runs.append(harvest(make_config(folder, [{"url": url}]), connection, now=T1, since=None, until=T1))
        connection.close()
    assert runs[0] == runs[1]


def test_a_library_bug_on_one_feed_becomes_that_feed_s_warning(tmp_path, conn, feed_server, monkeypatch):
    from digest.sources import harvest as harvest_module

    real_parse = harvest_module.parse_feed

    def parse_or_trip(data: bytes, *, url: str, **kwargs: object):
        if url.endswith("/trips.rss"):
            raise RecursionError("maximum recursion depth exceeded")
        return real_parse(data, url=url, **kwargs)

    monkeypatch.setattr(harvest_module, "parse_feed", parse_or_trip)
    trips = feed_server.route("/trips.rss", Route(fixture("news.rss")))
    fine = feed_server.route("/fine.rss", Route(fixture("atom.xml")))
    result = harvest(make_config(tmp_path, [{"url": trips}, {"url": fine}]), conn, now=T1, since=None, until=T1)
    assert len(result.documents) == 2
    assert result.warnings == (
        f"feed {trips}: unexpected error (RecursionError: maximum recursion depth exceeded)",
    )

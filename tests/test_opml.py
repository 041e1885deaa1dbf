"""digest.sources.opml: reading what feed readers export, writing what they import."""

from __future__ import annotations

import pytest

from digest.config import FeedConfig
from digest.errors import SourceError
from digest.sources.opml import OpmlFeed, read_opml, write_opml


def test_nested_outlines_keep_their_folders_as_labels():
    data = b"""<?xml version="1.0" encoding="utf-8"?>
<opml version="2.0">
  <head><title>  Reader
     export </title></head>
  <body>
    <outline text="News">
      <outline text="Middle East">
        <outline type="rss" text="A" title="Feed A" xmlUrl="https://a.example/rss" category="/x/y,z"/>
      </outline>
      <outline type="rss" text="B" XMLURL="http://b.example/atom"/>
    </outline>
    <outline text="Empty folder"/>
    <outline type="rss" xmlUrl="https://c.example/feed"/>
    <outline type="rss" text="Bad" xmlUrl="file:///etc/passwd"/>
  </body>
</opml>"""
    opml = read_opml(data)
    assert opml.title == "Reader export"
    assert opml.feeds == (
        OpmlFeed("https://a.example/rss", "Feed A", ("News", "Middle East", "x", "y", "z")),
        OpmlFeed("http://b.example/atom", "B", ("News",)),
        OpmlFeed("https://c.example/feed", None, ()),
    )
    assert opml.skipped == ("file:///etc/passwd: not an http(s) URL",)


def leaky_opml(secret, outline_text: str) -> bytes:
    return f"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY leak SYSTEM "file://{secret}">]>
<opml version="2.0"><head><title>&leak;</title></head>
<body><outline text="{outline_text}" xmlUrl="https://a.example/rss"/></body></opml>""".encode()


def test_external_entities_are_never_loaded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    opml = read_opml(leaky_opml(secret, "A"))
    assert "TOP-SECRET" not in repr(opml)
    assert opml.feeds == (OpmlFeed("https://a.example/rss", "A", ()),)
    with pytest.raises(SourceError, match="references external entity 'leak'"):
        read_opml(leaky_opml(secret, "&leak;"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<opml><body><outline", "subscriptions.opml: not valid XML"),
        (b"<rss version='2.0'><channel/></rss>", "subscriptions.opml: not an OPML file (its root element is not <opml>)"),
        (b"<opml version='2.0'><head/></opml>", "subscriptions.opml: not an OPML file (no <body>)"),
    ],
)  # fmt: skip
def test_what_is_not_opml_is_named(data, message):
    with pytest.raises(SourceError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_opml(data, "subscriptions.opml")


def test_written_opml_reads_back_and_is_reproducible():
    feeds = [
        FeedConfig(url="https://a.example/rss?x=1&y=2", name="A & <B>", themes=["solidarity", "arms-exports"]),
        FeedConfig(url="https://c.example/feed"),
    ]
    data = write_opml(feeds, title="The Weekly Digest")
    assert data == write_opml(feeds, title="The Weekly Digest")
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<opml version=\"2.0\">")
    opml = read_opml(data)
    assert opml.title == "The Weekly Digest"
    assert opml.feeds == (
        OpmlFeed("https://a.example/rss?x=1&y=2", "A & <B>", ("solidarity", "arms-exports")),
        OpmlFeed("https://c.example/feed", None, ()),
    )

"""A photo caption (media:description) never stands in for a feed entry's own text."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.sources.feeds import parse_feed

NYT_WORLD = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real_feeds" / "nyt_world_2019-12.xml"

DESCRIPTION = "Bush fire season is nothing new to Australians, but this summer has been calamitous."
CAPTION = "A man on Tuesday tried to defend a property from a neighboring house already engulfed in flames."


def _feed(item: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>World</title>
<item><title>Australia's fires</title><link>https://news.example.org/fires</link>{item}</item>
</channel></rss>""".encode()


@pytest.mark.parametrize(
    "item",
    [
        f"<description>{DESCRIPTION}</description><media:description>{CAPTION}</media:description>",
        f"<media:description>{CAPTION}</media:description><description>{DESCRIPTION}</description>",
    ],
    ids=["caption-after", "caption-before"],
)
def test_entry_text_is_its_description_not_the_longer_caption(item: str) -> None:
    (entry,) = parse_feed(_feed(item), url="https://news.example.org/feed").entries
    assert entry.text == DESCRIPTION


def test_content_encoded_still_wins_over_a_teaser_description() -> None:
    article = "<p>" + " ".join(["The fires spread along the coast."] * 5) + "</p>"
    item = (
        f"<description>{DESCRIPTION}</description><media:description>{CAPTION}</media:description>"
        f'<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/"><![CDATA[{article}]]>'
        "</content:encoded>"
    )
    (entry,) = parse_feed(_feed(item), url="https://news.example.org/feed").entries
    assert entry.text.startswith("The fires spread along the coast.")
    assert CAPTION not in entry.text


@pytest.mark.corpus
@pytest.mark.skipif(not NYT_WORLD.is_file(), reason=f"real NYT feed not found at {NYT_WORLD}")
def test_real_new_york_times_feed_gives_every_entry_its_description() -> None:
    """All 61 entries carry their <description>; 13 also carry a caption that feedparser filed as content."""
    import feedparser
    from lxml import etree

    data = NYT_WORLD.read_bytes()
    items = etree.fromstring(data).iter("item")
    descriptions = {
        item.findtext("link"): " ".join((item.findtext("description") or "").split()) for item in items
    }
    entries = parse_feed(data, url="https://rss.nytimes.com/services/xml/rss/nyt/World.xml").entries
    assert len(entries) == 61
    assert sum(e.link in descriptions for e in entries) == 61
    assert {e.link: e.text for e in entries if e.link in descriptions} == {
        e.link: descriptions[e.link] for e in entries if e.link in descriptions
    }
    captions = [e for e in feedparser.parse(data).entries if e.get("media_description")]
    assert len(captions) >= 13
    assert not {" ".join(c["media_description"].split()) for c in captions} & {e.text for e in entries}

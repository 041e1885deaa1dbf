"""digest's faster cp1252 table makes feedparser's output no different."""

import feedparser
import feedparser.mixin

from digest.speed import feedparser_fix


def every_character() -> str:
    return "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)


def test_the_table_maps_every_character_as_feedparser_s_own_dict():
    original = feedparser_fix.FEEDPARSER_CP1252
    assert isinstance(original, dict) and original  # the feedparser release digest was measured with
    text = every_character()
    assert text.translate(feedparser_fix.cp1252_table(original)) == text.translate(original)


def test_feedparser_uses_the_table_and_still_turns_c1_controls_into_cp1252():
    from digest.sources.feeds import parse_feed

    feed = (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>"
        "<item><title>Arms \u0093exports\u0094 \u0096 figures\u0085 \U0001F600</title></item></channel></rss>"
    ).encode()
    parsed = parse_feed(feed, url="https://example.org/feed")
    assert isinstance(feedparser.mixin._cp1252, list)
    assert parsed.entries[0].title == "Arms “exports” – figures… \U0001F600"
    assert feedparser.parse(feed).entries[0].title == "Arms “exports” – figures… \U0001F600"

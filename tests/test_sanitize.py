"""digest.sources.sanitize: feed HTML comes out inert, links come out safe."""

from __future__ import annotations

import pytest
from feedserver import fixture
from hypothesis import given
from hypothesis import strategies as st
from inert import active_content

from digest.sources.feeds import parse_feed
from digest.sources.sanitize import (
    TITLE_LIMIT,
    clean_title,
    safe_url,
    sanitize_html,
    strip_control_chars,
    visible_text,
)

VECTORS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    "<a href='JaVaScRiPt&#58;alert(1)'>x</a>",
    "<a href='&#x6A;avascript:alert(1)'>x</a>",
    "<a href=' java\tscript:alert(1)'>x</a>",
    "<a href='data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=='>x</a>",
    "<a href='vbscript:msgbox(1)'>x</a>",
    "<iframe src='https://evil.example/'></iframe>",
    "<iframe srcdoc='&lt;script&gt;alert(1)&lt;/script&gt;'></iframe>",
    "<object data='x.swf'></object><embed src='x.swf'>",
    "<form action='https://evil.example/'><input autofocus onfocus=alert(1)></form>",
    "<div style='background:url(javascript:alert(1))'>css</div>",
    "<p style='width:expression(alert(1))'>ie</p>",
    "<style>@import 'https://evil.example/x.css';</style>",
    "<link rel=stylesheet href='https://evil.example/x.css'>",
    "<meta http-equiv='refresh' content='0;url=javascript:alert(1)'>",
    "<base href='javascript:alert(1)//'>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<noscript><p title='</noscript><img src=x onerror=alert(1)>'>",
    "<details open ontoggle=alert(1)>",
    "<body onload=alert(1)>",
    "<a href='https://ok.example/' onclick='alert(1)' target=_blank>ok</a>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)<</script>/script>",
    "<video><source onerror=alert(1)></video>",
    "<table background='javascript:alert(1)'><tr><td>x</td></tr></table>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<xmp><img src=x onerror=alert(1)></xmp>",
]


def test_the_checker_sees_what_it_should():
    raw = "".join(VECTORS)
    assert len(active_content(raw)) > len(VECTORS)


@pytest.mark.parametrize("markup", VECTORS)
def test_attack_vectors_come_out_inert(markup):
    assert active_content(sanitize_html(markup)) == []


def test_hostile_feed_entry_is_inert_but_keeps_its_text_and_good_link():
    feed = parse_feed(fixture("hostile.rss"), url="https://hostile.example.com/feed")
    [entry] = feed.entries
    assert active_content(entry.html) != []
    clean = sanitize_html(entry.html, entry.link)
    assert active_content(clean) == []
    assert "Visible text." in clean and "Last words." in clean
    assert '<a href="https://ok.example.com/story" rel="noopener noreferrer">good link</a>' in clean
    for leftover in ("SCRIPTED", "alert(", "IFRAME-TEXT", "OBJECT-TEXT", "FORM-BUTTON", "javascript"):
        assert leftover not in clean


def test_relative_links_are_made_absolute_or_dropped():
    markup = '<a href="/story">s</a>'
    assert (
        sanitize_html(markup, "https://news.example/feed")
        == '<a href="https://news.example/story" rel="noopener noreferrer">s</a>'
    )
    assert sanitize_html(markup) == '<a rel="noopener noreferrer">s</a>'


def test_structure_tags_survive():
    markup = "<h2>T</h2><p><b>b</b> <em>e</em></p><ul><li>i</li></ul><blockquote>q</blockquote>"
    assert sanitize_html(markup) == markup


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("https://a.example/x?y=1", None, "https://a.example/x?y=1"),
        ("HTTP://a.example/", None, "HTTP://a.example/"),
        ("/x", "https://a.example/feed", "https://a.example/x"),
        ("/x", None, None),
        ("javascript:alert(1)", None, None),
        (" java\nscript:alert(1)", "https://a.example/", None),
        ("data:text/html,hi", None, None),
        ("mailto:a@b.example", None, None),
        ("http:///nohost", None, None),
        ("", None, None),
        (None, None, None),
    ],
)
def test_safe_url(url, base, expected):
    assert safe_url(url, base) == expected


def test_strip_control_chars_removes_terminal_escapes_and_keeps_lines():
    assert strip_control_chars("\x1b[31mred\x1b[0m\tand\nnext\x00\u009b") == "[31mred[0m\tand\nnext"


INVISIBLE = [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200B, 0x200E, 0x200F, 0x061C, 0xFEFF,
                              0x00AD, 0x2060, *range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]]
wild_text = st.text(st.one_of(st.characters(), st.sampled_from(INVISIBLE), st.sampled_from(" \t\n\r")), max_size=400)


@given(wild_text)
def test_visible_text_removes_exactly_the_invisible_controls(text):
    cleaned = visible_text(text)
    assert not set(cleaned) & set(INVISIBLE)
    assert cleaned == "".join(c for c in text if c not in INVISIBLE)
    assert visible_text(cleaned) == cleaned


@given(wild_text)
def test_clean_titles_are_one_visible_capped_line(title):
    cleaned = clean_title(title)
    if cleaned is None:
        assert not visible_text(title).split()
        return
    assert not set(cleaned) & set(INVISIBLE) and "\n" not in cleaned and "\t" not in cleaned
    assert len(cleaned) <= TITLE_LIMIT
    assert cleaned == cleaned.strip() and "  " not in cleaned
    assert clean_title(cleaned) == cleaned
    whole = " ".join(visible_text(title).split())
    if len(whole) <= TITLE_LIMIT:
        assert cleaned == whole
    else:
        assert cleaned.endswith("\u2026") and whole.startswith(cleaned[:-1])


def test_a_long_title_is_cut_at_a_word():
    title = clean_title("word " * 100)
    assert title is not None and title.endswith("word\u2026") and len(title) <= TITLE_LIMIT


def test_joiners_that_scripts_and_emoji_need_are_kept():
    assert visible_text("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \U0001f469\u200d\U0001f4bb") == (
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \U0001f469\u200d\U0001f4bb"
    )

"""Rendering: email HTML (MJML), plain text and web edition of one Edition."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime

import lxml.html
import pytest
from edition_fixture import CLOCK, sample_edition

from digest.models import Edition, EditionStory, Section, SourceRef
from digest.render.edition import (
    UNSUBSCRIBE_TOKEN,
    RenderedEdition,
    long_date,
    preheader,
    render_edition,
)

WEB_URL = "https://digest.example.org/weekly/2026-11-23/"
UNSUBSCRIBE_PAGE = "https://digest.example.org/unsubscribe"
GMAIL_CLIP = 102 * 1024


@pytest.fixture(scope="module")
def rendered() -> RenderedEdition:
    return render_edition(sample_edition(), web_url=WEB_URL, unsubscribe_page=UNSUBSCRIBE_PAGE)


def words(html: str) -> str:
    """The visible text of an HTML document, whitespace collapsed."""
    root = lxml.html.document_fromstring(html)
    for hidden in root.xpath("//head | //style"):
        hidden.drop_tree()
    return " ".join(root.text_content().split())


def test_rendering_is_deterministic(rendered):
    assert render_edition(sample_edition(), web_url=WEB_URL, unsubscribe_page=UNSUBSCRIBE_PAGE) == rendered


def test_every_summary_sentence_appears_verbatim(rendered):
    email_words, web_words = words(rendered.email_html), words(rendered.web_html)
    for story in sample_edition().stories:
        for sentence in story.summary:
            assert sentence in rendered.text
            assert sentence in email_words
            assert sentence in web_words


def test_text_titles_are_underlined_to_their_length(rendered):
    for story in sample_edition().stories:
        assert f"\n{story.title}\n{'-' * len(story.title)}\n" in rendered.text


def test_summary_is_one_paragraph_in_source_order(rendered):
    for story in sample_edition().stories:
        assert "\n" + " ".join(story.summary) + "\n" in rendered.text


def test_web_edition_names_every_source_of_every_story(rendered):
    articles = lxml.html.document_fromstring(rendered.web_html).xpath("//article")
    stories = sample_edition().stories
    assert [a.xpath("string(h3)") for a in articles] == [s.title for s in stories]
    for article, story in zip(articles, stories, strict=True):
        sources = article.xpath("p[@class='sources']")[0]
        assert [b.text for b in sources.xpath(".//bdi")] == [s.name for s in story.sources]
        assert sources.xpath(".//a/@href") == [s.url for s in story.sources if s.url]
        label = "Source:" if len(story.sources) == 1 else "Sources:"
        assert sources.text_content().split()[0] == label


def test_email_names_every_source_with_its_date_and_link(rendered):
    root = lxml.html.document_fromstring(rendered.email_html)
    email_words = words(rendered.email_html)
    hrefs = root.xpath("//a/@href")
    for story in sample_edition().stories:
        for source in story.sources:
            shown = source.name + (f", {long_date(source.published)}" if source.published else "")
            assert shown in email_words
            if source.url:
                assert source.url in hrefs
    assert "Sources: Arms Trade Monitor, 20 November 2026; Campaign Bulletin" in email_words


def test_text_names_every_source_with_its_date_and_link(rendered):
    assert (
        "Sources:\n"
        "- Arms Trade Monitor, 20 November 2026: <https://monitor.example.org/2026/11/licences-renewed>\n"
        "- Campaign Bulletin\n"
    ) in rendered.text
    assert "- Parliament Watch, 19 November 2026: <https://parliament-watch.example.org/" in rendered.text


def test_right_to_left_source_names_are_isolated(rendered):
    assert '<span dir="auto">יומן השטח</span>' in rendered.email_html
    assert "<bdi>مرصد الضفة</bdi>" in rendered.web_html
    assert "- \u2068יומן השטח\u2069, 21 November 2026" in rendered.text
    assert "- Rights Review, 17 November 2026" in rendered.text


def test_titles_and_summaries_are_escaped(rendered):
    title = '"Business as usual": arms &amp; ammunition licences renewed'
    for html in (rendered.email_html, rendered.web_html):
        assert title.replace('"', "&#34;") in html
        assert "&#34;routine&#34; &amp; said" in html
    assert '"Business as usual": arms & ammunition licences renewed\n' in rendered.text


def test_markup_in_content_is_escaped_not_interpreted():
    edition = sample_edition()
    hostile = EditionStory(
        id="hostile",
        title="<script>alert(1)</script> & <b>bold</b>",
        summary=("A sentence with <img src=x onerror=alert(1)> inside.",),
        sources=(SourceRef(name="<i>Evil</i> Feed", url='https://example.org/"><script>'),),
        theme="arms-exports",
        reason="test",
    )
    edition = dataclasses.replace(
        edition, sections=(dataclasses.replace(edition.sections[0], stories=(hostile,)),)
    )
    out = render_edition(edition, web_url=WEB_URL)
    for html in (out.email_html, out.web_html):
        root = lxml.html.document_fromstring(html)
        assert not root.xpath("//body//script | //body//img | //body//b | //body//i")
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
        assert 'href="https://example.org/&#34;&gt;&lt;script&gt;"' in html
        assert "<script>alert(1)</script> & <b>bold</b>" in words(html)
    assert "<script>alert(1)</script> & <b>bold</b>\n" in out.text


def test_only_web_addresses_become_links():
    edition = sample_edition()
    story = dataclasses.replace(
        edition.stories[0],
        sources=(SourceRef(name="Odd Feed", url="javascript:alert(1)", published=date(2026, 11, 2)),),
    )
    edition = dataclasses.replace(
        edition, sections=(dataclasses.replace(edition.sections[0], stories=(story,)),)
    )
    out = render_edition(edition)
    for html in (out.email_html, out.web_html):
        assert "javascript:" not in html
        assert "Source: Odd Feed, 2 November 2026" in words(html)
    assert "javascript:" not in out.text
    assert "- Odd Feed, 2 November 2026\n" in out.text


def test_empty_section_says_so_in_every_output(rendered):
    for visible in (rendered.text, words(rendered.email_html), words(rendered.web_html)):
        assert visible.count("No new stories this time.") == 1
    assert "SOLIDARITY\nProtests, boycotts" in rendered.text
    web = lxml.html.document_fromstring(rendered.web_html)
    assert web.xpath("string(//section[@aria-labelledby='section-solidarity']/p[@class='empty'])") == (
        "No new stories this time."
    )


def test_sections_appear_in_edition_order_with_also_noted_last(rendered):
    titles = ["Arms exports", "Settler violence", "Solidarity", "Also noted"]
    web = lxml.html.document_fromstring(rendered.web_html)
    assert web.xpath("//main/section/h2/text()") == titles
    email = lxml.html.document_fromstring(rendered.email_html)
    assert email.xpath("//h2/text()") == titles
    headings = re.findall(r"^[A-Z][A-Z ]+$", rendered.text, flags=re.M)
    assert headings == ["ARMS EXPORTS", "SETTLER VIOLENCE", "SOLIDARITY", "ALSO NOTED"]


def test_also_noted_is_left_out_when_absent_or_empty():
    edition = sample_edition()
    empty = dataclasses.replace(edition.also_noted, stories=())
    for also_noted in (None, empty):
        out = render_edition(dataclasses.replace(edition, also_noted=also_noted))
        for visible in (out.text, words(out.email_html), words(out.web_html)):
            assert "Also noted" not in visible and "ALSO NOTED" not in visible


def test_unsubscribe_placeholder_is_in_email_and_text_only(rendered):
    root = lxml.html.document_fromstring(rendered.email_html)
    assert root.xpath("//a[normalize-space()='Unsubscribe']/@href") == [UNSUBSCRIBE_TOKEN]
    assert f"Unsubscribe: <{UNSUBSCRIBE_TOKEN}>\n" in rendered.text
    assert UNSUBSCRIBE_TOKEN not in rendered.web_html
    web = lxml.html.document_fromstring(rendered.web_html)
    assert web.xpath("//footer//a[.='unsubscribe']/@href") == [UNSUBSCRIBE_PAGE]


def test_web_address_is_linked_from_email_and_text_when_known(rendered):
    root = lxml.html.document_fromstring(rendered.email_html)
    assert root.xpath("//a[.='Read this edition on the web']/@href") == [WEB_URL]
    assert f"Read this edition on the web: <{WEB_URL}>\n" in rendered.text
    bare = render_edition(sample_edition())
    assert "Read this edition on the web" not in bare.email_html + bare.text
    assert "unsubscribe" not in words(bare.web_html).lower()


def test_email_html_is_a_complete_dark_mode_aware_document(rendered):
    root = lxml.html.document_fromstring(rendered.email_html)
    assert root.get("lang") == "en"
    assert root.xpath("string(//title)") == "The Weekly Digest — 23 November 2026"
    metas = {m.get("name"): m.get("content") for m in root.xpath("//meta[@name]")}
    assert metas["color-scheme"] == "light dark"
    assert metas["supported-color-schemes"] == "light dark"
    assert "@media (prefers-color-scheme: dark)" in rendered.email_html
    assert root.xpath("//h1/text()") == ["The Weekly Digest"]
    assert "fonts.googleapis" not in rendered.email_html


def test_email_preheader_is_hidden_first_text(rendered):
    root = lxml.html.document_fromstring(rendered.email_html)
    first = root.xpath("//body//div[contains(@style, 'display:none')]")[0]
    assert first.text == "Arms exports, settler violence and solidarity, in brief."


def test_dates_are_written_out_whatever_the_locale():
    assert long_date(date(2026, 3, 1)) == "1 March 2026"
    assert long_date(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == "31 December 2026"


def test_preheader_falls_back_to_titles_and_is_cut_at_a_word():
    edition = dataclasses.replace(sample_edition(), description="")
    text = preheader(edition)
    assert text.startswith('"Business as usual": arms & ammunition licences renewed; Drone exports')
    assert len(text) <= 130 and text.endswith("…")
    assert text[:-1] in "; ".join(s.title for s in edition.stories)


def test_web_edition_is_semantic_and_self_contained(rendered):
    root = lxml.html.document_fromstring(rendered.web_html)
    assert root.get("lang") == "en"
    assert [el.tag for el in root.body] == ["header", "main", "footer"]
    assert root.xpath("//meta[@name='viewport']")
    assert root.xpath("//meta[@name='color-scheme']/@content") == ["light dark"]
    assert not root.xpath("//*[@src] | //link | //script | //iframe | //object | //embed")
    css = root.xpath("string(//style)")
    assert "@media (prefers-color-scheme: dark)" in css
    assert "url(" not in css and "@import" not in css
    assert root.xpath("//time/@datetime")[:2] == ["2026-11-23T07:00:00+00:00", "2026-11-20"]


def test_email_stays_under_gmail_clip_at_the_largest_configured_edition():
    """5 stories per theme in 3 themes plus 10 also-noted, 4 long sentences each, two sources."""
    sentence = (
        "The committee heard that export licences worth millions were approved "
        "in the last quarter despite the warnings."
    )
    sources = (
        SourceRef("Arms Trade Monitor", "https://monitor.example.org/" + "a" * 80, date(2026, 11, 20)),
        SourceRef("יומן השטח", "https://field.example.org/" + "b" * 80, datetime(2026, 11, 21, tzinfo=UTC)),
    )

    def stories(theme: str, count: int) -> tuple[EditionStory, ...]:
        return tuple(
            EditionStory(f"{theme}-{i}", f"Story number {i} about {theme} with a long title", (sentence,) * 4,
                         sources, theme, "reason")
            for i in range(count)
        )  # fmt: skip

    sections = tuple(Section(t, t.title(), "A one-line description of the theme.", stories(t, 5))
                     for t in ("arms", "settlers", "solidarity"))  # fmt: skip
    also_noted = Section("also-noted", "Also noted", "Fits no theme.", stories("other", 10))
    edition = Edition("weekly", "The Weekly Digest", CLOCK, sections, also_noted, "Description.")
    out = render_edition(edition, web_url=WEB_URL)
    assert len(out.email_html.encode("utf-8")) < GMAIL_CLIP


def test_also_noted_says_which_section_a_story_had_no_room_in_and_which_theme_a_near_miss_is_near(rendered):
    """An overflow story is marked with its section; a near miss, which fits no theme, with the theme it came
    nearest to."""
    assert "[More on Arms exports]\nMinisters to review export licences" in rendered.text
    assert "[Near Solidarity]\nReport documents detention conditions" in rendered.text
    assert rendered.text.count("[More on") == 1 and rendered.text.count("[Near ") == 1
    for html in (rendered.web_html, rendered.email_html):
        visible = words(html)
        assert re.search(r"More on Arms exports\s*Ministers to review export licences for drone parts", visible)
        assert re.search(r"Near Solidarity\s*Report documents detention conditions", visible)
        assert visible.count("More on Arms exports") == 1 and visible.count("Near Solidarity") == 1

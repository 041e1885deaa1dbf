"""The author a page or a seed names is shown beside its source, as a name and nothing else."""

from __future__ import annotations

import json

from click.testing import CliRunner
from feedserver import Route, rss_item
from hypothesis import given
from hypothesis import strategies as st

from digest.cli.main import main
from digest.sources.sanitize import AUTHOR_LIMIT, byline

PARAGRAPHS = [
    "Workers at the port of Genoa refused on Monday to load a ship carrying weapons bound for the war, "
    "their union said in a statement read out at the gates.",
    "The dockers said they would not handle cargo that could be used against civilians, and called on "
    "other ports along the coast to follow them in the days ahead.",
    "A spokesperson for the shipping company declined to comment on the refusal or on where the vessel "
    "would sail next, saying only that its schedule was under review.",
]
CONFIG = """\
sources: {{seeds: null}}
feeds:
  - url: {feed}
fetch: {{per_host_delay: 0, retries: 0}}
themes:
  solidarity:
    title: Solidarity
    description: Acts of support.
    signals: {{keywords: {{dockers: 1.0, refused: 1.0, union: 1.0}}}}
editions:
  daily:
    title: Daily
    themes: [solidarity]
    unthemed: also-noted
    also_noted_floor: 0
"""


def _page(author: str) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Genoa dockers refuse to load arms ship</title>'
        f'<meta name="author" content="{author}"><meta property="og:site_name" content="Port Gazette"></head>'
        f"<body><article><h1>Genoa dockers refuse to load arms ship</h1>{body}</article></body></html>"
    ).encode()


def _build(tmp_path, feed_server, author: str) -> tuple[dict, str, str, str]:
    page = feed_server.route("/genoa", Route(_page(author), content_type="text/html"))
    feed = feed_server.rss(
        "/feed.rss", [rss_item("Genoa dockers refuse to load arms ship", page, "Dockers refused to load a ship.")]
    )
    (tmp_path / "schedule.yaml").write_text(CONFIG.format(feed=feed), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [
        "build", "--config", str(tmp_path / "schedule.yaml"), "--out", str(out), "--now", "2026-12-01T07:00:00+00:00",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 fetched" in result.stdout
    edition = json.loads(next(out.glob("*.json")).read_text(encoding="utf-8"))
    text = next(out.glob("*.txt")).read_text(encoding="utf-8")
    web = next(p for p in out.glob("*.html") if not p.name.endswith(".email.html")).read_text(encoding="utf-8")
    email = next(out.glob("*.email.html")).read_text(encoding="utf-8")
    return edition, text, web, email


def _stories(edition: dict) -> list[dict]:
    sections = [*edition["sections"], *([edition["also_noted"]] if edition["also_noted"] else [])]
    return [story for section in sections for story in section["stories"]]


def test_the_page_author_is_shown_beside_the_source_in_every_edition(tmp_path, feed_server):
    edition, text, web, email = _build(tmp_path, feed_server, "By Maria Rossi")
    (story,) = _stories(edition)
    assert (story["sources"][0]["name"], story["sources"][0]["author"]) == ("Port Gazette", "Maria Rossi")
    assert "- Port Gazette, by Maria Rossi, " in text
    assert '</a>, by <bdi class="author">Maria Rossi</bdi>' in web
    assert '</span></a>, by <span dir="auto">Maria Rossi</span>' in email


def test_an_author_that_is_a_link_or_an_address_is_not_shown(tmp_path, feed_server):
    edition, text, web, email = _build(tmp_path, feed_server, "https://evil.example/win; prizes@evil.example")
    (story,) = _stories(edition)
    assert story["sources"][0]["author"] is None
    assert ", by " not in text and "evil.example" not in text + web + email


def test_byline_keeps_names_only():
    assert byline("  By  Jane\u202e Doe ") == "Jane Doe"
    assert byline("Jane Doe; jane@example.org; https://example.org/jane") == "Jane Doe"
    assert byline("@janedoe") is None and byline("www.example.org") is None and byline("example.com") is None
    assert byline("Reuters", "Reuters") is None
    assert byline("Ann Lee, Bob Ray and Cy Tu") == "Ann Lee, Bob Ray, Cy Tu"
    assert byline("1234") is None and byline(None) is None and byline("  ") is None
    many = "; ".join(f"Reporter Number{i}" for i in range(10))
    assert byline(many) == "Reporter Number0, Reporter Number1, Reporter Number2…"


@given(st.text(max_size=400), st.one_of(st.none(), st.text(max_size=40)))
def test_byline_is_one_short_line_without_links_or_addresses(author, publisher):
    shown = byline(author, publisher)
    if shown is not None:
        assert len(shown) <= AUTHOR_LIMIT
        assert "\n" not in shown and "://" not in shown and "@" not in shown and shown == shown.strip()
        assert any(c.isalpha() for c in shown)

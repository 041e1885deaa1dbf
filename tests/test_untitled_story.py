"""An untitled one-line feed entry whose page cannot be read still reaches the reader whole."""

from __future__ import annotations

import json

from click.testing import CliRunner
from feedserver import Route, rss_item

from digest.cli.main import main

CONFIG = """\
sources: {{seeds: null}}
feeds:
  - url: {feed}
fetch: {{per_host_delay: 0, retries: 0}}
themes:
  arms:
    title: Arms exports
    description: Weapons sales.
    signals: {{keywords: {{weapons: 1.0}}}}
editions:
  daily:
    title: Daily
    themes: [arms]
    unthemed: also-noted
    also_noted_floor: 0
"""
SENTENCE = "Israeli forces raided the Jenin refugee camp before dawn on Tuesday, residents said."


def test_its_only_sentence_is_its_summary_under_a_heading_that_is_its_opening(tmp_path, feed_server):
    page = feed_server.route("/locked/raid", Route(b"<p>Forbidden</p>", status=403, content_type="text/html"))
    feed = feed_server.rss("/feed.rss", [rss_item(None, page, SENTENCE)])
    (tmp_path / "schedule.yaml").write_text(CONFIG.format(feed=feed), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [
        "build", "--config", str(tmp_path / "schedule.yaml"), "--out", str(out), "--now", "2026-12-01T07:00:00+00:00",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 refused (feed text kept)" in result.stdout
    assert len(feed_server.requests_to("/locked/raid")) == 1
    edition = json.loads(next(out.glob("*.json")).read_text(encoding="utf-8"))
    (story,) = edition["also_noted"]["stories"]
    assert story["title"] == "Israeli forces raided the Jenin refugee camp before dawn…"
    assert story["summary"] == SENTENCE
    text = " ".join(next(out.glob("*.txt")).read_text(encoding="utf-8").split())
    assert SENTENCE in text

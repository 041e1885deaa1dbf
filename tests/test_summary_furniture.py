"""What a reader sees of real feed entries whose only text is page furniture or their own headline.

The Epoch Times' world feed gives each entry its photo's caption and credit as its description; the Wall
Street Journal's gives many entries their lede as both title and description. Served as they were captured
(shared/corpus/real_entries, rewrapped as RSS) by a local server, built through the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from feedserver import FeedServer, Route

from digest.cli.main import main

ENTRIES = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real_entries" / "rumca_2023_rewrapped_rss"
EPOCH_TIMES = "2023-10-09__feed_theepochtimes_com_world_feed.xml"
WSJ = "2023-10-07__feeds_a_dj_com_rss_RSSWorldNews_xml.xml"

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not ENTRIES.is_dir(), reason=f"real entries not found at {ENTRIES}"),
]

CONFIG = """\
sources: {{seeds: null}}
feeds:
{feeds}fetch: {{per_host_delay: 0, retries: 0}}
themes:
  arms:
    title: Arms exports
    description: Weapons sales.
    signals: {{keywords: {{weapons: 1.0, arms: 1.0}}}}
editions:
  daily:
    title: Daily
    themes: [arms]
    unthemed: also-noted
    also_noted_floor: 0   # every story is listed, so each one's summary can be read
    also_noted_limit: 500
"""


@pytest.fixture(scope="module")
def stories(tmp_path_factory) -> dict[str, str]:
    """Title -> summary of every story built from the two feeds (their pages are never fetched)."""
    folder = tmp_path_factory.mktemp("build")
    server = FeedServer()
    try:
        feeds = "".join(
            f"  - url: {server.route(f'/{name}', Route((ENTRIES / name).read_bytes()))}\n    full_text: never\n"
            for name in (EPOCH_TIMES, WSJ)
        )
        (folder / "schedule.yaml").write_text(CONFIG.format(feeds=feeds), encoding="utf-8")
        result = CliRunner().invoke(main, [
            "build", "--config", str(folder / "schedule.yaml"), "--out", str(folder / "out"),
            "--since", "2023-10-01", "--now", "2026-12-01T07:00:00+00:00",
        ])
    finally:
        server.close()
    assert result.exit_code == 0, result.output
    edition = json.loads(next((folder / "out").glob("*.json")).read_text(encoding="utf-8"))
    listed = [story for section in edition["sections"] for story in section["stories"]]
    listed += edition["also_noted"]["stories"] if edition["also_noted"] else []
    return {story["title"]: story["summary"] for story in listed}


@pytest.mark.parametrize(("title", "caption"), [
    # credits the cleaner knew: the caption was dropped, the story listed by its headline
    ("Israel Vows ‘Complete Siege’ of Gaza As Israeli Death Toll From Terror Attacks Rises to Over 700",
     "(Menahem Kahana/AFP via Getty Images)"),
    # credits it did not know, shown as the summary: "… revealed his action plan … Israel. (NTD)"
    ("McCarthy: ‘We Must Be There for Our Friend Israel’", "Former House Speaker Rep. Kevin McCarthy"),
])
def test_an_entry_whose_only_text_is_its_photo_caption_is_listed_by_its_headline_alone(stories, title, caption):
    assert stories[title] == ""
    assert not any(caption in summary for summary in stories.values())


def test_no_caption_of_the_epoch_times_feed_is_shown_as_a_summary(stories):
    feed = (ENTRIES / EPOCH_TIMES).read_text(encoding="utf-8")
    shown = [summary for summary in stories.values() if summary and summary[:60] in feed]
    assert shown == []


@pytest.mark.parametrize("title", [
    # the title is the lede, with straight apostrophes where the description has curly ones
    "Employers added 336,000 jobs in September, shattering investors' expectations and offering the latest sign of "
    "accelerating economic momentum stoking a bond market selloff.",
    # two sentences, one space lost in the title ('afterinvestors') and '&amp;' in the description
    "Stocks rallied to end the week on a high note afterinvestors warmed to the jobs report. The S&P 500, Dow and "
    "Nasdaq rose 1.2%, 0.9% and 1.6%, respectively.",
])
def test_a_summary_that_would_only_repeat_the_title_is_left_out(stories, title):
    assert stories[title] == ""


def test_a_description_that_says_more_than_the_title_is_still_the_summary(stories):
    assert stories["Could Steve Scalise Quell the House GOP Revolt to Become Speaker?"] == (
        "The band of antiestablishment conservatives who ousted Kevin McCarthy could also thwart the House No. 2 "
        "from becoming speaker."
    )

"""JSON export of an edition."""

from __future__ import annotations

import dataclasses
import json

from edition_fixture import sample_edition

from digest.render.export import edition_to_json


def test_json_holds_the_whole_edition():
    document = json.loads(edition_to_json(sample_edition()))
    assert document["id"] == "weekly-20261123T0700+0000"
    assert document["edition"] == "weekly"
    assert document["title"] == "The Weekly Digest"
    assert document["description"] == "Arms exports, settler violence and solidarity, in brief."
    assert document["date"] == "2026-11-23T07:00:00+00:00"
    assert [s["theme"] for s in document["sections"]] == ["arms-exports", "settler-violence", "solidarity"]
    assert document["sections"][2] == {
        "theme": "solidarity",
        "title": "Solidarity",
        "description": "Protests, boycotts, refusals and other acts of support for Palestinians around the world.",
        "stories": [],
    }
    assert document["also_noted"]["title"] == "Also noted"
    assert [s["id"] for s in document["also_noted"]["stories"]] == ["licence-review", "detention-report"]


def test_story_carries_summary_sentences_reason_and_sources():
    story = json.loads(edition_to_json(sample_edition()))["sections"][0]["stories"][0]
    assert story == {
        "id": "arms-licences-renewed",
        "title": '"Business as usual": arms & ammunition licences renewed',
        "summary": (
            "The trade ministry renewed 14 export licences for small arms and ammunition last week. "
            'A spokesperson called the renewals "routine" & said every licence had been reviewed. '
            "Campaigners said the licences cover rifles and ammunition used in recent raids."
        ),
        "sentences": [
            "The trade ministry renewed 14 export licences for small arms and ammunition last week.",
            'A spokesperson called the renewals "routine" & said every licence had been reviewed.',
            "Campaigners said the licences cover rifles and ammunition used in recent raids.",
        ],
        "theme": "arms-exports",
        "near_theme": None,
        "reason": "arms-exports: 6.2 per 100 words (min 3.0)",
        "sources": [
            {
                "name": "Arms Trade Monitor",
                "url": "https://monitor.example.org/2026/11/licences-renewed",
                "published": "2026-11-20",
                "document": "feed-arms-monitor-0141",
                "author": None,
            },
            {"name": "Campaign Bulletin", "url": None, "published": None, "document": "seed-003-bulletin",
             "author": None},
        ],
    }


def test_published_datetimes_keep_their_time_and_unthemed_stories_have_no_theme():
    document = json.loads(edition_to_json(sample_edition()))
    assert document["sections"][0]["stories"][1]["sources"][0]["published"] == "2026-11-19T14:30:00+00:00"
    assert [s["theme"] for s in document["also_noted"]["stories"]] == ["arms-exports", None]
    assert [s["near_theme"] for s in document["also_noted"]["stories"]] == [None, "solidarity"]


def test_json_is_stable_text_with_readable_unicode():
    text = edition_to_json(sample_edition())
    assert text == edition_to_json(sample_edition())
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert "יומן השטח" in text and "مرصد الضفة" in text
    assert text == json.dumps(json.loads(text), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def test_missing_also_noted_is_null():
    document = json.loads(edition_to_json(dataclasses.replace(sample_edition(), also_noted=None)))
    assert document["also_noted"] is None

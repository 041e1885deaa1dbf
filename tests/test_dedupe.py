"""De-duplication: exact copies, one wire report or event from two outlets, repeated paragraphs."""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from digest.models import Drop, DropReason, SourceRef, Story
from digest.stages.dedupe import (
    MIN_SHARE_OF_LONGER,
    NEAR_DUPLICATE,
    _overlap,
    _Shingler,
    dedupe_stories,
)
from digest.stages.text import normalize

SUMMARIES = Path(__file__).parent / "data" / "summaries"
WIRE = (
    "GENEVA (AP) — A convoy of 40 trucks carrying food and medicine has been blocked for a third day at the "
    "Rafiq border crossing, the United Nations said Wednesday, as aid agencies warned that supplies inside "
    "the besieged district would run out within a week.",
    "The World Food Programme said the trucks had been cleared by customs on Monday but were turned back by "
    "soldiers at the final checkpoint without explanation.",
    "“We have the food, we have the drivers, and we have the permits,” said WFP spokesperson Anna Lindgren. "
    "“What we do not have is access.”",
    "About 300,000 people live in the district, which has been cut off from the rest of the country since "
    "fighting intensified in March. Local health officials say at least 14 children have died of "
    "malnutrition-related causes in the past month.",
    "The military did not respond to a request for comment. It has previously said that convoys must be "
    "inspected to prevent weapons from being smuggled in.",
    "Aid groups say the inspections have become a pretext for delay. The Norwegian Refugee Council said only "
    "12 of the 85 convoys it has organised this year reached their destination on schedule.",
    "The UN Security Council is due to discuss the situation on Friday.",
    "Associated Press writer Marta Keller contributed to this report.",
)
# The same report as a second outlet ran it: own headline, no dateline, house style, a local line, cut short.
WIRE_EDITED = (
    "A convoy of 40 trucks carrying food and medical supplies has been blocked for a third day at the Rafiq "
    "border crossing, the United Nations said on Wednesday, as aid agencies warned that supplies inside the "
    "besieged district would run out within a week.",
    "The crossing is the only route into the district.",
    "The World Food Programme said the trucks had been cleared by customs on Monday but were turned back by "
    "soldiers at the final checkpoint without explanation.",
    "\"We have the food, we have the drivers, and we have the permits,\" said WFP spokeswoman Anna Lindgren. "
    "\"What we do not have is access.\"",
    "About 300,000 people live in the district, which has been cut off from the rest of the country since "
    "fighting intensified in March.",
    "Local health officials say at least 14 children have died of malnutrition-related causes in the past month.",
    "The military did not respond to a request for comment. It has previously said convoys must be inspected "
    "to prevent weapons being smuggled in.",
)
# The same event, reported independently: shared names and numbers, different sentences.
SAME_EVENT_OTHER_REPORT = (
    "Forty lorries loaded with flour, baby formula and antibiotics have sat idle at the Rafiq crossing since "
    "Monday, and drivers say they have been given no reason for the hold-up.",
    "Inside the district, where some 300,000 people have been trapped since March, bakeries have closed and "
    "families are rationing bread, residents told our correspondent by phone.",
    "A doctor at the main hospital said 14 children had died in recent weeks from illnesses linked to hunger.",
    "The army has said it must search every vehicle. Aid workers accuse it of using the searches to starve the "
    "district into submission, a charge it denies.",
    "Diplomats said the Security Council would take up the matter on Friday.",
)


def story(identifier: str, paragraphs: tuple[str, ...], outlet: str, title: str | None = None) -> Story:
    return Story(identifier, title, paragraphs, (SourceRef(outlet),), f"{identifier}.txt", 1)


def shingles(paragraphs: tuple[str, ...]):
    return _Shingler().shingles(normalize("\n\n".join(paragraphs)).split())


def test_thresholds_sit_in_the_gap_between_edited_copies_and_separate_reports():
    copy = _overlap(shingles(WIRE), shingles(WIRE_EDITED))
    truncated = _overlap(shingles(WIRE), shingles(WIRE[:3]))
    separate = _overlap(shingles(WIRE), shingles(SAME_EVENT_OTHER_REPORT))
    assert copy[0] > NEAR_DUPLICATE + 0.1 and copy[1] > MIN_SHARE_OF_LONGER + 0.3
    assert truncated[0] == 1.0 and truncated[1] > MIN_SHARE_OF_LONGER + 0.2
    assert separate[0] < 0.05


def test_a_roundup_that_quotes_a_brief_in_full_is_not_the_brief():
    brief = story("brief", (WIRE[0],), "Associated Press")
    others = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(SUMMARIES.glob("0[1-4]_*.json"))]
    roundup = story("roundup", (WIRE[0],) + tuple(p for article in others for p in article["paragraphs"]), "Digest")
    kept, drops = dedupe_stories([brief, roundup])
    assert [s.id for s in kept] == ["brief", "roundup"]
    assert kept[1].paragraphs == roundup.paragraphs[1:]
    assert [d.explanation for d in drops] == ["paragraph repeated from brief"]


def test_exact_duplicates_ignore_case_spacing_punctuation_and_quote_marks():
    first = story(
        "a", ("“We refuse,” the letter said.  It was signed by 43 reservists.",), "Outlet A", "Reservists refuse"
    )
    copy = story("b", ("\"we REFUSE\" the letter said -- it was signed by 43 reservists",), "Outlet B")
    same_outlet = story("c", first.paragraphs, "outlet a")
    kept, drops = dedupe_stories([first, copy, same_outlet])
    assert [s.id for s in kept] == ["a"]
    assert [s.name for s in kept[0].sources] == ["Outlet A", "Outlet B"]
    assert drops == [
        Drop(DropReason.DUPLICATE_STORY, copy.paragraphs[0], "b.txt", 1, "“Reservists refuse”"),
        Drop(DropReason.DUPLICATE_STORY, first.paragraphs[0], "c.txt", 1, "“Reservists refuse”"),
    ]


def test_one_wire_report_from_two_outlets_becomes_one_story_naming_both():
    ap = story("ap", WIRE, "Associated Press", "UN says aid convoy blocked for third day")
    other = story("paper", WIRE_EDITED, "Daily Courier", "Aid trucks stuck at border as food runs low")
    kept, drops = dedupe_stories([ap, other])
    assert [s.id for s in kept] == ["ap"]
    assert kept[0].paragraphs == WIRE
    assert [s.name for s in kept[0].sources] == ["Associated Press", "Daily Courier"]
    assert [(d.explanation, d.document) for d in drops] == [
        ("same story as “UN says aid convoy blocked for third day”", "paper.txt")
    ]


def test_an_outlet_that_ran_only_the_first_paragraphs_ran_the_same_story():
    kept, drops = dedupe_stories([story("short", WIRE[:3], "Brief"), story("full", WIRE, "Associated Press")])
    assert [s.id for s in kept] == ["short"]
    assert [s.name for s in kept[0].sources] == ["Brief", "Associated Press"]
    assert [d.explanation for d in drops] == ["same story as short"]


def test_separate_reports_of_the_same_event_without_dated_headlines_are_both_kept():
    stories = [story("ap", WIRE, "Associated Press"), story("own", SAME_EVENT_OTHER_REPORT, "Our correspondent")]
    kept, drops = dedupe_stories(stories)
    assert kept == stories and drops == []


def test_paragraphs_seen_in_an_earlier_story_are_removed_from_later_ones():
    boilerplate = "The ministry did not respond to a request for comment on Tuesday."
    first = story(
        "one", ("Settlers cut down olive trees near Nablus on Monday.", boilerplate), "Ma'an", "Olive trees cut"
    )
    second = story("two", ("Police detained four students at the march in the capital.", boilerplate), "Wire")
    kept, drops = dedupe_stories([first, second])
    assert kept == [first, Story("two", None, (second.paragraphs[0],), second.sources, "two.txt", 1)]
    assert drops == [Drop(DropReason.REPEATED_PARAGRAPH, boilerplate, "two.txt", 1, "“Olive trees cut”")]
    assert drops[0].explanation == "paragraph repeated from “Olive trees cut”"


def test_a_story_left_with_no_paragraphs_is_dropped():
    first = story(
        "one", ("Settlers cut down olive trees near Nablus on Monday.", "Farmers said 60 trees were lost."), "A"
    )
    rerun = story("two", (first.paragraphs[1],), "B", "Trees lost")
    kept, drops = dedupe_stories([first, rerun])
    assert kept == [first]
    assert [d.explanation for d in drops] == [
        "paragraph repeated from one",
        "every paragraph already appears in an earlier story",
    ]


def test_first_occurrence_wins_and_input_order_is_kept():
    stories = [
        story("x", ("A march in the capital ended peacefully on Sunday afternoon.",), "A"),
        story("ap", WIRE, "Associated Press"),
        story("y", ("The central bank held its main interest rate at 4 per cent.",), "B"),
        story("paper", WIRE_EDITED, "Daily Courier"),
        story("z", ("A new bridge opened to traffic in the north of the city.",), "C"),
    ]
    kept, _ = dedupe_stories(stories)
    assert [s.id for s in kept] == ["x", "ap", "y", "z"]


def test_many_stories_keep_exactly_the_distinct_ones():
    rng = random.Random(7)
    vocabulary = [f"w{n}" for n in range(3000)]

    def text() -> tuple[str, ...]:
        return tuple(" ".join(rng.choice(vocabulary) for _ in range(40)) + "." for _ in range(5))

    originals = [story(f"s{n}", text(), f"Outlet {n}") for n in range(600)]
    copies = [story(f"copy{n}", originals[n * 3].paragraphs, "Copier") for n in range(100)]
    edited = [originals[n * 5 + 1].paragraphs for n in range(100)]
    edits = [story(f"edit{n}", (p[0] + " Updated.",) + p[1:4], "Editor") for n, p in enumerate(edited)]
    mixed = originals + copies + edits
    rng.shuffle(mixed)
    kept, drops = dedupe_stories(mixed)
    assert len(kept) == 600
    assert {s.id for s in kept} == {
        next(m.id for m in mixed if m.paragraphs[1:4] == o.paragraphs[1:4]) for o in originals
    }
    assert len(drops) == 200
    assert dedupe_stories(mixed) == (kept, drops)


PARAGRAPH_POOL = st.sampled_from([
    WIRE[0], WIRE[1], WIRE[3], WIRE_EDITED[0], WIRE_EDITED[1], SAME_EVENT_OTHER_REPORT[0],
    SAME_EVENT_OTHER_REPORT[2], "Short line.", "", "The march ended peacefully.",
])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(PARAGRAPH_POOL, max_size=4).map(tuple), max_size=8))
def test_every_input_story_is_kept_or_accounted_for_in_order(paragraph_lists):
    stories = [story(f"s{n}", p, f"Outlet {n % 3}") for n, p in enumerate(paragraph_lists)]
    kept, drops = dedupe_stories(stories)
    ids = [s.id for s in stories]
    assert [s.id for s in kept] == [i for i in ids if i in {k.id for k in kept}]
    dropped_whole = [d.document for d in drops if d.reason is not DropReason.REPEATED_PARAGRAPH]
    assert sorted([s.id for s in kept] + [d.removesuffix(".txt") for d in dropped_whole]) == sorted(ids)
    for k in kept:
        original = stories[ids.index(k.id)]
        assert set(k.paragraphs) <= set(original.paragraphs)
    seen: set[str] = set()
    for k in kept:
        keys = {normalize(p) for p in k.paragraphs}
        assert not keys & seen
        seen |= keys


def test_entries_that_share_only_a_template_of_links_are_different_stories():
    # a link aggregator's feed: every entry's text is the same template around its own links
    def stub(article: str, item: int, points: int) -> tuple[str, ...]:
        return (
            f"Article URL: https://www.science.org/doi/10.1126/science.{article} "
            f"Comments URL: https://news.ycombinator.com/item?id={item} Points: {points} # Comments: 1",
        )

    telescopes = story("telescopes", stub("adm9964", 38399333, 9), "Hacker News", "Extremely large telescopes at risk")
    earthworks = story("earthworks", stub("ade2541", 37805133, 9), "Hacker News", "Pre-Columbian earthworks in Amazonia")
    kept, drops = dedupe_stories([telescopes, earthworks])
    assert [s.id for s in kept] == ["telescopes", "earthworks"] and drops == []


def test_a_copy_of_a_report_with_links_in_it_is_still_the_same_story():
    linked = WIRE[:3] + ("Read the full UN statement at https://news.un.org/en/story/2026/11/1234567 today.",) + WIRE[3:]
    kept, drops = dedupe_stories([story("ap", WIRE, "Associated Press"), story("linked", linked, "Courier")])
    assert [s.id for s in kept] == ["ap"]
    assert [d.explanation for d in drops] == ["same story as ap"]


def teaser(identifier: str, outlet: str, title: str, day: date | None, text: str | None = None) -> Story:
    """A feed entry's story: its headline, a line of text (its own: equal texts are exact copies) and its day."""
    text = text or f"The teaser of {outlet}'s report number {identifier}."
    return Story(identifier, title, (text,), (SourceRef(outlet, published=day),), f"{identifier}.txt", 1)


DEC_30 = date(2023, 12, 30)


def test_one_event_from_two_outlets_told_by_their_headlines_becomes_one_story_naming_both():
    # real_entries, 30 December 2023: two teasers that share no five words in a row
    nyt = teaser("nyt", "NY times", "Biden Administration Again Bypasses Congress for Weapons Sale to Israel", DEC_30,
                 "The move comes as Israel presses on with its offensive in Gaza despite increasing pressure.")
    aljazeera = teaser("aj", "Aljazeera", "Biden administration bypasses Congress on weapons sales to Israel", DEC_30,
                       "For second time in a month, US approves munitions for Israel while calling for end to deaths.")
    kept, drops = dedupe_stories([nyt, aljazeera])
    assert [s.id for s in kept] == ["nyt"]
    assert [s.name for s in kept[0].sources] == ["NY times", "Aljazeera"]
    assert [(d.explanation, d.document) for d in drops] == [
        ("same story as “Biden Administration Again Bypasses Congress for Weapons Sale to Israel”", "aj.txt")
    ]


def test_headlines_alike_from_one_outlet_days_apart_or_undated_stay_separate_stories():
    first = "Biden administration bypasses Congress on weapons sales to Israel"
    again = "Biden administration again bypasses Congress on weapons sales to Israel"
    for later in (
        teaser("b", "Aljazeera", again, DEC_30),  # an outlet's own follow-up
        teaser("b", "NY times", again, date(2024, 1, 3)),  # four days on
        teaser("b", "NY times", again, None),  # no date to tell
    ):
        kept, drops = dedupe_stories([teaser("a", "Aljazeera", first, DEC_30), later])
        assert [s.id for s in kept] == ["a", "b"] and drops == []


def test_a_series_date_in_two_headlines_does_not_make_them_one_event():
    # pcgamer and Lifehacker, 9 December 2023: two puzzles' hints, alike only in their date
    kept, _ = dedupe_stories([
        teaser("a", "pcgamer", "Wordle today: Hint and answer #903 for Saturday, December 9", date(2023, 12, 9)),
        teaser("b", "Lifehacker", "Today's NYT Connections Hints (and Answer) for Saturday, December 9, 2023",
               date(2023, 12, 9)),
    ])
    assert [s.id for s in kept] == ["a", "b"]


def test_headlines_alike_but_for_their_figures_or_their_names_are_two_events():
    # two sales, two tolls, two cities: merging either pair would lose a story a reader needs
    for first, second in (
        ("US approves $320 million sale of bomb guidance kits to Israel",
         "US approves $147 million sale of bomb guidance kits to Israel"),
        ("Afghanistan earthquake: at least 14 killed in 6.3 quake", "At least 2,000 killed in Afghanistan earthquake"),
        ("Thousands march in London for Gaza ceasefire", "Thousands march in Paris for Gaza ceasefire"),
    ):
        kept, drops = dedupe_stories([teaser("a", "Aljazeera", first, DEC_30), teaser("b", "NY times", second, DEC_30)])
        assert [s.id for s in kept] == ["a", "b"] and drops == []


def test_a_figure_or_a_name_both_headlines_share_still_makes_one_event():
    # real_entries: one toll, and one court named in sentence case and title case
    for first, second in (
        ("Kazakhstan mine fire leaves at least 21 dead", "At least 21 dead in mine fire in Kazakhstan"),
        ("India's Top Court Rules Against Allowing Same-Sex Marriage",
         "India’s top court rules against allowing same-sex marriage"),
    ):
        kept, _ = dedupe_stories([teaser("a", "Aljazeera", first, DEC_30), teaser("b", "NY times", second, DEC_30)])
        assert [s.id for s in kept] == ["a"]

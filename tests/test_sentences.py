"""Sentence splitting: verbatim pieces, line breaks as boundaries, news abbreviations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.stages.sentences import sentence_spans, split_sentences

TRICKY = json.loads((Path(__file__).parent / "data" / "sentences" / "tricky.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "case", [c for c in TRICKY if "known_miss" not in c], ids=lambda c: c["text"][:40]
)
def test_tricky_news_sentences_split_as_an_editor_would(case):
    assert split_sentences(case["text"]) == case["sentences"]


def test_the_known_miss_is_recorded_with_its_reason():
    misses = [c for c in TRICKY if "known_miss" in c]
    assert [c["text"] for c in misses] == ["The strike hit at 4 a.m. Rescuers arrived at dawn."]
    assert split_sentences(misses[0]["text"]) == [misses[0]["text"]]


@pytest.mark.parametrize("word", ["Bank", "so", "found", "free", "human", "mass", "at", "all", "will", "century"])
def test_ordinary_words_the_legal_model_took_for_abbreviations_end_sentences(word):
    text = f"The report mentioned {word}. Officials said nothing more."
    assert split_sentences(text) == [f"The report mentioned {word}.", "Officials said nothing more."]


@pytest.mark.parametrize("abbreviation", ["Mr.", "Dr.", "Sept.", "Gen.", "Sen.", "Inc.", "No.", "St."])
def test_news_abbreviations_do_not_end_sentences(abbreviation):
    text = f"They met {abbreviation} Ortiz in the capital. Talks went on."
    assert split_sentences(text) == [f"They met {abbreviation} Ortiz in the capital.", "Talks went on."]


def test_every_line_break_ends_a_sentence_even_mid_sentence():
    text = "The convoy was\nstopped at the border.\n\nAid agencies protested"
    assert split_sentences(text) == ["The convoy was", "stopped at the border.", "Aid agencies protested"]


def test_closing_quotes_stay_with_their_sentence():
    text = "He said: “We refuse.” The letter followed. She wrote, \"It is done.\" Nobody replied."
    assert split_sentences(text) == [
        "He said: “We refuse.”", "The letter followed.", "She wrote, \"It is done.\"", "Nobody replied."
    ]


def test_blank_and_empty_text_has_no_sentences():
    assert split_sentences("") == []
    assert split_sentences(" \n\n \t\n") == []


def test_spans_point_at_the_sentences():
    text = "  First one here.  Second one here.\r\n\nThird line"
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["First one here.", "Second one here.", "Third line"]


PIECES = st.sampled_from([
    "Mr.", "Dr.", "U.S.", "Sept. 12", "4, 000", "3.5", "e.g.", "...", "…", "“", "”", '"', "?", "!", ".",
    "\n", "\n\n", "  ", "\t", "(AP)", "—", "West Bank.", "Police", "said", "the", "a.m.", "’", "etc.",
])
WORDS = st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"]), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(PIECES, WORDS), max_size=40).map(" ".join))
def test_sentences_are_verbatim_stripped_ordered_and_lose_nothing(text):
    spans = sentence_spans(text)
    sentences = split_sentences(text)
    assert sentences == [text[a:b] for a, b in spans]
    for sentence in sentences:
        assert sentence and sentence == sentence.strip() and "\n" not in sentence
        assert sentence in text
    ends = [0] + [b for _, b in spans]
    starts = [a for a, _ in spans] + [len(text)]
    assert all(end <= start for end, start in zip(ends, starts, strict=True))
    uncovered = "".join(text[e:s] for e, s in zip(ends, starts, strict=True))
    assert not uncovered.strip()


def test_a_full_stop_with_no_space_after_it_between_words_ends_a_sentence():
    # livemint, May 2019: the feed joins standfirst and lede with no space; the summary showed "April.Previously"
    text = ("PM Modi hosting Xi in Varanasi is in return for Xi receiving Modi in Wuhan last year in April."
            "Previously, Modi hosted Xi in Ahmedabad, during Xi’s first ever visit to India in 2014")
    cut = text.index("Previously")
    assert split_sentences(text) == [text[:cut], text[cut:]]


@pytest.mark.parametrize("text", ["The U.S.Army said so.", "J.K.Rowling wrote it.", "Mr.Smith left.", "See Booking.com now."])
def test_abbreviations_initials_and_domains_without_spaces_stay_whole(text):
    assert split_sentences(text) == [text]

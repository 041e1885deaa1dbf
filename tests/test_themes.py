import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.config import load_config
from digest.models import SourceRef, Story
from digest.stages.themes import TOKEN, Terms
from digest.stages.themes import decide_by_rules as decide
from digest.stages.themes import words as theme_words

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def themes():
    return load_config(ROOT / "schedule.yaml").themes


def story(text: str, title: str | None = None) -> Story:
    return Story("s", title, tuple(text.split("\n\n")), (SourceRef("Example"),), "doc", 1)


def test_terms_match_words_prefixes_and_phrases():
    terms = Terms("Settlers and a settler's car. Arms, armed, firearms; the olive\nharvest; fighter jets")
    assert terms.count("settler*") == 2
    assert terms.count("arms") == 1
    assert terms.count("olive harvest") == 1
    assert terms.count("fighter jet*") == 1
    assert terms.count("olive grove") == 0


def test_clear_story_gets_its_theme_with_a_reason(themes):
    decision = decide(story("Germany approved new arms exports to Israel, including weapons and ammunition, "
                            "the economy ministry said, after a review of export licences.",
                            "Germany resumes arms exports"), themes)
    assert decision.theme == "arms-exports"
    assert decision.reason.startswith("Arms exports:") and "arms" in decision.reason


def test_required_group_missing_means_no_theme(themes):
    # violence vocabulary without any settler: not settler violence
    decision = decide(story("Police attacked and beat protesters, burned tents and injured dozens, witnesses said. "
                            "The attack lasted an hour."), themes)
    assert decision.theme is None
    assert "never mentions settler" in decision.reason


def test_passing_mention_in_a_long_text_is_not_enough(themes):
    filler = " ".join(["The history of the region is long and the essay covers many decades of politics."] * 40)
    decision = decide(story(filler + " Settlers attacked a village once, the essay notes."), themes)
    assert decision.theme is None


def test_densest_qualifying_theme_wins_and_the_runner_up_is_named(themes):
    text = ("Dockworkers refused to load weapons bound for Israel in a protest against arms exports used in Gaza. "
            "The boycott and the protest drew solidarity from unions; activists said the refusal would continue. "
            "Solidarity protests spread to three ports.")
    decision = decide(story(text), themes)
    assert decision.theme == "solidarity"
    assert "ahead of Arms exports" in decision.reason


def test_feed_theme_hint_boosts_its_theme_and_says_so(themes):
    text = ("Students held a vigil and a protest outside the ministry in solidarity with Palestinian prisoners; "
            "activists delivered a petition. " + "The ministry declined to comment on the case. " * 3)
    plain = decide(story(text), themes)
    hinted = decide(Story("s", None, (text,), (SourceRef("Feed"),), "doc", 1, ("solidarity",)), themes)
    assert hinted.theme == "solidarity" and hinted.score > plain.score
    assert "theme hint" in hinted.reason


def test_support_for_the_other_side_is_not_solidarity_with_palestinians(themes):
    text = ("Thousands joined a rally for Israel in the capital on Sunday, and pro-Israel marchers held a vigil "
            "for the hostages taken to Gaza. Speakers called for solidarity with Israel.")
    decision = decide(story(text, "Thousands rally for Israel"), themes)
    assert decision.theme is None


def test_a_brief_must_name_its_theme_in_its_headline(themes):
    passing = decide(story("Authorities banned pro-Palestinian demonstrations in several cities as incidents rose.",
                           "Antisemitic incidents unsettle the country"), themes)
    named = decide(story("Protesters marched through the city centre calling for a ceasefire in Gaza.",
                         "Thousands march in solidarity with Palestinians"), themes)
    assert passing.theme is None and "headline does not name it" in passing.reason
    assert named.theme == "solidarity"


def test_hyphenated_words_match_their_parts(themes):
    decision = decide(story("Pro-Palestinian protesters rallied outside the parliament, calling for an end "
                            "to the Israel-Gaza war; a second pro-Palestinian protest is planned.",
                            "Pro-Palestinian protest outside parliament"), themes)
    assert decision.theme == "solidarity" and "pro-palestin*" in decision.reason


NEWS_MARKS = "aZq9_'’ .,-“”‘—–…\xa0«»•€\u200b\x00ÉéİΣς字"
"""ASCII word characters, both apostrophes, the punctuation themes.words() replaces, and letters beyond ASCII."""


@given(st.text(alphabet=st.sampled_from(NEWS_MARKS), max_size=60) | st.text(max_size=60))
def test_theme_words_are_the_token_pattern_s_matches_in_lower_case(text):
    assert theme_words(text) == TOKEN.findall(text.lower())


def test_shipped_examples_are_train_items_of_the_label_files_never_dev():
    """digest/stages/theme_examples.jsonl (bench/themes_export.py) holds train items only: dev stays unseen."""
    labels = ROOT / "tests" / "data" / "themes"
    splits = {}
    for path in [labels / "labels.jsonl", *sorted(labels.glob("labels-*.jsonl"))]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                splits.setdefault(record["id"], (record["split"], record["label"]))
    shipped = [
        json.loads(line)
        for line in (ROOT / "digest" / "stages" / "theme_examples.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert len(shipped) > 1000
    assert all(splits[item["id"]] == ("train", item["label"]) for item in shipped)

"""Teaching themes by example: a new theme from a title, a description and twenty examples;
`digest themes test` and `digest themes learn` through the CLI; the model's JSON and determinism."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from digest.cli.main import main
from digest.config import load_config
from digest.models import SourceRef, Story
from digest.stages.theme_classifier import classifier
from digest.stages.theme_model import ThemeModel

ROOT = Path(__file__).resolve().parent.parent

CLIMATE_EXAMPLES = {
    "belongs": [
        "Climate activists glue themselves to motorway to demand an end to new oil licences",
        "Thousands of schoolchildren walk out of class in global climate strike",
        "Extinction Rebellion blocks bridge in protest against fossil fuel subsidies",
        "Just Stop Oil protesters spray orange paint on stadium to demand climate action",
        "Climate campaigners occupy bank headquarters over coal financing",
        "Police arrest dozens at sit-in against new coal mine",
        "Students march for climate justice ahead of UN summit",
        "Activists chain themselves to gates of oil refinery in climate protest",
        "Hunger strike outside parliament demands binding emissions cuts",
        "Farmers and climate groups rally against pipeline through wetlands",
        "Youth climate movement stages die-in at car show",
        "Scientists join civil disobedience to protest government inaction on warming",
        "Climate protesters disrupt shareholder meeting of oil major",
        "Court fines climate activists who blocked airport runway",
        "Fridays for Future strikers fill city squares to demand climate action",
        "Pupils walk out of lessons to join climate march",
    ],
    "not": [
        "Heatwave breaks temperature records across southern Europe",
        "Oil prices rally as producers extend output cuts",
        "Government publishes new net zero strategy for home heating",
        "Farmers protest over fuel prices and new tractor taxes",
    ],
}
"""Twenty examples of a made-up theme: sixteen that belong and four near misses."""


@pytest.fixture
def climate_project(tmp_path: Path) -> Path:
    yaml = YAML()
    config = yaml.load((ROOT / "schedule.yaml").read_text(encoding="utf-8"))
    config["themes"]["climate-protests"] = {
        "title": "Climate protests",
        "description": "Protests, strikes and civil disobedience for climate action.",
        "examples": CLIMATE_EXAMPLES,
    }
    config["editions"]["weekly"]["themes"] = ["climate-protests", "solidarity"]
    with (tmp_path / "schedule.yaml").open("w", encoding="utf-8") as out:
        yaml.dump(config, out)
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    return tmp_path / "schedule.yaml"


def _test(config: Path, text: str) -> str:
    result = CliRunner().invoke(main, ["themes", "test", "--config", str(config), text])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    "headline",
    [
        "Climate activists block oil tanker terminal, dozens arrested",
        "Teenagers skip school to join climate strike in dozens of cities",
        "Protesters dump coal outside energy ministry to demand climate action",
    ],
)
def test_a_theme_from_a_title_a_description_and_twenty_examples_places_new_headlines(climate_project, headline):
    assert _test(climate_project, headline).startswith("climate-protests: Climate protests ")


@pytest.mark.parametrize(
    "headline",
    [
        "Record heat forecast for the weekend as drought deepens",
        "Students rally in support of Palestinians at campus encampment",
        "Stock market rally lifts energy shares",
        "Israeli strike on Rafah kills dozens",
    ],
)
def test_the_taught_theme_leaves_other_news_alone(climate_project, headline):
    assert not _test(climate_project, headline).startswith("climate-protests")


def test_themes_test_shows_each_theme_and_why():
    output = _test(ROOT / "schedule.yaml", "Canada suspends arms exports to Israel")
    first, *scores = output.splitlines()
    assert first.startswith("arms-exports: Arms exports ")
    assert "arms" in first and "+" in first
    assert [line.split(":")[0].strip() for line in scores] == ["Arms exports", "Solidarity", "Settler violence"]


def test_learn_records_a_correction_that_the_next_build_uses(tmp_path):
    shutil.copy(ROOT / "schedule.yaml", tmp_path)
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    config = tmp_path / "schedule.yaml"
    runner = CliRunner()
    built = runner.invoke(main, ["build", "--config", str(config), "--out", str(tmp_path / "out"),
                                 "--now", "2026-12-04T07:00:00+00:00"])
    assert built.exit_code == 0, built.output
    edition_json = next((tmp_path / "out").glob("*.json"))
    edition = json.loads(edition_json.read_text(encoding="utf-8"))
    story = next(s for s in edition["sections"][2]["stories"])
    assert story["theme"] == "solidarity"

    learnt = runner.invoke(main, ["themes", "learn", "--config", str(config), str(edition_json), story["id"],
                                  "--not", "solidarity"])
    assert learnt.exit_code == 0, learnt.output
    assert "does not belong to Solidarity" in learnt.output
    assert (tmp_path / "digest.sqlite").exists()
    rebuilt = runner.invoke(main, ["build", "--config", str(config), "--out", str(tmp_path / "again"),
                                   "--now", "2026-12-04T07:00:00+00:00"])
    assert rebuilt.exit_code == 0, rebuilt.output
    again = json.loads(next((tmp_path / "again").glob("*.json")).read_text(encoding="utf-8"))
    placed = {s["id"]: section["theme"] for section in again["sections"] for s in section["stories"]}
    assert placed.get(story["id"]) != "solidarity"
    assert len([i for i, theme in placed.items() if theme == "solidarity"]) == len(edition["sections"][2]["stories"]) - 1


def test_learn_refuses_an_unknown_story_or_both_options(tmp_path):
    runner = CliRunner()
    shutil.copy(ROOT / "schedule.yaml", tmp_path)
    config = str(tmp_path / "schedule.yaml")
    unknown = runner.invoke(main, ["themes", "learn", "--config", config, "weekly-x", "nope", "--theme", "solidarity"])
    assert unknown.exit_code != 0 and "no story 'nope'" in unknown.output
    both = runner.invoke(main, ["themes", "learn", "--config", config, "e", "s", "--theme", "solidarity",
                                "--not", "solidarity"])
    assert both.exit_code == 2 and "exactly one of" in both.output


def test_a_trained_model_round_trips_through_json_and_decides_the_same():
    themes = load_config(ROOT / "schedule.yaml").themes
    trained = classifier(themes)
    again = classifier(themes, model=ThemeModel.from_json(trained.model.to_json()))
    story = Story("s", "Germany approves new weapons exports to Israel", (), (SourceRef("t"),), "d", 0)
    assert trained.decide(story) == again.decide(story)
    assert trained.model.to_json() == classifier(themes).model.to_json()


def test_also_noted_lists_near_misses_nearest_first_and_never_unrelated_news():
    """A near miss comes a share of the way to its theme's bar and names every term group of it; a section's
    overflow comes first, so a reader loses no story a section had no room for."""
    from dataclasses import dataclass

    from digest.config import EditionConfig
    from digest.models import ThemeDecision
    from digest.stages.assemble import pick

    @dataclass(frozen=True)
    class Item:
        decision: ThemeDecision
        name: str

    def item(name: str, theme: str | None, missing: tuple[str, ...] = (), **scores: float) -> Item:
        keyed = tuple((key.replace("_", "-"), value) for key, value in scores.items())
        return Item(ThemeDecision(theme, max(scores.values()) if theme else 0.0, "", keyed, (), missing), name)

    themes = load_config(ROOT / "schedule.yaml").themes
    bars = {key: themes[key].min_probability for key in ("arms-exports", "solidarity")}
    config = EditionConfig(title="T", themes=["arms-exports", "solidarity"], also_noted_limit=2)
    stories = [
        item("drama review", None, arms_exports=0.01, solidarity=0.1 * bars["solidarity"]),
        item("near arms", None, arms_exports=0.85 * bars["arms-exports"], solidarity=0.02),
        item("placed", "solidarity", arms_exports=0.01, solidarity=0.9),
        item("nearer solidarity", None, arms_exports=0.02, solidarity=0.95 * bars["solidarity"]),
        item("other theme", "settler-violence", arms_exports=0.4 * bars["arms-exports"], solidarity=0.1,
             settler_violence=0.95),
        item("a little near", None, arms_exports=0.35 * bars["arms-exports"], solidarity=0.0),
        item("near but no trade named", None, ("arms-exports",), arms_exports=0.95 * bars["arms-exports"],
             solidarity=0.0),
    ]
    by_theme, noted = pick(config, stories, themes)
    assert [s.name for s in by_theme["solidarity"]] == ["placed"]
    assert [s.name for s in noted] == ["nearer solidarity", "near arms"]
    everything = EditionConfig(title="T", themes=["arms-exports", "solidarity"], also_noted_floor=0.3)
    assert [s.name for s in pick(everything, stories, themes)[1]] == [
        "nearer solidarity", "near arms", "other theme", "a little near"
    ]
    crowded = [item(f"solidarity {n}", "solidarity", solidarity=0.99 - n / 100) for n in range(4)] + stories
    tight = EditionConfig(title="T", themes=["arms-exports", "solidarity"], stories_per_theme=2, also_noted_limit=1)
    by_theme, noted = pick(tight, crowded, themes)
    assert [s.name for s in by_theme["solidarity"]] == ["solidarity 0", "solidarity 1"]
    assert [s.name for s in noted] == ["solidarity 2", "solidarity 3", "placed", "nearer solidarity"]


def test_training_and_deciding_do_not_depend_on_the_hash_seed():
    import os
    import subprocess
    import sys

    program = (
        "import hashlib; from digest.config import load_config; from digest.models import SourceRef, Story; "
        "from digest.stages.theme_classifier import classifier; "
        f"c = classifier(load_config({str(ROOT / 'schedule.yaml')!r}).themes); "
        "print(hashlib.sha256(c.model.to_json().encode()).hexdigest()); "
        "print(c.decide(Story('s', 'Students demand divestment from arms makers supplying Israel', (), "
        "(SourceRef('t'),), 'd', 0)))"
    )
    outputs = [
        subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    ]
    assert outputs[0] == outputs[1] and outputs[0].count("\n") == 2


def test_the_title_is_read_apart_so_a_long_lede_cannot_drown_it():
    from digest.stages.theme_model import IN_TITLE, story_features

    features = story_features("MPs vote to recognise Palestinian state", "The government said Gaza talks go on.")
    assert {"recognis", f"{IN_TITLE}recognis", f"{IN_TITLE}palestinian state", "govern", "gaza"} <= features
    assert f"{IN_TITLE}gaza" not in features
    untitled = story_features("", "Settlers burned olive trees near Nablus.")
    assert {"settler", f"{IN_TITLE}settler", f"{IN_TITLE}oliv tree"} <= untitled

    chosen = classifier(load_config(ROOT / "schedule.yaml").themes)
    lede = "The government said the vote changes nothing for Gaza, where the war goes on."
    story = Story("s", "MPs vote to recognise Palestinian state", (lede,), (SourceRef("t"),), "d", 0)
    decision = chosen.decide(story)
    assert decision.theme == "solidarity"
    assert "palestinian state" in decision.reason  # a pair of the title alone: the lede never says it


def test_a_headline_drawn_from_a_news_search_learns_with_the_search_as_its_text():
    from digest.stages.theme_model import shipped_examples

    shipped = shipped_examples()
    searched = [e for e in shipped if e.text in {"Gaza", "BDS movement", "Israel Hamas war", "Middle East"}]
    assert len(searched) > 1000
    assert any(e.theme == "solidarity" and "gaza" not in e.title.lower() for e in searched)


def bundled_story(title: str, text: str = "", source: str = "World news", hints: tuple[str, ...] = ()) -> Story:
    paragraphs = (text,) if text else ()
    return Story("s", title, paragraphs, (SourceRef(source),), "d", 0, hints)


def quiet_port(arms_trade: bool = True) -> Story:
    """A long story whose opening says nothing of a theme (the model leaves it below every bar) and whose
    later paragraphs, with ``arms_trade``, are dense in the arms trade (the keyword rules place it)."""
    opening = "The port was quiet on Tuesday morning, and the dockers talked about the weather and the harvest. " * 9
    body = ("Records show arms sales and weapons exports through the port: export licences for rifles, missiles "
            "and ammunition sold to the army of a country at war, an arms deal the ministry approved. ") * 3
    return bundled_story("A quiet port", opening + body if arms_trade else opening)


def test_a_protest_that_never_names_the_cause_is_not_solidarity_nor_also_noted():
    """Solidarity's must_name: a story naming nothing of its cause group is never placed there, whatever
    'protest' weighs, and its solidarity score does not make it relevant for Also noted."""
    from digest.stages.assemble import relevance

    chosen = classifier(load_config(ROOT / "schedule.yaml").themes)
    title = "Religious groups protest concert and call for a boycott of the band"
    text = "Hundreds of demonstrators gathered and chanted slogans, organisers said."
    elsewhere = chosen.decide(bundled_story(title, text))
    assert elsewhere.theme is None
    assert set(elsewhere.cause_unnamed) == {"solidarity", "settler-violence"}  # nor names harm done by settlers
    assert "which Solidarity needs" in elsewhere.reason
    assert relevance(elsewhere, {"solidarity": 0.45, "arms-exports": 0.55}) == 0.0
    named = chosen.decide(bundled_story(title.replace("Religious groups", "Pro-Palestinian groups"), text))
    assert named.theme == "solidarity"
    assert named.cause_unnamed == ("settler-violence",)


def test_a_feed_about_the_cause_names_it_for_its_stories():
    """A search feed named 'Gaza', or a feed hinted for the theme, stands for the cause its headlines leave out."""
    chosen = classifier(load_config(ROOT / "schedule.yaml").themes)
    title = "Students set up encampment on university lawn and demand divestment"
    assert "solidarity" in chosen.decide(bundled_story(title)).cause_unnamed
    assert chosen.decide(bundled_story(title, source="Gaza")).theme == "solidarity"
    assert chosen.decide(bundled_story(title, hints=("solidarity",))).theme == "solidarity"


def test_us_and_u_s_name_the_country_not_the_pronoun():
    from digest.stages.theme_model import story_features

    assert {"usa", "usa munit"} <= story_features("US munitions used in strike on school", "")
    assert {"usa", "usa made"} <= story_features("Israel used a U.S.-made bomb", "")
    assert "usa" not in story_features("Tell us what you saw", "")


@pytest.mark.parametrize(
    ("text", "theme", "why", "note"),
    [
        ("Religious groups protest concert and call for a boycott", "Solidarity",
         "but it names nothing like palestin, gaza, west bank, which Solidarity needs", "; names none of the words it needs)"),
        ("Israeli settler killed in West Bank shooting attack", "Settler violence",
         "but its headline reads “Israeli settler killed”, which Settler violence excludes", "; its headline is excluded)"),
    ],
)
def test_themes_test_says_why_a_theme_that_would_take_a_story_cannot(tmp_path, text, theme, why, note):
    """A cause never named (signals.must_name) or an excluded headline (exclude)."""
    shutil.copy(ROOT / "schedule.yaml", tmp_path)
    first, *scores = _test(tmp_path / "schedule.yaml", text).splitlines()
    assert first.startswith(f"no theme: fits no theme — {theme} ")
    assert first.endswith(why)
    assert any(line.startswith(f"  {theme}: ") and line.endswith(note) for line in scores)


def test_themes_test_refuses_an_empty_text():
    result = CliRunner().invoke(main, ["themes", "test", "--config", str(ROOT / "schedule.yaml"), "  \n "])
    assert result.exit_code == 2
    assert "TEXT" in result.output and "is empty: give a headline" in result.output


def test_settler_violence_needs_a_word_of_harm_done():
    """Settler politics and settlement plans name settlers and the West Bank but no violence: not the theme."""
    chosen = classifier(load_config(ROOT / "schedule.yaml").themes)
    politics = chosen.decide(bundled_story("Settler leaders call for annexation of the West Bank"))
    assert politics.theme is None
    assert "settler-violence" in politics.cause_unnamed
    assert "which Settler violence needs" in politics.reason
    attack = chosen.decide(bundled_story("Settler leaders' followers attack West Bank village"))
    assert attack.theme == "settler-violence"


@pytest.mark.parametrize(
    "headline",
    [
        "Palestinian gunman kills two Israeli settlers in West Bank shooting",
        "Israeli settler killed in West Bank shooting attack",
        "Settler wounded in stabbing attack near Hebron",
        "Two Israeli settlers shot dead in attack near Huwara",
    ],
)
def test_settlers_as_the_victims_of_an_attack_are_not_settler_violence(headline):
    """THEMES.md: violence BY settlers. The words of an attack on settlers are the words of settlers' attacks,
    so settler violence's ``exclude`` rules such headlines out, and says so; they are no near miss either."""
    from digest.stages.assemble import relevance

    decision = classifier(load_config(ROOT / "schedule.yaml").themes).decide(bundled_story(headline))
    assert decision.theme is None
    assert decision.excluded == ("settler-violence",)
    assert "which Settler violence excludes" in decision.reason
    assert dict(decision.scores)["settler-violence"] > 0.65  # the words alone would have placed it
    assert relevance(decision, {"settler-violence": 0.65}) == 0.0


@pytest.mark.parametrize(
    "headline",
    [
        "Palestinian man killed by Israeli settlers near Nablus",
        "Israeli settlers killed Palestinian teen in village raid",
        "Settlers torch cars in Palestinian village of Turmus Ayya",
        "Settlers rampage in Huwara, torch homes, cars after terror attack",
    ],
)
def test_settlers_who_attack_are_still_settler_violence(headline):
    decision = classifier(load_config(ROOT / "schedule.yaml").themes).decide(bundled_story(headline))
    assert (decision.theme, decision.excluded) == ("settler-violence", ())


@pytest.mark.parametrize(
    ("headline", "excluded_from", "theme"),
    [
        ("Israeli doctors strike in protest at judicial overhaul", "solidarity", None),
        ("Protesters in Israel rally against judicial reform", "solidarity", None),
        ("Anti-government protesters block Tel Aviv highway as Israel's war cabinet meets", "solidarity", None),
        ("Right-wing Israelis rally for settlements in Gaza", "solidarity", None),
        ("Israeli protesters block aid trucks bound for Gaza at Kerem Shalom", "solidarity", None),
        ("Israeli nationalists' Flag March passes through Jerusalem's Old City", "solidarity", None),
        ("Hostage families march to Jerusalem to press Israel's government for a deal", "solidarity", None),
        ("Germany declares solidarity with Israel after Hamas attack", "solidarity", None),
        ("Protesters block aid trucks at Gaza crossing", "solidarity", None),
        ("Thousands rally in Kuala Lumpur with anti-Netanyahu chants to demand an end to the war on Gaza", "solidarity",
         "solidarity"),
        ("Thousands march in London in solidarity with Palestinians", "solidarity", "solidarity"),
        ("Gun shop owner says he sold ammunition to the mass shooting suspect", "arms-exports", None),
        ("Court lets state bar permitted gun owners from carrying rifles in parks", "arms-exports", None),
        ("White House sends aid to Israel, moves US warships closer to the region", "arms-exports", None),
        ("US approves sale of 24,000 assault rifles to Israel", "arms-exports", "arms-exports"),
        ("Japan to sell used destroyers to the Philippines", "arms-exports", "arms-exports"),
        ("US speeds munitions deliveries to Israel and moves a carrier group closer", "arms-exports", "arms-exports"),
    ],
)
def test_a_theme_excludes_by_its_headline_what_themes_md_calls_other_and_keeps_its_own_news(
    headline, excluded_from, theme
):
    """Solidarity is acting in support of Palestinians: Israelis protesting their own government, blocking aid or
    rallying for the right, and governments standing with Israel, are other. Arms exports is a trade between
    countries and companies: guns at home and a country moving its own forces are other."""
    decision = classifier(load_config(ROOT / "schedule.yaml").themes).decide(bundled_story(headline))
    assert decision.theme == theme
    assert (excluded_from in decision.excluded) == (theme is None)


def test_the_keyword_rules_do_not_place_a_long_story_whose_headline_is_excluded():
    from dataclasses import replace

    chosen = classifier(load_config(ROOT / "schedule.yaml").themes)
    assert chosen.decide(quiet_port()).theme == "arms-exports"  # by the rules, over its whole text
    excluded = chosen.decide(replace(quiet_port(), title="The shooter's neighbours speak of a quiet man"))
    assert (excluded.theme, excluded.excluded) == (None, ("arms-exports",))


def test_an_excluded_headline_is_read_from_an_untitled_story_s_first_sentence_and_an_editor_overrules_it():
    themes = load_config(ROOT / "schedule.yaml").themes
    untitled = Story("u", None, ("Israeli settler killed in West Bank shooting attack. Settlers later rampaged.",),
                     (SourceRef("World news"),), "d", 0)
    assert classifier(themes).decide(untitled).excluded == ("settler-violence",)
    overruled = classifier(themes, verdicts={"u": {"settler-violence": True}}).decide(untitled)
    assert overruled.theme == "settler-violence"


def test_dockers_refusing_to_handle_arms_cargo_act_in_solidarity_whichever_way_it_moves():
    """THEMES.md counts refusals as solidarity; the weapons named do not make it the arms trade."""
    chosen = classifier(load_config(ROOT / "schedule.yaml").themes)
    for verb in ("load", "unload", "handle"):
        headline = f"Irish dockers refuse to {verb} ship carrying munitions bound for Israel"
        assert chosen.decide(bundled_story(headline)).theme == "solidarity", headline


def test_a_kept_model_is_trained_again_when_a_theme_s_term_groups_change(tmp_path):
    """The term groups are features: a model kept in the store from before they changed would weigh old groups."""
    import sqlite3

    from digest.store import connect

    yaml = YAML()
    config = yaml.load((ROOT / "schedule.yaml").read_text(encoding="utf-8"))
    path = tmp_path / "schedule.yaml"
    connect(tmp_path / "digest.sqlite").close()  # `themes test` keeps its model in a store that exists

    def models_kept_after_test() -> int:
        with path.open("w", encoding="utf-8") as out:
            yaml.dump(config, out)
        _test(path, "Settlers torch olive groves near Nablus")
        with sqlite3.connect(tmp_path / "digest.sqlite") as conn:
            return int(conn.execute("SELECT count(*) FROM theme_models").fetchone()[0])

    assert models_kept_after_test() == 1
    assert models_kept_after_test() == 1
    config["themes"]["settler-violence"]["signals"]["require"][0].append("squatter*")
    assert models_kept_after_test() == 2


def test_term_groups_are_read_over_a_long_story_s_opening_not_its_whole_text():
    """Over a whole article nearly every war report names a weapon somewhere and a trade word somewhere else;
    the groups are read where a feed's summary and the model's examples are: the first 150 words."""
    chosen = classifier(load_config(ROOT / "schedule.yaml").themes)
    opening = "Missiles struck the city overnight, the army said. "
    filler = "Residents described the night and the damage to their street in the morning. " * 14
    late = chosen.features(bundled_story("A night of strikes", opening + filler + "Officials later sold bonds."))[0]
    early = chosen.features(bundled_story("A night of strikes", opening + "Officials later sold bonds. " + filler))[0]
    assert "<arms-exports every group>" in early
    assert "<arms-exports every group>" not in late
    assert "<arms-exports group 1>" in late


def test_a_cause_named_late_in_a_long_story_still_counts():
    """must_name asks whether a story names its cause at all: its whole text, not only its opening."""
    chosen = classifier(load_config(ROOT / "schedule.yaml").themes)
    filler = "Students gathered on the lawn and chanted as speakers took turns at the microphone. " * 14
    story = bundled_story("Students protest on campus", filler + "They called for a ceasefire in Gaza.")
    assert "solidarity" not in chosen.decide(story).cause_unnamed


def test_what_placed_a_story_is_told_the_model_for_a_brief_the_keyword_rules_for_a_long_story():
    """A long story the model leaves below the bar (its opening says little) is placed by the keyword rules over
    its whole text, and says so: the edition ranks it with the surest (digest.stages.assemble)."""
    from digest.models import PlacedBy

    chosen = classifier(load_config(ROOT / "schedule.yaml").themes)
    brief = chosen.decide(bundled_story("Canada indefinitely suspends arms exports to Israel"))
    assert (brief.theme, brief.placed_by) == ("arms-exports", PlacedBy.MODEL)
    report = chosen.decide(quiet_port())
    assert (report.theme, report.placed_by) == ("arms-exports", PlacedBy.RULES)
    assert report.score < 0.6 and "keyword rules, over a long story" in report.reason
    assert chosen.decide(quiet_port(arms_trade=False)).placed_by is None


def test_an_editor_s_word_on_a_story_stands_over_the_model_and_the_keyword_rules():
    """A correction teaches the model, which may still lean the old way, and the keyword rules, which place a
    long story on their own, never learn: the editor's word on that story is its verdict."""
    from digest.models import PlacedBy

    themes = load_config(ROOT / "schedule.yaml").themes
    report = quiet_port()
    assert classifier(themes).decide(report).placed_by is PlacedBy.RULES
    refused = classifier(themes, verdicts={report.id: {"arms-exports": False}}).decide(report)
    assert refused.theme is None and "an editor's correction: not Arms exports" in refused.reason
    brief = bundled_story("Dockers down tools for a day")
    assert classifier(themes).decide(brief).theme is None
    moved = classifier(themes, verdicts={brief.id: {"solidarity": True, "sport": True}}).decide(brief)
    assert (moved.theme, moved.placed_by) == ("solidarity", PlacedBy.EDITOR)
    assert moved.reason.startswith("Solidarity, by an editor's correction; the model: Solidarity ")
    assert classifier(themes, verdicts={"another story": {"solidarity": True}}).decide(brief).theme is None


def test_learn_theme_puts_a_story_in_that_theme_in_the_next_build(tmp_path):
    shutil.copy(ROOT / "schedule.yaml", tmp_path)
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    config = str(tmp_path / "schedule.yaml")
    runner = CliRunner()
    now = "2026-12-04T07:00:00+00:00"
    assert runner.invoke(main, ["build", "--config", config, "--out", str(tmp_path / "out"), "--now", now]).exit_code == 0
    edition_json = next((tmp_path / "out").glob("*.json"))
    edition = json.loads(edition_json.read_text(encoding="utf-8"))
    settler = edition["sections"][1]
    story = settler["stories"][-1]
    learnt = runner.invoke(main, ["themes", "learn", "--config", config, str(edition_json), story["id"],
                                  "--theme", "solidarity"])
    assert learnt.exit_code == 0, learnt.output
    rebuilt = runner.invoke(main, ["build", "--config", config, "--out", str(tmp_path / "again"), "--now", now])
    assert rebuilt.exit_code == 0, rebuilt.output
    again = json.loads(next((tmp_path / "again").glob("*.json")).read_text(encoding="utf-8"))
    placed = {s["id"]: (section["theme"], s["reason"]) for section in again["sections"] for s in section["stories"]}
    assert placed[story["id"]][0] == "solidarity"
    assert placed[story["id"]][1].startswith("Solidarity, by an editor's correction")

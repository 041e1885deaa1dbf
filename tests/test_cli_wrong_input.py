"""Wrong input given to the CLI as a user gives it: an unknown id, a missing file. Each answer names what was
wrong and how to find the right one, with exit code 2 (a mistake in the command line), never a traceback."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from smtpserver import delivery_config

from digest.cli.main import main

NOW = "2026-11-23T07:00:00+00:00"
EDITION_ID = "weekly-20261123T0700+0000"


def digest(config: Path, *args: str):
    return CliRunner().invoke(main, [*args, "--config", str(config)], catch_exceptions=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, list[str]]:
    """A store with one draft built from the bundled seeds, and its story ids (its sections', then Also noted's)."""
    folder = tmp_path_factory.mktemp("built")
    delivery_config(folder, recipients=["ann@example.org"])
    config = folder / "schedule.yaml"
    result = digest(config, "build", "--out", str(folder / "out"), "--now", NOW)
    assert result.exit_code == 0, result.output
    edition = json.loads(next((folder / "out").glob("*.json")).read_text(encoding="utf-8"))
    assert edition["id"] == EDITION_ID
    also_noted = edition["also_noted"]["stories"] if edition["also_noted"] else []
    stories = [story["id"] for section in edition["sections"] for story in section["stories"]]
    return config, stories + [story["id"] for story in also_noted]


def test_themes_learn_with_an_unknown_edition_says_so_and_where_editions_are_listed(built):
    config, _ = built
    result = digest(config, "themes", "learn", "weekly-20990101T0000+0000", "1", "--theme", "solidarity")
    assert result.exit_code == 2
    assert result.stderr == (
        "digest: no edition 'weekly-20990101T0000+0000' in this store, so no story '1' in it: `digest editions` "
        "lists the editions (or name an edition's JSON file, as `digest build` writes it)\n"
    )
    assert EDITION_ID in digest(config, "editions").stdout


def test_themes_learn_with_an_unknown_story_lists_the_editions_stories(built):
    config, stories = built
    result = digest(config, "themes", "learn", EDITION_ID, "nope", "--theme", "solidarity")
    assert result.exit_code == 2
    prefix = f"digest: edition {EDITION_ID} has no story 'nope'; its stories: "
    assert result.stderr.startswith(prefix)
    assert sorted(result.stderr.removeprefix(prefix).strip().split(", ")) == sorted(stories)
    learnt = digest(config, "themes", "learn", EDITION_ID, stories[0], "--not", "solidarity")
    assert learnt.exit_code == 0, learnt.output


def test_themes_learn_with_a_missing_json_file_says_no_such_file(built, tmp_path):
    config, _ = built
    missing = tmp_path / "edition.json"
    result = digest(config, "themes", "learn", str(missing), "1", "--theme", "solidarity")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"digest: {missing}: no such file (give an edition's JSON file")


def test_approving_an_edition_published_to_the_web_only_says_it_was_never_sent(tmp_path):
    delivery_config(tmp_path, recipients=["ann@example.org"])
    config = tmp_path / "schedule.yaml"
    assert digest(config, "build", "--out", str(tmp_path / "out"), "--now", NOW).exit_code == 0
    assert digest(config, "publish", EDITION_ID).exit_code == 0
    result = digest(config, "approve", EDITION_ID)
    assert result.exit_code == 1
    assert result.stderr == (
        f"digest: edition {EDITION_ID} was published to the web archive only (`digest publish`) and never sent: "
        "it was not in review, so there is nothing to approve\n"
    )
    assert not (tmp_path / "outbox").exists()  # nobody was mailed


@pytest.mark.parametrize("option", ["--reason", "--by"])
def test_dropping_a_story_with_a_blank_reason_or_name_is_refused_and_drops_nothing(built, option):
    """A drop is kept with its reason and who made it (`editions --explain`): '(   )' there says nothing."""
    config, stories = built
    result = digest(config, "drop", EDITION_ID, "1", option, "   ")
    assert result.exit_code == 2
    assert f"Invalid value for '{option}': is blank: give it in words, or leave the option out" in result.stderr
    assert "  dropped " not in digest(config, "editions", "--explain").stdout


@pytest.mark.parametrize(("args", "hint"), [
    (["--config", "schedule.yaml", "build"], "`digest build --config …`"),
    (["--json", "feeds", "list"], "`digest feeds COMMAND --json …`"),
    (["feeds", "--config", "schedule.yaml", "list"], "`digest feeds list --config …`"),
])
def test_a_command_s_option_given_before_the_command_says_where_it_goes(args, hint):
    result = CliRunner().invoke(main, args, prog_name="digest")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].endswith(f" An option of a command goes after the command: {hint}")


def test_an_option_no_command_takes_gets_click_s_own_answer():
    result = CliRunner().invoke(main, ["--nope", "build"])
    assert result.exit_code == 2 and result.stderr.splitlines()[-1] == "Error: No such option '--nope'."


def test_a_store_that_is_a_folder_is_named_as_such(tmp_path):
    delivery_config(tmp_path, recipients=["ann@example.org"])
    config = tmp_path / "schedule.yaml"
    store = tmp_path / "digest.sqlite"  # where the config puts the store: a folder there
    store.mkdir()
    for command in (["store", "check"], ["editions"], ["build", "--out", str(tmp_path / "out")]):
        result = CliRunner().invoke(main, [*command, "--config", str(config)])
        assert result.exit_code == 2, result.output  # a mistake in the config, as every other
        assert result.stderr == (
            f"digest: {store}: is a folder, not the store's file; check `store:` in the config (e.g. digest.sqlite)\n"
        )
    assert list(store.iterdir()) == []


def test_a_config_without_themes_or_editions_says_what_each_needs(tmp_path):
    config = tmp_path / "schedule.yaml"
    config.write_text("themes: {}\neditions: {}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", "--config", str(config)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-2:] == [
        "schedule.yaml:1: themes: needs at least 1 entry, has none",
        "schedule.yaml:2: editions: needs at least 1 entry, has none",
    ]


@pytest.mark.parametrize("content", [b"x", b"notes for later\n" * 40], ids=["one byte", "a text file"])
def test_a_store_path_holding_another_file_is_refused_and_the_file_kept(tmp_path, content):
    delivery_config(tmp_path, recipients=["ann@example.org"])
    config = tmp_path / "schedule.yaml"
    store = tmp_path / "digest.sqlite"  # where the config puts the store: someone else's file there
    store.write_bytes(content)
    for command in (["store", "check"], ["editions"], ["build", "--out", str(tmp_path / "out"), "--now", NOW]):
        result = CliRunner().invoke(main, [*command, "--config", str(config)])
        assert result.exit_code == 2, result.output
        size = f"{len(content):,} byte{'' if len(content) == 1 else 's'}"
        assert result.stderr == (
            f"digest: {store}: not an SQLite database, so not digest's store ({size}, left as they are); "
            "check `store:` in the config, or move that file away\n"
        )
    assert store.read_bytes() == content
    assert sorted(path.name for path in tmp_path.iterdir()) == ["digest.sqlite", "schedule.yaml"]


def test_an_empty_file_at_the_store_path_becomes_a_new_store(tmp_path):
    delivery_config(tmp_path, recipients=["ann@example.org"])
    (tmp_path / "digest.sqlite").touch()
    result = CliRunner().invoke(main, ["store", "check", "--config", str(tmp_path / "schedule.yaml")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "digest.sqlite").read_bytes().startswith(b"SQLite format 3\x00")


def test_themes_learn_takes_a_story_by_its_number_as_the_edition_shows_it(built):
    config, stories = built
    learnt = digest(config, "themes", "learn", EDITION_ID, "2", "--not", "solidarity")
    assert learnt.exit_code == 0, learnt.output
    assert learnt.stdout.startswith(f"recorded: story 2 ({stories[1]}) of {EDITION_ID} does not belong to Solidarity")
    edition_json = next((config.parent / "out").glob("*.json"))
    by_file = digest(config, "themes", "learn", str(edition_json), "3", "--theme", "solidarity")
    assert by_file.exit_code == 0, by_file.output
    assert f"recorded: story 3 ({stories[2]}) of {edition_json} belongs to Solidarity" in by_file.stdout
    with sqlite3.connect(config.parent / "digest.sqlite") as conn:
        recorded = conn.execute("SELECT story, belongs FROM theme_corrections WHERE theme = 'solidarity'").fetchall()
    assert {(stories[1], 0), (stories[2], 1)} <= set(recorded)

    beyond = digest(config, "themes", "learn", EDITION_ID, str(len(stories) + 5), "--theme", "solidarity")
    assert beyond.exit_code == 2
    assert beyond.stderr.startswith(f"digest: edition {EDITION_ID} has no story '{len(stories) + 5}' (give its id, or its number from 1 to ")

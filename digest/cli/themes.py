"""`digest themes test` and `digest themes learn`: try the classifier on a text, correct it by example."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import click

from digest.cli.common import CONFIG_OPTION, DigestCommand, DigestGroup
from digest.config import load_config
from digest.errors import ConfigError, DigestError


@click.group("themes", cls=DigestGroup)
def themes() -> None:
    """Try the theme classifier on a text, and teach it by correcting its decisions."""


@themes.command("test", cls=DigestCommand)
@CONFIG_OPTION
@click.argument("text")
def test(config_path: Path, text: str) -> None:
    """Show the theme TEXT gets (a headline; after a newline, its body) and why."""
    from digest.pipeline import try_theme
    from digest.store import connect

    if not text.strip():
        raise click.BadParameter("is empty: give a headline (and, after a newline, its body)", param_hint="TEXT")
    config = load_config(config_path)
    store = config.path(config.store)
    conn = connect(store) if store.exists() else None
    decision = try_theme(config, text, conn, datetime.now(UTC))
    click.echo(f"{decision.theme or 'no theme'}: {decision.reason}")
    for key, probability in decision.scores:
        note = "; names none of the words it needs" if key in decision.cause_unnamed else ""
        note += "; its headline is excluded" if key in decision.excluded else ""
        click.echo(
            f"  {config.themes[key].title}: {probability:.0%} (needs {config.themes[key].min_probability:.0%}{note})"
        )


def _story_in_json(path: Path, story_ref: str) -> tuple[str, str, tuple[str, str]]:
    """(edition id, story id, (title, summary)) of a story in an edition's JSON file, as `digest build` writes it,
    given by its id or by its number (1 is the first, in the order the edition shows them)."""
    from digest.editions import EditionNotFound

    if not path.is_file():
        raise EditionNotFound(
            f"{path}: no such file (give an edition's JSON file, as `digest build` writes it, or an edition id "
            "from `digest editions`)"
        )
    try:
        edition = json.loads(path.read_text(encoding="utf-8"))
        sections = [*edition["sections"], *([edition["also_noted"]] if edition.get("also_noted") else [])]
        stories = {story["id"]: story for section in sections for story in section["stories"]}
        edition_id = str(edition["id"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DigestError(f"{path}: not an edition's JSON ({exc})") from None
    story_id = story_ref
    if story_ref not in stories and story_ref.isdigit() and 1 <= int(story_ref) <= len(stories):
        story_id = list(stories)[int(story_ref) - 1]
    if story_id not in stories:
        raise EditionNotFound(
            f"{path}: no story {story_ref!r} (give its id or its number from 1 to {len(stories)}; its stories: "
            f"{', '.join(stories) or 'none'})"
        )
    return edition_id, story_id, (str(stories[story_id]["title"]), str(stories[story_id]["summary"]))


def _story_in_store(conn: sqlite3.Connection, edition_id: str, story_ref: str) -> tuple[str, tuple[str, str]]:
    """(story id, (title, text)) of a story of an edition the store recorded, given by its id or by its number
    as the edition shows it (`digest drop` and the review preview number them so), or which editions and
    stories there are."""
    from digest import editions
    from digest.store import edition_story, edition_story_ids

    story_id = story_ref
    record = editions.find(conn, edition_id)
    if story_ref.isdigit() and record is not None and record.content is not None:
        story_id = editions.find_story(record.edition(), story_ref).id
    row = edition_story(conn, edition_id, story_id)
    if row is not None:
        return story_id, (row["title"], row["text"])
    stories = edition_story_ids(conn, edition_id)
    if stories:
        raise editions.EditionNotFound(f"edition {edition_id} has no story {story_id!r}; its stories: {', '.join(stories)}")
    if record is not None:
        raise editions.EditionNotFound(
            f"edition {edition_id} has no stories recorded to learn from (built by an older digest): "
            "name its JSON file instead, as `digest build` writes it"
        )
    raise editions.EditionNotFound(
        f"no edition {edition_id!r} in this store, so no story {story_id!r} in it: `digest editions` lists the "
        "editions (or name an edition's JSON file, as `digest build` writes it)"
    )


@themes.command("learn", cls=DigestCommand)
@CONFIG_OPTION
@click.argument("edition")
@click.argument("story")
@click.option("--theme", "belongs_to", help="The story belongs to this theme.")
@click.option("--not", "not_in", help="The story does not belong to this theme.")
def learn(config_path: Path, edition: str, story: str, belongs_to: str | None, not_in: str | None) -> None:
    """Record that STORY belongs to a theme (--theme) or not (--not); the next build learns from it.

    EDITION is an edition's JSON file (as `digest build` writes it) or an edition id the
    store has recorded; STORY is a story's id (from that JSON, or `--explain`) or its number
    as the edition shows its stories (1 is the first; the review preview lists them so).
    """
    from digest.store import connect, record_theme_correction

    if (belongs_to is None) == (not_in is None):
        raise click.UsageError("give exactly one of --theme THEME and --not THEME")
    theme = belongs_to or not_in
    config = load_config(config_path)
    if theme not in config.themes:
        raise ConfigError(f"unknown theme {theme!r}; the config has {', '.join(config.themes)}")
    edition_id, text = edition, None
    if edition.endswith(".json") or Path(edition).is_file():
        edition_id, story_id, text = _story_in_json(Path(edition), story)
    conn = connect(config.path(config.store))
    if text is None:
        story_id, text = _story_in_store(conn, edition, story)
    record_theme_correction(conn, edition_id, story_id, theme, belongs_to is not None, datetime.now(UTC), text)
    verb = "belongs to" if belongs_to else "does not belong to"
    named = story_id if story_id == story else f"{story} ({story_id})"
    click.echo(f"recorded: story {named} of {edition} {verb} {config.themes[theme].title}; the next build learns it")

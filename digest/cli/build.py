"""`digest build` and `digest validate`: options in, one call out."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from digest.cli.common import (
    CONFIG_OPTION,
    JSON_OPTION,
    DigestCommand,
    Verbosity,
    finish,
    json_document,
    parse_instant,
    say,
    verbosity,
)
from digest.cli.report import build_exit_code, build_json, build_summary
from digest.config import load_config, locate
from digest.errors import ConfigError
from digest.models import BuildResult
from digest.speed import memory


def explain(result: BuildResult) -> str:
    lines = ["Dropped:"]
    for drop in result.drops:
        where = f"{drop.document}:{drop.line}" if drop.line else drop.document
        lines.append(f"  {where}: [{drop.stage}] {drop.explanation}: {drop.text[:70]!r}")
    if result.pages:
        lines.append("Pages:")
    for note in result.pages:
        why = f": {note.refusal}" + (f" ({note.detail})" if note.detail else "") if note.refusal else ""
        lines.append(f"  {note.document}: {note.source}{why}: {note.url}")
    lines.append("Themes:")
    for themed in result.decisions:
        story = themed.story
        label = story.title or (story.paragraphs[0][:60] if story.paragraphs else story.id)
        lines.append(f"  {story.document}:{story.line} {label!r}")
        lines.append(f"    -> {themed.decision.theme or 'no theme'}: {themed.decision.reason}")
    return "\n".join(lines)


@click.command("build", cls=DigestCommand)
@CONFIG_OPTION
@click.option("--edition", "edition_name", help="Edition to build (default: the first in the config).")
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("edition"),
    show_default=True, help="Folder to write the edition into.",
)
@click.option("--now", help="The edition's date-time (ISO 8601); fixes the clock for reproducible output.")
@click.option("--since", help="Build an edition of stories published (else first seen) from this ISO date.")
@click.option("--until", help="…and up to this ISO date (default: --now).")
@click.option("--per-theme", type=click.IntRange(min=1), help="Stories per theme (overrides the config).")
@click.option("--offline", is_flag=True, help="Do not fetch feeds; use what the store already holds.")
@click.option("--explain", "show_explain", is_flag=True, help="Print every drop and theme decision with its reason.")
@JSON_OPTION
def build(
    config_path: Path,
    edition_name: str | None,
    out_dir: Path,
    now: str | None,
    since: str | None,
    until: str | None,
    per_theme: int | None,
    offline: bool,
    show_explain: bool,
    as_json: bool,
) -> None:
    """Build a draft of one edition and write it as web page, email, text and JSON.

    A draft is a preview: it consumes no story (the next `digest send` still
    has every one) and is not put in the archive. `digest editions` lists it;
    `digest publish` publishes it as it is (a web-only edition).

    Prints one summary line (--verbose: each file written). Exit status 3
    when a feed failed, 1 when every feed failed.
    """
    memory.use_one_arena()
    from digest import editions
    from digest.outputs import write_outputs
    from digest.pipeline import build_edition
    from digest.store import connect

    config = load_config(config_path)
    moment = parse_instant(now, "--now") or datetime.now(UTC).replace(microsecond=0)
    start, end = parse_instant(since, "--since"), parse_instant(until, "--until")
    if end is not None and start is None:
        raise click.BadParameter("--until needs --since", param_hint="--until")
    if start is not None and end is not None and end < start:
        raise click.BadParameter(f"{until} is before --since {since}: the period is reversed", param_hint="--until")
    config.edition(edition_name)  # an unknown edition is reported before the store is opened
    conn = connect(config.path(config.store))
    result = build_edition(
        config, edition_name, now=moment, conn=conn, since=start, until=end or (moment if start else None),
        per_theme=per_theme, fetch=not offline,
    )
    for warning in result.warnings:
        say(f"warning: {warning}", err=True)
    if show_explain:
        click.echo(explain(result))
    paths = write_outputs(result, out_dir, config)
    if verbosity() is Verbosity.VERBOSE:
        for path in paths:
            click.echo(f"wrote {path}", err=True)
    draft = result.window is not None
    if result.window is not None:
        editions.record_draft(conn, result.edition, result.window, built_at=datetime.now(UTC))
    summary, exit_code = build_summary(result, out_dir, draft=draft), build_exit_code(result)
    if as_json:
        fields = build_json(result, paths, draft=draft)
        click.echo(json_document("build", summary=summary, exit_code=exit_code, warnings=result.warnings, **fields))
    else:
        click.echo(summary)
    finish(exit_code)


@click.command("validate", cls=DigestCommand)
@CONFIG_OPTION
def validate(config_path: Path) -> None:
    """Check the config file; report every mistake with its line and key.

    Besides the keys themselves: the seeds folder, and each edition's sender,
    subject and recipients (inline, or every line of their file), so a send
    never stops on them.
    """
    from digest.delivery.compose import delivery_problems

    config = load_config(config_path)
    problems = []
    seeds = config.sources.seeds
    if seeds is not None and not config.path(seeds).is_dir():
        problems.append(f"{locate(config_path, ('sources', 'seeds'))}: folder {config.path(seeds)} not found")
    for name in config.editions:
        for problem in delivery_problems(config, name):
            where = f"{problem.file}:{problem.line}" if problem.file else locate(config_path, problem.key)
            problems.append(f"{where}: {problem.message}")
    if problems:
        raise ConfigError("\n".join(problems))
    click.echo(
        f"{config_path}: OK — {_count(len(config.themes), 'theme')}, {_count(len(config.editions), 'edition')}, "
        f"{sum(f.enabled for f in config.feeds)} of {_count(len(config.feeds), 'feed')} enabled"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"

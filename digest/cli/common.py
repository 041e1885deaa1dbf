"""What every `digest` command shares: the --config option, the clock option, error reporting,
how loud to be (--quiet, --verbose), exit codes and the JSON every `--json` prints.

The JSON convention (README, "Output for scripts"): one object on stdout with
the keys of ``json_document`` always present, whatever the command, and the
command's own keys beside them. Keys are only ever added, never renamed.
"""

from __future__ import annotations

import enum
import importlib
import json
import shutil
import sqlite3
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.cells import cell_len, set_cell_size

from digest.errors import DigestError, system_error
from digest.models import assume_utc

JSON_SCHEMA = 1
"""Bumped only if a key of the shared JSON convention ever changes meaning."""


class ExitCode(enum.IntEnum):
    """What a `digest` command's exit status means (README, "Exit codes")."""

    DONE = 0
    FAILED = 1
    USAGE = 2
    """A mistake in the command line or the config: nothing was done."""
    WARNINGS = 3
    """Done, but something needs a look: a feed failed, a reader was not reached."""
    BUSY = 75
    """Another digest holds the work (sending this edition, running the scheduler): nothing was done; try later."""


class Verbosity(enum.IntEnum):
    QUIET = 0
    """Only the JSON or the one summary line, and errors."""
    NORMAL = 1
    VERBOSE = 2
    """Also what digest does step by step (its log, at INFO)."""


def verbosity() -> Verbosity:
    """The --quiet/--verbose given to `digest` (NORMAL when a command is invoked on its own)."""
    ctx = click.get_current_context(silent=True)
    chosen = ctx.find_root().obj if ctx is not None else None
    return chosen if isinstance(chosen, Verbosity) else Verbosity.NORMAL


def say(message: str, *, err: bool = False) -> None:
    """A line for people that --quiet silences (the summary line is printed with click.echo)."""
    if verbosity() > Verbosity.QUIET:
        click.echo(message, err=err)


def json_document(
    command: str, *, summary: str, exit_code: int = ExitCode.DONE, warnings: Iterable[str] = (), **fields: Any
) -> str:
    """The one JSON object a command's --json prints: the shared keys, then the command's own."""
    document = {
        "schema": JSON_SCHEMA,
        "command": command,
        "exit_code": int(exit_code),
        "summary": summary,
        "warnings": list(warnings),
        **fields,
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


NARROW = 80
"""Lines for people fit this many columns when output is not a terminal that says its width."""


def terminal_width() -> int:
    """The terminal's width on a terminal; NARROW in a pipe or a file."""
    return shutil.get_terminal_size((NARROW, 24)).columns if sys.stdout.isatty() else NARROW


def fit_line(text: str, width: int) -> str:
    """``text`` within ``width`` terminal cells, its end cut with "…" when it is longer."""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, max(width - 1, 0)) + "…"


def finish(exit_code: int) -> None:
    """Leave with ``exit_code`` (0 returns normally, so CliRunner and callers see a plain return)."""
    if exit_code:
        click.get_current_context().exit(int(exit_code))


JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print one JSON object (see README) instead of text.")

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("schedule.yaml"),
    show_default=True,
    help="The config file.",
)


def parse_instant(value: str | None, option: str) -> datetime | None:
    """An ISO date or date-time; a naive one is read as UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date or date-time", param_hint=option) from None
    return assume_utc(parsed)


class _ReportsDigestErrors:
    """A DigestError becomes one clear line on stderr and its exit code, never a traceback;
    so does a database or disk failure (sqlite3.Error, a full disk)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)  # type: ignore[misc]
        except DigestError as exc:
            self._report(ctx, exc)
        except (sqlite3.Error, OSError) as exc:
            error = system_error(exc)
            if error is None:
                raise
            self._report(ctx, error)

    @staticmethod
    def _report(ctx: click.Context, exc: DigestError) -> None:
        message = str(exc)
        click.echo(f"digest: {message}" if "\n" not in message else f"digest: error\n{message}", err=True)
        ctx.exit(exc.exit_code)


class DigestCommand(_ReportsDigestErrors, click.Command):
    pass


class DigestGroup(_ReportsDigestErrors, click.Group):
    """A group whose ``lazy`` subcommands ("module:attribute") are imported only when used.

    Click's documented lazy-loading pattern: `digest build` does not pay for
    importing the scheduler and the delivery commands.
    """

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """`digest --config F build` is a common slip: say where a command's options go."""
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            name = next((arg for arg in args if arg in self.list_commands(ctx)), None)
            command = self.get_command(ctx, name) if name is not None else None
            if command is None or not _accepts(ctx, command, exc.option_name):
                raise
            where = f"{name} COMMAND" if isinstance(command, click.Group) else name
            raise click.UsageError(
                f"{exc.format_message()} An option of a command goes after the command: "
                f"`{ctx.command_path} {where} {exc.option_name} …`",
                ctx,
            ) from None

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module, attribute = self.lazy[cmd_name].split(":")
            command: click.Command = getattr(importlib.import_module(module), attribute)
            return command
        return super().get_command(ctx, cmd_name)


def _accepts(ctx: click.Context, command: click.Command, option: str) -> bool:
    """Whether ``command`` (or, for a group, one of its commands) takes ``option``."""
    if any(option in param.opts for param in command.params):
        return True
    if isinstance(command, click.Group):
        return any(
            sub is not None and _accepts(ctx, sub, option)
            for sub in (command.get_command(ctx, name) for name in command.list_commands(ctx))
        )
    return False

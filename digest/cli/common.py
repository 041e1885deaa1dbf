"""What every `digest` command shares: the --config option, the clock option, error reporting."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from digest.errors import DigestError

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
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class _ReportsDigestErrors:
    """A DigestError becomes one clear line on stderr and its exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)  # type: ignore[misc]
        except DigestError as exc:
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

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module, attribute = self.lazy[cmd_name].split(":")
            command: click.Command = getattr(importlib.import_module(module), attribute)
            return command
        return super().get_command(ctx, cmd_name)

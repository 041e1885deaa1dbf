"""The `digest` command line: each command parses its options and calls one function."""

from __future__ import annotations

import sys

import click

from digest.cli.common import DigestGroup, Verbosity


@click.group(
    cls=DigestGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    lazy={
        "build": "digest.cli.build:build",
        "validate": "digest.cli.build:validate",
        "feeds": "digest.cli.feeds:feeds",
        "themes": "digest.cli.themes:themes",
        "send": "digest.cli.delivery:send",
        "run": "digest.cli.delivery:run",
        "unsubscribe": "digest.cli.delivery:unsubscribe",
        "serve": "digest.cli.serve:serve",
        "editions": "digest.cli.editions:editions_command",
        "publish": "digest.cli.editions:publish",
        "approve": "digest.cli.review:approve",
        "drop": "digest.cli.review:drop",
        "subscribers": "digest.cli.subscribers:subscribers_group",
        "suppressions": "digest.cli.subscribers:suppressions_group",
        "bounces": "digest.cli.bounces:bounces",
        "store": "digest.cli.store:store",
        "read": "digest.cli.read:read",
    },
)
@click.version_option(package_name="digest")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary line (or the JSON) and errors; no progress bar.")
@click.option("-v", "--verbose", is_flag=True, help="Also print what digest does step by step (its log).")
@click.pass_context
def main(ctx: click.Context, quiet: bool, verbose: bool) -> None:
    """digest turns news pages and feeds into short, faithful, themed editions.

    Build a one-off edition with `digest build`, check the config with
    `digest validate`. See `digest COMMAND --help` for each command.

    Exit status: 0 done, 1 failed, 2 a mistake in the command or the config,
    3 done with warnings (a feed failed or is malformed, a reader was not
    reached), 75 another
    digest is already sending that edition or running the scheduler (try later).
    """
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose contradict each other")
    ctx.obj = Verbosity.QUIET if quiet else Verbosity.VERBOSE if verbose else Verbosity.NORMAL
    if quiet:
        from digest.sources.progress import SHOW

        SHOW.set(False)


if __name__ == "__main__":
    sys.exit(main())

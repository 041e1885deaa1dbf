"""The `digest` command line: each command parses its options and calls one function."""

from __future__ import annotations

import sys

import click

from digest.cli.common import DigestGroup


@click.group(
    cls=DigestGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    lazy={
        "build": "digest.cli.build:build",
        "validate": "digest.cli.build:validate",
        "feeds": "digest.cli.feeds:feeds",
        "send": "digest.cli.delivery:send",
        "run": "digest.cli.delivery:run",
        "unsubscribe": "digest.cli.delivery:unsubscribe",
    },
)
@click.version_option(package_name="digest")
def main() -> None:
    """digest turns news pages and feeds into short, faithful, themed editions.

    Build a one-off edition with `digest build`, check the config with
    `digest validate`. See `digest COMMAND --help` for each command.
    """


if __name__ == "__main__":
    sys.exit(main())

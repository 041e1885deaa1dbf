"""`digest store check`: is the store whole, and is it the store that recorded earlier editions?"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import click

from digest.cli.common import CONFIG_OPTION, DigestCommand, DigestGroup
from digest.config import load_config
from digest.errors import StoreError
from digest.store import connect
from digest.store_identity import read_mirror


@click.group("store", cls=DigestGroup)
def store() -> None:
    """Look after the SQLite store (the ledger of sends, feed entries, editions)."""


@store.command("check", cls=DigestCommand)
@CONFIG_OPTION
def check(config_path: Path) -> None:
    """Check the store: SQLite's integrity check, and its identity against the file beside it.

    Prints one line when all is well; otherwise every problem found, and exits 1.
    """
    config = load_config(config_path)
    path = config.path(config.store)
    if not path.exists() and read_mirror(path) is None:
        raise StoreError(f"{path}: no store yet (it is created by the first build or send)")
    with closing(connect(path)) as conn:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        store_id = conn.execute("SELECT id FROM store_identity").fetchone()[0]
        editions = conn.execute("SELECT COUNT(*) FROM editions").fetchone()[0]
    if problems != ["ok"]:
        raise StoreError(f"{path}: SQLite's integrity check found problems:\n" + "\n".join(problems))
    mirror = read_mirror(path)
    last = mirror.last_edition if mirror else None
    click.echo(f"{path}: ok (store {store_id}, {editions} edition(s) recorded, last {last or 'none yet'})")

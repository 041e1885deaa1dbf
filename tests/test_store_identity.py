"""Stores that cannot lie: a lost, emptied, swapped or older store is refused, not silently recreated;
database and disk failures are one line and an exit code; nothing half-written is taken for done."""

from __future__ import annotations

import errno
import json
import shutil
import sqlite3
from contextlib import closing
from datetime import datetime

import pytest
from click.testing import CliRunner
from smtpserver import SmtpServer, delivery_config

from digest import editions
from digest.cli.main import main
from digest.delivery import ledger
from digest.errors import StoreError, system_error
from digest.store import connect
from digest.store_identity import mirror_path, read_mirror

READERS = [f"reader{i:02d}@example.org" for i in range(8)]
NOW = "2026-11-23T07:00:00+00:00"
NOW_DT = datetime.fromisoformat(NOW)


def digest(config_path, *args: str):
    return CliRunner().invoke(main, [*args, "--config", str(config_path)])


def error_line(result) -> str:
    """The last line on stderr (log lines come before it): the one a user reads."""
    return result.stderr.strip().splitlines()[-1]


def forget_wal(store) -> None:
    for suffix in ("-wal", "-shm"):
        store.with_name(store.name + suffix).unlink(missing_ok=True)


@pytest.fixture
def server():
    with SmtpServer() as running:
        yield running


@pytest.fixture
def sent(tmp_path, server):
    """A store whose edition went to every reader."""
    config = delivery_config(tmp_path, recipients=READERS, port=server.port)
    result = digest(tmp_path / "schedule.yaml", "send", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert server.copies_per_recipient() == {r: 1 for r in READERS}
    return config


def test_a_new_store_is_created_with_its_identity_mirrored_beside_it(tmp_path):
    store = tmp_path / "state" / "digest.sqlite"
    with closing(connect(store)) as conn:
        (store_id,) = conn.execute("SELECT id FROM store_identity").fetchone()
        conn.execute(
            "INSERT INTO editions (id, name, built_at, window_end, stories, state) VALUES (?, ?, ?, ?, 0, 'draft')",
            ("weekly-1", "weekly", NOW, NOW),
        )
        assert read_mirror(store).last_edition is None  # a draft is not published
        editions.set_state(conn, "weekly-1", editions.EditionState.PUBLISHED, at=NOW_DT)
    data = json.loads(mirror_path(store).read_text(encoding="utf-8"))
    assert (data["schema"], data["store_id"], data["last_edition"]) == (1, store_id, "weekly-1")
    with closing(connect(store)) as conn:  # and it opens again
        assert conn.execute("SELECT id FROM store_identity").fetchone()[0] == store_id


def test_a_store_from_before_identities_is_adopted(tmp_path):
    store = tmp_path / "digest.sqlite"
    with closing(sqlite3.connect(store)) as old:
        old.execute("CREATE TABLE schema_versions (part TEXT PRIMARY KEY, version INTEGER NOT NULL)")
        old.commit()
    with closing(connect(store)):
        pass
    assert read_mirror(store) is not None


def test_a_store_truncated_to_nothing_is_refused_and_nobody_is_mailed_again(sent, server):
    store = sent.store
    store.write_bytes(b"")
    forget_wal(store)
    result = digest(sent.base_dir / "schedule.yaml", "send", "--now", NOW)
    assert result.exit_code == 1
    assert error_line(result).startswith(f"digest: {store}: the store is an empty file (truncated?), but it held store ")
    assert "restore it from a backup" in result.stderr and "Traceback" not in result.output
    assert server.copies_per_recipient() == {r: 1 for r in READERS}
    assert store.stat().st_size == 0  # not recreated


def test_a_missing_store_is_refused_when_its_mirror_remains(sent, server):
    sent.store.unlink()
    forget_wal(sent.store)
    result = digest(sent.base_dir / "schedule.yaml", "send", "--now", NOW)
    assert result.exit_code == 1 and "the store is missing, but digest.sqlite.identity.json says" in result.stderr
    assert not sent.store.exists()
    assert server.copies_per_recipient() == {r: 1 for r in READERS}


def test_another_store_in_its_place_is_refused(sent, server, tmp_path):
    other = tmp_path / "other" / "digest.sqlite"
    with closing(connect(other)):
        pass
    shutil.copy(other, sent.store)
    forget_wal(sent.store)
    result = digest(sent.base_dir / "schedule.yaml", "send", "--now", NOW)
    assert result.exit_code == 1
    assert "not store" in result.stderr and "that recorded the earlier editions" in result.stderr
    assert server.copies_per_recipient() == {r: 1 for r in READERS}


def test_an_older_copy_that_lacks_the_last_edition_is_refused(tmp_path, server):
    config = delivery_config(tmp_path, recipients=READERS, port=server.port)
    with closing(connect(config.store)):
        pass
    backup = tmp_path / "backup.sqlite"
    shutil.copy(config.store, backup)
    assert digest(tmp_path / "schedule.yaml", "send", "--now", NOW).exit_code == 0
    shutil.copy(backup, config.store)
    forget_wal(config.store)
    result = digest(tmp_path / "schedule.yaml", "send", "--now", NOW)
    assert result.exit_code == 1
    assert "does not know edition weekly-20261123T0700+0000, the last one it recorded" in result.stderr
    assert server.copies_per_recipient() == {r: 1 for r in READERS}


def test_store_check_says_ok_or_names_the_damage(sent):
    result = digest(sent.base_dir / "schedule.yaml", "store", "check")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{sent.store}: ok (store ") and "1 edition(s) recorded" in result.stdout
    with closing(connect(sent.store)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'deliveries'").fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    with sent.store.open("r+b") as damaged:  # scribble over the deliveries table's first page
        damaged.seek((root - 1) * page_size)
        damaged.write(b"\xff" * page_size)
    result = digest(sent.base_dir / "schedule.yaml", "store", "check")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert error_line(result).startswith("digest: ") and "damaged" in result.stderr
    sending = digest(sent.base_dir / "schedule.yaml", "send", "--now", NOW)
    assert sending.exit_code == 1 and "Traceback" not in sending.output
    assert error_line(sending).startswith("digest: ")


def test_a_full_disk_while_recording_is_one_line_and_the_resumed_send_misses_nobody(tmp_path, server, monkeypatch):
    delivery_config(tmp_path, recipients=READERS, port=server.port)
    real = ledger.record_attempt
    calls = 0

    def disk_fills(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 4:
            raise sqlite3.OperationalError("database or disk is full")
        return real(*args, **kwargs)

    monkeypatch.setattr(ledger, "record_attempt", disk_fills)
    result = digest(tmp_path / "schedule.yaml", "send", "--now", NOW)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert error_line(result).startswith(
        "digest: the disk holding the store is full (database or disk is full); free some space and run"
    )
    monkeypatch.setattr(ledger, "record_attempt", real)  # the disk was grown
    resumed = digest(tmp_path / "schedule.yaml", "send", "--now", NOW)
    assert resumed.exit_code == 3, resumed.output  # done, with a warning: one reader may have it twice
    copies = server.copies_per_recipient()
    assert [r for r in READERS if copies[r] == 0] == []
    assert [r for r in READERS if copies[r] > 1] == [READERS[3]]  # its 250 was never recorded: sent again
    assert "; 1 may have received it twice" in resumed.stdout


def test_system_errors_become_one_line():
    assert isinstance(system_error(sqlite3.DatabaseError("database disk image is malformed")), StoreError)
    full = system_error(OSError(errno.ENOSPC, "No space left on device", "out/weekly.html"))
    assert str(full) == "the disk is full writing out/weekly.html; free some space and run the same command again"
    assert system_error(OSError(errno.EACCES, "Permission denied")) is None
    assert system_error(ValueError("x")) is None

import sqlite3
import threading
from contextlib import closing

import pytest

from digest.errors import DigestError
from digest.store import connect, migrate

PARTS = ("CREATE TABLE a (x INTEGER)", "CREATE TABLE b (y INTEGER); CREATE INDEX b_y ON b (y)")


def test_migrations_apply_once_and_in_order(tmp_path):
    with closing(connect(tmp_path / "s.sqlite")) as conn:
        migrate(conn, "demo", PARTS[:1])
        migrate(conn, "demo", PARTS)
        migrate(conn, "demo", PARTS)
        version = conn.execute("SELECT version FROM schema_versions WHERE part = 'demo'").fetchone()[0]
        assert version == 2
        conn.execute("INSERT INTO b (y) VALUES (1)")


def test_many_connections_opening_a_new_store_at_once_all_succeed(tmp_path):
    """SQLite refuses the switch to WAL at once while another connection holds a lock: no attempt may fail."""
    errors: list[BaseException] = []
    for attempt in range(20):  # the race is lost only now and then
        path = tmp_path / f"s{attempt}.sqlite"
        start = threading.Barrier(8)

        def open_and_migrate(path=path, start=start) -> None:
            try:
                start.wait()
                with closing(connect(path)) as conn:
                    migrate(conn, "demo", PARTS)
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=open_and_migrate) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []


def test_a_store_from_a_newer_digest_is_refused(tmp_path):
    with closing(connect(tmp_path / "s.sqlite")) as conn:
        migrate(conn, "demo", PARTS)
        with pytest.raises(DigestError, match="newer than this digest knows"):
            migrate(conn, "demo", PARTS[:1])


def test_failed_migration_leaves_nothing_half_done(tmp_path):
    with closing(connect(tmp_path / "s.sqlite")) as conn:
        with pytest.raises(sqlite3.OperationalError):
            migrate(conn, "demo", ("CREATE TABLE c (x INTEGER); CREATE TABLE c (x INTEGER)",))
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'c'").fetchone() is None

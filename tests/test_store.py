import sqlite3
import threading
from contextlib import closing
from datetime import UTC, datetime

import pytest

from digest.editions import previous_window_end
from digest.errors import DigestError
from digest.store import EDITION_MIGRATIONS, connect, migrate

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


def test_an_older_store_has_its_edition_times_rewritten_in_utc(tmp_path):
    """Stores written before the one timestamp form kept each caller's offset; migrating rewrites them."""
    path = tmp_path / "s.sqlite"
    with closing(sqlite3.connect(path)) as old:
        old.execute("CREATE TABLE schema_versions (part TEXT PRIMARY KEY, version INTEGER NOT NULL)")
        old.executescript(EDITION_MIGRATIONS[0])
        old.execute("INSERT INTO schema_versions VALUES ('editions', 1)")
        old.execute(
            "INSERT INTO editions VALUES ('weekly-1', 'weekly', '2026-11-23T07:00:00+01:00', NULL, "
            "'2026-11-23T07:00:00+01:00', 3)"
        )
        old.execute(
            "INSERT INTO editions VALUES ('weekly-2', 'weekly', '2026-11-30T07:00:00.250000+00:00', "
            "'2026-11-23T07:00:00+01:00', '2026-11-30T07:00:00.250000+00:00', 4)"
        )
        old.commit()
    with closing(connect(path)) as conn:
        rows = [tuple(row) for row in conn.execute("SELECT built_at, window_start, window_end FROM editions ORDER BY id")]
        assert rows == [
            ("2026-11-23T06:00:00.000000+00:00", None, "2026-11-23T06:00:00.000000+00:00"),
            ("2026-11-30T07:00:00.250000+00:00", "2026-11-23T06:00:00.000000+00:00", "2026-11-30T07:00:00.250000+00:00"),
        ]
        assert previous_window_end(conn, "weekly", datetime(2026, 11, 23, 6, 30, tzinfo=UTC)) == datetime(
            2026, 11, 23, 6, tzinfo=UTC
        )


def test_a_store_holding_a_time_it_cannot_read_is_reported_by_table_and_row(tmp_path):
    path = tmp_path / "s.sqlite"
    with closing(sqlite3.connect(path)) as old:
        old.execute("CREATE TABLE schema_versions (part TEXT PRIMARY KEY, version INTEGER NOT NULL)")
        old.executescript(EDITION_MIGRATIONS[0])
        old.execute("INSERT INTO schema_versions VALUES ('editions', 1)")
        old.execute("INSERT INTO editions VALUES ('weekly-1', 'weekly', 'last Monday', NULL, 'last Monday', 3)")
        old.commit()
    with pytest.raises(DigestError, match=r"editions table \(row 1\) holds a time digest cannot read"):
        connect(path)


def test_migrations_may_be_python_steps(tmp_path):
    def double(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE a SET x = x * 2")

    with closing(connect(tmp_path / "s.sqlite")) as conn:
        migrate(conn, "demo", PARTS[:1])
        conn.execute("INSERT INTO a (x) VALUES (21)")
        migrate(conn, "demo", (*PARTS[:1], double))
        migrate(conn, "demo", (*PARTS[:1], double))
        assert conn.execute("SELECT x FROM a").fetchone()[0] == 42


def test_older_signing_key_times_are_rewritten_in_the_one_form(tmp_path):
    from digest.delivery.signing import KEY_MIGRATIONS

    with closing(connect(tmp_path / "s.sqlite")) as conn:
        migrate(conn, "keys", KEY_MIGRATIONS[:1])
        conn.execute("INSERT INTO signing_keys VALUES ('unsubscribe', x'00', '2026-11-23T08:00:00+01:00')")
        migrate(conn, "keys", KEY_MIGRATIONS)
        assert conn.execute("SELECT created_at FROM signing_keys").fetchone()[0] == "2026-11-23T07:00:00.000000+00:00"


def test_older_page_times_are_rewritten_in_the_one_form(tmp_path):
    from digest.sources import pagestore

    with closing(connect(tmp_path / "s.sqlite")) as conn:
        migrate(conn, "pages", pagestore.PAGE_MIGRATIONS[:1])
        conn.execute("INSERT INTO pages (url, fetched_at) VALUES ('https://a.example/1', '2026-11-23T07:00:00.500000Z')")
        pagestore.ensure_tables(conn)
        assert conn.execute("SELECT fetched_at FROM pages").fetchone()[0] == "2026-11-23T07:00:00.500000+00:00"
        page = pagestore.stored_page(conn, "https://a.example/1")
        assert page is not None and page.fetched_at == datetime(2026, 11, 23, 7, 0, 0, 500000, tzinfo=UTC)

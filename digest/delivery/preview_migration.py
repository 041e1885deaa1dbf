"""The ledger's migration 6: review previews, which had a ledger of their own, become sends of their own kind."""

from __future__ import annotations

import json
import sqlite3

from digest.render.export import edition_from_json


def move_previews_into_sends(conn: sqlite3.Connection) -> None:
    """Migration step: ``sends`` rebuilt to allow the kind 'preview' (SQLite changes a CHECK only by rebuilding the
    table; rowids and index kept), then each edition's rows of the old ``previews`` table become its preview send,
    one delivery row per editor, and that table goes.

    The deliveries wait in a temporary table meanwhile: dropping ``sends`` while rows reference it fails their
    foreign key (even deferred: the violations are counted, and still counted after the rebuilt table takes the name).
    """
    conn.execute("""
        CREATE TABLE sends_widened (
            send_id TEXT PRIMARY KEY,
            edition_id TEXT NOT NULL,
            name TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('scheduled', 'manual', 'dry-run', 'test', 'preview')),
            run_at TEXT NOT NULL,
            transport TEXT NOT NULL,
            stories TEXT NOT NULL,
            created_at TEXT NOT NULL,
            finished_at TEXT,
            outgoing TEXT
        )""")
    sends = "send_id, edition_id, name, kind, run_at, transport, stories, created_at, finished_at, outgoing"
    conn.execute(f"INSERT INTO sends_widened (rowid, {sends}) SELECT rowid, {sends} FROM sends")
    deliveries = ", ".join(row["name"] for row in conn.execute("PRAGMA table_info(deliveries)"))
    conn.execute(f"CREATE TEMP TABLE deliveries_kept AS SELECT rowid AS kept_rowid, {deliveries} FROM deliveries")
    conn.execute("DELETE FROM deliveries")
    conn.execute("DROP TABLE sends")
    conn.execute("ALTER TABLE sends_widened RENAME TO sends")
    conn.execute("CREATE INDEX sends_by_name ON sends (name, kind, run_at)")
    conn.execute(f"INSERT INTO deliveries (rowid, {deliveries}) SELECT kept_rowid, {deliveries} FROM deliveries_kept")
    conn.execute("DROP TABLE temp.deliveries_kept")
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'previews'").fetchone() is None:
        return
    editions = [row["edition_id"] for row in conn.execute("SELECT DISTINCT edition_id FROM previews ORDER BY rowid")]
    for edition_id in editions:
        rows = conn.execute("SELECT * FROM previews WHERE edition_id = ? ORDER BY rowid", (edition_id,)).fetchall()
        edition = conn.execute("SELECT name, content FROM editions WHERE id = ?", (edition_id,)).fetchone()
        stories = [story.id for story in edition_from_json(edition["content"]).stories] if edition else []
        moments = [row["updated_at"] for row in rows]
        still_open = any(row["status"] == "sending" for row in rows)
        conn.execute(
            "INSERT INTO sends (send_id, edition_id, name, kind, run_at, transport, stories, created_at, finished_at) "
            "VALUES (?, ?, ?, 'preview', ?, 'recorded before previews joined the send ledger', ?, ?, ?)",
            (f"{edition_id}~preview", edition_id, edition["name"] if edition else edition_id.rpartition("-")[0] or edition_id,
             min(moments), json.dumps(stories), min(moments), None if still_open else max(moments)),
        )
        conn.executemany(
            "INSERT INTO deliveries (send_id, recipient, position, message_id, status, attempts, uncertain, "
            "last_reply, updated_at, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (f"{edition_id}~preview", row["editor"], position, row["message_id"], row["status"], row["attempts"],
                 row["uncertain"], row["last_reply"], row["updated_at"],
                 row["updated_at"] if row["status"] == "sent" else None)
                for position, row in enumerate(rows)
            ],
        )
    conn.execute("DROP TABLE previews")
    conn.execute("DELETE FROM schema_versions WHERE part = 'previews'")

"""The ledger keeps what a send sends as versioned JSON: nothing in it names a Python class, so
moving or renaming one never strands an interrupted send; pickles of older ledgers are converted once."""

from __future__ import annotations

import dataclasses
import json
import logging
import pickle
import sys
import types
from contextlib import closing
from zoneinfo import ZoneInfo

import pytest
from edition_fixture import CLOCK, sample_edition
from smtpserver import delivery_config

from digest.delivery import ledger
from digest.delivery.compose import Outgoing, compose
from digest.delivery.ledger import LEDGER_MIGRATIONS, SendKind
from digest.delivery.sender import begin_send, deliver_send, outgoing_of
from digest.delivery.snapshot import UnreadableSnapshot, outgoing_from_json, outgoing_to_json
from digest.delivery.transport import make_transport
from digest.errors import DeliveryError
from digest.render.edition import RenderedEdition
from digest.store import connect, migrate

READERS = ["ann@example.org", "bob@example.net"]
CLASS_PATHS = ("digest.delivery", "digest.models", "digest.render", "Outgoing", "RenderedEdition", "SourceRef",
               "EditionStory", "py/object", "__class__")


def berlin_outgoing(config) -> Outgoing:
    """An edition dated in a zone other than UTC, with sources published on a day and at a moment."""
    edition = sample_edition()
    return compose(config, "weekly", dataclasses.replace(edition, date=edition.date.astimezone(ZoneInfo("Europe/Berlin"))),
                   date=CLOCK)


def messages(outgoing: Outgoing) -> dict[str, bytes]:
    template = outgoing.template()
    return {
        address: template.for_recipient(
            address, unsubscribe_url=f"https://digest.example.org/u?a={address}", message_id=outgoing.message_id(address)
        )
        for address in READERS
    }


def test_a_send_is_kept_as_json_naming_no_class_and_gives_back_the_same_messages(tmp_path):
    config = delivery_config(tmp_path, recipients=READERS)
    outgoing = berlin_outgoing(config)
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        record = begin_send(conn, outgoing, kind=SendKind.MANUAL, run_at=outgoing.edition.date, recipients=READERS,
                            transport=make_transport(config), now=CLOCK)
        stored = conn.execute("SELECT outgoing FROM sends").fetchone()[0]
        assert [c for c in CLASS_PATHS if c in stored] == []
        document = json.loads(stored)
        assert document["schema_version"] == 1
        assert set(document["outgoing"]) == {field.name for field in dataclasses.fields(Outgoing)}
        resumed = outgoing_of(ledger.find_send(conn, record.send_id))
    assert resumed == outgoing
    assert messages(resumed) == messages(outgoing)


def test_a_message_saved_in_another_schema_version_is_refused_by_name():
    outgoing = Outgoing(sample_edition(), RenderedEdition("<p>UNSUBSCRIBE</p>", "x", "<p></p>"), "a@b.org",
                           "Subject", "List <l.b.org>", None, CLOCK, "https://b.org")
    document = json.loads(outgoing_to_json(outgoing))
    document["schema_version"] = 2
    with pytest.raises(UnreadableSnapshot, match="schema version 2; this digest reads 1"):
        outgoing_from_json(json.dumps(document))
    with pytest.raises(UnreadableSnapshot, match="not JSON"):
        outgoing_from_json("\x80\x04pickle")


def pickled_at_old_paths(outgoing: Outgoing, monkeypatch) -> bytes:
    """A pickle as digest wrote it before the package was regrouped (digest.deliver, digest.render)."""
    with monkeypatch.context() as patch:
        for cls, module in ((Outgoing, "digest.deliver"), (RenderedEdition, "digest.render")):
            old = types.ModuleType(module)
            setattr(old, cls.__name__, cls)
            patch.setitem(sys.modules, module, old)
            patch.setattr(cls, "__module__", module)
        data = pickle.dumps(outgoing)
    assert b"digest.deliver" in data
    return data


def test_an_older_ledger_has_its_pickles_converted_and_a_broken_one_reported(tmp_path, monkeypatch, caplog):
    config = delivery_config(tmp_path, recipients=READERS)
    outgoing = berlin_outgoing(config)
    with closing(connect(config.store)) as conn:
        migrate(conn, "ledger", LEDGER_MIGRATIONS[:2])  # the ledger as digest left it before this change
        for send_id, snapshot in (
            ("current", pickle.dumps(outgoing)),
            ("moved", pickled_at_old_paths(outgoing, monkeypatch)),
            ("broken", b"\x80\x04not a pickle"),
        ):
            conn.execute(
                "INSERT INTO sends (send_id, edition_id, name, kind, run_at, transport, stories, snapshot, created_at) "
                "VALUES (?, ?, 'weekly', 'manual', ?, 'test', '[]', ?, ?)",
                (send_id, send_id, CLOCK.isoformat(), snapshot, CLOCK.isoformat()),
            )
        with caplog.at_level(logging.WARNING, logger="digest.delivery.snapshot"):
            ledger.ensure_ledger(conn)
        assert [r.getMessage() for r in caplog.records] == [
            "ledger: the saved message of send broken cannot be converted: its pickle cannot be read "
            "(UnpicklingError: invalid load key, 'n'.); it cannot be resumed"
        ]
        assert "snapshot" not in {row["name"] for row in conn.execute("PRAGMA table_info(sends)")}
        for send_id in ("current", "moved"):
            assert outgoing_of(ledger.find_send(conn, send_id)) == outgoing
        with pytest.raises(DeliveryError, match="send broken: its saved message, kept by an older digest, could not"):
            deliver_send(conn, config, ledger.find_send(conn, "broken"), make_transport(config))

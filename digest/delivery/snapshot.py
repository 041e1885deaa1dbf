"""The ledger's copy of what a send sends: an Outgoing as versioned JSON.

A send is recorded with everything its messages are made from (digest.delivery.compose.Outgoing),
so a resumed send produces the same bytes as the one it continues. It is kept as JSON with a
schema version, validated by pydantic on the way back, so moving or renaming a class never
strands an interrupted send. Ledgers of older digests kept a pickle: ``convert_pickled_sends`` is
the migration step that turns those into JSON once.
"""

from __future__ import annotations

import io
import logging
import pickle
import sqlite3
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from digest.delivery.compose import Outgoing
from digest.models import Edition, EditionStory, Section, SourceRef
from digest.render.edition import RenderedEdition

log = logging.getLogger(__name__)

SCHEMA_VERSION: Literal[1] = 1


class SavedOutgoing(BaseModel):
    """The JSON document kept in ``sends.outgoing``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION
    outgoing: Outgoing


_VERSION_ONLY = TypeAdapter(dict[str, Any])


class UnreadableSnapshot(ValueError):
    """A saved message that this digest cannot turn back into an Outgoing (the text says why)."""


def outgoing_to_json(outgoing: Outgoing) -> str:
    return SavedOutgoing(outgoing=outgoing).model_dump_json()


def outgoing_from_json(text: str) -> Outgoing:
    try:
        version = _VERSION_ONLY.validate_json(text).get("schema_version")
    except ValidationError:
        raise UnreadableSnapshot("it is not JSON") from None
    if version != SCHEMA_VERSION:
        raise UnreadableSnapshot(f"it was saved in schema version {version}; this digest reads {SCHEMA_VERSION}")
    try:
        return SavedOutgoing.model_validate_json(text).outgoing
    except ValidationError as exc:
        raise UnreadableSnapshot(f"it does not match schema version {SCHEMA_VERSION}: {exc.errors()[0]['msg']}") from None


_PICKLED_CLASSES = {cls.__name__: cls for cls in (Outgoing, Edition, Section, EditionStory, SourceRef, RenderedEdition)}
"""What an older digest's pickled Outgoing is made of, by class name: its module paths were
digest.deliver and digest.render before the package was regrouped."""


class _DigestUnpickler(pickle.Unpickler):
    """Finds digest's classes by name wherever they lived when the pickle was written."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "digest" or module.startswith("digest."):
            if name not in _PICKLED_CLASSES:
                raise pickle.UnpicklingError(f"{module}.{name} is no part of a saved message")
            return _PICKLED_CLASSES[name]
        return super().find_class(module, name)


def unpickle_outgoing(data: bytes) -> Outgoing:
    """An older ledger's pickled Outgoing (the store is the user's own local state, so it is trusted)."""
    try:
        outgoing = _DigestUnpickler(io.BytesIO(data)).load()
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, KeyError, TypeError,
            ValueError) as exc:
        raise UnreadableSnapshot(f"its pickle cannot be read ({type(exc).__name__}: {exc})") from None
    if not isinstance(outgoing, Outgoing):
        raise UnreadableSnapshot(f"its pickle holds a {type(outgoing).__name__}, not a message")
    return outgoing


def convert_pickled_sends(conn: sqlite3.Connection) -> None:
    """Migration step: each send's pickled snapshot becomes its JSON ``outgoing``, and the pickles go.

    A snapshot that cannot be read is reported (which send, and why) and left without a message:
    that send cannot be resumed (digest.delivery.sender says so when asked), every other one can.
    """
    conn.execute("ALTER TABLE sends ADD COLUMN outgoing TEXT")
    for row in conn.execute("SELECT send_id, snapshot FROM sends").fetchall():
        try:
            text = outgoing_to_json(unpickle_outgoing(row["snapshot"]))
        except UnreadableSnapshot as exc:
            log.warning("ledger: the saved message of send %s cannot be converted: %s; it cannot be resumed",
                        row["send_id"], exc)
            continue
        conn.execute("UPDATE sends SET outgoing = ? WHERE send_id = ?", (text, row["send_id"]))
    conn.execute("ALTER TABLE sends DROP COLUMN snapshot")

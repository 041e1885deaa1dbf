"""Every hand-labelled file in tests/data/themes follows the schema of its README: a wrong label or split leaks dev."""

import hashlib
import json
from pathlib import Path

import pytest

LABELS = Path(__file__).resolve().parent / "data" / "themes"
FILES = [LABELS / "labels.jsonl", *sorted(LABELS.glob("labels-*.jsonl"))]
THEMES = {"arms-exports", "settler-violence", "solidarity", "none"}
FIELDS = {"id", "source", "ref", "title", "text", "label", "confidence", "also", "candidate", "split"}


def records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_label_records_follow_the_schema_and_the_fixed_split_rule(path):
    for record in records(path):
        assert set(record) == FIELDS, record
        assert record["id"] == hashlib.sha1(f"{record['source']}:{record['ref']}".encode()).hexdigest()[:12]
        assert record["label"] in THEMES and record["confidence"] in {"high", "low"}, record
        assert record["also"] is None or (record["also"] in THEMES and record["also"] != record["label"]), record
        assert isinstance(record["candidate"], bool) and record["title"].strip(), record
        dev = int(hashlib.sha1(str(record["id"]).encode()).hexdigest(), 16) % 100 < 35
        assert record["split"] == ("dev" if dev else "train"), record


def test_no_item_is_labelled_twice_across_the_label_files():
    ids = [record["id"] for path in FILES for record in records(path)]
    assert len(FILES) >= 6 and len(ids) == len(set(ids))


def test_the_second_labellers_items_are_dev_items_of_the_label_files():
    dev = {record["id"] for path in FILES for record in records(path) if record["split"] == "dev"}
    second = records(LABELS / "second-labeller-dev.jsonl")
    assert len(second) == 433 and {record["id"] for record in second} <= dev
    assert all(record["label"] in THEMES for record in second)

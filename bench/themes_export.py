"""Write digest/stages/theme_examples.jsonl, the labelled items digest ships, from the train parts.

The labels live in tests/data/themes/: labels.jsonl and every labels-*.jsonl
(the same schema and the same fixed train/dev split; see the README there). The
shipped examples are the train items of all of them, in file order (labels.jsonl
first, then labels-*.jsonl by name), an item whose id or lower-cased title came
earlier left out, with only what the model reads: id, title, the first
TEXT_CHARS characters of the text, label. Dev items never leave the repository's
tests, so dev stays unseen. Run it after new labels land, then bench/themes.py:

    .venv/bin/python bench/themes_export.py
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "tests" / "data" / "themes"
SHIPPED = ROOT / "digest" / "stages" / "theme_examples.jsonl"
TEXT_CHARS = 400
"""Characters of an item's text shipped: more than the lede the model reads of a brief."""


def label_files() -> list[Path]:
    """labels.jsonl, then labels-*.jsonl by name."""
    return [LABELS / "labels.jsonl", *sorted(LABELS.glob("labels-*.jsonl"))]


def labelled(split: str | None = None) -> Iterator[dict[str, str]]:
    """Every labelled record of ``split`` (None: both), each id and lower-cased title once."""
    seen: set[str] = set()
    for path in label_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise SystemExit(f"{path.name} line {number}: not JSON ({error})") from error
            keys = (record["id"], " ".join(record["title"].lower().split()))
            if seen.intersection(keys):
                continue
            seen.update(keys)
            if split is None or record["split"] == split:
                yield record


def main() -> None:
    lines = [
        json.dumps(
            {"id": r["id"], "title": r["title"], "text": r["text"][:TEXT_CHARS], "label": r["label"]},
            ensure_ascii=False,
        )
        for r in labelled("train")
    ]
    SHIPPED.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    print(f"{SHIPPED.relative_to(ROOT)}: {len(lines)} train items from {len(label_files())} label files")


if __name__ == "__main__":
    main()

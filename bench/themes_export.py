"""Write digest/stages/theme_examples.jsonl, the labelled items digest ships, from the train parts.

The labels live in tests/data/themes/: labels.jsonl and every labels-*.jsonl
(the same schema and the same fixed train/dev split; see the README there). The
shipped examples are the train items of all of them but BASE_RATE, in file order (labels.jsonl
first, then labels-*.jsonl by name), an item whose id or lower-cased title came
earlier left out, with only what the model reads: id, title, the first
TEXT_CHARS characters of the text, label, and for a headline drawn from a news
search its context (SEARCH_CONTEXT). Dev items never leave the repository's
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
SEARCH_CONTEXT = {
    "gaza-news.txt": "Gaza",
    "googlenews-bbc-gaza.txt": "Gaza",
    "bds-movement-mentions.txt": "BDS movement",
    "cnn-news-israel-hamas-war.txt": "Israel Hamas war",
    "wsj-news-middleeast.txt": "Middle East",
}
"""What each real_headlines file was drawn from (a news search for 'Gaza', a war's live page, a
section). Its headlines are about that without saying so ("Students barricade University of
Manchester exam building" is a Gaza protest because a Gaza search found it); the model learns
from them with the context as their text, so that it does not learn that any protest headline
is solidarity: in a general feed, one without such a context mostly is not."""


def context_of(record: dict[str, str]) -> str:
    """The search or section a headline-only item was found by, or ''."""
    if record["text"] or not record["source"].startswith("real_headlines/"):
        return ""
    return SEARCH_CONTEXT.get(record["source"].rsplit("/", 1)[-1], "")


BASE_RATE = LABELS / "labels-headlines-round6.jsonl"
"""Every headline the label rounds before it left, labelled at the base rate of a Gaza news search: never
trained on, and evaluated whole (train and dev parts alike). Trained on, it moved the dev figures by nothing
but the bars (bench/themes.py's learning curve flattens on such news), so it serves better as a second,
large, unseen test of the shipped classifier; its split field follows the rule all the same."""


def label_files() -> list[Path]:
    """labels.jsonl, then labels-*.jsonl by name: every label file, BASE_RATE too."""
    return [LABELS / "labels.jsonl", *sorted(LABELS.glob("labels-*.jsonl"))]


def training_files() -> list[Path]:
    """The label files whose train parts digest ships and whose dev parts bench/themes.py reports on."""
    return [path for path in label_files() if path != BASE_RATE]


def labelled(split: str | None = None, files: list[Path] | None = None) -> Iterator[dict[str, str]]:
    """Every labelled record of ``split`` (None: both) in ``files`` (training_files()), each id and
    lower-cased title once."""
    seen: set[str] = set()
    for path in training_files() if files is None else files:
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
            {"id": r["id"], "title": r["title"], "text": r["text"][:TEXT_CHARS], "label": r["label"]}
            | ({"context": context} if (context := context_of(r)) else {}),
            ensure_ascii=False,
        )
        for r in labelled("train")
    ]
    SHIPPED.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    print(f"{SHIPPED.relative_to(ROOT)}: {len(lines)} train items from {len(training_files())} label files")


if __name__ == "__main__":
    main()

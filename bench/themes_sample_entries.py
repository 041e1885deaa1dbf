"""Draw a second, broader set of real feed items to label for the themes (deterministic).

labels.jsonl (bench/themes_sample.py) holds every item of real_entries and real_feeds that its
keyword prefilter found, and a few hundred others. This script draws NEW items from the same
corpus — real_entries (rumca_2023_entries.jsonl; rumca_2023/ and rumca_2023_rewrapped_rss/ are
read too but hold the same 4,889 entries, so every one of their items is a duplicate and
skipped), every entry of every real_feeds file, and the title and lede of each article_pages
page — skipping any item whose id or lower-cased, whitespace-collapsed title is already in
labels.jsonl or earlier in this draw:

- every item that the wider prefilter (bench/themes_sample.py's CANDIDATE and ARMS_OR_SETTLERS,
  plus WIDER: arms-trade names and systems, Taiwan and Saudi deals, defence contractors, olive
  harvests and land grabs, campus, students, dockworkers, arrests and bans, artists and athletes,
  and a few French, German, Portuguese, Spanish, Ukrainian, Slovak and Arabic words) flags;
- every remaining entry of the two Times of Palestine feeds (on-topic sources, few entries);
- a random sample (random.Random(1313)) of the items it does not flag: 360 real_entries,
  120 real_feeds entries, 60 article pages — broad "none" news;
- then every remaining real_entries and real_feeds item that names the wars, their places and
  actors, or the military (TOPICAL: Israel, Gaza, Hamas, ceasefire, genocide, Ukraine, NATO,
  defence, …): war news is where off-topic items leak into a theme and where positives without
  a prefilter word hide. They are not prefilter candidates (`candidate` false).
- finally every item still left, in corpus order (`candidate` false), so that with labels.jsonl
  every distinct title of real_entries, real_feeds and article_pages is labelled: an exhaustive
  set, from which the share of each theme on a plain day of real feeds can be read.
- candidates come first in corpus order, then the random ones, the topical ones and the rest.

    .venv/bin/python bench/themes_sample_entries.py pool > /tmp/labe/pool.jsonl
    .venv/bin/python bench/themes_sample_entries.py merge LABELS.tsv... \\
        > tests/data/themes/labels-entries.jsonl

`merge` reads hand-written label lines (`id<TAB>label<TAB>confidence<TAB>also`, `-` for no second
theme) and writes the labelled items in draw order with labels.jsonl's schema and split rule.
tests/data/themes/README.md describes how the items were labelled.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from lxml import html as lxml_html
from themes_sample import ARMS_OR_SETTLERS, CANDIDATE, CORPUS, SPACES, TEXT_CHARS, entries, feeds, item_id, plain

LABELS = Path(__file__).resolve().parents[1] / "tests" / "data" / "themes" / "labels.jsonl"
WIDER = re.compile(
    r"arms (?:sale|deal|trade|industry|maker|dealer|export|transfer)|weapons? (?:shipment|sale|deal|package)"
    r"|\bshells?\b|artillery|patriot|himars|atacms|abrams|leopard|iron dome|javelin|interceptor|warship"
    r"|submarine|fighter|\bjets?\b|helicopter|spyware|pegasus|\bnso\b|surveillance tech|taiwan|saudi"
    r"|licen[cs]e|military (?:assistance|package|support|equipment)|security assistance|aid package"
    r"|defen[cs]e (?:deal|contract|industry|firm|compan|budget|spending|pact)|contractor|elbit|lockheed"
    r"|raytheon|\brtx\b|\bbae\b|boeing|rheinmetall|northrop|general dynamics|rafael|israel aerospace"
    r"|olive|land grab|annex|jordan valley|demolish|demolition|evict|bedouin|masafer|sheikh jarrah"
    r"|\bcampus|student|universit|college|dock ?workers|port workers|\bunions?\b|walk-?out|picket"
    r"|hunger strike|petition|open letter|\barrest|\bbann?(?:ed|s)?\b|crackdown|artists?\b|athlete|eurovision"
    r"|jewish voice|ifnotnow|palestine action|keffiyeh|ceasefire now|genocide|apartheid|gathered|crowds?\b"
    r"|\bflags?\b|mural|walk out|chant|free palestine|palestinian flag|students for justice|uprising"
    r"|\barmes?\b|colons?\b|manifest|waffen|siedler|boykott|solidarit|armas|protesto|zbran|зброї|зброю|протест"
    r"|مستوطن|سلاح|أسلحة|ذخائر|تضامن|مظاهر|تظاهر|وقفة|مقاطعة|احتجاج|مسيرة|اعتصام|حظر|طائرات",
    re.IGNORECASE,
)
"""Words the first draw's prefilter lacked; a hit only makes an item a candidate, reading labels it."""
TOPICAL = re.compile(
    r"israel|gaza|palestin|hamas|west bank|jerusalem|netanyahu|hezbollah|zionis|antisemit|islamophob|jewish"
    r"|muslim|cease-?fire|genocide|occupied|\bidf\b|rafah|houthi|red sea|yemen|ukrain|military|defen[cs]e"
    r"|pentagon|\bnato\b",
    re.IGNORECASE,
)
"""War and military news without a prefilter word: drawn whole after the random sample."""
OTHERS = {"real_entries": 360, "real_feeds": 120, "article_pages": 60}
WHOLE = "real_feeds/timesofpalestine_"
"""Feeds drawn whole: the on-topic aggregator's English and Arabic entries."""
THEMES = ("arms-exports", "settler-violence", "solidarity", "none")


def title_key(title: str) -> str:
    return SPACES.sub(" ", title.lower()).strip()


def rumca_days() -> Iterator[dict[str, str]]:
    """The per-day JSON files real_entries.jsonl was built from (duplicates, read to prove it)."""
    for path in sorted((CORPUS / "real_entries" / "rumca_2023").glob("*/*.json")):
        for number, entry in enumerate(json.loads(path.read_text(encoding="utf-8")), 1):
            yield {
                "source": f"real_entries/rumca_2023/{path.parent.name}/{path.name}",
                "ref": f"entry {number}",
                "title": plain(entry.get("title") or ""),
                "text": plain(entry.get("description") or "")[:TEXT_CHARS],
            }


def article_pages() -> Iterator[dict[str, str]]:
    """A page's headline (og:title, else <title>) and lede (og:description, else description)."""
    rows = (CORPUS / "article_pages" / "URLS.tsv").read_text(encoding="utf-8").splitlines()[1:]
    for row in rows:
        name = row.split("\t")[0]
        page = lxml_html.fromstring(decoded(gzip.decompress((CORPUS / "article_pages" / name).read_bytes())))
        title = first(page, "//meta[@property='og:title']/@content", "//title/text()")
        lede = first(page, "//meta[@property='og:description']/@content", "//meta[@name='description']/@content")
        if title:
            yield {
                "source": f"article_pages/{name}",
                "ref": "page",
                "title": plain(title),
                "text": plain(lede)[:TEXT_CHARS],
            }


def decoded(raw: bytes) -> str | bytes:
    """UTF-8 when the bytes are UTF-8 (lxml would read undeclared UTF-8 as Latin-1), else lxml's guess."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def first(page: lxml_html.HtmlElement, *paths: str) -> str:
    for path in paths:
        found = [value for value in page.xpath(path) if str(value).strip()]
        if found:
            return str(found[0])
    return ""


def is_candidate(item: dict[str, str]) -> bool:
    text = item["title"] + " " + item["text"]
    return bool(CANDIDATE.search(text) or ARMS_OR_SETTLERS.search(text) or WIDER.search(text))


def pool() -> list[dict[str, object]]:
    known = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()]
    seen_ids = {record["id"] for record in known}
    seen_titles = {title_key(record["title"]) for record in known}
    rng = random.Random(1313)
    groups = {
        "real_entries": list(entries()) + list(rumca_days()),
        "real_feeds": list(feeds()),
        "article_pages": list(article_pages()),
    }
    drawn: list[dict[str, object]] = []
    others: dict[str, list[dict[str, str]]] = {}

    def take(item: dict[str, str], candidate: bool) -> None:
        identity, key = item_id(item["source"], item["ref"]), title_key(item["title"])
        if not key or identity in seen_ids or key in seen_titles:
            return
        seen_ids.add(identity)
        seen_titles.add(key)
        drawn.append({"id": identity, **item, "candidate": candidate})

    for name, items in groups.items():
        firsts = {title_key(item["title"]): item for item in reversed(items)}
        fresh = [item for item in items if firsts[title_key(item["title"])] is item]
        fresh = [item for item in fresh if title_key(item["title"]) not in seen_titles]
        for item in fresh:
            if is_candidate(item) or item["source"].startswith(WHOLE):
                take(item, is_candidate(item))
        others[name] = [item for item in fresh if not is_candidate(item) and not item["source"].startswith(WHOLE)]
    for name, items in others.items():
        for item in rng.sample(items, min(len(items), OTHERS[name])):
            take(item, False)
    for name in ("real_entries", "real_feeds"):
        for item in others[name]:
            if TOPICAL.search(item["title"] + " " + item["text"]):
                take(item, False)
    for items in others.values():
        for item in items:
            take(item, False)
    return drawn


def split(identity: str) -> str:
    return "dev" if int(hashlib.sha1(identity.encode()).hexdigest(), 16) % 100 < 35 else "train"


def merge(label_files: list[str]) -> None:
    labels: dict[str, tuple[str, str, str | None]] = {}
    for name in label_files:
        for number, line in enumerate(Path(name).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            identity, label, confidence, also = (line.split("\t") + ["-"])[:4]
            if label not in THEMES or confidence not in ("high", "low") or also not in (*THEMES, "-"):
                raise SystemExit(f"{name} line {number}: bad label line {line!r}")
            labels[identity] = (label, confidence, None if also in ("-", "none", label) else also)
    items = pool()
    unknown = set(labels) - {str(item["id"]) for item in items}
    if unknown:
        raise SystemExit(f"labels for ids not in the draw: {sorted(unknown)[:5]}")
    for item in items:
        if (identity := str(item["id"])) in labels:
            label, confidence, also = labels[identity]
            record = {
                "id": identity,
                "source": item["source"],
                "ref": item["ref"],
                "title": item["title"],
                "text": item["text"],
                "label": label,
                "confidence": confidence,
                "also": also,
                "candidate": item["candidate"],
                "split": split(identity),
            }
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


def main() -> None:
    if sys.argv[1:2] == ["pool"]:
        for item in pool():
            sys.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
    elif sys.argv[1:2] == ["merge"]:
        merge(sys.argv[2:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()

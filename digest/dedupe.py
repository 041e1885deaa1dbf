"""One story, once: exact duplicates, the same report from several outlets, repeated paragraphs.

Three passes; the first occurrence wins and input order is kept:

1. Exact duplicates: texts compared with case, spacing, punctuation and quote
   marks ignored. The later copy is dropped; its outlet joins the kept story's
   sources.
2. Near-duplicates: one wire report run by two outlets, lightly edited (own
   headline, trimmed ending, "said on Tuesday" for "said Tuesday"). A story is
   the set of its word 5-gram shingles. Candidate pairs come from LSH over
   one-permutation MinHash signatures (64 slots, 32 bands of 2), so no pair of
   long texts is compared unless they share a bucket; each candidate is then
   checked exactly. Two stories are the same story when the shingles they
   share are at least NEAR_DUPLICATE (0.5) of the shorter one's and at least
   MIN_SHARE_OF_LONGER (0.1) of the longer one's. Containment rather than
   Jaccard, because an outlet that ran only the first paragraphs of a report
   ran the same report; the second bound keeps a long roundup that quotes a
   brief in full from being taken for the brief. The kept story lists the
   outlets of both (dataclasses.replace); the other is dropped.
   The thresholds sit in a wide gap: in tests/test_dedupe.py an edited copy of
   a wire report shares 0.79 of its shingles and a report cut to its first
   three paragraphs 1.0, while an independently written report of the same
   event shares none (writers rarely repeat five words in a row beyond stock
   phrases).
3. Repeated paragraphs: a paragraph (compared as in 1) already in an earlier
   story is removed from the later one; a story left with no paragraph is
   dropped.

Measured with bench/dedupe.py (2 cores, shared with other work): 10,000
stories of median 520 words in about 4.5 s (tokenised and shingled in worker
processes on 2 cores; 7.7 s for the earlier, single-process code); every
planted exact copy (464), edited copy (451) and first-third cut (133) merged,
no original dropped. On the 4,780 real feed entries of ../shared/corpus: 58
exact and 20 near-duplicates; the near ones are the same report re-run or
updated, or entries whose whole text is a shared template rather than a
story (photo captions of one event, Hacker News "Article URL / Comments URL"
stubs), which the cleaner should treat as furniture. LSH misses some pairs
sharing under ~25% of their shingles (a short brief of a long report).

MinHash is hand-written with numpy: the shingle hashes are sorted once and
each slot's minimum is one binary search, where datasketch would apply 64
hash functions to every shingle.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from digest import parallel
from digest.models import Drop, SourceRef, Story

SHINGLE = 5
"""Words per shingle: long enough that unrelated texts rarely share one."""
NEAR_DUPLICATE = 0.5
"""Share of the shorter story's shingles found in the other that makes them one story."""
MIN_SHARE_OF_LONGER = 0.1
"""...and at least this share of the longer one's: a long roundup quoting a brief in full
is not the brief (pass 3 removes the repeated paragraph instead)."""
MIN_SHINGLES = 20
"""Stories shorter than this (about 25 words) are too short to call near-duplicates."""
HASHES, BAND = 64, 2
"""MinHash signature length and rows per LSH band (32 bands)."""
BUCKET_LIMIT = 50
"""An LSH bucket remembers its first 50 stories: a stock phrase shared by thousands
must not make every pair of them a candidate (a true repeat still meets the first copies)."""
TOKEN = re.compile(r"\w+")
STAGE = "dedupe"
PARALLEL_MIN_STORIES = 1000
"""From this many stories on, their words are tokenised and shingled in worker processes."""

_BIN_SHIFT = np.uint64(64 - 6)
"""HASHES = 64 bins, told apart by the top 6 bits of a shingle hash."""
_BIN_STARTS = np.arange(HASHES, dtype=np.uint64) << _BIN_SHIFT
_ROLL = np.uint64(1_000_003)
_EMPTY_BIN_STEP = np.uint64(0x9E3779B97F4A7C15)


def normalize(text: str) -> str:
    """Text as compared for sameness: lower case, words only, single spaces."""
    return " ".join(TOKEN.findall(text.casefold()))


def _label(story: Story) -> str:
    return f"“{story.title}”" if story.title else story.id


def _drop(story: Story, reason: str, text: str | None = None) -> Drop:
    shown = text if text is not None else story.title or (story.paragraphs[0] if story.paragraphs else "")
    return Drop(stage=STAGE, reason=reason, text=shown, document=story.document, line=story.line)


def _with_sources(kept: Story, other: Story) -> Story:
    """The kept story, also crediting the other's outlets it did not name yet."""
    names = {s.name.casefold() for s in kept.sources}
    extra: list[SourceRef] = []
    for source in other.sources:
        if source.name.casefold() not in names:
            names.add(source.name.casefold())
            extra.append(source)
    return replace(kept, sources=kept.sources + tuple(extra)) if extra else kept


@dataclass
class _Text:
    """A story's words, tokenised once for all three passes.

    The normalised texts (of the story and of each paragraph) are kept as
    128-bit BLAKE2b digests, not as text: a large build holds tens of
    thousands of stories. Texts with equal digests are compared again as
    text before anything is dropped, so even a collision could not merge two
    different texts.
    """

    key: bytes | None
    """None: the story has no word to compare (nor a title)."""
    paragraph_keys: list[bytes]
    shingles: np.ndarray
    """The distinct hashes of the paragraphs' word 5-grams, sorted."""

    @classmethod
    def of(cls, story: Story, shingler: _Shingler) -> _Text:
        paragraph_keys = [_paragraph_key(p) for p in story.paragraphs]
        key = _story_key(paragraph_keys, story)
        return cls(
            _digest(key) if key else None,
            [_digest(k) for k in paragraph_keys],
            shingler.shingles([t for k in paragraph_keys for t in k.split()]),
        )


def _paragraph_key(paragraph: str) -> str:
    return " ".join(TOKEN.findall(paragraph.casefold()))


def _story_key(paragraph_keys: Sequence[str], story: Story) -> str:
    return " ".join(k for k in paragraph_keys if k) or normalize(story.title or "")


def _digest(key: str) -> bytes:
    return hashlib.blake2b(key.encode("utf-8"), digest_size=16).digest()


def _same_text(story: Story, other: Story) -> bool:
    """Whether two stories are the same text as compared for sameness (after their digests matched)."""
    return _story_key(list(map(_paragraph_key, story.paragraphs)), story) == _story_key(
        list(map(_paragraph_key, other.paragraphs)), other
    )


def _texts(stories: Sequence[Story]) -> list[_Text]:
    shingler = _Shingler()
    return [_Text.of(story, shingler) for story in stories]


@dataclass
class _Shingler:
    """Stable 64-bit hashes of word 5-grams (Python's hash() changes between runs)."""

    token_hashes: dict[str, int] = field(default_factory=dict)

    def shingles(self, tokens: list[str]) -> np.ndarray:
        """The story's distinct shingle hashes, sorted."""
        for token in set(tokens).difference(self.token_hashes):
            digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
            self.token_hashes[token] = int.from_bytes(digest, "little")
        hashes = np.fromiter(map(self.token_hashes.__getitem__, tokens), dtype=np.uint64, count=len(tokens))
        if len(hashes) >= SHINGLE:
            rolled = np.zeros(len(hashes) - SHINGLE + 1, dtype=np.uint64)
            for offset in range(SHINGLE):
                rolled = rolled * _ROLL + hashes[offset : offset + len(rolled)]
            hashes = rolled
        ordered = np.sort(hashes)
        return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if len(ordered) else ordered


def _signature(shingles: np.ndarray) -> np.ndarray:
    """One-permutation MinHash (Li, Owen & Zhang 2012) with rotation densification.

    The least hash in each of HASHES equal slices of the hash range; an empty
    slice borrows the value of the next non-empty one, shifted by the distance,
    so two stories agree on a slot about as often as their shingle sets overlap
    (Jaccard). ``shingles`` is sorted, so each minimum is one binary search.
    """
    found = np.searchsorted(shingles, _BIN_STARTS)
    found_value = shingles[np.minimum(found, len(shingles) - 1)]
    filled = (found < len(shingles)) & ((found_value >> _BIN_SHIFT) == np.arange(HASHES, dtype=np.uint64))
    slots = np.flatnonzero(filled)
    following = slots[np.searchsorted(slots, np.arange(HASHES)) % len(slots)]
    distance = ((following - np.arange(HASHES)) % HASHES).astype(np.uint64)
    return found_value[following] + distance * _EMPTY_BIN_STEP


def _overlaps(others: Sequence[np.ndarray], shingle_set: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``others``: the shares of the shorter and of the longer set that it and ``shingle_set`` hold.

    One pass for all candidates of a story: each set is distinct, so the
    number of an other's shingles found in ``shingle_set`` is the size of
    their intersection.
    """
    sizes = np.array([len(other) for other in others])
    together = np.concatenate(others)
    at = np.searchsorted(shingle_set, together)
    found = shingle_set[np.minimum(at, len(shingle_set) - 1)] == together
    shared = np.add.reduceat(found, np.concatenate(([0], np.cumsum(sizes)[:-1]))) if len(found) else sizes * 0
    return shared / np.minimum(sizes, len(shingle_set)), shared / np.maximum(sizes, len(shingle_set))


def _overlap(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Shares of the shorter and of the longer shingle set that both sets hold."""
    of_shorter, of_longer = _overlaps([a], b)
    return float(of_shorter[0]), float(of_longer[0])


def _drop_exact(stories: list[Story], texts: list[_Text], drops: list[Drop]) -> list[int]:
    """Positions of the stories that are no exact copy of an earlier one; copies credit their outlets to it."""
    first_with: dict[bytes, list[int]] = {}
    kept: list[int] = []
    for position, (story, text) in enumerate(zip(stories, texts, strict=True)):
        first = position
        if text.key is not None:
            same_digest = first_with.setdefault(text.key, [])
            first = next((p for p in same_digest if _same_text(stories[p], story)), position)
            if first == position:
                same_digest.append(position)
        if first == position:
            kept.append(position)
        else:
            drops.append(_drop(story, f"duplicate of {_label(stories[first])}"))
            stories[first] = _with_sources(stories[first], story)
    return kept


def _near_duplicates(texts: Sequence[_Text]) -> dict[int, int]:
    """Later story -> the earliest story it repeats (positions in ``texts``)."""
    shingles = [text.shingles for text in texts]
    sizes = np.array([len(s) for s in shingles], dtype=np.float64)
    signatures = np.zeros((len(shingles), HASHES), dtype=np.uint64)
    for position, shingle_set in enumerate(shingles):
        if len(shingle_set) >= MIN_SHINGLES:
            signatures[position] = _signature(shingle_set)
    # each story's LSH bucket keys, made in one go: the band's number, then its signature slots, as bytes
    bands = HASHES // BAND
    band_numbers = np.broadcast_to(np.arange(bands, dtype=np.uint8)[None, :, None], (len(shingles), bands, 1))
    slots = np.ascontiguousarray(signatures).view(np.uint8).reshape(len(shingles), bands, 8 * BAND)
    bucket_keys = np.ascontiguousarray(np.concatenate((band_numbers, slots), axis=2)).view(f"V{1 + 8 * BAND}")
    bucket_keys = bucket_keys.reshape(len(shingles), bands).tolist()
    buckets: dict[bytes, list[int]] = {}
    root_of: dict[int, int] = {}
    for later, shingle_set in enumerate(shingles):
        if len(shingle_set) < MIN_SHINGLES:
            continue
        earlier: set[int] = set()
        for key in bucket_keys[later]:
            members = buckets.setdefault(key, [])
            earlier.update(members)
            if len(members) < BUCKET_LIMIT:
                members.append(later)
        if not earlier:
            continue
        candidates = np.array(sorted(earlier))
        agreement = (signatures[candidates] == signatures[later]).mean(axis=1)
        estimate = agreement * (sizes[candidates] + sizes[later]) / (
            (1 + agreement) * np.minimum(sizes[candidates], sizes[later])
        )
        checked = candidates[estimate >= NEAR_DUPLICATE / 2].tolist()
        if not checked:
            continue
        of_shorter, of_longer = _overlaps([shingles[c] for c in checked], shingle_set)
        same = np.flatnonzero((of_shorter >= NEAR_DUPLICATE) & (of_longer >= MIN_SHARE_OF_LONGER))
        if len(same):
            first = checked[same[0]]
            root_of[later] = root_of.get(first, first)
    return root_of


def _merge_near(stories: list[Story], texts: list[_Text], drops: list[Drop]) -> list[int]:
    """Positions (in ``stories``) of the stories kept; merged ones credit their outlets to the first."""
    root_of = _near_duplicates(texts)
    for later, root in root_of.items():
        drops.append(_drop(stories[later], f"same story as {_label(stories[root])}"))
        stories[root] = _with_sources(stories[root], stories[later])
    return [position for position in range(len(stories)) if position not in root_of]


def _drop_repeated_paragraphs(stories: list[Story], texts: list[_Text], drops: list[Drop]) -> list[Story]:
    printed_in: dict[bytes, list[tuple[int, str]]] = {}
    kept: list[Story] = []
    for position, (story, text) in enumerate(zip(stories, texts, strict=True)):
        paragraphs = []
        for paragraph, key in zip(story.paragraphs, text.paragraph_keys, strict=True):
            same_digest = printed_in.setdefault(key, [])
            normalised = _paragraph_key(paragraph) if same_digest else ""
            earlier = next((p for p, other in same_digest if _paragraph_key(other) == normalised), None)
            if earlier is None:
                same_digest.append((position, paragraph))
                earlier = position
            if earlier != position:
                drops.append(_drop(story, f"paragraph repeated from {_label(stories[earlier])}", paragraph))
            else:
                paragraphs.append(paragraph)
        if story.paragraphs and not paragraphs:
            drops.append(_drop(story, "every paragraph already appears in an earlier story"))
        elif len(paragraphs) < len(story.paragraphs):
            kept.append(replace(story, paragraphs=tuple(paragraphs)))
        else:
            kept.append(story)
    return kept


def dedupe_stories(stories: Sequence[Story]) -> tuple[list[Story], list[Drop]]:
    """The stories without duplicates, near-duplicates or repeated paragraphs, and what went."""
    drops: list[Drop] = []
    current = list(stories)
    if workers := parallel.workers_for(len(current), PARALLEL_MIN_STORIES):
        texts = parallel.map_chunks(_texts, current, workers)
    else:
        texts = _texts(current)
    for stage in (_drop_exact, _merge_near):
        kept = stage(current, texts, drops)
        current, texts = [current[p] for p in kept], [texts[p] for p in kept]
    return _drop_repeated_paragraphs(current, texts, drops), drops

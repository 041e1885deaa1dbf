"""One story, once: exact duplicates, the same report or event from several outlets, repeated paragraphs.

Four passes; the first occurrence wins and input order is kept:

1. Exact duplicates: texts compared with case, spacing, punctuation and quote
   marks ignored. The later copy is dropped; its outlet joins the kept story's
   sources.
2. Near-duplicates: one wire report run by two outlets, lightly edited (own
   headline, trimmed ending, "said on Tuesday" for "said Tuesday"). A story is
   the set of its word 5-gram shingles, links left out. Candidate pairs come from LSH over
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
   three paragraphs 1.0. An independently written report of the same event
   shares almost none (writers rarely repeat five words in a row beyond stock
   phrases), which is what 2b is for.
2b. The same event written up by another outlet, told by the headlines and
   first sentences (digest.stages.same_event and event_lead, which err towards
   two stories where figures, names, steps or kinds of piece disagree): the
   kept story lists the other's outlet too; its text stays its own.
3. Repeated paragraphs: a paragraph (compared as in 1) already in an earlier
   story is removed from the later one; a story left with no paragraph is
   dropped.

LSH misses some pairs sharing under ~25% of their shingles (a short brief of a
long report); 2b catches those whose headlines agree. Speed and what it finds on
the corpus: bench/dedupe.py, figures in the README.

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

from digest.models import Drop, DropReason, SourceRef, Story
from digest.speed import parallel
from digest.stages.same_event import SameEvents
from digest.stages.text import normalize

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
LINK = re.compile(r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)\S+", re.IGNORECASE)
"""Links are not prose and make no shingles: entries whose text is one template around their own
links (a link aggregator's "Article URL: … Comments URL: …") share most of their link words."""

_BIN_SHIFT = np.uint64(64 - 6)
"""HASHES = 64 bins, told apart by the top 6 bits of a shingle hash."""
_BIN_STARTS = np.arange(HASHES, dtype=np.uint64) << _BIN_SHIFT
_ROLL = np.uint64(1_000_003)
_EMPTY_BIN_STEP = np.uint64(0x9E3779B97F4A7C15)


def _label(story: Story) -> str:
    return f"“{story.title}”" if story.title else story.id


def _drop(story: Story, reason: DropReason, *, because_of: Story | None = None, text: str | None = None) -> Drop:
    shown = text if text is not None else story.title or (story.paragraphs[0] if story.paragraphs else "")
    detail = _label(because_of) if because_of is not None else ""
    return Drop(reason, shown, story.document, story.line, detail)


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
class StoryText:
    """A story's words, tokenised once for all three passes (in a worker process, in a large build).

    The normalised texts (of the story and of each paragraph) are kept as
    64-bit BLAKE2b digests, not as text: a large build holds tens of
    thousands of stories. Texts with equal digests are compared again as
    text before anything is dropped, so even a collision could not merge two
    different texts.
    """

    key: int | None
    """None: the story has no word to compare (nor a title)."""
    paragraph_keys: list[int]
    shingles: np.ndarray
    """The distinct hashes of the paragraphs' word 5-grams, sorted."""
    signature: np.ndarray | None
    """Its MinHash signature; None for a story too short to call a near-duplicate."""

    @classmethod
    def of(cls, story: Story, shingler: _Shingler) -> StoryText:
        paragraph_keys = [normalize(p) for p in story.paragraphs]
        key = _story_key(paragraph_keys, story)
        prose = [normalize(LINK.sub(" ", p)) if "://" in p or "www." in p else k
                 for p, k in zip(story.paragraphs, paragraph_keys, strict=True)]
        shingles = shingler.shingles([t for k in prose for t in k.split()])
        return cls(
            _digest(key) if key else None,
            [_digest(k) for k in paragraph_keys],
            shingles,
            _signature(shingles) if len(shingles) >= MIN_SHINGLES else None,
        )


def _story_key(paragraph_keys: Sequence[str], story: Story) -> str:
    return " ".join(k for k in paragraph_keys if k) or normalize(story.title or "")


def _digest(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def _same_text(story: Story, other: Story) -> bool:
    """Whether two stories are the same text as compared for sameness (after their digests matched)."""
    return _story_key(list(map(normalize, story.paragraphs)), story) == _story_key(
        list(map(normalize, other.paragraphs)), other
    )


def story_texts(stories: Sequence[Story]) -> list[StoryText]:
    """Each story's StoryText (one shingler: words shared between the stories are hashed once)."""
    shingler = _Shingler()
    return [StoryText.of(story, shingler) for story in stories]


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
    signature: np.ndarray = found_value[following] + distance * _EMPTY_BIN_STEP
    return signature


_BAND_MIX = np.uint64(0x9E3779B97F4A7C15)
_BAND_SALTS = np.arange(HASHES // BAND, dtype=np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)


def _bucket_keys(signature: np.ndarray) -> list[int]:
    """One 64-bit key per LSH band: its slots and its number, mixed (a collision only adds a candidate,
    which is then checked like any other)."""
    bands = signature.reshape(-1, BAND)
    keys = _BAND_SALTS.copy()
    for slot in range(BAND):
        keys = keys * _BAND_MIX + bands[:, slot]
    band_keys: list[int] = keys.tolist()
    return band_keys


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


@dataclass(frozen=True)
class Kept:
    """A story dedupe keeps: its position among those added, and whether it lost repeated paragraphs."""

    position: int
    story: Story
    trimmed: bool


class Deduper:
    """The three passes over stories added one at a time, in input order.

    Each pass keeps the first occurrence and compares a story only with
    earlier ones, so a story is decided the moment it is added: a large build
    adds the stories of early documents while worker processes still prepare
    later ones. The passes' merges of outlets into a kept story are applied
    at the end, exact copies before near ones, and the drops listed pass by
    pass, so the result is the one the passes give run one after another.
    """

    def __init__(self, events: SameEvents | None = None) -> None:
        self._stories: list[Story] = []
        self._first_with_key: dict[int, list[int]] = {}
        self._exact_copies: list[tuple[int, int]] = []
        """(first, copy): positions of an exact copy and the story it repeats."""
        self._buckets: dict[int, int | list[int]] = {}
        """LSH bucket -> its story, or its first BUCKET_LIMIT stories: most buckets hold one,
        and a bare position costs nothing beside the story's own (a list, 64 bytes a bucket)."""
        self._signatures: list[np.ndarray | None] = []
        self._shingles: list[np.ndarray] = []
        self._root_of: dict[int, int] = {}
        """Later story -> the earliest story it repeats, for near-duplicates and reports of one event."""
        self._events = events if events is not None else SameEvents()
        """Which earlier story a story's event matches (bench/dedupe.py passes one matching by headlines alone)."""
        self._printed_in: dict[int, int] = {}
        """Paragraph digest -> the first story printing such a paragraph."""
        self._also_printed_in: dict[int, list[int]] = {}
        """…and the first stories printing other paragraphs of the same digest (a collision)."""
        self._kept: list[tuple[int, tuple[str, ...]]] = []
        """Each story kept, and the paragraphs it keeps."""
        self._drops: tuple[list[Drop], list[Drop], list[Drop]] = ([], [], [])

    def add(self, story: Story, text: StoryText) -> None:
        position = len(self._stories)
        self._stories.append(story)
        self._signatures.append(text.signature)
        self._shingles.append(text.shingles)
        if (self._is_exact_copy(position, story, text) or self._is_near_copy(position, text)
                or self._is_same_event(position, story)):
            return
        self._keep_new_paragraphs(position, story, text)

    def _is_exact_copy(self, position: int, story: Story, text: StoryText) -> bool:
        if text.key is None:
            return False
        same_digest = self._first_with_key.setdefault(text.key, [])
        first = next((p for p in same_digest if _same_text(self._stories[p], story)), None)
        if first is None:
            same_digest.append(position)
            return False
        self._exact_copies.append((first, position))
        self._drops[0].append(_drop(story, DropReason.DUPLICATE_STORY, because_of=self._stories[first]))
        return True

    def _is_near_copy(self, later: int, text: StoryText) -> bool:
        if text.signature is None:
            return False
        earlier: set[int] = set()
        buckets = self._buckets
        for key in _bucket_keys(text.signature):
            members = buckets.get(key)
            if members is None:
                buckets[key] = later
            elif isinstance(members, int):
                earlier.add(members)
                buckets[key] = [members, later]
            else:
                earlier.update(members)
                if len(members) < BUCKET_LIMIT:
                    members.append(later)
        if not earlier:
            return False
        candidates = sorted(earlier)
        signatures = np.array([self._signatures[c] for c in candidates])
        sizes = np.array([len(self._shingles[c]) for c in candidates], dtype=np.float64)
        size = float(len(text.shingles))
        agreement = (signatures == text.signature).mean(axis=1)
        estimate = agreement * (sizes + size) / ((1 + agreement) * np.minimum(sizes, size))
        checked = [c for c, e in zip(candidates, (estimate >= NEAR_DUPLICATE / 2).tolist(), strict=True) if e]
        if not checked:
            return False
        of_shorter, of_longer = _overlaps([self._shingles[c] for c in checked], text.shingles)
        same = np.flatnonzero((of_shorter >= NEAR_DUPLICATE) & (of_longer >= MIN_SHARE_OF_LONGER))
        if not len(same):
            return False
        first = checked[same[0]]
        root = self._root_of[later] = self._root_of.get(first, first)
        self._drops[1].append(_drop(self._stories[later], DropReason.SAME_STORY, because_of=self._stories[root]))
        return True

    def _is_same_event(self, later: int, story: Story) -> bool:
        earlier = self._events.earlier_report(story)
        if earlier is None:
            return False
        root = self._root_of[later] = self._root_of.get(earlier, earlier)
        self._drops[1].append(_drop(story, DropReason.SAME_STORY, because_of=self._stories[root]))
        return True

    def _keep_new_paragraphs(self, position: int, story: Story, text: StoryText) -> None:
        paragraphs = []
        for paragraph, key in zip(story.paragraphs, text.paragraph_keys, strict=True):
            earlier = self._printed_earlier(key, paragraph, position)
            if earlier != position:
                self._drops[2].append(
                    _drop(story, DropReason.REPEATED_PARAGRAPH, because_of=self._stories[earlier], text=paragraph)
                )
                continue
            paragraphs.append(paragraph)
        if story.paragraphs and not paragraphs:
            self._drops[2].append(_drop(story, DropReason.ALL_PARAGRAPHS_REPEATED))
        else:
            self._kept.append((position, tuple(paragraphs)))
            self._events.remember(position, story)

    def _printed_earlier(self, key: int, paragraph: str, position: int) -> int:
        """The first story (up to ``position``, which is then recorded) printing this paragraph."""
        first = self._printed_in.setdefault(key, position)
        if first == position:
            return position
        normalised = normalize(paragraph)
        for earlier in (first, *self._also_printed_in.get(key, [])):
            if any(normalize(other) == normalised for other in self._stories[earlier].paragraphs):
                return earlier
        self._also_printed_in.setdefault(key, []).append(position)
        return position

    def finish(self) -> tuple[list[Kept], list[Drop]]:
        """The stories kept and every drop, pass by pass."""
        stories = self._stories
        for first, copy in self._exact_copies:
            stories[first] = _with_sources(stories[first], stories[copy])
        for later, root in self._root_of.items():
            stories[root] = _with_sources(stories[root], stories[later])
        kept = [
            Kept(p, stories[p], trimmed=False) if len(paragraphs) == len(stories[p].paragraphs)
            else Kept(p, replace(stories[p], paragraphs=paragraphs), trimmed=True)
            for p, paragraphs in self._kept
        ]
        return kept, [drop for drops in self._drops for drop in drops]


def dedupe_stories(
    stories: Sequence[Story], parallel_settings: parallel.ParallelSettings = parallel.DEFAULT_PARALLEL
) -> tuple[list[Story], list[Drop]]:
    """The stories without duplicates, near-duplicates or repeated paragraphs, and what went."""
    if workers := parallel.workers_for(len(stories), parallel_settings.stories):
        texts = parallel.map_chunks(story_texts, stories, workers)
    else:
        texts = story_texts(stories)
    deduper = Deduper()
    for story, text in zip(stories, texts, strict=True):
        deduper.add(story, text)
    kept, drops = deduper.finish()
    return [k.story for k in kept], drops

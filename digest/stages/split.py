"""Story splitting: one cleaned document may hold many unrelated posts.

Hard cues end a story: a headline, a dateline ("GAZA (Reuters) —"), the line
after a "read more" link. Between them, a compilation of untitled posts is
cut by lexical cohesion, the idea behind TextTiling and C99: paragraphs of
one story share vocabulary, neighbouring posts do not. We use constrained
agglomerative merging: every paragraph starts as its own segment, and the
most similar pair of *adjacent* segments (TF-IDF over Snowball stems,
cosine) merges first, until no adjacent pair is similar enough. Comparing
whole segments rather than fixed windows keeps long articles together even
where one paragraph changes the subject. A gap where the cleaner removed a
caption or a date needs more similarity to be bridged, since posts on blog
pages are separated by such furniture. Lines too short to carry vocabulary
("Hi anon!", "The incidents from this week:", a footnote "*…") are attached
to a neighbour first. Register is the second cue: a wire report and a
personal post on the same subject share vocabulary, but one speaks in the
first or second person (outside quotations) and the other never does, so
bridging such a gap also needs more similarity.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import replace
from functools import cached_property, lru_cache
from itertools import accumulate, chain, pairwise, product

import numpy as np

from digest.models import Block, BlockKind, CleanedDocument, Story
from digest.stages.text import content_stems_of_words, words

MERGE_SIMILARITY = 0.03
"""Adjacent segments at least this similar are one story."""
MERGE_SIMILARITY_ACROSS_FURNITURE = 0.06
"""The same, where the cleaner removed furniture (a caption, a date) between them."""
REGISTER_PENALTY = 0.05
"""Extra similarity needed between a personal segment and an impersonal one."""
PERSONAL_RATE, IMPERSONAL_RATE = 0.015, 0.003
"""Share of first/second-person words (outside quotes) that makes a segment personal, or impersonal."""
PERSONAL_WORDS = frozenset("i me my mine myself we us our ours ourselves you your yours yourself".split())
QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"")
TINY_WORDS = 12
"""Segments shorter than this carry too little vocabulary to compare."""
HEADLINE_WORDS = 6
"""A heading this long (or dated) opens a new story; shorter ones are subheadings."""
DENSE_NUMBERS = 1 << 20
"""How many vector components (8 bytes each) one document's remembered segment vectors may hold."""

_PERSONAL_SPELLINGS = frozenset(
    "".join(letters) for word in PERSONAL_WORDS for letters in product(*({c, c.upper()} for c in word))
)
"""Every word whose lower() is a personal word (no letter outside ASCII lower-cases into one; a test
checks): looking words up as they are takes a quarter of the time of lower-casing each first."""


class _Document:
    """One document's blocks, and what splitting asks of any run of them.

    Segments are always runs of consecutive blocks: a segment is a pair of
    bounds, merging two is deleting the bound between them, and a segment's
    word counts are differences of prefix sums.
    """

    def __init__(self, cleaned: CleanedDocument) -> None:
        self.blocks = list(cleaned.blocks)
        self.block_words = [words(b.text) for b in self.blocks]
        self.words = [0, *accumulate(map(len, self.block_words))]
        self.opens_story = [_opens_story(b) for b in self.blocks]
        self.dropped = {d.line for d in cleaned.drops if d.line is not None}

    @cached_property
    def thresholds(self) -> list[float]:
        """The similarity the gap before each block needs to be bridged, registers aside (inf: never)."""
        blocks, opens = self.blocks, self.opens_story
        return [math.inf] + [
            math.inf
            if opens[i]
            else MERGE_SIMILARITY_ACROSS_FURNITURE
            if _furniture_between(blocks[i - 1], blocks[i], self.dropped)
            else MERGE_SIMILARITY
            for i in range(1, len(blocks))
        ]

    @cached_property
    def cohesion(self) -> _Cohesion:
        return _Cohesion([content_stems_of_words(w) for w in self.block_words])

    @cached_property
    def _personal(self) -> list[int]:
        """Prefix sums of first/second-person words outside quotations."""
        return [0, *accumulate(map(_personal_count, self.blocks, self.block_words))]

    def register(self, start: int, end: int) -> str | None:
        """Whether blocks start:end speak in the first or second person (None: not clearly either)."""
        rate = (self._personal[end] - self._personal[start]) / max(self.words[end] - self.words[start], 1)
        return "personal" if rate >= PERSONAL_RATE else "impersonal" if rate < IMPERSONAL_RATE else None


def _personal_count(block: Block, block_words: tuple[str, ...]) -> int:
    """First/second-person words outside quotations."""
    if _PERSONAL_SPELLINGS.isdisjoint(block_words):  # most blocks: cheaper than counting
        return 0
    personal = sum(map(_PERSONAL_SPELLINGS.__contains__, block_words))
    if ('"' in block.text or "“" in block.text):
        # no word straddles a quotation mark, so the quoted ones can be counted apart and taken away
        quoted = words(" ".join(QUOTED.findall(block.text)))
        personal -= sum(map(_PERSONAL_SPELLINGS.__contains__, quoted))
    return personal


class _Cohesion:
    """TF-IDF cosines (sublinear term frequency, Snowball stems) between runs of a document's blocks.

    A run's term counts are one bincount over its stems, and its vector is
    remembered (up to DENSE_NUMBERS components), so a merge computes one new
    vector. Weights and idf are the math.log values they always were; the
    sums of products are rounded differently from the per-dictionary loops
    this replaced (an ulp or so), and no decision on the reference documents
    changed.
    """

    def __init__(self, bags: list[list[str]]) -> None:
        stems = list(chain.from_iterable(bags))
        vocabulary = {t: i for i, t in enumerate(dict.fromkeys(stems))}
        self._size = len(vocabulary)
        self._terms = np.fromiter(map(vocabulary.__getitem__, stems), dtype=np.intp, count=len(stems))
        self._offsets = [0, *accumulate(map(len, bags))]
        """Where each block's stems start in _terms."""
        # document frequency: count each (block, term) pair once (sorting beats np.unique's hashing here)
        pairs = np.sort(np.repeat(np.arange(len(bags)) * self._size, [len(bag) for bag in bags]) + self._terms)
        firsts = pairs[np.flatnonzero(np.diff(pairs, prepend=-1))]
        self._idf = _idf_table(len(bags))[np.bincount(firsts % self._size, minlength=self._size)]
        self._sublinear = _sublinear_table(int(np.bincount(self._terms).max(initial=0)))
        self._known: dict[tuple[int, int], tuple[np.ndarray, float]] = {}
        self._capacity = DENSE_NUMBERS // max(self._size, 1)

    def prepare(self, bounds: list[int]) -> None:
        """Work out the vectors of the runs bounds[0]:bounds[1], bounds[1]:bounds[2], … at once, if they fit."""
        runs = len(bounds) - 1
        if runs > self._capacity - len(self._known):
            return
        first, last = self._offsets[bounds[0]], self._offsets[bounds[-1]]
        lengths = np.diff([self._offsets[b] for b in bounds])
        cells = np.repeat(np.arange(runs) * self._size, lengths) + self._terms[first:last]
        counts = np.bincount(cells, minlength=runs * self._size).reshape(runs, self._size)
        vectors = self._sublinear[counts] * self._idf
        norms = map(math.sqrt, np.einsum("ij,ij->i", vectors, vectors).tolist())
        self._known.update(zip(pairwise(bounds), zip(vectors, norms, strict=True), strict=True))

    def cosine(self, start: int, middle: int, end: int) -> float:
        """Cosine of the runs start:middle and middle:end."""
        a, a_length = self._known.get((start, middle)) or self._vector(start, middle)
        b, b_length = self._known.get((middle, end)) or self._vector(middle, end)
        dot = float(a.dot(b))
        return dot / (a_length * b_length) if dot else 0.0

    def _vector(self, start: int, end: int) -> tuple[np.ndarray, float]:
        """The vector of the run start:end and its length, remembered."""
        counts = np.bincount(self._terms[self._offsets[start] : self._offsets[end]], minlength=self._size)
        vector = self._sublinear[counts] * self._idf
        if len(self._known) >= self._capacity:
            self._known.clear()
        known = self._known[start, end] = vector, math.sqrt(vector.dot(vector))
        return known


@lru_cache(maxsize=256)
def _idf_table(blocks: int) -> np.ndarray:
    """Smoothed idf for each document frequency 0..blocks."""
    return np.array([math.log((1 + blocks) / (1 + d)) + 1 for d in range(blocks + 1)])


@lru_cache(maxsize=64)
def _sublinear_table(largest: int) -> np.ndarray:
    """1 + log(count) for each count up to ``largest`` (0 for a term a run lacks)."""
    return np.array([0.0] + [1 + math.log(count) for count in range(1, largest + 1)])


def _opens_story(block: Block) -> bool:
    if block.starts_story:
        return True
    return block.kind is BlockKind.HEADING and (
        len(block.text.split()) >= HEADLINE_WORDS or block.published is not None
    )


def _furniture_between(a: Block, b: Block, dropped_lines: set[int]) -> bool:
    return not dropped_lines.isdisjoint(range(a.line + 1, b.line))


def _join_headings(doc: _Document, bounds: list[int]) -> None:
    """A heading belongs with the text under it."""
    i = 0
    while i < len(bounds) - 2:
        if doc.blocks[bounds[i + 1] - 1].kind is BlockKind.HEADING:
            del bounds[i + 1]
        i += 1


def _absorb_tiny(doc: _Document, bounds: list[int]) -> None:
    """Attach segments too short to compare: footnotes back, lead-ins forward."""
    i = 0
    while i < len(bounds) - 1:
        start, end = bounds[i], bounds[i + 1]
        if doc.words[end] - doc.words[start] >= TINY_WORDS or len(bounds) == 2:
            i += 1
            continue
        can_back = i > 0 and not doc.opens_story[start]
        can_forward = i + 2 < len(bounds) and not doc.opens_story[end]
        text = doc.blocks[start].text
        if text.startswith("*") and can_back:
            target = i - 1
        elif text.endswith(":") and can_forward:
            target = i + 1
        elif can_back and can_forward:
            back = doc.cohesion.cosine(bounds[i - 1], start, end)
            forward = doc.cohesion.cosine(start, end, bounds[i + 2])
            target = i - 1 if back > forward else i + 1
        elif can_forward:
            target = i + 1
        elif can_back:
            target = i - 1
        else:
            i += 1
            continue
        i = min(i, target)
        del bounds[i + 1]


def _merge_cohesive(doc: _Document, bounds: list[int]) -> None:
    """Merge the most similar adjacent segments first (the lowest on a tie), while any are similar enough."""
    thresholds = doc.thresholds
    if all(thresholds[b] == math.inf for b in bounds[1:-1]):
        return
    doc.cohesion.prepare(bounds)
    registers = [doc.register(start, end) for start, end in pairwise(bounds)]
    """Per segment, kept until a merge changes the segment."""

    def margin(k: int) -> float:
        """How far the gap after segment k clears its merge threshold (-inf: never merges)."""
        needed = thresholds[bounds[k + 1]]
        if needed == math.inf:
            return -math.inf
        if {registers[k], registers[k + 1]} == {"personal", "impersonal"}:
            needed += REGISTER_PENALTY
        return doc.cohesion.cosine(bounds[k], bounds[k + 1], bounds[k + 2]) - needed

    gaps = [margin(k) for k in range(len(bounds) - 2)]
    while gaps:
        k = gaps.index(max(gaps))  # the first of equals: the lowest index wins a tie
        if gaps[k] < 0:
            return
        del bounds[k + 1], gaps[k], registers[k + 1]
        registers[k] = doc.register(bounds[k], bounds[k + 1])
        for j in (k - 1, k):
            if 0 <= j < len(gaps):
                gaps[j] = margin(j)


def _story(cleaned: CleanedDocument, blocks: list[Block]) -> Story:
    document = cleaned.document
    title = None
    opens_document = not blocks or blocks[0] is cleaned.blocks[0]
    if document.title and opens_document:
        # the document's own title (a feed entry's); a heading under it is a standfirst
        title = document.title
        if blocks and blocks[0].text == title:
            blocks = blocks[1:]
        elif blocks:
            blocks = [replace(blocks[0], kind=BlockKind.PARAGRAPH), *blocks[1:]]
    elif blocks[0].kind is BlockKind.HEADING:
        title, blocks = blocks[0].text, blocks[1:]
    heading_date = None
    if title is not None:
        heading_date = next((b.published for b in cleaned.blocks if b.text == title and b.published), None)
    credit = next((b.credit for b in blocks if b.credit), None)
    base = document.source
    source = replace(
        base,
        name=credit or base.name,
        published=heading_date or base.published,
        document=base.document or document.id,
        author=None if credit and base.author and credit.casefold() == base.author.casefold() else base.author,
    )
    first_line = blocks[0].line if blocks else 0
    digest_id = hashlib.sha1(f"{document.id}:{first_line}".encode()).hexdigest()[:12]
    return Story(
        id=digest_id,
        title=title,
        paragraphs=tuple(b.text for b in blocks if b.kind is BlockKind.PARAGRAPH),
        sources=(source,),
        document=document.id,
        line=first_line,
        theme_hints=document.theme_hints,
    )


def split_document(cleaned: CleanedDocument) -> list[Story]:
    if cleaned.document.title:
        # A document with its own title (a feed entry, an article page, a titled seed) is one
        # story under one link, however its text is laid out: cutting a long entry at a
        # subheading or a change of subject made stories of its fragments, with headlines
        # taken from their first sentences. An entry whose text was all furniture is still
        # its headline.
        return [_story(cleaned, list(cleaned.blocks))]
    if not cleaned.blocks:
        return []
    doc = _Document(cleaned)
    bounds = list(range(len(doc.blocks) + 1))
    """Where each segment starts, then the end of the last."""
    _join_headings(doc, bounds)
    _absorb_tiny(doc, bounds)
    _merge_cohesive(doc, bounds)
    return [_story(cleaned, doc.blocks[start:end]) for start, end in pairwise(bounds)]


def split_documents(cleaned: list[CleanedDocument]) -> list[Story]:
    return [story for doc in cleaned for story in split_document(doc)]

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
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache

from digest.models import Block, BlockKind, CleanedDocument, SourceRef, Story
from digest.words import content_stems_of_words, words

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


@dataclass
class _Segment:
    blocks: list[Block]
    bag: Counter[str]
    opens_story: bool = False
    words: int = 0
    personal: int = 0
    _weights: dict[str, float] | None = field(default=None, repr=False)
    _norm: float | None = field(default=None, repr=False)

    @classmethod
    def of(cls, block: Block, block_words: tuple[str, ...], bag: Counter[str]) -> _Segment:
        quoted = '"' in block.text or "“" in block.text
        unquoted = words(QUOTED.sub(" ", block.text)) if quoted else block_words
        return cls([block], bag, _opens_story(block), len(block_words),
                   sum(w.lower() in PERSONAL_WORDS for w in unquoted))

    def absorb(self, following: _Segment) -> None:
        """Take in the segment that follows this one (which is then no longer used).

        In place, so a merge costs the size of ``following``, not of the two:
        its counts are added (new terms after this one's, as in Counter
        addition), and only its terms' weights change.
        """
        self.blocks.extend(following.blocks)
        self.bag.update(following.bag)
        if self._weights is not None:
            for term in following.bag:
                self._weights[term] = _sublinear(self.bag[term])
        self._norm = None
        self.words += following.words
        self.personal += following.personal

    # Term weights and the vector length are kept between comparisons, until a merge changes them.

    def weights(self) -> dict[str, float]:
        """Sublinear term frequency, 1 + log(count), per stem."""
        if self._weights is None:
            self._weights = {t: _sublinear(c) for t, c in self.bag.items()}
        return self._weights

    def norm(self, idf: dict[str, float]) -> float:
        if self._norm is None:
            self._norm = math.sqrt(sum([(w * idf[t]) ** 2 for t, w in self.weights().items()]))
        return self._norm

    @property
    def register(self) -> str | None:
        rate = self.personal / max(self.words, 1)
        return "personal" if rate >= PERSONAL_RATE else "impersonal" if rate < IMPERSONAL_RATE else None


@lru_cache(maxsize=1024)
def _sublinear(count: int) -> float:
    """1 + log(count): term counts are small integers, so each is computed once."""
    return 1 + math.log(count)


def _opens_story(block: Block) -> bool:
    if block.starts_story:
        return True
    return block.kind is BlockKind.HEADING and (
        len(block.text.split()) >= HEADLINE_WORDS or block.published is not None
    )


def _cosine(a: _Segment, b: _Segment, idf: dict[str, float]) -> float:
    """Cosine of the segments' TF-IDF vectors."""
    if len(a.bag) > len(b.bag):
        a, b = b, a
    b_weights = b.weights()
    dot = sum([w * b_weights[t] * idf[t] ** 2 for t, w in a.weights().items() if t in b_weights])
    if not dot:
        return 0.0
    return dot / (a.norm(idf) * b.norm(idf))


def _furniture_between(a: Block, b: Block, dropped_lines: set[int]) -> bool:
    return any(line in dropped_lines for line in range(a.line + 1, b.line))


def _join(segments: list[_Segment], first: int) -> None:
    """Merge segments[first] and the one after it into one segment."""
    segments[first].absorb(segments.pop(first + 1))


def _absorb_tiny(segments: list[_Segment], idf: dict[str, float]) -> None:
    """Attach segments too short to compare: footnotes back, lead-ins forward."""
    i = 0
    while i < len(segments):
        seg = segments[i]
        if seg.words >= TINY_WORDS or len(segments) == 1:
            i += 1
            continue
        can_back = i > 0 and not seg.opens_story
        can_forward = i + 1 < len(segments) and not segments[i + 1].opens_story
        text = seg.blocks[0].text
        if text.startswith("*") and can_back:
            target = i - 1
        elif text.endswith(":") and can_forward:
            target = i + 1
        elif can_back and can_forward:
            back = _cosine(seg, segments[i - 1], idf)
            forward = _cosine(seg, segments[i + 1], idf)
            target = i - 1 if back > forward else i + 1
        elif can_forward:
            target = i + 1
        elif can_back:
            target = i - 1
        else:
            i += 1
            continue
        first = min(i, target)
        _join(segments, first)
        i = first


def _merge_cohesive(segments: list[_Segment], idf: dict[str, float], dropped: set[int]) -> None:
    def margin(k: int) -> float | None:
        """How far the gap after segment k clears its merge threshold (None: never merge)."""
        left, right = segments[k], segments[k + 1]
        if right.opens_story:
            return None
        needed = (
            MERGE_SIMILARITY_ACROSS_FURNITURE
            if _furniture_between(left.blocks[-1], right.blocks[0], dropped)
            else MERGE_SIMILARITY
        )
        if {left.register, right.register} == {"personal", "impersonal"}:
            needed += REGISTER_PENALTY
        return _cosine(left, right, idf) - needed

    margins = [margin(k) for k in range(len(segments) - 1)]
    while margins:
        candidates = [(m, k) for k, m in enumerate(margins) if m is not None and m >= 0]
        if not candidates:
            return
        _, k = max(candidates, key=lambda c: (c[0], -c[1]))
        _join(segments, k)
        del margins[k]
        for j in (k - 1, k):
            if 0 <= j < len(margins):
                margins[j] = margin(j)


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
    source = SourceRef(
        name=credit or base.name,
        url=base.url,
        published=heading_date or base.published,
        document=base.document or document.id,
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
    blocks = list(cleaned.blocks)
    if not blocks:
        # a feed entry whose text was all furniture (or empty) is still its headline
        return [_story(cleaned, [])] if cleaned.document.title else []
    dropped = {d.line for d in cleaned.drops if d.line is not None}
    block_words = [words(b.text) for b in blocks]
    bags = [Counter(content_stems_of_words(w)) for w in block_words]
    df = Counter(t for bag in bags for t in bag)
    idf = {t: math.log((1 + len(bags)) / (1 + d)) + 1 for t, d in df.items()}

    segments = [_Segment.of(*parts) for parts in zip(blocks, block_words, bags, strict=True)]
    # a heading belongs with the text under it
    i = 0
    while i < len(segments) - 1:
        if segments[i].blocks[-1].kind is BlockKind.HEADING:
            _join(segments, i)
        i += 1
    _absorb_tiny(segments, idf)
    _merge_cohesive(segments, idf, dropped)
    return [_story(cleaned, seg.blocks) for seg in segments if seg.blocks]


def split_documents(cleaned: list[CleanedDocument]) -> list[Story]:
    return [story for doc in cleaned for story in split_document(doc)]

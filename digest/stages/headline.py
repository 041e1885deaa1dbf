"""A story's heading: its own title, else its lead sentence.

A story without a title of its own (an untitled post in a compilation, a
feed entry without a <title>) is headed by its first sentence, verbatim; a
long one is shortened at a clause boundary (a comma, semicolon, colon or
dash) and ends in an ellipsis, so the heading never reads as a claim the
source did not make. A lead shown whole as the heading is left out of the
summary (see digest.stages.summarize): the reader is never shown it twice. A
shortened one may be given whole in the summary: its opening clause alone
("If a Palestinian ran over & crushed to death an Israeli child…") is not
what the source said.

A story whose lead is its only sentence (a one-line feed entry whose page
could not be read) would then have an empty summary. Its heading is instead
the sentence's opening, about two-thirds of its words cut at a clause
boundary where one falls, with an ellipsis; the summary gives the sentence
whole, so nothing of it is lost. A sentence of three words or fewer is too
short to cut: the story is headed by its source's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from digest.models import Story
from digest.stages.sentences import split_sentences

HEADING_WORDS = 16
"""A lead sentence of more words is shortened for the heading."""
MIN_HEADING_WORDS = 5
"""A shortened heading keeps at least this many words."""
ELLIPSIS = "…"
CLAUSE_END = re.compile(r"[,;:]$|^[—–-]$")
"""A word that ends a clause (a comma, semicolon or colon after it), or a dash standing alone."""
TRAILING_PUNCTUATION = re.compile(r"[\s,;:—–-]+$")
SOLE_SENTENCE_SHARE = 2 / 3
"""A story's only sentence is headed by about this share of its words."""
MIN_SOLE_HEADING_WORDS = 3
"""A sole sentence is cut to no fewer words than this; one no longer is not cut at all."""


@dataclass(frozen=True)
class Lead:
    """The heading made of a story's lead sentence."""

    heading: str
    sentence: str
    """The lead sentence whole, as the story has it."""

    @property
    def shortened(self) -> bool:
        return self.heading != self.sentence


def lead(story: Story) -> Lead | None:
    """The heading an untitled story gets from its first sentence (None: it has a title, or no text)."""
    if story.title:
        return None
    for index, paragraph in enumerate(story.paragraphs):
        sentences = [sentence for sentence in split_sentences(paragraph) if sentence.strip()]
        if sentences:
            sentence = sentences[0]
            sole = len(sentences) == 1 and not any(p.strip() for p in story.paragraphs[index + 1:])
            return Lead(_sole_heading(sentence, story) if sole else shorten(sentence), sentence)
    return None


def _sole_heading(sentence: str, story: Story) -> str:
    """The heading of a story whose lead is its only sentence: never the whole sentence."""
    count = len(sentence.split())
    if count <= MIN_SOLE_HEADING_WORDS:
        return story.sources[0].name
    limit = min(HEADING_WORDS, max(MIN_SOLE_HEADING_WORDS, round(count * SOLE_SENTENCE_SHARE)))
    return shorten(sentence, limit, min_words=MIN_SOLE_HEADING_WORDS)


def shorten(sentence: str, limit: int = HEADING_WORDS, *, min_words: int = MIN_HEADING_WORDS) -> str:
    """The sentence itself when it has at most ``limit`` words; else its opening clauses, with an ellipsis.

    Cut after the last clause boundary within the limit (keeping at least
    ``min_words``); without one, after the limit's last word.
    """
    tokens = sentence.split()
    if len(tokens) <= limit:
        return sentence
    cut = limit
    for end in range(limit, min_words - 1, -1):
        if CLAUSE_END.search(tokens[end - 1]):
            cut = end
            break
    opening = TRAILING_PUNCTUATION.sub("", " ".join(tokens[:cut]))
    return opening + ELLIPSIS


def heading(story: Story) -> str:
    """What readers see above the story's summary."""
    if story.title:
        return story.title
    found = lead(story)
    if found is None:
        # unreachable from the pipeline, which lists no story without a title or a sentence
        return story.sources[0].name
    return found.heading

"""A story's heading: its own title, else its lead sentence.

A story without a title of its own (an untitled post in a compilation, a
feed entry without a <title>) is headed by its first sentence, verbatim; a
long one is shortened at a clause boundary (a comma, semicolon, colon or
dash) and ends in an ellipsis, so the heading never reads as a claim the
source did not make. The summary then leaves that sentence out (see
digest.stages.summarize): the reader is never shown it twice.
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
    for paragraph in story.paragraphs:
        sentences = split_sentences(paragraph)
        if sentences and sentences[0].strip():
            sentence = sentences[0]
            return Lead(shorten(sentence), sentence)
    return None


def shorten(sentence: str, limit: int = HEADING_WORDS) -> str:
    """The sentence itself when it has at most ``limit`` words; else its opening clauses, with an ellipsis.

    Cut after the last clause boundary within the limit; without one, after
    the limit's last word.
    """
    tokens = sentence.split()
    if len(tokens) <= limit:
        return sentence
    cut = limit
    for end in range(limit, MIN_HEADING_WORDS - 1, -1):
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

"""Extractive summaries: a story's own most central sentences, verbatim, in source order.

Algorithm: biased LexRank (Erkan & Radev 2004; Otterbacher, Erkan & Radev
2005). Sentences are TF-IDF vectors over Snowball stems of content words
(IDF smoothed over the story's sentences, as sklearn does, so a word in every
sentence still counts a little); their cosine similarities are a graph whose
stationary distribution under a damped random walk (power iteration) is each
sentence's centrality. The walk's restart vector is biased towards what news
editors pick: early sentences (weight 1/sqrt(position + 1), the lead-paragraph
convention) and sentences that share words with the headline. A graph method
is the right tool here because it needs no training data and no model
download, and a misquote is impossible by construction: we only ever choose
whole sentences.

Selection is greedy by score within the word budget: a sentence that would
overflow it is skipped, not cut; one too similar to a sentence already chosen
(cosine > REDUNDANT) is skipped as a restatement. Fragments are chosen only
when nothing better exists: headings (no sentence-final punctuation), sentences
under MIN_WORDS words and bare questions to the reader. A quotation of several
sentences is one unit, taken whole or not at all (scored as the mean of its
sentences); a unit that starts inside a quotation or leaves one open
(someone's words without their quote marks or attribution) is never taken
just to reach min_sentences. A sentence whose speaker or subject is only a personal
pronoun ("…,” he said.", "She told reporters …") is taken only together with
the sentence before it, which names who that is: out of context, "he said"
invites the reader to attribute a quote to the wrong person. If the best
whole sentence is over budget and no other fits, it alone is the summary.

Damping and title weight were chosen on the labelled samples against lead-3
(bench/summary_quality.py; figures in the README): a short walk (damping 0.3)
that stays close to the restart vector, i.e. to early sentences and those
that share words with the headline, with the headline weighted 3.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from digest.config import SummaryConfig
from digest.models import Story
from digest.stages.headline import lead
from digest.stages.sentences import sentence_spans
from digest.stages.text import content_stems, words

DAMPING = 0.3
"""Probability that the random walk follows a similarity edge rather than restarting."""
POSITION_EXPONENT = 0.5
"""Restart weight of the sentence at position i is 1 / (i + 1) ** POSITION_EXPONENT."""
TITLE_WEIGHT = 3.0
"""Restart weight grows by TITLE_WEIGHT * cosine(sentence, headline)."""
REDUNDANT = 0.6
"""A candidate this similar (cosine) to a chosen sentence adds nothing new."""
MIN_WORDS = 4
"""Shorter sentences are fragments ("Hi anon!", "Never.")."""
ITERATIONS = 200
"""Fixed power-iteration steps: DAMPING ** 200 is far below SCORE_DECIMALS."""
MAX_SENTENCES = 150
"""Sentences considered per story, from its start: the graph costs the square of their number, and
news puts what matters first, so a huge entry is summarised in time linear in its length."""
SCORE_DECIMALS = 9
"""Scores are rounded before ranking so ties break by position, not by float noise."""

SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
QUESTION_END = re.compile(r"\?[\"'”’)\]]*$")
QUOTE_MARK = re.compile(r'[“”"]')
PRONOUN_REFERENCE = re.compile(
    r"^(?:[\"“‘']\s*)?(?:he|she|they|his|her|their)\b"
    r"|\b(?:he|she|they)\s+(?:said|says|told|tells|added|adds|explained|continued|wrote|writes|noted|argued"
    r"|stated|insisted|warned|claimed|asked|replied|recalled|admitted|alleged)\b",
    re.IGNORECASE,
)
CONNECTIVE_OPENING = re.compile(
    r"^(?:[\"“‘']\s*)?(?:on top of (?:that|this)|in addition|besides|moreover|furthermore|what'?s more"
    r"|however|even so|nevertheless|nonetheless|otherwise|as a result|because of (?:that|this)"
    r"|for (?:that|this) reason|that is why|this is why)\b",
    re.IGNORECASE,
)
"""A sentence opening on a connective ("On top of that, …", "However, …") continues the one before it:
alone it reads as a claim about something the reader was not shown."""


@dataclass(frozen=True)
class _Sentence:
    text: str
    position: int
    n_words: int
    fragment: bool
    heading: bool
    needs_antecedent: bool = False
    repeats_heading: bool = False
    """The story's heading says this sentence already (its title, or its lead sentence standing as heading)."""
    broken_quote: bool = False
    """Someone's words cut from their quote marks: never chosen only to make up the minimum."""


def count_words(text: str) -> int:
    """Words as a reader counts them: runs of non-space characters."""
    return len(text.split())


def _is_heading(sentence: str) -> bool:
    return not SENTENCE_END.search(sentence)


def _is_fragment(sentence: str) -> bool:
    """Too short to say anything, or a bare question to the reader."""
    return len(words(sentence)) < MIN_WORDS or bool(QUESTION_END.search(sentence))


def _tfidf(token_lists: list[list[str]]) -> np.ndarray:
    """L2-normalised TF-IDF rows, IDF smoothed over the given sentences."""
    vocabulary: dict[str, int] = {}
    rows, cols = [], []
    for row, tokens in enumerate(token_lists):
        for token in tokens:
            rows.append(row)
            cols.append(vocabulary.setdefault(token, len(vocabulary)))
    counts = np.zeros((len(token_lists), max(len(vocabulary), 1)))
    np.add.at(counts, (rows, cols), 1.0)
    n = len(token_lists)
    document_frequency = (counts > 0).sum(axis=0)
    idf = np.log((1 + n) / (1 + document_frequency)) + 1
    weights = counts * idf
    norms = np.linalg.norm(weights, axis=1, keepdims=True)
    rows_normalised: np.ndarray = np.divide(weights, norms, out=np.zeros_like(weights), where=norms > 0)
    return rows_normalised


@dataclass(frozen=True)
class _Graph:
    """One story's sentences as LexRank sees them, and the units selection chooses from.

    The walk runs over single sentences; a unit (a sentence, or a quotation of several)
    scores the mean of its sentences, so a long quotation gains nothing by its length.
    """

    sentences: list[_Sentence]
    """The units, numbered by position."""
    members: list[range]
    """Each unit's sentences (rows of transition and restart)."""
    shortened_lead: bool
    """The story is headed by the start of its lead sentence, shortened."""
    cosine: np.ndarray
    """Between units: the largest cosine between their sentences."""
    transition: np.ndarray
    restart: np.ndarray

    def unit_scores(self, scores: np.ndarray) -> np.ndarray:
        starts = [m.start for m in self.members]
        sizes = np.array([len(m) for m in self.members])
        means: np.ndarray = np.add.reduceat(scores, starts) / sizes
        return means


def _graph(story: Story) -> _Graph:
    heading = lead(story)
    headline = story.title or (heading.sentence if heading else "")
    # a heading that shows only the start of the lead does not say it: the summary may give it whole
    said = "" if heading is not None and heading.shortened else headline
    sentences, pieces = _sentences(story, said)
    members, first = [], 0
    for size in map(len, pieces):
        members.append(range(first, first + size))
        first += size
    tokens = [content_stems(piece) for unit in pieces for piece in unit]
    vectors = _tfidf([*tokens, content_stems(headline)])
    sentence_vectors, title_vector = vectors[:-1], vectors[-1]
    cosine = sentence_vectors @ sentence_vectors.T
    np.fill_diagonal(cosine, 0.0)
    positions = np.arange(len(tokens))
    restart = (1.0 + TITLE_WEIGHT * (sentence_vectors @ title_vector)) / (positions + 1) ** POSITION_EXPONENT
    restart /= restart.sum()
    out_weight = cosine.sum(axis=1, keepdims=True)
    # A sentence that shares no word with the others restarts the walk.
    transition = np.where(out_weight > 0, cosine / np.where(out_weight > 0, out_weight, 1.0), restart)
    starts = [m.start for m in members]
    unit_cosine = np.maximum.reduceat(np.maximum.reduceat(cosine, starts, axis=0), starts, axis=1)
    return _Graph(sentences, members, bool(heading and heading.shortened), unit_cosine, transition, restart)


def _centralities(graphs: list[_Graph]) -> list[np.ndarray]:
    """Power iteration for all stories at once, stacked by sentence count.

    Every story gets the same fixed number of steps, so its scores do not
    depend on which other stories share its batch.
    """
    scores: list[np.ndarray] = [np.empty(0)] * len(graphs)
    by_size: dict[int, list[int]] = {}
    for index, graph in enumerate(graphs):
        by_size.setdefault(len(graph.restart), []).append(index)
    for size, members in by_size.items():
        transition = np.stack([graphs[i].transition for i in members])
        restart = np.stack([graphs[i].restart for i in members])
        walk = np.full((len(members), size), 1.0 / size)
        for _ in range(ITERATIONS):
            walk = (1 - DAMPING) * restart + DAMPING * (walk[:, :, None] * transition).sum(axis=1)
        for row, index in enumerate(members):
            scores[index] = walk[row]
    return scores


def _select(graph: _Graph, scores: np.ndarray, config: SummaryConfig) -> list[_Sentence]:
    ranked = sorted(graph.sentences, key=lambda s: (-round(float(scores[s.position]), SCORE_DECIMALS), s.position))
    chosen: list[_Sentence] = []
    used = 0

    def take(candidates: list[_Sentence], until: int) -> None:
        nonlocal used
        for sentence in candidates:
            if len(chosen) >= until:
                return
            if used + sentence.n_words > config.max_words:
                continue
            if any(sentence.text == c.text or graph.cosine[sentence.position, c.position] > REDUNDANT
                   for c in chosen):
                continue
            if sentence.needs_antecedent and all(c.position != sentence.position - 1 for c in chosen):
                continue
            chosen.append(sentence)
            used += sentence.n_words

    repeats = [s for s in ranked if s.repeats_heading]
    ranked = [s for s in ranked if not s.repeats_heading]
    if not ranked:
        # nothing but the heading's sentence: given whole when the heading shows only its start
        return repeats[:1] if graph.shortened_lead else []
    whole = [s for s in ranked if not s.fragment and not s.heading]
    take(whole, config.max_sentences)
    take([s for s in whole if s not in chosen], config.max_sentences)  # antecedents may now be chosen
    if whole and not chosen:
        return [whole[0]]
    take([s for s in ranked if s.fragment and not s.heading and not s.broken_quote], config.min_sentences)
    if not chosen:
        chosen.append(next((s for s in ranked if not s.heading), ranked[0]))
    return sorted(chosen, key=lambda s: s.position)


def _quoted_units(paragraph: str) -> list[tuple[str, list[str], bool]]:
    """The paragraph's sentences, a quotation of several kept whole: each unit, its sentences, whether its quote is broken.

    The splitter ends sentences inside quotations ('Gaetz responded: “Absolutely. It
    was worth it,” he said.'); a unit runs on, verbatim, until the quotation one of its
    sentences opened is closed. Broken: the unit closes a quotation it did not open
    (it starts inside someone's words) or leaves one open at the paragraph's end (the
    words without their end, or their attribution). Quoted alone, either would put
    those words in the publisher's mouth.
    """
    units: list[tuple[str, list[str], bool]] = []
    quote_open = broken = False
    start: int | None = None
    first = 0
    spans = sentence_spans(paragraph)
    for index, (begin, end) in enumerate(spans):
        if start is None:
            start, first, broken = begin, index, False
        for mark in QUOTE_MARK.findall(paragraph[begin:end]):
            if mark == "“":
                quote_open = True
            elif mark == "”":
                broken = broken or not quote_open
                quote_open = False
            else:
                quote_open = not quote_open
        if not quote_open or index == len(spans) - 1:
            units.append((paragraph[start:end], [paragraph[b:e] for b, e in spans[first : index + 1]], broken or quote_open))
            start = None
    return units


def _sentences(story: Story, headline: str) -> tuple[list[_Sentence], list[list[str]]]:
    """The story's first MAX_SENTENCES units, with what selection needs to know about each, and their sentences."""
    sentences: list[_Sentence] = []
    pieces: list[list[str]] = []
    heading_words = _comparable(headline) if headline else None
    heading_letters = _letters(headline)
    considered = 0
    for paragraph in story.paragraphs:
        for text, unit_pieces, broken_quote in _quoted_units(paragraph):
            considered += len(unit_pieces)
            if considered > MAX_SENTENCES and sentences:
                return sentences, pieces
            sentences.append(_Sentence(
                text, len(sentences), count_words(text), broken_quote or _is_fragment(text), _is_heading(text),
                bool(PRONOUN_REFERENCE.search(text) or CONNECTIVE_OPENING.search(text)),
                _comparable(text) == heading_words or _said_by(heading_letters, text), broken_quote,
            ))
            pieces.append(unit_pieces)
    return sentences, pieces


def _comparable(text: str) -> tuple[str, ...]:
    """A text's words, case aside: a heading without its full stop still says the sentence."""
    return tuple(word.casefold() for word in words(text))


def _letters(text: str) -> str:
    """A text's letters and digits, case aside: what a reader reads, whatever the apostrophes, spaces and
    entities of its copy (a feed's title 'Yellow's' and 'after investors', its text 'Yellow’s' and 'after&nbsp;investors')."""
    return "".join(character for character in text.casefold() if character.isalnum())


def _said_by(heading_letters: str, sentence: str) -> bool:
    """Whether the heading says the sentence already: the same letters, or (a sentence of MIN_WORDS words or
    more) the letters of a part of it, as when a headline is the lede's two sentences."""
    letters = _letters(sentence)
    if not letters:
        return False
    return letters == heading_letters or (count_words(sentence) >= MIN_WORDS and letters in heading_letters)


def has_sentences(story: Story) -> bool:
    """Whether the story has a sentence to show: whether any paragraph has a non-space character.

    split_sentences() finds at least one sentence in any such text (tests/test_sentences.py
    checks it), and _select() picks one when there are any, unless the story's heading says it
    already (digest.stages.headline); this answers without splitting.
    """
    return any(paragraph.strip() for paragraph in story.paragraphs)


def summarize(story: Story, config: SummaryConfig) -> tuple[str, ...]:
    """min..max of the story's sentences, verbatim and in source order, within the word budget."""
    return summarize_many([story], config)[0]


def summarize_many(stories: Sequence[Story], config: SummaryConfig) -> list[tuple[str, ...]]:
    """summarize() for each story, with the power iteration batched across stories."""
    graphs = [_graph(story) for story in stories]
    present = [g for g in graphs if g.sentences]
    scores = iter(_centralities(present))
    return [
        tuple(s.text for s in _select(g, g.unit_scores(next(scores)), config)) if g.sentences else ()
        for g in graphs
    ]

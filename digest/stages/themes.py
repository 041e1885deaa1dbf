"""Keyword rules for themes: the term groups and weighted keywords of a theme's signals.

A story qualifies for a theme by its rules when it mentions a term of every
``require`` group (a settler *and* an act of violence *and* a place), its
weighted keyword hits reach ``min_hits`` (one passing mention in a short feed
entry is not a story about the theme), a brief (a body under BRIEF_WORDS
words) names the theme in its headline, and their density, hits per 100
words with the title counted twice, reaches ``min_score``. A negative weight
counts against a theme. The rules are signals the theme model weighs
(digest.stages.theme_classifier) and place long stories on their own;
decide_by_rules() is what digest did with them alone, kept for comparison.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from digest.config import Theme
from digest.models import Story, ThemeDecision

HINT_BOOST = 1.25
"""A story from a feed configured with theme hints has its keyword rules score this much higher."""
BRIEF_WORDS = 60
"""A story with a body shorter than this is a brief: its headline must name the theme."""
MIN_WORDS = 50
"""Density is computed over at least this many words, so a one-line post cannot score high by luck."""


TOKEN = re.compile(r"\w+(?:['’]\w+)*")
"""Words, apostrophes kept inside (settler's) but not around (‘solidarity’); a hyphen separates
words, so 'pro-Palestinian' matches both palestin* and pro-palestin*."""

_PUNCTUATION = "“”‘—–…\xa0"
"""The non-word marks news text is full of; a space in their place leaves its words as they are."""
_MORE_PUNCTUATION = re.compile("[«»‹›„‚•·°′″−£€\u200b\u2002\u2003\u2009\u202f]")
_APOSTROPHE = "’"
_APOSTROPHE_STAND_IN = "\x00"
"""Stands for ’ in ASCII text while it is split, so that the ASCII fast path keeps it inside words."""
_ASCII_WORDS = str.maketrans(
    {c: c.lower() if c.isalnum() or c in "_'" + _APOSTROPHE_STAND_IN else " " for c in map(chr, range(128))}
)
"""ASCII text lower-cased, and all but word characters and apostrophes made spaces."""
_LOOSE_APOSTROPHE = re.compile("['\x00](?:(?<![^ '\x00]['\x00])|(?![^ '\x00]))")
"""An apostrophe not between two word characters: a separator (in text made by _ASCII_WORDS)."""


def words(text: str) -> list[str]:
    """TOKEN.findall(text.lower()), at a third of the cost (measured) for text whose letters are ASCII.

    The regular expression tests every character; here common punctuation is
    replaced by spaces (str.replace), the rest is lower-cased and
    non-word characters made spaces in one str.translate, and str.split cuts
    the words. Text with other non-ASCII characters takes the regular expression.
    """
    if _APOSTROPHE_STAND_IN in text:
        return TOKEN.findall(text.lower())
    plain = text
    if not plain.isascii():
        for mark in _PUNCTUATION:
            plain = plain.replace(mark, " ")
        if not plain.isascii():
            plain = _MORE_PUNCTUATION.sub(" ", plain).replace(_APOSTROPHE, _APOSTROPHE_STAND_IN)
            if not plain.isascii():
                return TOKEN.findall(text.lower())
    plain = plain.translate(_ASCII_WORDS)
    if "'" in plain or _APOSTROPHE_STAND_IN in plain:
        plain = _LOOSE_APOSTROPHE.sub(" ", plain).replace(_APOSTROPHE_STAND_IN, _APOSTROPHE)
    return plain.split()


@lru_cache(maxsize=4096)
def parse_term(term: str) -> tuple[tuple[str, bool], ...]:
    """'fighter jet*' -> (('fighter', False), ('jet', True)): words, and whether any ending matches."""
    parts = [part for part in re.split(r"[\s-]+", term.lower()) if part]
    return tuple((part.rstrip("*"), part.endswith("*")) for part in parts)


def _both_match(a: tuple[str, bool], b: tuple[str, bool]) -> bool:
    """Whether one word can match both parts of terms."""
    (word_a, prefix_a), (word_b, prefix_b) = a, b
    if prefix_a and prefix_b:
        return word_a.startswith(word_b) or word_b.startswith(word_a)
    if prefix_a or prefix_b:
        word, start = (word_b, word_a) if prefix_a else (word_a, word_b)
        return word.startswith(start)
    return word_a == word_b


def _phrase_counter(parts: tuple[tuple[str, bool], ...]) -> Callable[[str], int]:
    """How to count a phrase in a text's words joined by two spaces, with a space before and after.

    The two spaces keep occurrences apart: one that ends a word's first space
    does not take the next one's. A phrase of whole words (the last may be a
    prefix) is then a substring, counted by str.count at a fraction of the
    cost of a regular expression (measured). Two occurrences of a phrase can
    share words ('one by one' in 'one by one by one'): such a phrase is
    counted at every start by a lookahead.
    """
    overlapping = any(
        all(_both_match(parts[shift + k], parts[k]) for k in range(len(parts) - shift))
        for shift in range(1, len(parts))
    )
    end = "" if parts[-1][1] else " "
    if not overlapping and not any(prefix for _, prefix in parts[:-1]):
        literal = " " + "  ".join(word for word, _ in parts) + end
        return lambda joined: joined.count(literal)
    phrase = " " + "  ".join(re.escape(word) + ("[^ ]*" if prefix else "") for word, prefix in parts) + end
    pattern = re.compile(f"(?={phrase})" if overlapping else phrase)
    return lambda joined: len(pattern.findall(joined))


class TermIndex:
    """The terms of a set of themes, matched against each distinct word once.

    Stories share most of their words, so which terms a word is (and which
    words of phrases) is worked out the first time the word is seen and
    remembered. A text's counts then take a set intersection of its distinct
    words with the words that match anything, and a phrase is looked for (by
    a regular expression) only in a text that has a word for each of its
    words.
    """

    def __init__(self, terms: Iterable[str]) -> None:
        self.terms: list[str] = []
        self.phrases: list[str] = []
        self._phrase_words: list[frozenset[tuple[int, int]]] = []
        self._phrase_counters: list[Callable[[str], int]] = []
        self._exact: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
        self._prefixes: dict[str, list[tuple[str, tuple[str, int, int]]]] = defaultdict(list)
        """Prefix words by their first letter ('' for a bare '*'); a target is
        (one-word term, -1, -1) or ('', phrase number, word number)."""
        for term in dict.fromkeys(terms):
            parts = parse_term(term)
            if not parts:
                continue
            if len(parts) > 1:
                targets = [("", len(self.phrases), k) for k in range(len(parts))]
                self.phrases.append(term)
                self._phrase_words.append(frozenset((len(self._phrase_words), k) for k in range(len(parts))))
                self._phrase_counters.append(_phrase_counter(parts))
            else:
                targets = [(term, -1, -1)]
                self.terms.append(term)
            for (word, prefix), target in zip(parts, targets, strict=True):
                if prefix:
                    self._prefixes[word[:1]].append((word, target))
                else:
                    self._exact[word].append(target)
        self._known = frozenset(self.terms) | frozenset(self.phrases)
        self._seen: set[str] = set()
        self._matching: dict[str, tuple[tuple[str, ...], tuple[tuple[int, int], ...]]] = {}
        """Word -> the one-word terms it is, and the (phrase, word number)s it can be."""

    @classmethod
    def of(cls, themes: Mapping[str, Theme]) -> TermIndex:
        return cls(
            term
            for theme in themes.values()
            if theme.signals is not None
            for term in [*theme.signals.keywords, *(t for group in theme.signals.require for t in group)]
        )

    def __contains__(self, term: str) -> bool:
        return term in self._known

    def _learn(self, token: str) -> None:
        candidates = self._prefixes.get(token[:1], []) + self._prefixes.get("", [])
        targets = self._exact.get(token, []) + [target for word, target in candidates if token.startswith(word)]
        if targets:
            self._matching[token] = (
                tuple(term for term, phrase, _ in targets if phrase < 0),
                tuple((phrase, k) for _, phrase, k in targets if phrase >= 0),
            )

    def count(self, tokens: list[str], counts: Mapping[str, int]) -> dict[str, int]:
        """How often each term occurs in a text (its words in order, and their counts); 0s left out."""
        if not self._seen.issuperset(counts):
            # not counts.keys() - self._seen: for a set, that walks the whole set (the vocabulary)
            for token in [token for token in counts if token not in self._seen]:
                self._seen.add(token)
                self._learn(token)
        found: dict[str, int] = {}
        phrase_words: set[tuple[int, int]] = set()
        for token in counts.keys() & self._matching.keys():
            terms, parts = self._matching[token]
            for term in terms:
                found[term] = found.get(term, 0) + counts[token]
            phrase_words.update(parts)
        joined = ""
        # only phrases whose first word is here can occur: walking every phrase costs each text the whole list
        for phrase in sorted(phrase for phrase, k in phrase_words if k == 0):
            if self._phrase_words[phrase] <= phrase_words:
                joined = joined or " " + "  ".join(tokens) + " "
                if n := self._phrase_counters[phrase](joined):
                    found[self.phrases[phrase]] = n
        return found


@lru_cache(maxsize=256)
def _index_of(term: str) -> TermIndex:
    return TermIndex((term,))


class Terms:
    """A text's words, and how often the terms of an index occur in them."""

    def __init__(self, text: str | list[str], index: TermIndex | None = None) -> None:
        """``text``, or its words as words() splits them (the opening of a text already split)."""
        self.tokens = words(text) if isinstance(text, str) else text
        self.counts = Counter(self.tokens)
        self.index = index
        self.found = index.count(self.tokens, self.counts) if index is not None else {}
        """The index's terms that occur, with their counts."""

    def count(self, term: str) -> int:
        if self.index is not None and term in self.index:
            return self.found.get(term, 0)
        return _index_of(term).count(self.tokens, self.counts).get(term, 0)


@dataclass(frozen=True)
class ThemeScore:
    theme: str
    score: float
    qualifies: bool
    hits: tuple[tuple[str, int], ...]
    missing: tuple[str, ...]
    hinted: bool = False
    enough: bool = True
    brief_off_headline: bool = False

    def describe(self, title: str) -> str:
        top = ", ".join(f"{term} ×{n}" for term, n in self.hits[:4]) or "no keywords"
        if self.missing:
            return f"{title}: never mentions {' / '.join(self.missing)}"
        if not self.enough:
            return f"{title}: too few keywords to be about it ({top})"
        if self.brief_off_headline:
            return f"{title}: a brief whose headline does not name it ({top})"
        hint = f", ×{HINT_BOOST} for the feed's theme hint" if self.hinted else ""
        return f"{title}: {self.score:.1f} per 100 words ({top}{hint})"


def score_theme(key: str, theme: Theme, story: Story, title: Terms, body: Terms) -> ThemeScore:
    """Weighted keyword hits per 100 words (a hyphenated word counts as one word).

    ``title`` and ``body`` are counted with an index of the theme's terms (TermIndex.of).
    """
    if theme.signals is None:
        raise ValueError(f"theme {key!r} has no signals to score")
    in_title, in_body = title.found, body.found
    present = in_title.keys() | in_body.keys()
    n_words = max(2 * len(title.tokens) + len(body.tokens), MIN_WORDS)
    hits = []
    weighted = 0.0
    for term, weight in theme.signals.keywords.items() if present else ():
        if term in present:
            n = in_body.get(term, 0) + 2 * in_title.get(term, 0)
            hits.append((term, n))
            weighted += weight * n
    hits.sort(key=lambda hit: (-hit[1], hit[0]))
    missing = tuple(
        group[0] + ("…" if len(group) > 1 else "") for group in theme.signals.require if present.isdisjoint(group)
    )
    enough = weighted >= theme.signals.min_hits
    brief_off_headline = bool(title.tokens) and len(body.tokens) < BRIEF_WORDS and not any(
        theme.signals.keywords.get(term, 0) > 0 for term in in_title
    )
    score = 100 * weighted / n_words
    hinted = key in story.theme_hints
    if hinted:
        score *= HINT_BOOST
    score = round(score, 2)
    qualifies = not missing and enough and not brief_off_headline and score >= theme.signals.min_score
    return ThemeScore(key, score, qualifies, tuple(hits), missing, hinted, enough, brief_off_headline)


def decide_by_rules(story: Story, themes: Mapping[str, Theme], index: TermIndex | None = None) -> ThemeDecision:
    """The theme the keyword rules alone give (what digest did before its model; bench/themes.py compares)."""
    themes = ruled(themes)
    index = index if index is not None else TermIndex.of(themes)
    title, body = Terms(story.title or "", index), Terms(story.text, index)
    scores = [score_theme(key, theme, story, title, body) for key, theme in themes.items()]
    qualifying = sorted((s for s in scores if s.qualifies), key=lambda s: (-s.score, s.theme))
    all_scores = tuple((s.theme, s.score) for s in scores)
    if not qualifying:
        reasons = "; ".join(s.describe(themes[s.theme].title) for s in scores)
        return ThemeDecision(None, 0.0, f"fits no theme — {reasons}", all_scores)
    best = qualifying[0]
    reason = best.describe(themes[best.theme].title)
    if len(qualifying) > 1:
        others = ", ".join(f"{themes[s.theme].title} {s.score:.1f}" for s in qualifying[1:])
        reason += f"; ahead of {others}"
    return ThemeDecision(best.theme, best.score, reason, all_scores)


def ruled(themes: Mapping[str, Theme]) -> dict[str, Theme]:
    """The themes that have signals (keyword rules)."""
    return {key: theme for key, theme in themes.items() if theme.signals is not None}

"""Theming: each story gets at most one primary theme, with a reason.

A theme is recognised from signals in the config, so users can add, remove
and rename themes without code. A story qualifies for a theme when it
mentions a term of every ``require`` group (a settler *and* an act of
violence *and* a place), its weighted keyword hits reach ``min_hits`` (one
passing mention in a short feed entry is not a story about the theme), a
brief (a body under BRIEF_WORDS words) names the theme in its headline, and
their density, hits per 100 words with the title counted twice, reaches
``min_score``. A negative weight counts against a theme (``pro-israel`` for
a theme about solidarity with Palestinians). Density rather than raw counts
keeps a long history essay that mentions settlers once out of the settler
violence section. Among qualifying themes the densest wins; a story that
qualifies for none fits no theme. Precision first: a misplaced story
misleads, an unplaced one is still listed under "Also noted".
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial

from digest import parallel
from digest.config import Theme
from digest.models import Story, ThemeDecision, ThemedStory

PARALLEL_MIN_STORIES = 1000
"""From this many stories on, theming runs in worker processes."""
HINT_BOOST = 1.25
"""A story from a feed configured with theme hints scores this much higher in those themes."""
BRIEF_WORDS = 60
"""A story with a body shorter than this is a brief: its headline must name the theme."""
MIN_WORDS = 50
"""Density is computed over at least this many words, so a one-line post cannot score high by luck."""


TOKEN = re.compile(r"\w+(?:['’]\w+)*")
"""Words, apostrophes kept inside (settler's) but not around (‘solidarity’); a hyphen separates
words, so 'pro-Palestinian' matches both palestin* and pro-palestin*."""


@lru_cache(maxsize=4096)
def parse_term(term: str) -> tuple[tuple[str, bool], ...]:
    """'fighter jet*' -> (('fighter', False), ('jet', True)): words, and whether any ending matches."""
    parts = [part for part in re.split(r"[\s-]+", term.lower()) if part]
    return tuple((part.rstrip("*"), part.endswith("*")) for part in parts)


class TermIndex:
    """The terms of a set of themes, matched against each distinct word once.

    Stories share most of their words, so which terms a word matches (or
    starts, for a phrase) is worked out the first time the word is seen and
    remembered; a text's counts for every term then take one pass over its
    distinct words and one over its words in order.
    """

    def __init__(self, terms: Iterable[str]) -> None:
        self.terms: list[str] = []
        self.phrases: list[str] = []
        self._exact: dict[str, list[str]] = defaultdict(list)
        self._prefixes: dict[str, list[tuple[str, str]]] = defaultdict(list)
        """Prefix terms by their first letter ('' for a bare '*')."""
        self._phrase_parts: dict[str, tuple[tuple[str, bool], ...]] = {}
        for term in dict.fromkeys(terms):
            parts = parse_term(term)
            if not parts:
                continue
            if len(parts) > 1:
                self.phrases.append(term)
                self._phrase_parts[term] = parts
                continue
            word, prefix = parts[0]
            self.terms.append(term)
            if prefix:
                self._prefixes[word[:1]].append((word, term))
            else:
                self._exact[word].append(term)
        self._matches: dict[str, tuple[str, ...]] = {}
        self._starts: dict[str, tuple[tuple[str, tuple[tuple[str, bool], ...]], ...]] = {}

    def _starting(self, token: str) -> tuple[tuple[str, tuple[tuple[str, bool], ...]], ...]:
        """The phrases whose first word ``token`` matches, each with the words that must follow."""
        return tuple(
            (term, parts[1:])
            for term, parts in self._phrase_parts.items()
            if (token.startswith(parts[0][0]) if parts[0][1] else token == parts[0][0])
        )

    def count_phrases(self, tokens: list[str], counts: Counter[str]) -> dict[str, int]:
        """How often each phrase occurs in a text's words (in order; ``counts``: their counts)."""
        found = dict.fromkeys(self.phrases, 0)
        starts = self._starts
        for token in counts.keys() - starts.keys():
            starts[token] = self._starting(token)
        openers = {token for token in counts if starts[token]}
        if not openers:
            return found
        for i in [i for i, token in enumerate(tokens) if token in openers]:
            for term, rest in starts[tokens[i]]:
                following = tokens[i + 1 : i + 1 + len(rest)]
                if len(following) == len(rest) and all(
                    t.startswith(w) if p else t == w for t, (w, p) in zip(following, rest, strict=True)
                ):
                    found[term] += 1
        return found

    @classmethod
    def of(cls, themes: Mapping[str, Theme]) -> TermIndex:
        return cls(
            term
            for theme in themes.values()
            for term in [*theme.signals.keywords, *(t for group in theme.signals.require for t in group)]
        )

    def _match(self, token: str) -> tuple[str, ...]:
        candidates = self._prefixes.get(token[:1], []) + self._prefixes.get("", [])
        return tuple(self._exact.get(token, [])) + tuple(t for w, t in candidates if token.startswith(w))

    def count_all(self, counts: Counter[str]) -> dict[str, int]:
        """How often each one-word term occurs, given a text's word counts."""
        found = dict.fromkeys(self.terms, 0)
        matches = self._matches
        for token, n in counts.items():
            matched = matches.get(token)
            if matched is None:
                matched = matches[token] = self._match(token)
            for term in matched:
                found[term] += n
        return found


class Terms:
    """A text's words, indexed once so each configured term is counted by lookups, not a scan."""

    def __init__(self, text: str, index: TermIndex | None = None) -> None:
        self.tokens = TOKEN.findall(text.lower())
        self.counts = Counter(self.tokens)
        self._vocabulary: list[str] | None = None
        self._positions: dict[str, list[int]] | None = None
        self._found: dict[str, int] = (
            index.count_all(self.counts) | index.count_phrases(self.tokens, self.counts) if index is not None else {}
        )
        """Counts already taken: themes share terms, and each is asked for several times."""

    @property
    def vocabulary(self) -> list[str]:
        """The distinct words, sorted, for prefix lookups (sorted on first use)."""
        if self._vocabulary is None:
            self._vocabulary = sorted(self.counts)
        return self._vocabulary

    def _matching(self, word: str, prefix: bool) -> list[str]:
        if not prefix:
            return [word] if word in self.counts else []
        start = bisect_left(self.vocabulary, word)
        end = bisect_left(self.vocabulary, word + "\U0010ffff", start)
        return self.vocabulary[start:end]

    def count(self, term: str) -> int:
        found = self._found.get(term)
        if found is None:
            found = self._found[term] = self._count(term)
        return found

    def _count(self, term: str) -> int:
        parts = parse_term(term)
        (first, prefix), rest = parts[0], parts[1:]
        if not rest:
            if not prefix:
                return self.counts[first]
            return sum(self.counts[token] for token in self._matching(first, prefix))
        if self._positions is None:
            self._positions = defaultdict(list)
            for i, token in enumerate(self.tokens):
                self._positions[token].append(i)
        found = 0
        for token in self._matching(first, prefix):
            for i in self._positions[token]:
                following = self.tokens[i + 1 : i + 1 + len(rest)]
                if len(following) == len(rest) and all(
                    t.startswith(w) if p else t == w for t, (w, p) in zip(following, rest, strict=True)
                ):
                    found += 1
        return found


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
    """Weighted keyword hits per 100 words (a hyphenated word counts as one word)."""
    n_words = max(2 * len(title.tokens) + len(body.tokens), MIN_WORDS)
    hits = []
    weighted = 0.0
    for term, weight in theme.signals.keywords.items():
        n = body.count(term) + 2 * title.count(term)
        if n:
            hits.append((term, n))
            weighted += weight * n
    hits.sort(key=lambda hit: (-hit[1], hit[0]))
    missing = tuple(
        group[0] + ("…" if len(group) > 1 else "")
        for group in theme.signals.require
        if not any(body.count(term) or title.count(term) for term in group)
    )
    enough = weighted >= theme.signals.min_hits
    brief_off_headline = bool(title.tokens) and len(body.tokens) < BRIEF_WORDS and not any(
        title.count(term) for term, weight in theme.signals.keywords.items() if weight > 0
    )
    score = 100 * weighted / n_words
    hinted = key in story.theme_hints
    if hinted:
        score *= HINT_BOOST
    score = round(score, 2)
    qualifies = not missing and enough and not brief_off_headline and score >= theme.signals.min_score
    return ThemeScore(key, score, qualifies, tuple(hits), missing, hinted, enough, brief_off_headline)


def decide(story: Story, themes: Mapping[str, Theme], index: TermIndex | None = None) -> ThemeDecision:
    """The story's theme; ``index`` (TermIndex.of(themes)) saves matching terms afresh for every story."""
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


def _decide_all(themes: Mapping[str, Theme], stories: Sequence[Story]) -> list[ThemeDecision]:
    index = TermIndex.of(themes)
    return [decide(story, themes, index) for story in stories]


def assign_themes(stories: Sequence[Story], themes: Mapping[str, Theme]) -> list[ThemedStory]:
    """Each story with its theme decision; many stories are decided in worker processes (digest.parallel)."""
    if workers := parallel.workers_for(len(stories), PARALLEL_MIN_STORIES):
        decisions = parallel.map_chunks(partial(_decide_all, themes), stories, workers)
    else:
        decisions = _decide_all(themes, stories)
    return [ThemedStory(story, decision) for story, decision in zip(stories, decisions, strict=True)]

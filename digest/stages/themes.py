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
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial

from digest.config import Theme
from digest.models import Story, ThemeDecision, ThemedStory
from digest.speed import parallel
from digest.stages.theme_model import (
    Example,
    Placement,
    ThemeModel,
    examples_of,
    read_story,
    shipped_examples,
    train,
    training_key,
)

PARALLEL_MIN_STORIES = 1000
"""From this many stories on, theming runs in worker processes."""
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
        for phrase, words_needed in enumerate(self._phrase_words):
            if words_needed <= phrase_words:
                joined = joined or " " + "  ".join(tokens) + " "
                if n := self._phrase_counters[phrase](joined):
                    found[self.phrases[phrase]] = n
        return found


@lru_cache(maxsize=256)
def _index_of(term: str) -> TermIndex:
    return TermIndex((term,))


class Terms:
    """A text's words, and how often the terms of an index occur in them."""

    def __init__(self, text: str, index: TermIndex | None = None) -> None:
        self.tokens = words(text)
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
    themes = _ruled(themes)
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


class RuleSignals:
    """What the themes' term groups say of a story, as features the model weighs, each with how a reason shows it.

    Per theme with signals: each require group the story mentions, whether it
    mentions all of them, and whether the keyword rules would place it (scored
    only then: a story missing a group cannot qualify).
    """

    def __init__(self, themes: Mapping[str, Theme]) -> None:
        self.themes = _ruled(themes)
        self.groups = {
            key: [(number, frozenset(group), group) for number, group in enumerate(theme.signals.require, 1)]
            for key, theme in self.themes.items()
            if theme.signals is not None
        }

    def __call__(self, story: Story, title: Terms, body: Terms) -> dict[str, str]:
        found: dict[str, str] = {}
        present = title.found.keys() | body.found.keys()
        for key, theme in self.themes.items():
            every = True
            for number, members, group in self.groups[key]:
                if hits := members & present:
                    matched = next(term for term in group if term in hits)
                    found[f"<{key} group {number}>"] = f"{matched.rstrip('*')} ({theme.title} terms)"
                else:
                    every = False
            if every:
                found[f"<{key} every group>"] = f"every {theme.title} term group"
                if score_theme(key, theme, story, title, body).qualifies:
                    found[f"<{key} rules>"] = f"{theme.title} keyword rules"
        return found


def _ruled(themes: Mapping[str, Theme]) -> dict[str, Theme]:
    return {key: theme for key, theme in themes.items() if theme.signals is not None}


@dataclass
class ThemeClassifier:
    """The themes of an edition and the model trained for them: decides a story's theme, with a reason."""

    themes: Mapping[str, Theme]
    model: ThemeModel
    index: TermIndex | None = None
    signals: RuleSignals | None = None

    def features(self, story: Story) -> tuple[frozenset[str], dict[str, str], int]:
        """The story's features, how a reason shows them (for those not the story's own words), its length."""
        index = self.index = self.index or TermIndex.of(_ruled(self.themes))
        rules = self.signals = self.signals or RuleSignals(self.themes)
        title, body = Terms(story.title or "", index), Terms(story.text, index)
        signals = rules(story, title, body)
        found, seen = read_story(story.title or "", story.text)
        shown = dict(reversed(seen))
        shown.update(signals)
        return found | signals.keys(), shown, len(body.tokens)

    def decide(self, story: Story) -> ThemeDecision:
        features, signals, length = self.features(story)
        placements = self.model.place(features, story.theme_hints, HINT_LOGIT)
        placements.sort(key=lambda p: (-p.probability, p.theme))
        scores = tuple((p.theme, round(p.probability, 3)) for p in placements)
        placed = [p for p in placements if p.probability >= self.themes[p.theme].min_probability]
        if not placed and length >= LONG_STORY_WORDS:
            placed = [p for p in placements if f"<{p.theme} rules>" in signals]
            if placed:
                best = placed[0]
                index = self.index or TermIndex.of(_ruled(self.themes))
                rules = score_theme(
                    best.theme, self.themes[best.theme], story, Terms(story.title or "", index), Terms(story.text, index)
                )
                reason = (
                    f"{rules.describe(self.themes[best.theme].title)} by its keyword rules, over a long story; "
                    f"from its title and lede alone {self._describe(best, story, signals)}"
                )
                return ThemeDecision(best.theme, round(best.probability, 3), reason, scores)
        if not placed:
            nearest = placements[0] if placements else None
            reason = "fits no theme"
            if nearest is not None:
                reason += f" — nearest {self._describe(nearest, story, signals)}"
            return ThemeDecision(None, 0.0, reason, scores)
        best = placed[0]
        reason = self._describe(best, story, signals)
        if len(placed) > 1:
            reason += "; ahead of " + ", ".join(f"{self.themes[p.theme].title} {p.probability:.0%}" for p in placed[1:])
        return ThemeDecision(best.theme, round(best.probability, 3), reason, scores)

    def _describe(self, placement: Placement, story: Story, shown: Mapping[str, str]) -> str:
        """'Arms exports 94% (arms sales +1.9, weapons +1.2; the feed's theme hint)': the weights that placed it."""
        terms = ", ".join(
            f"{_readable(feature, shown)} {weight:+.1f}"
            for feature, weight in placement.strongest(REASON_TERMS)
        )
        hint = "; the feed's theme hint" if placement.hinted else ""
        title = self.themes[placement.theme].title
        return f"{title} {placement.probability:.0%} ({terms or 'no telling words'}{hint})"


LONG_STORY_WORDS = 150
"""From this many words of text on, a story the keyword rules place (their density is over the whole
text) is placed even when the model, which reads the title and lede, is less sure."""
REASON_TERMS = 4
"""Weighted terms a reason names: the strongest, for or against."""
HINT_LOGIT = 0.5
"""A story from a feed configured with theme hints is this much likelier (in log-odds) in those themes."""


def _readable(feature: str, shown: Mapping[str, str]) -> str:
    """A feature in the story's own words: stems 'arm sale' -> 'arms sales'."""
    if feature.startswith("<"):
        return shown.get(feature, feature)
    return " ".join(shown.get(stem, stem).lower() for stem in feature.split(" "))


_MODELS: dict[str, ThemeModel] = {}
"""Models trained in this process, by training key (training_key): each distinct training set once."""
MODELS_KEPT = 8


def train_model(themes: Mapping[str, Theme], examples: Sequence[Example]) -> ThemeModel:
    """A model for these themes trained on ``examples`` (teaching()), with the themes' rule signals as features."""
    key = training_key(tuple(themes), examples)
    if key in _MODELS:
        return _MODELS[key]
    ruled = _ruled(themes)
    index = TermIndex.of(ruled)
    rules = RuleSignals(ruled)

    def signals(title: str, text: str) -> list[str]:
        story = Story("example", title, (text,) if text else (), (), "example", 0)
        return list(rules(story, Terms(title, index), Terms(text, index)))

    if len(_MODELS) >= MODELS_KEPT:
        _MODELS.clear()
    model = _MODELS[key] = train(tuple(themes), examples, signals)
    return model


def teaching(themes: Mapping[str, Theme], corrections: Sequence[Example] = ()) -> list[Example]:
    """What a model for these themes learns from: shipped labelled items, the themes' examples, corrections.

    A shipped item labelled with a theme these themes do not have is left out
    (it is neither in nor out of a renamed or new theme).
    """
    shipped = [e for e in shipped_examples() if e.theme is None or e.theme in themes]
    taught = examples_of(
        {key: (theme.examples.belongs, theme.examples.not_) for key, theme in themes.items()}
    )
    return shipped + taught + [c for c in corrections if c.theme in themes]


def classifier(themes: Mapping[str, Theme], corrections: Sequence[Example] = (), model: ThemeModel | None = None) -> ThemeClassifier:
    """The classifier for these themes: ``model`` if given (kept from an earlier build), else trained now."""
    return ThemeClassifier(themes, model or train_model(themes, teaching(themes, corrections)))


def decide(story: Story, themes: Mapping[str, Theme] | ThemeClassifier) -> ThemeDecision:
    """The story's theme; pass a ThemeClassifier to decide many stories with one model."""
    chosen = themes if isinstance(themes, ThemeClassifier) else classifier(themes)
    return chosen.decide(story)


def decide_all(chosen: ThemeClassifier, stories: Sequence[Story]) -> list[ThemeDecision]:
    return [chosen.decide(story) for story in stories]


def assign_themes(stories: Sequence[Story], themes: Mapping[str, Theme] | ThemeClassifier) -> list[ThemedStory]:
    """Each story with its theme decision; many stories are decided in worker processes (digest.speed.parallel)."""
    chosen = themes if isinstance(themes, ThemeClassifier) else classifier(themes)
    if workers := parallel.workers_for(len(stories), PARALLEL_MIN_STORIES):
        decisions = parallel.map_chunks(partial(decide_all, chosen), stories, workers)
    else:
        decisions = decide_all(chosen, stories)
    return [ThemedStory(story, decision) for story, decision in zip(stories, decisions, strict=True)]

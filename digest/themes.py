"""Theming: each story gets at most one primary theme, with a reason.

A theme is recognised from signals in the config, so users can add, remove
and rename themes without code. A story qualifies for a theme when it
mentions a term of every ``require`` group (a settler *and* an act of
violence) and its weighted keyword density, hits per 100 words with the
title counted twice, reaches ``min_score``. Density rather than raw counts
keeps a long history essay that mentions settlers once out of the settler
violence section. Among qualifying themes the densest wins; a story that
qualifies for none fits no theme. Precision first: a misplaced story
misleads, an unplaced one is still listed under "Also noted".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from digest.config import Theme
from digest.models import Story, ThemeDecision, ThemedStory
from digest.words import words

HINT_BOOST = 1.25
"""A story from a feed configured with theme hints scores this much higher in those themes."""
MIN_WORDS = 50
"""Density is computed over at least this many words, so a one-line post cannot score high by luck."""


@lru_cache(maxsize=4096)
def term_pattern(term: str) -> re.Pattern[str]:
    """'settler*' -> settlers, settler's; 'olive harvest' -> across any whitespace."""
    prefix = term.endswith("*")
    parts = [re.escape(p) for p in term.rstrip("*").split()]
    body = r"\s+".join(parts)
    tail = r"[\w'’-]*" if prefix else ""
    return re.compile(rf"(?<![\w-]){body}{tail}(?![\w])", re.IGNORECASE)


def count(term: str, text: str) -> int:
    return len(term_pattern(term).findall(text))


@dataclass(frozen=True)
class ThemeScore:
    theme: str
    score: float
    qualifies: bool
    hits: tuple[tuple[str, int], ...]
    missing: tuple[str, ...]
    hinted: bool = False

    def describe(self, title: str) -> str:
        top = ", ".join(f"{term} ×{n}" for term, n in self.hits[:4]) or "no keywords"
        if self.missing:
            return f"{title}: never mentions {' / '.join(self.missing)}"
        hint = f", ×{HINT_BOOST} for the feed's theme hint" if self.hinted else ""
        return f"{title}: {self.score:.1f} per 100 words ({top}{hint})"


def score_theme(key: str, theme: Theme, story: Story) -> ThemeScore:
    title = story.title or ""
    body = story.text
    n_words = max(len(words(title)) * 2 + len(words(body)), MIN_WORDS)
    hits = []
    weighted = 0.0
    for term, weight in theme.signals.keywords.items():
        n = count(term, body) + 2 * count(term, title)
        if n:
            hits.append((term, n))
            weighted += weight * n
    hits.sort(key=lambda hit: (-hit[1], hit[0]))
    text = f"{title}\n{body}"
    missing = tuple(
        group[0] + ("…" if len(group) > 1 else "")
        for group in theme.signals.require
        if not any(count(term, text) for term in group)
    )
    score = 100 * weighted / n_words
    hinted = key in story.theme_hints
    if hinted:
        score *= HINT_BOOST
    score = round(score, 2)
    return ThemeScore(key, score, not missing and score >= theme.signals.min_score, tuple(hits), missing, hinted)


def decide(story: Story, themes: Mapping[str, Theme]) -> ThemeDecision:
    scores = [score_theme(key, theme, story) for key, theme in themes.items()]
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


def assign_themes(stories: Sequence[Story], themes: Mapping[str, Theme]) -> list[ThemedStory]:
    return [ThemedStory(story, decide(story, themes)) for story in stories]

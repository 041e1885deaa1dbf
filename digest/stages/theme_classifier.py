"""Placing stories in themes: a model per theme taught by examples, with a reason a reader can follow.

Each story gets at most one theme: the one the model (digest.stages.theme_model)
finds it likeliest to be about, when that is at least the theme's
``min_probability``. The model weighs the story's own words and word pairs and
what the themes' term groups say of it (RuleSignals); a long story the keyword
rules place is placed by them. Every decision names the weights that made it.
Precision first: a misplaced story misleads, an unplaced one may still be
listed under "Also noted".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from functools import partial

from digest.config import Theme
from digest.models import PlacedBy, SourceRef, Story, ThemeDecision, ThemedStory
from digest.speed import parallel
from digest.stages.sentences import split_sentences
from digest.stages.theme_model import (
    IN_TITLE,
    Example,
    Placement,
    ThemeModel,
    examples_of,
    read_story,
    shipped_examples,
    train,
    training_key,
)
from digest.stages.themes import TermIndex, Terms, ruled, score_theme

PARALLEL_MIN_STORIES = 1000
"""From this many stories on, theming runs in worker processes."""


class RuleSignals:
    """What the themes' term groups say of a story, as features the model weighs, each with how a reason shows it.

    Per theme with signals: each require group the story mentions, whether it
    mentions all of them, and whether the keyword rules would place it (scored
    only then: a story missing a group cannot qualify).
    """

    def __init__(self, themes: Mapping[str, Theme]) -> None:
        self.themes = ruled(themes)
        self.groups = {
            key: [(number, frozenset(group), group) for number, group in enumerate(theme.signals.require, 1)]
            for key, theme in self.themes.items()
            if theme.signals is not None
        }

    def __call__(self, story: Story, title: Terms, body: Terms) -> dict[str, str]:
        """The signals of the title and text together, and those of the title alone (marked IN_TITLE;
        a story with no title or no text: the same signals, as read_story() reads it)."""
        found = self._signals(story, title, body, title.found.keys() | body.found.keys(), "", "")
        if body.tokens and title.tokens:
            found.update(self._signals(story, title, NO_TEXT, title.found.keys(), IN_TITLE, " in the title"))
        else:
            found.update(
                {IN_TITLE + feature: f"{shown} in the title" for feature, shown in found.items() if NO_GROUP not in feature}
            )
        return found

    def _signals(
        self, story: Story, title: Terms, body: Terms, present: Set[str], mark: str, where: str
    ) -> dict[str, str]:
        found: dict[str, str] = {}
        for key, theme in self.themes.items():
            every = True
            for number, members, group in self.groups[key]:
                if hits := members & present:
                    matched = next(term for term in group if term in hits)
                    found[f"{mark}<{key} group {number}>"] = f"{matched.rstrip('*')} ({theme.title} terms){where}"
                else:
                    every = False
                    if not mark:
                        found[f"<{key}{NO_GROUP}{number}>"] = f"no word like {group[0].rstrip('*')} ({theme.title} terms)"
            if every:
                found[f"{mark}<{key} every group>"] = f"every {theme.title} term group{where}"
                if score_theme(key, theme, story, title, body).qualifies:
                    found[f"{mark}<{key} rules>"] = f"{theme.title} keyword rules{where}"
        return found


NO_GROUP = " no group "
"""Marks the signal that a story names no term of a group: read over title and text together only."""
NO_TEXT = Terms("")
"""The text of a story read by its title alone."""


@dataclass
class ThemeClassifier:
    """The themes of an edition and the model trained for them: decides a story's theme, with a reason."""

    themes: Mapping[str, Theme]
    model: ThemeModel
    index: TermIndex | None = None
    signals: RuleSignals | None = None
    verdicts: Mapping[str, Mapping[str, bool]] = field(default_factory=dict)
    """Editors' word on particular stories (digest themes learn), by story id: per theme, whether it belongs.
    It stands over the model and the keyword rules: the model learns from a correction, but may still lean
    the old way, and the rules, which place a long story on their own, never learn."""
    _source_terms: dict[str, frozenset[str]] = field(default_factory=dict)
    _compiled_exclusions: dict[str, tuple[re.Pattern[str], ...]] | None = None
    """Each theme's ``exclude`` patterns, compiled once (the first story that needs them)."""

    def _term_index(self) -> TermIndex:
        self.index = self.index or TermIndex.of(ruled(self.themes))
        return self.index

    def _rules(self) -> RuleSignals:
        self.signals = self.signals or RuleSignals(self.themes)
        return self.signals

    def features(self, story: Story) -> tuple[frozenset[str], dict[str, str], tuple[Terms, Terms]]:
        """The story's features, how a reason shows them (for those not the story's own words), and the terms
        of its title and of its whole text.

        The term groups are read over the title and the first LONG_STORY_WORDS words, as much as a feed's
        summary holds and the model's examples (headlines and ledes) taught it: over the whole of a long
        story nearly every war report names a weapon somewhere and a trade word somewhere else.
        """
        index = self._term_index()
        title, body = Terms(story.title or "", index), Terms(story.text, index)
        long = len(body.tokens) > LONG_STORY_WORDS
        lede = Terms(body.tokens[:LONG_STORY_WORDS], index) if long else body
        signals = self._rules()(story, title, lede)
        found, seen = read_story(story.title or "", story.text)
        shown = dict(reversed(seen))
        shown.update(signals)
        return found | signals.keys(), shown, (title, body)

    def decide(self, story: Story) -> ThemeDecision:
        features, signals, (title, body) = self.features(story)
        placements = self.model.place(features, story.theme_hints, HINT_LOGIT)
        placements.sort(key=lambda p: (-p.probability, p.theme))
        scores = tuple((p.theme, round(p.probability, 3)) for p in placements)
        verdict = {theme: belongs for theme, belongs in self.verdicts.get(story.id, {}).items() if theme in self.themes}
        if (chosen := next((p for p in placements if verdict.get(p.theme)), None)) is not None:
            reason = f"{self.themes[chosen.theme].title}, by an editor's correction; the model: {self._describe(chosen, story, signals)}"
            return ThemeDecision(chosen.theme, round(chosen.probability, 3), reason, scores, placed_by=PlacedBy.EDITOR)
        # a theme with term groups names every one of them, or it is missing some
        missing = tuple(key for key in self._rules().groups if f"<{key} every group>" not in signals)
        long = len(body.tokens) >= LONG_STORY_WORDS
        reached = [p for p in placements if p.probability >= self.themes[p.theme].min_probability]
        # a headline is matched only against themes it could be placed in (a long story: any, by the keyword
        # rules) or listed near (Also noted: those it names every term group of)
        excluded = self._excluded(
            story, set(self.themes) if long else {p.theme for p in reached} | set(self.themes).difference(missing)
        )
        refused = [key for key, belongs in verdict.items() if not belongs]
        barred = {*refused, *excluded}
        placed = [p for p in reached if p.theme not in barred]
        ruled_out = [p for p in reached if p.theme in excluded]
        named = title.found.keys() | body.found.keys()
        gated = {key: cause for key in self.themes if (cause := self._unnamed_cause(key, story, named)) is not None}
        unnamed = [p for p in placed if p.theme in gated]
        placed = [p for p in placed if p.theme not in gated]

        def decided(theme: str | None, probability: float, reason: str, placed_by: PlacedBy | None) -> ThemeDecision:
            return ThemeDecision(
                theme, round(probability, 3), reason, scores, tuple(gated), missing, placed_by, tuple(excluded)
            )

        if not placed and long:
            # the keyword rules over the whole text: the first theme (likeliest first) they place the story in
            ruled_themes = self._rules().groups
            qualified = (
                (p, rules)
                for p in placements
                if p.theme in ruled_themes
                and p.theme not in barred
                and (rules := score_theme(p.theme, self.themes[p.theme], story, title, body)).qualifies
            )
            if (first := next(qualified, None)) is not None:
                best, rules = first
                reason = (
                    f"{rules.describe(self.themes[best.theme].title)} by its keyword rules, over a long story; "
                    f"from its title and lede alone {self._describe(best, story, signals)}"
                )
                return decided(best.theme, best.probability, reason, PlacedBy.RULES)
        if not placed:
            nearest = placements[0] if placements else None
            reason = "fits no theme"
            if refused:
                reason += f" (an editor's correction: not {', '.join(self.themes[key].title for key in refused)})"
            if ruled_out:
                matched = ruled_out[0]
                reason += (
                    f" — {self._describe(matched, story, signals)}, but its headline reads “{excluded[matched.theme]}”, "
                    f"which {self.themes[matched.theme].title} excludes"
                )
            elif unnamed:
                cause = gated[unnamed[0].theme]
                reason += (
                    f" — {self._describe(unnamed[0], story, signals)}, but it names nothing like "
                    f"{', '.join(term.rstrip('*') for term in cause[:3])}, which {self.themes[unnamed[0].theme].title} needs"
                )
            elif nearest is not None:
                reason += f" — nearest {self._describe(nearest, story, signals)}"
            return decided(None, 0.0, reason, None)
        best = placed[0]
        reason = self._describe(best, story, signals)
        if len(placed) > 1:
            reason += "; ahead of " + ", ".join(f"{self.themes[p.theme].title} {p.probability:.0%}" for p in placed[1:])
        return decided(best.theme, best.probability, reason, PlacedBy.MODEL)

    def _excluded(self, story: Story, themes: Set[str]) -> dict[str, str]:
        """Of ``themes``, those whose ``exclude`` the story's headline matches, each with the words that matched
        (shortened to their end, which names what is excluded). A story without a title is headed by its first
        sentence."""
        patterns = {theme: compiled for theme, compiled in self._exclusions().items() if theme in themes}
        if not patterns:
            return {}
        headline = story.title or next(iter(split_sentences(story.text[:HEADLINE_CHARS])), "")
        found = {}
        for theme, compiled in patterns.items():
            if (match := next((m for pattern in compiled if (m := pattern.search(headline))), None)) is not None:
                words = match.group(0).strip()
                found[theme] = words if len(words) <= QUOTED_CHARS else "…" + words[-QUOTED_CHARS:].split(" ", 1)[-1]
        return found

    def _exclusions(self) -> dict[str, tuple[re.Pattern[str], ...]]:
        if self._compiled_exclusions is None:
            self._compiled_exclusions = {
                key: tuple(re.compile(pattern, re.IGNORECASE) for pattern in theme.exclude)
                for key, theme in self.themes.items()
                if theme.exclude
            }
        return self._compiled_exclusions

    def _unnamed_cause(self, theme: str, story: Story, named: Set[str]) -> list[str] | None:
        """The terms of the theme's cause (signals.must_name) when the story never mentions one: not in its
        title or whole text (``named``), nor in its feed's name (a search feed named "Gaza"), and its feed is
        not hinted for the theme; else None."""
        signals = self.themes[theme].signals
        if signals is None or signals.must_name is None or theme in story.theme_hints:
            return None
        _, members, group = self._rules().groups[theme][signals.must_name - 1]
        if members & named:
            return None
        return None if self._terms_of_sources(story.sources) & members else group

    def _terms_of_sources(self, sources: Sequence[SourceRef]) -> Set[str]:
        """The theme terms the names of a story's feeds mention (a few feeds give all of an edition's stories)."""
        names = " ".join(source.name for source in sources)
        if names not in self._source_terms:
            self._source_terms[names] = frozenset(Terms(names, self._term_index()).found.keys())
        return self._source_terms[names]

    def _describe(self, placement: Placement, story: Story, shown: Mapping[str, str]) -> str:
        """'Arms exports 94% (arms sales +1.9, weapons +1.2; against: missiles -0.4; the feed's theme hint)':
        for a story at or above the theme's bar, the weights that placed it and the strongest against;
        below it, the weights that moved it most either way."""

        def listed(weights: Sequence[tuple[str, float]]) -> str:
            return ", ".join(f"{_readable(feature, shown)} {weight:+.1f}" for feature, weight in weights)

        if placement.probability >= self.themes[placement.theme].min_probability:
            towards, against = placement.for_and_against(REASON_TERMS)
            terms = listed(towards) + (f"; against: {listed(against)}" if against else "")
        else:
            terms = listed(placement.strongest(REASON_TERMS))
        hint = "; the feed's theme hint" if placement.hinted else ""
        title = self.themes[placement.theme].title
        return f"{title} {placement.probability:.0%} ({terms or 'no telling words'}{hint})"


LONG_STORY_WORDS = 150
"""From this many words of text on, a story the keyword rules place (their density is over the whole
text) is placed even when the model, which reads the title and lede, is less sure."""
HEADLINE_CHARS = 400
"""Characters of an untitled story read for its first sentence, the headline a theme's ``exclude`` is matched on."""
QUOTED_CHARS = 60
"""Characters of a matched headline a reason quotes: its end, which names what the theme excludes."""
REASON_TERMS = 4
"""Weighted terms a reason names: the strongest, for or against."""
HINT_LOGIT = 0.5
"""A story from a feed configured with theme hints is this much likelier (in log-odds) in those themes."""


def _readable(feature: str, shown: Mapping[str, str]) -> str:
    """A feature in the story's own words: stems 'arm sale' -> 'arms sales', '^arm' -> 'arms in the title'."""
    if feature in shown:
        return shown[feature]
    if feature.startswith(IN_TITLE):
        return f"{_readable(feature[len(IN_TITLE):], shown)} in the title"
    return " ".join(shown.get(stem, stem).lower() for stem in feature.split(" "))


_MODELS: dict[str, ThemeModel] = {}
"""Models trained in this process, by training key (training_key): each distinct training set once."""
MODELS_KEPT = 8


def trained_here(key: str) -> ThemeModel | None:
    """The model this process already trained or received for this training key (training_key), if any."""
    return _MODELS.get(key)


def remember_model(key: str, model: ThemeModel) -> ThemeModel:
    """Keep a model for its training key, so this process trains each training set once."""
    if len(_MODELS) >= MODELS_KEPT:
        _MODELS.clear()
    _MODELS[key] = model
    return model


def model_key(themes: Mapping[str, Theme], examples: Sequence[Example]) -> str:
    """The training key of a model for these themes: their signals too, since the term groups are features
    (a model kept from before a theme's groups changed would weigh groups that are no longer there)."""
    signals = {key: theme.signals.model_dump(mode="json") if theme.signals else None for key, theme in themes.items()}
    return training_key((json.dumps(signals, sort_keys=True),), examples)


def train_model(themes: Mapping[str, Theme], examples: Sequence[Example]) -> ThemeModel:
    """A model for these themes trained on ``examples`` (teaching()), with the themes' rule signals as features."""
    key = model_key(themes, examples)
    if (known := trained_here(key)) is not None:
        return known
    with_signals = ruled(themes)
    index = TermIndex.of(with_signals)
    rules = RuleSignals(with_signals)

    def signals(title: str, text: str) -> list[str]:
        story = Story("example", title, (text,) if text else (), (), "example", 0)
        return list(rules(story, Terms(title, index), Terms(text, index)))

    return remember_model(key, train(tuple(themes), examples, signals))


def teaching(themes: Mapping[str, Theme], corrections: Sequence[Example] = ()) -> list[Example]:
    """What a model for these themes learns from: shipped labelled items, the themes' examples (the first:
    its title and description), corrections.

    A shipped item labelled with a theme these themes do not have is left out
    (it is neither in nor out of a renamed or new theme).
    """
    shipped = [e for e in shipped_examples() if e.theme is None or e.theme in themes]
    return shipped + themes_examples(themes) + [c for c in corrections if c.theme in themes]


def themes_examples(themes: Mapping[str, Theme]) -> list[Example]:
    """What the themes themselves teach: each one's title and description, its ``examples:`` in and out."""
    return examples_of(
        {
            key: ((f"{theme.title}\n{theme.description}", *theme.examples.belongs), theme.examples.not_)
            for key, theme in themes.items()
        }
    )


def classifier(
    themes: Mapping[str, Theme],
    corrections: Sequence[Example] = (),
    model: ThemeModel | None = None,
    verdicts: Mapping[str, Mapping[str, bool]] | None = None,
) -> ThemeClassifier:
    """The classifier for these themes: ``model`` if given (kept from an earlier build), else trained now;
    ``verdicts``: editors' word on particular stories (ThemeClassifier.verdicts)."""
    return ThemeClassifier(themes, model or train_model(themes, teaching(themes, corrections)), verdicts=verdicts or {})


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

"""A linear model per theme, taught by examples: which words and word pairs place a story.

Each theme is a logistic regression over a story's content stems and pairs
of neighbouring stems (title and lede), trained on labelled examples: the
headlines and briefs shipped with digest (labelled by THEMES.md), the
``examples:`` a theme lists in schedule.yaml, and the corrections an editor
recorded with ``digest themes learn``. Training needs scikit-learn, imported
only when a model is trained; placing a story is a sum of weights looked up
in a dict, so it stays explainable (the weights that placed it are the
reason) and fast. A trained model is plain JSON (ThemeModel.to_json), never
pickle, so it can be kept between builds.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources

from digest.stages.text import WordTable, content_stems_of_words, words

LEDE_WORDS = 80
"""Words of a story's body read after its title: what a story is mainly about is in its lede."""
LEDE_CHARS = 1200
"""Characters read to find the lede's words: more than LEDE_WORDS words take, so a long story is not all split."""
EXAMPLE_WEIGHT = 3.0
"""A theme's own examples count this many times a shipped labelled item."""
CORRECTION_WEIGHT = 5.0
"""An editor's correction counts this many times a shipped labelled item."""
REGULARISATION = 1.0
"""scikit-learn's C: smaller keeps weights small, so no one word decides alone."""
SMALLEST_WEIGHT = 0.01
"""Weights closer to zero than this are left out of a trained model (they decide nothing)."""
BARE_HEADLINE_WEIGHT = 0.3
"""A headline found by a news search also counts as itself alone, this much: a feed shows it without the search,
and a faint copy teaches its words without teaching that every protest headline is solidarity."""
MODEL_VERSION = 4
"""Bumped whenever features or training change, so a kept model is trained again."""


IN_TITLE = "^"
"""Marks a feature of the title alone ('^arm sale'): a headline weighs on its own, so a long lede cannot drown it.
A story without a title is read as a brief whose headline is its lede."""


def story_features(title: str, text: str) -> frozenset[str]:
    """The content stems of the title and lede and each pair of neighbouring stems ('arm sale'),
    and the same of the title alone, marked IN_TITLE ('^arm sale')."""
    return read_story(title, text)[0]


def read_story(title: str, text: str) -> tuple[frozenset[str], tuple[tuple[str, str], ...]]:
    """story_features(), and each (stem, word) of the title and lede, so a reason can quote the story's words."""
    title, text = _initialisms_joined(title), _initialisms_joined(text[:LEDE_CHARS])
    lede = words(text)[:LEDE_WORDS] if text else ()
    found: set[str] = set()
    seen: list[tuple[str, str]] = []
    for part, in_title in ((words(title) or lede, True), (lede, False)):
        pairs = [(stem, word) for word, stem in zip(part, map(_STEM_OF.__getitem__, part), strict=True) if stem]
        stems = [stem for stem, _ in pairs]
        joined = [f"{a} {b}" for a, b in zip(stems, stems[1:], strict=False)]
        found.update(stems)
        found.update(joined)
        if in_title:
            found.update(IN_TITLE + feature for feature in (*stems, *joined))
        seen.extend(pairs)
    return frozenset(found), tuple(seen)


INITIALISM = re.compile(r"\b([A-Z])\.([A-Z])\.")
"""'U.S.', 'U.K.', 'U.N.': words() would cut them into one-letter words, which carry no meaning."""
COUNTRY_WORDS = {"US": "usa"}
"""Upper-case words that name a country but lower-case to a stop word ('US' is not 'us')."""


def _initialisms_joined(text: str) -> str:
    return INITIALISM.sub(r"\1\2", text) if "." in text else text


def _content_stem(word: str) -> str | None:
    if word in COUNTRY_WORDS:
        return COUNTRY_WORDS[word]
    stems = content_stems_of_words((word,))
    return stems[0] if stems else None


_STEM_OF: WordTable[str | None] = WordTable(_content_stem)


@dataclass(frozen=True)
class Example:
    """A text that belongs to a theme, or (belongs=False) one that does not."""

    text: str
    theme: str | None
    """The theme it belongs to (None: none); with belongs=False, the theme it is NOT in."""
    belongs: bool = True
    weight: float = 1.0
    title: str = ""


@dataclass(frozen=True)
class Placement:
    """A theme's probability for a story, with the weights that made it."""

    theme: str
    probability: float
    present: tuple[str, ...]
    """The story's features that some theme weighs (this one's weights tell which it does)."""
    weights: Mapping[str, float] = field(repr=False, compare=False)
    hinted: bool = False

    @property
    def contributions(self) -> tuple[tuple[str, float], ...]:
        """Features present in the story with their weights for this theme (in no order: see strongest()), a
        feature of the title and the same feature of the whole story summed as one: a reader is told 'arms +2.2',
        not 'arms in the title +1.6' beside an 'arms -0.6' that only corrects it."""
        merged: dict[str, float] = {}
        for feature in sorted(f for f in self.present if f in self.weights):
            base = feature.removeprefix(IN_TITLE)
            merged[base] = merged.get(base, 0.0) + self.weights[feature]
        return tuple(merged.items())

    def strongest(self, n: int) -> list[tuple[str, float]]:
        """The n weights that moved the probability most, for or against."""
        return heapq.nsmallest(n, self.contributions, key=lambda item: (-abs(item[1]), item[0]))

    def for_and_against(self, n: int) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """The n - 1 weights that pushed most towards the theme, and the one that pushed most against it."""
        contributions = self.contributions
        towards = heapq.nsmallest(n - 1, (c for c in contributions if c[1] > 0), key=lambda c: (-c[1], c[0]))
        against = heapq.nsmallest(1, (c for c in contributions if c[1] < 0), key=lambda c: (c[1], c[0]))
        return towards, against


WEIGHT_UNITS = 10_000
"""Weights are kept to four decimals (train()); placing sums them as whole numbers of 1/WEIGHT_UNITS,
exactly, so the order a set yields features in (it varies between runs) cannot change a digit."""


@dataclass
class ThemeModel:
    weights: dict[str, dict[str, float]]
    intercepts: dict[str, float]
    taught: dict[str, int] = field(default_factory=dict)
    """Per theme, how many positive examples it learnt from."""

    def place(self, features: frozenset[str], hints: Iterable[str] = (), hint_logit: float = 0.0) -> list[Placement]:
        """Each theme's probability for a story with these features; ``hints`` add ``hint_logit`` to theirs."""
        columns = self._columns
        # a story has a few hundred features, a model thousands: look up the story's, once for all themes
        present = tuple(f for f in features if f in columns)
        totals = [sum(column) for column in zip(*map(columns.__getitem__, present), strict=True)] if present else None
        hinted = frozenset(hints)
        placements = []
        for number, (theme, weights) in enumerate(self.weights.items()):
            logit = self.intercepts[theme] + (totals[number] / WEIGHT_UNITS if totals else 0.0)
            if theme in hinted:
                logit += hint_logit
            placements.append(Placement(theme, _sigmoid(logit), present, weights, theme in hinted))
        return placements

    @cached_property
    def _columns(self) -> dict[str, tuple[int, ...]]:
        """Each feature's weight in each theme (in the order of ``weights``), in 1/WEIGHT_UNITS."""
        table: dict[str, list[int]] = {}
        for number, weights in enumerate(self.weights.values()):
            for feature, weight in weights.items():
                table.setdefault(feature, [0] * len(self.weights))[number] = round(weight * WEIGHT_UNITS)
        return {feature: tuple(row) for feature, row in table.items()}

    def to_json(self) -> str:
        return json.dumps(
            {"version": MODEL_VERSION, "weights": self.weights, "intercepts": self.intercepts, "taught": self.taught},
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> ThemeModel:
        data = json.loads(text)
        if data.get("version") != MODEL_VERSION:
            raise ValueError(f"a theme model of version {data.get('version')}, not {MODEL_VERSION}")
        return cls(data["weights"], data["intercepts"], data.get("taught", {}))


def _sigmoid(logit: float) -> float:
    if logit >= 0:
        return 1 / (1 + math.exp(-logit))
    z = math.exp(logit)
    return z / (1 + z)


def shipped_examples() -> list[Example]:
    """The labelled items shipped with digest (the train parts of tests/data/themes/labels*.jsonl: bench/themes_export.py)."""
    text = resources.files("digest.stages").joinpath("theme_examples.jsonl").read_text(encoding="utf-8")
    found = []
    for line in text.splitlines():
        item = json.loads(line)
        label = None if item["label"] == "none" else item["label"]
        found.extend(labelled_examples(item["title"], item["text"], item.get("context", ""), label))
    return found


def labelled_examples(title: str, text: str, context: str, label: str | None) -> list[Example]:
    """A labelled item as the model learns from it. A headline found by a news search ('Gaza') is about what
    was searched: that is its text; and it counts once more as the bare headline a feed shows, faintly."""
    found = [Example(text or context, label, title=title)]
    if not text and context:
        found.append(Example("", label, weight=BARE_HEADLINE_WEIGHT, title=title))
    return found


def training_key(themes: Sequence[str], examples: Sequence[Example]) -> str:
    """A digest of everything a model is trained from: the same key, the same model."""
    digest = hashlib.sha256(f"{MODEL_VERSION}|{','.join(themes)}".encode())
    for example in examples:
        digest.update(
            json.dumps([example.title, example.text, example.theme, example.belongs, example.weight]).encode()
        )
    return digest.hexdigest()


def train(
    themes: Sequence[str],
    examples: Sequence[Example],
    signals: Callable[[str, str], Iterable[str]] = lambda title, text: (),
    features: Callable[[str, str], frozenset[str]] = story_features,
) -> ThemeModel:
    """One logistic regression per theme: its examples against all others.

    ``signals`` adds features of a text beyond its words (the themes' term groups);
    ``features`` are its words' (bench/themes.py compares other choices).
    liblinear's dual solver with a fixed seed: the same examples give the same
    weights, and it trains a theme on a thousand examples in tens of
    milliseconds where lbfgs takes most of a second (measured).

    An example that belongs to one theme is a negative for every other; an
    example marked as NOT in a theme is a negative for that theme only; an
    example of no configured theme is a negative for all.
    """
    from sklearn.feature_extraction import DictVectorizer  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    rows_of_features = [
        dict.fromkeys(sorted(features(e.title, e.text) | set(signals(e.title, e.text))), 1) for e in examples
    ]
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform(rows_of_features).tocsr()
    matrix.indices, matrix.indptr = matrix.indices.astype("int32"), matrix.indptr.astype("int32")  # liblinear's
    names = vectorizer.get_feature_names_out()
    signal_of = [_signal_theme(str(name)) for name in names]
    weights: dict[str, dict[str, float]] = {}
    intercepts: dict[str, float] = {}
    taught: dict[str, int] = {}
    for theme in themes:
        rows = [i for i, e in enumerate(examples) if e.belongs or e.theme == theme]
        labels = [int(examples[i].belongs and examples[i].theme == theme) for i in rows]
        taught[theme] = sum(labels)
        if taught[theme] == 0 or taught[theme] == len(rows):
            weights[theme], intercepts[theme] = {}, -10.0
            continue
        model = LogisticRegression(
            C=REGULARISATION, class_weight="balanced", solver="liblinear", dual=True, random_state=0, max_iter=1000
        )
        # a theme weighs its own term-group signals, never another theme's: a reason names only its own
        columns = [j for j, owner in enumerate(signal_of) if owner in (None, theme)]
        model.fit(matrix[rows][:, columns], labels, sample_weight=[examples[i].weight for i in rows])
        coefficients = model.coef_[0]
        weights[theme] = {
            str(names[j]): round(float(coefficient), 4)
            for j, coefficient in zip(columns, coefficients, strict=True)
            if abs(coefficient) >= SMALLEST_WEIGHT
        }
        intercepts[theme] = round(float(model.intercept_[0]), 4)
    return ThemeModel(weights, intercepts, taught)


def _signal_theme(feature: str) -> str | None:
    """The theme a term-group signal ('<solidarity group 2>', '^<arms-exports rules>') is of; None for a word."""
    start = feature.find("<")
    if start not in (0, len(IN_TITLE)) or not feature.endswith(">"):
        return None
    return feature[start + 1 :].split(" ", 1)[0]


def examples_of(teaching: Mapping[str, tuple[Sequence[str], Sequence[str]]]) -> list[Example]:
    """Examples from themes' ``belongs`` and ``not`` texts (a text's first line is its title)."""
    found = []
    for theme, (belongs, excluded) in teaching.items():
        for texts, is_in in ((belongs, True), (excluded, False)):
            for text in texts:
                title, _, body = text.partition("\n")
                found.append(Example(body, theme, is_in, EXAMPLE_WEIGHT, title))
    return found

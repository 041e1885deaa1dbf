"""Word-level features shared by cleaning, splitting and theming.

Tokenising, stemming (Snowball), the writing system of a line and a
function-word guess at its language. Language guessing is hand-written on
purpose: the libraries that do it (langdetect, lingua) are either
nondeterministic or ship hundreds of MB of models, while telling an English
line from a Spanish or French one needs only their commonest words.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import snowballstemmer

WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)

FUNCTION_WORDS = {
    "en": set(
        "the of and to a in is was that for on it with as by he she they we you i his her their its "
        "this from at are be been has have had not but or which who will would an were there all "
        "our my your me us them what when so if about into than then also just can could".split()
    ),
    "es": set(
        "el la los las de del y en que un una por con para es su se no al lo como más pero sus "
        "le ya o fue este ha sí porque esta son entre cuando muy sin sobre también me hasta hay "
        "donde quien desde todo nos durante".split()
    ),
    "fr": set(
        "le la les de des du et en un une est que qui dans pour pas sur au aux par il elle ne se "
        "ce plus avec son sa ses ou mais nous vous ils sont été être cette comme tout".split()
    ),
    "de": set(
        "der die das und in zu den von mit ist des sich dem nicht ein eine als auch es an er so "
        "dass sie nach wie im für auf aus bei oder wird werden hat haben sind war".split()
    ),
    "pt": set(
        "o a os as de do da dos das e em um uma que para com não por mais como mas foi ao ele "
        "ela seu sua ou ser quando muito nos já está também só pelo pela até isso".split()
    ),
    "it": set(
        "il lo la i gli le di del della e in un una che per con non è sono da al alla come più "
        "ma anche questo questa ha hanno essere tra nel nella".split()
    ),
}
STOPWORDS = FUNCTION_WORDS["en"] | set(
    "these those such here where while after before over under again more most other some any "
    "each both only own same too very s t don should now do does did being having no nor off "
    "out up down once why how him himself herself itself themselves yourself one two said says".split()
)

_LANGUAGES_OF = {
    word: tuple(lang for lang, vocab in FUNCTION_WORDS.items() if word in vocab)
    for vocab in FUNCTION_WORDS.values()
    for word in vocab
}
"""Function word -> the languages it belongs to: a text is scanned once, not once per language."""
_FUNCTION_WORD_SET = frozenset(_LANGUAGES_OF)
_ASCII_NON_LETTERS = bytes(b for b in range(128) if not chr(b).isalpha())
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")

_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=4096)
def words(text: str) -> tuple[str, ...]:
    """Letter-only words (apostrophes kept inside), in order.

    Remembered for the last few thousand texts: cleaning and then splitting a
    document ask for the words of the same lines.
    """
    return tuple(WORD.findall(text))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer.stemWord(word.lower().replace("’", "'"))


def content_stems(text: str) -> list[str]:
    """Stems of the words that carry meaning (no stop words, no one-letter words)."""
    return content_stems_of_words(words(text))


def content_stems_of_words(text_words: Sequence[str]) -> list[str]:
    """content_stems() of a text already split by words()."""
    return [s for s in map(_content_stem, text_words) if s is not None]


@lru_cache(maxsize=65536)
def _content_stem(word: str) -> str | None:
    """The stem of a word that carries meaning, None for a stop word: one cache lookup per word."""
    return stem(word) if len(word) > 1 and word.lower() not in STOPWORDS else None


@lru_cache(maxsize=8192)
def script_of(char: str) -> str:
    """The writing system of a letter, from its Unicode name ('LATIN', 'HEBREW', …)."""
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else "UNKNOWN"


def dominant_script(text: str) -> str | None:
    """The writing system most of the letters are in (None: no letters).

    Counted in C where it can be: ASCII letters by deleting everything else
    from the ASCII bytes, and only the (few) non-ASCII characters one by one.
    """
    ascii_letters = len(text.encode("ascii", "ignore").translate(None, _ASCII_NON_LETTERS))
    others = [c for run in _NON_ASCII.findall(text) for c in run if c.isalpha()]
    if not others:
        return "LATIN" if ascii_letters else None
    letters = Counter(map(script_of, others))
    letters["LATIN"] += ascii_letters
    best, n = max(sorted(letters.items()), key=lambda item: item[1])
    return best if n else None


def guess_language(text: str, minimum_hits: int = 3) -> str | None:
    """The language whose function words the text uses most, if clearly ahead.

    Short texts count each function word once, so a headline repeating "No"
    is not taken for Spanish; long texts count every use, so a stray foreign
    line does not outvote the document around it.
    """
    return guess_language_of_words([w.lower() for w in words(text)], minimum_hits)


def guess_language_of_words(tokens: Sequence[str], minimum_hits: int = 3) -> str | None:
    """guess_language() of a text already split by words() and lower-cased."""
    if not tokens:
        return None
    hits = dict.fromkeys(FUNCTION_WORDS, 0)
    if len(tokens) >= 60:
        counts = Counter(tokens)
        for token in counts.keys() & _LANGUAGES_OF.keys():
            for lang in _LANGUAGES_OF[token]:
                hits[lang] += counts[token]
    else:
        for token in _FUNCTION_WORD_SET.intersection(tokens):
            for lang in _LANGUAGES_OF[token]:
                hits[lang] += 1
    best = max(sorted(hits), key=lambda lang: hits[lang])
    ranked = sorted(hits.values(), reverse=True)
    if ranked[0] < minimum_hits or ranked[0] < 1.5 * ranked[1]:
        return None
    return best

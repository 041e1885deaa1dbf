"""Word-level features shared by cleaning, splitting, de-duplicating and theming.

The one tokeniser module: words() (letters, for cleaning, splitting, theming)
and normalize() (word characters, case folded, for de-duplicating) keep their
own token definitions, WORD and TOKEN, and share one fast path for ASCII text
(_ascii_runs). Also stemming (Snowball), the writing system of a line and a
function-word guess at its language. Language guessing is hand-written on
purpose: the libraries that do it (langdetect, lingua) are either
nondeterministic or ship hundreds of MB of models, while telling an English
line from a Spanish or French one needs only their commonest words.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import TypeVar

import snowballstemmer

WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)
_ASCII_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")
"""WORD for a text with no word characters outside ASCII."""
_RIGHT_QUOTE = "’".encode()
_LETTERS_APOSTROPHES_AND_NUL = bytes(
    byte if byte < 128 and chr(byte).isalpha() or byte in b"'\0" else ord(" ") for byte in range(256)
)
"""A bytes.translate() table that turns every other byte of UTF-8 into a space."""

TOKEN = re.compile(r"\w+")
"""What normalize() keeps of a text: runs of word characters (letters, digits, underscore)."""
_NON_WORD_MARKS = "’‘“”—–…\xa0«»•€£"
"""Marks outside ASCII that news text is full of and TOKEN never matches: a space can stand in for each."""
_LOWER_WORD_CHARACTERS = bytes(
    ord(chr(byte).lower()) if byte < 128 and (chr(byte).isalnum() or byte == ord("_")) else ord(" ")
    for byte in range(256)
)
"""A bytes.translate() table: ASCII word characters lower-cased, every other byte a space."""

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
_LANGUAGES = sorted(FUNCTION_WORDS)
"""In the order ties are broken in: the first in alphabetical order wins."""
_TALLY_BITS = 40
"""Room in a tally for each language's count: more function words than a text held in memory could have."""
_TALLY_SHIFTS = [_TALLY_BITS * i for i in range(len(_LANGUAGES))]
_TALLY_OF = {
    word: sum(1 << _TALLY_SHIFTS[_LANGUAGES.index(lang)] for lang in langs) for word, langs in _LANGUAGES_OF.items()
}
"""Function word -> its tally: one integer holding a hit for each of its languages, each in its own bits,
so that summing the tallies of a text's function words counts all languages at once, in C."""
_ASCII = bytes(range(128))
_ALL_BUT_ASCII_LETTERS = bytes(b for b in range(256) if b >= 128 or not chr(b).isalpha())

_stemmer = snowballstemmer.stemmer("english")
_Value = TypeVar("_Value")


@lru_cache(maxsize=4096)
def words(text: str) -> tuple[str, ...]:
    """Letter-only words (apostrophes kept inside), in order.

    Remembered for the last few thousand texts: cleaning and then splitting a
    document ask for the words of the same lines.
    """
    encoded = text.encode("utf-8", "surrogatepass")
    if not text.isascii() and any(map(str.isalnum, _non_ascii(encoded))):
        return tuple(WORD.findall(text))
    if b"\0" in encoded:  # the NUL that stands in for ’ below
        return tuple(_ASCII_WORD.findall(text))
    return _ascii_words(encoded)


def words_once(text: str) -> tuple[str, ...]:
    """words() of a text asked for once (a story's lead), not remembered: thousands of them would fill
    words()' cache and hold every word of each in the build's main process."""
    return words.__wrapped__(text)


def _ascii_words(encoded: bytes) -> tuple[str, ...]:
    """words() of a text whose word characters are all ASCII letters, encoded in UTF-8 (and with no NUL).

    Cut in C, about twice as fast as the regular expression (measured: it
    spends over a thousand instructions per word): every byte but letters and
    apostrophes turns into a space (’ into NUL for the while), and the runs
    between spaces are the words. A run with an apostrophe in it goes through
    the pattern, which drops any apostrophe that does not join two letters.
    """
    quoted = encoded.replace(_RIGHT_QUOTE, b"\0")
    runs = _ascii_runs(quoted, _LETTERS_APOSTROPHES_AND_NUL)
    if b"'" not in quoted and b"\0" not in quoted:
        return tuple(runs)
    found: list[str] = []
    for run in runs:
        if "'" in run or "\0" in run:
            found.extend(_ASCII_WORD.findall(run.replace("\0", "’")))
        else:
            found.append(run)
    return tuple(found)


def normalize(text: str) -> str:
    """Text as compared for sameness: TOKEN's matches in the case-folded text, single spaces between.

    Text whose only characters outside ASCII are common marks (quotes, dashes,
    …) takes the fast path instead (measured faster than the pattern): casefold
    is lower for ASCII, and every other character ends a word, as it does for
    the pattern.
    """
    plain = text
    if not plain.isascii():
        for mark in _NON_WORD_MARKS:
            plain = plain.replace(mark, " ")
        if not plain.isascii():
            return " ".join(TOKEN.findall(text.casefold()))
    return " ".join(_ascii_runs(plain.encode("ascii"), _LOWER_WORD_CHARACTERS))


def _ascii_runs(encoded: bytes, table: bytes) -> list[str]:
    """The runs of bytes that ``table`` does not turn into spaces, as text: one translate and one split, in C.

    The fast path of both words() and normalize(); the table says which bytes make up a token.
    """
    return encoded.translate(table).decode("ascii").split()


class WordTable(dict[str, _Value]):
    """A value per word, worked out the first time the word is seen.

    For features asked of every word of every line: looking words up with
    map(table.__getitem__, words) stays in C, about twice as cheap as calling
    an lru_cache (measured). Forgets all it knows when full, to stay bounded.
    """

    def __init__(self, compute: Callable[[str], _Value], limit: int = 65536) -> None:
        super().__init__()
        self.compute = compute
        self.limit = limit

    def __missing__(self, word: str) -> _Value:
        if len(self) >= self.limit:
            self.clear()
        value = self[word] = self.compute(word)
        return value


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    stemmed: str = _stemmer.stemWord(word.lower().replace("’", "'"))
    return stemmed


def content_stems(text: str) -> list[str]:
    """Stems of the words that carry meaning (no stop words, no one-letter words)."""
    return content_stems_of_words(words(text))


def content_stems_of_words(text_words: Sequence[str]) -> list[str]:
    """content_stems() of a text already split by words()."""
    return [s for s in map(_CONTENT_STEM.__getitem__, text_words) if s is not None]


def _content_stem(word: str) -> str | None:
    """The stem of a word that carries meaning, None for a stop word."""
    return stem(word) if len(word) > 1 and word.lower() not in STOPWORDS else None


_CONTENT_STEM = WordTable(_content_stem)


@lru_cache(maxsize=8192)
def script_of(char: str) -> str:
    """The writing system of a letter, from its Unicode name ('LATIN', 'HEBREW', …)."""
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else "UNKNOWN"


def dominant_script(text: str) -> str | None:
    """The writing system most of the letters are in (None: no letters)."""
    return most_letters(letters_by_script(text))


def letters_by_script(text: str) -> Counter[str]:
    """How many of the text's letters each writing system has.

    Counted in C where it can be: the text's UTF-8 bytes lose everything but
    ASCII letters to count those, and all ASCII to leave the (few) other
    characters, which alone are looked at one by one.
    """
    encoded = text.encode("utf-8", "surrogatepass")
    letters = Counter(map(script_of, filter(str.isalpha, _non_ascii(encoded))))
    if ascii_letters := len(encoded.translate(None, _ALL_BUT_ASCII_LETTERS)):
        letters["LATIN"] += ascii_letters
    return letters


def _non_ascii(encoded: bytes) -> str:
    """The characters outside ASCII of a text encoded in UTF-8, in order: all ASCII bytes deleted, in C."""
    return encoded.translate(None, _ASCII).decode("utf-8", "surrogatepass")


def most_letters(letters: Counter[str]) -> str | None:
    """The writing system with the most letters (the first by name of those tied), None for none."""
    return max(sorted(letters.items()), key=lambda item: item[1])[0] if letters else None


def guess_language(text: str, minimum_hits: int = 3) -> str | None:
    """The language whose function words the text uses most, if clearly ahead.

    Short texts count each function word once, so a headline repeating "No"
    is not taken for Spanish; long texts count every use, so a stray foreign
    line does not outvote the document around it.
    """
    text_words = words(text)
    return guess_language_of_function_words(function_words(text_words), len(text_words), minimum_hits)


def guess_language_of_words(tokens: Sequence[str], minimum_hits: int = 3) -> str | None:
    """guess_language() of a text already split by words() and lower-cased."""
    found = [token for token in tokens if token in _FUNCTION_WORD_SET]
    return guess_language_of_function_words(found, len(tokens), minimum_hits)


def function_words(text_words: Iterable[str]) -> list[str]:
    """The function words among a text's words(), lower-cased, in order: all a language guess reads.

    Found a word at a time through a cache, not by lower-casing every word: the
    same few thousand words make up most texts.
    """
    return list(filter(None, map(_FUNCTION_WORD_OF.__getitem__, text_words)))


def _function_word(word: str) -> str | None:
    low = word.lower()
    return low if low in _FUNCTION_WORD_SET else None


_FUNCTION_WORD_OF = WordTable(_function_word)


def guess_language_of_function_words(found: Sequence[str], n_words: int, minimum_hits: int = 3) -> str | None:
    """guess_language() of a text of n_words words whose function words are found (function_words()).

    A document's guess can then be made from its lines' function words, without reading its words again.
    """
    if not n_words:
        return None
    tally = sum(map(_TALLY_OF.__getitem__, found if n_words >= 60 else set(found)))
    hits = [(tally >> shift) & ((1 << _TALLY_BITS) - 1) for shift in _TALLY_SHIFTS]
    first, second = sorted(hits, reverse=True)[:2]
    if first < minimum_hits or first < 1.5 * second:
        return None
    return _LANGUAGES[hits.index(first)]

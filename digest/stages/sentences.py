"""Sentence splitting that returns the source's own words, character for character.

Summaries quote sentences verbatim, so every sentence is a slice of the input
(only surrounding whitespace trimmed) and every line break is a boundary, as is
a full stop with no space after it between two words (GLUED_BOUNDARY).

Splitter: nupunkt (Punkt, trained on legal and general English), chosen over
pysbd by measurement (bench/summarizer.py, 2 cores): on the 54 tricky news
cases in tests/data/sentences/tricky.json pysbd gets 52 right, nupunkt 47 as
shipped and 53 with the abbreviation fix below (the miss: "at 4 a.m. Rescuers
arrived", recorded in the file; on the first 32 cases, written before either
was run, pysbd 30 and nupunkt 31); nupunkt splits 4-6 million characters a second
against pysbd's 0.1-0.15 million, and the summarizer has to keep up with 200
articles a second.

The fix: nupunkt's default model holds 3,085 all-letter "abbreviations"
learned from legal text, many of them ordinary English words ("so", "at",
"found", "bank", "mass", "human"), so it would not split "...in the occupied
West Bank. Police said".
We keep the others (with inner periods, digits or apostrophes: "u.s", "e.g",
"a.m", "gov't"; and single letters, which are initials) and replace the
all-letter ones with the hand-written list below of abbreviations news copy
uses: no library ships such a list for Punkt, and pysbd's is tied to pysbd.
"""

from __future__ import annotations

import re
from functools import lru_cache

import nupunkt
from nupunkt import PunktSentenceTokenizer

NEWS_ABBREVIATIONS = frozenset(
    # Titles and ranks.
    "mr mrs ms messrs mme mlle dr prof rev fr sr jr st hon esq sgt cpl pvt lt col capt cmdr "
    "gen maj adm brig cdr gov sen rep pres supt insp det amb atty "
    # Months and weekdays ("may", "sat", "sun", "wed" are words).
    "jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues thu thur thurs fri "
    # Organisations and places.
    "inc ltd co corp bros llc dept univ assn intl natl govt mt ave blvd rd "
    # US states in AP style, leaving out those that are words (mass, miss, ill, ore, wash).
    "ala ariz ark calif colo conn fla ga kan kans ky md mich minn mont neb nev okla tenn tex "
    "va vt wis wyo "
    # References and units.
    "no nos art vol vols pp ch fig figs para ed eds op cit ibid etc al approx est ca cf vs viz "
    "ft km kg lb lbs oz hr hrs mph".split()
)


GLUED_BOUNDARY = re.compile(r"(?<=[a-z]{2}[.!?])(?=[A-Z][a-z])")
"""A sentence end with no space after it ("…in Wuhan last year in April.Previously, Modi…"): some feeds
join their standfirst and lede so. Punkt never splits there; two lower-case letters before the stop keep
abbreviations and initials ("U.S.Army", "J.K.Rowling", "Mr.Smith") whole. 43 such ends in the real
feed entries of ../shared/corpus (livemint, Lifehacker, Times of India, NBC), all true boundaries."""


@lru_cache(maxsize=1)
def _tokenizer() -> PunktSentenceTokenizer:
    """nupunkt's default model with word-like abbreviations replaced (loads in ~0.4 s, once)."""
    tokenizer = nupunkt.load_default_model()
    for abbreviation in list(tokenizer.abbreviations):
        if abbreviation.isalpha() and len(abbreviation) > 1:
            tokenizer.remove_abbreviation(abbreviation)
    tokenizer.add_abbreviations(sorted(NEWS_ABBREVIATIONS))
    return tokenizer


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence: ``text[start:end]`` is the sentence, stripped."""
    tokenizer = _tokenizer()
    spans: list[tuple[int, int]] = []
    offset = 0
    for line in text.split("\n"):
        if line.strip():
            for start, end in tokenizer.span_tokenize(line):
                piece = line[start:end]
                stripped = piece.strip()
                if stripped:
                    lead = len(piece) - len(piece.lstrip())
                    begin = offset + start + lead
                    cuts = [begin + m.start() for m in GLUED_BOUNDARY.finditer(stripped)]
                    spans.extend(zip([begin, *cuts], [*cuts, begin + len(stripped)], strict=True))
        offset += len(line) + 1
    return spans


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, each an exact substring of it; line breaks always end one."""
    return [text[start:end] for start, end in sentence_spans(text)]

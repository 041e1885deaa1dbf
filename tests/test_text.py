"""The fast paths of digest.stages.text give what the plain definitions give.

words() and normalize() cut most texts without their regular expressions (WORD,
TOKEN), language guesses sum
packed tallies and scripts are counted from UTF-8 bytes: each is checked here
against the straightforward version it replaced, on arbitrary text.
"""

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from digest.stages.text import (
    FUNCTION_WORDS,
    TOKEN,
    WORD,
    WordTable,
    dominant_script,
    function_words,
    guess_language,
    guess_language_of_function_words,
    guess_language_of_words,
    normalize,
    script_of,
    words,
)

TRICKY = "aZq'’ _-.,9²½“”‘—–…\xa0«»•€£\x00\tÉéßİΣσςКиї字Ⅻŉǅ\u0345"
"""Letters and non-letters on either side of ASCII, both apostrophes, NUL (words() uses it inside), the
marks normalize() turns into spaces, and a mark that case-folds into a letter."""
texts = st.text(alphabet=st.sampled_from(TRICKY), max_size=60) | st.text(max_size=60)
vocabulary = sorted({w for vocab in FUNCTION_WORDS.values() for w in vocab} | {"The", "NO", "Le", "dogs", "x"})
word_lists = st.lists(st.sampled_from(vocabulary), max_size=90)


def _guess_as_before(tokens, minimum_hits=3):
    hits = dict.fromkeys(FUNCTION_WORDS, 0)
    if not tokens:
        return None
    if len(tokens) >= 60:
        counts = Counter(tokens)
        for token, n in counts.items():
            for lang, vocab in FUNCTION_WORDS.items():
                hits[lang] += n * (token in vocab)
    else:
        for token in set(tokens):
            for lang, vocab in FUNCTION_WORDS.items():
                hits[lang] += token in vocab
    best = max(sorted(hits), key=lambda lang: hits[lang])
    ranked = sorted(hits.values(), reverse=True)
    return None if ranked[0] < minimum_hits or ranked[0] < 1.5 * ranked[1] else best


def _script_as_before(text):
    letters = Counter(script_of(c) for c in text if c.isalpha())
    if not letters:
        return None
    return max(sorted(letters.items()), key=lambda item: item[1])[0]


@given(texts)
def test_words_are_the_pattern_s_matches(text):
    words.cache_clear()
    assert words(text) == tuple(WORD.findall(text))


@given(texts)
def test_normalized_text_is_the_pattern_s_matches_in_the_case_folded_text(text):
    assert normalize(text) == " ".join(TOKEN.findall(text.casefold()))


def test_words_keep_either_apostrophe_only_between_letters():
    assert words("Venezuela’s rock'n'roll, 'tis the dogs' don''t ’quoted’") == (
        "Venezuela’s", "rock'n'roll", "tis", "the", "dogs", "don", "t", "quoted")
    assert words("“Hi” – naïve x²y a\x00b") == ("Hi", "naïve", "x²y", "a", "b")


@given(texts)
def test_lowering_words_joined_is_lowering_each(text):
    found = words(text)
    assert " ".join(found).lower() == " ".join(w.lower() for w in found)


@given(word_lists, st.integers(min_value=0, max_value=4))
def test_language_guesses_count_as_before(tokens, minimum_hits):
    expected = _guess_as_before([t.lower() for t in tokens], minimum_hits)
    assert guess_language(" ".join(tokens), minimum_hits) == expected
    assert guess_language_of_words([t.lower() for t in tokens], minimum_hits) == expected
    assert guess_language_of_function_words(function_words(tokens), len(tokens), minimum_hits) == expected


@given(texts)
def test_dominant_script_counts_as_before(text):
    assert dominant_script(text) == _script_as_before(text)


def test_word_table_works_each_word_out_once_and_stays_bounded():
    seen = []
    table = WordTable(lambda word: seen.append(word) or word.upper(), limit=2)
    assert list(map(table.__getitem__, ["a", "b", "a"])) == ["A", "B", "A"]
    assert seen == ["a", "b"]
    assert table["c"] == "C" and len(table) == 1

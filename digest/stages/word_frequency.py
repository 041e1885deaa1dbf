"""How common an English word is: wordfreq's small English list, read once and kept compact.

event_lead weighs a word by its rarity; this is where the rarity comes from.
"""

from __future__ import annotations

import gzip
import importlib.util
import itertools
from array import array
from bisect import bisect_left
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import msgpack


@dataclass(frozen=True, slots=True)
class ZipfTable:
    """English words and their Zipf frequencies, from wordfreq's small English list, kept compact.

    The words, sorted, in one UTF-8 string with where each starts, and each one's
    frequency in centibels: a dict of them (a string object and a float per word)
    took several times the memory in the build's main process (measured: README,
    Dedupe). A word is found by bisection; words are looked up once each
    (event_lead's word table remembers them).
    """

    text: bytes
    starts: array[int]
    """Where each word starts in ``text``, and at the end its length."""
    centibels: array[int]
    """Each word's frequency: a Zipf frequency of 9 less centibels / 100."""

    def zipf(self, word: str) -> float:
        """The word's Zipf frequency, 0.0 for a word the list lacks."""
        encoded = word.encode()
        at = bisect_left(range(len(self.centibels)), encoded, key=self._word)
        if at < len(self.centibels) and self._word(at) == encoded:
            return round(9 - self.centibels[at] / 100, 2)
        return 0.0

    def _word(self, index: int) -> bytes:
        return self.text[self.starts[index]:self.starts[index + 1]]


@cache
def zipf_table() -> ZipfTable:
    """wordfreq's small English list, read from the package's data file.

    Its documented "cBpack" format: gzipped msgpack, a header, then one list of
    words per centibel of frequency. Read rather than through
    wordfreq.zipf_frequency, whose import brings ftfy, langcodes and regex,
    more memory in the build's main process than the table itself (measured:
    README, Dedupe). On every word of the labelled pairs both give the same
    frequency but for one ("Re'im", which wordfreq splits in two).
    """
    spec = importlib.util.find_spec("wordfreq")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("wordfreq is not installed: pip install wordfreq")
    packed = Path(spec.submodule_search_locations[0], "data", "small_en.msgpack.gz").read_bytes()
    unpacker = msgpack.Unpacker(raw=True)  # words as UTF-8 bytes, as the table keeps them
    unpacker.feed(gzip.decompress(packed))
    buckets = unpacker.read_array_header() - 1
    header = unpacker.unpack()
    if header != {b"format": b"cB", b"version": 1}:
        raise RuntimeError(f"wordfreq's small_en list is in a format this does not read: {header}")
    listed = sorted(
        (unpacker.unpack(), centibels) for centibels in range(buckets) for _ in range(unpacker.read_array_header())
    )
    starts = array("I", itertools.accumulate((len(word) for word, _ in listed), initial=0))
    return ZipfTable(b"".join(word for word, _ in listed), starts, array("H", (c for _, c in listed)))

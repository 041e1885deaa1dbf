"""Cleaning: keep a document's own text, drop the page furniture around it.

Scraped pages carry share buttons, sign-up prompts, bylines repeated by the
layout, photo captions and credits, "read more" links, category labels and
lists of other headlines. No library cleans *plain text* (jusText and
trafilatura need the HTML tree), so this stage classifies each line by
features that hold across sites rather than by phrases seen on one:

- shape: word count, closing punctuation, capitalisation, a line that is
  one string written twice (a button's label and its hidden twin);
- repetition: short lines that recur are layout (bylines, labels);
- vocabulary: the interface words of the web (share, subscribe, log in,
  comments, click …) and the credit labels of captions (Photo:, Credit:);
- runs: three or more short title-like lines together, with dates, teasers
  or lines in another script, are a list of links, not an article;
- writing system and language: a line in another script or language than
  the document is a stray (a related link, a caption in the site's language).

Each dropped line is returned as a Drop with its reason. The lines kept are
Blocks; headings, story openings (datelines, lines after a "read more"
link) and publishers credited in the text are marked for the splitter.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from datetime import date
from itertools import chain

from dateutil import parser as dateparser

from digest.models import Block, BlockKind, CleanedDocument, Document, Drop, DropReason, Furniture
from digest.stages.text import (
    FUNCTION_WORDS,
    STOPWORDS,
    WordTable,
    dominant_script,
    function_words,
    guess_language_of_function_words,
    letters_by_script,
    most_letters,
    words,
)

SENTENCE_ENDS = (".", "!", "?", "…")
CLOSING_QUOTES_AND_BRACKETS = "\"'”’)]"
DETACHED_ELLIPSIS = re.compile(r"\s+(?:…|\.\.\.)$")
TEASER_END = re.compile(r"[\w,;:–-](?:…|\.\.\.)$")
MONTHS = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\b|\b\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b",
    re.I,
)
YEAR = re.compile(r"\b(19|20)\d\d\b")

INTERFACE_WORDS = set(
    """share shares sharing tweet retweet facebook twitter whatsapp linkedin reddit pinterest telegram
    email e-mail mail print subscribe subscribed subscriber subscribers subscription newsletter sign
    signed signup login log logged register registered account comment comments commenting reply
    follow click tap alert alerts notification notifications topics icon bookmark save copy link
    advertisement advert sponsored cookie cookies privacy menu search skip next previous prev back
    top read continue full article related recent posts popular trending latest tags categories
    category filed posted premium trial unlock access paywall donate gift upgrade approval automatic
    send whole inbox instagram youtube tiktok mastodon bluesky threads""".split()
)
CREDITS = tuple(map(re.compile, (
    r"(Credit|Credits|Photo|Photos|Photograph|Picture|Image|Illustration|Video|Footage)\s*:(?:\s*\S|\s*$)",
    r"\((?:Photo|Photograph|Picture|Image|Illustration)\b[^)]*\)",
    r"\b(?:Photo|Photograph|Picture|Image|Illustration) (?:by|courtesy of|via)\b",
    r"\bGetty Images\b|\bAP Photo\b|\bAFP via\b|\bREUTERS/",
    r"\((?:[A-Z][\w.&'’ -]{1,30})/(?:[A-Z][\w.&'’ -]{1,40})\)\.?$",  # "(Reuters/Ronen Zvulun)"
)))
"""The shapes of a photo credit. Searched one by one: the engine skips ahead to where each can begin,
which it could not do for all of them joined into one pattern (three times as slow on real feeds)."""
CREDIT_WORDS = ("Credit", "Photo", "Picture", "Image", "Illustration", "Video", "Footage", "AFP via", "REUTERS/",
                "(")
"""Every credit (CREDITS) contains one of these (keep them in step): a line with none is no credit.

Looked for first, all at once: searching for credits along a long line is slower."""
_ANY_CREDIT_WORD = re.compile("|".join(map(re.escape, CREDIT_WORDS)))
READ_MORE = re.compile(
    r"^(?:full (?:article|story|text|report)|read (?:more|whole|full|the (?:full|whole|rest)\b.*|on|it)"
    r"|continue reading|keep reading|source|via|originally published (?:at|in|by|on))\b\s*[:—–-]?\s*(?P<credit>.*)$",
    re.I,
)
FEED_FOOTER = re.compile(r"^The post .+ appeared first on .+$")
"""The line WordPress sites (by Yoast SEO's default) append to every feed entry: 'The post <title>
appeared first on <site>.'"""
COPYRIGHT = re.compile(r"^(?:©|\(c\)\s*\d{4}|copyright\b)|\ball rights reserved\b", re.I)
DATE_LABEL = re.compile(r"^(?:posted|published|updated|last updated|first published)(?: on)?\s*:?\s*", re.I)
LABEL = re.compile(
    r"^(?:categor(?:y|ies)|tags?|topics?|filed under|posted in|section|sections|labels?)\s*:\s*\S", re.I
)
BREADCRUMB = re.compile(r"^\S.{0,60}\s[|›»]\s*$|^[|›»]\s|\s[|›»]\s.*\s[|›»]\s")
BYLINE_MARKER = re.compile(r"^(?:published|posted|written|reported|story|words|text) by\b|^by\s+[A-Z]", re.I)
LIST_HEADER = re.compile(
    r"^(?:recent|related|latest|popular|trending|recommended|more|most (?:read|viewed|popular|shared)"
    r"|you (?:may|might) also|read next|see also|also on|top stories|more from)\b",
    re.I,
)
SUBSCRIPTION_OFFER = re.compile(
    r"(?:[$€£]\s?\d|\d\s?(?:USD|EUR|GBP)\b).{0,40}\b(?:month|year|week|day)s?\b"
    r"|\b(?:free trial|subscribe now|already (?:a )?subscriber|sign up|log in|sign in)\b",
    re.I,
)
DATELINE = re.compile(
    r"^(?P<place>[A-Z][A-Z.'’ -]{2,}(?:,\s*[A-Za-z.' ]+)?)\s*\((?P<agency>[^)]{2,40})\)\s*[—–-]"
)


class Line:
    """A non-blank line of a document: its shape, and what the rules decided about it.

    The shape depends on the text and its words alone, which never change, and
    nearly every line is asked about each feature of it: so the features are
    worked out once, when the line is read, into plain attributes (a
    cached_property takes a lock on first access, which cost more than most
    features themselves).
    """

    __slots__ = (
        "credit", "day", "headline", "is_headline_like", "is_paragraph", "is_prose", "is_teaser", "is_title_like",
        "detail", "key", "list_header", "n_words", "number", "reason", "starts_story", "stray", "text", "words",
    )

    def __init__(self, number: int, text: str, words: tuple[str, ...]) -> None:
        self.number = number
        self.text = text
        self.words = words
        n_words = self.n_words = len(words)
        # the line as compared for repetition: its words, lower-cased (lowering them joined
        # is lowering each: the one rule that looks at a letter's neighbours, for a final
        # sigma, stops at a space)
        self.key = " ".join(words).lower()
        # cut off with an ellipsis ('… the minister said…'); the pattern looks at 5 characters at most
        self.is_teaser = bool(TEASER_END.search(text[-5:]))
        # reads as running text: a long line, or a full sentence, not a cut-off teaser
        self.is_prose = not self.is_teaser and (
            n_words >= 25 or (n_words >= 8 and text.rstrip(CLOSING_QUOTES_AND_BRACKETS).endswith(SENTENCE_ENDS)))
        # shaped like a headline: short, capitalised, no closing punctuation
        first = text[:1]
        self.is_title_like = (
            1 <= n_words <= 20
            and (first.isupper() or first.isdigit() or first in "\"'“‘")
            and text[-1] not in ".,;:!…"
        )
        # substantial running text: enough to interrupt a list of links
        self.is_paragraph = n_words >= 12 and self.is_prose and not _is_title_case(words)
        # shaped like an item of a headline list (which may end in ! or ?)
        self.is_headline_like = n_words >= 3 and (self.is_title_like or (
            n_words <= 20 and first.isupper() and text[-1] in "!?"))

        self.reason: DropReason | None = None
        self.detail = ""  # what the reason names (Drop.detail)
        self.credit: str | None = None  # a publisher named by a dateline or a 'read more' link
        self.starts_story = False
        self.day: date | None = None  # the date a date line gives
        self.stray = False  # in another writing system or language than the document
        self.list_header = False
        self.headline = False  # the article's own, at the end of a list-like run above it

    @property
    def lower_words(self) -> list[str]:
        return self.key.split(" ") if self.key else []


_CAPITALISED_SHIFT = 40


def _title_case_tally(word: str) -> int:
    """What a word adds to a line's title-case tally: one content word (not a stop word, over two letters)
    and, if it is capitalised, one capitalised word in the bits from _CAPITALISED_SHIFT up."""
    if len(word) <= 2 or word.lower() in STOPWORDS:
        return 0
    return 1 + (1 << _CAPITALISED_SHIFT) if word[0].isupper() else 1


_TITLE_CASE_TALLY = WordTable(_title_case_tally)


def _is_title_case(line_words: tuple[str, ...]) -> bool:
    """Most content words capitalised, as in headlines ('Defend Venezuela’s Sovereignty!').

    One sum of the words' tallies counts both kinds of words, in C.
    """
    tally = sum(map(_TITLE_CASE_TALLY.__getitem__, line_words))
    content, capitalised = tally & ((1 << _CAPITALISED_SHIFT) - 1), tally >> _CAPITALISED_SHIFT
    return content >= 2 and capitalised >= 0.7 * content


def _lines(text: str) -> list[Line]:
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.endswith(("…", "...")):
            stripped = DETACHED_ELLIPSIS.sub("", stripped)
        if stripped:
            lines.append(Line(number, stripped, words(stripped)))
    return lines


def parse_date_line(text: str) -> date | None:
    """The date a line consists of ('May 22, 2013', 'Posted on 3 April 2026'), if nothing else."""
    text = DATE_LABEL.sub("", text)
    if len(text.split(maxsplit=6)) > 6 or not MONTHS.search(text) or not YEAR.search(text):
        return None
    try:
        parsed = dateparser.parse(text, fuzzy=False)
    except (ValueError, OverflowError):
        return None
    return parsed.date() if parsed else None


# ---- rules on a single line: each returns the reason for dropping it, or None ----


def _doubled(line: Line) -> DropReason | None:
    text = line.text
    half = len(text) // 2
    if len(text) >= 6 and len(text) % 2 == 0 and text[:half] == text[half:]:
        return DropReason.DOUBLED_LABEL
    return None


def _credit(line: Line) -> DropReason | None:
    text = line.text
    if not _ANY_CREDIT_WORD.search(text):
        return None
    return DropReason.CAPTION if any(credit.search(text) for credit in CREDITS) else None


def _read_more(line: Line) -> DropReason | None:
    match = READ_MORE.match(line.text)
    if not match:
        return None
    credit = match["credit"].strip(" :—–-.…")
    if re.search(r"[^\W\d_]", credit) and credit.lower() not in {"here", "more", "this", "it"}:
        line.credit = line.detail = credit
        return DropReason.READ_MORE_CREDITING
    return DropReason.READ_MORE


def _feed_footer(line: Line) -> DropReason | None:
    if line.text.startswith("The post ") and FEED_FOOTER.match(line.text):
        return DropReason.FEED_FOOTER
    return None


def _copyright(line: Line) -> DropReason | None:
    return DropReason.COPYRIGHT if COPYRIGHT.search(line.text) else None


def _label(line: Line) -> DropReason | None:
    if LABEL.match(line.text) or BREADCRUMB.search(line.text):
        return DropReason.LABEL
    return None


def _byline_marker(line: Line) -> DropReason | None:
    if BYLINE_MARKER.match(line.text):
        return DropReason.BYLINE
    return None


def _interface(line: Line) -> DropReason | None:
    if SUBSCRIPTION_OFFER.search(line.text):
        return DropReason.SUBSCRIPTION_PROMPT
    content = [w for w in line.lower_words if w not in STOPWORDS and len(w) > 1]
    if not content:
        return None
    hits = sum(w in INTERFACE_WORDS for w in content)
    if hits >= 2 and hits / len(content) >= 0.5 or (hits and hits == len(content) and line.n_words <= 3):
        return DropReason.INTERFACE_PROMPT
    return None


def _list_header(line: Line) -> DropReason | None:
    if line.is_title_like and LIST_HEADER.match(line.text):
        line.list_header = True
        return DropReason.LIST_HEADING
    return None


LINE_RULES: tuple[tuple[Callable[[Line], DropReason | None], float], ...] = (
    (_doubled, math.inf),
    (_credit, math.inf),
    (_read_more, 8),
    (_feed_footer, math.inf),
    (_copyright, 15),
    (_label, 8),
    (_byline_marker, 6),
    (_list_header, 5),
    (_interface, 12),
)
"""Each rule, with the most words a line it looks at may have; the first reason found is kept."""
_RULES_BY_LENGTH = [
    tuple(rule for rule, most in LINE_RULES if n_words <= most)
    for n_words in range(int(max(most for _, most in LINE_RULES if most < math.inf)) + 2)
]
"""The rules for a line of n words, looked up once per line: the last entry serves all longer lines."""


def _name_like(line: Line) -> bool:
    return (
        1 <= line.n_words <= 4
        and all(w[:1].isupper() for w in line.words)
        and not any(w.lower() in STOPWORDS for w in line.words)
        and not re.search(r"[\d.,;:!?]", line.text)
    )


def _mark_repeats(lines: list[Line]) -> None:
    """Short lines that recur are layout; long ones that recur are duplicates of the first."""
    counts = Counter(line.key for line in lines)
    first_seen: dict[str, int] = {}
    for line in lines:
        key = line.key
        if not key:
            continue
        if key in first_seen and line.reason is None:
            line.reason, line.detail = DropReason.DUPLICATE_LINE, str(first_seen[key])
        first_seen.setdefault(key, line.number)
        if counts[key] > 1 and line.n_words <= 6 and line.reason is None:
            line.reason = DropReason.REPEATED_BYLINE
    # a caption is often printed twice: once alone, once followed by its credit
    credited = [line.key for line in lines if line.reason is DropReason.CAPTION]
    if not credited:
        return
    for line in lines:
        key = line.key
        if line.reason is None and line.n_words >= 3 and any(c.startswith(key) and c != key for c in credited):
            line.reason = DropReason.CAPTION_REPEATED


def _mark_bylines(lines: list[Line]) -> None:
    """A bare name next to the interface's furniture (a share button, another byline) is a byline."""
    for i, line in enumerate(lines):
        if line.reason or not _name_like(line):
            continue
        neighbours = lines[max(0, i - 1) : i] + lines[i + 1 : i + 2]
        if any(n.reason is not None and n.reason.furniture is Furniture.INTERFACE for n in neighbours):
            line.reason = DropReason.BYLINE


def _mark_strays(lines: list[Line], text: str) -> None:
    """Lines in another writing system or language than the document."""
    letters = letters_by_script(text)
    # a line's letters are some of the document's: if those are all in one script, so is every line
    if len(letters) > 1:
        _mark_script_strays(lines, most_letters(letters))
    _mark_language_strays(lines)


def _mark_script_strays(lines: list[Line], script: str | None) -> None:
    for line in lines:
        # an ASCII line is Latin (or has no letters): a stray only in a non-Latin document
        if line.reason or script == "LATIN" and line.text.isascii():
            continue
        line_script = dominant_script(line.text)
        if line_script and line_script != script:
            line.reason, line.detail = DropReason.OTHER_SCRIPT, line_script.title()
            line.stray = True


def _mark_language_strays(lines: list[Line]) -> None:
    n_words = sum(line.n_words for line in lines)
    # a line with all the document's words in it is in the document's language
    candidates = [line for line in lines if line.reason is None and 6 <= line.n_words < n_words]
    if not candidates:
        return
    found = {line.number: function_words(line.words) for line in lines}
    # the document's language is guessed from all its lines, dropped or not
    language = guess_language_of_function_words(list(chain.from_iterable(found.values())), n_words)
    if not language:
        return
    native = FUNCTION_WORDS[language]
    for line in candidates:
        line_words = found[line.number]
        if native.issuperset(line_words):
            # every function word the line has counts for the document's language as much as for any
            # other: no other language can lead it by half again, so the guess cannot be another one
            continue
        line_language = guess_language_of_function_words(line_words, line.n_words)
        if line_language and line_language != language:
            line.reason, line.detail = DropReason.OTHER_LANGUAGE, line_language
            line.stray = True


def _mark_links(lines: list[Line], link_lines: frozenset[str]) -> None:
    """Lines that were links in the source markup (a feed entry's: items of a list of links, paragraphs
    of link text alone) are navigation, promotions or related headlines, never the story: a "Get our
    newsletter" link above the text must not become its headline. A line another rule explained (a
    'read more' credit, a run of other headlines, which may end in lines that were no links) keeps
    that reason."""
    if not link_lines:
        return
    for line in lines:
        if line.reason is None and line.text in link_lines:
            line.reason = DropReason.LINK


def _mark_dates(lines: list[Line]) -> None:
    for line in lines:
        if line.reason is None and (day := parse_date_line(line.text)):
            line.reason = DropReason.DATE_LINE
            line.day = day


def _mark_lists(lines: list[Line]) -> None:
    """Runs of short title-like lines (with dates, teasers, strays) are lists of other posts."""
    runs: list[list[Line]] = []
    current: list[Line] = []
    for line in lines:
        if line.is_paragraph and line.reason is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(line)
    if current:
        runs.append(current)
    last_prose = max((line.number for line in lines if line.is_paragraph and line.reason is None), default=0)
    for run in runs:
        titles = sum(1 for line in run if line.is_headline_like and line.reason is None)
        listish = sum(
            1 for line in run
            if line.day or line.stray or line.list_header
            or line.is_teaser
        )
        at_tail = run[0].number > last_prose
        if titles >= 2 and titles + listish >= 3 and (at_tail or listish or titles >= 5):
            if not at_tail:
                _spare_headline(run)
            for line in run:
                if line.reason in (None, DropReason.DATE_LINE) and not line.headline:
                    line.reason = DropReason.HEADLINE_LIST


def _spare_headline(run: list[Line]) -> None:
    """A list-like run right above an article ends with the article's own headline."""
    for line in reversed(run):
        if line.reason is None and line.is_title_like and line.n_words >= 4:
            line.headline = True
            return


def _mark_site_names(lines: list[Line]) -> None:
    """A short title line directly above a headline names the site or section, not a story."""
    kept = [line for line in lines if line.reason is None]
    for line, following, after in zip(kept, kept[1:], kept[2:], strict=False):
        if (line.is_title_like and not line.is_prose and following.is_title_like
                and not following.is_prose and after.is_prose):
            line.reason = DropReason.SITE_NAME


def _mark_story_cues(lines: list[Line]) -> None:
    """Datelines open stories; 'read more' links close them (and may name their publisher)."""
    kept = [line for line in lines if line.reason is None]
    for line in kept:
        match = DATELINE.match(line.text)
        if match:
            line.starts_story = True
            line.credit = match["agency"].strip()
    for line in lines:
        if line.reason in (DropReason.READ_MORE, DropReason.READ_MORE_CREDITING):
            before = [k for k in kept if k.number < line.number]
            after = [k for k in kept if k.number > line.number]
            if before and line.credit and before[-1].credit is None:
                before[-1].credit = line.credit
            if after:
                after[0].starts_story = True


def _blocks(lines: list[Line]) -> list[Block]:
    kept = [(position, line) for position, line in enumerate(lines) if line.reason is None]
    blocks = []
    for i, (position, line) in enumerate(kept):
        following = kept[i + 1][1] if i + 1 < len(kept) else None
        is_heading = (
            line.is_title_like
            and not line.text.startswith("*")
            and following is not None
            and following.is_prose
            and not line.is_prose
        )
        published = None
        if is_heading and position + 1 < len(lines):
            published = lines[position + 1].day
        blocks.append(
            Block(
                text=line.text,
                line=line.number,
                kind=BlockKind.HEADING if is_heading else BlockKind.PARAGRAPH,
                starts_story=line.starts_story,
                credit=line.credit,
                published=published,
            )
        )
    return blocks


def clean_document(document: Document) -> CleanedDocument:
    lines = _lines(document.text)
    for line in lines:
        for rule in _RULES_BY_LENGTH[min(line.n_words, len(_RULES_BY_LENGTH) - 1)]:
            if reason := rule(line):
                line.reason = reason
                break
    _mark_dates(lines)
    _mark_repeats(lines)
    _mark_bylines(lines)
    _mark_strays(lines, document.text)
    _mark_lists(lines)
    _mark_links(lines, document.link_lines)
    _mark_site_names(lines)
    _mark_story_cues(lines)
    drops = tuple(
        Drop(line.reason, line.text, document.id, line.number, line.detail)
        for line in lines
        if line.reason
    )
    return CleanedDocument(document=document, blocks=tuple(_blocks(lines)), drops=drops)


def clean_documents(documents: list[Document]) -> list[CleanedDocument]:
    return [clean_document(doc) for doc in documents]




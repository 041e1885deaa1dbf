"""A line of a document as the cleaner sees it: its shape, worked out once, and the rules that
judge a line alone (a button's label, a photo credit, a 'read more' link, a share prompt).

Rules that weigh a line against its neighbours or the whole document are in
digest.stages.clean.document.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from datetime import date
from html.entities import html5

from dateutil import parser as dateparser

from digest.models import DropReason
from digest.stages.text import STOPWORDS, WordTable, words

SENTENCE_ENDS = (".", "!", "?", "…")
CLOSING_QUOTES_AND_BRACKETS = "\"'”’)]"
DETACHED_ELLIPSIS = re.compile(r"\s+(?:…|\.\.\.)$")
CHARACTER_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
"""An HTML character reference left in text: a feed that escaped its HTML twice (The Wall Street
Journal's descriptions: "It&#x27;s the hottest gift", "taken hostage &#x2022; Hamas says")."""
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
CLOSING_CREDIT = re.compile(r"(?:^|[.!?][\"'”’]?\s+)\((?P<credit>[^()]*(?:\([^()]*\)[^()]*)*)\)\.?$")
"""A caption's credit after its last sentence, or alone: "… on Oct. 9, 2023. (NTD)", "(Courtesy of ICHI Inc, Japan)"."""
CREDIT_SMALL_WORDS = frozenset(
    "of via by and for the de del la von van dpa family file courtesy screenshot handout supplied".split()
)
"""The only words a credit in parentheses has that are not capitalised ("(Neutra family via AP)"): an aside
("(The family denies any involvement.)", "(He died in 2011)") has others, or ends its own sentence; a story's
credits ("(Reporting by …; Editing by …)") are not a photo's, nor is a citation with its date ("(RT, Sept. 15)")."""
CLOSING_CREDIT_WORDS = 14
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
OTHER_CONTENTS = re.compile(
    r"^(?:also|elsewhere) in (?:today[’']s|this|this week[’']s|the|our|tomorrow[’']s) "
    r"(?:newsletter|edition|issue|briefing|digest)\b\s*[:,—–-]",
    re.I,
)
"""A newsletter's list of its other items ("Also in today’s newsletter, Xi and Biden set to meet and …":
the Financial Times' entries), the rest of an issue rather than this story."""
SUBSCRIPTION_OFFER = re.compile(
    r"(?:[$€£]\s?\d|\d\s?(?:USD|EUR|GBP)\b).{0,40}\b(?:month|year|week|day)s?\b"
    r"|\b(?:free trial|subscribe now|already (?:a )?subscriber|sign up|log in|sign in)\b",
    re.I,
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


def unescape_references(text: str) -> str:
    """The text with any HTML character reference left in it read as the character it stands for."""
    if "&" not in text:
        return text
    return CHARACTER_REFERENCE.sub(_character, text)


def _character(reference: re.Match[str]) -> str:
    """A numeric reference's character, or a named one's if HTML names it (with its semicolon)."""
    text = reference.group()
    return html.unescape(text) if text[1] == "#" else html5.get(text[1:], text)


def read_lines(text: str) -> list[Line]:
    """The document's non-blank lines, stripped, with their shapes worked out."""
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.endswith(("…", "...")):
            stripped = DETACHED_ELLIPSIS.sub("", stripped)
        stripped = unescape_references(stripped)
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
    return DropReason.CAPTION if any(credit.search(text) for credit in CREDITS) or _closing_credit(text) else None


def _closing_credit(text: str) -> bool:
    """Whether the line ends in a photo credit in parentheses: a caption (The Epoch Times' feed entries are their
    photo's caption and credit, "(Metropolitan Police)", "(Sputnik/Mikhail Klimentyev/Kremlin via Reuters)")."""
    match = CLOSING_CREDIT.search(text)
    if match is None:
        return False
    credit = match["credit"].strip()
    names = credit.replace("/", " ").replace("(", " ").replace(")", " ").split()
    if not names or len(names) > CLOSING_CREDIT_WORDS or credit[-1] in ".!?" or not credit[0].isupper():
        return False
    if ";" in credit or any(character.isdigit() for character in credit):
        return False
    return all(name[0].isupper() or name.strip(",").lower() in CREDIT_SMALL_WORDS for name in names)


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


def _other_contents(line: Line) -> DropReason | None:
    return DropReason.HEADLINE_LIST if OTHER_CONTENTS.match(line.text) else None


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
    (_other_contents, 60),
    (_interface, 12),
)
"""Each rule, with the most words a line it looks at may have; the first reason found is kept."""
_RULES_BY_LENGTH = [
    tuple(rule for rule, most in LINE_RULES if n_words <= most)
    for n_words in range(int(max(most for _, most in LINE_RULES if most < math.inf)) + 2)
]
"""The rules for a line of n words, looked up once per line: the last entry serves all longer lines."""


def judge_alone(line: Line) -> DropReason | None:
    """The first reason the rules that look at this line alone find to drop it (None: they keep it)."""
    for rule in _RULES_BY_LENGTH[min(line.n_words, len(_RULES_BY_LENGTH) - 1)]:
        if reason := rule(line):
            return reason
    return None

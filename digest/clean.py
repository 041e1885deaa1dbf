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

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from dateutil import parser as dateparser

from digest.models import Block, BlockKind, CleanedDocument, Document, Drop
from digest.words import STOPWORDS, dominant_script, guess_language_of_words, words

SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
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
CREDIT = re.compile(
    r"(Credit|Credits|Photo|Photos|Photograph|Picture|Image|Illustration|Video|Footage)\s*:(?:\s*\S|\s*$)"
    r"|\((?:Photo|Photograph|Picture|Image|Illustration)\b[^)]*\)"
    r"|\b(?:Photo|Photograph|Picture|Image|Illustration) (?:by|courtesy of|via)\b"
    r"|\bGetty Images\b|\bAP Photo\b|\bAFP via\b|\bREUTERS/"
    r"|\((?:[A-Z][\w.&'’ -]{1,30})/(?:[A-Z][\w.&'’ -]{1,40})\)\.?$"  # "(Reuters/Ronen Zvulun)"
)
CREDIT_WORDS = ("Credit", "Photo", "Picture", "Image", "Illustration", "Video", "Footage", "AFP via", "REUTERS/",
                "(")
"""Every match of CREDIT contains one of these (keep them in step): a line with none is no credit.

Checked first, as plain substring tests: searching CREDIT itself along a long line is slow."""
READ_MORE = re.compile(
    r"^(?:full (?:article|story|text|report)|read (?:more|whole|full|the (?:full|whole|rest)\b.*|on|it)"
    r"|continue reading|keep reading|source|via|originally published (?:at|in|by|on))\b\s*[:—–-]?\s*(?P<credit>.*)$",
    re.I,
)
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


@dataclass
class Line:
    number: int
    text: str
    words: tuple[str, ...]
    blank_before: int
    reason: str | None = None
    credit: str | None = None
    starts_story: bool = False
    published: date | None = None
    duplicate_of: int | None = None
    extra: dict[str, object] = field(default_factory=dict)

    # The shape of a line depends on its text and words alone, which never change:
    # each feature is computed once (cached_property), however many rules ask.

    @property
    def n_words(self) -> int:
        return len(self.words)

    @cached_property
    def lower_words(self) -> list[str]:
        return [w.lower() for w in self.words]

    @cached_property
    def key(self) -> str:
        """The line as compared for repetition: its words, lower-cased."""
        return " ".join(self.lower_words)

    @cached_property
    def is_teaser(self) -> bool:
        """Cut off with an ellipsis ('… the minister said…'); the pattern looks at 5 characters at most."""
        return bool(TEASER_END.search(self.text[-5:]))

    @cached_property
    def is_prose(self) -> bool:
        """Reads as running text: a long line, or a full sentence, not a cut-off teaser."""
        if self.is_teaser:
            return False
        return self.n_words >= 25 or (self.n_words >= 8 and bool(SENTENCE_END.search(self.text)))

    @cached_property
    def is_title_case(self) -> bool:
        """Most content words capitalised, as in headlines ('Defend Venezuela’s Sovereignty!')."""
        content = [w for w, low in zip(self.words, self.lower_words, strict=True)
                   if len(w) > 2 and low not in STOPWORDS]
        return len(content) >= 2 and len([w for w in content if w[0].isupper()]) >= 0.7 * len(content)

    @cached_property
    def is_paragraph(self) -> bool:
        """Substantial running text: enough to interrupt a list of links."""
        return self.n_words >= 12 and self.is_prose and not self.is_title_case

    @cached_property
    def is_headline_like(self) -> bool:
        """Shaped like an item of a headline list (which may end in ! or ?)."""
        return self.n_words >= 3 and (self.is_title_like or (
            self.n_words <= 20 and self.text[:1].isupper() and self.text[-1] in "!?"))

    @cached_property
    def is_title_like(self) -> bool:
        """Shaped like a headline: short, capitalised, no closing punctuation."""
        first = self.text[:1]
        return (
            1 <= self.n_words <= 20
            and (first.isupper() or first.isdigit() or first in "\"'“‘")
            and not re.search(r"[.,;:!…]$", self.text)
        )


def _lines(text: str) -> list[Line]:
    lines, blanks = [], 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.endswith(("…", "...")):
            stripped = DETACHED_ELLIPSIS.sub("", stripped)
        if not stripped:
            blanks += 1
            continue
        lines.append(Line(number, stripped, words(stripped), blanks))
        blanks = 0
    return lines


def parse_date_line(text: str) -> date | None:
    """The date a line consists of ('May 22, 2013', 'Posted on 3 April 2026'), if nothing else."""
    text = DATE_LABEL.sub("", text)
    if len(text.split()) > 6 or not MONTHS.search(text) or not YEAR.search(text):
        return None
    try:
        parsed = dateparser.parse(text, fuzzy=False)
    except (ValueError, OverflowError):
        return None
    return parsed.date() if parsed else None


# ---- rules on a single line: each returns the reason for dropping it, or None ----


def _doubled(line: Line) -> str | None:
    text = line.text
    half = len(text) // 2
    if len(text) >= 6 and len(text) % 2 == 0 and text[:half] == text[half:]:
        return "interface label written twice (a button and its hidden twin)"
    return None


def _credit(line: Line) -> str | None:
    text = line.text
    if not any(word in text for word in CREDIT_WORDS):
        return None
    return "photo caption or credit" if CREDIT.search(text) else None


def _read_more(line: Line) -> str | None:
    if line.n_words > 8:
        return None
    match = READ_MORE.match(line.text)
    if not match:
        return None
    credit = match["credit"].strip(" :—–-.…")
    if re.search(r"[^\W\d_]", credit) and credit.lower() not in {"here", "more", "this", "it"}:
        line.credit = credit
    return "'read more' link" + (f" (credits {credit})" if line.credit else "")


def _copyright(line: Line) -> str | None:
    return "copyright notice" if line.n_words <= 15 and COPYRIGHT.search(line.text) else None


def _label(line: Line) -> str | None:
    if line.n_words <= 8 and (LABEL.match(line.text) or BREADCRUMB.search(line.text)):
        return "category or section label"
    return None


def _byline_marker(line: Line) -> str | None:
    if line.n_words <= 6 and BYLINE_MARKER.match(line.text):
        return "byline"
    return None


def _interface(line: Line) -> str | None:
    if line.n_words > 12:
        return None
    if SUBSCRIPTION_OFFER.search(line.text):
        return "subscription or login prompt"
    content = [w for w in line.lower_words if w not in STOPWORDS and len(w) > 1]
    if not content:
        return None
    hits = sum(w in INTERFACE_WORDS for w in content)
    if hits >= 2 and hits / len(content) >= 0.5 or (hits and hits == len(content) and line.n_words <= 3):
        return "share, subscribe, comment or navigation prompt"
    return None


def _list_header(line: Line) -> str | None:
    if line.n_words <= 5 and line.is_title_like and LIST_HEADER.match(line.text):
        line.extra["list_header"] = True
        return "heading of a list of other posts"
    return None


LINE_RULES: tuple[Callable[[Line], str | None], ...] = (
    _doubled,
    _credit,
    _read_more,
    _copyright,
    _label,
    _byline_marker,
    _list_header,
    _interface,
)


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
            line.reason = f"duplicate of line {first_seen[key]}"
            line.duplicate_of = first_seen[key]
        first_seen.setdefault(key, line.number)
        if counts[key] > 1 and line.n_words <= 6 and line.reason is None:
            line.reason = "repeated byline or label"
    # a caption is often printed twice: once alone, once followed by its credit
    credited = [line.key for line in lines if line.reason == "photo caption or credit"]
    if not credited:
        return
    for line in lines:
        key = line.key
        if line.reason is None and line.n_words >= 3 and any(c.startswith(key) and c != key for c in credited):
            line.reason = "photo caption (repeated with its credit)"


def _mark_bylines(lines: list[Line]) -> None:
    """A bare name next to other furniture is a byline."""
    for i, line in enumerate(lines):
        if line.reason or not _name_like(line):
            continue
        neighbours = lines[max(0, i - 1) : i] + lines[i + 1 : i + 2]
        if any(n.reason in {"byline", "repeated byline or label"} or n.reason and "interface" in n.reason
               for n in neighbours):
            line.reason = "byline"


def _mark_strays(lines: list[Line], text: str) -> None:
    """Lines in another writing system or language than the document."""
    script = dominant_script(text)
    language = guess_language_of_words([w for line in lines for w in line.lower_words])
    for line in lines:
        if line.reason:
            continue
        # an ASCII line is Latin (or has no letters): a stray only in a non-Latin document
        line_script = None if script == "LATIN" and line.text.isascii() else dominant_script(line.text)
        if script and line_script and line_script != script:
            line.reason = f"line in another script ({line_script.title()}) than the document"
            line.extra["stray"] = True
        elif language and line.n_words >= 6:
            line_language = guess_language_of_words(line.lower_words)
            if line_language and line_language != language:
                line.reason = f"line in another language ({line_language}) than the document"
                line.extra["stray"] = True


def _mark_dates(lines: list[Line]) -> None:
    for line in lines:
        if line.reason is None and (day := parse_date_line(line.text)):
            line.reason = "date line"
            line.extra["date"] = day


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
            if "date" in line.extra or "stray" in line.extra or "list_header" in line.extra
            or line.is_teaser
        )
        at_tail = run[0].number > last_prose
        if titles >= 2 and titles + listish >= 3 and (at_tail or listish or titles >= 5):
            if not at_tail:
                _spare_headline(run)
            for line in run:
                if (line.reason is None or line.reason == "date line") and "headline" not in line.extra:
                    line.reason = "list of other headlines or links"


def _spare_headline(run: list[Line]) -> None:
    """A list-like run right above an article ends with the article's own headline."""
    for line in reversed(run):
        if line.reason is None and line.is_title_like and line.n_words >= 4:
            line.extra["headline"] = True
            return


def _mark_site_names(lines: list[Line]) -> None:
    """A short title line directly above a headline names the site or section, not a story."""
    kept = [line for line in lines if line.reason is None]
    for line, following, after in zip(kept, kept[1:], kept[2:], strict=False):
        if (line.is_title_like and not line.is_prose and following.is_title_like
                and not following.is_prose and after.is_prose):
            line.reason = "site or section name above a headline"


def _mark_story_cues(lines: list[Line]) -> None:
    """Datelines open stories; 'read more' links close them (and may name their publisher)."""
    kept = [line for line in lines if line.reason is None]
    for line in kept:
        match = DATELINE.match(line.text)
        if match:
            line.starts_story = True
            line.credit = match["agency"].strip()
    for i, line in enumerate(lines):
        if line.reason and line.reason.startswith("'read more' link"):
            before = [k for k in kept if k.number < line.number]
            after = [k for k in kept if k.number > line.number]
            if before and line.credit and before[-1].credit is None:
                before[-1].credit = line.credit
            if after:
                after[0].starts_story = True


def _blocks(lines: list[Line]) -> list[Block]:
    kept = [line for line in lines if line.reason is None]
    blocks = []
    for i, line in enumerate(kept):
        following = kept[i + 1] if i + 1 < len(kept) else None
        is_heading = (
            line.is_title_like
            and not line.text.startswith("*")
            and following is not None
            and following.is_prose
            and not line.is_prose
        )
        published = None
        if is_heading:
            after = [n for n in lines if n.number > line.number][:1]
            if after and isinstance(after[0].extra.get("date"), date):
                published = after[0].extra["date"]
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
        for rule in LINE_RULES:
            if reason := rule(line):
                line.reason = reason
                break
    _mark_dates(lines)
    _mark_repeats(lines)
    _mark_bylines(lines)
    _mark_strays(lines, document.text)
    _mark_lists(lines)
    _mark_site_names(lines)
    _mark_story_cues(lines)
    drops = tuple(
        Drop(stage="clean", reason=line.reason, text=line.text, document=document.id, line=line.number)
        for line in lines
        if line.reason
    )
    return CleanedDocument(document=document, blocks=tuple(_blocks(lines)), drops=drops)


def clean_documents(documents: list[Document]) -> list[CleanedDocument]:
    return [clean_document(doc) for doc in documents]




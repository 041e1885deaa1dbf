"""The cleaner's rules across lines: repetition, bylines beside the interface's furniture,
strays in another script or language, runs of headlines, links, site names and story cues;
then the kept lines become Blocks. What one line looks like alone is digest.stages.clean.lines.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import chain

from digest.models import Block, BlockKind, CleanedDocument, Document, Drop, DropReason, Furniture
from digest.stages.clean.lines import Line, judge_alone, parse_date_line, read_lines, unescape_references
from digest.stages.text import (
    FUNCTION_WORDS,
    STOPWORDS,
    dominant_script,
    function_words,
    guess_language_of_function_words,
    letters_by_script,
    most_letters,
)

DATELINE = re.compile(
    r"^(?P<place>[A-Z][A-Z.'’ -]{2,}(?:,\s*[A-Za-z.' ]+)?)\s*\((?P<agency>[^)]{2,40})\)\s*[—–-]"
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
    link_lines = frozenset(map(unescape_references, link_lines))  # as read_lines reads the text
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
    lines = read_lines(document.text)
    for line in lines:
        line.reason = judge_alone(line)
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

"""The typed data that flows between pipeline stages.

Document -> Block -> Story -> ThemedStory -> SummarizedStory -> Edition.
Every model is frozen and free of I/O; a stage that discards something
records a Drop so `digest build --explain` can show why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum, StrEnum
from typing import Literal

FullText = Literal["auto", "always", "never"]
"""Whether a feed entry's linked page is read for its full text (config: feeds[].full_text)."""

PUBLISHER_NOT_NAMED = "Publisher not named"
"""A source's name when nothing names its publisher: not its feed, its page, nor its text."""


def assume_utc(moment: datetime) -> datetime:
    """A moment as given when it has a time zone; one given without (a feed's or a mail's date, `--now`) is
    read as UTC. The one place that decides it, here because every layer, stages included, may import models."""
    return moment if moment.utcoffset() is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class SourceRef:
    """Where a story came from, as shown to readers."""

    name: str
    url: str | None = None
    published: date | datetime | None = None
    document: str = ""
    author: str | None = None
    """Who wrote it, when the page or the seed says (digest.sources.sanitize.byline: a name, never a link)."""


@dataclass(frozen=True)
class Document:
    """One input as read: a seed file or a feed entry, as plain text."""

    id: str
    text: str
    source: SourceRef
    title: str | None = None
    theme_hints: tuple[str, ...] = ()
    """Themes its feed's config says it leans towards (empty for seeds)."""
    link_lines: frozenset[str] = frozenset()
    """Lines of the text that were links rather than text in the source markup (empty for seeds)."""
    full_text: FullText = "never"
    """Whether its linked page may be read for the full text (its feed's setting; never for seeds)."""


class BlockKind(StrEnum):
    PARAGRAPH = "paragraph"
    HEADING = "heading"


@dataclass(frozen=True)
class Block:
    """A line of a cleaned document that survived cleaning."""

    text: str
    line: int
    kind: BlockKind = BlockKind.PARAGRAPH
    starts_story: bool = False
    credit: str | None = None
    """A publisher named by an attribution line that closed this block's story."""
    published: date | None = None
    """A date line that stood directly under this block (headings only)."""


class Furniture(StrEnum):
    """What kind of thing a dropped line was: the rules that look at a line's neighbours ask this."""

    INTERFACE = "interface furniture"
    """Buttons, share and sign-up prompts, bylines: the layout's own words around a story."""
    CAPTION = "caption"
    NAVIGATION = "navigation"
    """Links, labels and lists of other posts."""
    NOTICE = "notice"
    DATE = "date"
    STRAY = "stray"
    """A line in another script or language than the document."""
    REPEAT = "repeat"
    EMPTY = "empty"


class DropReason(Enum):
    """Why a stage discarded something: its stage, its kind, and the words --explain prints.

    ``{detail}`` in the words is filled from Drop.detail (a line number, a script, another story).
    """

    DOUBLED_LABEL = ("clean", Furniture.INTERFACE, "interface label written twice (a button and its hidden twin)")
    CAPTION = ("clean", Furniture.CAPTION, "photo caption or credit")
    CAPTION_REPEATED = ("clean", Furniture.CAPTION, "photo caption (repeated with its credit)")
    READ_MORE = ("clean", Furniture.NAVIGATION, "'read more' link")
    READ_MORE_CREDITING = ("clean", Furniture.NAVIGATION, "'read more' link (credits {detail})")
    FEED_FOOTER = ("clean", Furniture.NOTICE, "feed footer ('The post … appeared first on …')")
    COPYRIGHT = ("clean", Furniture.NOTICE, "copyright notice")
    LABEL = ("clean", Furniture.NAVIGATION, "category or section label")
    BYLINE = ("clean", Furniture.INTERFACE, "byline")
    REPEATED_BYLINE = ("clean", Furniture.INTERFACE, "repeated byline or label")
    SUBSCRIPTION_PROMPT = ("clean", Furniture.INTERFACE, "subscription or login prompt")
    INTERFACE_PROMPT = ("clean", Furniture.INTERFACE, "share, subscribe, comment or navigation prompt")
    LIST_HEADING = ("clean", Furniture.NAVIGATION, "heading of a list of other posts")
    DUPLICATE_LINE = ("clean", Furniture.REPEAT, "duplicate of line {detail}")
    OTHER_SCRIPT = ("clean", Furniture.STRAY, "line in another script ({detail}) than the document")
    OTHER_LANGUAGE = ("clean", Furniture.STRAY, "line in another language ({detail}) than the document")
    LINK = ("clean", Furniture.NAVIGATION, "a link, not text (navigation, promotion or related headline)")
    DATE_LINE = ("clean", Furniture.DATE, "date line")
    HEADLINE_LIST = ("clean", Furniture.NAVIGATION, "list of other headlines or links")
    SITE_NAME = ("clean", Furniture.NAVIGATION, "site or section name above a headline")
    DUPLICATE_STORY = ("dedupe", Furniture.REPEAT, "duplicate of {detail}")
    SAME_STORY = ("dedupe", Furniture.REPEAT, "same story as {detail}")
    REPEATED_PARAGRAPH = ("dedupe", Furniture.REPEAT, "paragraph repeated from {detail}")
    ALL_PARAGRAPHS_REPEATED = ("dedupe", Furniture.REPEAT, "every paragraph already appears in an earlier story")
    NOTHING_TO_SUMMARIZE = ("summarize", Furniture.EMPTY, "no sentence to summarize and no headline")

    def __init__(self, stage: str, furniture: Furniture, words: str) -> None:
        self.stage = stage
        self.furniture = furniture
        self.words = words


@dataclass(frozen=True)
class Drop:
    """Something a stage discarded, and why."""

    reason: DropReason
    text: str
    document: str
    line: int | None = None
    detail: str = ""
    """What the reason's words name (the line repeated, the other story, the language)."""

    @property
    def stage(self) -> str:
        return self.reason.stage

    @property
    def explanation(self) -> str:
        """The reason as --explain prints it."""
        return self.reason.words.format(detail=self.detail)


@dataclass(frozen=True)
class CleanedDocument:
    document: Document
    blocks: tuple[Block, ...]
    drops: tuple[Drop, ...] = ()


@dataclass(frozen=True)
class Story:
    """One article or post: its own title where the text has one, and its paragraphs."""

    id: str
    title: str | None
    paragraphs: tuple[str, ...]
    sources: tuple[SourceRef, ...]
    document: str
    line: int
    theme_hints: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


class PlacedBy(StrEnum):
    """What placed a story in its theme."""

    MODEL = "model"
    """The theme's model, from the story's title and lede, at or above the theme's bar."""
    RULES = "rules"
    """The theme's keyword rules, over the whole text of a long story the model left below the bar."""
    EDITOR = "editor"
    """An editor's correction of this story (digest themes learn --theme)."""


@dataclass(frozen=True)
class ThemeDecision:
    """The theme a story was sorted into (None: fits no theme), with the why."""

    theme: str | None
    score: float
    reason: str
    scores: tuple[tuple[str, float], ...] = ()
    cause_unnamed: tuple[str, ...] = ()
    """Themes the story is never placed in, whatever its score: it never names their cause (signals.must_name)."""
    terms_missing: tuple[str, ...] = ()
    """Themes one of whose term groups (signals.require) the story never names: it is no near miss of them."""
    placed_by: PlacedBy | None = None
    """What placed it (None: no theme, or a decision of the keyword rules alone, as bench/themes.py compares)."""
    excluded: tuple[str, ...] = ()
    """Themes the story is never placed in, whatever its score: its headline matches their ``exclude`` (matched
    only for the themes it reached the bar of or names every term group of: those it could be placed in or near)."""


@dataclass(frozen=True)
class ThemedStory:
    story: Story
    decision: ThemeDecision


@dataclass(frozen=True)
class SummarizedStory:
    story: Story
    decision: ThemeDecision
    summary: tuple[str, ...]
    """Sentences copied verbatim from the story, in source order."""


@dataclass(frozen=True)
class EditionStory:
    id: str
    title: str
    summary: tuple[str, ...]
    sources: tuple[SourceRef, ...]
    theme: str | None
    reason: str
    near_theme: str | None = None
    """A near miss in Also noted (a story no theme took): the theme it came nearest to."""


@dataclass(frozen=True)
class Section:
    theme: str
    title: str
    description: str
    stories: tuple[EditionStory, ...]


@dataclass(frozen=True)
class Edition:
    """The whole template context: templates read nothing else."""

    name: str
    title: str
    date: datetime
    sections: tuple[Section, ...]
    also_noted: Section | None = None
    description: str = ""

    @property
    def id(self) -> str:
        """Stable per edition name and run time: keys the send ledger and Message-IDs."""
        return f"{self.name}-{self.date:%Y%m%dT%H%M%z}"

    @property
    def section_titles(self) -> dict[str, str]:
        """Each section's title by its theme: Also noted says which section a story had no room in."""
        return {section.theme: section.title for section in self.sections}

    @property
    def stories(self) -> tuple[EditionStory, ...]:
        also = self.also_noted.stories if self.also_noted else ()
        return tuple(s for sec in self.sections for s in sec.stories) + also


class PageRefusal(StrEnum):
    """Why a page's text was not used: the story keeps its feed text."""

    BUDGET = "over this build's page budget"
    OFFLINE = "not fetched (offline) and not stored"
    DISALLOWED = "robots.txt disallows the path"
    FORBIDDEN = "the server refused"
    PAYWALL = "behind a paywall"
    NOT_FOUND = "no such page"
    UNREACHABLE = "unreachable"
    """No connection to the host (refused, name not found): its robots.txt could not be asked either."""
    TIMEOUT = "timed out"
    TOO_LARGE = "larger than the size cap"
    OFF_SITE = "redirected to another site"
    NOT_HTML = "not a web page"
    NOT_ARTICLE = "not an article"
    SHORTER = "the page says less than the feed"
    FAILED = "fetch failed"


class PageSource(StrEnum):
    """Where a story's page came from in this build, for the build summary."""

    FETCHED = "fetched"
    REUSED = "reused"
    REFUSED = "refused"


@dataclass(frozen=True)
class PageNote:
    """How a story's linked page was read in a build, for --explain and the build summary."""

    document: str
    url: str
    source: PageSource
    refusal: PageRefusal | None = None
    detail: str | None = None


class FeedStatus(StrEnum):
    """How a feed did in a build: what its summary line and exit status go by."""

    OK = "ok"
    NOT_MODIFIED = "not-modified"
    FAILED = "failed"
    NOT_FETCHED = "not-fetched"
    """An offline build: the store's entries were used, nothing was asked."""


@dataclass(frozen=True)
class FeedOutcome:
    url: str
    name: str
    status: FeedStatus
    documents: int = 0
    """Entries of this feed in the edition's window (before cleaning and dedupe)."""
    message: str | None = None


@dataclass(frozen=True)
class Window:
    """The stories an edition covers: feed entries first seen after ``start`` (None: from the first)
    up to ``end``. Publishing the edition closes it, so the next edition starts at ``end``."""

    start: datetime | None
    end: datetime


@dataclass(frozen=True)
class BuildResult:
    """An edition plus every decision taken on the way, for --explain."""

    edition: Edition
    drops: tuple[Drop, ...] = ()
    decisions: tuple[ThemedStory, ...] = ()
    warnings: tuple[str, ...] = field(default=())
    timings: tuple[tuple[str, float], ...] = ()
    """Seconds spent per stage, for benchmarks; never rendered."""
    window: Window | None = None
    """The window built from the store (None: a one-off period, or no store)."""
    pages: tuple[PageNote, ...] = ()
    """The linked pages read for full text (digest.sources.pages), in story order."""
    feeds: tuple[FeedOutcome, ...] = ()
    """Each enabled feed, in config order."""
    seed_documents: int = 0

"""schedule.yaml: the one config file, validated on load.

Pydantic models (unknown keys rejected) describe every key; each field's
docstring is its documentation. Errors name the file, the line and the key
path: ``schedule.yaml:12: themes.solidarity.title: Field required``.
Line numbers come from ruamel.yaml's round-trip loader, which keeps them.
A valid file is read with ruamel's C loader instead (libyaml: 0.07 s rather
than 0.5 s for a config of 500 feeds); only a file with a mistake is read
again, round-trip, to say on which line.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from digest.errors import ConfigError
from digest.models import FullText

KEY = r"^[a-z0-9][a-z0-9_-]*$"
DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_duration(value: Any) -> timedelta:
    """'90s', '15m', '2h', '1d' or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration like 90s, 15m, 2h or 1d")
    return timedelta(**{UNITS[match[2]]: int(match[1])})


def regular_expressions(patterns: list[str]) -> list[str]:
    """The patterns, each checked to compile: a typo is reported with the key it is under, not at build time."""
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"bad regular expression '{pattern}': {exc}") from None  # as written: repr() doubles each backslash
    return patterns


class ThemeSignals(Strict):
    """How a story is recognised as being about a theme.

    Terms are lower-case words or phrases; a trailing ``*`` matches any
    ending (``settler*`` matches settlers, settler's).
    """

    require: list[list[str]] = Field(default_factory=list)
    """Groups of terms; a story must mention a term of every group."""
    keywords: dict[str, float]
    """Weighted terms; their density in the story is the theme's score. A negative
    weight counts against the theme."""
    min_score: float = 1.0
    """Weighted keyword hits per 100 words a story needs to be placed here."""
    min_hits: float = 4.0
    """Weighted keyword hits a story needs however short it is: one passing mention is not enough."""
    must_name: int | None = Field(None, ge=1)
    """The number (from 1) of the require group naming the cause: a story that names none of its terms in its
    title or text is never placed in the theme, however its other words weigh, unless its feed is hinted for the
    theme (``themes:`` of the feed: the whole feed is about the cause)."""

    @field_validator("keywords")
    @classmethod
    def _non_empty(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("a theme needs at least one keyword")
        return value

    @model_validator(mode="after")
    def _must_name_is_a_group(self) -> ThemeSignals:
        if self.must_name is not None and self.must_name > len(self.require):
            raise ValueError(f"must_name: {self.must_name}, but require has {len(self.require)} group(s)")
        return self


class ThemeExamples(Strict):
    """Headlines or short texts (a first line is a title) that teach a theme by example."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    belongs: list[str] = Field(default_factory=list)
    """Texts that belong to the theme."""
    not_: list[str] = Field(default_factory=list, alias="not")
    """Texts that look like the theme but do not belong to it."""


class Theme(Strict):
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    """One line shown under the section title."""
    signals: ThemeSignals | None = None
    """Term groups; each group a story mentions is one more thing the classifier weighs."""
    examples: ThemeExamples = ThemeExamples()
    min_probability: float = Field(0.75, gt=0, lt=1)
    """How sure the classifier must be to place a story here: higher misplaces fewer, misses more."""
    exclude: list[str] = Field(default_factory=list)
    """Regular expressions (case-insensitive) over a story's headline: a story whose headline matches one is
    never placed here, however its words weigh (an editor's correction still can). For what words alone cannot
    tell apart: settlers killed in an attack name the same words as settlers who kill."""

    @field_validator("exclude")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        return regular_expressions(value)

    @model_validator(mode="after")
    def _taught(self) -> Theme:
        if self.signals is None and not self.examples.belongs:
            raise ValueError("a theme needs signals or examples (belongs:) to learn from")
        return self


class SummaryConfig(Strict):
    min_sentences: int = Field(2, ge=1)
    max_sentences: int = Field(4, ge=1)
    max_words: int = Field(90, ge=10)
    """Word budget; the summary never exceeds it unless a single sentence does."""

    @model_validator(mode="after")
    def _ordered(self) -> SummaryConfig:
        if self.min_sentences > self.max_sentences:
            raise ValueError("min_sentences is larger than max_sentences")
        return self


class Schedule(Strict):
    """When a scheduled edition is sent."""

    cron: str
    """Five-field crontab expression, e.g. '0 7 * * mon'."""
    timezone: str = "UTC"
    """IANA time zone the cron expression is read in."""
    grace: timedelta = timedelta(hours=1)
    """A run late by less than this still happens; later ones are skipped."""

    _duration = field_validator("grace", mode="before")(lambda v: parse_duration(v))

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise ValueError(f"invalid cron expression {value!r}: {exc}") from None
        return value


class Review(Strict):
    """Editors approve each scheduled edition before its readers get it (digest.review)."""

    editors: list[str] = Field(min_length=1)
    """Addresses mailed the marked preview at the scheduled time (never counted as readers)."""
    deadline: timedelta = timedelta(hours=6)
    """How long after the preview the editors have to approve it."""
    on_deadline: Literal["hold", "send"] = "hold"
    """Past the deadline without approval: keep it back and report it (hold), or send it as it is (send)."""

    _duration = field_validator("deadline", mode="before")(lambda v: parse_duration(v))

    @field_validator("deadline")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("the deadline must be longer than 0 (e.g. 6h)")
        return value


class EditionConfig(Strict):
    title: str = Field(min_length=1)
    description: str = ""
    themes: list[str] = Field(min_length=1)
    """Theme keys, in the order their sections appear."""
    stories_per_theme: int = Field(5, ge=1)
    unthemed: Literal["also-noted", "omit"] = "also-noted"
    """Stories that fit no theme: list them under 'Also noted', or leave them out."""
    also_noted_limit: int = Field(10, ge=0)
    also_noted_floor: float = Field(0.8, ge=0, le=1)
    """'Also noted' lists a story no theme took only when it comes at least this share of the way to a theme's
    bar (its min_probability) and names every term group of that theme."""
    summary: SummaryConfig = SummaryConfig()
    schedule: Schedule | None = None
    sender: str | None = None
    recipients: list[str] | str = Field(default_factory=list)
    """Addresses, or the path of a file with one address per line."""
    subject: str = "{title} — {date}"
    only_when_new: bool = True
    """Send (`digest send` or on schedule) only an edition with a story its readers have not had;
    `digest send --force` overrides. An edition with no stories is never sent."""
    review: Review | None = None
    """Editors see a marked preview at the scheduled time and approve it (`digest approve`) before
    readers get it; needs a ``schedule:``."""


def url_form_problem(value: str) -> str | None:
    """What is malformed in a URL given by hand (a feed in the config, `digest read URL`), or None: a space
    (which an HTTP library would quietly encode or strip), a host or port that cannot be read."""
    if any(character.isspace() for character in value):
        return f"{value!r} has a space in it (write a space in a URL as %20)"
    try:
        urlsplit(value).port  # noqa: B018 - reading it is the check: a bad host or port raises
    except ValueError as exc:
        return f"{value!r} is not a valid URL: {exc}"
    return None


class FeedConfig(Strict):
    url: str
    name: str | None = None
    themes: list[str] = Field(default_factory=list)
    """Theme hints: a story from this feed leans towards these themes."""
    include: list[str] = Field(default_factory=list)
    """Regular expressions (case-insensitive); when given, an entry must match one (title or text)."""
    exclude: list[str] = Field(default_factory=list)
    """Regular expressions (case-insensitive); an entry matching one (title or text) is left out."""
    enabled: bool = True
    full_text: FullText = "auto"
    """Read an entry's linked page: "auto" when the entry is a teaser (under pages.teaser_words
    words), "always", or "never"."""

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        if (problem := url_form_problem(value)) is not None:
            raise ValueError(problem)
        return value

    @field_validator("include", "exclude")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        return regular_expressions(value)


class FetchConfig(Strict):
    connect_timeout: float = Field(10, gt=0)
    read_timeout: float = Field(20, gt=0)
    total_timeout: float = Field(60, gt=0)
    max_bytes: int = Field(10 * 1024 * 1024, gt=0)
    max_redirects: int = Field(5, ge=0)
    concurrency: int = Field(8, ge=1)
    per_host_delay: float = Field(1.0, ge=0)
    retries: int = Field(2, ge=0)
    failure_threshold: int = Field(3, ge=1)
    """Consecutive failures after which a feed is reported as failing."""
    slow_after: float = Field(5, gt=0)
    """Seconds a feed may keep digest waiting before the progress display names it as slow."""
    user_agent: str = "digest/0.1 (+https://github.com/digest-newsletter/digest)"


class PagesConfig(Strict):
    """Full-text retrieval: the article pages of teaser entries, fetched within a budget per build."""

    teaser_words: int = Field(150, ge=0)
    """An entry with fewer words than this is a teaser (full_text: auto reads its page)."""
    max_pages: int = Field(40, ge=0)
    """Pages fetched over the network per build at most (stored pages reused do not count)."""
    max_seconds: float = Field(60, gt=0)
    """No page fetch starts after this many seconds of fetching pages in a build."""
    fresh_for: timedelta = timedelta(days=1)
    """A stored page is reused without asking the server for this long; then a conditional request."""

    _fresh = field_validator("fresh_for", mode="before")(lambda v: parse_duration(v))


class SourcesConfig(Strict):
    seeds: Path | None = Path("seeds")
    """Folder of plain-text seed documents (relative to this file)."""


class SmtpConfig(Strict):
    host: str
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username_env: str | None = None
    """Name of the environment variable holding the SMTP user name."""
    password_env: str | None = None
    rate: float = Field(10, gt=0)
    """Messages per second at most."""
    retries: int = Field(5, ge=0)
    retry_delay: timedelta = timedelta(seconds=2)
    """Wait before the first retry after a 4xx reply or a dropped connection; it doubles each time."""
    timeout: float = Field(30, gt=0)
    """Seconds without an answer after which the connection counts as dropped."""
    deferred_retry: timedelta = timedelta(minutes=10)
    """A reader still refused with a 4xx when a send's retries ran out (greylisting) stays pending and is
    tried again this long after, by the next `digest send` or by `digest run`."""
    give_up_after: timedelta = timedelta(days=2)
    """Readers still deferred this long after their send began are recorded as failed."""

    _delay = field_validator("retry_delay", "deferred_retry", "give_up_after", mode="before")(
        lambda v: parse_duration(v)
    )


class DeliveryConfig(Strict):
    outbox: Path = Path("outbox")
    """Where messages go when no SMTP server is configured, or with --dry-run."""
    archive: Path = Path("archive")
    """Web archive of every edition: pages, index and Atom feed."""
    base_url: str = "https://digest.invalid"
    """Public https base for unsubscribe links and the archive."""
    unsubscribe_mailto: str | None = None
    outbox_format: Literal["eml", "maildir"] = "eml"
    """The outbox as one .eml file per message, or as a Maildir a mail client can open."""
    unsubscribe_secret_env: str | None = None
    """Environment variable holding a key that signs unsubscribe links, so nobody can forge one."""


class WebConfig(Strict):
    """`digest serve`: the archive, and the pages where readers join and leave."""

    confirm_within: timedelta = timedelta(hours=48)
    """How long a sign-up's confirmation link works."""
    unsubscribe_links_valid: timedelta = timedelta(days=365)
    """How long the unsubscribe link in a message works after the message's date."""
    requests_per_client: str = "10/hour"
    """Sign-up and unsubscribe-link requests one client (IP address) may make: 'N/second|minute|hour|day'."""
    requests_per_address: str = "3/day"
    """Confirmation or unsubscribe messages one address may be sent; more requests are quietly ignored."""

    _durations = field_validator("confirm_within", "unsubscribe_links_valid", mode="before")(
        lambda v: parse_duration(v)
    )

    @field_validator("requests_per_client", "requests_per_address")
    @classmethod
    def _rate(cls, value: str) -> str:
        if not re.fullmatch(r"\s*\d+\s*/\s*(second|minute|hour|day)\s*", value):
            raise ValueError(f"{value!r} is not a rate like 10/hour")
        return value


class BouncesConfig(Strict):
    """`digest bounces`: reading delivery status notifications."""

    soft_limit: int = Field(3, ge=1)
    """Soft bounces (mailbox full, server busy) in a row after which an address is suppressed."""
    soft_reset: timedelta = timedelta(days=30)
    """A soft bounce this long after the previous one starts a new row (mail got through in between)."""
    imap_host_env: str = "DIGEST_IMAP_HOST"
    """Environment variable holding the IMAP server (host or host:port, TLS) for `digest bounces --imap`."""
    imap_user_env: str = "DIGEST_IMAP_USER"
    imap_password_env: str = "DIGEST_IMAP_PASSWORD"
    imap_folder: str = "INBOX"

    _duration = field_validator("soft_reset", mode="before")(lambda v: parse_duration(v))


class Config(Strict):
    sources: SourcesConfig = SourcesConfig()
    feeds: list[FeedConfig] = Field(default_factory=list)
    fetch: FetchConfig = FetchConfig()
    pages: PagesConfig = PagesConfig()
    store: Path = Path("digest.sqlite")
    """SQLite database for seen entries, feed caches and the send ledger."""
    themes: dict[str, Theme] = Field(min_length=1)
    editions: dict[str, EditionConfig] = Field(min_length=1)
    smtp: SmtpConfig | None = None
    delivery: DeliveryConfig = DeliveryConfig()
    web: WebConfig = WebConfig()
    bounces: BouncesConfig = BouncesConfig()

    base_dir: Path = Field(default=Path("."), exclude=True)
    """Folder of the config file; relative paths are read from it."""

    @field_validator("themes", "editions")
    @classmethod
    def _keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not re.match(KEY, key):
                raise ValueError(f"{key!r}: use lower-case letters, digits, '-' or '_'")
        return value

    @model_validator(mode="after")
    def _references(self) -> Config:
        for name, edition in self.editions.items():
            if edition.review is not None and edition.schedule is None:
                raise _Located(
                    ("editions", name, "review"), "a reviewed edition needs a schedule: (`digest run` mails its editors)"
                )
            for theme in edition.themes:
                if theme not in self.themes:
                    raise _Located(("editions", name, "themes"), f"unknown theme {theme!r}")
        for i, feed in enumerate(self.feeds):
            for theme in feed.themes:
                if theme not in self.themes:
                    raise _Located(("feeds", i, "themes"), f"unknown theme {theme!r}")
        return self

    def path(self, value: Path) -> Path:
        """A config path, resolved against the config file's folder."""
        return value if value.is_absolute() else self.base_dir / value

    def edition(self, name: str | None) -> tuple[str, EditionConfig]:
        if name is None:
            return next(iter(self.editions.items()))
        if name not in self.editions:
            known = ", ".join(self.editions)
            raise ConfigError(f"no edition named {name!r} (configured: {known})")
        return name, self.editions[name]


class _Located(ValueError):
    """A cross-reference error that knows which key it is about."""

    def __init__(self, loc: tuple[str | int, ...], message: str):
        super().__init__(message)
        self.loc = loc


def _line_of(tree: Any, loc: tuple[str | int, ...]) -> int | None:
    """1-based line of the deepest key of ``loc`` that exists in the YAML tree."""
    line = None
    node = tree
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    if line is None and isinstance(tree, CommentedMap):
        line = tree.lc.line + 1
    return line


def locate(path: Path, loc: tuple[str | int, ...]) -> str:
    """``schedule.yaml:LINE: key.path``: where a key of a valid config file is, for messages about its value."""
    return f"{path.name}:{_line_of(read_yaml(path), loc) or '?'}: {_format_loc(loc)}"


def _format_loc(loc: tuple[str | int, ...]) -> str:
    """A key path as a reader counts: list items are numbered from 1, and a feed is
    called "feed #18" as `digest feeds list` numbers it (not ``feeds.17``)."""
    if len(loc) >= 2 and loc[0] == "feeds" and isinstance(loc[1], int):
        rest = _format_loc(loc[2:]) if loc[2:] else ""
        return f"feed #{loc[1] + 1}" + (f" {rest}" if rest else "")
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"{parts.pop() if parts else ''}#{part + 1}")
        else:
            parts.append(str(part))
    return ".".join(parts) or "(top level)"


def _plain(node: Any) -> Any:
    """ruamel's commented containers as plain dicts and lists."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def read_yaml(path: Path) -> Any:
    """The round-trip tree of a YAML file (keeps comments and line numbers)."""
    return _round_trip(path, _read_text(path))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None


def _round_trip(path: Path, text: str) -> Any:
    try:
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else "?"
        raise ConfigError(f"{path.name}:{line}: not valid YAML: {exc.problem}") from None
    except ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise ConfigError(f"{path.name}:{line}: not valid YAML: character {exc.character:#x} is not allowed") from None
    except YAMLError as exc:
        raise ConfigError(f"{path.name}: not valid YAML: {exc}") from None


def load_config(path: Path | str) -> Config:
    """Read and validate a config file; every mistake is a ConfigError."""
    path = Path(path)
    text = _read_text(path)
    try:
        values = YAML(typ="safe", pure=False).load(text)
    except Exception:  # noqa: BLE001 - whatever the fast loader trips on, the round trip reports with its line
        values = None
    if isinstance(values, dict):
        try:
            return Config.model_validate({**_plain(values), "base_dir": path.parent})
        except ValidationError:
            pass  # described below, with the line of each mistake
    tree = _round_trip(path, text)
    if not isinstance(tree, CommentedMap):
        raise ConfigError(f"{path.name}:1: the config must be a mapping of keys")
    try:
        return Config.model_validate({**_plain(tree), "base_dir": path.parent})
    except ValidationError as exc:
        raise ConfigError(describe_errors(path, tree, exc)) from None


def describe_errors(path: Path, tree: Any, exc: ValidationError) -> str:
    """A pydantic error about a YAML file as lines of ``file:LINE: key: message`` (no pydantic links)."""
    lines = []
    for error in exc.errors():
        loc = tuple(p for p in error["loc"] if not _is_union_tag(p))
        message = error["msg"].removeprefix("Value error, ")
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, _Located):
            loc, message = cause.loc, str(cause)
        if error["type"] == "extra_forbidden":
            message = "unknown key (check its spelling and indentation)"
        if error["type"] == "too_short":  # pydantic: "Dictionary should have at least 1 item after validation, not 0"
            least, found = error["ctx"]["min_length"], error["ctx"]["actual_length"]
            message = f"needs at least {least} {'entry' if least == 1 else 'entries'}, has {found or 'none'}"
        lines.append(f"{path.name}:{_line_of(tree, loc) or '?'}: {_format_loc(loc)}: {message}")
    return "\n".join(lines)


def _is_union_tag(part: str | int) -> bool:
    """Pydantic names union branches in error paths ('list[str]'); readers don't need them."""
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float"})

"""Render an Edition as email HTML (via MJML), plain text and a web page.

Templates live in templates/ at the repository root and read nothing but the
Edition (plus the web address and the unsubscribe placeholder). The email and
text outputs carry UNSUBSCRIBE_TOKEN where each recipient's unsubscribe URL
goes: rendering happens once per edition, digest.delivery.message substitutes per
recipient.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

import jinja2
from mjml import mjml2html

from digest.errors import RenderError
from digest.models import Edition, SourceRef

TEMPLATES = Path(__file__).resolve().parent / "templates"

UNSUBSCRIBE_TOKEN = "DIGEST-UNSUBSCRIBE-URL-7f3a9c2e"
"""Stands for a recipient's unsubscribe URL; only [A-Z0-9-], so no escaping or MJML pass alters it."""

PREHEADER_LIMIT = 130
"""Inbox preview text beyond this is cut by most clients anyway."""

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
"""English month names, independent of the process locale (determinism)."""

RTL_CLASSES = {"R", "AL"}
FIRST_STRONG_ISOLATE = "\u2068"
POP_DIRECTIONAL_ISOLATE = "\u2069"


@dataclass(frozen=True)
class RenderedEdition:
    email_html: str
    """Responsive email HTML produced by MJML; contains UNSUBSCRIBE_TOKEN."""
    text: str
    """The plain-text part; contains UNSUBSCRIBE_TOKEN."""
    web_html: str
    """A standalone web page: no external requests, no placeholder."""


def render_edition(
    edition: Edition, *, web_url: str | None = None, unsubscribe_page: str | None = None
) -> RenderedEdition:
    """All three renderings of one edition; the same edition gives the same strings.

    web_url: where the web edition is published (linked from the email and text).
    unsubscribe_page: a public page where readers can unsubscribe, linked from the
    web edition, which is the same for everyone and so cannot carry a personal link.
    """
    context = {
        "edition": edition,
        "web_url": web_url,
        "unsubscribe_page": unsubscribe_page,
        "unsubscribe_url": UNSUBSCRIBE_TOKEN,
        "preheader": preheader(edition),
    }
    env = _environment()
    try:
        mjml_source = env.get_template("edition.mjml.j2").render(context)
        text = env.get_template("edition.txt.j2").render(context)
        web_html = env.get_template("edition.html.j2").render(context)
    except jinja2.TemplateError as exc:
        raise RenderError(f"cannot render edition {edition.id}: {exc}") from exc
    try:
        email_html = with_landmarks(mjml2html(mjml_source, disable_comments=True, fonts={}))
    except ValueError as exc:
        raise RenderError(f"MJML rejected the email for edition {edition.id}: {exc}") from exc
    return RenderedEdition(email_html=email_html, text=text, web_html=web_html)


EMAIL_LANDMARKS = {"dm-banner": "banner", "dm-main": "main", "dm-footer": "contentinfo"}
"""The email's <mj-wrapper> css-classes and the landmark role each one's <div> gets."""

EMAIL_WRAPPER_LABEL = re.compile(r'(<div\b[^>]*?) aria-label="[^"]*"(?=[^>]*\brole="article")')
"""The name MJML gives the <div role="article"> around the whole email (from <mj-title>)."""


def with_landmarks(email_html: str) -> str:
    """The compiled email with a landmark role on each wrapper of EMAIL_LANDMARKS, and every visible
    part of it inside one, so a screen reader can go to the stories (axe: landmark-one-main, region).

    MJML gives no component a role, and mjml-python (mrml) has no <mj-html-attributes>
    (it rejects the element: "unexpected element in root template"), so the role is
    added here to the one <div> MJML writes for each wrapper's css-class. The name MJML
    puts on the article around them is dropped: axe counts a name outside every landmark
    as content outside them, and the same title is the <title> and the first heading.
    """
    for css_class, role in EMAIL_LANDMARKS.items():
        opening = f'<div class="{css_class}" '
        if email_html.count(opening) != 1:
            raise ValueError(f"expected one <div> of class {css_class!r} in MJML's output")
        email_html = email_html.replace(opening, f'{opening[:-1]} role="{role}" ')
    email_html, named = EMAIL_WRAPPER_LABEL.subn(r"\1", email_html, count=1)
    if named != 1:
        raise ValueError("expected MJML's <div role=\"article\"> around the email, with its aria-label")
    return email_html


def preheader(edition: Edition) -> str:
    """Inbox preview line: the edition's description, else its story titles."""
    text = edition.description or "; ".join(story.title for story in edition.stories)
    text = " ".join(text.split())
    if len(text) <= PREHEADER_LIMIT:
        return text
    cut = text[: PREHEADER_LIMIT - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ;,.") + "…"


def long_date(value: date | datetime) -> str:
    """'23 November 2026': unambiguous for readers anywhere."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def iso_date(value: date | datetime) -> str:
    return value.isoformat()


def isolate(text: str) -> str:
    """Wrap right-to-left text in Unicode isolates so plain-text lines keep their order.

    HTML gets the same effect from dir="auto"; plain text has only these marks.
    """
    if any(unicodedata.bidirectional(char) in RTL_CLASSES for char in text):
        return f"{FIRST_STRONG_ISOLATE}{text}{POP_DIRECTIONAL_ISOLATE}"
    return text


def is_web_address(value: str | None) -> bool:
    """Only http(s) addresses become links: a feed can carry javascript: or data: URLs."""
    return value is not None and value.lower().startswith(("https://", "http://"))


def source_label(sources: tuple[SourceRef, ...]) -> str:
    return "Source" if len(sources) == 1 else "Sources"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=lambda name: name is None or not name.endswith(".txt.j2"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(long_date=long_date, iso_date=iso_date, isolate=isolate)
    env.globals.update(source_label=source_label)
    env.tests.update(web_address=is_web_address)
    return env

"""What every page of `digest serve` shares: config, signing key, store, templates, rate limits."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse

from digest.config import Config
from digest.delivery import subscribers
from digest.delivery.signing import signing_key
from digest.store import connect
from digest.web import guard

TEMPLATES = Path(__file__).resolve().parent / "templates"
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
"""On every page of ours: unsubscribe and confirmation URLs carry secrets that must not leak to
another site (same-origin, not no-referrer: with no referrer at all, browsers send `Origin: null`)."""

T = TypeVar("T")


class Web:
    """The configuration, key, templates and rate limits every handler shares."""

    def __init__(self, config: Config):
        self.config = config
        self.base = config.delivery.base_url.rstrip("/")
        self.origin = guard.site_origin(config.delivery.base_url)
        self.secure_cookies = self.base.startswith("https://")
        self.limits = guard.RateLimits(config.web)
        self.archive = config.path(config.delivery.archive)
        self.archive.mkdir(parents=True, exist_ok=True)
        with self.store() as conn:
            self.key = signing_key(config, conn)
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
        )

    @contextmanager
    def store(self) -> Iterator[sqlite3.Connection]:
        with closing(connect(self.config.path(self.config.store))) as conn:
            yield subscribers.ensure_subscribers(conn)

    def in_store(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self.store() as conn:
            return work(conn)

    def title(self, edition: str | None) -> str:
        if edition in self.config.editions:
            return self.config.editions[edition].title
        return next(iter(self.config.editions.values())).title

    def page(
        self, template: str, *, edition: str | None, heading: str, status: int = 200,
        background: BackgroundTask | None = None, **context: Any,
    ) -> HTMLResponse:
        html = self.templates.get_template(template).render(
            title=self.title(edition), home=f"{self.base}/", heading=heading, **context
        )
        return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS, background=background)

    def message_page(
        self, edition: str | None, heading: str, *paragraphs: str, status: int = 200,
        form: dict[str, Any] | None = None, background: BackgroundTask | None = None,
    ) -> HTMLResponse:
        return self.page(
            "message.html.j2", edition=edition, heading=heading, status=status, paragraphs=paragraphs, form=form,
            background=background,
        )

    def form_page(
        self, request: Request, edition: str, *, heading: str, action: str, hint: str, button: str,
        description: str = "", email: str = "", error: str = "", status: int = 200,
    ) -> HTMLResponse:
        token = guard.csrf_token(request)
        response = self.page(
            "subscribe.html.j2", edition=edition, heading=heading, status=status, action=action, hint=hint,
            button=button, description=description, email=email, error=error, csrf=token,
        )
        guard.set_csrf_cookie(response, token, secure=self.secure_cookies)
        return response


def now() -> datetime:
    return datetime.now(UTC)

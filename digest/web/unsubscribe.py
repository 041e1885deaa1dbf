"""`/unsubscribe`: the signed link in every message (RFC 8058 one-click), and a page for everyone else.

With a signature, POST unsubscribes at once (a mail provider's one-click
POST and the page's button alike; the signature is the authority, so no
cookie or CSRF token is asked for), and GET only shows the button. Without
one (the link on the web edition and the archive, which are the same for
everybody), the page offers to email a reader's own link to them: it is sent
only to the edition's readers, with one answer whatever the address.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from digest.delivery import subscribers
from digest.delivery.recipients import normalize_address
from digest.delivery.signing import BadLink, UnsubscribeRequest, unsubscribe_url, verify_unsubscribe
from digest.delivery.subscribers import SuppressionReason
from digest.delivery.suppressions import is_suppressed, suppress, suppression_key
from digest.web import guard, mail
from digest.web.site import Web, now

log = logging.getLogger(__name__)

ONE_CLICK = {"List-Unsubscribe": "One-Click"}
LINK_SENT = (
    "If that address receives this edition, a message with your own unsubscribe link is on its way. "
    "Open it and press the button."
)


def _link_form(web: Web, request: Request, edition: str, **kwargs: object) -> HTMLResponse:
    return web.form_page(
        request, edition, heading=f"Unsubscribe from {web.title(edition)}",
        action=f"{web.base}/unsubscribe?list={edition}",
        hint="Every message we send has a link to unsubscribe in one click. Lost it? "
        "We will email you a new one.",
        button="Email me my unsubscribe link", **kwargs,  # type: ignore[arg-type]
    )


def _is_reader(web: Web, conn: sqlite3.Connection, edition: str, address: str) -> bool:
    key = suppression_key(address)
    readers = subscribers.edition_readers(web.config, conn, edition)
    return any(suppression_key(reader) == key for reader in readers) and not is_suppressed(conn, key)


async def _send_own_link(web: Web, request: Request, edition: str) -> Response:
    form = await request.form()
    if not guard.csrf_ok(request, form.get(guard.CSRF_FIELD), site_origin=web.origin):
        return web.message_page(edition, "Please try again", "This form has expired. Reload the page and send it again.",
                                status=403)
    if not web.limits.client_allowed(request):
        return web.message_page(edition, "Too many requests", "Please wait a while before trying again.", status=429)
    email = str(form.get("email", ""))
    try:
        address = normalize_address(email)
    except ValueError as exc:
        return _link_form(web, request, edition, email=email, error=f"Please check the address: {exc}", status=400)
    task = None
    if web.limits.address_allowed(address) and await run_in_threadpool(
        web.in_store, lambda conn: _is_reader(web, conn, edition, address)
    ):
        moment = now()
        link = unsubscribe_url(web.base, edition, address, web.key, issued=moment)
        message = mail.unsubscribe_link_message(web.config, edition, address, link, now=moment)
        task = BackgroundTask(mail.deliver, web.config, edition, address, message, kind="unsubscribe-link")
    return web.message_page(edition, "Check your inbox", LINK_SENT, background=task)


def _unsubscribe(web: Web, link: UnsubscribeRequest) -> bool:
    """Suppress the address; True when it was not suppressed before."""
    with web.store() as conn:
        added = suppress(conn, [link.address], reason=SuppressionReason.UNSUBSCRIBED.value, now=now())
    log.info("unsubscribed one reader from %s (one-click link)", link.list_name)
    return added > 0


def unsubscribe_handler(web: Web) -> Callable[[Request], Awaitable[Response]]:
    async def unsubscribe(request: Request) -> Response:
        params = request.query_params
        edition = params.get("list")
        edition = edition if edition in web.config.editions else next(iter(web.config.editions))
        if "sig" not in params:
            if request.method == "POST":
                return await _send_own_link(web, request, edition)
            return _link_form(web, request, edition)
        try:
            link = verify_unsubscribe(params, web.key, now=now(), valid_for=web.config.web.unsubscribe_links_valid)
        except BadLink as exc:
            return web.message_page(edition, "This link does not work", f"Sorry: {exc}.", status=exc.status)
        title = web.title(link.list_name)
        if request.method == "POST":
            await run_in_threadpool(_unsubscribe, web, link)
            return web.message_page(
                link.list_name, "You are unsubscribed",
                f"No more email from {title} will be sent to {link.address}.",
            )
        return web.message_page(
            link.list_name, f"Unsubscribe from {title}?",
            f"Press the button and no more email from {title} will be sent to {link.address}.",
            form={"action": str(request.url), "fields": ONE_CLICK, "button": "Unsubscribe"},
        )

    return unsubscribe


def unsubscribe_routes(web: Web) -> list[Route]:
    return [Route("/unsubscribe", unsubscribe_handler(web), methods=["GET", "POST"])]

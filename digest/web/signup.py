"""Sign-up with double opt-in: a form and a JSON endpoint ask for a link, the link confirms."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from digest.delivery import subscribers
from digest.delivery.recipients import normalize_address
from digest.delivery.signing import BadLink
from digest.web import guard, mail
from digest.web.site import Web, now

log = logging.getLogger(__name__)

SIGNUP_SENT = (
    "If that address can receive mail, a message with a confirmation link is on its way. "
    "Open it and press the button to start receiving the editions."
)


def _signup_form(web: Web, request: Request, edition: str, **kwargs: Any) -> HTMLResponse:
    return web.form_page(
        request, edition, heading=f"Subscribe to {web.title(edition)}", action=f"{web.base}/subscribe/{edition}",
        hint="We will send you a link to confirm. Nothing else is sent until you do.", button="Subscribe",
        description=web.config.editions[edition].description, **kwargs,
    )


async def _begin_signup(web: Web, edition: str, address: str) -> BackgroundTask | None:
    """Record the request and return the task that mails the link (after the answer, so its timing says nothing)."""
    if not web.limits.address_allowed(address):
        log.info("sign-up for %s: address over its limit, nothing sent", edition)
        return None
    moment = now()
    token = await run_in_threadpool(
        web.in_store,
        lambda conn: subscribers.request_signup(conn, edition, address, now=moment, valid_for=web.config.web.confirm_within),
    )
    link = f"{web.base}/confirm?{urlencode({'token': token})}"
    message = mail.confirmation_message(web.config, edition, address, link, now=moment)
    return BackgroundTask(mail.deliver, web.config, edition, address, message, kind="confirm")


def signup_routes(web: Web) -> list[Route]:
    async def subscribe_form(request: Request) -> Response:
        edition = request.path_params["edition"]
        if edition not in web.config.editions:
            return web.message_page(None, "No such edition", "There is no edition by that name here.", status=404)
        return _signup_form(web, request, edition)

    async def subscribe_submit(request: Request) -> Response:
        edition = request.path_params["edition"]
        if edition not in web.config.editions:
            return web.message_page(None, "No such edition", "There is no edition by that name here.", status=404)
        form = await request.form()
        if not guard.csrf_ok(request, form.get(guard.CSRF_FIELD), site_origin=web.origin):
            return web.message_page(edition, "Please try again", "This form has expired. Reload the page and send it again.",
                                    status=403)
        if not web.limits.client_allowed(request):
            return web.message_page(edition, "Too many requests", "Please wait a while before trying again.",
                                    status=429)
        email = str(form.get("email", ""))
        try:
            address = normalize_address(email)
        except ValueError as exc:
            return _signup_form(web, request, edition, email=email, error=f"Please check the address: {exc}",
                                status=400)
        task = await _begin_signup(web, edition, address)
        return web.message_page(edition, "Check your inbox", SIGNUP_SENT, background=task)

    async def subscribe_json(request: Request) -> Response:
        edition = request.path_params["edition"]
        if edition not in web.config.editions:
            return JSONResponse({"error": f"no edition named {edition!r}"}, status_code=404)
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return JSONResponse({"error": "send JSON: Content-Type: application/json"}, status_code=415)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "the body is not valid JSON"}, status_code=400)
        email = body.get("email") if isinstance(body, dict) else None
        if not isinstance(email, str):
            return JSONResponse({"error": 'give {"email": "ADDRESS"}'}, status_code=422)
        if not web.limits.client_allowed(request):
            return JSONResponse({"error": "too many requests; try again later"}, status_code=429)
        try:
            address = normalize_address(email)
        except ValueError as exc:
            return JSONResponse({"error": f"not a valid address: {exc}"}, status_code=422)
        task = await _begin_signup(web, edition, address)
        return JSONResponse({"status": "confirmation-sent", "message": SIGNUP_SENT}, status_code=202, background=task)

    async def confirm(request: Request) -> Response:
        token = request.query_params.get("token", "")
        moment = now()
        if request.method == "GET":
            try:
                edition, _ = await run_in_threadpool(web.in_store, lambda c: subscribers.pending_signup(c, token, now=moment))
            except BadLink as exc:
                return web.message_page(None, "This link does not work", f"Sorry: {exc}.", status=exc.status)
            csrf = guard.csrf_token(request)
            response = web.message_page(
                edition, f"Confirm your subscription to {web.title(edition)}",
                "Press the button to start receiving the editions by email.",
                form={"action": f"{web.base}/confirm?{urlencode({'token': token})}",
                      "fields": {guard.CSRF_FIELD: csrf}, "button": "Confirm my subscription"},
            )
            guard.set_csrf_cookie(response, csrf, secure=web.secure_cookies)
            return response
        form = await request.form()
        if not guard.csrf_ok(request, form.get(guard.CSRF_FIELD), site_origin=web.origin):
            return web.message_page(None, "Please try again", "This page has expired. Open the link from the message again.",
                                    status=403)
        try:
            subscriber = await run_in_threadpool(web.in_store, lambda c: subscribers.confirm_signup(c, token, now=moment))
        except BadLink as exc:
            return web.message_page(None, "This link does not work", f"Sorry: {exc}.", status=exc.status)
        log.info("sign-up confirmed for %s", subscriber.edition)
        return web.message_page(
            subscriber.edition, "You are subscribed",
            f"{web.title(subscriber.edition)} will come to {subscriber.address}. Every message has a link to "
            "unsubscribe in one click.",
        )

    return [
        Route("/subscribe/{edition}", subscribe_form, methods=["GET"]),
        Route("/subscribe/{edition}", subscribe_submit, methods=["POST"]),
        Route("/api/subscribe/{edition}", subscribe_json, methods=["POST"]),
        Route("/confirm", confirm, methods=["GET", "POST"]),
    ]



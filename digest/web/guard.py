"""What stands between the public and the store: CSRF tokens on forms, and rate limits.

CSRF: the double-submit pattern. A form page sets a random token in a
SameSite=Strict, HttpOnly cookie and in a hidden field; a POST must bring
both, equal, and (when the browser says where it comes from) an Origin of
this site. The JSON endpoint instead demands ``Content-Type:
application/json``, which no cross-site form can send without a CORS
preflight that this app never grants.

Rate limits: the ``limits`` library's moving window, in memory, per process
(`digest serve` runs one). A client (IP address, as uvicorn reports it
after its trusted proxy headers) over its limit gets 429; an address over
its limit is quietly sent nothing, with the same answer as any other, so
the answer never tells whether an address is known.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import Request
from starlette.responses import Response

from digest.config import WebConfig

CSRF_COOKIE = "digest_csrf"
CSRF_FIELD = "csrf_token"


def csrf_token(request: Request) -> str:
    """The token for a form on this page: the browser's existing one, or a new one."""
    existing = request.cookies.get(CSRF_COOKIE, "")
    return existing if 20 <= len(existing) <= 100 else secrets.token_urlsafe(32)


def set_csrf_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/")


def csrf_ok(request: Request, submitted: object, *, site_origin: str) -> bool:
    """Cookie and field agree, and the request does not come from another site."""
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not isinstance(submitted, str) or not hmac.compare_digest(cookie, submitted):
        return False
    origin = request.headers.get("origin")
    return origin is None or origin in {site_origin, _origin_of(str(request.base_url))}


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def site_origin(base_url: str) -> str:
    return _origin_of(base_url)


class RateLimits:
    """Per-client and per-address budgets for requests that send mail."""

    def __init__(self, config: WebConfig):
        self.per_client: RateLimitItem = parse(config.requests_per_client)
        self.per_address: RateLimitItem = parse(config.requests_per_address)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def client_allowed(self, request: Request) -> bool:
        client = request.client.host if request.client else "unknown"
        return self.limiter.hit(self.per_client, "client", client)

    def address_allowed(self, address: str) -> bool:
        return self.limiter.hit(self.per_address, "address", address.lower())

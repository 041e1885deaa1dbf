"""The ASGI application behind `digest serve`: the archive, sign-up and unsubscribe.

Routes:

- ``/``, ``/feed.xml``, ``/NAME-….html``: the web archive folder (delivery.archive).
- ``/subscribe/EDITION`` (GET form, POST) and ``/api/subscribe/EDITION`` (POST JSON):
  ask for a confirmation link by email (double opt-in); see digest.web.signup.
- ``/confirm?token=…``: GET shows a button, POST makes the address a subscriber.
- ``/unsubscribe?list=…&address=…&t=…&sig=…``: the signed link of every message;
  see digest.web.unsubscribe.

Starlette rather than Litestar: a dozen routes and a form parser (python-multipart)
is all this needs, and Starlette is that and no more; uvicorn serves it.
Store work runs in the thread pool, one SQLite connection per request.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from digest.config import Config
from digest.render.archive import FEED, INDEX
from digest.web.signup import signup_routes
from digest.web.site import Web
from digest.web.unsubscribe import unsubscribe_routes


def archive_routes(web: Web) -> list[BaseRoute]:
    async def index(request: Request) -> Response:
        page = web.archive / INDEX
        if page.exists():
            return FileResponse(page, media_type="text/html; charset=utf-8")
        links = ", ".join(f"{web.base}/subscribe/{name}" for name in web.config.editions)
        return web.message_page(None, "No editions yet", f"Subscribe at {links}.")

    async def feed(request: Request) -> Response:
        path = web.archive / FEED
        if not path.exists():
            return Response("no editions yet\n", status_code=404, media_type="text/plain")
        return FileResponse(path, media_type="application/atom+xml; charset=utf-8")

    return [
        Route("/", index, methods=["GET", "HEAD"]),
        Route(f"/{FEED}", feed, methods=["GET", "HEAD"]),
        Mount("/", app=StaticFiles(directory=web.archive, html=True)),
    ]


def create_app(config: Config) -> Starlette:
    """The application for one config; the store's signing key is created now if there is none."""
    web = Web(config)
    app = Starlette(routes=[*signup_routes(web), *unsubscribe_routes(web), *archive_routes(web)])
    app.state.web = web
    return app

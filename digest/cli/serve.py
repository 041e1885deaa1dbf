"""`digest serve`: the archive and the readers' sign-up and unsubscribe pages over HTTP."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import click

from digest.cli.common import CONFIG_OPTION, DigestCommand
from digest.config import load_config
from digest.errors import DigestError


def listening_socket(host: str, port: int) -> socket.socket:
    """The address to serve on, bound before anything starts: a port in use or an unknown host is
    one line naming it (uvicorn would log its startup, an error and its shutdown, then exit 3)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno and exc.errno > 0 else exc.strerror or str(exc)
        raise DigestError(f"cannot listen on {host}:{port}: {reason}") from None


@click.command("serve", cls=DigestCommand)
@CONFIG_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option(
    "--forwarded-allow-ips", default="127.0.0.1", show_default=True,
    help="Reverse proxies whose X-Forwarded-For/-Proto headers are believed (comma-separated, or '*').",
)
def serve(config_path: Path, host: str, port: int, forwarded_allow_ips: str) -> None:
    """Serve the web archive, sign-up (double opt-in) and one-click unsubscribe.

    Every message's List-Unsubscribe link points here (delivery.base_url):
    run it behind an https reverse proxy. Stops on SIGTERM or Ctrl-C.
    """
    import uvicorn

    from digest.web.app import create_app

    config = load_config(config_path)
    app = create_app(config)
    listening = listening_socket(host, port)
    click.echo(f"digest serve: {config.delivery.base_url} on http://{host}:{port}", err=True)
    server = uvicorn.Server(uvicorn.Config(
        app, host=host, port=port, proxy_headers=True, forwarded_allow_ips=forwarded_allow_ips,
        log_level="info", server_header=False, access_log=False,  # URLs carry addresses and signatures
    ))
    server.run(sockets=[listening])

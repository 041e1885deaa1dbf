"""Writing a built edition: web page, email (.eml and its HTML), text and data.

The email is composed exactly as `digest send` composes it (digest.delivery.compose),
addressed to the sender, so the .eml is what a reader would receive.
"""

from __future__ import annotations

from email.utils import parseaddr
from html import escape
from pathlib import Path

from digest.config import Config
from digest.delivery.compose import compose, unsubscribe_page_url
from digest.errors import DigestError
from digest.models import BuildResult
from digest.render.edition import UNSUBSCRIBE_TOKEN
from digest.render.export import edition_to_json


def output_stem(result: BuildResult) -> str:
    edition = result.edition
    return f"{edition.name}-{edition.date:%Y-%m-%d}"


def write_outputs(result: BuildResult, out_dir: Path, config: Config) -> list[Path]:
    """Write the five files of an edition atomically; returns their paths."""
    edition = result.edition
    outgoing = compose(config, edition.name, edition, date=edition.date)
    rendered = outgoing.rendered
    unsubscribe_page = unsubscribe_page_url(config.delivery.base_url, edition.name)
    recipient = parseaddr(outgoing.sender)[1]
    eml = outgoing.template().for_recipient(
        recipient, unsubscribe_url=unsubscribe_page, message_id=outgoing.message_id(recipient)
    )
    outputs = {
        ".html": rendered.web_html.encode("utf-8"),
        ".email.html": rendered.email_html.replace(UNSUBSCRIBE_TOKEN, escape(unsubscribe_page)).encode("utf-8"),
        ".txt": rendered.text.replace(UNSUBSCRIBE_TOKEN, unsubscribe_page).encode("utf-8"),
        ".eml": eml,
        ".json": edition_to_json(edition).encode("utf-8"),
    }
    paths = []
    if out_dir.exists() and not out_dir.is_dir():
        raise DigestError(f"{out_dir}: is a file, not a folder: give --out a folder to write the edition in")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for suffix, data in outputs.items():
            path = out_dir / f"{output_stem(result)}{suffix}"
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
            paths.append(path)
    except OSError as exc:
        raise DigestError(f"{out_dir}: cannot write the edition there: {exc.strerror or exc}") from None
    return paths

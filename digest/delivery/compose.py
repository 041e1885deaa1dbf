"""What is sent: an edition rendered once, and every header the same for all its readers."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlsplit

from digest.config import Config, EditionConfig
from digest.delivery.message import MessageTemplate, make_message_id, prepare_message
from digest.errors import ConfigError, DeliveryError
from digest.models import Edition
from digest.render import archive
from digest.render.edition import MONTHS, RenderedEdition, render_edition


def domain_of(base_url: str) -> str:
    return urlsplit(base_url).hostname or ""


def subject_line(template: str, edition: Edition) -> str:
    """The edition's subject from the config template ({title}, {date})."""
    day = f"{edition.date.day} {MONTHS[edition.date.month - 1]} {edition.date.year}"
    try:
        return template.format(title=edition.title, date=day)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"subject {template!r}: only {{title}} and {{date}} can be used ({exc})") from None


@dataclass(frozen=True)
class Outgoing:
    """Everything needed to produce an edition's messages: pickled into the ledger,
    so a resumed send produces the same bytes as the one it continues."""

    edition: Edition
    rendered: RenderedEdition
    sender: str
    subject: str
    list_id: str
    unsubscribe_mailto: str | None
    date: datetime
    base_url: str

    @property
    def domain(self) -> str:
        return domain_of(self.base_url)

    def template(self) -> MessageTemplate:
        return prepare_message(
            self.rendered,
            self.edition,
            sender=self.sender,
            subject=self.subject,
            list_id=self.list_id,
            unsubscribe_mailto=self.unsubscribe_mailto,
            date=self.date,
            boundary_seed=self.edition.id,
        )

    def message_id(self, recipient: str) -> str:
        return make_message_id(self.edition.id, recipient, self.domain)


def compose(config: Config, name: str, edition: Edition, *, date: datetime) -> Outgoing:
    """Render an edition once and fix every header that is the same for all readers."""
    _, edition_config = config.edition(name)
    base_url = config.delivery.base_url
    domain = domain_of(base_url)
    rendered = render_edition(
        edition,
        web_url=archive.page_url(base_url, edition),
        unsubscribe_page=f"{base_url.rstrip('/')}/unsubscribe",
    )
    return Outgoing(
        edition=edition,
        rendered=rendered,
        sender=_sender(edition_config, domain),
        subject=subject_line(edition_config.subject, edition),
        list_id=f"{edition_config.title} <{name}.{domain}>",
        unsubscribe_mailto=config.delivery.unsubscribe_mailto,
        date=date,
        base_url=base_url,
    )


def _sender(edition_config: EditionConfig, domain: str) -> str:
    return edition_config.sender or f"digest@{domain}"


def unsubscribe_url(base_url: str, list_name: str, recipient: str, secret: bytes | None) -> str:
    """The reader's one-click unsubscribe link (RFC 8058), signed when a key is configured."""
    url = f"{base_url.rstrip('/')}/unsubscribe?list={quote(list_name, safe='')}&address={quote(recipient, safe='@')}"
    if secret is None:
        return url
    signature = hmac.new(secret, f"{list_name}\0{recipient.lower()}".encode(), hashlib.sha256)
    return f"{url}&sig={signature.hexdigest()[:32]}"


def unsubscribe_secret(config: Config, environ: Mapping[str, str] = os.environ) -> bytes | None:
    name = config.delivery.unsubscribe_secret_env
    if name is None:
        return None
    if not environ.get(name):
        raise DeliveryError(f"delivery.unsubscribe_secret_env: environment variable {name} is not set")
    return environ[name].encode("utf-8")

"""What is sent: an edition rendered once, and every header the same for all its readers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from urllib.parse import quote, urlsplit

from digest.config import Config, EditionConfig
from digest.delivery.message import MessageTemplate, make_message_id, prepare_message
from digest.delivery.recipients import Problem, editor_problems, normalize_address, recipient_problems
from digest.errors import ConfigError
from digest.models import Edition
from digest.render import archive
from digest.render.edition import MONTHS, RenderedEdition, render_edition

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
LOCAL_MAIL_DOMAIN = "localhost.localdomain"


def domain_of(base_url: str) -> str:
    """The site's domain for Message-IDs, List-Id and the default sender.

    A base_url on this machine (local testing) has no domain name, so a local one stands in.
    """
    host = urlsplit(base_url).hostname or ""
    return LOCAL_MAIL_DOMAIN if host in LOOPBACK_HOSTS else host


def subject_line(template: str, edition: Edition) -> str:
    """The edition's subject from the config template ({title}, {date})."""
    day = f"{edition.date.day} {MONTHS[edition.date.month - 1]} {edition.date.year}"
    try:
        return template.format(title=edition.title, date=day)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"subject {template!r}: only {{title}} and {{date}} can be used ({exc})") from None


@dataclass(frozen=True)
class Outgoing:
    """Everything needed to produce an edition's messages: kept in the ledger (as JSON,
    digest.delivery.snapshot), so a resumed send produces the same bytes as the one it continues."""

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
        unsubscribe_page=unsubscribe_page_url(base_url, name),
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


def unsubscribe_page_url(base_url: str, list_name: str) -> str:
    """The public page (served by `digest serve`) where a reader asks for their own unsubscribe link."""
    return f"{base_url.rstrip('/')}/unsubscribe?list={quote(list_name, safe='')}"


def _sender(edition_config: EditionConfig, domain: str) -> str:
    return edition_config.sender or f"digest@{domain}"


def delivery_problems(config: Config, name: str) -> list[Problem]:
    """Every mistake in what edition ``name`` is sent with (sender, subject, recipients, editors), found without
    building anything: `digest validate` reports them all, `digest send` refuses to start on any but a bad
    recipient line (that reader is skipped)."""
    _, edition_config = config.edition(name)
    problems = []
    sender = _sender(edition_config, domain_of(config.delivery.base_url))
    display, address = parseaddr(sender)
    try:
        if not address or (display and "<" not in sender):
            raise ValueError("write it as address@example.org or Name <address@example.org>")
        normalize_address(address)
    except ValueError as exc:
        where = ("editions", name, "sender") if edition_config.sender else ("delivery", "base_url")
        problems.append(Problem(f"sender {sender!r} is not a valid address: {exc}", key=where))
    try:
        edition_config.subject.format(title=edition_config.title, date="1 January 2026")
    except (KeyError, IndexError, ValueError) as exc:
        problems.append(Problem(
            f"{edition_config.subject!r}: only {{title}} and {{date}} can be used ({exc})",
            key=("editions", name, "subject"),
        ))
    return problems + recipient_problems(config, name) + editor_problems(config, name)


def check_before_send(config: Config, name: str) -> None:
    """Refuse to build or record a send that cannot go out (bad sender or subject, no recipients file)."""
    fatal = [p for p in delivery_problems(config, name) if p.file is None and not isinstance(p.key[-1], int)]
    if fatal:
        raise ConfigError("\n".join(f"{'.'.join(map(str, p.key))}: {p.message}" for p in fatal))

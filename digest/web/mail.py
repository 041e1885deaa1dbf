"""The two messages `digest serve` sends: a sign-up's confirmation link, and a reader's own
unsubscribe link (asked for from the public unsubscribe page). Both go through the
configured delivery (SMTP, else the outbox), like the editions."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid, parseaddr

from digest.config import Config
from digest.delivery.compose import domain_of
from digest.delivery.transport import PermanentFailure, TemporaryFailure, make_transport
from digest.errors import DigestError

log = logging.getLogger(__name__)


def _sender(config: Config, edition: str) -> str:
    configured = config.editions[edition].sender
    return configured or f"digest@{domain_of(config.delivery.base_url)}"


def build_message(config: Config, edition: str, recipient: str, *, subject: str, body: str, now: datetime) -> EmailMessage:
    title = config.editions[edition].title
    message = EmailMessage(policy=SMTP)
    message["From"] = _sender(config, edition)
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = now
    message["Message-ID"] = make_msgid(domain=domain_of(config.delivery.base_url))
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(f"{body}\n\n-- \n{title}\n")
    return message


def confirmation_message(config: Config, edition: str, recipient: str, link: str, *, now: datetime) -> EmailMessage:
    title = config.editions[edition].title
    hours = int(config.web.confirm_within.total_seconds() // 3600)
    body = (
        f"Someone, probably you, asked to receive {title} at this address.\n\n"
        f"To confirm, open this link and press the button:\n\n{link}\n\n"
        f"The link works for {hours} hours. If you did not ask for this, ignore this message: "
        "nothing will be sent to you."
    )
    return build_message(config, edition, recipient, subject=f"Confirm your subscription to {title}", body=body,
                         now=now)


def unsubscribe_link_message(config: Config, edition: str, recipient: str, link: str, *, now: datetime) -> EmailMessage:
    title = config.editions[edition].title
    body = (
        f"Someone, probably you, asked for a link to stop receiving {title} at this address.\n\n"
        f"To unsubscribe, open this link and press the button:\n\n{link}\n\n"
        "If you did not ask for this, ignore this message: nothing changes."
    )
    return build_message(config, edition, recipient, subject=f"Your link to unsubscribe from {title}", body=body,
                         now=now)


def deliver(config: Config, edition: str, recipient: str, message: EmailMessage, *, kind: str) -> None:
    """Hand one message to the configured transport; a failure is logged, never shown to the requester."""
    now = datetime.now(UTC)
    transport = make_transport(config)
    try:
        reply = transport.deliver(
            parseaddr(_sender(config, edition))[1], recipient, message.as_bytes(),
            edition_id=f"{kind}-{now:%Y%m%dT%H%M%S%fZ}", message_id=str(message["Message-ID"]),
            commit=lambda: None,
        )
        log.info("%s message for %s: %s", kind, edition, reply)
    except (TemporaryFailure, PermanentFailure) as exc:
        log.error("%s message for %s not delivered: %s", kind, edition, exc.reply)
    except DigestError as exc:
        log.error("%s message for %s not delivered: %s", kind, edition, exc)
    finally:
        transport.close()

"""The preview a reviewed edition's editors get (digest.review): marked as such, never a reader's message.

Subject and banner say it awaits approval, with the edition id, each story's
number and id (for `digest drop`), the exact commands and the deadline; the
edition follows as text and HTML, and its web page is attached (drafts are not
in the archive yet, so a link would lead nowhere). It has a Message-ID of its
own, so an editor who is also a reader still gets the readers' copy, and a
folder of its own in the outbox. Previews are sends of their own kind in the
send ledger (SendKind.PREVIEW), so an editor gets each edition's preview once
however often its run restarts, and a preview never counts as the edition sent.
"""

from __future__ import annotations

import html
import re
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP

from digest.config import Config
from digest.delivery import ledger
from digest.delivery.compose import Outgoing
from digest.delivery.ledger import DeliveryStatus, SendKind
from digest.delivery.message import make_message_id
from digest.delivery.recipients import normalize_address
from digest.delivery.sender import SendReport, begin_send, deliver_send, outgoing_of, recompose_send
from digest.delivery.transport import Transport
from digest.render.edition import UNSUBSCRIBE_TOKEN

BODY_OPEN = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


def preview_message_id(outgoing: Outgoing, editor: str) -> str:
    return make_message_id(SendKind.PREVIEW.mail_key(outgoing.edition.id), editor, outgoing.domain)


def preview_banner(outgoing: Outgoing, *, deadline: datetime, on_deadline: str) -> str:
    """The words above the preview: what it is, its stories, the commands, the deadline."""
    edition = outgoing.edition
    then = "it is held until approved" if on_deadline == "hold" else "it is sent to readers as it is then"
    return "\n".join([
        "PREVIEW FOR REVIEW: not sent to readers. It goes to them only when approved.",
        f"Edition {edition.id}: {len(edition.stories)} stories.",
        f"Deadline: {deadline.astimezone(UTC):%Y-%m-%d %H:%M} UTC; without approval by then {then}.",
        "",
        "Stories (drop one by its number or id):",
        *(f"  {i}. {story.id}  {story.title}" for i, story in enumerate(edition.stories, start=1)),
        "",
        f'To drop a story:  digest drop {edition.id} STORY --reason "why"',
        f"To approve it:    digest approve {edition.id}",
        f"The web page is attached ({edition.id}.html).",
    ])


def preview_message(outgoing: Outgoing, editor: str, *, deadline: datetime, on_deadline: str) -> bytes:
    """One editor's preview: banner and edition as text and HTML, the web page attached."""
    edition = outgoing.edition
    banner = preview_banner(outgoing, deadline=deadline, on_deadline=on_deadline)
    rendered = outgoing.rendered
    text = rendered.text.replace(UNSUBSCRIBE_TOKEN, "(each reader's own unsubscribe link)")
    email_html = rendered.email_html.replace(UNSUBSCRIBE_TOKEN, "#")
    opening = BODY_OPEN.search(email_html)
    at = opening.end() if opening else 0
    marked = (
        '<div style="border:3px solid #b00020;padding:12px;margin:12px;font-family:sans-serif;'
        f'white-space:pre-wrap;background:#fff4f4;color:#000">{html.escape(banner)}</div>'
    )
    message = EmailMessage(policy=SMTP)
    message["From"] = outgoing.sender
    message["To"] = editor
    message["Subject"] = f"[PREVIEW, awaiting approval] {outgoing.subject} ({edition.id})"
    message["Date"] = outgoing.date
    message["Message-ID"] = preview_message_id(outgoing, editor)
    message.set_content(f"{banner}\n\n{'-' * 60}\n\n{text}", cte="quoted-printable")
    message.add_alternative(email_html[:at] + marked + email_html[at:], subtype="html", cte="quoted-printable")
    message.add_attachment(
        rendered.web_html.encode("utf-8"), maintype="text", subtype="html", filename=f"{edition.id}.html"
    )
    return message.as_bytes()


def deliver_previews(
    conn: sqlite3.Connection,
    config: Config,
    outgoing: Outgoing,
    editors: Sequence[str],
    *,
    deadline: datetime,
    on_deadline: str,
    transport: Transport,
    now: datetime,
) -> tuple[SendReport, list[str]]:
    """Hand each editor their preview unless they have it: the send's report, and why editors do not have it.

    A send of kind preview in the ledger, one per edition, recorded, resumed and reported as readers' sends
    are (digest.delivery.sender): an editor a killed or failed run already mailed is not mailed again.
    """
    editor_addresses, refusals = [], []
    for editor in editors:
        try:
            editor_addresses.append(normalize_address(editor))
        except ValueError as exc:
            refusals.append(f"{editor}: not a valid address ({exc})")
    begun = begin_send(
        conn, outgoing, kind=SendKind.PREVIEW, run_at=now, recipients=editor_addresses, transport=transport, now=now
    )
    record = recompose_send(conn, begun, outgoing)
    saved = outgoing_of(record)
    report = deliver_send(
        conn, config, record, transport,
        messages=lambda editor, _: preview_message(saved, editor, deadline=deadline, on_deadline=on_deadline),
    )
    refused = ledger.deliveries(conn, record.send_id, (DeliveryStatus.FAILED,))
    return report, refusals + [f"{row.recipient}: {row.last_reply}" for row in refused]

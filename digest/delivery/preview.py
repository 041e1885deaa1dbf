"""The preview a reviewed edition's editors get (digest.review): marked as such, never a reader's message.

Subject and banner say it awaits approval, with the edition id, each story's
number and id (for `digest drop`), the exact commands and the deadline; the
edition follows as text and HTML, and its web page is attached (drafts are not
in the archive yet, so a link would lead nowhere). It has a Message-ID of its
own, so an editor who is also a reader still gets the readers' copy, and a
folder of its own in the outbox. Editors are not readers: previews are not in
the send ledger but in a ledger of their own (digest.delivery.preview_ledger),
so an editor gets each edition's preview once however often its run restarts.
"""

from __future__ import annotations

import html
import logging
import re
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import parseaddr

from digest.delivery import preview_ledger
from digest.delivery.compose import Outgoing
from digest.delivery.message import make_message_id
from digest.delivery.preview_ledger import PreviewStatus
from digest.delivery.recipients import normalize_address
from digest.delivery.transport import PermanentFailure, TemporaryFailure, Transport
from digest.render.edition import UNSUBSCRIBE_TOKEN

log = logging.getLogger(__name__)

PREVIEW_SUFFIX = ".preview"
"""Added to the edition id for the preview's Message-IDs and its outbox folder."""

BODY_OPEN = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


def preview_message_id(outgoing: Outgoing, editor: str) -> str:
    return make_message_id(outgoing.edition.id + PREVIEW_SUFFIX, editor, outgoing.domain)


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
    outgoing: Outgoing,
    editors: Sequence[str],
    *,
    deadline: datetime,
    on_deadline: str,
    transport: Transport,
    now: datetime,
) -> tuple[int, list[str]]:
    """Hand each editor their preview unless they have it; returns how many have it, and why the others do not.

    Recorded per edition and editor as readers' sends are (digest.delivery.preview_ledger): an editor
    a killed or failed run already mailed is not mailed again.
    """
    preview_ledger.ensure_previews(conn)
    edition_id = outgoing.edition.id
    envelope_from = parseaddr(outgoing.sender)[1]
    reached, refusals = 0, []
    try:
        for editor in editors:
            try:
                address = normalize_address(editor)
            except ValueError as exc:
                refusals.append(f"{editor}: not a valid address ({exc})")
                continue
            message_id = preview_message_id(outgoing, address)
            earlier = preview_ledger.find(conn, edition_id, address)
            uncertain = False
            if earlier is not None and earlier.status is PreviewStatus.SENDING:
                verdict = transport.delivered_before(edition_id + PREVIEW_SUFFIX, address, message_id)
                if verdict:
                    preview_ledger.record_outcome(
                        conn, edition_id, address, message_id,
                        status=PreviewStatus.SENT, reply="found delivered after a restart", now=now,
                    )
                    earlier = preview_ledger.find(conn, edition_id, address)
                elif verdict is None:
                    uncertain = True
                    log.warning(
                        "%s: editor %s may already have the preview (the run stopped before the server's answer); "
                        "sending it again with the same Message-ID %s", edition_id, address, message_id,
                    )
            if earlier is not None and earlier.status is PreviewStatus.SENT:
                reached += 1
                continue
            message = preview_message(outgoing, address, deadline=deadline, on_deadline=on_deadline)
            committed = False

            def commit(address: str = address, message_id: str = message_id) -> None:
                nonlocal committed
                preview_ledger.mark_sending(conn, edition_id, address, message_id, now=now)
                committed = True

            try:
                reply = transport.deliver(
                    envelope_from, address, message,
                    edition_id=edition_id + PREVIEW_SUFFIX, message_id=message_id, commit=commit,
                )
            except (PermanentFailure, TemporaryFailure) as exc:
                lost_after_dot = committed and isinstance(exc, TemporaryFailure) and exc.connection_lost
                preview_ledger.record_outcome(
                    conn, edition_id, address, message_id,
                    status=PreviewStatus.FAILED, reply=exc.reply, now=now, uncertain=uncertain or lost_after_dot,
                )
                refusals.append(f"{address}: {exc.reply}")
                continue
            preview_ledger.record_outcome(
                conn, edition_id, address, message_id, status=PreviewStatus.SENT, reply=reply, now=now,
                uncertain=uncertain,
            )
            reached += 1
    finally:
        transport.close()
    return reached, refusals

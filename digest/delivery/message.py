"""One RFC 5322 message per recipient, from one rendering of an edition.

Sending to thousands of readers must not re-render or re-encode the edition
for each of them. prepare_message builds the header block and the
quoted-printable bodies once; MessageTemplate.for_recipient only joins
pre-encoded pieces around the recipient's To, Message-ID and unsubscribe URL.

The MIME assembly is hand-written because the email package encodes a whole
message at a time. To keep substitution safe inside quoted-printable, each
body is split at UNSUBSCRIBE_TOKEN before encoding, every piece ends with a
soft line break, and the URL is encoded on lines of its own: no wrapping can
cut a URL apart and the decoded body is exactly the rendered text with the URL
in place (tests parse the bytes back with the email package to prove it).
Fixed headers still go through the email package, which folds them and
applies RFC 2047 to non-ASCII text; so do each reader's To and Message-ID, so a
long one is folded within RFC 5322's 78 characters. List-Unsubscribe is written
by hand: the policy would RFC 2047-encode its URL, and a URL cannot be folded.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from datetime import datetime
from email import quoprimime
from email.message import EmailMessage
from email.policy import SMTP

from digest.errors import DeliveryError, RenderError
from digest.models import Edition
from digest.render.edition import UNSUBSCRIBE_TOKEN, RenderedEdition

CRLF = b"\r\n"
SOFT_BREAK = b"=" + CRLF
QP_LINE = 75
"""Encoded lines stop one short of RFC 2045's 76 so a soft break can always follow."""
MAX_URL = 900
"""Keeps 'List-Unsubscribe: <URL>' well under RFC 5322's 998-octet line limit."""

ADDRESS = re.compile(r"[^\s<>()\[\],;:\"@\\]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.[A-Za-z]{2,}")
MESSAGE_ID = re.compile(r"<[^<>@\s]+@[^<>@\s]+>")
URI_CHARS = re.compile(r"[\x21-\x7e]+")
LINE_BREAK = re.compile(r"\r\n?")
LOOPBACK_URL = re.compile(r"http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?/")
"""Plain http is allowed for a `digest serve` on this machine only (local testing)."""


@dataclass(frozen=True)
class MessageTemplate:
    """One edition's message, encoded, with slots for recipient, Message-ID and unsubscribe URL."""

    from_header: bytes
    """The folded From line; the per-recipient headers follow it."""
    headers_to_text: bytes
    """The remaining headers, the first boundary and the text part's headers."""
    text_to_html: bytes
    """The boundary and headers between the text and the HTML part."""
    closing: bytes
    text_pieces: tuple[bytes, ...]
    """The encoded text part, cut where the unsubscribe URL goes."""
    html_pieces: tuple[bytes, ...]
    unsubscribe_mailto: str | None

    def for_recipient(self, recipient: str, *, unsubscribe_url: str, message_id: str) -> bytes:
        """The complete message for one reader, CRLF line endings, ready for SMTP."""
        if not (recipient.isascii() and ADDRESS.fullmatch(recipient)):
            raise DeliveryError(f"{recipient!r} is not a plain e-mail address")
        if not (message_id.isascii() and MESSAGE_ID.fullmatch(message_id)):
            raise DeliveryError(f"{message_id!r} is not a Message-ID like <id@domain>")
        scheme = "http://" if LOOPBACK_URL.match(unsubscribe_url) else "https://"
        _check_uri(unsubscribe_url, scheme, "unsubscribe URL")
        mailto = f",\r\n <{self.unsubscribe_mailto}>" if self.unsubscribe_mailto else ""
        recipient_headers = (
            SMTP.fold("To", recipient)
            + SMTP.fold("Message-ID", message_id)
            + f"List-Unsubscribe: <{unsubscribe_url}>{mailto}\r\n"
        ).encode("ascii")
        return b"".join(
            (
                self.from_header,
                recipient_headers,
                self.headers_to_text,
                _encode_url(unsubscribe_url).join(self.text_pieces),
                self.text_to_html,
                _encode_url(html.escape(unsubscribe_url)).join(self.html_pieces),
                self.closing,
            )
        )


def prepare_message(
    rendered: RenderedEdition,
    edition: Edition,
    *,
    sender: str,
    subject: str,
    list_id: str,
    unsubscribe_mailto: str | None,
    date: datetime,
    boundary_seed: str,
) -> MessageTemplate:
    """Encode an edition's message once; see MessageTemplate.for_recipient."""
    if date.tzinfo is None:
        raise DeliveryError("the message date needs a time zone")
    if not subject.strip():
        raise DeliveryError("the message subject is empty")
    for name, body in (("text", rendered.text), ("email HTML", rendered.email_html)):
        if UNSUBSCRIBE_TOKEN not in body:
            raise RenderError(f"the {name} of edition {edition.id} has no unsubscribe link")
    mailto = None
    if unsubscribe_mailto:
        mailto = unsubscribe_mailto
        if not mailto.startswith("mailto:"):
            mailto = f"mailto:{mailto}"
        _check_uri(mailto, "mailto:", "unsubscribe mailto")
    boundary = "=_digest_" + hashlib.sha256(boundary_seed.encode("utf-8")).hexdigest()[:32]

    headers = EmailMessage(policy=SMTP)
    try:
        headers["From"] = _one_line(sender)
        headers["Subject"] = _one_line(subject)
        headers["Date"] = date
        headers["MIME-Version"] = "1.0"
        headers["List-Id"] = _one_line(list_id)
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        headers["Content-Type"] = f'multipart/alternative; boundary="{boundary}"'
    except (ValueError, IndexError) as exc:
        raise DeliveryError(f"cannot build message headers: {exc}") from exc
    if len(headers["From"].addresses) != 1 or headers["From"].defects:
        raise DeliveryError(f"sender {sender!r} is not one valid address")
    folded = [SMTP.fold(name, value).encode("ascii") for name, value in headers.items()]

    delimiter = f"--{boundary}".encode("ascii")
    part = b'Content-Type: text/%s; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
    return MessageTemplate(
        from_header=folded[0],
        headers_to_text=b"".join(folded[1:]) + CRLF + delimiter + CRLF + part % b"plain",
        text_to_html=CRLF + delimiter + CRLF + part % b"html",
        closing=CRLF + delimiter + b"--" + CRLF,
        text_pieces=_encode_pieces(rendered.text),
        html_pieces=_encode_pieces(rendered.email_html),
        unsubscribe_mailto=mailto,
    )


def make_message_id(edition_id: str, recipient: str, domain: str) -> str:
    """Same edition and reader, same Message-ID: a retried send is recognisably the same mail."""
    if not DOMAIN.fullmatch(domain):
        raise DeliveryError(f"{domain!r} is not a domain name for Message-IDs")
    digest = hashlib.sha256(f"{edition_id}\0{recipient.lower()}".encode()).hexdigest()[:20]
    label = re.sub(r"[^A-Za-z0-9+_-]+", "-", edition_id).strip("-")
    return f"<{digest}.{label}@{domain}>" if label else f"<{digest}@{domain}>"


def _one_line(value: str) -> str:
    """Header text on one line: a line break in a title must never start a new header."""
    return " ".join(value.split())


def _check_uri(uri: str, scheme: str, what: str) -> None:
    if not uri.startswith(scheme) or not URI_CHARS.fullmatch(uri) or "<" in uri or ">" in uri:
        raise DeliveryError(f"{what} {uri!r} must be a {scheme} URI in printable ASCII")
    if len(uri) > MAX_URL:
        raise DeliveryError(f"{what} is {len(uri)} characters long; at most {MAX_URL} fit a header")


def _quoted_printable(text: str) -> bytes:
    """UTF-8 text as quoted-printable with CRLF lines of at most QP_LINE octets."""
    latin = text.encode("utf-8").decode("latin-1")  # quoprimime works on octets held in a str
    return quoprimime.body_encode(latin, maxlinelen=QP_LINE, eol="\r\n").encode("ascii")


def _encode_pieces(body: str) -> tuple[bytes, ...]:
    """The body's text between unsubscribe tokens, each piece but the last closed by a soft break.

    Joined with an encoded URL (which itself ends in a soft break), the pieces
    decode to the body with the URL in every token's place. Line breaks become
    CRLF (MIME's canonical form), so a lone CR counts as one.
    """
    *leading, last = LINE_BREAK.sub("\n", body).split(UNSUBSCRIBE_TOKEN)
    return tuple(_quoted_printable(chunk) + SOFT_BREAK for chunk in leading) + (_quoted_printable(last),)


def _encode_url(url: str) -> bytes:
    return _quoted_printable(url) + SOFT_BREAK

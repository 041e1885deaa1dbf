"""The .eml message: structure, headers, per-recipient substitution, determinism."""

from __future__ import annotations

import dataclasses
import html
import re
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from edition_fixture import CLOCK, sample_edition
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.delivery.message import MessageTemplate, make_message_id, prepare_message
from digest.errors import DeliveryError, RenderError
from digest.render.edition import UNSUBSCRIBE_TOKEN, RenderedEdition, render_edition

SENDER = "The Weekly Digest <digest@example.org>"
LIST_ID = "The Weekly Digest <weekly.digest.example.org>"
RECIPIENT = "reader@example.com"
WEB_URL = "https://digest.example.org/weekly/2026-11-23/"
UNSUBSCRIBE = (
    "https://digest.example.org/unsubscribe?edition=weekly&token=Zm9vYmFyYmF6cXV4&sig=a1b2c3d4e5f6a7b8c9d0"
)


@pytest.fixture(scope="module")
def rendered() -> RenderedEdition:
    return render_edition(sample_edition(), web_url=WEB_URL)


def prepare(rendered: RenderedEdition, **overrides) -> MessageTemplate:
    edition = sample_edition()
    options = {
        "sender": SENDER,
        "subject": f"{edition.title} — 23 November 2026",
        "list_id": LIST_ID,
        "unsubscribe_mailto": "unsubscribe@example.org",
        "date": CLOCK,
        "boundary_seed": edition.id,
    } | overrides
    return prepare_message(rendered, edition, **options)


def message_for(template: MessageTemplate, recipient: str = RECIPIENT, url: str = UNSUBSCRIBE) -> bytes:
    message_id = make_message_id(sample_edition().id, recipient, "example.org")
    return template.for_recipient(recipient, unsubscribe_url=url, message_id=message_id)


def parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert [d for part in message.walk() for d in part.defects] == []
    return message


def bodies(message: EmailMessage) -> tuple[str, str]:
    """Decoded text and HTML parts, line endings as rendered (LF)."""
    plain, rich = message.get_payload()
    return (
        plain.get_content().replace("\r\n", "\n"),
        rich.get_content().replace("\r\n", "\n"),
    )


def test_same_inputs_give_identical_bytes(rendered):
    first = message_for(prepare(rendered))
    again = message_for(prepare(render_edition(sample_edition(), web_url=WEB_URL)))
    assert first == again


def test_boundary_follows_the_seed(rendered):
    one = parse(message_for(prepare(rendered, boundary_seed="a"))).get_boundary()
    two = parse(message_for(prepare(rendered, boundary_seed="b"))).get_boundary()
    assert one != two and one.startswith("=_digest_") and two.startswith("=_digest_")


def test_message_structure_and_headers(rendered):
    raw = message_for(prepare(rendered))
    message = parse(raw)
    assert message["From"] == SENDER
    assert message["To"] == RECIPIENT
    assert message["Subject"] == "The Weekly Digest — 23 November 2026"
    assert message["Date"].datetime == CLOCK
    assert message["Message-ID"] == make_message_id(sample_edition().id, RECIPIENT, "example.org")
    assert message["MIME-Version"] == "1.0"
    assert message["List-Id"] == LIST_ID
    listed = re.sub(r"\s+", " ", message["List-Unsubscribe"])
    assert listed == f"<{UNSUBSCRIBE}>, <mailto:unsubscribe@example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    parts = message.get_payload()
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert [p.get_content_charset() for p in parts] == ["utf-8", "utf-8"]
    assert [p["Content-Transfer-Encoding"] for p in parts] == ["quoted-printable"] * 2


def test_bytes_are_ascii_crlf_and_short_lined(rendered):
    raw = message_for(prepare(rendered))
    assert raw.isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    head, body = raw.split(b"\r\n\r\n", 1)
    assert max(len(line) for line in body.split(b"\r\n")) <= 76  # RFC 2045 quoted-printable
    assert max(len(line) for line in head.split(b"\r\n")) <= 998


def test_bodies_decode_to_the_rendering_with_the_recipients_url(rendered):
    text, email_html = bodies(parse(message_for(prepare(rendered))))
    assert text == rendered.text.replace(UNSUBSCRIBE_TOKEN, UNSUBSCRIBE)
    assert email_html == rendered.email_html.replace(UNSUBSCRIBE_TOKEN, html.escape(UNSUBSCRIBE))
    assert UNSUBSCRIBE_TOKEN not in text + email_html


def test_each_recipient_gets_their_own_to_message_id_and_unsubscribe_url(rendered):
    template = prepare(rendered)
    seen = set()
    for n, recipient in enumerate(["a@example.com", "b.reader+news@example.net", "C@Example.ORG"]):
        url = f"https://digest.example.org/u/{n}?t={'x' * (40 * n)}&n={n}"
        message = parse(message_for(template, recipient, url))
        assert message["To"] == recipient
        assert message["Message-ID"] == make_message_id(sample_edition().id, recipient, "example.org")
        assert f"<{url}>" in message["List-Unsubscribe"]
        text, email_html = bodies(message)
        assert text == rendered.text.replace(UNSUBSCRIBE_TOKEN, url)
        assert email_html == rendered.email_html.replace(UNSUBSCRIBE_TOKEN, html.escape(url))
        seen.add(message["Message-ID"])
    assert len(seen) == 3


URL_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="<>")
BODY_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)


@settings(max_examples=150, deadline=None)
@given(
    chunks=st.lists(BODY_TEXT, min_size=2, max_size=5),
    path=st.text(URL_CHARS, max_size=200),
)
def test_substitution_is_exact_for_any_body_and_url(chunks, path):
    """Tokens at the edges, side by side, next to spaces, '=', CRs or long lines all decode exactly."""
    body = UNSUBSCRIBE_TOKEN.join(chunks)
    rendered = RenderedEdition(email_html=body, text=body, web_html="")
    url = "https://x.example/" + path
    text, email_html = bodies(parse(message_for(prepare(rendered), url=url)))
    canonical = re.sub(r"\r\n?", "\n", body)
    assert text == canonical.replace(UNSUBSCRIBE_TOKEN, url)
    assert email_html == canonical.replace(UNSUBSCRIBE_TOKEN, html.escape(url))


@pytest.mark.parametrize(
    "subject",
    [
        "Weekly\r\nBcc: victim@example.com",
        "Weekly\nBcc: victim@example.com",
        "Weekly\rBcc: victim@example.com",
    ],
)
def test_a_line_break_in_the_subject_cannot_inject_a_header(rendered, subject):
    message = parse(message_for(prepare(rendered, subject=subject)))
    assert message["Bcc"] is None
    assert message["Subject"] == "Weekly Bcc: victim@example.com"


def test_a_line_break_in_the_edition_title_cannot_inject_a_header():
    edition = sample_edition()
    title = "Weekly\r\nBcc: victim@example.com\r\n\r\n<p>body</p>"
    rendered = render_edition(dataclasses.replace(edition, title=title))
    template = prepare(rendered, subject=f"{title} — 23 November 2026", list_id=f"{title} <w.example.org>")
    message = parse(message_for(template))
    assert message["Bcc"] is None
    assert message["Subject"] == "Weekly Bcc: victim@example.com <p>body</p> — 23 November 2026"
    assert [p.get_content_type() for p in message.get_payload()] == ["text/plain", "text/html"]


def test_non_ascii_subject_and_sender_are_rfc2047_encoded(rendered):
    template = prepare(rendered, subject="תקציר שבועי — الملخص", sender="תקציר <digest@example.org>")
    raw = message_for(template)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b"=?utf-8?" in head
    message = parse(raw)
    assert message["Subject"] == "תקציר שבועי — الملخص"
    assert message["From"].addresses[0].display_name == "תקציר"


def test_without_mailto_only_the_https_link_is_listed(rendered):
    message = parse(message_for(prepare(rendered, unsubscribe_mailto=None)))
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"


def test_mailto_given_with_its_scheme_is_kept(rendered):
    mailto = "mailto:leave@example.org?subject=unsubscribe"
    message = parse(message_for(prepare(rendered, unsubscribe_mailto=mailto)))
    assert message["List-Unsubscribe"].endswith(", <mailto:leave@example.org?subject=unsubscribe>")


@pytest.mark.parametrize(
    "recipient",
    [
        "reader@example.com\r\nBcc: victim@example.com",
        "Reader <reader@example.com>",
        "no-at-sign",
        "réader@example.com",
        "",
    ],
)
def test_recipient_must_be_a_plain_address(rendered, recipient):
    with pytest.raises(DeliveryError, match="plain e-mail address"):
        prepare(rendered).for_recipient(recipient, unsubscribe_url=UNSUBSCRIBE, message_id="<a@example.org>")


@pytest.mark.parametrize(
    "url",
    [
        "http://digest.example.org/u",
        "https://digest.example.org/u\r\nBcc: x@example.com",
        "https://x.example/a b",
        "https://x.example/<a>",
        "https://x.example/é",
        "https://x.example/" + "a" * 900,
    ],
)
def test_unsubscribe_url_must_be_printable_https(rendered, url):
    with pytest.raises(DeliveryError, match="unsubscribe URL"):
        prepare(rendered).for_recipient(RECIPIENT, unsubscribe_url=url, message_id="<a@example.org>")


@pytest.mark.parametrize(
    "message_id", ["a@example.org", "<a@example.org>\r\nBcc: x@example.com", "<no-domain>"]
)
def test_message_id_must_be_well_formed(rendered, message_id):
    with pytest.raises(DeliveryError, match="Message-ID"):
        prepare(rendered).for_recipient(RECIPIENT, unsubscribe_url=UNSUBSCRIBE, message_id=message_id)


@pytest.mark.parametrize(
    "sender", ["not an address", "a@example.org, b@example.org", "", "a@example.org\r\nBcc: victim@example.com"]
)
def test_sender_must_be_one_address(rendered, sender):
    with pytest.raises(DeliveryError, match="sender|header"):
        prepare(rendered, sender=sender)


def test_mailto_must_be_printable(rendered):
    with pytest.raises(DeliveryError, match="unsubscribe mailto"):
        prepare(rendered, unsubscribe_mailto="leave me@example.org")


@pytest.mark.parametrize("subject", ["", " \r\n "])
def test_subject_must_not_be_empty(rendered, subject):
    with pytest.raises(DeliveryError, match="subject is empty"):
        prepare(rendered, subject=subject)


def test_date_needs_a_time_zone(rendered):
    with pytest.raises(DeliveryError, match="time zone"):
        prepare(rendered, date=datetime(2026, 11, 23, 7, 0))


def test_a_rendering_without_unsubscribe_link_is_refused(rendered):
    broken = RenderedEdition(email_html=rendered.email_html, text="no link here", web_html="")
    with pytest.raises(RenderError, match="text .* has no unsubscribe link"):
        prepare(broken)


def test_message_id_is_deterministic_and_distinct():
    edition_id = sample_edition().id
    first = make_message_id(edition_id, RECIPIENT, "example.org")
    assert first == make_message_id(edition_id, "Reader@Example.com", "example.org")
    assert first != make_message_id(edition_id, "other@example.com", "example.org")
    assert first != make_message_id("weekly-20261130T0700+0000", RECIPIENT, "example.org")
    assert re.fullmatch(r"<[0-9a-f]{20}\.weekly-20261123T0700\+0000@example\.org>", first)


def test_message_id_domain_is_checked():
    with pytest.raises(DeliveryError, match="domain"):
        make_message_id("weekly", RECIPIENT, "example.org>\r\nBcc: x")

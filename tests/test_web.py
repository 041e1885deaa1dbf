"""`digest serve`'s application, in process (Starlette's TestClient): unsubscribe, sign-up, archive."""

from __future__ import annotations

import re
from contextlib import closing
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from click.testing import CliRunner
from smtpserver import delivery_config
from starlette.testclient import TestClient

from digest.cli.delivery import send
from digest.delivery import ledger, subscribers, suppressions
from digest.delivery.signing import signing_key, unsubscribe_url
from digest.store import connect
from digest.web.app import create_app
from digest.web.guard import CSRF_FIELD

READERS = ["ann@example.org", "bob@example.net"]
BASE = "https://digest.example.org"
NOW = "2026-11-23T07:00:00+00:00"


def read(path: Path):
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def outbox_messages(tmp_path: Path, kind: str) -> list:
    return [read(p) for p in sorted((tmp_path / "outbox").glob(f"{kind}-*/*.eml"))]


def link_in(message) -> str:
    (link,) = re.findall(r"https?://\S+", message.get_body(("plain",)).get_content())
    return link


def csrf_of(html: str) -> str:
    return re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', html)[1]


def suppressed(config) -> set[str]:
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        return {s.address for s in suppressions.suppressions(conn)}


def client_for(config) -> TestClient:
    return TestClient(create_app(config), base_url=BASE)


@pytest.fixture
def sent(tmp_path):
    """The edition sent (into the outbox) to two readers: (config, {reader: List-Unsubscribe URL})."""
    config = delivery_config(tmp_path, recipients=READERS)
    result = CliRunner().invoke(send, ["--config", str(tmp_path / "schedule.yaml"), "--now", NOW])
    assert result.exit_code == 0, result.output
    links = {}
    for address in READERS:
        message = read(next((tmp_path / "outbox").rglob(f"{address}.eml")))
        links[address] = str(message["List-Unsubscribe"]).strip("<>")
    return config, links


# --- one-click unsubscribe ---------------------------------------------------------


def test_one_click_post_unsubscribes_at_once_and_get_changes_nothing(sent):
    config, links = sent
    with client_for(config) as client:
        page = client.get(links["bob@example.net"])
        assert page.status_code == 200 and "Unsubscribe from The Weekly Digest?" in page.text
        assert 'name="List-Unsubscribe" value="One-Click"' in page.text
        assert suppressed(config) == set()

        answer = client.post(links["ann@example.org"], data={"List-Unsubscribe": "One-Click"})
        assert answer.status_code == 200 and "You are unsubscribed" in answer.text
        assert suppressed(config) == {"ann@example.org"}
        # a mail provider repeating its POST is answered the same
        assert client.post(links["ann@example.org"], data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        (entry,) = suppressions.suppressions(conn)
    assert entry.reason == "unsubscribed"


def test_the_page_button_posts_the_one_click_form_to_the_same_link(sent):
    config, links = sent
    with client_for(config) as client:
        page = client.get(links["bob@example.net"])
        action = re.search(r'<form method="post" action="([^"]+)"', page.text)[1].replace("&amp;", "&")
        assert action == links["bob@example.net"]
        assert client.post(action, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert suppressed(config) == {"bob@example.net"}


def tampered(link: str, **changes: str) -> str:
    parts = urlsplit(link)
    query = dict(parse_qsl(parts.query)) | changes
    return parts._replace(query=urlencode(query, safe="@")).geturl()


@pytest.mark.parametrize(
    "change, status",
    [
        ({"address": "bob@example.net"}, 403),
        ({"list": "daily"}, 403),
        ({"t": "1900000000"}, 403),
        ({"sig": "0" * 32}, 403),
        ({"sig": ""}, 403),
        ({"t": "soon"}, 400),
    ],
)
def test_forged_or_tampered_links_are_refused_and_change_nothing(sent, change, status):
    config, links = sent
    link = tampered(links["ann@example.org"], **change)
    with client_for(config) as client:
        assert client.post(link, data={"List-Unsubscribe": "One-Click"}).status_code == status
        assert client.get(link).status_code == status
    assert suppressed(config) == set()


def test_a_link_without_its_signature_is_not_an_unsubscribe(sent):
    config, links = sent
    bare = links["ann@example.org"].split("&t=")[0]
    with client_for(config) as client:
        answer = client.post(bare, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 403  # the lost-link form's POST, without its CSRF token
    assert suppressed(config) == set()


def test_expired_links_are_refused(tmp_path):
    config = delivery_config(tmp_path, recipients=READERS, delivery={})
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        key = signing_key(config, conn)
    old = datetime.now(UTC) - config.web.unsubscribe_links_valid - timedelta(days=1)
    recent = datetime.now(UTC) - config.web.unsubscribe_links_valid + timedelta(days=1)
    with client_for(config) as client:
        expired = client.post(unsubscribe_url(BASE, "weekly", "ann@example.org", key, issued=old))
        assert expired.status_code == 410 and "expired" in expired.text
        assert suppressed(config) == set()
        assert client.post(unsubscribe_url(BASE, "weekly", "ann@example.org", key, issued=recent)).status_code == 200
    assert suppressed(config) == {"ann@example.org"}


def test_the_web_editions_unsubscribe_link_offers_to_mail_a_readers_own_link(sent, tmp_path):
    config, _ = sent
    web_page = next((tmp_path / "archive").glob("weekly-*.html")).read_text(encoding="utf-8")
    (page_link,) = re.findall(r'href="([^"]*/unsubscribe[^"]*)"', web_page)
    assert page_link == f"{BASE}/unsubscribe?list=weekly"
    with client_for(config) as client:
        form = client.get(page_link)
        assert form.status_code == 200 and 'type="email"' in form.text
        token = csrf_of(form.text)
        for address in ("ann@example.org", "stranger@example.com"):
            answer = client.post(page_link, data={"email": address, CSRF_FIELD: token})
            assert answer.status_code == 200 and "Check your inbox" in answer.text
        assert client.post(page_link, data={"email": "bob@example.net"}).status_code == 403  # no CSRF token
    (message,) = outbox_messages(tmp_path, "unsubscribe-link")  # only the reader is mailed
    assert message["To"] == "ann@example.org"
    with client_for(config) as client:
        assert client.post(link_in(message), data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert suppressed(config) == {"ann@example.org"}


# --- sign-up ----------------------------------------------------------------------


def test_sign_up_confirm_and_become_a_reader(tmp_path):
    config = delivery_config(tmp_path, recipients=READERS)
    with client_for(config) as client:
        form = client.get("/subscribe/weekly")
        assert form.status_code == 200 and '<label for="email">' in form.text
        answer = client.post("/subscribe/weekly", data={"email": "Dana@Example.com", CSRF_FIELD: csrf_of(form.text)})
        assert answer.status_code == 200 and "Check your inbox" in answer.text
        (message,) = outbox_messages(tmp_path, "confirm")
        assert message["To"] == "Dana@example.com"
        assert message["Subject"] == "Confirm your subscription to The Weekly Digest"
        link = link_in(message)
        with closing(subscribers.ensure_subscribers(connect(config.store))) as conn:
            assert subscribers.subscribers(conn) == []  # nothing until the click

        page = client.get(link)
        assert page.status_code == 200 and "Confirm my subscription" in page.text
        done = client.post(link, data={CSRF_FIELD: csrf_of(page.text)})
        assert done.status_code == 200 and "You are subscribed" in done.text

        replay = client.post(link, data={CSRF_FIELD: csrf_of(page.text)})
        assert replay.status_code == 410 and "already been used" in replay.text
        assert client.get(link).status_code == 410
    with closing(subscribers.ensure_subscribers(connect(config.store))) as conn:
        (subscriber,) = subscribers.subscribers(conn, "weekly")
        assert (subscriber.address, subscriber.source) == ("Dana@example.com", subscribers.Source.SIGN_UP)
        assert subscribers.edition_readers(config, conn, "weekly") == [*READERS, "Dana@example.com"]


def test_confirming_needs_the_pages_csrf_token(tmp_path):
    config = delivery_config(tmp_path, recipients=[])
    with closing(subscribers.ensure_subscribers(connect(config.store))) as conn:
        token = subscribers.request_signup(conn, "weekly", "dana@example.com", now=datetime.now(UTC),
                                           valid_for=timedelta(hours=1))
    with client_for(config) as client:
        link = f"/confirm?token={token}"
        assert client.post(link, data={}).status_code == 403
        page = client.get(link)
        cross_site = client.post(link, data={CSRF_FIELD: csrf_of(page.text)}, headers={"Origin": "https://evil.example"})
        assert cross_site.status_code == 403
        with closing(subscribers.ensure_subscribers(connect(config.store))) as conn:
            assert subscribers.subscribers(conn) == []
        assert client.post(link, data={CSRF_FIELD: csrf_of(page.text)}).status_code == 200


def test_forged_and_expired_confirmation_links_do_nothing(tmp_path):
    config = delivery_config(tmp_path, recipients=[])
    with closing(subscribers.ensure_subscribers(connect(config.store))) as conn:
        old = subscribers.request_signup(conn, "weekly", "dana@example.com",
                                         now=datetime.now(UTC) - timedelta(hours=3), valid_for=timedelta(hours=2))
    with client_for(config) as client:
        page = client.get("/subscribe/weekly")
        csrf = csrf_of(page.text)
        assert client.post("/confirm?token=made-up", data={CSRF_FIELD: csrf}).status_code == 404
        expired = client.post(f"/confirm?token={old}", data={CSRF_FIELD: csrf})
        assert expired.status_code == 410 and "expired" in expired.text
    with closing(subscribers.ensure_subscribers(connect(config.store))) as conn:
        assert subscribers.subscribers(conn) == []


def test_a_confirmed_sign_up_lifts_an_earlier_unsubscribe_but_not_a_bounce(tmp_path):
    config = delivery_config(tmp_path, recipients=[])
    now = datetime.now(UTC)
    with closing(subscribers.ensure_subscribers(connect(config.store))) as conn:
        suppressions.suppress(conn, ["dana@example.com"], reason="unsubscribed", now=now)
        suppressions.suppress(conn, ["eve@example.com"], reason="hard bounce", now=now)
        for address in ("dana@example.com", "eve@example.com"):
            token = subscribers.request_signup(conn, "weekly", address, now=now, valid_for=timedelta(hours=1))
            subscribers.confirm_signup(conn, token, now=now)
        assert {s.address for s in suppressions.suppressions(conn)} == {"eve@example.com"}
        assert [(s.address, s.suppressed) for s in subscribers.subscribers(conn, "weekly")] == [
            ("dana@example.com", False), ("eve@example.com", True),
        ]


def test_the_form_refuses_a_post_without_its_csrf_token_or_from_another_site(tmp_path):
    config = delivery_config(tmp_path, recipients=[])
    with client_for(config) as client:
        assert client.post("/subscribe/weekly", data={"email": "dana@example.com"}).status_code == 403
        token = csrf_of(client.get("/subscribe/weekly").text)
        forged = client.post("/subscribe/weekly", data={"email": "dana@example.com", CSRF_FIELD: "x" * 43})
        assert forged.status_code == 403
        other_site = client.post("/subscribe/weekly", data={"email": "dana@example.com", CSRF_FIELD: token},
                                 headers={"Origin": "https://evil.example"})
        assert other_site.status_code == 403
    assert outbox_messages(tmp_path, "confirm") == []


def test_answers_never_tell_whether_an_address_is_subscribed(tmp_path):
    config = delivery_config(tmp_path, recipients=["ann@example.org"])
    with closing(subscribers.ensure_subscribers(connect(config.store))) as conn:
        subscribers.add(conn, "weekly", ["bob@example.net"], source=subscribers.Source.OPERATOR, now=datetime.now(UTC))
    with client_for(config) as client:
        answers = [
            client.post("/api/subscribe/weekly", json={"email": address})
            for address in ("ann@example.org", "bob@example.net", "new@example.com")
        ]
    assert {(a.status_code, a.text) for a in answers} == {(202, answers[0].text)}


def test_the_json_endpoint(tmp_path):
    config = delivery_config(tmp_path, recipients=[])
    with client_for(config) as client:
        as_form = client.post("/api/subscribe/weekly", data={"email": "dana@example.com"})
        assert as_form.status_code == 415  # no cross-site form can send JSON
        assert client.post("/api/subscribe/weekly", json={"email": "not an address"}).status_code == 422
        assert client.post("/api/subscribe/weekly", json=["dana@example.com"]).status_code == 422
        assert client.post("/api/subscribe/nightly", json={"email": "dana@example.com"}).status_code == 404
        answer = client.post("/api/subscribe/weekly", json={"email": "dana@example.com"})
        assert answer.status_code == 202 and answer.json()["status"] == "confirmation-sent"
    (message,) = outbox_messages(tmp_path, "confirm")
    assert message["To"] == "dana@example.com"


def test_rate_limits_per_client_and_per_address(tmp_path):
    config = delivery_config(tmp_path, recipients=[])
    config = config.model_copy(
        update={"web": config.web.model_copy(update={"requests_per_client": "3/hour", "requests_per_address": "1/day"})}
    )
    with client_for(config) as client:
        codes = [client.post("/api/subscribe/weekly", json={"email": "dana@example.com"}).status_code for _ in range(4)]
        assert codes == [202, 202, 202, 429]
    assert len(outbox_messages(tmp_path, "confirm")) == 1  # the address's budget: one message a day
    with client_for(config) as client:  # a fresh process; another client would be counted apart
        token = csrf_of(client.get("/subscribe/weekly").text)
        codes = [client.post("/subscribe/weekly", data={"email": f"u{i}@example.com", CSRF_FIELD: token}).status_code
                 for i in range(4)]
        assert codes == [200, 200, 200, 429]


def test_an_unknown_edition_has_no_form(tmp_path):
    config = delivery_config(tmp_path, recipients=[])
    with client_for(config) as client:
        assert client.get("/subscribe/nightly").status_code == 404


def test_pages_forbid_framing_scripts_and_referrers(tmp_path):
    config = delivery_config(tmp_path, recipients=[])
    with client_for(config) as client:
        page = client.get("/subscribe/weekly")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "same-origin"
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie


# --- the archive --------------------------------------------------------------------------


def test_serves_the_archive_index_pages_and_atom_feed(sent, tmp_path):
    config, _ = sent
    page = next((tmp_path / "archive").glob("weekly-*.html"))
    with client_for(config) as client:
        index = client.get("/")
        assert index.status_code == 200 and page.name in index.text
        feed = client.get("/feed.xml")
        assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
        assert "<feed" in feed.text
        edition = client.get(f"/{page.name}")
        assert edition.status_code == 200 and edition.text == page.read_text(encoding="utf-8")
        assert client.get("/nothing-here.html").status_code == 404
        assert client.get("/../schedule.yaml").status_code == 404


def test_an_empty_archive_points_to_the_sign_up_form(tmp_path):
    config = delivery_config(tmp_path, recipients=[])
    with client_for(config) as client:
        home = client.get("/")
        assert home.status_code == 200 and f"{BASE}/subscribe/weekly" in home.text
        assert client.get("/feed.xml").status_code == 404

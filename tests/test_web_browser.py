"""A reader in real headless Chromium against `digest serve`'s app (uvicorn in a thread) and a real
SMTP server (aiosmtpd): sign up, confirm from the mail, receive an edition, leave in one click from its
List-Unsubscribe header, receive nothing more; and the attacks: forged link, replayed confirmation,
CSRF, rate limit. Every page is checked with axe (no serious or critical violation, light and dark)
and must fit a 375 px phone."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
import uvicorn
from chromium import NEEDS_CHROMIUM, PHONE_WIDTH, launched_chromium
from click.testing import CliRunner
from smtpserver import SmtpServer, delivery_config, free_port

from digest.cli.delivery import send
from digest.web.app import create_app

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as launched:
        yield launched


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": PHONE_WIDTH, "height": 800})
    try:
        yield context.new_page()
    finally:
        context.close()


class Site:
    """`digest serve`'s application on a free port, with an SMTP server catching its mail."""

    def __init__(self, tmp_path: Path, smtp: SmtpServer, web: dict | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.smtp = smtp
        self.config_path = tmp_path / "schedule.yaml"
        delivery_config(
            tmp_path, recipients=["ann@example.org"], port=smtp.port,
            delivery={"base_url": self.base}, edition={"sender": "The Weekly Digest <digest@example.org>"},
        )
        if web:
            import json

            data = json.loads(self.config_path.read_text(encoding="utf-8"))
            data["web"] = web
            self.config_path.write_text(json.dumps(data), encoding="utf-8")
        from digest.config import load_config

        self.config = load_config(self.config_path)
        self.server = uvicorn.Server(uvicorn.Config(create_app(self.config), host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Site:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def mail_to(self, address: str, count: int) -> list:
        """The first ``count`` messages to ``address``, waiting for them (mail is sent after the answer)."""
        deadline = time.monotonic() + 20
        while True:
            found = [m for m in self.smtp.messages if address in m.recipients]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def send(self, now: str) -> None:
        result = CliRunner().invoke(send, ["--config", str(self.config_path), "--now", now, "--force"])
        assert result.exit_code == 0, result.output


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as running:
        yield running


def accessible(page) -> None:
    """No serious or critical axe violation in light or dark mode, and nothing wider than the phone."""
    from axe_playwright_python.sync_playwright import Axe

    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        violations = Axe().run(page).response["violations"]
        serious = [(v["id"], v["impact"]) for v in violations if v["impact"] in ("serious", "critical")]
        assert serious == [], (scheme, serious)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH


def body_link(message) -> str:
    text = BytesParser(policy=policy.default).parsebytes(message.content).get_body(("plain",)).get_content()
    (link,) = re.findall(r"http://127\.0\.0\.1:\d+/\S+", text)
    return link


def test_sign_up_confirm_receive_leave_in_one_click_then_nothing(page, tmp_path, smtp):
    with Site(tmp_path, smtp) as site:
        page.goto(f"{site.base}/subscribe/weekly")
        accessible(page)
        page.get_by_label("Your email address").fill("dana@example.com")
        page.get_by_role("button", name="Subscribe").click()
        page.get_by_role("heading", name="Check your inbox").wait_for()
        accessible(page)

        (confirmation,) = site.mail_to("dana@example.com", 1)
        assert confirmation.headers["Subject"] == "Confirm your subscription to The Weekly Digest"
        page.goto(body_link(confirmation))
        accessible(page)
        page.get_by_role("button", name="Confirm my subscription").click()
        page.get_by_role("heading", name="You are subscribed").wait_for()
        accessible(page)

        site.send("2026-11-23T07:00:00+00:00")
        _, edition = site.mail_to("dana@example.com", 2)
        assert edition.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        one_click = str(edition.headers["List-Unsubscribe"]).strip("<>")

        page.goto(one_click)  # what a mail scanner or a curious reader sees: a button, no change yet
        page.get_by_role("button", name="Unsubscribe").wait_for()
        accessible(page)
        answer = page.request.post(one_click, form={"List-Unsubscribe": "One-Click"})  # the mail provider's POST
        assert answer.status == 200

        site.send("2026-11-30T07:00:00+00:00")
        assert len(site.mail_to("ann@example.org", 2)) == 2  # the configured reader still gets editions
        assert len(site.mail_to("dana@example.com", 3)) == 2  # dana got nothing more


def test_the_page_button_unsubscribes_too(page, tmp_path, smtp):
    with Site(tmp_path, smtp) as site:
        site.send("2026-11-23T07:00:00+00:00")
        (edition,) = site.mail_to("ann@example.org", 1)
        page.goto(str(edition.headers["List-Unsubscribe"]).strip("<>"))
        page.get_by_role("button", name="Unsubscribe").click()
        page.get_by_role("heading", name="You are unsubscribed").wait_for()
        accessible(page)
        site.send("2026-11-30T07:00:00+00:00")
        assert len(site.mail_to("ann@example.org", 2)) == 1


def test_forged_links_replayed_confirmations_csrf_and_rate_limits(page, tmp_path, smtp):
    with Site(tmp_path, smtp, web={"requests_per_client": "3/hour"}) as site:
        site.send("2026-11-23T07:00:00+00:00")
        (edition,) = site.mail_to("ann@example.org", 1)
        forged = str(edition.headers["List-Unsubscribe"]).strip("<>").replace("ann%40", "ann@").replace(
            "address=ann@example.org", "address=bob@example.net")
        assert "bob@example.net" in forged
        response = page.goto(forged)
        assert response is not None and response.status == 403
        page.get_by_role("heading", name="This link does not work").wait_for()
        accessible(page)
        assert page.request.post(forged, form={"List-Unsubscribe": "One-Click"}).status == 403

        # CSRF: another site's page posting the form, and a post without the token
        assert page.request.post(f"{site.base}/subscribe/weekly", form={"email": "eve@example.com"}).status == 403
        page.goto(f"{site.base}/subscribe/weekly")
        token = page.locator("input[name=csrf_token]").get_attribute("value")
        cross_site = page.request.post(f"{site.base}/subscribe/weekly", form={"email": "eve@example.com",
                                       "csrf_token": token}, headers={"Origin": "https://evil.example"})
        assert cross_site.status == 403

        # replay: a confirmation link works once
        page.get_by_label("Your email address").fill("dana@example.com")
        page.get_by_role("button", name="Subscribe").click()
        page.get_by_role("heading", name="Check your inbox").wait_for()
        (confirmation,) = site.mail_to("dana@example.com", 1)
        link = body_link(confirmation)
        page.goto(link)
        page.get_by_role("button", name="Confirm my subscription").click()
        page.get_by_role("heading", name="You are subscribed").wait_for()
        replay = page.goto(link)
        assert replay is not None and replay.status == 410

        # rate limit: the fourth request from this client within the hour is refused
        statuses = []
        for i in range(3):
            page.goto(f"{site.base}/subscribe/weekly")
            page.get_by_label("Your email address").fill(f"reader{i}@example.com")
            with page.expect_response(f"{site.base}/subscribe/weekly") as posted:
                page.get_by_role("button", name="Subscribe").click()
            statuses.append(posted.value.status)
        assert statuses == [200, 200, 429]
        page.get_by_role("heading", name="Too many requests").wait_for()
        accessible(page)
        assert site.mail_to("reader2@example.com", 1) == []

"""The web edition and the email HTML in real headless Chromium at phone width."""

from __future__ import annotations

from pathlib import Path

import pytest
from chromium import NEEDS_CHROMIUM, PHONE_WIDTH, launched_chromium
from edition_fixture import sample_edition

from digest.render.edition import render_edition

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def page():
    with launched_chromium() as browser:
        yield browser.new_page(viewport={"width": PHONE_WIDTH, "height": 800})


@pytest.fixture(scope="module")
def rendered():
    return render_edition(
        sample_edition(),
        web_url="https://digest.example.org/weekly/2026-11-23/",
        unsubscribe_page="https://digest.example.org/unsubscribe",
    )


def load(page, html: str, path: Path) -> list[str]:
    """Open the HTML from a file, as a reader's browser would; returns every URL it requested."""
    path.write_text(html, encoding="utf-8")
    requests: list[str] = []

    def record(request) -> None:
        requests.append(request.url)

    page.on("request", record)
    try:
        page.goto(path.as_uri(), wait_until="load")
    finally:
        page.remove_listener("request", record)
    return requests


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_web_edition_fits_a_phone_and_requests_nothing(page, rendered, tmp_path):
    requests = load(page, rendered.web_html, tmp_path / "web.html")
    assert requests == [(tmp_path / "web.html").as_uri()]
    assert scroll_width(page) <= PHONE_WIDTH
    assert page.evaluate("document.querySelectorAll('main article').length") == len(sample_edition().stories)


def test_email_fits_a_phone(page, rendered, tmp_path):
    load(page, rendered.email_html, tmp_path / "email.html")
    assert scroll_width(page) <= PHONE_WIDTH
    assert page.evaluate("document.querySelector('h1').textContent") == "The Weekly Digest"

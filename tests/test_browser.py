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


def test_email_has_its_stories_in_the_main_landmark_and_no_axe_finding(page, rendered, tmp_path):
    """Masthead, stories and footer are landmarks (banner, main, contentinfo) and nothing visible is outside
    them: axe finds nothing at all, light or dark (moderate and minor findings included)."""
    from axe_playwright_python.sync_playwright import Axe

    load(page, rendered.email_html, tmp_path / "email.html")
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        violations = Axe().run(page).response["violations"]
        assert [(v["id"], v["impact"]) for v in violations] == [], scheme
    landmarks = "[...document.querySelectorAll('[role=banner], [role=main], [role=contentinfo]')]"
    assert page.evaluate(f"{landmarks}.map(e => e.getAttribute('role'))") == ["banner", "main", "contentinfo"]
    assert page.evaluate("document.querySelector('[role=banner] h1').textContent") == "The Weekly Digest"
    assert page.evaluate("document.querySelectorAll('[role=main] h3').length") == len(sample_edition().stories)
    assert "Unsubscribe" in page.evaluate("document.querySelector('[role=contentinfo]').textContent")

"""How long rendering one edition takes: email (Jinja2 + MJML), web page and plain text.

    .venv/bin/python bench/render.py [--runs 50]

Two editions: the one built from seeds/ with the bundled schedule.yaml, and
a full one (5 stories in each of the 3 themes, 10 under "Also noted", with
summaries of 2-4 sentences and one or two sources each) written from
bench/corpus.py's vocabularies. For each: render_edition as a whole, and its
parts: the MJML source from its Jinja2 template, mjml2html on it, the web
page template, the text template. The first render (templates compiled) is
shown apart; the rest are medians of --runs renders. Prints the core count.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from corpus import NOW, OFF_THEME, ON_THEME, Writer  # noqa: E402
from mjml import mjml2html  # noqa: E402

from digest import render  # noqa: E402
from digest.config import load_config  # noqa: E402
from digest.models import Edition, EditionStory, Section, SourceRef  # noqa: E402
from digest.pipeline import build_edition  # noqa: E402

WEB_URL = "https://digest.example.org/weekly-2026-11-23.html"
UNSUBSCRIBE_PAGE = "https://digest.example.org/unsubscribe"


def seed_edition() -> Edition:
    return build_edition(load_config(ROOT / "schedule.yaml"), None, now=NOW).edition


def full_edition() -> Edition:
    """5 stories per theme and 10 also noted, written from the corpus vocabularies (fixed seed)."""
    writer = Writer(random.Random(7))
    rng = writer.rng

    def story(topic, number: int) -> EditionStory:
        place, day = rng.choice(topic.places), rng.choice(["Monday", "Tuesday", "Friday"])
        speaker = (writer.person(), rng.choice(topic.roles))
        summary = tuple(writer.sentence(topic, place, speaker, day) for _ in range(rng.randint(2, 4)))
        sources = tuple(
            SourceRef(
                name=f"Outlet {rng.randrange(500)}",
                url=f"https://outlet{rng.randrange(500)}.example/2026/11/{number}-{k}/",
                published=NOW - timedelta(hours=rng.randrange(1, 160)),
                document=f"doc-{number}-{k}",
            )
            for k in range(rng.randint(1, 2))
        )
        return EditionStory(f"story-{number}", rng.choice(topic.headlines), summary, sources, topic.theme,
                            "bench")

    config = load_config(ROOT / "schedule.yaml")
    _, edition_config = config.edition(None)
    sections = tuple(
        Section(key, config.themes[key].title, config.themes[key].description,
                tuple(story(next(t for t in ON_THEME if t.theme == key), i * 10 + n) for n in range(5)))
        for i, key in enumerate(edition_config.themes)
    )
    also = Section("also-noted", "Also noted", "Stories that fit none of this edition's themes.",
                   tuple(story(rng.choice(OFF_THEME), 100 + n) for n in range(10)))
    return Edition("weekly", edition_config.title, NOW, sections, also, edition_config.description)


def timed(function: Callable[[], object], runs: int) -> tuple[float, float]:
    """Milliseconds of the first call, and the median of ``runs`` more."""
    start = time.perf_counter()
    function()
    first = time.perf_counter() - start
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * first, 1000 * statistics.median(times)


def parts(edition: Edition) -> dict[str, Callable[[], object]]:
    context = {
        "edition": edition,
        "web_url": WEB_URL,
        "unsubscribe_page": UNSUBSCRIBE_PAGE,
        "unsubscribe_url": render.UNSUBSCRIBE_TOKEN,
        "preheader": render.preheader(edition),
    }
    env = render._environment()
    mjml_source = env.get_template("edition.mjml.j2").render(context)
    return {
        "render_edition (all three)": lambda: render.render_edition(
            edition, web_url=WEB_URL, unsubscribe_page=UNSUBSCRIBE_PAGE
        ),
        "  email: MJML source (Jinja2)": lambda: env.get_template("edition.mjml.j2").render(context),
        "  email: mjml2html": lambda: mjml2html(mjml_source, disable_comments=True, fonts={}),
        "  web page (Jinja2)": lambda: env.get_template("edition.html.j2").render(context),
        "  text (Jinja2)": lambda: env.get_template("edition.txt.j2").render(context),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    print(f"cores: {os.cpu_count()}  python {sys.version.split()[0]}  runs: {runs} (medians; first render apart)")
    for label, edition in (("seed edition", seed_edition()), ("full edition", full_edition())):
        print(f"  {label}: {len(edition.stories)} stories in {len(edition.sections)} themes"
              f"{' + also noted' if edition.also_noted else ''}")
        for name, function in parts(edition).items():
            first, median = timed(function, runs)
            print(f"    {name:<30} {median:7.2f} ms   (first {first:.1f} ms)")


if __name__ == "__main__":
    main()

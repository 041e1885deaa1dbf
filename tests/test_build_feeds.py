"""Feeds through `digest build`: a real local HTTP server, the bundled config, the real store."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from feedserver import Route, fixture

from digest.cli.main import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path) -> Path:
    shutil.copy(ROOT / "schedule.yaml", tmp_path / "schedule.yaml")
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    return tmp_path


def digest(project: Path, *args: str):
    return CliRunner().invoke(main, [args[0], *args[1:], "--config", str(project / "schedule.yaml")])


def build(project: Path, now: str, *extra: str, exit_code: int = 0) -> dict:
    out = project / f"out-{now[:13]}"
    result = digest(project, "build", "--out", str(out), "--now", now, *extra)
    assert result.exit_code == exit_code, result.output
    data = json.loads(next(out.glob("*.json")).read_text(encoding="utf-8"))
    data["_stderr"] = result.stderr
    data["_stdout"] = result.stdout
    data["_files"] = {p.suffix: p for p in out.iterdir()}
    return data


def feed_stories(edition: dict) -> dict[str, str | None]:
    """Title -> theme of every story that came from a feed."""
    found = {}
    sections = [*edition["sections"], *([edition["also_noted"]] if edition["also_noted"] else [])]
    for section in sections:
        for story in section["stories"]:
            if any(s["url"] for s in story["sources"]):
                found[story["title"]] = section["theme"]
    return found


def test_added_feed_is_themed_sourced_sanitised_and_never_repeated(project, feed_server):
    url = feed_server.route("/monitor.rss", Route(fixture("themed.rss"), etag='"v1"'))
    added = digest(project, "feeds", "add", url, "--name", "Monitor")
    assert added.exit_code == 0, added.output

    first = build(project, "2026-11-21T07:00:00+00:00")
    assert feed_stories(first) == {
        "Settlers torch cars and olive groves in Turmus Ayya": "settler-violence",
        "Dutch court halts export of F-35 parts": "arms-exports",
    }  # "City council approves new bus lanes" is near no theme: not even under 'Also noted'

    settlers = next(s for sec in first["sections"] for s in sec["stories"] if s["title"].startswith("Settlers torch"))
    assert settlers["sources"][0] == {
        "name": "Monitor", "url": "https://monitor.example.org/2026/11/turmus-ayya",
        "published": "2026-11-20T09:00:00+00:00", "document": f"{url}#guid=monitor-2026-11-20-turmus-ayya",
        "author": None,
    }
    for path in first["_files"].values():
        content = path.read_text(encoding="utf-8", errors="replace").lower()
        assert "javascript:" not in content and "steal()" not in content and 'alert("x")' not in content

    # a draft is a preview: the next build still has every story
    again = build(project, "2026-11-24T07:00:00+00:00")
    assert feed_stories(again) == feed_stories(first)

    # once an edition is published, the next takes only entries first seen since it: none
    published = digest(project, "publish", "weekly")
    assert published.exit_code == 0, published.output
    assert published.stdout.startswith("weekly-20261124T0700+0000: published to the archive: ")
    second = build(project, "2026-11-28T07:00:00+00:00")
    assert feed_stories(second) == {}

    # a one-off period by publication date brings them back
    period = build(project, "2026-11-28T07:00:00+00:00", "--since", "2026-11-19", "--until", "2026-11-21")
    assert set(feed_stories(period)) == {
        "Settlers torch cars and olive groves in Turmus Ayya", "Dutch court halts export of F-35 parts",
    }


def test_rebuilding_the_same_edition_at_the_same_clock_is_identical(project, feed_server):
    url = feed_server.route("/monitor.rss", Route(fixture("themed.rss")))
    assert digest(project, "feeds", "add", url, "--no-check").exit_code == 0
    first = build(project, "2026-11-21T07:00:00+00:00")
    again = build(project, "2026-11-21T07:00:00+00:00")
    assert first["_files"][".html"].read_bytes() == again["_files"][".html"].read_bytes()
    assert len(feed_stories(first)) == 2


def test_unreachable_feed_is_reported_in_one_line_and_the_edition_still_builds(project, feed_server):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/gone.rss"
    assert digest(project, "feeds", "add", dead, "--no-check").exit_code == 0
    # the only feed failed: the edition (of the seeds) is written, and the exit status says it failed
    edition = build(project, "2026-11-21T07:00:00+00:00", exit_code=1)
    warnings = [line for line in edition["_stderr"].splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and dead in warnings[0]
    assert edition["sections"][0]["stories"]
    assert edition["_stdout"].startswith("7 stories from 0 feeds and 3 seed documents; ")
    assert "; 1 of 1 feed failed (see the warnings); draft written to " in edition["_stdout"]
    # with a feed that answers beside it, the build is done with warnings: 3
    url = feed_server.route("/monitor.rss", Route(fixture("themed.rss")))
    assert digest(project, "feeds", "add", url).exit_code == 0
    edition = build(project, "2026-11-22T07:00:00+00:00", exit_code=3)
    assert edition["_stdout"].startswith("9 stories from 1 feed and 3 seed documents; ")
    assert "; 1 of 2 feeds failed (see the warnings); " in edition["_stdout"]


def test_a_malformed_feed_keeps_its_warning_while_it_answers_304_until_it_parses_cleanly(project, feed_server):
    """The second build's 304 re-reads nothing: the warning (and exit status 3) come from the stored feed state."""
    url = feed_server.route("/monitor.rss", Route(fixture("malformed.rss"), etag='"v1"'))
    assert digest(project, "feeds", "add", url, "--no-check").exit_code == 0

    def warnings(edition: dict) -> list[str]:
        return [line for line in edition["_stderr"].splitlines() if line.startswith("warning:")]

    first = build(project, "2026-11-21T07:00:00+00:00", exit_code=3)
    [warning] = warnings(first)
    assert warning.startswith(f"warning: feed {url}: malformed feed (") and warning.endswith(" entries kept")

    second = build(project, "2026-11-22T07:00:00+00:00", exit_code=3)
    assert feed_server.requests_to("/monitor.rss")[-1].headers["if-none-match"] == '"v1"'  # answered 304
    assert warnings(second) == [f"{warning} (unchanged since it was read)"]

    feed_server.route("/monitor.rss", Route(fixture("themed.rss"), etag='"v2"'))  # the publisher fixed it
    assert warnings(build(project, "2026-11-23T07:00:00+00:00")) == []
    assert warnings(build(project, "2026-11-24T07:00:00+00:00")) == []  # a 304 of the clean feed


PROMOTED_ENTRY = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>World news</title><link>https://news.example/</link>
<item>
  <title>Dutch court halts export of F-35 fighter jet parts to Israel</title>
  <link>https://news.example/2026/nov/20/f35-parts</link>
  <guid>https://news.example/2026/nov/20/f35-parts</guid>
  <pubDate>Fri, 20 Nov 2026 09:00:00 GMT</pubDate>
  <description><![CDATA[<p>Judges say the arms export licence breaks the law on weapons exports.</p>
  <ul><li><a href="https://news.example/live">Follow our world news live blog for the latest updates</a></li>
  <li>Get our <a href="https://news.example/email">morning and afternoon news emails</a>,
  <a href="https://news.example/app">free app</a> or <a href="https://news.example/pod">daily news podcast</a></li></ul>
  <p>A Dutch appeals court ordered the government to halt all exports of F-35 fighter jet parts to Israel
  within seven days, ruling that the arms export licence broke the law.</p>
  <p>The parts are stored at a US-owned warehouse and shipped to partner countries, including Israel,
  under an arms export licence for military equipment granted in 2016.</p>]]></description>
</item></channel></rss>"""


def test_a_list_of_promotion_links_in_an_entry_is_dropped_not_made_a_headline(project, feed_server):
    url = feed_server.route("/world.rss", Route(PROMOTED_ENTRY.encode()))
    assert digest(project, "feeds", "add", url, "--name", "World news", "--no-check").exit_code == 0
    edition = build(project, "2026-11-21T07:00:00+00:00", "--explain")
    assert feed_stories(edition) == {"Dutch court halts export of F-35 fighter jet parts to Israel": "arms-exports"}
    for suffix in (".txt", ".html", ".eml", ".json"):
        written = edition["_files"][suffix].read_text(encoding="utf-8")
        assert "news emails" not in written and "live blog" not in written
    explained = digest(project, "build", "--out", str(project / "again"), "--now", "2026-11-21T07:00:00+00:00",
                       "--since", "2026-11-01", "--explain").output
    assert "[clean] a link, not text (navigation, promotion or related headline): 'Get our morning" in explained


def test_spoofing_controls_and_huge_titles_reach_no_output(project, feed_server):
    feed = fixture("themed.rss").decode()
    feed = feed.replace("Dutch court halts export", "Dutch court \u202ehalts\u202c export\u2066 \u200b")
    feed = feed.replace(
        "Settlers torch cars and olive groves in Turmus Ayya",
        "Settlers torch cars and olive groves in Turmus Ayya, " + "settlers torch more " * 100_000,
    )
    feed = feed.replace("<title>Occupied Territories Monitor", "<title>Occupied \u202eTerritories Monitor")
    url = feed_server.route("/spoof.rss", Route(feed.encode()))
    assert digest(project, "feeds", "add", url).exit_code == 0

    edition = build(project, "2026-11-21T07:00:00+00:00")
    titles = list(feed_stories(edition))
    assert "Dutch court halts export of F-35 parts" in titles
    (long_title,) = [t for t in titles if t.startswith("Settlers torch cars and olive groves in Turmus Ayya, settlers")]
    assert len(long_title) <= 300 and long_title.endswith("\u2026")
    for path in edition["_files"].values():
        content = path.read_text(encoding="utf-8")
        assert not set(content) & {"\u202e", "\u202c", "\u2066", "\u200b"}, path.name
        assert "settlers torch more " * 20 not in content, path.name


def test_an_offline_build_warns_of_a_malformed_feed_as_its_last_fetch_left_it(project, feed_server):
    url = feed_server.route("/monitor.rss", Route(fixture("malformed.rss"), etag='"v1"'))
    assert digest(project, "feeds", "add", url, "--no-check").exit_code == 0
    online = build(project, "2026-11-21T07:00:00+00:00", exit_code=3)
    [warning] = [line for line in online["_stderr"].splitlines() if line.startswith("warning:")]
    assert warning.startswith(f"warning: feed {url}: malformed feed (")
    requests = len(feed_server.requests_to("/monitor.rss"))

    offline = build(project, "2026-11-22T07:00:00+00:00", "--offline", exit_code=3)
    assert len(feed_server.requests_to("/monitor.rss")) == requests  # nothing fetched
    assert [line for line in offline["_stderr"].splitlines() if line.startswith("warning:")] == [
        f"{warning} (as it was last read; not fetched: --offline)"
    ]
    report = digest(project, "build", "--out", str(project / "json"), "--now", "2026-11-22T08:00:00+00:00",
                    "--offline", "--json")
    [feed] = json.loads(report.stdout)["sources"]["feeds"]
    assert (feed["status"], feed["message"]) == ("not-fetched", warning.removeprefix(f"warning: feed {url}: ")
                                                 + " (as it was last read; not fetched: --offline)")

    feed_server.route("/monitor.rss", Route(fixture("themed.rss"), etag='"v2"'))  # the publisher fixed it
    assert build(project, "2026-11-23T07:00:00+00:00")["_stderr"].count("warning:") == 0
    assert build(project, "2026-11-24T07:00:00+00:00", "--offline")["_stderr"].count("warning:") == 0

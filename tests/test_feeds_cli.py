"""`digest feeds …` end to end: a real config file, a real store, a real local HTTP server."""

from __future__ import annotations

import difflib
import json
import re
import shutil
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from feedserver import Route, fixture
from lxml import etree

from digest.cli.feeds import feeds
from digest.config import load_config

BUNDLED = Path(__file__).parent.parent / "schedule.yaml"

SMALL = """\
# A small config for the feeds commands.
feeds:
  # The first feed, with a comment of its own.
  - url: {first}
    name: First
    themes: [solidarity]

  # A second one, switched off.
  - url: https://off.example.org/rss
    enabled: false

# Fetch settings: tiny timeouts for tests.
fetch:
  connect_timeout: 1
  read_timeout: 0.5
  total_timeout: 2
  retries: 0
  per_host_delay: 0
  failure_threshold: 1

store: state/digest.sqlite

themes:
  solidarity:
    title: Solidarity
    description: Acts of support.
    signals:
      keywords: {{solidarity: 1}}
  arms-exports:
    title: Arms exports
    description: Weapons sales.
    signals:
      keywords: {{arms: 1}}

editions:
  weekly:
    title: The Weekly Digest
    themes: [solidarity, arms-exports]
"""


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/feed"


def run(config: Path, command: str, *args: str):
    return CliRunner().invoke(feeds, [command, "--config", str(config), *args], catch_exceptions=False)


def changes(before: str, after: str) -> tuple[list[str], list[str]]:
    """Lines removed and lines added between two versions of a file."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    return [d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")]


@pytest.fixture
def bundled(tmp_path) -> Path:
    path = tmp_path / "schedule.yaml"
    shutil.copy(BUNDLED, path)
    return path


@pytest.fixture
def small(tmp_path, feed_server) -> Path:
    path = tmp_path / "schedule.yaml"
    first = feed_server.route("/first.rss", Route(fixture("news.rss")))
    path.write_text(SMALL.format(first=first), encoding="utf-8")
    return path


def test_add_checks_the_feed_and_appends_it_keeping_everything_else(bundled, feed_server):
    url = feed_server.route("/news.rss", Route(fixture("news.rss")))
    before = bundled.read_text(encoding="utf-8")
    count = len(load_config(bundled).feeds)
    result = run(bundled, "add", url, "--name", "Monitor", "--theme", "arms-exports", "--theme", "solidarity")
    assert result.exit_code == 0, result.output
    assert result.output == f'Added feed #{count + 1} "Monitor" (4 entries) to {bundled}: {url}\n'
    removed, added = changes(before, bundled.read_text(encoding="utf-8"))
    assert removed == []
    assert added == [f"  - url: {url}", "    name: Monitor", "    themes: [arms-exports, solidarity]"]
    feed = load_config(bundled).feeds[-1]
    assert (feed.url, feed.name, feed.themes, feed.enabled) == (url, "Monitor", ["arms-exports", "solidarity"], True)


def test_add_to_an_empty_list_replaces_the_empty_brackets(tmp_path, feed_server):
    path = tmp_path / "schedule.yaml"
    text = SMALL.format(first="unused")
    start, end = text.index("feeds:"), text.index("# Fetch settings")
    path.write_text(text[:start] + "feeds: []  # none yet\n\n" + text[end:], encoding="utf-8")
    url = feed_server.route("/news.rss", Route(fixture("news.rss")))
    assert run(path, "add", url, "--include", "arms|settler").exit_code == 0
    assert [(f.url, f.include) for f in load_config(path).feeds] == [(url, ["arms|settler"])]
    assert "# Fetch settings: tiny timeouts for tests." in path.read_text(encoding="utf-8")


def test_add_without_check_makes_no_request(small, feed_server):
    url = closed_port_url()
    result = run(small, "add", url, "--no-check")
    assert result.exit_code == 0
    assert result.output == f"Added feed #3 to {small}: {url}\n"
    assert load_config(small).feeds[2].url == url
    assert feed_server.requests == []


def test_add_refuses_an_unreachable_feed_and_leaves_the_file_alone(small):
    before = small.read_text(encoding="utf-8")
    url = closed_port_url()
    result = run(small, "add", url)
    assert result.exit_code == 1
    port = urlsplit(url).port
    assert f"{url}: unreachable (127.0.0.1 port {port} refused the connection) (add it anyway with --no-check)" in result.output
    assert small.read_text(encoding="utf-8") == before


def test_add_refuses_something_that_is_not_a_feed(small, feed_server):
    url = feed_server.route("/data.json", Route(b'{"a": 1}', content_type="application/json"))
    result = run(small, "add", url)
    assert result.exit_code == 1
    assert "not an RSS or Atom feed (content type application/json;" in result.output


def test_add_refuses_a_page_that_leads_to_no_feed_saying_where_it_looked(small, feed_server):
    url = feed_server.route("/page", Route(fixture("page.html"), content_type="text/html"))
    before = small.read_text(encoding="utf-8")
    result = run(small, "add", url)
    assert result.exit_code == 1
    assert (
        "a web page, not a feed; it advertises no feed (<link rel=\"alternate\">) and none answers at "
        "/feed, /rss.xml, /atom.xml, /index.xml, /feed.xml or /rss; give the feed's own URL"
    ) in result.output
    assert [r.path for r in feed_server.requests] == ["/page", "/feed", "/rss.xml", "/atom.xml", "/index.xml",
                                                      "/feed.xml", "/rss"]  # fmt: skip
    assert small.read_text(encoding="utf-8") == before


def test_add_stores_the_feeds_own_title_as_its_name(small, feed_server):
    url = feed_server.route("/news.rss", Route(fixture("news.rss")))
    result = run(small, "add", url)
    assert result.exit_code == 0, result.output
    assert result.output == f'Added feed #3 "Example Monitor" (4 entries) to {small}: {url}\n'
    assert load_config(small).feeds[2].name == "Example Monitor"
    assert run(small, "remove", "example monitor").exit_code == 0
    assert len(load_config(small).feeds) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ftp://files.example.org/feed"], "cannot add 'ftp://files.example.org/feed': 'ftp://files.example.org/feed' is not an http(s) URL"),
        (["https://new.example.org/rss", "--theme", "sport"], "unknown theme 'sport' (configured: solidarity, arms-exports)"),
        (["https://new.example.org/rss", "--include", "(unclosed"], "bad regular expression '(unclosed'"),
        (["https://OFF.example.org/rss", "--no-check"], "https://OFF.example.org/rss is already listed (feed #2)"),
    ],
)  # fmt: skip
def test_add_rejects_bad_input_with_a_config_error(small, args, message):
    before = small.read_text(encoding="utf-8")
    result = run(small, "add", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert small.read_text(encoding="utf-8") == before


def test_list_shows_every_feed_numbered_in_80_columns(small):
    long_name = " ".join(["A publication whose name goes on and on"] * 3)
    long_url = "https://news.example.org/" + "section/" * 20 + "feed.xml"
    assert run(small, "add", long_url, "--no-check", "--name", long_name).exit_code == 0
    result = run(small, "list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["#", "name", "url"]
    assert lines[1].split() == ["1", "First", feeds_url(small, 1)]
    assert lines[2].split() == ["2", "off.example.org", "paused", "https://off.example.org/rss"]
    assert lines[3].startswith("3  A publication whose name") and "…" in lines[3]
    assert lines[4] == "3 feeds, 1 paused"
    assert max(len(line) for line in lines) <= 80
    wide = run(small, "list", "--long").output.splitlines()
    assert wide[0].split() == ["#", "on", "name", "themes", "filters", "url"]
    assert wide[1].split()[:4] == ["1", "yes", "First", "solidarity"]
    assert wide[3].endswith(long_url) and long_name in wide[3]
    document = json.loads(run(small, "list", "--json").output)
    assert {k: document[k] for k in ("schema", "command", "exit_code", "summary", "warnings")} == {
        "schema": 1, "command": "feeds list", "exit_code": 0, "summary": "3 feeds, 1 paused", "warnings": [],
    }  # fmt: skip
    assert [(r["number"], r["label"], r["enabled"]) for r in document["feeds"]] == [
        (1, "First", True), (2, "off.example.org", False), (3, long_name, True),
    ]  # fmt: skip


def feeds_url(config: Path, number: int) -> str:
    return load_config(config).feeds[number - 1].url


def test_pause_and_resume_by_number_or_name_keep_the_file_as_it_was(small):
    before = small.read_text(encoding="utf-8")
    result = run(small, "pause", "first")
    assert result.exit_code == 0
    assert result.output == "Paused feed #1 'First': not fetched until `digest feeds resume 1`.\n"
    removed, added = changes(before, small.read_text(encoding="utf-8"))
    assert (removed, added) == ([], ["    enabled: false"])
    assert [f.enabled for f in load_config(small).feeds] == [False, False]
    assert run(small, "pause", "1").output == "Feed #1 'First' is already paused.\n"
    assert run(small, "resume", "2").output == (
        "Resumed feed #2 'off.example.org': the next edition fetches it again.\n"
    )
    assert run(small, "resume", "1").exit_code == 0
    assert [f.enabled for f in load_config(small).feeds] == [True, True]
    removed, added = changes(before, small.read_text(encoding="utf-8"))
    assert (removed, added) == (["    enabled: false"], ["    enabled: true", "    enabled: true"])
    assert run(small, "pause", "9").exit_code == 2  # no feed #9: a mistake in the command line


def test_config_errors_number_feeds_from_one(small):
    text = small.read_text(encoding="utf-8").replace("    enabled: false\n", "    include: ['(']\n")
    small.write_text(text, encoding="utf-8")
    result = run(small, "list")
    assert result.exit_code == 2
    assert "feed #2 include: bad regular expression '('" in result.output
    assert "feeds.1" not in result.output


@pytest.mark.parametrize("selector", ["1", "first", "FIRST"])
def test_remove_by_number_or_name_keeps_other_comments(small, selector):
    before = small.read_text(encoding="utf-8")
    result = run(small, "remove", selector)
    assert result.exit_code == 0
    removed, added = changes(before, small.read_text(encoding="utf-8"))
    assert removed[1:] == ["    name: First", "    themes: [solidarity]"]
    assert added == []
    assert [f.url for f in load_config(small).feeds] == ["https://off.example.org/rss"]


def test_removing_the_last_feed_leaves_an_empty_list(small):
    assert run(small, "remove", "https://off.example.org/rss").exit_code == 0
    assert run(small, "remove", "1").exit_code == 0
    assert load_config(small).feeds == []
    assert "feeds: []" in small.read_text(encoding="utf-8")


def test_remove_unknown_feed_is_an_error(small):
    result = run(small, "remove", "7")
    assert result.exit_code == 2  # a mistake in the command line
    assert "there is no feed #7" in result.output
    for command in ("pause", "resume", "remove"):
        named = run(small, command, "no-such-feed")
        assert named.exit_code == 2
        assert named.stderr == "digest: no feed with URL or name 'no-such-feed' (see `digest feeds list`)\n"


def test_check_reports_each_enabled_feed_as_json(small, feed_server):
    broken = feed_server.route("/broken", Route(b"", 500, "text/plain"))
    assert run(small, "add", broken, "--no-check").exit_code == 0
    result = run(small, "check", "--json")
    assert result.exit_code == 3
    document = json.loads(result.stdout)
    assert (document["command"], document["exit_code"]) == ("feeds check", 3)
    assert document["summary"] == "1 of 2 feeds answered, 4 new entries; failed: #3 127.0.0.1"
    assert document["warnings"] == ["feed #3 127.0.0.1: HTTP 500 Internal Server Error"]
    first, failing = document["feeds"]
    assert {k: first[k] for k in ("number", "name", "status", "failing", "entries", "new_entries")} == {
        "number": 1,
        "name": "First",
        "status": "ok",
        "failing": False,
        "entries": 4,
        "new_entries": 4,
    }
    assert first["last_success"] is not None and first["consecutive_failures"] == 0
    assert {k: failing[k] for k in ("number", "status", "failing", "consecutive_failures", "message")} == {
        "number": 3,
        "status": "error",
        "failing": True,
        "consecutive_failures": 1,
        "message": "HTTP 500 Internal Server Error",
    }
    assert failing["last_success"] is None
    assert (small.parent / "state" / "digest.sqlite").exists()


def test_check_table_and_conditional_second_check(small, feed_server):
    feed_server.routes["/first.rss"] = lambda request: Route(fixture("news.rss"), etag='"1"')
    first = run(small, "check")
    assert first.exit_code == 0
    assert first.output.splitlines()[0].split() == [
        "#", "feed", "status", "entries", "new", "last", "ok", "(UTC)", "fails",
    ]  # fmt: skip
    row = first.output.splitlines()[1]
    assert row.split()[:5] == ["1", "First", "ok", "4", "4"]
    assert re.search(r" \d{4}-\d\d-\d\d \d\d:\d\d +0$", row)
    assert first.output.splitlines()[2] == "1 of 1 feeds answered, 4 new entries"
    second = run(small, "check")
    assert second.output.splitlines()[1].split()[:5] == ["1", "First", "not-modified", "4", "0"]
    assert feed_server.requests_to("/first.rss")[1].headers["if-none-match"] == '"1"'


def test_check_fits_80_columns_with_a_long_name_and_message_below_its_feed(small, feed_server):
    long_name = "The Extraordinarily Long-Winded Gazette of Everything Happening Everywhere"
    broken = feed_server.route("/" + "very-long-path/" * 12 + "feed.xml", Route(b"", 500, "text/plain"))
    assert run(small, "add", broken, "--no-check", "--name", long_name).exit_code == 0
    result = run(small, "check")
    assert result.exit_code == 3
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)
    failing = next(line for line in lines if line.startswith("3  "))
    assert "The Extraordinarily" in failing and "…" in failing and failing.split()[-1] == "1"
    message = lines[lines.index(failing) + 1]
    assert message.strip() == "HTTP 500 Internal Server Error"
    document = json.loads(run(small, "check", "--json").stdout)
    assert document["feeds"][1]["name"] == long_name and document["feeds"][1]["url"] == broken


def test_check_where_every_feed_fails_exits_1_and_names_them(small, feed_server):
    feed_server.route("/first.rss", Route(b"", 503, "text/plain"))
    result = run(small, "check")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "0 of 1 feeds answered, 0 new entries; failed: #1 First"


def test_a_feed_added_unchecked_is_named_by_its_title_once_fetched(small, feed_server, tmp_path):
    url = feed_server.route("/news.rss", Route(fixture("news.rss")))
    assert run(small, "add", url, "--no-check").exit_code == 0
    assert run(small, "check").exit_code == 0
    listed = json.loads(run(small, "list", "--json").output)["feeds"][2]
    assert (listed["name"], listed["label"]) == (None, "Example Monitor")
    out = tmp_path / "out.opml"
    run(small, "export", str(out))
    assert [o.get("title") for o in etree.fromstring(out.read_bytes()).findall("body/outline")] == [
        "First", "Example Monitor",
    ]  # fmt: skip
    assert run(small, "pause", "Example Monitor").exit_code == 0
    assert run(small, "remove", "monitor").output.startswith("Removed feed #3")


def test_import_adds_new_feeds_with_theme_hints_from_folders(small, tmp_path, feed_server):
    first = feed_server.url("/first.rss")
    opml = tmp_path / "subscriptions.opml"
    opml.write_text(
        f"""<?xml version="1.0"?>
<opml version="1.0"><head><title>My reader</title></head><body>
  <outline text="Solidarity">
    <outline type="rss" text="Union News" xmlUrl="https://union.example.org/feed"/>
    <outline type="rss" text="Already here" xmlUrl="{first}"/>
  </outline>
  <outline text="Other" title="Other">
    <outline text="Weapons desk" xmlurl="https://arms.example.org/rss" category="/arms-exports,misc"/>
    <outline text="Not http" xmlUrl="javascript:alert(1)"/>
  </outline>
</body></opml>""",
        encoding="utf-8",
    )
    result = run(small, "import", str(opml))
    assert result.exit_code == 0
    assert result.stdout == f"Imported 2 feeds into {small} (1 already listed).\n"
    assert result.stderr == "skipped javascript:alert(1): not an http(s) URL\n"
    added = load_config(small).feeds[2:]
    assert [(f.url, f.name, f.themes) for f in added] == [
        ("https://union.example.org/feed", "Union News", ["solidarity"]),
        ("https://arms.example.org/rss", "Weapons desk", ["arms-exports"]),
    ]


def test_export_then_import_round_trips(small, tmp_path):
    out = tmp_path / "out.opml"
    assert run(small, "export", str(out), "--all").output == f"Wrote 2 feeds to {out}\n"
    root = etree.fromstring(out.read_bytes())
    outlines = root.findall("body/outline")
    assert [(o.get("text"), o.get("category")) for o in outlines] == [
        ("First", "solidarity"),
        ("https://off.example.org/rss", None),
    ]
    assert run(small, "export").stdout.count("<outline") == 1
    fresh = tmp_path / "fresh.yaml"
    fresh.write_text(SMALL.format(first="https://placeholder.example/rss"), encoding="utf-8")
    run(fresh, "remove", "1")
    run(fresh, "remove", "1")
    assert run(fresh, "import", str(out)).exit_code == 0
    assert [(f.url, f.name, f.themes) for f in load_config(fresh).feeds] == [
        (f.url, f.name, f.themes) for f in load_config(small).feeds
    ]


def test_bundled_config_lists_real_feeds_switched_off():
    config = load_config(BUNDLED)
    assert len(config.feeds) >= 10
    assert not any(feed.enabled for feed in config.feeds)
    assert {theme for feed in config.feeds for theme in feed.themes} == {
        "arms-exports",
        "settler-violence",
        "solidarity",
    }


def test_a_config_written_as_json_is_not_edited_and_says_why(tmp_path):
    """JSON is YAML, but all on flow lines: the feeds commands edit block-style lines, so they refuse it plainly
    (before, the edit was made and refused as 'not valid YAML: expected the node content, but found -')."""
    from smtpserver import delivery_config

    delivery_config(tmp_path, recipients=["ann@example.org"], feeds=["https://news.example.org/rss"])
    path = tmp_path / "schedule.yaml"
    before = path.read_text(encoding="utf-8")
    assert before.startswith("{")
    for command, args in (("add", ("https://other.example.org/rss", "--no-check")), ("pause", ("1",)), ("remove", ("1",))):
        result = run(path, command, *args)
        assert result.exit_code == 2
        assert result.stderr == (
            "digest: schedule.yaml:1: written as one flow mapping ({...}, as JSON is): `digest feeds` edits only "
            "block-style YAML; edit its feeds: list by hand\n"
        ), command
    assert path.read_text(encoding="utf-8") == before

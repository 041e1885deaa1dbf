"""Output for people and scripts: one summary line, --quiet, --verbose, --json and exit codes."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner
from feedserver import FeedServer, Route
from ruamel.yaml import YAML
from smtpserver import delivery_config

from digest.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-23T07:00:00+00:00"
DIGEST = str(Path(sys.executable).with_name("digest"))
SHARED_KEYS = {"schema", "command", "exit_code", "summary", "warnings"}


@pytest.fixture
def project(tmp_path) -> Path:
    shutil.copy(ROOT / "schedule.yaml", tmp_path / "schedule.yaml")
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    return tmp_path


def digest(*args: str):
    return CliRunner().invoke(main, list(args))


def test_build_prints_one_summary_line_in_words_and_no_internal_ids(project):
    result = digest("build", "--config", str(project / "schedule.yaml"), "--out", str(project / "edition"), "--now", NOW)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "7 stories from 3 seed documents; 61 lines of page furniture dropped; "
        f"draft written to {project / 'edition'}/ (nothing sent or archived yet)\n"
    )
    assert result.stderr == ""
    assert "weekly-2026" not in result.output and "items dropped" not in result.output


def test_quiet_and_verbose(project):
    config = str(project / "schedule.yaml")
    quiet = digest("--quiet", "build", "--config", config, "--out", str(project / "q"), "--now", NOW)
    assert quiet.exit_code == 0 and len(quiet.stdout.splitlines()) == 1 and quiet.stderr == ""
    loud = digest("-v", "build", "--config", config, "--out", str(project / "v"), "--now", NOW)
    assert loud.exit_code == 0
    assert sorted(Path(line.removeprefix("wrote ")).suffix for line in loud.stderr.splitlines()) == [
        ".eml", ".html", ".html", ".json", ".txt",
    ]  # fmt: skip
    assert loud.stdout == quiet.stdout.replace(f"{project / 'q'}/", f"{project / 'v'}/")
    both = digest("-q", "-v", "validate", "--config", config)
    assert both.exit_code == 2 and "--quiet and --verbose contradict each other" in both.stderr


def test_build_json_follows_the_shared_convention(project):
    result = digest(
        "build", "--config", str(project / "schedule.yaml"), "--out", str(project / "e"), "--now", NOW,
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert SHARED_KEYS | {"edition", "files", "draft", "sources", "pages", "dropped"} == set(document)
    assert document["pages"] == {"fetched": 0, "reused": 0, "refused": 0}
    assert (document["schema"], document["command"], document["exit_code"], document["warnings"]) == (
        1, "build", 0, [],
    )  # fmt: skip
    assert document["summary"].startswith("7 stories from 3 seed documents; 61 lines of page furniture dropped")
    assert document["edition"] == {
        "name": "weekly", "title": "The Weekly Digest", "date": NOW, "stories": 7,
    }  # fmt: skip
    assert document["draft"] is True
    assert document["sources"] == {"seed_documents": 3, "feeds": []}
    assert document["dropped"] == {"furniture_lines": 61, "repeats": 0, "other": 0}
    assert all(Path(name).exists() for name in document["files"]) and len(document["files"]) == 5


def test_send_json_and_a_dry_run_says_what_it_wrote(tmp_path):
    delivery_config(tmp_path, recipients=["ann@example.org", "bob@example.net"])
    result = digest("send", "--config", str(tmp_path / "schedule.yaml"), "--dry-run", "--now", NOW, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert SHARED_KEYS | {"kind", "sent", "transport", "counts", "interrupted", "pending", "retry_at",
                          "give_up_at"} == set(document)
    assert (document["pending"], document["retry_at"], document["give_up_at"]) == (0, None, None)
    assert document["summary"].startswith("The Weekly Digest of 23 November 2026: dry run, 2 messages written to ")
    assert document["summary"].endswith("; nobody was mailed")
    assert (document["kind"], document["counts"]["sent"], document["interrupted"]) == ("dry-run", 2, False)
    assert "~" not in result.output


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["build", "--per-theme", "0"], 2),  # usage: a bad option value
        (["nonsense"], 2),  # usage: no such command
        (["build", "--edition", "monthly"], 2),  # config: no such edition
        (["feeds", "remove", "99"], 2),  # usage: no such feed, as no such edition
    ],
)
def test_exit_codes(project, args, code):
    result = digest(*args[:2], "--config", str(project / "schedule.yaml"), *args[2:]) if len(args) > 1 else digest(*args)
    assert result.exit_code == code, result.output


def test_a_config_mistake_exits_2(project):
    (project / "schedule.yaml").write_text("themes: {}\n", encoding="utf-8")
    result = digest("build", "--config", str(project / "schedule.yaml"))
    assert result.exit_code == 2
    assert result.stderr.startswith("digest: error\n") or result.stderr.startswith("digest: schedule.yaml:")


def test_run_once_sends_what_is_due_then_exits_and_never_twice(tmp_path):
    delivery_config(tmp_path, recipients=["ann@example.org", "bob@example.net"])
    config = str(tmp_path / "schedule.yaml")
    first = digest("run", "--config", config, "--once", "--now", "2026-11-23T06:50:00+00:00")
    assert (first.exit_code, first.stdout) == (0, "nothing due now\n")  # a new store starts from its first run
    due = digest("run", "--config", config, "--once", "--now", "2026-11-23T07:10:00+00:00")
    assert due.exit_code == 0, due.output
    assert due.stdout == "weekly due 2026-11-23 07:00 GMT: sent\n"
    assert len(list((tmp_path / "outbox").rglob("*.eml"))) == 2
    again = digest("run", "--config", config, "--once", "--now", "2026-11-23T07:40:00+00:00", "--json")
    document = json.loads(again.stdout)
    assert (again.exit_code, document["command"], document["summary"], document["runs"]) == (
        0, "run", "nothing due now", [],
    )  # fmt: skip
    late = digest("run", "--config", config, "--once", "--now", "2026-11-30T12:00:00+00:00", "--json")
    (run,) = json.loads(late.stdout)["runs"]
    assert (late.exit_code, run["edition"], run["status"]) == (0, "weekly", "skipped-late")
    assert len(list((tmp_path / "outbox").rglob("*.eml"))) == 2
    assert digest("run", "--config", config, "--json").exit_code == 2  # --json goes with --once


def test_shell_completion_is_click_s_and_knows_the_commands(tmp_path):
    env = {**os.environ, "_DIGEST_COMPLETE": "bash_source"}
    script = subprocess.run([DIGEST], env=env, capture_output=True, text=True, timeout=60)
    assert script.returncode == 0 and "_digest_completion()" in script.stdout
    env = {**os.environ, "_DIGEST_COMPLETE": "bash_complete", "COMP_WORDS": "digest fe", "COMP_CWORD": "1"}
    words = subprocess.run([DIGEST], env=env, capture_output=True, text=True, timeout=60).stdout.split()
    assert words == ["plain,feeds"]
    env.update(COMP_WORDS="digest feeds pa", COMP_CWORD="2")
    words = subprocess.run([DIGEST], env=env, capture_output=True, text=True, timeout=60).stdout.split()
    assert words == ["plain,pause"]


def _json_commands() -> set[str]:
    """Every command of the `digest` tree that takes --json."""
    import click

    ctx = click.Context(main)
    found: set[str] = set()

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), (*path, name))
        elif any(isinstance(p, click.Option) and "--json" in p.opts for p in command.params):
            found.add(" ".join(path))

    walk(main, ())
    return found


JSON_COMMANDS = {
    "bounces": ["--maildir", "{tmp}/bounces"],
    "build": ["--out", "{tmp}/edition", "--now", NOW],
    "editions": [],
    "feeds add": ["{feed}/other.rss"],
    "feeds check": [],
    "feeds list": [],
    "read": ["{feed}/page.html"],
    "run": ["--once", "--now", "2026-11-23T07:10:00+00:00"],
    "send": ["--dry-run", "--now", NOW],
    "subscribers add": ["dana@example.com"],
    "subscribers import": ["{tmp}/readers.csv"],
    "subscribers list": [],
    "subscribers remove": ["ann@example.org"],
    "suppressions list": [],
    "suppressions remove": ["nobody@example.org"],
}


def test_every_json_command_is_in_the_shared_keys_test():
    assert set(JSON_COMMANDS) == _json_commands()


@pytest.mark.parametrize("command", sorted(JSON_COMMANDS))
def test_every_json_command_prints_the_shared_keys(command, tmp_path, feed_server):
    from feedserver import Route, fixture

    feed = feed_server.url("")
    feed_server.route("/news.rss", Route(fixture("news.rss")))
    feed_server.route("/other.rss", Route(fixture("atom.xml"), content_type="application/atom+xml"))
    feed_server.route("/page.html", Route(fixture("page.html"), content_type="text/html"))
    delivery_config(tmp_path, recipients=["ann@example.org"], feeds=[f"{feed}/news.rss"])
    config = tmp_path / "schedule.yaml"
    YAML().dump(json.loads(config.read_text(encoding="utf-8")), config)  # block YAML, as people write it
    for folder in ("cur", "new", "tmp"):
        (tmp_path / "bounces" / folder).mkdir(parents=True)
    (tmp_path / "readers.csv").write_text("email\neve@example.com\n", encoding="utf-8")
    args = [arg.format(tmp=tmp_path, feed=feed) for arg in JSON_COMMANDS[command]]
    result = digest(*command.split(), "--config", str(tmp_path / "schedule.yaml"), *args, "--json")
    assert result.stdout.startswith("{"), result.output
    document = json.loads(result.stdout)
    assert set(document) >= SHARED_KEYS, result.output
    assert (document["schema"], document["command"], document["exit_code"]) == (1, command, result.exit_code)
    assert isinstance(document["summary"], str) and document["summary"]
    assert isinstance(document["warnings"], list)
    assert len(set(document) - SHARED_KEYS) >= 1  # the command's own payload beside the shared keys


def test_editions_fit_80_columns_and_json_keeps_every_value_whole(project):
    config = project / "schedule.yaml"
    long_name = "the-extraordinarily-long-weekly-edition-of-news"
    config.write_text(config.read_text(encoding="utf-8").replace("\n  weekly:\n", f"\n  {long_name}:\n"), encoding="utf-8")
    for now in ("2026-11-16T07:00:00+00:00", NOW):
        built = digest("build", "--config", str(config), "--out", str(project / now[:10]), "--now", now)
        assert built.exit_code == 0, built.output
    listed = digest("editions", "--config", str(config))
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, listed.stdout
    assert lines[0].startswith(f"{long_name}-2026") and "…" in lines[0]
    assert lines[1] == "  window the start → 2026-11-16 07:00 UTC"
    assert lines[3] == "  window the start → 2026-11-23 07:00 UTC"  # drafts: each starts where the last published ended
    assert lines[-1] == "2 editions: 2 drafts"
    document = json.loads(digest("editions", "--config", str(config), "--json").stdout)
    assert [e["id"] for e in document["editions"]] == [
        f"{long_name}-20261116T0700+0000", f"{long_name}-20261123T0700+0000",
    ]  # fmt: skip


def test_an_edition_window_names_its_year_once():
    from digest.cli.editions import _window_label

    assert _window_label({"start": "2026-11-16T07:00:00+00:00", "end": "2026-11-23T07:00:00+00:00"}) == (
        "2026-11-16 07:00 → 11-23 07:00 UTC"
    )
    assert _window_label({"start": "2026-12-28T07:00:00+00:00", "end": "2027-01-04T07:00:00+00:00"}) == (
        "2026-12-28 07:00 → 2027-01-04 07:00 UTC"
    )


def test_the_repository_guard_sees_a_store_left_in_the_top_folder(tmp_path):
    from repo_guard import entries, written

    (tmp_path / "seeds").mkdir()
    before = entries(tmp_path)
    (tmp_path / "digest.sqlite").write_bytes(b"")
    (tmp_path / "digest.sqlite.identity.json").write_text("{}", encoding="utf-8")
    (tmp_path / "seeds" / "__pycache__").mkdir()
    assert written(before, tmp_path) == ["digest.sqlite", "digest.sqlite.identity.json"]


def test_digest_run_in_the_repository_with_its_own_config_would_be_caught(monkeypatch, tmp_path):
    """The bundled schedule.yaml keeps its store beside it: run there, a build leaves digest.sqlite."""
    from repo_guard import REPO, entries, written

    shutil.copy(REPO / "schedule.yaml", tmp_path / "schedule.yaml")
    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    before = entries(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert digest("build", "--now", NOW).exit_code == 0
    assert {"digest.sqlite", "digest.sqlite.identity.json", "edition"} <= set(written(before, tmp_path))


@pytest.mark.parametrize(
    ("args", "code", "line"),
    [
        # a store whose folder cannot be made: one line naming it and the key, not a traceback
        (["build", "--config", "{tmp}/store-in-a-file.yaml"], 2,
         "digest: {tmp}/afile/digest.sqlite: the store's folder {tmp}/afile is a file; check `store:` in the config"),
        # --out naming a device (click's own check catches a plain file)
        (["build", "--config", "{tmp}/schedule.yaml", "--out", "/dev/null"], 1,
         "digest: /dev/null: is a file, not a folder: give --out a folder to write the edition in"),
        # any file digest cannot write: the file and why
        (["feeds", "export", "--config", "{tmp}/schedule.yaml", "{tmp}/afile/feeds.opml"], 1,
         "digest: {tmp}/afile/feeds.opml: Not a directory"),
        # a mistyped --to is a usage error, found before anything is built
        (["send", "--config", "{tmp}/schedule.yaml", "--to", "reader.example.org"], 2,
         "Error: Invalid value for '--to': 'reader.example.org' is not a valid address: "
         "An email address must have an @-sign."),
        # a malformed address for `digest read`: refused before anything is fetched, saying what is wrong
        (["read", "http://example.org/a page"], 2,
         "Error: Invalid value for URL: 'http://example.org/a page' has a space in it (write a space in a URL as %20)"),
        (["read", "https://example.org:80800/page"], 2,
         "Error: Invalid value for URL: 'https://example.org:80800/page' is not a valid URL: Port out of range 0-65535"),
        (["read", "http://[2001:db8::1/page"], 2,
         "Error: Invalid value for URL: 'http://[2001:db8::1/page' is not a valid URL: Invalid IPv6 URL"),
        # not an OPML file: the file and lxml's reason, without lxml's '(<string>, line 1)'
        (["feeds", "import", "--config", "{tmp}/schedule.yaml", "{tmp}/schedule.yaml"], 1,
         "digest: schedule.yaml: not valid XML: Start tag expected, '<' not found, line 1, column 1"),
    ],
)
def test_wrong_input_is_one_clear_line(project, args, code, line):
    (project / "afile").write_text("a file, not a folder\n", encoding="utf-8")
    config = (project / "schedule.yaml").read_text(encoding="utf-8")
    (project / "store-in-a-file.yaml").write_text(
        re.sub(r"(?m)^store: .*$", f"store: {project}/afile/digest.sqlite", config), encoding="utf-8"
    )
    result = digest(*[arg.format(tmp=project) for arg in args])
    assert result.exit_code == code, result.output
    assert result.stderr.splitlines()[-1] == line.format(tmp=project)
    assert "Traceback" not in result.output and not isinstance(result.exception, OSError)
    assert result.stdout == ""


def test_digest_read_names_each_fetch_failure_in_one_specific_line(project):
    """A closed port is a refused connection (host and port named), not a robots.txt refusal; robots.txt is
    named only where it refused: its rules (a Disallow) or a robots.txt the server failed to give."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    config = project / "schedule.yaml"
    with config.open("a", encoding="utf-8") as out:
        out.write("fetch: {read_timeout: 0.3, retries: 0, per_host_delay: 0}\n")
    with closing(FeedServer()) as pages, closing(FeedServer()) as private, closing(FeedServer()) as failing:
        pages.route("/image", Route(b"\x89PNG....", content_type="image/png"))
        pages.route("/slow", Route(b"<html></html>", content_type="text/html", delay=2))
        private.route("/robots.txt", Route(b"User-agent: *\nDisallow: /\n", content_type="text/plain"))
        failing.route("/robots.txt", Route(b"down", status=500, content_type="text/plain"))
        urls = [
            f"http://127.0.0.1:{closed_port}/story", pages.url("/gone"), pages.url("/image"), pages.url("/slow"),
            private.url("/story"), failing.url("/story"),
        ]
        result = digest("read", *urls, "--config", str(config))
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[1::3] == [
        f"  not read: unreachable (127.0.0.1 port {closed_port} refused the connection)",
        "  not read: no such page (HTTP 404 Not Found)",
        "  not read: not a web page (content type image/png)",
        "  not read: timed out (no data for 0.3s)",
        "  not read: robots.txt disallows the path",
        "  not read: robots.txt disallows the path (its robots.txt could not be read, which counts as "
        "disallowing all: HTTP 500 Internal Server Error)",
    ]
    assert result.stdout.splitlines()[-1] == "0 of 6 pages read"


@pytest.mark.parametrize(
    ("meta", "lines"),
    [
        ("published: notadate\nbogus: 1\n", [
            "{seed}:1: published: Input should be a valid date or datetime, input is too short",
            "{seed}:2: bogus: unknown key (check its spelling and indentation)",
        ]),
        ("title: [\n", ["digest: {seed}:2: not valid YAML: expected the node content, but found '<stream end>'"]),
        ("- a list\n", ["digest: {seed}:1: seed metadata must be a mapping of keys (publisher:, title:, …)"]),
    ],
)
def test_a_mistake_in_a_seed_s_metadata_names_its_file_line_and_key(project, meta, lines):
    seed = project / "seeds" / "000_efe03dbf887b4d4a.meta.yaml"
    seed.write_text(meta, encoding="utf-8")
    result = digest("build", "--config", str(project / "schedule.yaml"), "--out", str(project / "e"), "--now", NOW)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-len(lines):] == [line.format(seed=seed) for line in lines]
    assert "pydantic" not in result.stderr and "Traceback" not in result.stderr


def test_serve_on_a_port_in_use_is_one_line_and_exit_1(tmp_path):
    delivery_config(tmp_path, recipients=[])
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = digest("serve", "--config", str(tmp_path / "schedule.yaml"), "--port", str(port))
    assert result.exit_code == 1
    assert result.stderr == f"digest: cannot listen on 127.0.0.1:{port}: Address already in use\n"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[::1/feed", "is not a valid URL: Invalid IPv6 URL"),
        ("http://example.org:99999/feed", "is not a valid URL: Port out of range 0-65535"),
        ("http://exa mple.org/feed", "has a space in it (write a space in a URL as %20)"),
    ],
)
def test_a_malformed_feed_url_is_refused_in_one_line_by_feeds_add_and_by_validate(project, url, reason):
    config = project / "schedule.yaml"
    before = config.read_text(encoding="utf-8")
    added = digest("feeds", "add", "--config", str(config), url, "--no-check")
    assert added.exit_code == 2 and added.stderr == f"digest: cannot add {url!r}: {url!r} {reason}\n"
    assert config.read_text(encoding="utf-8") == before
    config.write_text(before.replace("feeds:\n", f"feeds:\n  - url: '{url}'\n", 1), encoding="utf-8")
    line = config.read_text(encoding="utf-8").splitlines().index(f"  - url: '{url}'") + 1
    checked = digest("validate", "--config", str(config))
    assert checked.exit_code == 2 and f"schedule.yaml:{line}: feed #1 url: {url!r} {reason}" in checked.stderr

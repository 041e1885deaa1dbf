"""Progress on a terminal, none in a pipe: `digest feeds check` in a real process under a pseudo-terminal,
against a local HTTP server with one slow feed."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from feedserver import Route, fixture

DIGEST = str(Path(sys.executable).with_name("digest"))

CONFIG = """\
feeds:
  - url: {fast}
    name: Fast Monitor
  - url: {slow}
    name: Slow Gazette
fetch:
  connect_timeout: 5
  read_timeout: 20
  total_timeout: 20
  retries: 0
  per_host_delay: 0
  slow_after: 0.5
sources:
  seeds: null
store: digest.sqlite
themes:
  solidarity:
    title: Solidarity
    description: Acts of support.
    signals:
      keywords: {{solidarity: 1}}
editions:
  weekly:
    title: The Weekly Digest
    themes: [solidarity]
"""


def project(tmp_path: Path, feed_server) -> Path:
    fast = feed_server.route("/fast.rss", Route(fixture("news.rss")))
    slow = feed_server.route("/slow.rss", Route(fixture("atom.xml"), content_type="application/atom+xml", delay=2.5))
    path = tmp_path / "schedule.yaml"
    path.write_text(CONFIG.format(fast=fast, slow=slow), encoding="utf-8")
    return path


def run_in_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run a command with a pseudo-terminal as its stdin, stdout and stderr; everything it drew, and its status."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "LINES": "40", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(args, stdin=follower, stdout=follower, stderr=follower, cwd=cwd, env=env)
    os.close(follower)
    drawn = bytearray()
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end closed with the process
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(leader)
    return process.wait(timeout=60), drawn.decode("utf-8", "replace")


def test_a_terminal_sees_the_bar_and_the_slow_feed_named_while_it_is_slow(tmp_path, feed_server):
    config = project(tmp_path, feed_server)
    status, drawn = run_in_terminal([DIGEST, "feeds", "check", "--config", str(config)], tmp_path)
    assert status == 0, drawn
    assert "Fetching feeds" in drawn
    assert "1/2" in drawn  # the fast feed done, the slow one still out
    assert "waiting" in drawn and "for Slow Gazette" in drawn
    assert "2 of 2 feeds answered, 6 new entries" in drawn


def test_quiet_on_a_terminal_and_any_pipe_show_no_progress(tmp_path, feed_server):
    config = project(tmp_path, feed_server)
    status, drawn = run_in_terminal([DIGEST, "--quiet", "feeds", "check", "--config", str(config)], tmp_path)
    assert status == 0 and "Fetching feeds" not in drawn and "waiting" not in drawn
    piped = subprocess.run(
        [DIGEST, "feeds", "check", "--config", str(config)], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""
    assert "\x1b[" not in piped.stdout and "Fetching feeds" not in piped.stdout
    assert piped.stdout.splitlines()[-1] == "2 of 2 feeds answered, 0 new entries"


def test_digest_read_shows_the_pages_it_waits_for_on_a_terminal_and_nothing_in_a_pipe(tmp_path, feed_server):
    config = project(tmp_path, feed_server)
    page = feed_server.route("/slow-page", Route(fixture("page.html"), content_type="text/html", delay=2.5))
    status, drawn = run_in_terminal([DIGEST, "read", page, "--config", str(config)], tmp_path)
    assert status == 1, drawn  # the page is no article: read, and refused as such
    assert "Reading pages" in drawn and "0/1" in drawn
    assert "waiting" in drawn and "for 127.0.0.1" in drawn
    assert "not read: not an article" in drawn
    piped = subprocess.run(
        [DIGEST, "read", page, "--config", str(config)], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert piped.returncode == 1
    assert "Reading pages" not in piped.stdout + piped.stderr and "\x1b[" not in piped.stdout + piped.stderr

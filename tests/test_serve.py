"""The issue's acceptance, as a user runs it: `digest send` to two readers over SMTP (aiosmtpd),
`digest serve` in its own process, one reader leaves in one click, a new feed story, the next
send reaches only the other."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import closing
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from click.testing import CliRunner
from feedserver import Route, fixture
from smtpserver import SmtpServer, delivery_config, free_port

from digest.cli.delivery import send
from digest.delivery import ledger, suppressions
from digest.store import connect

READERS = ["ann@example.org", "bob@example.net"]


@pytest.fixture
def smtp():
    with SmtpServer() as running:
        yield running


def start_serve(config_path, port: int) -> subprocess.Popen:
    """`digest serve` in its own process, once it answers; its output goes to serve.log beside the config."""
    log = config_path.parent / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "digest.cli.main", "serve", "--config", str(config_path), "--port", str(port)],
            stdout=output, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except httpx.TransportError:
            if process.poll() is not None:
                raise AssertionError(log.read_text(encoding="utf-8")) from None
            time.sleep(0.1)
    process.kill()
    raise AssertionError("digest serve did not start")


def sent_to(smtp, since: int) -> dict[str, str]:
    """Reader -> List-Unsubscribe URL of every message received after the first ``since``."""
    return {m.recipients[0]: str(m.headers["List-Unsubscribe"]).strip("<>") for m in smtp.messages[since:]}


def test_one_click_unsubscribe_then_the_next_send_reaches_only_the_reader_who_stayed(tmp_path, smtp, feed_server):
    feed = feed_server.route("/news.rss", Route(fixture("news.rss")))
    port = free_port()
    config = delivery_config(
        tmp_path, recipients=READERS, port=smtp.port, feeds=[feed],
        delivery={"base_url": f"http://127.0.0.1:{port}"},
    )
    config_path = tmp_path / "schedule.yaml"
    first = CliRunner().invoke(send, ["--config", str(config_path), "--now", "2026-11-23T07:00:00+00:00"])
    assert first.exit_code == 0, first.output
    links = sent_to(smtp, 0)
    assert set(links) == set(READERS)
    assert all(link.startswith(f"http://127.0.0.1:{port}/unsubscribe?") for link in links.values())

    server = start_serve(config_path, port)
    try:
        left = httpx.post(links["ann@example.org"], data={"List-Unsubscribe": "One-Click"})
        assert left.is_success, left.text
        looked = httpx.get(links["bob@example.net"])
        assert looked.is_success and "Unsubscribe" in looked.text
        parts = urlsplit(links["bob@example.net"])
        forged = parts._replace(query=urlencode(dict(parse_qsl(parts.query)) | {"address": "carol@example.com"},
                                                safe="@")).geturl()
        refused = httpx.post(forged, data={"List-Unsubscribe": "One-Click"})
        assert refused.is_client_error
    finally:
        server.terminate()
        server.wait(timeout=10)
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        assert [s.address for s in suppressions.suppressions(conn)] == ["ann@example.org"]

    feed_server.route("/news.rss", Route(fixture("news-updated.rss")))
    before = len(smtp.messages)
    second = CliRunner().invoke(send, ["--config", str(config_path), "--now", "2026-11-30T07:00:00+00:00"])
    assert second.exit_code == 0, second.output
    assert "sent to 1 of 2 readers via SMTP" in second.stdout and "; 1 unsubscribed, skipped" in second.stdout
    assert list(sent_to(smtp, before)) == ["bob@example.net"]
    body = smtp.messages[-1].content.decode("utf-8", "replace")
    assert "Students hold a vigil" in body.replace("=\r\n", "")

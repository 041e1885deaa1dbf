"""`digest bounces --maildir`: real RFC 3464 notices about messages the ledger sent, in a real Maildir."""

from __future__ import annotations

import json
import mailbox
from contextlib import closing
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from click.testing import CliRunner
from imapserver import ImapServer
from smtpserver import delivery_config

from digest.cli.main import main
from digest.delivery import bounces, ledger, suppressions
from digest.store import connect

READERS = ["ann@example.org", "bob@example.net", "carol@example.com", "dan@example.com"]
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def dsn(number: int, recipient: str, *, action: str, status: str, original: str | None, when: datetime) -> bytes:
    returned = (
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: digest@example.org\r\nTo: {recipient}\r\nMessage-ID: {original}\r\nSubject: The Weekly Digest\r\n\r\n"
        if original else ""
    )
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        "To: digest@example.org\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {format_datetime(when)}\r\n"
        f"Message-ID: <dsn-{number}@mx.example.net>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; {status[0]}50 {status} see status\r\n\r\n"
        f"{returned}--B--\r\n"
    ).encode("ascii")


def send(tmp_path, now: str) -> None:
    result = CliRunner().invoke(main, ["send", "--config", str(tmp_path / "schedule.yaml"), "--now", now, "--force"])
    assert result.exit_code == 0, result.output


def message_ids(config, edition_id: str) -> dict[str, str]:
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        return {row.recipient: row.message_id for row in ledger.deliveries(conn, edition_id)}


def run_bounces(tmp_path, *args):
    return CliRunner().invoke(
        main, ["bounces", "--config", str(tmp_path / "schedule.yaml"), *args], catch_exceptions=False
    )


@pytest.fixture
def sent(tmp_path):
    config = delivery_config(tmp_path, recipients=READERS)
    config_text = (tmp_path / "schedule.yaml").read_text(encoding="utf-8")
    data = json.loads(config_text)
    data["bounces"] = {"soft_limit": 2, "soft_reset": "30d"}
    (tmp_path / "schedule.yaml").write_text(json.dumps(data), encoding="utf-8")
    send(tmp_path, "2026-11-23T07:00:00+00:00")
    send(tmp_path, "2026-11-30T07:00:00+00:00")
    first = message_ids(config, "weekly-20261123T0700+0000")
    second = message_ids(config, "weekly-20261130T0700+0000")
    return config, first, second


def test_hard_bounces_suppress_at_once_soft_ones_after_a_row(tmp_path, sent):
    config, first, second = sent
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    notices = [
        dsn(1, "ann@example.org", action="failed", status="5.1.1", original=first["ann@example.org"], when=T0),
        # bob: two notices about the same message (delayed, then given up on a full mailbox) count once ...
        dsn(2, "bob@example.net", action="delayed", status="4.2.2", original=first["bob@example.net"], when=T0),
        dsn(3, "bob@example.net", action="failed", status="4.2.2", original=first["bob@example.net"],
            when=T0 + timedelta(days=2)),
        # carol: two soft bounces too far apart are not a row
        dsn(4, "carol@example.com", action="delayed", status="4.4.1", original=first["carol@example.com"],
            when=T0 - timedelta(days=40)),
        dsn(5, "carol@example.com", action="delayed", status="4.4.1", original=second["carol@example.com"],
            when=T0 + timedelta(days=7)),
    ]
    for notice in notices:
        box.add(notice)
    box.add(b"From: a.friend@example.com\r\nSubject: thanks for the digest\r\n\r\nGreat issue!\r\n")

    result = run_bounces(tmp_path, "--maildir", str(tmp_path / "bounces"))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "6 message(s) read: 1 hard and 4 soft bounce(s) recorded, 0 seen before, 1 not a bounce; "
        "1 address(es) suppressed"
    )
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        assert [(s.address, s.reason) for s in suppressions.suppressions(conn)] == [("ann@example.org", "hard bounce")]

    # bob's next message bounces too: a second message in a row suppresses him
    box.add(dsn(6, "bob@example.net", action="failed", status="4.2.2", original=second["bob@example.net"],
                when=T0 + timedelta(days=7)))
    again = run_bounces(tmp_path, "--maildir", str(tmp_path / "bounces"), "--json")
    document = json.loads(again.stdout)
    assert (document["read"], document["soft"], document["hard"], document["already_seen"]) == (7, 1, 0, 5)
    assert document["suppressed"] == ["bob@example.net"]
    assert document["editions"] == {
        "weekly-20261123T0700+0000": {"hard": 1, "soft": 3},
        "weekly-20261130T0700+0000": {"hard": 0, "soft": 2},
    }
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        assert {s.address: s.reason for s in suppressions.suppressions(conn)} == {
            "ann@example.org": "hard bounce", "bob@example.net": "soft bounces",
        }
        assert bounces.bounce_counts(conn, ["weekly-20261130T0700+0000"]) == {
            "weekly-20261130T0700+0000": bounces.BounceCounts(hard=0, soft=2)
        }

    listed = json.loads(CliRunner().invoke(main, ["editions", "--json", "--config", str(tmp_path / "schedule.yaml")]).stdout)
    assert {e["id"]: e["bounces"] for e in listed["editions"]} == {
        "weekly-20261123T0700+0000": {"hard": 1, "soft": 3}, "weekly-20261130T0700+0000": {"hard": 0, "soft": 2},
    }
    table = CliRunner().invoke(main, ["editions", "--config", str(tmp_path / "schedule.yaml")]).stdout
    assert "weekly-20261123T0700+0000  published" in table and "; bounced 1 hard, 3 soft" in table

    # the next send skips both; carol and dan still get it
    send(tmp_path, "2026-12-07T07:00:00+00:00")
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        statuses = {row.recipient: row.status for row in ledger.deliveries(conn, "weekly-20261207T0700+0000")}
    assert statuses == {"ann@example.org": "suppressed", "bob@example.net": "suppressed",
                        "carol@example.com": "sent", "dan@example.com": "sent"}


def test_a_notice_that_quotes_no_message_is_recorded_without_an_edition(tmp_path, sent):
    config, _, _ = sent
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    box.add(dsn(9, "dan@example.com", action="failed", status="5.1.1", original=None, when=T0))
    result = run_bounces(tmp_path, "--maildir", str(tmp_path / "bounces"))
    assert result.stdout.splitlines() == [
        "suppressed dan@example.com",
        "1 message(s) read: 1 hard and 0 soft bounce(s) recorded, 0 seen before, 0 not a bounce; "
        "1 address(es) suppressed",
    ]
    with closing(bounces.ensure_bounces(connect(config.store))) as conn:
        assert bounces.bounce_counts(conn) == {}


def test_bad_sources_are_one_line_usage_errors(tmp_path, monkeypatch):
    delivery_config(tmp_path, recipients=READERS)
    (tmp_path / "plain").mkdir()
    plain = run_bounces(tmp_path, "--maildir", str(tmp_path / "plain"))
    assert plain.exit_code == 2
    assert plain.stderr == f"digest: {tmp_path / 'plain'}: not a Maildir (it needs new/ and cur/ folders)\n"
    assert run_bounces(tmp_path).exit_code == 2
    for name in ("DIGEST_IMAP_HOST", "DIGEST_IMAP_USER", "DIGEST_IMAP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    result = run_bounces(tmp_path, "--imap")
    assert result.exit_code == 2
    assert result.stderr == (
        "digest: IMAP: environment variables DIGEST_IMAP_HOST, DIGEST_IMAP_USER, and DIGEST_IMAP_PASSWORD are not set\n"
    )
    monkeypatch.setenv("DIGEST_IMAP_HOST", "imap.example.org:imaps")
    monkeypatch.setenv("DIGEST_IMAP_USER", "bounces@example.org")
    monkeypatch.setenv("DIGEST_IMAP_PASSWORD", "s3cret pass")
    port = run_bounces(tmp_path, "--imap")
    assert port.exit_code == 2
    assert port.stderr == (
        "digest: IMAP: DIGEST_IMAP_HOST='imap.example.org:imaps': the port 'imaps' is not a number "
        "(give host or host:port)\n"
    )


def test_an_imap_folder_the_server_lacks_is_a_usage_error(tmp_path, sent, monkeypatch):
    with ImapServer(tmp_path, ("bounces@example.org", "s3cret pass"), [], mailbox="Bounces") as server:
        monkeypatch.setenv("DIGEST_IMAP_HOST", f"127.0.0.1:{server.port}")
        monkeypatch.setenv("DIGEST_IMAP_USER", "bounces@example.org")
        monkeypatch.setenv("DIGEST_IMAP_PASSWORD", "s3cret pass")
        monkeypatch.setenv("SSL_CERT_FILE", str(server.certificate))
        result = run_bounces(tmp_path, "--imap")
    assert result.exit_code == 2
    assert result.stderr == (
        f"digest: IMAP 127.0.0.1:{server.port}: no folder 'INBOX'; check bounces.imap_folder in the config\n"
    )


def test_bounces_are_read_from_an_imap_folder_over_verified_tls(tmp_path, sent, monkeypatch):
    config, first, _ = sent
    notices = [
        dsn(1, "ann@example.org", action="failed", status="5.1.1", original=first["ann@example.org"], when=T0),
        dsn(2, "bob@example.net", action="delayed", status="4.2.2", original=first["bob@example.net"], when=T0),
    ]
    with ImapServer(tmp_path, ("bounces@example.org", "s3cret pass"), notices) as server:
        monkeypatch.setenv("DIGEST_IMAP_HOST", f"127.0.0.1:{server.port}")
        monkeypatch.setenv("DIGEST_IMAP_USER", "bounces@example.org")
        monkeypatch.setenv("DIGEST_IMAP_PASSWORD", "s3cret pass")
        untrusted = run_bounces(tmp_path, "--imap")
        assert untrusted.exit_code == 1 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
        monkeypatch.setenv("SSL_CERT_FILE", str(server.certificate))  # now trusted, as a real CA would be
        result = run_bounces(tmp_path, "--imap", "--json")
        assert result.exit_code == 0, result.output
        document = json.loads(result.stdout)
        assert (document["read"], document["hard"], document["soft"], document["suppressed"]) == (
            2, 1, 1, ["ann@example.org"],
        )
        assert "EXAMINE INBOX" in server.commands  # read-only: nothing marked as read
        monkeypatch.setenv("DIGEST_IMAP_PASSWORD", "wrong")
        refused = run_bounces(tmp_path, "--imap")
        assert refused.exit_code == 1
        assert f"IMAP 127.0.0.1:{server.port}: the server refused the login of 'bounces@example.org'" in refused.stderr
        monkeypatch.setenv("DIGEST_IMAP_PASSWORD", "s3cret pass")
        again = json.loads(run_bounces(tmp_path, "--imap", "--json").stdout)
        assert (again["read"], again["already_seen"], again["suppressed"]) == (2, 2, [])


def test_a_message_the_bounce_detectors_fail_on_is_skipped_and_the_rest_are_read(tmp_path, sent):
    """flufl.bounce's Yale detector raises IndexError on a message with no From header; one such message in
    the mailbox must not stop the read (it was a traceback) nor hide the bounces after it."""
    config, first, _ = sent
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    box.add(b"Subject: no sender at all\r\n\r\njunk\r\n")
    box.add(dsn(1, "ann@example.org", action="failed", status="5.1.1", original=first["ann@example.org"], when=T0))
    result = run_bounces(tmp_path, "--maildir", str(tmp_path / "bounces"))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "2 message(s) read: 1 hard and 0 soft bounce(s) recorded, 0 seen before, 0 not a bounce; "
        "1 address(es) suppressed; 1 could not be read (see the warnings)"
    )
    assert "Traceback" not in result.stderr
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        assert [s.address for s in suppressions.suppressions(conn)] == ["ann@example.org"]
    document = json.loads(run_bounces(tmp_path, "--maildir", str(tmp_path / "bounces"), "--json").stdout)
    assert (document["read"], document["unreadable"], document["already_seen"]) == (2, 1, 1)

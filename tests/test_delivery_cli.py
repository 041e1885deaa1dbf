"""`digest send`, `digest run` and `digest unsubscribe` as a user runs them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import closing
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from smtpserver import REPO, SmtpServer, delivery_config

from digest.cli.delivery import send, unsubscribe
from digest.delivery import ledger, suppressions
from digest.editions import previous_window_end
from digest.store import connect

READERS = ["ann@example.org", "bob@example.net", "chloe@example.com"]
NOW = "2026-11-23T07:00:00+00:00"
EDITION_ID = "weekly-20261123T0700+0000"


@pytest.fixture
def server():
    with SmtpServer() as running:
        yield running


def invoke(command, *args):
    return CliRunner().invoke(command, [str(a) for a in args], catch_exceptions=False)


def test_dry_run_writes_every_readers_message_and_mails_nobody(tmp_path, server):
    config = delivery_config(tmp_path, recipients=READERS, port=server.port)
    result = invoke(send, "--config", tmp_path / "schedule.yaml", "--dry-run", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"The Weekly Digest of 23 November 2026: dry run, 3 messages written to the directory "
        f"{tmp_path / 'outbox'} (.eml files); nobody was mailed\n"
    )
    assert "~dry-run~" not in result.output and "sent" not in result.stdout
    files = sorted(p.name for p in (tmp_path / "outbox" / EDITION_ID).glob("*.eml"))
    assert files == sorted(f"{address}.eml" for address in READERS)
    assert server.messages == []
    assert not (tmp_path / "archive").exists()  # a rehearsal is not published
    with closing(connect(config.store)) as conn:
        assert ledger.find_send(conn, EDITION_ID) is None  # readers' ledger untouched
        # nor the edition window: the next real edition still gets every new story
        assert previous_window_end(conn, "weekly", datetime(2026, 12, 1, tzinfo=UTC)) is None


def test_a_dry_run_with_a_fixed_clock_dates_its_messages_by_it_and_repeats_byte_for_byte(tmp_path):
    """--now is the message's Date and its unsubscribe link's issue time, not the real clock."""
    delivery_config(tmp_path, recipients=READERS)
    messages = []
    for outbox in ("first", "second"):
        result = invoke(send, "--config", tmp_path / "schedule.yaml", "--dry-run", "--now", NOW, "--outbox", tmp_path / outbox)
        assert result.exit_code == 0, result.output
        messages.append({p.name: p.read_bytes() for p in (tmp_path / outbox / EDITION_ID).glob("*.eml")})
    assert messages[0] == messages[1] and len(messages[0]) == len(READERS)
    first = messages[0]["ann@example.org.eml"]
    assert b"\r\nDate: Mon, 23 Nov 2026 07:00:00 +0000\r\n" in first
    issued = int(datetime(2026, 11, 23, 7, tzinfo=UTC).timestamp())
    assert f"&t={issued}&".encode() in first


def test_without_smtp_the_send_goes_to_the_outbox_and_says_so(tmp_path):
    delivery_config(tmp_path, recipients=READERS)
    result = invoke(send, "--config", tmp_path / "schedule.yaml", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"The Weekly Digest of 23 November 2026: messages for 3 of 3 readers written to the directory "
        f"{tmp_path / 'outbox'} (.eml files) (no smtp: configured, nobody was mailed)\n"
    )
    assert EDITION_ID not in result.output
    assert len(list((tmp_path / "outbox" / EDITION_ID).glob("*.eml"))) == 3
    assert (tmp_path / "archive" / "weekly-2026-11-23-0700.html").exists()


def test_to_sends_one_test_copy_and_leaves_the_readers_ledger_alone(tmp_path, server):
    config = delivery_config(tmp_path, recipients=READERS, port=server.port)
    result = invoke(send, "--config", tmp_path / "schedule.yaml", "--to", "editor@example.org", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert server.copies_per_recipient() == {"editor@example.org": 1}
    with closing(connect(config.store)) as conn:
        assert ledger.find_send(conn, EDITION_ID) is None
        assert previous_window_end(conn, "weekly", datetime(2026, 12, 1, tzinfo=UTC)) is None
    result = invoke(send, "--config", tmp_path / "schedule.yaml", "--now", NOW)
    assert server.copies_per_recipient() == {"editor@example.org": 1, **{a: 1 for a in READERS}}


def test_a_test_copy_the_server_never_takes_says_to_send_it_again_not_to_resume(tmp_path):
    with SmtpServer() as gone:
        port = gone.port  # a port nobody listens on once the server has stopped
    config = delivery_config(tmp_path, recipients=READERS, port=port)
    result = CliRunner().invoke(send, ["--config", str(tmp_path / "schedule.yaml"), "--to", "editor@example.org",
                                       "--now", NOW])
    assert result.exit_code == 1
    *reconnecting, line = result.stderr.splitlines()
    assert len(reconnecting) == 3 and all("reconnecting in" in warning for warning in reconnecting)
    assert line.startswith(f"digest: SMTP 127.0.0.1:{port} (none): giving up after 4 failed connections (")
    assert line.endswith(
        "); the test copy to editor@example.org was not sent; send it again (`digest send --to editor@example.org`)"
    )
    assert "resume" not in line
    with closing(connect(config.store)) as conn:
        assert ledger.find_send(conn, EDITION_ID) is None  # the readers' send was never begun


def test_sending_the_same_edition_again_mails_nobody_twice(tmp_path, server):
    delivery_config(tmp_path, recipients=READERS, port=server.port)
    for _ in range(2):
        result = invoke(send, "--config", tmp_path / "schedule.yaml", "--now", NOW)
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("The Weekly Digest of 23 November 2026: sent to 3 of 3 readers via SMTP ")
    assert server.copies_per_recipient() == {address: 1 for address in READERS}


def test_unsubscribed_readers_are_skipped_at_send_time(tmp_path, server):
    delivery_config(tmp_path, recipients=READERS, port=server.port)
    result = invoke(unsubscribe, "--config", tmp_path / "schedule.yaml", "Bob@Example.net")
    assert result.stdout.strip() == "1 address(es) added to the suppression list, 0 already on it"
    result = invoke(send, "--config", tmp_path / "schedule.yaml", "--now", NOW)
    assert "sent to 2 of 3 readers via SMTP" in result.stdout and result.stdout.endswith("; 1 unsubscribed, skipped\n")
    assert server.copies_per_recipient() == {"ann@example.org": 1, "chloe@example.com": 1}


def test_a_suppression_file_is_imported_only_when_every_line_is_valid(tmp_path):
    config = delivery_config(tmp_path, recipients=READERS)
    bad = tmp_path / "bounces.txt"
    bad.write_text("# bounces\nann@example.org\nnot an address\n", encoding="utf-8")
    result = invoke(unsubscribe, "--config", tmp_path / "schedule.yaml", "--import", bad)
    assert result.exit_code == 2
    assert result.stderr.startswith("digest: bounces.txt:3: 'not an address' is not a valid address")
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        assert not suppressions.is_suppressed(conn, "ann@example.org")
    bad.write_text("ann@example.org\nbob@example.net  # bounced\n", encoding="utf-8")
    result = invoke(unsubscribe, "--config", tmp_path / "schedule.yaml", "--import", bad, "--reason", "bounce")
    assert result.stdout.strip() == "2 address(es) added to the suppression list, 0 already on it"
    with closing(connect(config.store)) as conn:
        assert suppressions.is_suppressed(conn, "bob@example.net")


def test_unsubscribe_needs_an_address(tmp_path):
    delivery_config(tmp_path, recipients=READERS)
    result = invoke(unsubscribe, "--config", tmp_path / "schedule.yaml")
    assert result.exit_code == 2 and "give one or more ADDRESSES, or --import FILE" in result.stderr


def test_missing_smtp_credentials_are_named(tmp_path, server, monkeypatch):
    monkeypatch.delenv("DIGEST_TEST_USER", raising=False)
    monkeypatch.delenv("DIGEST_TEST_PASSWORD", raising=False)
    smtp = {"username_env": "DIGEST_TEST_USER", "password_env": "DIGEST_TEST_PASSWORD"}
    delivery_config(tmp_path, recipients=READERS, port=server.port, smtp=smtp)
    result = invoke(send, "--config", tmp_path / "schedule.yaml")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "digest: SMTP credentials: environment variables DIGEST_TEST_USER and DIGEST_TEST_PASSWORD are not set"
    )
    monkeypatch.setenv("DIGEST_TEST_USER", "ann")
    one = invoke(send, "--config", tmp_path / "schedule.yaml")
    assert one.stderr.strip() == "digest: SMTP credentials: environment variable DIGEST_TEST_PASSWORD is not set"
    assert server.messages == []


def command(name: str, *args: str) -> list[str]:
    """A command in a process of its own, as `digest --verbose NAME ARGS` runs it."""
    code = "from digest.cli.main import main; main()"
    return [sys.executable, "-c", code, "--verbose", name, *args]


def read_until(stream, needle: str, lines: list[str]) -> bool:
    for line in stream:
        lines.append(line)
        if needle in line:
            return True
    return False


def test_run_with_the_bundled_config_writes_to_the_outbox_logs_next_runs_and_stops_on_sigterm(tmp_path):
    shutil.copy(REPO / "schedule.yaml", tmp_path / "schedule.yaml")
    (tmp_path / "seeds").symlink_to(REPO / "seeds")
    lines: list[str] = []
    with subprocess.Popen(
        command("run", "--config", "schedule.yaml"), cwd=tmp_path, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    ) as process:
        try:
            assert read_until(process.stderr, "next run", lines), "".join(lines)
            process.send_signal(signal.SIGTERM)
            lines.extend(process.stderr)
            assert process.wait(timeout=60) == 0
        finally:
            process.kill()
    log = "".join(lines)
    assert "no smtp: configured: messages are written to the directory outbox (eml)" in log
    assert "weekly: next run " in log and "(Europe/London, cron '0 7 * * mon')" in log
    assert "SIGTERM received: finishing the message in flight, then stopping" in log
    assert log.rstrip().endswith("stopped")


def test_sigterm_during_a_send_finishes_the_message_in_flight_and_a_rerun_completes(tmp_path, server):
    readers = [f"reader{i:03d}@example.org" for i in range(120)]
    config = delivery_config(tmp_path, recipients=readers, port=server.port, smtp={"rate": 100})
    args = command("send", "--config", str(tmp_path / "schedule.yaml"), "--now", NOW)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as process:
        try:
            lines: list[str] = []
            assert read_until(process.stderr, "reader(s) via SMTP", lines), "".join(lines)
            while len(server.messages) < 5:
                time.sleep(0.01)
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=60)
        finally:
            process.kill()
    assert process.returncode == 1, err
    assert "not yet sent: run the same command again to finish" in out
    with closing(connect(config.store)) as conn:
        counts = ledger.tally(conn, EDITION_ID)
    assert "sending" not in counts
    assert counts["sent"] == len(server.messages) < len(readers)
    result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert server.copies_per_recipient() == {address: 1 for address in readers}


def test_an_edition_without_readers_says_so(tmp_path):
    delivery_config(tmp_path, recipients=[])
    result = invoke(send, "--config", tmp_path / "schedule.yaml", "--now", NOW)
    assert result.exit_code == 0
    assert "no readers: add addresses to editions.weekly.recipients" in result.stderr


def test_a_send_with_no_new_story_mails_nobody_unless_forced(tmp_path, server):
    delivery_config(tmp_path, recipients=READERS, port=server.port)
    assert invoke(send, "--config", tmp_path / "schedule.yaml", "--now", NOW).exit_code == 0
    again = invoke(send, "--config", tmp_path / "schedule.yaml", "--now", "2026-11-30T07:00:00+00:00")
    assert again.exit_code == 0
    assert again.stdout.strip() == (
        "The Weekly Digest of 30 November 2026: nothing sent: no new stories since the last edition "
        "(--force sends it anyway)"
    )
    assert server.copies_per_recipient() == {address: 1 for address in READERS}
    forced = invoke(send, "--config", tmp_path / "schedule.yaml", "--now", "2026-11-30T07:00:00+00:00", "--force")
    assert forced.exit_code == 0 and "sent to 3 of 3 readers" in forced.stdout
    assert server.copies_per_recipient() == {address: 2 for address in READERS}


def test_validate_reports_sender_subject_and_recipients_with_file_and_line(tmp_path):
    from digest.cli.build import validate

    delivery_config(tmp_path, recipients=["ann@example.org", "reader@@example"],
                    edition={"sender": "digest at example", "subject": "{title} {week}"})
    path = tmp_path / "schedule.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()

    def line_with(text):
        return next(number for number, line in enumerate(lines, start=1) if text in line)

    result = invoke(validate, "--config", path)
    assert result.exit_code == 2
    reported = result.stderr.splitlines()[1:]
    assert len(reported) == 3, reported
    assert reported[0].startswith(
        f"schedule.yaml:{line_with('digest at example')}: editions.weekly.sender: "
        "sender 'digest at example' is not a valid address"
    )
    assert reported[1].startswith(
        f"schedule.yaml:{line_with('{week}')}: editions.weekly.subject: '{{title}} {{week}}': "
        "only {title} and {date} can be used"
    )
    assert reported[2].startswith(
        f"schedule.yaml:{line_with('reader@@example')}: editions.weekly.recipients#2: "
        "'reader@@example' is not a valid address"
    )


def test_validate_reports_a_missing_or_bad_recipients_file(tmp_path):
    from digest.cli.build import validate

    delivery_config(tmp_path, recipients="readers.txt")
    result = invoke(validate, "--config", tmp_path / "schedule.yaml")
    assert result.exit_code == 2
    assert "editions.weekly.recipients: recipients file" in result.stderr and "readers.txt not found" in result.stderr
    (tmp_path / "readers.txt").write_text("ann@example.org\n# a comment\nreader@@example\n", encoding="utf-8")
    result = invoke(validate, "--config", tmp_path / "schedule.yaml")
    assert result.exit_code == 2
    assert f"digest: {tmp_path / 'readers.txt'}:3: 'reader@@example' is not a valid address" in result.stderr


def test_a_bad_recipient_line_is_reported_and_skipped_and_the_rest_are_sent(tmp_path, server):
    (tmp_path / "readers.txt").write_text("ann@example.org\nreader@@example\nbob@example.net\n", encoding="utf-8")
    delivery_config(tmp_path, recipients="readers.txt", port=server.port)
    result = invoke(send, "--config", tmp_path / "schedule.yaml", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert "readers.txt:2: 'reader@@example' is not a valid address" in result.stderr and "; skipped" in result.stderr
    assert server.copies_per_recipient() == {"ann@example.org": 1, "bob@example.net": 1}


def test_an_invalid_sender_stops_a_send_before_anything_is_built(tmp_path, server):
    config = delivery_config(tmp_path, recipients=READERS, port=server.port, edition={"sender": "digest@@example"})
    result = invoke(send, "--config", tmp_path / "schedule.yaml", "--now", NOW)
    assert result.exit_code == 2
    assert "editions.weekly.sender: sender 'digest@@example' is not a valid address" in result.stderr
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        assert ledger.find_send(conn, EDITION_ID) is None
    assert server.messages == []


def test_a_send_stopped_by_a_refused_sender_resumes_once_the_config_is_fixed(tmp_path, server):
    import json

    server.faults.refuse_sender["digest@blocked.example.org"] = "553 5.7.1 Sender not allowed"
    delivery_config(tmp_path, recipients=READERS, port=server.port, edition={"sender": "digest@blocked.example.org"})
    stuck = invoke(send, "--config", tmp_path / "schedule.yaml", "--now", NOW)
    assert stuck.exit_code == 1 and "refused the sender MAIL FROM: 553" in stuck.stderr
    path = tmp_path / "schedule.yaml"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["editions"]["weekly"]["sender"] = "digest@example.org"
    path.write_text(json.dumps(data), encoding="utf-8")
    fixed = invoke(send, "--config", path)
    assert fixed.exit_code == 0, fixed.output
    assert server.copies_per_recipient() == {address: 1 for address in READERS}
    assert {m.mail_from for m in server.messages} == {"digest@example.org"}


def test_every_header_line_of_a_sent_edition_fits_78_characters_but_the_unsubscribe_url(tmp_path, server):
    """RFC 5322 2.1.1: lines SHOULD stay within 78 characters. The Message-ID and To are folded by the
    email package's SMTP policy when longer (only the List-Unsubscribe URL itself cannot be cut)."""
    from email.parser import BytesParser
    from email.policy import default

    from digest.delivery.message import make_message_id

    long_reader = "a.reader.with.a.rather.long.address.for.this.test@newsroom.example.org"
    delivery_config(tmp_path, recipients=[*READERS, long_reader], port=server.port)
    result = invoke(send, "--config", tmp_path / "schedule.yaml", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert len(server.messages) == 4
    for message in server.messages:
        head = message.content.split(b"\r\n\r\n", 1)[0].decode("ascii")
        long_lines = [line for line in head.split("\r\n") if len(line) > 78]
        assert [line for line in long_lines if not line.startswith((" <https://", "List-Unsubscribe: <https://"))] == []
        (reader,) = message.recipients
        parsed = BytesParser(policy=default).parsebytes(message.content)
        assert parsed["Message-ID"].strip() == make_message_id(EDITION_ID, reader, "digest.example.org")
        assert str(parsed["To"]) == reader

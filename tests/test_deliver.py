"""Delivery over a real SMTP server (aiosmtpd on 127.0.0.1): headers, parts, faults, exactly once."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
import threading
from contextlib import closing
from datetime import timedelta
from email import policy
from email.parser import BytesParser

import pytest
from edition_fixture import CLOCK, sample_edition
from smtpserver import REPO, SmtpServer, delivery_config, free_port, server_tls

from digest.delivery import ledger, suppressions
from digest.delivery.compose import compose
from digest.delivery.ledger import SendKind
from digest.delivery.message import make_message_id
from digest.delivery.outbox import DirectoryTransport
from digest.delivery.recipients import load_recipients, recipient_problems
from digest.delivery.sender import Sender, _Pace, begin_send, deliver_send
from digest.delivery.signing import signing_key, unsubscribe_url
from digest.delivery.smtp import SmtpTransport, _dot_stuffed
from digest.delivery.transport import make_transport
from digest.errors import ConfigError, DeliveryError
from digest.store import connect

READERS = ["ann@example.org", "bob@example.net", "chloe@example.com"]
KEY = b"a fixed key, so messages are the same bytes in every run"
EMAILCHECK = REPO.parent / "shared" / "tools" / "emailcheck" / "check_eml.py"


@pytest.fixture
def server():
    with SmtpServer() as running:
        yield running


def parse(raw: bytes):
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert [d for part in message.walk() for d in part.defects] == []
    return message


class Waits(list):
    """Records the backoff and throttle waits a Sender asks for, without waiting."""

    def __call__(self, seconds: float) -> bool:
        self.append(round(seconds, 6))
        return False


def start(config, conn, edition=None, recipients=READERS, transport=None):
    """Record a send of the fixture edition (or ``edition``) and return its ledger record."""
    edition = edition or sample_edition()
    transport = transport or make_transport(config)
    outgoing = compose(config, "weekly", edition, date=CLOCK)
    record = begin_send(
        conn, outgoing, kind=SendKind.MANUAL, run_at=edition.date, recipients=recipients,
        transport=transport, now=CLOCK,
    )
    return record, transport


def send(config, conn, record, transport, waits=None, stop=None, now=None):
    smtp = config.smtp
    sender = Sender(
        conn, record, transport, retries=smtp.retries, retry_delay=smtp.retry_delay.total_seconds(),
        secret=KEY, wait=waits if waits is not None else Waits(), stop=stop,
        deferred_retry=timedelta(minutes=10), give_up_after=timedelta(days=2), now=now or (lambda: CLOCK),
    )
    try:
        return sender.run()
    finally:
        transport.close()


@pytest.fixture
def setup(tmp_path, server):
    config = delivery_config(tmp_path, recipients=READERS, port=server.port)
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        yield config, conn, server


def rows(conn, send_id):
    return {row.recipient: row for row in ledger.deliveries(conn, send_id)}


# --- the happy path -----------------------------------------------------------


def test_each_reader_gets_one_personalised_copy_with_every_header(setup):
    config, conn, server = setup
    record, transport = start(config, conn)
    report = send(config, conn, record, transport)

    assert report.counts["sent"] == 3 and not report.interrupted
    assert server.copies_per_recipient() == {address: 1 for address in READERS}
    assert server.handler.connections == 1  # one connection, reused
    edition = sample_edition()
    for received in server.messages:
        (address,) = received.recipients
        assert received.mail_from == "digest@example.org"
        message = parse(received.content)
        assert message["To"] == address
        assert message["From"] == "digest@example.org"
        assert message["Subject"] == "The Weekly Digest — 23 November 2026"
        assert message["Date"] == "Mon, 23 Nov 2026 07:00:00 +0000"
        assert message["Message-ID"].strip() == make_message_id(edition.id, address, "digest.example.org")  # folded
        assert message["List-Id"] == "The Weekly Digest <weekly.digest.example.org>"
        link = unsubscribe_url("https://digest.example.org", "weekly", address, KEY, issued=CLOCK)
        assert message["List-Unsubscribe"] == f"<{link}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        plain, rich = message.iter_parts()
        assert (plain.get_content_type(), rich.get_content_type()) == ("text/plain", "text/html")
        assert link in plain.get_content()
        assert link.replace("&", "&amp;") in rich.get_content()
        assert edition.stories[0].summary[0] in plain.get_content()
    assert {row.status for row in rows(conn, record.send_id).values()} == {"sent"}
    first = next(m for m in server.messages if m.recipients == ("ann@example.org",))
    composed = compose(config, "weekly", edition, date=CLOCK).template().for_recipient(
        "ann@example.org",
        unsubscribe_url=unsubscribe_url("https://digest.example.org", "weekly", "ann@example.org", KEY, issued=CLOCK),
        message_id=make_message_id(edition.id, "ann@example.org", "digest.example.org"),
    )
    assert first.content == composed  # byte for byte: what the SMTP server stored is what was composed


def test_two_dry_runs_in_the_same_second_each_deliver_every_message(setup, tmp_path):
    """A rehearsal is keyed by its clock to the second; a second one then must not find the first's
    finished ledger and write nothing while reporting every message written."""
    config, conn, _ = setup
    edition = sample_edition()
    outgoing = compose(config, "weekly", edition, date=CLOCK)
    reports = []
    for folder in ("first", "second"):
        transport = DirectoryTransport(tmp_path / folder)
        record = begin_send(
            conn, outgoing, kind=SendKind.DRY_RUN, run_at=edition.date, recipients=READERS,
            transport=transport, now=CLOCK,
        )
        reports.append((record.send_id, send(config, conn, record, transport).counts))
        assert sorted(p.name for p in (tmp_path / folder).rglob("*.eml")) == sorted(f"{a}.eml" for a in READERS)
    assert reports[0][0] != reports[1][0]
    assert reports[1][0] == reports[0][0] + "~2"
    assert reports[0][1] == reports[1][1]


def test_copies_differ_only_by_reader(setup):
    config, conn, server = setup
    record, transport = start(config, conn)
    send(config, conn, record, transport)
    ann, bob = (parse(m.content) for m in sorted(server.messages, key=lambda m: m.recipients)[:2])
    personal = {"To", "Message-ID", "List-Unsubscribe"}
    assert [(k, v) for k, v in ann.items() if k not in personal] == [(k, v) for k, v in bob.items() if k not in personal]
    links = [
        unsubscribe_url("https://digest.example.org", "weekly", a, KEY, issued=CLOCK)
        for a in ("ann@example.org", "bob@example.net")
    ]
    for ann_part, bob_part in zip(ann.iter_parts(), bob.iter_parts(), strict=True):
        ann_text = ann_part.get_content().replace(links[0], "LINK").replace(links[0].replace("&", "&amp;"), "LINK")
        bob_text = bob_part.get_content().replace(links[1], "LINK").replace(links[1].replace("&", "&amp;"), "LINK")
        assert ann_text == bob_text
        assert "LINK" in ann_text


@pytest.mark.skipif(not EMAILCHECK.exists(), reason="../shared/tools/emailcheck is not here")
def test_received_message_passes_the_eml_checker(setup, tmp_path):
    config, conn, server = setup
    record, transport = start(config, conn, recipients=["ann@example.org"])
    send(config, conn, record, transport)
    eml = tmp_path / "received.eml"
    eml.write_bytes(server.messages[0].content)
    result = subprocess.run([sys.executable, str(EMAILCHECK), str(eml)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("EML VERDICT: PASS")


def test_a_newline_in_a_title_cannot_add_a_header(setup):
    config, conn, server = setup
    edition = dataclasses.replace(sample_edition(), title="Weekly\r\nBcc: mallory@example.com\r\nX-Evil: 1")
    record, transport = start(config, conn, edition=edition, recipients=["ann@example.org"])
    send(config, conn, record, transport)
    (received,) = server.messages
    assert received.recipients == ("ann@example.org",)
    message = parse(received.content)
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert message["Subject"] == "Weekly Bcc: mallory@example.com X-Evil: 1 — 23 November 2026"
    head = received.content.split(b"\r\n\r\n", 1)[0]
    assert not any(line.startswith((b"Bcc:", b"X-Evil:")) for line in head.split(b"\r\n"))


def test_a_newline_in_a_recipient_is_refused(tmp_path, caplog):
    config = delivery_config(tmp_path, recipients=["ann@example.org\r\nBcc: mallory@example.com", "bob@example.net"])
    assert load_recipients(config, "weekly") == ["bob@example.net"]
    assert "editions.weekly.recipients[0]: 'ann@example.org\\r\\nBcc" in caplog.text and "skipped" in caplog.text
    [problem] = recipient_problems(config, "weekly")
    assert problem.key == ("editions", "weekly", "recipients", 0)


# --- faults -------------------------------------------------------------------


def test_421_drops_the_connection_and_the_send_reconnects(setup):
    config, conn, server = setup
    server.faults.fail_mail.append("421 4.3.2 Service shutting down")
    record, transport = start(config, conn)
    waits = Waits()
    report = send(config, conn, record, transport, waits)
    assert server.copies_per_recipient() == {address: 1 for address in READERS}
    assert server.handler.connections == 2
    assert waits == [0.01]
    first = rows(conn, record.send_id)["ann@example.org"]
    assert (first.status, first.attempts, first.uncertain) == ("sent", 2, False)
    assert report.counts["uncertain"] == 0


def test_451_defers_a_reader_to_later_rounds_with_doubling_backoff(setup):
    config, conn, server = setup
    server.faults.fail_rcpt["bob@example.net"].extend(["451 4.7.1 Greylisted", "451 4.7.1 Greylisted"])
    record, transport = start(config, conn)
    waits = Waits()
    send(config, conn, record, transport, waits)
    assert [m.recipients[0] for m in server.messages] == ["ann@example.org", "chloe@example.com", "bob@example.net"]
    assert waits == [0.01, 0.02]
    bob = rows(conn, record.send_id)["bob@example.net"]
    assert (bob.status, bob.attempts) == ("sent", 3)
    assert bob.last_reply.startswith("250")


def test_451_after_the_data_is_a_clear_no_and_is_retried_once_more(setup):
    config, conn, server = setup
    server.faults.fail_data.append("451 4.3.0 Queue full")
    record, transport = start(config, conn)
    send(config, conn, record, transport)
    assert server.copies_per_recipient() == {address: 1 for address in READERS}
    ann = rows(conn, record.send_id)["ann@example.org"]
    assert (ann.status, ann.attempts, ann.uncertain) == ("sent", 2, False)


def test_retries_run_out_and_the_reader_stays_deferred(setup):
    config, conn, server = setup
    server.faults.fail_rcpt["bob@example.net"].extend(["450 4.2.1 Mailbox busy"] * 10)
    record, transport = start(config, conn)
    waits = Waits()
    report = send(config, conn, record, transport, waits)
    assert waits == [0.01, 0.02, 0.04]
    assert report.counts["deferred"] == 1 and report.counts["sent"] == 2 and report.pending == 1
    assert report.retry_at == CLOCK + timedelta(minutes=10) and report.give_up_at == CLOCK + timedelta(days=2)
    assert "1 still pending: the server deferred them" in report.summary()
    bob = rows(conn, record.send_id)["bob@example.net"]
    assert (bob.status, bob.attempts, bob.last_reply) == ("deferred", 4, "RCPT TO: 450 4.2.1 Mailbox busy")
    # the send stays open, so the next send or `digest run` tries bob again
    assert ledger.find_send(conn, record.send_id).finished_at is None
    assert ledger.next_retry(conn, record.send_id) == CLOCK + timedelta(minutes=10)


def test_a_reader_deferred_past_the_give_up_age_is_failed_and_the_send_finished(setup):
    config, conn, server = setup
    server.faults.fail_rcpt["bob@example.net"].extend(["450 4.2.1 Mailbox busy"] * 10)
    record, transport = start(config, conn)
    send(config, conn, record, transport)
    later = CLOCK + timedelta(days=2, minutes=1)
    report = send(config, conn, ledger.find_send(conn, record.send_id), make_transport(config), now=lambda: later)
    assert report.counts["failed"] == 1 and report.pending == 0 and report.retry_at is None
    bob = rows(conn, record.send_id)["bob@example.net"]
    assert bob.status == "failed" and bob.last_reply.startswith("gave up: still deferred 2 days, 0:00:00 after")
    assert ledger.find_send(conn, record.send_id).finished_at is not None
    assert server.copies_per_recipient() == {"ann@example.org": 1, "chloe@example.com": 1}


def test_a_dropped_connection_mid_data_is_retried_without_a_duplicate(setup):
    config, conn, server = setup
    server.faults.drop_mid_data = 1
    record, transport = start(config, conn)
    send(config, conn, record, transport)
    assert server.copies_per_recipient() == {address: 1 for address in READERS}
    ann = rows(conn, record.send_id)["ann@example.org"]
    assert (ann.status, ann.attempts) == ("sent", 2)


def test_550_for_one_reader_is_recorded_and_never_retried(setup):
    config, conn, server = setup
    server.faults.reject["bob@example.net"] = "550 5.1.1 No such user"
    record, transport = start(config, conn)
    waits = Waits()
    report = send(config, conn, record, transport, waits)
    assert server.copies_per_recipient() == {"ann@example.org": 1, "chloe@example.com": 1}
    assert waits == []
    bob = rows(conn, record.send_id)["bob@example.net"]
    assert (bob.status, bob.attempts, bob.last_reply) == ("failed", 1, "RCPT TO: 550 5.1.1 No such user")
    assert (report.counts["failed"], report.counts["sent"]) == (1, 2)


def test_a_5xx_for_the_sender_stops_the_send_for_everyone(setup):
    config, conn, server = setup
    server.faults.fail_mail.append("553 5.7.1 Sender not allowed")
    record, transport = start(config, conn)
    with pytest.raises(DeliveryError, match="refused the sender MAIL FROM: 553"):
        send(config, conn, record, transport)
    assert {row.status for row in rows(conn, record.send_id).values()} == {"pending"}


def test_an_accepted_message_whose_250_was_lost_is_sent_again_and_flagged(setup):
    """The one ambiguous window: the server kept the message, the client never heard so."""
    config, conn, server = setup
    server.faults.hang_up_after_accept = 1
    record, transport = start(config, conn)
    report = send(config, conn, record, transport)
    copies = server.copies_per_recipient()
    assert copies == {"ann@example.org": 2, "bob@example.net": 1, "chloe@example.com": 1}
    assert len(server.message_ids_per_recipient()["ann@example.org"]) == 1  # same Message-ID: detectable
    ann = rows(conn, record.send_id)["ann@example.org"]
    assert (ann.status, ann.uncertain) == ("sent", True)
    assert report.counts["uncertain"] == 1
    assert "1 may have received it twice (same Message-ID)" in report.summary()


def test_after_a_crash_a_message_left_sending_is_sent_again_with_its_message_id_and_flagged(setup):
    """A row a killed process left in 'sending' has no 250: the dot may or may not have reached the server."""
    config, conn, server = setup
    record, transport = start(config, conn)
    send(config, conn, record, transport)
    # as if killed while waiting for the server's answer to ann's dot
    ledger.mark_sending(conn, record.send_id, "ann@example.org", CLOCK)
    conn.execute("UPDATE sends SET finished_at = NULL")
    report = deliver_send(conn, config, ledger.find_send(conn, record.send_id), make_transport(config))
    assert server.copies_per_recipient() == {"ann@example.org": 2, "bob@example.net": 1, "chloe@example.com": 1}
    assert len(server.message_ids_per_recipient()["ann@example.org"]) == 1
    ann = rows(conn, record.send_id)["ann@example.org"]
    assert (ann.status, ann.uncertain) == ("sent", True)
    assert report.counts["uncertain"] == 1
    assert "1 may have received it twice (same Message-ID)" in report.summary()


def test_an_unreachable_server_stops_the_send_and_a_later_run_finishes_it(tmp_path):
    config = delivery_config(tmp_path, recipients=READERS, port=free_port())
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        record, transport = start(config, conn)
        waits = Waits()
        with pytest.raises(DeliveryError, match="giving up after 4 failed connections"):
            send(config, conn, record, transport, waits)
        assert waits == [0.01, 0.02, 0.04]
        assert {row.status for row in rows(conn, record.send_id).values()} == {"pending"}
        with SmtpServer() as server:
            config = delivery_config(tmp_path, recipients=READERS, port=server.port)
            report = deliver_send(conn, config, ledger.find_send(conn, record.send_id), make_transport(config))
            assert server.copies_per_recipient() == {address: 1 for address in READERS}
            assert report.counts["sent"] == 3


def test_the_suppression_list_is_read_at_send_time(setup):
    config, conn, server = setup
    record, transport = start(config, conn)
    suppressions.suppress(conn, ["BOB@example.net"], reason="unsubscribed", now=CLOCK)
    report = send(config, conn, record, transport)
    assert server.copies_per_recipient() == {"ann@example.org": 1, "chloe@example.com": 1}
    assert rows(conn, record.send_id)["bob@example.net"].status == "suppressed"
    assert report.counts["suppressed"] == 1


def test_a_stop_finishes_the_message_in_flight_and_a_resume_sends_the_rest(setup):
    config, conn, server = setup
    record, transport = start(config, conn)
    stop = threading.Event()

    class StopAfterFirst(SmtpTransport):
        def deliver(self, *args, **kwargs):
            reply = super().deliver(*args, **kwargs)
            stop.set()  # as SIGTERM would, while this message was in flight
            return reply

    report = send(config, conn, record, StopAfterFirst(config.smtp), stop=stop)
    assert report.interrupted and report.counts["sent"] == 1 and report.counts["pending"] == 2
    assert ledger.find_send(conn, record.send_id).finished_at is None
    assert server.copies_per_recipient() == {"ann@example.org": 1}
    report = send(config, conn, ledger.find_send(conn, record.send_id), make_transport(config))
    assert not report.interrupted
    assert server.copies_per_recipient() == {address: 1 for address in READERS}


def test_throttle_spaces_messages_by_the_rate():
    moments = iter([0.0, 0.02, 0.35, 0.36])
    waits = Waits()
    pace = _Pace(10, waits, lambda: next(moments))
    for _ in range(4):
        pace()
    assert waits == [0.08, 0.09]


def test_credentials_come_only_from_the_named_environment_variables(tmp_path):
    with SmtpServer(credentials=("digest", "s3cret")) as server:
        smtp = {"username_env": "DIGEST_TEST_SMTP_USER", "password_env": "DIGEST_TEST_SMTP_PASSWORD"}
        config = delivery_config(tmp_path, recipients=["ann@example.org"], port=server.port, smtp=smtp)
        with pytest.raises(DeliveryError, match="variables DIGEST_TEST_SMTP_USER and DIGEST_TEST_SMTP_PASSWORD are not set"):
            SmtpTransport(config.smtp, environ={})
        environ = {"DIGEST_TEST_SMTP_USER": "digest", "DIGEST_TEST_SMTP_PASSWORD": "s3cret"}
        with closing(ledger.ensure_ledger(connect(config.store))) as conn:
            record, transport = start(config, conn, recipients=["ann@example.org"],
                                      transport=SmtpTransport(config.smtp, environ=environ))
            send(config, conn, record, transport)
            assert server.copies_per_recipient() == {"ann@example.org": 1}
            wrong = SmtpTransport(config.smtp, environ={**environ, "DIGEST_TEST_SMTP_PASSWORD": "guess"})
            with pytest.raises(DeliveryError, match="login refused: 535"):
                wrong.deliver("digest@example.org", "ann@example.org", b"x\r\n",
                              edition_id="e", message_id="<m@example.org>", commit=lambda: None)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_is_used_and_the_server_certificate_is_verified(tmp_path, monkeypatch, security):
    context, certificate = server_tls(tmp_path)
    with SmtpServer(tls=context, implicit_tls=security == "tls") as server:
        config = delivery_config(tmp_path, recipients=["ann@example.org"], port=server.port,
                                 smtp={"security": security})
        with closing(ledger.ensure_ledger(connect(config.store))) as conn:
            record, transport = start(config, conn, recipients=["ann@example.org"])
            with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
                send(config, conn, record, transport)
            monkeypatch.setenv("SSL_CERT_FILE", str(certificate))  # now trusted, as a real CA would be
            report = send(config, conn, record, make_transport(config))
        assert report.counts["sent"] == 1
        assert server.copies_per_recipient() == {"ann@example.org": 1}


def test_signed_unsubscribe_links_need_the_key_variable(tmp_path, monkeypatch):
    config = delivery_config(tmp_path, recipients=READERS, delivery={"unsubscribe_secret_env": "DIGEST_TEST_KEY"})
    monkeypatch.delenv("DIGEST_TEST_KEY", raising=False)
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        record, transport = start(config, conn)
        with pytest.raises(DeliveryError, match="DIGEST_TEST_KEY is not set"):
            deliver_send(conn, config, record, transport)
        monkeypatch.setenv("DIGEST_TEST_KEY", "k")
        deliver_send(conn, config, record, transport)
    signed = unsubscribe_url("https://digest.example.org", "weekly", "ann@example.org", b"k", issued=CLOCK)
    assert signed.startswith(
        f"https://digest.example.org/unsubscribe?list=weekly&address=ann@example.org&t={int(CLOCK.timestamp())}&sig="
    )
    assert signed != unsubscribe_url("https://digest.example.org", "weekly", "bob@example.net", b"k", issued=CLOCK)
    eml = next((tmp_path / "outbox").rglob("ann@example.org.eml")).read_bytes()
    assert f"<{signed}>".encode() in eml


def test_without_a_configured_key_links_are_signed_with_one_kept_in_the_store(tmp_path):
    config = delivery_config(tmp_path, recipients=READERS)
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        key = signing_key(config, conn)
        record, transport = start(config, conn)
        deliver_send(conn, config, record, transport)
    with closing(connect(config.store)) as conn:
        assert signing_key(config, conn) == key and len(key) == 32
    with closing(connect(":memory:")) as elsewhere:
        assert signing_key(config, elsewhere) != key  # each store its own
    signed = unsubscribe_url("https://digest.example.org", "weekly", "ann@example.org", key, issued=CLOCK)
    eml = next((tmp_path / "outbox").rglob("ann@example.org.eml")).read_bytes()
    assert f"<{signed}>".encode() in eml


# --- the directory transport --------------------------------------------------


@pytest.mark.parametrize("layout", ["eml", "maildir"])
def test_directory_transport_writes_one_complete_file_per_reader(tmp_path, layout):
    config = delivery_config(tmp_path, recipients=READERS, delivery={"outbox_format": layout})
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        record, transport = start(config, conn)
        report = deliver_send(conn, config, record, transport)
    assert report.counts["sent"] == 3
    outbox = tmp_path / "outbox"
    files = sorted(outbox.rglob("*.eml")) if layout == "eml" else sorted((outbox / "new").iterdir())
    assert len(files) == 3
    assert sorted(parse(f.read_bytes())["To"] for f in files) == sorted(READERS)
    assert not [p for p in outbox.rglob("*") if p.name.endswith(".tmp") or p.parent.name == "tmp" and p.is_file()]


def test_directory_transport_settles_a_crash_in_the_window_exactly(tmp_path):
    """A row left in 'sending': the file's presence says whether the rename happened."""
    config = delivery_config(tmp_path, recipients=READERS)
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        record, transport = start(config, conn)
        outgoing_bytes = {}

        class Recording(DirectoryTransport):
            def deliver(self, envelope_from, recipient, message, **kwargs):
                outgoing_bytes[recipient] = message
                return super().deliver(envelope_from, recipient, message, **kwargs)

        deliver_send(conn, config, record, Recording(tmp_path / "outbox"))
        ann_file = next((tmp_path / "outbox").rglob("ann@example.org.eml"))
        bob_file = next((tmp_path / "outbox").rglob("bob@example.net.eml"))
        bob_file.unlink()  # as if killed between the 'sending' commit and the rename
        for address in ("ann@example.org", "bob@example.net"):
            ledger.mark_sending(conn, record.send_id, address, CLOCK)
        conn.execute("UPDATE sends SET finished_at = NULL")
        ann_mtime = ann_file.stat().st_mtime_ns
        report = deliver_send(conn, config, ledger.find_send(conn, record.send_id), make_transport(config))
        assert report.counts == {"sent": 3, "uncertain": 0}
        assert ann_file.stat().st_mtime_ns == ann_mtime  # not written again
        assert bob_file.read_bytes() == outgoing_bytes["bob@example.net"]
        assert rows(conn, record.send_id)["bob@example.net"].attempts == 3  # sent, interrupted, sent again


def test_a_resumed_send_produces_the_same_bytes(tmp_path):
    config = delivery_config(tmp_path, recipients=READERS)
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        record, transport = start(config, conn)
        deliver_send(conn, config, record, transport)
        first = {p.name: p.read_bytes() for p in (tmp_path / "outbox").rglob("*.eml")}
        for p in (tmp_path / "outbox").rglob("*.eml"):
            p.unlink()
        conn.execute("UPDATE deliveries SET status = 'pending'")
        deliver_send(conn, config, ledger.find_send(conn, record.send_id), make_transport(config))
        again = {p.name: p.read_bytes() for p in (tmp_path / "outbox").rglob("*.eml")}
    assert again == first


# --- recipients -----------------------------------------------------------------


def test_recipients_from_a_file_are_validated_normalised_and_deduplicated(tmp_path):
    (tmp_path / "readers.txt").write_text(
        "# readers\nann@example.org\n\nAnn@Example.org   # again\nbob@exämple.net\n", encoding="utf-8"
    )
    config = delivery_config(tmp_path, recipients="readers.txt")
    assert load_recipients(config, "weekly") == ["ann@example.org", "bob@xn--exmple-cua.net"]


def test_every_bad_recipient_is_reported_with_its_line_and_skipped(tmp_path, caplog):
    (tmp_path / "readers.txt").write_text("ann@example.org\nnot-an-address\nbob@\n", encoding="utf-8")
    config = delivery_config(tmp_path, recipients="readers.txt")
    assert load_recipients(config, "weekly") == ["ann@example.org"]
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert [line.split(":")[:2] for line in warned] == [["readers.txt", "2"], ["readers.txt", "3"]]
    assert all(line.endswith("; skipped") for line in warned)
    problems = recipient_problems(config, "weekly")
    assert [(p.file.name, p.line) for p in problems] == [("readers.txt", 2), ("readers.txt", 3)]


def test_a_missing_recipients_file_is_named(tmp_path):
    config = delivery_config(tmp_path, recipients="nobody.txt")
    with pytest.raises(ConfigError, match=r"nobody\.txt: no such address file"):
        load_recipients(config, "weekly")


def test_retry_delay_reads_a_duration(tmp_path):
    config = delivery_config(tmp_path, recipients=[], port=2525, smtp={"retry_delay": "3s"})
    assert config.smtp.retry_delay == timedelta(seconds=3)


def test_lines_starting_with_a_dot_are_doubled_and_the_data_ends_with_a_line_break():
    assert _dot_stuffed(b".a\r\nb\r\n..c\r\n.") == b"..a\r\nb\r\n...c\r\n..\r\n"
    assert _dot_stuffed(b"a\r\nb") == b"a\r\nb\r\n"


def test_a_body_line_with_a_leading_dot_arrives_intact(setup):
    config, conn, server = setup
    edition = sample_edition()
    story = dataclasses.replace(edition.sections[0].stories[0], summary=(".308 rifles were listed.",))
    section = dataclasses.replace(edition.sections[0], stories=(story,))
    record, transport = start(config, conn, edition=dataclasses.replace(edition, sections=(section,)),
                              recipients=["ann@example.org"])
    send(config, conn, record, transport)
    plain = next(parse(server.messages[0].content).iter_parts()).get_content()
    assert "\n.308 rifles were listed." in plain

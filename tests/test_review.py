"""Review before send, end to end through the CLI: feeds from a local HTTP server, mail to a local aiosmtpd
server, `digest run --once --now` as the clock. Editors get a marked preview; readers get only what they approved."""

from __future__ import annotations

import email
import json
import re
from email import policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from feedserver import Route, fixture
from smtpserver import SmtpServer
from test_lifecycle import FEED_TITLES, READERS, project, titles_in

from digest.cli.main import main
from digest.config import load_config
from digest.errors import ConfigError

EDITOR = "editor@example.com"
EDITION = "weekly-20261123T0700+0000"
BEFORE = "2026-11-23T06:50:00+00:00"
"""The first `digest run`: a new store owes nothing from before it."""
DUE = "2026-11-23T07:05:00+00:00"
"""Five minutes after the fire time (07:00 in London, GMT in November)."""


def reviewed_project(tmp_path: Path, feed_url: str, port: int, **review: object) -> Path:
    path = project(tmp_path, feed_url, port=port)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["editions"]["weekly"]["review"] = {"editors": [EDITOR], "deadline": "6h", **review}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def digest(config: Path, *args: str):
    return CliRunner().invoke(main, [*args, "--config", str(config)], catch_exceptions=False)


def run_once(config: Path, now: str):
    return digest(config, "run", "--once", "--now", now)


def parsed(content: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(content, policy=policy.default)


def to(server: SmtpServer, address: str) -> list[bytes]:
    return [m.content for m in server.messages if address in m.recipients]


def listed(config: Path) -> dict:
    (entry,) = [e for e in json.loads(digest(config, "editions", "--json").stdout)["editions"] if e["id"] == EDITION]
    return entry


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def reviewed(tmp_path, feed_server, smtp):
    def make(**review: object) -> Path:
        feed = feed_server.route("/monitor.rss", Route(fixture("themed.rss")))
        config = reviewed_project(tmp_path, feed, smtp.port, **review)
        assert run_once(config, BEFORE).stdout == "nothing due now\n"
        return config

    return make


def test_editors_get_a_marked_preview_drop_a_story_and_readers_get_the_approved_rest(reviewed, smtp):
    config = reviewed()
    ran = run_once(config, DUE)
    assert ran.exit_code == 0, ran.output
    assert ran.stdout.startswith(
        f"weekly due 2026-11-23 07:00 GMT: in review (preview of {EDITION} sent to 1 of 1 editor(s); "
        f"awaiting `digest approve {EDITION}` until 2026-11-23 13:05 UTC)"
    )
    assert smtp.copies_per_recipient() == {EDITOR: 1}  # readers get nothing yet

    (preview_bytes,) = to(smtp, EDITOR)
    preview = parsed(preview_bytes)
    assert preview["Subject"] == f"[PREVIEW, awaiting approval] The Weekly Digest — 23 November 2026 ({EDITION})"
    text = preview.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    html = preview.get_body(preferencelist=("html",)).get_content()
    for body in (text, html):
        assert "PREVIEW FOR REVIEW: not sent to readers" in body
        assert f"digest approve {EDITION}" in body
        assert "Deadline: 2026-11-23 13:05 UTC; without approval by then it is held until approved." in body
    assert f'digest drop {EDITION} STORY --reason "why"' in text
    (page,) = list(preview.iter_attachments())
    assert page.get_filename() == f"{EDITION}.html" and page.get_content_type() == "text/html"
    assert titles_in(preview_bytes) == FEED_TITLES
    stories = dict(re.findall(r"^  \d+\. (\S+)  (.+)$", text, re.MULTILINE))
    assert set(stories.values()) == FEED_TITLES

    entry = listed(config)
    assert (entry["state"], entry["review_deadline"]) == ("in-review", "2026-11-23T13:05:00+00:00")
    # the preview is a send of its own kind: shown as the editors', never as the edition sent to readers
    assert (entry["readers"], entry["preview"]) == ({"sent": 0, "pending": 0, "failed": 0},
                                                    {"sent": 1, "pending": 0, "failed": 0})
    first, second = digest(config, "editions").stdout.splitlines()[:2]
    assert "not sent yet" in first and second.endswith("; preview to editors: 1 sent")
    unreviewed = digest(config, "publish", EDITION)  # the archive is public: only approval publishes it
    assert unreviewed.exit_code == 1 and f"`digest approve {EDITION}` publishes it" in unreviewed.stderr

    dropped_id, dropped_title = next(iter(stories.items()))
    dropped = digest(config, "drop", EDITION, dropped_id, "--reason", "misquotes the mayor", "--by", "ed")
    assert dropped.exit_code == 0, dropped.output
    assert dropped.stdout == (
        f"{EDITION}: dropped {dropped_id} {dropped_title!r} (misquotes the mayor); 1 story left; "
        f"`digest approve {EDITION}` sends them\n"
    )
    explained = digest(config, "editions", "--explain").stdout
    assert f"{EDITION} (in-review, review deadline 2026-11-23 13:05 UTC)" in explained
    assert f"dropped {dropped_id} {dropped_title!r}: misquotes the mayor (by ed, " in explained

    approved = digest(config, "approve", EDITION)
    assert approved.exit_code == 0, approved.output
    assert approved.stdout.startswith(
        f"{EDITION}: approved; The Weekly Digest of 23 November 2026: sent to 2 of 2 readers via SMTP"
    )
    assert smtp.copies_per_recipient() == {EDITOR: 1, **{reader: 1 for reader in READERS}}
    for reader in READERS:
        (message,) = to(smtp, reader)
        assert titles_in(message) == FEED_TITLES - {dropped_title}
        assert "PREVIEW" not in parsed(message)["Subject"]
    assert preview["Message-ID"].strip() not in {
        parsed(m)["Message-ID"].strip() for reader in READERS for m in to(smtp, reader)
    }
    entry = listed(config)
    assert (entry["state"], entry["stories"], entry["readers"]) == ("published", 1, {"sent": 2, "pending": 0, "failed": 0})
    assert [(d["story"], d["reason"], d["by"]) for d in entry["dropped"]] == [(dropped_id, "misquotes the mayor", "ed")]

    again = digest(config, "approve", EDITION)
    assert again.exit_code == 0
    assert again.stdout.startswith(f"{EDITION}: already approved and sent (")
    assert again.stdout.endswith("); nothing sent again\n")
    assert smtp.copies_per_recipient() == {EDITOR: 1, **{reader: 1 for reader in READERS}}

    # the dropped story does not come back: the published edition closed its window
    later = run_once(config, "2026-11-30T07:05:00+00:00")
    assert later.stdout == "weekly due 2026-11-30 07:00 GMT: nothing new, not sent\n"
    assert len(smtp.messages) == 3


def test_past_the_deadline_an_edition_that_says_hold_is_held_and_reported(reviewed, smtp):
    config = reviewed(on_deadline="hold")
    assert run_once(config, DUE).exit_code == 0
    assert run_once(config, "2026-11-23T13:00:00+00:00").stdout == "nothing due now\n"  # before the deadline
    late = run_once(config, "2026-11-23T13:06:00+00:00")
    assert late.exit_code == 0, late.output
    held = (
        f"the review deadline 2026-11-23 13:05 UTC passed without approval: held, nothing sent; "
        f"`digest approve {EDITION}` sends it"
    )
    assert late.stdout == f"weekly due 2026-11-23 07:00 GMT: held ({held})\n"
    assert f"WARNING {EDITION}: {held}" in late.stderr
    assert listed(config)["state"] == "held"
    table = digest(config, "editions").stdout.splitlines()
    assert table[0].split()[:2] == [EDITION, "held"]
    assert smtp.copies_per_recipient() == {EDITOR: 1}
    assert run_once(config, "2026-11-23T13:10:00+00:00").stdout == "nothing due now\n"  # reported once

    approved = digest(config, "approve", EDITION)  # a held edition can still be approved
    assert approved.exit_code == 0, approved.output
    assert smtp.copies_per_recipient() == {EDITOR: 1, **{reader: 1 for reader in READERS}}


def test_past_the_deadline_an_edition_that_says_send_goes_out_as_it_is(reviewed, smtp):
    config = reviewed(on_deadline="send")
    assert run_once(config, DUE).exit_code == 0
    sent = run_once(config, "2026-11-23T13:06:00+00:00")
    assert sent.exit_code == 0, sent.output
    assert sent.stdout == "weekly due 2026-11-23 07:00 GMT: sent\n"
    assert smtp.copies_per_recipient() == {EDITOR: 1, **{reader: 1 for reader in READERS}}
    for reader in READERS:
        assert titles_in(to(smtp, reader)[0]) == FEED_TITLES
    assert listed(config)["state"] == "published"
    assert digest(config, "approve", EDITION).stdout.endswith("nothing sent again\n")
    assert len(smtp.messages) == 3


def test_a_fire_time_while_a_review_is_open_builds_nothing_and_its_stories_wait(reviewed, smtp, feed_server):
    config = reviewed(deadline="8d")
    assert run_once(config, DUE).exit_code == 0
    nextweek = run_once(config, "2026-11-30T07:05:00+00:00")
    assert nextweek.stdout.startswith(
        f"weekly due 2026-11-30 07:00 GMT: held (edition {EDITION} is still in-review: nothing is built until it "
        f"is approved (`digest approve {EDITION}`); the stories since go in the edition after it)"
    )
    blocked = digest(config, "send", "--now", "2026-11-30T08:00:00+00:00")
    assert blocked.exit_code == 1 and f"`digest approve {EDITION}` sends it" in blocked.stderr
    assert smtp.copies_per_recipient() == {EDITOR: 1}
    preview = digest(config, "build", "--out", str(config.parent / "d"), "--now", "2026-11-30T08:00:00+00:00")
    assert preview.exit_code == 0  # a later draft: `approve weekly` still means the edition in review
    by_name = digest(config, "approve", "weekly")
    assert by_name.exit_code == 0 and by_name.stdout.startswith(f"{EDITION}: approved; ")
    assert smtp.copies_per_recipient() == {EDITOR: 1, **{reader: 1 for reader in READERS}}


def test_dropping_every_story_then_approving_sends_nothing_and_closes_the_edition(reviewed, smtp):
    config = reviewed()
    run_once(config, DUE)
    for _ in FEED_TITLES:
        assert digest(config, "drop", EDITION, "1").exit_code == 0
    closed = digest(config, "approve", EDITION)
    assert (closed.exit_code, closed.stdout) == (0, f"{EDITION}: every story was dropped; nothing sent, the edition is closed\n")
    again = digest(config, "approve", EDITION)  # not "already approved and sent": nothing was
    assert (again.exit_code, again.stdout) == (0, closed.stdout)
    assert smtp.copies_per_recipient() == {EDITOR: 1}
    assert listed(config)["state"] == "published"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["approve", "weekly-20990101T0000+0000"], "no edition 'weekly-20990101T0000+0000'"),
        (["drop", "weekly-20990101T0000+0000", "1"], "no edition 'weekly-20990101T0000+0000'"),
        (["drop", EDITION, "99"], f"edition {EDITION} has no story '99'"),
        (["drop", EDITION, "no-such-story"], f"edition {EDITION} has no story 'no-such-story'"),
    ],
)
def test_an_unknown_edition_or_story_is_a_clear_error(reviewed, smtp, args, message):
    config = reviewed()
    run_once(config, DUE)
    result = digest(config, *args)
    assert result.exit_code == 2 and message in result.stderr
    assert smtp.copies_per_recipient() == {EDITOR: 1}


def test_approving_a_plain_draft_is_refused(tmp_path, feed_server, smtp):
    config = project(tmp_path, feed_server.route("/monitor.rss", Route(fixture("themed.rss"))), port=smtp.port)
    assert digest(config, "build", "--out", str(tmp_path / "d"), "--now", "2026-11-21T07:00:00+00:00").exit_code == 0
    refused = digest(config, "approve", "weekly")
    assert refused.exit_code == 1 and "is a draft, not in review" in refused.stderr
    assert smtp.messages == []


def test_review_config_is_checked_with_its_line(tmp_path, feed_server, smtp):
    config = reviewed_project(tmp_path, feed_server.route("/monitor.rss", Route(fixture("themed.rss"))), smtp.port)
    data = json.loads(config.read_text(encoding="utf-8"))
    data["editions"]["weekly"]["review"] = {"editors": [EDITOR, "ed@@example"], "deadline": "6h"}
    config.write_text(json.dumps(data, indent=1), encoding="utf-8")
    checked = digest(config, "validate")
    assert checked.exit_code == 2
    assert re.search(r"schedule\.yaml:\d+: editions\.weekly\.review\.editors#2: editor 'ed@@example' is not a valid",
                     checked.stderr)
    for review, complaint in (
        ({"editors": [], "deadline": "6h"}, "editions.weekly.review.editors: needs at least 1 entry, has none"),
        ({"editors": [EDITOR], "deadline": "soon"}, "editions.weekly.review.deadline: 'soon' is not a duration"),
        ({"editors": [EDITOR], "on_deadline": "publish"}, "editions.weekly.review.on_deadline: Input should be"),
    ):
        data["editions"]["weekly"]["review"] = review
        config.write_text(json.dumps(data, indent=1), encoding="utf-8")
        with pytest.raises(ConfigError, match=re.escape(complaint)):
            load_config(config)
    data["editions"]["weekly"]["review"] = {"editors": [EDITOR]}
    data["editions"]["weekly"]["schedule"] = None
    config.write_text(json.dumps(data, indent=1), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"editions\.weekly\.review: a reviewed edition needs a schedule"):
        load_config(config)


def test_an_editor_who_is_also_a_reader_gets_a_preview_with_a_message_id_of_its_own(tmp_path):
    from datetime import UTC, datetime

    from edition_fixture import sample_edition
    from smtpserver import delivery_config

    from digest.delivery.compose import compose
    from digest.delivery.preview import preview_message, preview_message_id
    from digest.render.edition import UNSUBSCRIBE_TOKEN

    config = delivery_config(tmp_path, recipients=[EDITOR])
    outgoing = compose(config, "weekly", sample_edition(), date=datetime(2026, 11, 23, 7, tzinfo=UTC))
    assert preview_message_id(outgoing, EDITOR) != outgoing.message_id(EDITOR)
    deadline = datetime(2026, 11, 23, 13, tzinfo=UTC)
    message = parsed(preview_message(outgoing, EDITOR, deadline=deadline, on_deadline="send"))
    assert message["Message-ID"].strip() == preview_message_id(outgoing, EDITOR)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "without approval by then it is sent to readers as it is then" in text
    assert UNSUBSCRIBE_TOKEN not in text and "each reader's own unsubscribe link" in text
    numbered = re.findall(r"^  (\d+)\. ", text.replace("\r\n", "\n"), re.MULTILINE)
    assert numbered == [str(i) for i in range(1, len(sample_edition().stories) + 1)]


def test_a_run_killed_while_mailing_the_preview_does_not_mail_an_editor_twice_on_restart(reviewed, smtp):
    """Killed (SIGKILL) while the server holds the second editor's 250: the first editor has the preview, and
    nothing says so in the runs table. A second `digest run` meanwhile stops at the scheduler lease; the restart
    mails the second editor only (the server dropped the copy whose 250 never went out)."""
    import os
    import signal
    import subprocess

    from smtpserver import REPO
    from test_delivery_cli import command

    second = "editor2@example.com"
    config = reviewed(editors=[EDITOR, second])
    args = command("run", "--once", "--now", DUE, "--config", str(config))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    smtp.faults.slow_after, smtp.faults.slow_replies, smtp.faults.slow_reply = 1, 1, 30.0
    with subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env) as first:
        assert smtp.handler.replying.wait(60), "the second editor's preview never reached the server"
        meanwhile = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
        first.send_signal(signal.SIGKILL)
    assert meanwhile.returncode == 75, meanwhile.stderr
    assert "is running the scheduler (digest run) from this store" in meanwhile.stderr
    assert smtp.copies_per_recipient() == {EDITOR: 1}

    restarted = run_once(config, "2026-11-23T07:10:00+00:00")
    assert restarted.exit_code == 0, restarted.output
    assert restarted.stdout.startswith(
        f"weekly due 2026-11-23 07:00 GMT: in review (preview of {EDITION} sent to 2 of 2 editor(s); "
    )
    assert f"editor {second} may already have the preview" in restarted.stderr  # its 250 never came
    assert smtp.copies_per_recipient() == {EDITOR: 1, second: 1}
    assert {address: len(ids) for address, ids in smtp.message_ids_per_recipient().items()} == {EDITOR: 1, second: 1}
    assert run_once(config, "2026-11-23T07:15:00+00:00").stdout == "nothing due now\n"
    assert smtp.copies_per_recipient() == {EDITOR: 1, second: 1}

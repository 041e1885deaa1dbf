"""Previews never cost a reader a story: build, send, publish and editions through the CLI, with feeds
served by a local HTTP server and delivery to the outbox or a local aiosmtpd server."""

from __future__ import annotations

import email
import json
from email import policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from feedserver import Route, fixture
from smtpserver import SmtpServer, delivery_config

from digest.cli.main import main

READERS = ["ann@example.org", "bob@example.net"]
FEED_TITLES = {
    "Settlers torch cars and olive groves in Turmus Ayya",
    "Dutch court halts export of F-35 parts",
}
"""The feed's stories an edition shows ("City council approves new bus lanes" is near no theme)."""


def project(tmp_path: Path, feed_url: str, *, port: int | None = None) -> Path:
    """A config reading one feed and no seeds, so every story of an edition comes from the feed."""
    delivery_config(tmp_path, recipients=READERS, port=port)
    path = tmp_path / "schedule.yaml"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["sources"]["seeds"] = None
    data["feeds"] = [{"url": feed_url, "name": "Monitor"}]
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def digest(config: Path, *args: str):
    return CliRunner().invoke(main, [*args, "--config", str(config)], catch_exceptions=False)


def titles_in(message: bytes) -> set[str]:
    parsed = email.message_from_bytes(message, policy=policy.default)
    text = parsed.get_body(preferencelist=("plain",)).get_content()
    return {title for title in FEED_TITLES if title in " ".join(text.split())}


def outbox_titles(folder: Path) -> dict[str, set[str]]:
    """Reader -> feed story titles in the messages written for them, over every edition."""
    found: dict[str, set[str]] = {}
    for path in folder.glob("*/*.eml"):
        found.setdefault(path.stem, set()).update(titles_in(path.read_bytes()))
    return found


def test_a_preview_then_a_send_gives_every_reader_every_previewed_story(tmp_path, feed_server):
    config = project(tmp_path, feed_server.route("/monitor.rss", Route(fixture("themed.rss"))))
    preview = digest(config, "build", "--out", str(tmp_path / "preview"), "--now", "2026-11-21T07:00:00+00:00")
    assert preview.exit_code == 0, preview.output
    assert preview.stdout.endswith(f"; draft written to {tmp_path / 'preview'}/ (nothing sent or archived yet)\n")
    assert "weekly-2026" not in preview.output
    previewed = titles_in(next((tmp_path / "preview").glob("*.eml")).read_bytes())
    assert previewed == FEED_TITLES
    assert not (tmp_path / "archive").exists()  # drafts are never archived
    assert not (tmp_path / "outbox").exists()

    sent = digest(config, "send", "--now", "2026-11-23T07:00:00+00:00")
    assert sent.exit_code == 0, sent.output
    assert sent.stdout.startswith("The Weekly Digest of 23 November 2026: messages for 2 of 2 readers written to ")
    assert outbox_titles(tmp_path / "outbox") == {reader: previewed for reader in READERS}
    manifest = json.loads((tmp_path / "archive" / "editions.json").read_text(encoding="utf-8"))
    assert [entry["id"] for entry in manifest["editions"]] == ["weekly-20261123T0700+0000"]

    listed = json.loads(digest(config, "editions", "--json").stdout)
    assert listed["schema"] == 1
    assert [(e["id"], e["state"], e["stories"], e["readers"]) for e in listed["editions"]] == [
        ("weekly-20261121T0700+0000", "draft", 2, {"sent": 0, "pending": 0, "failed": 0}),
        ("weekly-20261123T0700+0000", "published", 2, {"sent": 2, "pending": 0, "failed": 0}),
    ]
    table = digest(config, "editions").stdout.splitlines()
    assert table == [
        "weekly-20261121T0700+0000  draft      2 stories  not sent yet",
        "  window the start → 2026-11-21 07:00 UTC",
        "weekly-20261123T0700+0000  published  2 stories  2 sent",
        "  window the start → 2026-11-23 07:00 UTC",
        "2 editions: 1 draft, 1 published",
    ]
    assert listed["editions"][1]["bounces"] == {"hard": 0, "soft": 0}

    # the draft built before that send is out of date: publishing it would repeat its stories
    stale = digest(config, "publish", "weekly-20261121T0700+0000")
    assert stale.exit_code == 1 and "is out of date" in stale.stderr


def test_sending_again_with_nothing_new_sends_nothing_and_says_so(tmp_path, feed_server):
    with SmtpServer() as server:
        config = project(tmp_path, feed_server.route("/monitor.rss", Route(fixture("themed.rss"))), port=server.port)
        first = digest(config, "send", "--now", "2026-11-23T07:00:00+00:00")
        assert first.exit_code == 0, first.output
        again = digest(config, "send", "--now", "2026-11-30T07:00:00+00:00")
        assert again.exit_code == 0, again.output
        assert again.stdout.strip() == "The Weekly Digest of 30 November 2026: nothing sent: the edition has no stories"
        assert server.copies_per_recipient() == {reader: 1 for reader in READERS}
        forced = digest(config, "send", "--now", "2026-11-30T07:00:00+00:00", "--force")
        assert forced.stdout.strip() == "The Weekly Digest of 30 November 2026: nothing sent: the edition has no stories"
        assert server.copies_per_recipient() == {reader: 1 for reader in READERS}


def test_a_build_that_fails_takes_no_story_from_the_next_send(tmp_path, feed_server):
    with SmtpServer() as server:
        config = project(tmp_path, feed_server.route("/monitor.rss", Route(fixture("themed.rss"))), port=server.port)
        (tmp_path / "blocked").write_text("a file, not a folder", encoding="utf-8")
        failed = digest(config, "build", "--out", str(tmp_path / "blocked" / "edition"),
                        "--now", "2026-11-21T07:00:00+00:00")
        assert failed.exit_code == 1
        assert f"{tmp_path / 'blocked' / 'edition'}: cannot write the edition there" in failed.stderr
        assert json.loads(digest(config, "editions", "--json").stdout)["editions"] == []
        sent = digest(config, "send", "--now", "2026-11-23T07:00:00+00:00")
        assert sent.exit_code == 0, sent.output
        assert server.copies_per_recipient() == {reader: 1 for reader in READERS}
        for message in server.messages:
            assert titles_in(message.content) == FEED_TITLES


def test_a_web_only_edition_is_published_to_the_archive_and_closes_its_window(tmp_path, feed_server):
    config = project(tmp_path, feed_server.route("/monitor.rss", Route(fixture("themed.rss"))))
    assert digest(config, "build", "--out", str(tmp_path / "d"), "--now", "2026-11-21T07:00:00+00:00").exit_code == 0
    published = digest(config, "publish", "weekly")
    assert published.exit_code == 0, published.output
    page = tmp_path / "archive" / "weekly-2026-11-21-0700.html"
    assert published.stdout.strip() == f"weekly-20261121T0700+0000: published to the archive: {page}"
    assert page.exists() and not (tmp_path / "outbox").exists()
    again = digest(config, "publish", "weekly-20261121T0700+0000")
    assert again.exit_code == 1 and "is already published" in again.stderr
    nothing = digest(config, "send", "--now", "2026-11-23T07:00:00+00:00")
    assert nothing.stdout.strip() == "The Weekly Digest of 23 November 2026: nothing sent: the edition has no stories"


@pytest.mark.parametrize("reference", ["weekly", "weekly-20990101T0000+0000"])
def test_publishing_an_unknown_edition_is_a_clear_error(tmp_path, feed_server, reference):
    config = project(tmp_path, feed_server.route("/monitor.rss", Route(fixture("themed.rss"))))
    result = digest(config, "publish", reference)
    assert result.exit_code == 2 and f"no edition {reference!r}" in result.stderr


GREYLISTED = "450 4.7.1 Greylisted, please try again later"


def greylist(server: SmtpServer, times: int) -> None:
    """Every reader refused with a 4xx ``times`` times (a send tries each smtp.retries + 1 times)."""
    for reader in READERS:
        server.faults.fail_rcpt[reader].extend([GREYLISTED] * times)


def test_greylisted_readers_stay_pending_and_the_next_send_delivers_them(tmp_path, feed_server):
    with SmtpServer() as server:
        config = project(tmp_path, feed_server.route("/monitor.rss", Route(fixture("themed.rss"))), port=server.port)
        greylist(server, 4)
        first = digest(config, "send", "--now", "2026-11-23T07:00:00+00:00")
        assert first.exit_code == 3, first.output
        assert "2 still pending" in first.stdout and "`digest send` or `digest run` tries again from" in first.stdout
        readers = json.loads(digest(config, "editions", "--json").stdout)["editions"][0]["readers"]
        assert readers == {"sent": 0, "pending": 2, "failed": 0}
        assert server.messages == []
        again = CliRunner().invoke(main, ["--verbose", "send", "--config", str(config)], catch_exceptions=False)
        assert again.exit_code == 0, again.output
        assert "resuming the send of weekly-20261123T0700+0000" in again.stderr
        assert "pending" not in again.stdout
        assert server.copies_per_recipient() == {reader: 1 for reader in READERS}


def test_greylisted_readers_are_delivered_by_digest_run_once_due(tmp_path, feed_server):
    from contextlib import closing
    from datetime import UTC, datetime, timedelta

    from digest.config import load_config
    from digest.scheduler.fire_time import retry_deferred
    from digest.store import connect

    with SmtpServer() as server:
        path = project(tmp_path, feed_server.route("/monitor.rss", Route(fixture("themed.rss"))), port=server.port)
        greylist(server, 4)
        assert digest(path, "send", "--now", "2026-11-23T07:00:00+00:00").exit_code == 3
        config = load_config(path)
        with closing(connect(config.store)) as conn:
            assert retry_deferred(config, conn, now=datetime.now(UTC)) == []  # not due yet
            reports = retry_deferred(config, conn, now=datetime.now(UTC) + timedelta(minutes=11))
        assert [(r.sent, r.pending) for r in reports] == [(2, 0)]
        assert server.copies_per_recipient() == {reader: 1 for reader in READERS}


SEED = "{title}\n\nResidents of the village said settlers attacked homes and burned olive groves on the hillside overnight. " \
       "The attack was the third this month, according to the village council, which asked for protection.\n"


def test_dated_seeds_obey_since_and_until_and_a_reversed_period_is_refused(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name, day in (("early", "2026-11-01"), ("inside", "2026-11-20"), ("undated", None)):
        (seeds / f"{name}.txt").write_text(SEED.format(title=f"Settlers attack the {name} village"), encoding="utf-8")
        if day:
            (seeds / f"{name}.meta.yaml").write_text(f"publisher: Monitor\npublished: {day}\n", encoding="utf-8")
    delivery_config(tmp_path, recipients=READERS)
    config = tmp_path / "schedule.yaml"
    data = json.loads(config.read_text(encoding="utf-8"))
    data["sources"]["seeds"] = str(seeds)
    config.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "period"
    built = digest(config, "build", "--out", str(out), "--since", "2026-11-15", "--until", "2026-11-30",
                   "--now", "2026-12-01T07:00:00+00:00")
    assert built.exit_code == 0, built.output
    edition = json.loads(next(out.glob("*.json")).read_text(encoding="utf-8"))
    sections = [*edition["sections"], *([edition["also_noted"]] if edition["also_noted"] else [])]
    documents = {source["document"] for section in sections for story in section["stories"] for source in story["sources"]}
    assert documents == {"inside.txt", "undated.txt"}
    reversed_ = digest(config, "build", "--out", str(out), "--since", "2026-11-30", "--until", "2026-11-15")
    assert reversed_.exit_code == 2 and "the period is reversed" in reversed_.stderr


def test_a_build_with_no_source_at_all_is_a_clear_error(tmp_path):
    delivery_config(tmp_path, recipients=READERS)
    config = tmp_path / "schedule.yaml"
    data = json.loads(config.read_text(encoding="utf-8"))
    data["sources"]["seeds"] = None
    config.write_text(json.dumps(data), encoding="utf-8")
    result = digest(config, "build", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "nothing to build from: sources.seeds is not set and no feed is enabled" in result.stderr
    assert not (tmp_path / "out").exists()

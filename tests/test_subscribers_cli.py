"""`digest subscribers …` and `digest suppressions …` as a user runs them, on a real store."""

from __future__ import annotations

import json
from contextlib import closing

from click.testing import CliRunner
from smtpserver import delivery_config

from digest.cli.main import main
from digest.delivery import ledger, subscribers, suppressions
from digest.store import connect


def digest(tmp_path, *args):
    result = CliRunner().invoke(main, [*args, "--config", str(tmp_path / "schedule.yaml")], catch_exceptions=False)
    return result


def test_add_list_remove_with_and_without_json(tmp_path):
    config = delivery_config(tmp_path, recipients=["ann@example.org"])
    added = digest(tmp_path, "subscribers", "add", "Dana@Example.com", "eve@example.com", "dana@example.com")
    assert added.exit_code == 0, added.output
    assert added.stdout.strip() == "2 subscriber(s) added to weekly, 0 already there"
    again = digest(tmp_path, "subscribers", "add", "eve@example.com", "--json")
    document = json.loads(again.stdout)
    assert document["command"] == "subscribers add" and document["added"] == 0 and document["exit_code"] == 0

    listed = json.loads(digest(tmp_path, "subscribers", "list", "--json").stdout)
    assert [(r["address"], r["edition"], r["source"], r["suppressed"]) for r in listed["subscribers"]] == [
        ("Dana@example.com", "weekly", "operator", False), ("eve@example.com", "weekly", "operator", False),
    ]
    text = digest(tmp_path, "subscribers", "list").stdout.splitlines()
    assert text[0].startswith("Dana@example.com  weekly  operator  ") and text[-1] == "2 subscriber(s)"

    removed = digest(tmp_path, "subscribers", "remove", "DANA@example.com", "nobody@example.com")
    assert removed.stdout.strip() == "1 subscriber(s) removed from weekly, 1 was not subscribed"
    with closing(subscribers.ensure_subscribers(connect(config.store))) as conn:
        assert subscribers.edition_readers(config, conn, "weekly") == ["ann@example.org", "eve@example.com"]


def test_bad_addresses_change_nothing_and_say_where(tmp_path):
    delivery_config(tmp_path, recipients=[])
    result = digest(tmp_path, "subscribers", "add", "ok@example.com", "not-an-address")
    assert result.exit_code == 2 and "argument 2: 'not-an-address' is not a valid address" in result.stderr
    assert json.loads(digest(tmp_path, "subscribers", "list", "--json").stdout)["subscribers"] == []
    assert digest(tmp_path, "subscribers", "add", "--edition", "daily", "a@example.com").exit_code == 2


def test_import_a_csv_and_export_it_again(tmp_path):
    delivery_config(tmp_path, recipients=[])
    source = tmp_path / "list.csv"
    source.write_text("Name,Email\nDana,dana@example.com\n\nEve,eve@example.com\n", encoding="utf-8")
    imported = digest(tmp_path, "subscribers", "import", str(source))
    assert imported.exit_code == 0 and imported.stdout.startswith("2 subscriber(s) imported into weekly from list.csv")

    bad = tmp_path / "bad.csv"
    bad.write_text("frank@example.com\nnope\n", encoding="utf-8")
    refused = digest(tmp_path, "subscribers", "import", str(bad))
    assert refused.exit_code == 2 and "bad.csv:2: 'nope' is not a valid address" in refused.stderr

    out = tmp_path / "export.csv"
    assert digest(tmp_path, "subscribers", "export", str(out)).exit_code == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "address,edition,source,subscribed_at,suppressed"
    assert [line.split(",")[0:3] for line in lines[1:]] == [
        ["dana@example.com", "weekly", "import"], ["eve@example.com", "weekly", "import"],
    ]
    to_stdout = digest(tmp_path, "subscribers", "export")
    assert to_stdout.stdout == out.read_text(encoding="utf-8")
    # an export imports again as it is (its 'address' column), adding nothing new
    assert digest(tmp_path, "subscribers", "import", str(out)).stdout.startswith("0 subscriber(s) imported")


def test_the_suppression_list_is_listed_and_can_be_lifted(tmp_path):
    config = delivery_config(tmp_path, recipients=["ann@example.org"])
    assert digest(tmp_path, "subscribers", "add", "dana@example.com").exit_code == 0
    assert digest(tmp_path, "unsubscribe", "dana@example.com", "--reason", "asked by phone").exit_code == 0
    listed = json.loads(digest(tmp_path, "suppressions", "list", "--json").stdout)
    assert [(s["address"], s["reason"]) for s in listed["suppressions"]] == [("dana@example.com", "asked by phone")]
    assert json.loads(digest(tmp_path, "subscribers", "list", "--json").stdout)["subscribers"][0]["suppressed"]

    lifted = digest(tmp_path, "suppressions", "remove", "Dana@example.com", "--json")
    assert json.loads(lifted.stdout)["removed"] == 1
    with closing(ledger.ensure_ledger(connect(config.store))) as conn:
        assert suppressions.suppressions(conn) == []
    assert digest(tmp_path, "suppressions", "list").stdout.strip() == "0 suppressed address(es)"
    again = digest(tmp_path, "suppressions", "remove", "dana@example.com", "erin@example.com")
    assert again.stdout == "0 address(es) taken off the suppression list, 2 were not on it\n"
    once = digest(tmp_path, "suppressions", "remove", "dana@example.com")
    assert once.stdout == "0 address(es) taken off the suppression list, 1 was not on it\n"

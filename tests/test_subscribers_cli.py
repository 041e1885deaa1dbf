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


def test_a_csv_without_a_column_of_addresses_is_refused_once_naming_its_columns(tmp_path):
    delivery_config(tmp_path, recipients=[])
    people = tmp_path / "people.csv"
    people.write_text("Name,Phone,Contact\nAnn,0123,ann at example dot org\nBob,0456,bob\n" * 50, encoding="utf-8")
    result = CliRunner().invoke(main, ["subscribers", "import", str(people), "--config", str(tmp_path / "schedule.yaml")])
    assert result.exit_code == 2
    assert result.stderr == (
        "digest: people.csv: no column of addresses: found the columns 'Name', 'Phone', 'Contact'; a column named "
        "address, email, e-mail, email address, e-mail address or mail (any case) is needed, or a file of "
        "addresses alone, one per row. Nothing was imported\n"
    )
    assert "is not a valid address" not in result.output and result.stdout == ""
    assert json.loads(digest(tmp_path, "subscribers", "list", "--json").stdout)["subscribers"] == []


def test_a_mailing_list_export_s_email_address_column_is_found(tmp_path):
    """Mailchimp's export heads its column 'Email Address'; others write email_address."""
    delivery_config(tmp_path, recipients=[])
    export = tmp_path / "members.csv"
    export.write_text("First Name,Email Address\nAnn,ann@example.org\n", encoding="utf-8")
    other = tmp_path / "other.csv"
    other.write_text("name,EMAIL_ADDRESS\nBob,bob@example.org\n", encoding="utf-8")
    assert digest(tmp_path, "subscribers", "import", str(export)).stdout.startswith("1 subscriber(s) imported")
    assert digest(tmp_path, "subscribers", "import", str(other)).stdout.startswith("1 subscriber(s) imported")
    listed = json.loads(digest(tmp_path, "subscribers", "list", "--json").stdout)["subscribers"]
    assert [row["address"] for row in listed] == ["ann@example.org", "bob@example.org"]


def test_a_spreadsheet_s_csv_separated_by_semicolons_or_tabs_is_read_by_its_columns(tmp_path):
    """Spreadsheets in many languages write ';' between columns (the decimal comma takes ',')."""
    delivery_config(tmp_path, recipients=[])
    semicolons = tmp_path / "members.csv"
    semicolons.write_text("Name;E-Mail\nMüller, Ann;ann@example.org\nBob;bob@example.org\n", encoding="utf-8")
    tabs = tmp_path / "tabs.csv"
    tabs.write_text("email\tname\ncara@example.org\tCara\n", encoding="utf-8")
    assert digest(tmp_path, "subscribers", "import", str(semicolons)).stdout.startswith("2 subscriber(s) imported")
    assert digest(tmp_path, "subscribers", "import", str(tabs)).stdout.startswith("1 subscriber(s) imported")
    listed = json.loads(digest(tmp_path, "subscribers", "list", "--json").stdout)["subscribers"]
    assert [row["address"] for row in listed] == ["ann@example.org", "bob@example.org", "cara@example.org"]


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

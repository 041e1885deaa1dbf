"""Output for people and scripts: one summary line, --quiet, --verbose, --json and exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
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
        (["feeds", "remove", "99"], 1),  # failed: no such feed
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

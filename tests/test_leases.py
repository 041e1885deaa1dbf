"""One sender per edition, one scheduler per store: leases in the store, and what two processes do."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest
from smtpserver import REPO, SmtpServer, delivery_config
from test_delivery_cli import command, read_until

from digest import leases
from digest.leases import LeaseHeld, Me, acquire, current_holder, release, renew
from digest.store import connect

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
HOST = socket.gethostname()


@pytest.fixture
def conn(tmp_path):
    with closing(leases.ensure_leases(connect(tmp_path / "digest.sqlite"))) as opened:
        yield opened


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_free_lease_is_taken_and_a_live_holder_keeps_it(conn):
    first, second = Me("a" * 32, os.getpid(), HOST), Me("b" * 32, 4242, "elsewhere")
    acquire(conn, "send:weekly", first, what="sending edition 'weekly'", now=NOW)
    with pytest.raises(LeaseHeld, match=rf"another digest \(pid {os.getpid()} on {HOST}, since 2026-11-23T07:00:00\+00:00\) "
                                        r"is sending edition 'weekly' from this store; this one stops") as caught:
        acquire(conn, "send:weekly", second, what="sending edition 'weekly'", now=NOW + timedelta(seconds=59))
    assert caught.value.exit_code == 75
    assert current_holder(conn, "send:weekly").holder == first.holder
    acquire(conn, "send:daily", second, what="sending edition 'daily'", now=NOW)  # another edition: its own lease


def test_a_holder_on_this_host_whose_process_died_is_taken_over_at_once(conn):
    gone = Me("a" * 32, dead_pid(), HOST)
    acquire(conn, "scheduler", gone, what="running the scheduler", now=NOW)
    me = Me.this_process()
    acquire(conn, "scheduler", me, what="running the scheduler", now=NOW + timedelta(seconds=1))
    assert current_holder(conn, "scheduler").pid == os.getpid()
    assert not renew(conn, "scheduler", gone, now=NOW + timedelta(seconds=2))  # the dead one's lease is gone


def test_a_holder_elsewhere_is_taken_over_only_once_its_lease_ran_out(conn):
    remote = Me("a" * 32, 1, "another-host")
    acquire(conn, "send:weekly", remote, what="sending", now=NOW)
    assert renew(conn, "send:weekly", remote, now=NOW + timedelta(seconds=30))  # now runs out at +90 s
    me = Me.this_process()
    with pytest.raises(LeaseHeld):
        acquire(conn, "send:weekly", me, what="sending", now=NOW + timedelta(seconds=89))
    acquire(conn, "send:weekly", me, what="sending", now=NOW + timedelta(seconds=90))
    release(conn, "send:weekly", remote)  # releasing a lease one no longer holds changes nothing
    assert current_holder(conn, "send:weekly").holder == me.holder
    release(conn, "send:weekly", me)
    assert current_holder(conn, "send:weekly") is None


def test_held_renews_and_a_lost_lease_sets_the_stop_flag(tmp_path, monkeypatch):
    monkeypatch.setattr(leases, "RENEW_EVERY", timedelta(milliseconds=20))
    store = tmp_path / "digest.sqlite"
    stop = threading.Event()
    with leases.held(store, "send:weekly", what="sending", stop=stop) as lost:
        with closing(connect(store)) as other:
            other.execute("UPDATE leases SET holder = 'someone else'")
        assert lost.wait(10) and stop.is_set()
    with closing(connect(store)) as conn:
        assert current_holder(conn, "send:weekly").holder == "someone else"  # not released: not ours


def test_two_sends_started_together_mail_nobody_twice(tmp_path):
    readers = [f"reader{i:03d}@example.org" for i in range(150)]
    (tmp_path / "readers.txt").write_text("\n".join(readers) + "\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with SmtpServer() as server:
        delivery_config(tmp_path, recipients="readers.txt", port=server.port, smtp={"rate": 50})
        args = command("send", "--config", str(tmp_path / "schedule.yaml"), "--now", "2026-11-23T07:00:00+00:00")
        processes = [
            subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)
        ]
        results = [(p.wait(timeout=120), *p.communicate()) for p in processes]
        copies = server.copies_per_recipient()
    assert sorted(code for code, _, _ in results) == [0, 75], results
    (winner,) = [out for code, out, _ in results if code == 0]
    (loser,) = [err for code, _, err in results if code == 75]
    assert f"sent to {len(readers)} of {len(readers)} readers" in winner
    assert "digest: another digest (pid " in loser and "is sending edition 'weekly' from this store" in loser
    assert [r for r in readers if copies[r] != 1] == []


def test_a_second_digest_run_on_the_same_store_refuses_to_start(tmp_path):
    shutil.copy(REPO / "schedule.yaml", tmp_path / "schedule.yaml")
    (tmp_path / "seeds").symlink_to(REPO / "seeds")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = command("run", "--config", "schedule.yaml")
    lines: list[str] = []
    with subprocess.Popen(args, cwd=tmp_path, stderr=subprocess.PIPE, text=True, env=env) as first:
        try:
            assert read_until(first.stderr, "next run", lines), "".join(lines)
            second = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60)
            first.send_signal(signal.SIGTERM)
            assert first.wait(timeout=60) == 0
        finally:
            first.kill()
    assert second.returncode == 75, second.stderr
    assert "is running the scheduler (digest run) from this store" in second.stderr
    assert f"pid {first.pid} on {HOST}" in second.stderr
    assert "next run" not in second.stderr
    third = subprocess.Popen(args, cwd=tmp_path, stderr=subprocess.PIPE, text=True, env=env)  # the lease was released
    try:
        assert read_until(third.stderr, "next run", lines)
        third.send_signal(signal.SIGTERM)
        assert third.wait(timeout=60) == 0
    finally:
        third.kill()
        third.stderr.close()


def test_a_send_killed_mid_way_leaves_a_lease_the_next_send_takes_over(tmp_path):
    readers = [f"reader{i:03d}@example.org" for i in range(60)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with SmtpServer() as server:
        delivery_config(tmp_path, recipients=readers, port=server.port, smtp={"rate": 50})
        args = command("send", "--config", str(tmp_path / "schedule.yaml"), "--now", "2026-11-23T07:00:00+00:00")
        with subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env) as killed:
            lines: list[str] = []
            assert read_until(killed.stderr, "reader(s) via SMTP", lines), "".join(lines)
            killed.send_signal(signal.SIGKILL)
        resumed = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
        copies = server.copies_per_recipient()
    assert resumed.returncode == 0, resumed.stderr
    assert f"taking over the lease 'send:weekly' of pid {killed.pid} on {HOST}: process {killed.pid} is gone" in (
        resumed.stderr
    )
    assert [r for r in readers if copies[r] == 0] == []

"""The daemon as a real subprocess: polls on schedule, refuses a second copy, stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from datetime import time as dtime

import pytest

from monitor.demo.runner import demo_sources
from monitor.scheduler import digest_overdue, last_slot, poll_tick

from .conftest import ensure_dead

pytestmark = pytest.mark.slow


def write_config(path, newsroom, var, interval="2s"):
    host = newsroom.base_url.split("//")[1]
    lines = [
        "[store]", f'path = "{var}/daemon.db"',
        "[poll]", f'interval = "{interval}"', f'allow_private = ["{host}"]', "workers = 1",
        'timeout = "10s"', "jitter = 0.0",
        "[digest]", f'outbox = "{var}/outbox"', 'to = ["a@example.org"]',
    ]
    for src in demo_sources(newsroom.base_url):
        lines.append("[[feeds]]")
        for k, v in src.items():
            lines.append(f'{k} = "{v}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def polls(db) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT count(*) FROM polls").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_daemon_polls_refuses_second_and_stops_on_sigterm(tmp_path, newsroom):
    cfg = tmp_path / "config.toml"
    write_config(cfg, newsroom, tmp_path)
    db = tmp_path / "daemon.db"
    cmd = [sys.executable, "-m", "monitor.cli", "--config", str(cfg), "run"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while polls(db) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.3)
        assert polls(db) >= 2, proc.stderr.read() if proc.poll() is not None else "no polls"
        second = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        assert second.returncode == 2
        assert "another monitor daemon" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    finally:
        ensure_dead(proc)
    assert proc.returncode == 0, err
    assert "stopped" in err and "poll:" in err
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        dup = conn.execute("SELECT url, count(*) FROM articles GROUP BY url "
                           "HAVING count(*) > 1").fetchall()
        assert dup == []
        assert conn.execute("SELECT count(*) FROM agreements").fetchone()[0] >= 4


def test_sigterm_during_a_slow_poll_writes_nothing_half(tmp_path, newsroom):
    cfg = tmp_path / "config.toml"
    write_config(cfg, newsroom, tmp_path, interval="1h")
    newsroom.latency = 0.5  # every request slow: SIGTERM lands mid-poll
    db = tmp_path / "daemon.db"
    proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "--config", str(cfg), "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not newsroom.requests and time.monotonic() < deadline:
            time.sleep(0.1)
        assert newsroom.requests, "the daemon never polled"
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
        assert time.monotonic() - started < 10
    finally:
        ensure_dead(proc)
    assert proc.returncode == 0, err
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM polls").fetchone()[0] == 0


def test_digest_slots_and_overdue():
    at = dtime(8, 0)
    tz = "Asia/Shanghai"
    now = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    assert last_slot(now, at, tz) == datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
    early = datetime(2026, 3, 9, 23, 0, tzinfo=UTC)  # 07:00 in Shanghai
    assert last_slot(early, at, tz) == datetime(2026, 3, 9, 0, 0, tzinfo=UTC)
    sent_yesterday = datetime(2026, 3, 9, 0, 1, tzinfo=UTC)
    assert digest_overdue(now, at, tz, sent_yesterday, None)
    assert not digest_overdue(now, at, tz, datetime(2026, 3, 10, 0, 1, tzinfo=UTC), None)
    assert not digest_overdue(now, at, tz, None, None)  # never polled: nothing to send
    assert digest_overdue(now, at, tz, None, datetime(2026, 3, 1, tzinfo=UTC))


def test_poll_tick_follows_the_shortest_interval():
    from monitor.config import from_dict

    cfg = from_dict({"poll": {"interval": "30m"}, "feeds": [
        {"name": "a", "url": "https://a.example/rss", "interval": "8s"}]})
    assert poll_tick(cfg) == 2
    assert poll_tick(from_dict({})) == 60


def test_env_is_clean():
    assert "MONITOR_CONFIG" not in os.environ or os.environ["MONITOR_CONFIG"]


def test_a_dead_parsing_worker_is_replaced(make_config):
    """A worker killed mid-life (say, by the kernel for memory) breaks the pool; the next
    poll tick starts a new one and nothing is charged to the sources."""
    from monitor.pipeline import make_executor
    from monitor.scheduler import Daemon
    from monitor.store import Store

    cfg = make_config(poll={"workers": 2})
    daemon = Daemon(cfg)
    daemon._executor = make_executor(cfg)
    try:
        pid = daemon._executor.submit(os.getpid).result(timeout=60)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the pool notices the death
            try:
                daemon._executor.submit(os.getpid).result(timeout=5)
            except Exception:
                break
            time.sleep(0.1)
        broken = daemon._executor
        daemon.poll_job()  # fails on the broken pool, writes nothing, makes a new pool
        assert daemon._executor is not broken
        with Store(cfg.store_path) as store:
            assert store.count("articles") == 0
            assert all(r["failures"] == 0 for r in store.db.table("feeds").rows)
        daemon.poll_job()
        with Store(cfg.store_path) as store:
            assert store.count("articles") >= 30 and store.count("agreements") >= 4
    finally:
        daemon._executor.shutdown(wait=True, cancel_futures=True)

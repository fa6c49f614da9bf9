"""The SQLite store when something else holds it, it is read-only, or the disk is full.

Real files, real SQLite, the real newsroom on loopback; the daemon's own poll and
digest jobs (``Daemon.poll_job``/``digest_job``) run in-process, and one daemon
runs as a real process. The promise: a reader never stops a poll; a writer
makes it wait up to ``[store] busy_timeout``; past that, and on a read-only or
full store, the poll fails with one clear StoreError line, writes nothing at
all, and the daemon carries on and succeeds once the store is writable again.
(Two daemons on one store: see test_daemon.py.)
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from monitor.browse import datasette_command, write_metadata
from monitor.demo.newsroom import DEFAULT_SITE
from monitor.demo.runner import demo_sources
from monitor.errors import StoreError
from monitor.pipeline import make_executor, poll_once
from monitor.scheduler import Daemon
from monitor.store import Store

from .conftest import ensure_dead, free_port

TABLES = ("articles", "agreements", "agreement_articles", "polls", "articles_fts", "digests")


def counts(db: Path) -> dict[str, int]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        found = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        found["polled feeds"] = conn.execute(
            "SELECT count(*) FROM feeds WHERE last_polled_at IS NOT NULL").fetchone()[0]
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return found


def make_daemon(cfg) -> Daemon:
    daemon = Daemon(cfg)
    daemon._executor = make_executor(cfg)  # what Daemon.run sets up
    return daemon


def errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def wait_for_requests(newsroom, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not newsroom.requests and time.monotonic() < deadline:
        time.sleep(0.005)
    assert newsroom.requests, "the poll never fetched"


class WriteLock:
    """Another connection holding the write lock (BEGIN IMMEDIATE) from ``start`` to ``release``."""

    def __init__(self, db: Path) -> None:
        self.conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        self.released_at = 0.0

    def start(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.conn.execute("COMMIT")
        self.released_at = time.monotonic()
        self.conn.close()


# -- readers and writers ----------------------------------------------------------------




@pytest.fixture
def datasette(make_config):
    """A real Datasette process serving the (empty) store; yields its table URL."""
    cfg = make_config()
    Store(cfg.store_path).close()
    port = free_port()
    # the command `monitor serve` runs, started directly: terminating `monitor serve`
    # leaves its datasette child running (cli.serve does not forward the signal)
    proc = subprocess.Popen(datasette_command(cfg.store_path, port=port,
                                              metadata=write_metadata(cfg.store_path,
                                                                      cfg.store_path.parent)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}/{cfg.store_path.stem}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + ".json", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.skip("datasette did not start: " + proc.stderr.read1(2000).decode())
        yield cfg, base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_readers_never_block_a_poll(datasette, newsroom) -> None:
    cfg, base = datasette
    newsroom.latency = 0.05
    reader = sqlite3.connect(cfg.store_path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM articles").fetchone()[0] == 0  # a snapshot
    served: list[int] = []
    done = threading.Event()

    def browse() -> None:  # someone browsing the store in Datasette all through the poll
        while not done.is_set():
            served.append(httpx.get(base + "/articles.json?_shape=array&_size=5",
                                    timeout=10).status_code)
            time.sleep(0.05)

    browser = threading.Thread(target=browse)
    browser.start()
    try:
        with Store(cfg.store_path) as store:
            started = time.monotonic()
            report = poll_once(cfg, store)
            took = time.monotonic() - started
    finally:
        done.set()
        browser.join(15)
    assert report.failed == 0 and report.new_articles >= 30
    assert took < 20
    assert served and set(served) == {200}, served
    # the reader's transaction still sees its snapshot; a new one sees the poll
    assert reader.execute("SELECT count(*) FROM articles").fetchone()[0] == 0
    reader.execute("COMMIT")
    assert reader.execute("SELECT count(*) FROM articles").fetchone()[0] == report.new_articles
    reader.close()
    rows = httpx.get(base + "/articles.json?_shape=array&_size=max", timeout=10).json()
    assert len(rows) == report.new_articles


def test_a_writer_makes_the_poll_wait_then_it_succeeds(make_config, newsroom) -> None:
    cfg = make_config()
    Store(cfg.store_path).close()
    lock = WriteLock(cfg.store_path)

    def hold() -> None:  # from the poll's first request until well after its fetching
        wait_for_requests(newsroom)
        lock.start()
        time.sleep(3.0)
        lock.release()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        with Store(cfg.store_path) as store:
            report = poll_once(cfg, store)
            finished = time.monotonic()
    finally:
        holder.join(30)
    assert report.failed == 0 and report.new_articles >= 30
    assert finished >= lock.released_at > 0  # it waited for the lock
    assert counts(cfg.store_path)["articles"] == report.new_articles


def test_a_writer_past_the_busy_timeout_fails_the_poll_cleanly(
        make_config, newsroom, caplog: pytest.LogCaptureFixture) -> None:
    cfg = make_config(store={"busy_timeout": "1s"})
    Store(cfg.store_path).close()
    before = counts(cfg.store_path)
    lock = WriteLock(cfg.store_path)

    def hold() -> None:
        wait_for_requests(newsroom)
        lock.start()
        time.sleep(6.0)  # longer than the whole poll plus the busy timeout
        lock.release()

    holder = threading.Thread(target=hold)
    holder.start()
    daemon = make_daemon(cfg)
    caplog.set_level(logging.INFO, logger="monitor")
    try:
        daemon.poll_job()  # the daemon's job: it logs and returns
    finally:
        holder.join(30)
    assert lock.released_at and time.monotonic() >= lock.released_at
    [error] = errors(caplog)
    assert error.getMessage().startswith("poll failed: ")
    assert "database is locked" in error.getMessage() and str(cfg.store_path) in \
        error.getMessage()
    assert error.exc_info is None  # one line, no traceback
    after = counts(cfg.store_path)
    assert after == before, "a failed poll wrote something"
    assert "next poll in 60s" in error.getMessage()
    caplog.clear()
    fetched = len(newsroom.requests)
    daemon.poll_job()  # the next tick: still waiting, nothing fetched
    assert len(newsroom.requests) == fetched and not caplog.records
    daemon._poll_retry_at = 0  # as if the minute had passed
    daemon.poll_job()  # the lock is gone: the next poll does the work
    assert not errors(caplog)
    assert counts(cfg.store_path)["articles"] >= 30
    daemon._executor.shutdown()


# -- read-only ------------------------------------------------------------------------------


def make_immutable(path: Path, on: bool) -> None:
    """chmod stops writes, except for root; for root, the immutable attribute does."""
    if os.geteuid() != 0:
        path.chmod(0o444 if on else 0o644)
        return
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("running as root and chattr is not installed: cannot make a file read-only")
    result = subprocess.run([chattr, "+i" if on else "-i", str(path)], capture_output=True,
                            text=True)
    if result.returncode != 0:
        pytest.skip(f"chattr does not work here: {result.stderr.strip()}")


WIRE = (DEFAULT_SITE / "wire" / "rss.xml").read_text(encoding="utf-8")
ANCHOR = 'type="application/rss+xml"/>\n'


def polled_store(cfg, newsroom) -> None:
    """A store polled once (agreements undigested); then one more item for the next poll."""
    with Store(cfg.store_path) as store:
        poll_once(cfg, store)
        store.db.execute("UPDATE feeds SET next_poll_at = NULL")  # all due again
    newsroom.set_file("/wire/extra/library.html", (
        "<html><head><title>Reading room opens</title></head><body><article>"
        "<h1>Reading room opens at the city library</h1><p>The municipal library opened "
        "a new reading room on Tuesday, with forty desks and a children's corner.</p>"
        "<p>Librarians said it would host weekly talks by local authors.</p>"
        "</article></body></html>"), "text/html; charset=utf-8")
    item = ("<item><title>Reading room opens at the city library</title>"
            "<link>{base}/wire/extra/library.html</link><guid>extra-1</guid>"
            "<pubDate>Tue, 15 Oct 2019 09:00:00 +0800</pubDate></item>\n")
    newsroom.set_file("/wire/rss.xml", WIRE.replace(ANCHOR, ANCHOR + item),
                      "application/rss+xml; charset=utf-8")


def test_read_only_store_file(make_config, newsroom, caplog: pytest.LogCaptureFixture) -> None:
    cfg = make_config()
    polled_store(cfg, newsroom)
    before = counts(cfg.store_path)
    daemon = make_daemon(cfg)
    caplog.set_level(logging.INFO, logger="monitor")
    make_immutable(cfg.store_path, True)
    try:
        daemon.poll_job()
        daemon.digest_job()
        # and by hand: one line, exit status 1
        cli = subprocess.run([sys.executable, "-m", "monitor.cli", "--config",
                              str(write_toml(cfg, newsroom)), "poll"],
                             capture_output=True, text=True, timeout=60)
    finally:
        make_immutable(cfg.store_path, False)
    found = errors(caplog)
    assert [r.getMessage().split(":")[0] for r in found] == ["poll failed", "digest not sent"]
    for record in found:
        assert "readonly database" in record.getMessage() and record.exc_info is None
    assert counts(cfg.store_path) == before
    assert cli.returncode == 1, cli.stderr
    assert cli.stderr.startswith("monitor: error: ") and "readonly" in cli.stderr
    assert "Traceback" not in cli.stderr
    caplog.clear()
    daemon._poll_retry_at = 0  # skip the wait after a failed poll
    daemon.poll_job()
    assert not errors(caplog)
    assert counts(cfg.store_path)["articles"] == before["articles"] + 1
    daemon._executor.shutdown()


def test_every_store_write_raises_store_error(tmp_path: Path) -> None:
    """Not a bare sqlite3 error: outside a transaction too (recording a poll, a feed)."""
    from datetime import UTC, datetime

    from monitor.types import Source

    db = tmp_path / "ro.db"
    now = datetime(2026, 6, 1, tzinfo=UTC)
    with Store(db) as store:
        store.sync_feeds([Source(name="a", url="https://a.example/rss")], now)
    make_immutable(db, True)
    try:
        with Store(db) as store:
            assert store.count("articles") == 0  # reading works
            writes = [
                lambda: store.record_poll({"started_at": "2026-06-01T00:00:00+00:00"}),
                lambda: store.update_feed(1, {"failures": 1}),
                lambda: store.add_article({"url": "https://a.example/1", "fetched_at": "x"}),
                lambda: store.create_digest(now=now, subject="s", message_id="<m@x>",
                                            recipients=["a@example.org"], agreement_ids=[]),
                lambda: store.sync_feeds([], now),
            ]
            for write in writes:
                with pytest.raises(StoreError, match="readonly database") as info:
                    write()
                assert str(db) in str(info.value)
                assert isinstance(info.value.__cause__, sqlite3.Error)
    finally:
        make_immutable(db, False)


def write_toml(cfg, newsroom) -> Path:
    host = newsroom.base_url.split("//")[1]
    path = cfg.store_path.parent / "config.toml"
    lines = ["[store]", f'path = "{cfg.store_path}"', 'busy_timeout = "2s"',
             "[poll]", 'interval = "1s"', f'allow_private = ["{host}"]', "workers = 1",
             'timeout = "10s"', "jitter = 0.0",
             "[digest]", f'outbox = "{cfg.store_path.parent}/outbox"', 'to = ["a@example.org"]']
    for src in demo_sources(newsroom.base_url):
        lines.append("[[feeds]]")
        lines += [f'{k} = "{v}"' for k, v in src.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- a small filesystem: read-only, then full -------------------------------------------


@pytest.fixture
def small_fs(tmp_path):
    """A 2 MB tmpfs (root only): read-only with a remount, full with a filler file."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small filesystem needs root and mount(8)")
    mnt = tmp_path / "small"
    mnt.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs",
                             str(mnt)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def remount(mnt: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(mnt)], check=True,
                   capture_output=True)


def fill(mnt: Path, leave: int) -> Path:
    """Fill the filesystem but ``leave`` bytes; returns the filler file."""
    filler = mnt / "filler"
    st = os.statvfs(mnt)
    size = st.f_bavail * st.f_frsize - leave
    with open(filler, "wb") as fh:
        fh.write(b"\0" * max(0, size))
    return filler


def test_read_only_filesystem(small_fs: Path, make_config, newsroom,
                              caplog: pytest.LogCaptureFixture) -> None:
    cfg = make_config(store={"path": str(small_fs / "store.db")})
    polled_store(cfg, newsroom)
    before = counts(cfg.store_path)
    daemon = make_daemon(cfg)
    caplog.set_level(logging.INFO, logger="monitor")
    config = write_toml(cfg, newsroom)  # beside the store: written before the remount
    remount(small_fs, "ro")
    try:
        daemon.poll_job()
        daemon.digest_job()
        # a daemon started now says why it cannot run, in one line
        start = subprocess.run([sys.executable, "-m", "monitor.cli", "--config", str(config),
                                "run"], capture_output=True, text=True, timeout=60)
    finally:
        remount(small_fs, "rw")
    assert start.returncode == 1, start.stderr
    assert start.stderr.startswith("monitor: error: ") and "Read-only file system" in \
        start.stderr and "Traceback" not in start.stderr, start.stderr
    found = errors(caplog)
    assert [r.getMessage().split(":")[0] for r in found] == ["poll failed", "digest not sent"]
    assert all(str(small_fs) in r.getMessage() and r.exc_info is None for r in found)
    assert counts(cfg.store_path) == before
    caplog.clear()
    daemon._poll_retry_at = 0  # skip the wait after a failed poll
    daemon.poll_job()
    daemon.digest_job()
    assert not errors(caplog)
    after = counts(cfg.store_path)
    assert after["articles"] == before["articles"] + 1 and after["digests"] == 1
    daemon._executor.shutdown()


def test_disk_full(small_fs: Path, make_config, newsroom,
                   caplog: pytest.LogCaptureFixture) -> None:
    cfg = make_config(store={"path": str(small_fs / "store.db")})
    Store(cfg.store_path).close()
    before = counts(cfg.store_path)
    filler = fill(small_fs, leave=96 * 1024)  # room for the WAL index, not for a poll
    daemon = make_daemon(cfg)
    caplog.set_level(logging.INFO, logger="monitor")
    daemon.poll_job()
    assert len(newsroom.requests) >= 30  # it failed in the big write, after fetching
    [error] = errors(caplog)
    assert error.getMessage().startswith("poll failed: ") and error.exc_info is None
    assert "full" in error.getMessage(), error.getMessage()
    assert counts(cfg.store_path) == before
    with pytest.raises(StoreError, match="full"):  # and by hand, the same error
        with Store(cfg.store_path) as store:
            poll_once(cfg, store)
    assert counts(cfg.store_path) == before
    filler.unlink()
    caplog.clear()
    daemon._poll_retry_at = 0  # skip the wait after a failed poll
    daemon.poll_job()
    assert not errors(caplog)
    assert counts(cfg.store_path)["articles"] >= 30
    daemon._executor.shutdown()


@pytest.mark.slow
def test_daemon_process_rides_out_a_full_disk(small_fs: Path, make_config, newsroom) -> None:
    """A real `monitor run`: its polls fail while the disk is full, then succeed; exit 0."""
    cfg = make_config(store={"path": str(small_fs / "store.db")})
    Store(cfg.store_path).close()
    filler = fill(small_fs, leave=96 * 1024)
    config = write_toml(cfg, newsroom)
    proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "--config", str(config),
                             "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while sum("poll failed" in line for line in lines) < 2 and \
                time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        failed = [line for line in lines if "poll failed" in line]
        assert len(failed) >= 2, "".join(lines)
        assert counts(cfg.store_path)["articles"] == 0
        # a poll tick is one second; the failed polls back off: 1, 2, 4 s...
        time.sleep(4)
        failed = [line for line in lines if "poll failed" in line]
        assert len(failed) <= 4, failed
        filler.unlink()
        while not any(" new articles" in line and "poll: " in line for line in lines) and \
                time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert proc.poll() is None, "".join(lines)
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    finally:
        ensure_dead(proc)
    reader.join(5)
    assert proc.returncode == 0, "".join(lines)
    assert all("full" in line for line in failed), failed
    assert not any("Traceback" in line or "crashed" in line for line in lines), "".join(lines)
    assert counts(cfg.store_path)["articles"] >= 30

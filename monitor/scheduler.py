"""The only module that speaks APScheduler: the daemon behind ``monitor run``.

State lives in the store, so the scheduler only ticks: a poll job runs every
few seconds and polls the sources whose ``next_poll_at`` has come (each source
keeps its own interval, jitter and backoff there; ``max_instances=1`` means a
source is never polled twice at once), and a cron job sends the digest at the
configured local time. APScheduler drops a run that is more than
``misfire_grace_time`` late (one second by default), which would skip a digest
after a sleep or an overrun, so the digest job has a grace of most of a day with
coalescing, and on start the daemon sends a digest that is overdue.

A lock file beside the store stops a second daemon. SIGTERM and SIGINT set a
stop event: the running poll abandons its cycle without writing, a running
digest finishes its send, and the process exits 0.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from .config import Config
from .dispatch import send_digest
from .errors import LockedError, MonitorError
from .pipeline import Poller, make_executor
from .store import Store

log = logging.getLogger(__name__)

DIGEST_GRACE = 20 * 3600  # seconds a late digest run is still made


def last_slot(now: datetime, at: dtime, tz: str) -> datetime:
    """The most recent digest time (``at`` local time in ``tz``) at or before ``now``, in UTC."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    slot = datetime.combine(local.date(), at, tzinfo=zone)
    if slot > local:
        slot = datetime.combine(local.date() - timedelta(days=1), at, tzinfo=zone)
    return slot.astimezone(UTC)


def digest_overdue(now: datetime, at: dtime, tz: str, last_digest: datetime | None,
                   first_poll: datetime | None) -> bool:
    """True when a digest slot has passed with no digest since (and the store was polled)."""
    slot = last_slot(now, at, tz)
    if last_digest is not None:
        return last_digest < slot
    return first_poll is not None and first_poll < slot


def poll_tick(cfg: Config) -> float:
    """How often the poll job looks for due sources: a quarter of the shortest interval."""
    intervals = [f.interval for f in cfg.feeds if f.interval] + [cfg.poll.interval]
    return max(1.0, min(60.0, min(intervals) / 4))


class Lock:
    """An exclusive lock on ``<store>.lock``; LockedError if another process holds it."""

    def __init__(self, store_path: Path) -> None:
        self.path = Path(f"{store_path}.lock")
        self._fd: int | None = None

    def __enter__(self) -> Lock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise LockedError(f"{self.path}: another monitor daemon (pid {holder}) is "
                              f"running on this store") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class Daemon:
    def __init__(self, cfg: Config, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
                 ) -> None:
        self.cfg = cfg
        self.clock = clock
        self.stop = threading.Event()
        self._executor = None

    def _store(self) -> Store:
        return Store(self.cfg.store_path, busy_timeout=self.cfg.store.busy_timeout)

    def poll_job(self) -> None:
        if self.stop.is_set():
            return
        try:
            with self._store() as store:
                Poller(self.cfg, store, executor=self._executor, clock=self.clock).run(
                    due_only=True, stop=self.stop)
        except MonitorError as exc:
            log.error("poll failed: %s", exc)
        except Exception:
            log.exception("poll crashed (a bug); the daemon carries on")

    def digest_job(self) -> None:
        try:
            with self._store() as store:
                send_digest(self.cfg, store, self.clock())
        except MonitorError as exc:
            log.error("digest not sent: %s (the agreements stay for the next digest)", exc)
        except Exception:
            log.exception("digest crashed (a bug); the daemon carries on")

    def _overdue(self) -> bool:
        with self._store() as store:
            row = store.db.execute("SELECT min(started_at) FROM polls").fetchone()
            first_poll = datetime.fromisoformat(row[0]) if row and row[0] else None
            return digest_overdue(self.clock(), self.cfg.digest.time, self.cfg.digest.timezone,
                                  store.last_digest_at(), first_poll)

    def run(self, install_signals: bool = True) -> int:
        """Run until SIGTERM/SIGINT (or ``stop`` is set). Returns the exit status."""
        with Lock(self.cfg.store_path):
            if install_signals:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, lambda *_: self.stop.set())
            self._store().close()  # create or migrate the schema before the jobs start
            self._executor = make_executor(self.cfg)
            tz = self.cfg.digest.timezone
            at = self.cfg.digest.time
            scheduler = BackgroundScheduler(timezone=tz, job_defaults={
                "coalesce": True, "max_instances": 1})
            tick = poll_tick(self.cfg)
            scheduler.add_job(self.poll_job, IntervalTrigger(seconds=tick, timezone=tz),
                              id="poll", next_run_time=datetime.now(UTC),
                              misfire_grace_time=max(1, int(tick * 10)))
            scheduler.add_job(self.digest_job, CronTrigger(hour=at.hour, minute=at.minute,
                                                           timezone=tz),
                              id="digest", misfire_grace_time=DIGEST_GRACE)
            log.info("daemon started: %d sources, poll tick %.0fs, digest at %s %s, store %s",
                     len(self.cfg.feeds), tick, at.strftime("%H:%M"), tz, self.cfg.store_path)
            scheduler.start()
            try:
                if self._overdue():
                    log.info("a digest is overdue; sending it now")
                    scheduler.add_job(self.digest_job, id="digest-overdue")
                while not self.stop.wait(0.5):
                    pass
            finally:
                log.info("stopping")
                self.stop.set()
                scheduler.shutdown(wait=True)
                self._executor.shutdown(wait=True, cancel_futures=True)
                log.info("stopped")
        return 0

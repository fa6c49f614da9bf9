"""The only module that speaks APScheduler: the daemon behind ``monitor run``.

State lives in the store, so the scheduler only ticks: a poll job runs every
few seconds and polls the sources whose ``next_poll_at`` has come (each source
keeps its own interval, jitter and backoff there; ``max_instances=1`` means a
source is never polled twice at once), and a digest check runs every
``DIGEST_CHECK`` seconds and asks ``digest_due`` (pure, given the clock) whether
to send now.

The wall clock is not trusted to move steadily. ``digest_due`` sends once per
digest slot: when a slot passed since the previous check, or (first check after
start, or the check that follows a jump) when the latest slot is later than the
last digest sent; so a daemon that was down, or a clock that jumped years
ahead, sends one digest, never a catch-up storm; a clock set back a day lives
that day again and sends its digest at the slot. Slots are compared in UTC, so
a daylight-saving change neither skips nor doubles a day. A failed digest is
retried after ``[digest] retry_min``, doubling to ``[digest] retry_max``; a poll
that failed as a whole (the store is locked, read-only or full) is retried after
one tick, doubling to ``[poll] store_retry_max``, not refetched at every tick.
APScheduler works from the wall clock too: its tick triggers never catch up
missed runs one by one (a jump of years would compute millions of them), and
when the daemon sees the wall clock leave the monotonic clock by more than
``CLOCK_JUMP`` seconds it reschedules both jobs to run now (set back a day,
APScheduler would otherwise sleep a day).

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
import time
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from .config import Config
from .dispatch import send_digest
from .errors import LockedError, MonitorError, StoreError
from .pipeline import Poller, make_executor
from .store import Store

log = logging.getLogger(__name__)

DIGEST_CHECK = 30.0  # seconds between two digest decisions
CLOCK_JUMP = 120.0  # seconds the wall clock may drift from the monotonic clock unnoticed


def last_slot(now: datetime, at: dtime, tz: str) -> datetime:
    """The most recent digest time (``at`` local time in ``tz``) at or before ``now``, in UTC.

    Compared in UTC: two datetimes with the same tzinfo compare by wall time, which
    is wrong in the repeated hour of a daylight-saving change. A slot in the
    skipped hour of a spring-forward day is taken at the old offset (an hour later
    by the new one); in the repeated hour of a fall-back day, the first of the two.
    """
    zone = ZoneInfo(tz)
    now = now.astimezone(UTC)
    day = now.astimezone(zone).date()
    slot = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
    if slot > now:
        slot = datetime.combine(day - timedelta(days=1), at, tzinfo=zone).astimezone(UTC)
    return slot


def digest_overdue(now: datetime, at: dtime, tz: str, last_digest: datetime | None,
                   first_poll: datetime | None) -> bool:
    """True when a digest slot has passed with no digest since (and the store was polled)."""
    slot = last_slot(now, at, tz)
    if last_digest is not None:
        return last_digest < slot
    return first_poll is not None and first_poll < slot


def digest_due(now: datetime, at: dtime, tz: str, *, last_sent: datetime | None,
               previous_check: datetime | None, first_poll: datetime | None = None,
               failed_at: datetime | None = None, retry_delay: float = 300.0
               ) -> bool:
    """Whether to send the digest now (pure; the daemon asks every ``DIGEST_CHECK`` seconds).

    ``last_sent`` is when the latest digest was confirmed sent, ``previous_check``
    the ``now`` of the previous decision of this process (None on start),
    ``first_poll`` when the store was first polled, ``failed_at`` the last failed
    attempt since the last success, to be retried ``retry_delay`` seconds later.

    * A slot passed since the previous check: due (the daily case; also each day
      lived again after the clock was set back).
    * Else the latest slot is later than the last digest (the daemon was down at
      the slot, or the clock jumped ahead, however far): due, once.
    * A last digest later than ``now`` means the clock went back: not overdue; the
      next slot that passes sends.
    * Never sent: overdue only when the store was polled before the slot.
    * After a failed attempt: due again once ``retry_delay`` has passed.
    """
    slot = last_slot(now, at, tz)
    if previous_check is not None and previous_check < slot <= now:
        return True
    if failed_at is not None:  # retry once the delay is over (or the clock went back)
        return not failed_at <= now < failed_at + timedelta(seconds=retry_delay)
    if last_sent is not None and last_sent > now:
        return False
    return digest_overdue(now, at, tz, last_sent, first_poll)


class _Tick(IntervalTrigger):
    """An interval trigger that never catches up: after a late run, the next is one tick away.

    APScheduler lists every missed run time before coalescing them; after the
    wall clock jumps ahead by years, a one-second tick would list hundreds of
    millions. Here a run time already passed is followed by ``now``.
    """

    def get_next_fire_time(self, previous_fire_time, now):
        next_time = super().get_next_fire_time(previous_fire_time, now)
        if previous_fire_time is not None and next_time is not None and next_time < now:
            return now
        return next_time


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
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # a read-only or full filesystem: one line, not a traceback
            raise StoreError(f"{self.path}: cannot create the daemon's lock file: "
                             f"{exc.strerror or exc}") from exc
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
        self._executor: Executor | None = None
        self._last_check: datetime | None = None  # the previous digest decision's now
        self._poll_failures = 0  # polls in a row that failed as a whole
        self._poll_retry_at = 0.0  # time.monotonic() before which no poll starts
        self._served_slot: datetime | None = None  # the slot of the last successful check
        self._failed_at: datetime | None = None  # the last failed digest, since a success
        self._failures = 0

    def _store(self) -> Store:
        return Store(self.cfg.store_path, busy_timeout=self.cfg.store.busy_timeout)

    def poll_job(self) -> None:
        """One poll of the due sources; after a failed poll, wait before the next.

        A poll fails as a whole only when its writes fail (a locked, read-only or
        full store): the sources stay due, so polling again at the next tick would
        fetch every one of them again each tick. The wait doubles from one tick up
        to ``[poll] store_retry_max`` and is measured on the monotonic clock.
        """
        if self.stop.is_set() or time.monotonic() < self._poll_retry_at:
            return
        try:
            with self._store() as store:
                Poller(self.cfg, store, executor=self._executor, clock=self.clock).run(
                    due_only=True, stop=self.stop)
            self._poll_failures = 0
        except MonitorError as exc:
            self._poll_failures += 1
            delay = min(self.cfg.poll.store_retry_max,
                        poll_tick(self.cfg) * 2 ** (self._poll_failures - 1))
            self._poll_retry_at = time.monotonic() + delay
            log.error("poll failed: %s (next poll in %.0fs)", exc, delay)
        except BrokenExecutor:
            # a worker died (killed for memory, say): nothing was written; a new pool
            # serves the next tick, and no source is charged with the failure
            log.error("a parsing worker died; starting a new pool (nothing was written)")
            old = self._executor
            self._executor = make_executor(self.cfg)
            if old is not None:
                old.shutdown(wait=False, cancel_futures=True)
        except Exception:
            log.exception("poll crashed (a bug); the daemon carries on")

    def digest_job(self) -> bool:
        """Send the digest now; False (and one error logged) when it failed.

        A digest left pending by an interrupted run is sent first, then at once the
        digest of what is new since, so an outage delays nothing by a further day.
        """
        try:
            with self._store() as store:
                outcome = send_digest(self.cfg, store, self.clock())
                if outcome.resent:
                    send_digest(self.cfg, store, self.clock())
            return True
        except MonitorError as exc:
            log.error("digest not sent: %s (the agreements stay for the next digest)", exc)
        except Exception:
            log.exception("digest crashed (a bug); the daemon carries on")
        return False

    def _retry_delay(self) -> float:
        d = self.cfg.digest
        return min(d.retry_max, d.retry_min * 2 ** max(0, self._failures - 1))

    def digest_tick(self) -> bool:
        """Decide with ``digest_due`` and send when due; True when a digest was attempted."""
        if self.stop.is_set():
            return False
        now = self.clock()
        try:
            with self._store() as store:
                last_sent = store.last_sent_at()
                first_poll = store.first_poll_at()
        except MonitorError as exc:
            log.error("digest check failed: %s", exc)
            return False
        at, tz = self.cfg.digest.time, self.cfg.digest.timezone
        # A slot with nothing new sends no message (no digests row): remember it served.
        if self._served_slot is not None and (last_sent is None or self._served_slot > last_sent):
            last_sent = self._served_slot
        due = digest_due(now, at, tz, last_sent=last_sent, previous_check=self._last_check,
                         first_poll=first_poll, failed_at=self._failed_at,
                         retry_delay=self._retry_delay())
        self._last_check = now
        if not due:
            return False
        if self.digest_job():
            self._served_slot = last_slot(now, at, tz)
            self._failed_at, self._failures = None, 0
        else:
            self._failed_at, self._failures = now, self._failures + 1
            log.info("next digest attempt in %.0f minutes", self._retry_delay() / 60)
        return True

    def _reschedule(self, scheduler: BackgroundScheduler, jumped: float) -> None:
        log.warning("the wall clock jumped %+.0f s; polling and checking the digest now",
                    jumped)
        for job_id in ("poll", "digest"):
            scheduler.modify_job(job_id, next_run_time=self.clock())

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
            start = self.clock()
            scheduler.add_job(self.poll_job, _Tick(seconds=tick, timezone=tz),
                              id="poll", next_run_time=start,
                              misfire_grace_time=max(1, int(tick * 10)))
            # The first check sends a digest whose slot passed while the daemon was down.
            scheduler.add_job(self.digest_tick, _Tick(seconds=DIGEST_CHECK, timezone=tz),
                              id="digest", next_run_time=start,
                              misfire_grace_time=int(DIGEST_CHECK * 10))
            log.info("daemon started: %d sources, poll tick %.0fs, digest at %s %s, store %s",
                     len(self.cfg.feeds), tick, at.strftime("%H:%M"), tz, self.cfg.store_path)
            scheduler.start()
            try:
                wall, mono = self.clock(), time.monotonic()
                while not self.stop.wait(0.5):
                    now_wall, now_mono = self.clock(), time.monotonic()
                    jumped = ((now_wall - wall).total_seconds() - (now_mono - mono))
                    wall, mono = now_wall, now_mono
                    if abs(jumped) > CLOCK_JUMP:
                        self._reschedule(scheduler, jumped)
            finally:
                log.info("stopping")
                self.stop.set()
                scheduler.shutdown(wait=True)
                if self._executor is not None:
                    self._executor.shutdown(wait=True, cancel_futures=True)
                log.info("stopped")
        return 0

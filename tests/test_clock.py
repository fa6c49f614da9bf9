"""The digest schedule under a fake clock: jumps of years and days, and daylight saving.

Only the clock is fake: the daemon reads a real SQLite store and writes real .eml
files to a real outbox. ``Daemon.digest_tick`` is what the scheduler runs every
``DIGEST_CHECK`` seconds; here the fake clock moves between calls. The promise:
one digest for each day the clock lives through (a day lived again after the
clock was set back gets its digest again), one catch-up digest after any jump
ahead or downtime however long, none skipped, none doubled by a DST change.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config import Config, from_dict
from monitor.scheduler import Daemon, _Tick, digest_due, last_slot
from monitor.store import Store, iso
from monitor.types import Agreement

STEP = timedelta(minutes=20)


class FakeClock:
    """A wall clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def make_cfg(tmp_path: Path, tz: str, at: str, **digest) -> Config:
    return from_dict({
        "store": {"path": str(tmp_path / "clock.db")},
        "digest": {"to": ["reader@example.org"], "from": "monitor@example.org",
                   "outbox": str(tmp_path / "outbox"), "timezone": tz, "time": at,
                   "send_empty": True, **digest},
        "smtp": {"host": ""},
    })


def local(tz: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def slots_between(a: datetime, b: datetime, at: dtime, tz: str) -> list[date]:
    """Local dates whose digest time falls in (a, b] (a time in a DST gap: the old offset)."""
    zone = ZoneInfo(tz)
    day, last = a.astimezone(zone).date() - timedelta(days=1), b.astimezone(zone).date()
    found = []
    while day <= last:
        slot = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
        if a < slot <= b:
            found.append(day)
        day += timedelta(days=1)
    return found


def sent_rows(store_path: Path, after_id: int = 0) -> list[dict]:
    with Store(store_path) as store:
        return list(store.db["digests"].rows_where("sent_at IS NOT NULL AND id > ?",
                                                   [after_id], order_by="id"))


def run_until(daemon: Daemon, clock: FakeClock, end: datetime, step: timedelta = STEP) -> int:
    """Tick the daemon's digest check every ``step`` of fake time; attempts made."""
    attempts = 0
    while clock.now < end:
        clock.now = min(end, clock.now + step)
        attempts += daemon.digest_tick()
    return attempts


# -- the pure parts ---------------------------------------------------------------------


ZONES = ["Europe/Berlin", "America/New_York", "Asia/Shanghai", "Australia/Lord_Howe"]


@settings(max_examples=300, deadline=None)
@given(now=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                        timezones=st.just(UTC)),
       at=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
       tz=st.sampled_from(ZONES))
def test_last_slot_is_the_latest_slot_at_or_before_now(now, at, tz) -> None:
    slot = last_slot(now, at, tz)
    assert slot <= now < slot + timedelta(hours=26)
    zone = ZoneInfo(tz)
    shown = slot.astimezone(zone)
    # the slot is the digest time, or (in a DST gap) the time the gap moved it to
    assert shown.time().replace(tzinfo=None) == at or \
        datetime.combine(shown.date(), at, tzinfo=zone).astimezone(UTC) == slot
    # nothing later is a slot: the next day's slot is after now
    following = datetime.combine(shown.date() + timedelta(days=1), at, tzinfo=zone)
    assert following.astimezone(UTC) > now


@pytest.mark.parametrize("tz,at,day,expected_utc", [
    # spring forward: 02:30 does not exist; taken at the old offset (03:30 summer time)
    ("Europe/Berlin", dtime(2, 30), (2026, 3, 29), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
    ("America/New_York", dtime(2, 30), (2026, 3, 8), datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),
    # fall back: 02:30 (Berlin) and 01:30 (New York) happen twice; the first one counts
    ("Europe/Berlin", dtime(2, 30), (2026, 10, 25), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
    ("America/New_York", dtime(1, 30), (2026, 11, 1), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
])
def test_last_slot_on_dst_days(tz, at, day, expected_utc) -> None:
    for minutes in (0, 1, 30, 59, 60, 61, 90, 600):
        now = expected_utc + timedelta(minutes=minutes)
        assert last_slot(now, at, tz) == expected_utc, now
    before = last_slot(expected_utc - timedelta(minutes=1), at, tz)
    assert timedelta(hours=23) <= expected_utc - before <= timedelta(hours=25)


def test_last_slot_in_the_repeated_hour_is_not_yesterday() -> None:
    """Before the fix, wall-time comparison put the second 02:15 before 02:30."""
    second_0215 = datetime(2026, 10, 25, 1, 15, tzinfo=UTC)  # 02:15 CET, after 02:30 CEST
    assert last_slot(second_0215, dtime(2, 30), "Europe/Berlin") == \
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_digest_due_decisions() -> None:
    tz, at = "Europe/Berlin", dtime(8, 0)
    slot = local(tz, 2026, 6, 10, 8, 0)
    before, after = slot - timedelta(minutes=1), slot + timedelta(seconds=30)
    yesterday = slot - timedelta(days=1) + timedelta(seconds=20)
    # the daily case: the slot passes between two checks
    assert digest_due(after, at, tz, last_sent=yesterday, previous_check=before)
    assert not digest_due(before, at, tz, last_sent=yesterday,
                          previous_check=before - timedelta(minutes=1))
    # sent: the next check, or a restarted daemon, does not send again
    assert not digest_due(after + timedelta(seconds=30), at, tz, last_sent=after,
                          previous_check=after)
    assert not digest_due(after, at, tz, last_sent=after, previous_check=None)
    # down at the slot, or the clock jumped ahead ten years: one catch-up
    far = slot + timedelta(days=3652, hours=3)
    assert digest_due(far, at, tz, last_sent=yesterday, previous_check=None)
    assert digest_due(far, at, tz, last_sent=yesterday, previous_check=after)
    # the clock went back behind the last digest: not overdue, the next slot sends
    back = after - timedelta(days=1, hours=-2)
    assert not digest_due(back, at, tz, last_sent=after, previous_check=after)
    assert digest_due(slot + timedelta(minutes=1), at, tz, last_sent=after,
                      previous_check=slot - timedelta(minutes=1))
    # a failed attempt is retried after its delay, not at every check
    assert not digest_due(after + timedelta(minutes=4), at, tz, last_sent=yesterday,
                          previous_check=after, failed_at=after, retry_delay=300)
    assert digest_due(after + timedelta(minutes=5), at, tz, last_sent=yesterday,
                      previous_check=after, failed_at=after, retry_delay=300)
    # never sent: only once the store has been polled before the slot
    assert not digest_due(after, at, tz, last_sent=None, previous_check=None)
    assert digest_due(after, at, tz, last_sent=None, previous_check=None,
                      first_poll=slot - timedelta(hours=5))


def test_tick_trigger_never_lists_missed_runs() -> None:
    """Ten years ahead, a one-second tick would list 315 million missed runs; it lists two."""
    from apscheduler.job import Job
    from apscheduler.schedulers.background import BackgroundScheduler

    start = datetime(2026, 3, 1, tzinfo=UTC)
    trigger = _Tick(seconds=1, timezone="UTC", start_date=start)
    job = Job(BackgroundScheduler(timezone="UTC"), id="t", func=print, args=(), kwargs={},
              trigger=trigger, executor="default", max_instances=1, coalesce=True,
              misfire_grace_time=10, name="t", next_run_time=start)
    later = start + timedelta(days=3652)
    began = time.monotonic()
    runs = job._get_run_times(later)
    assert time.monotonic() - began < 1
    assert runs == [start, later]
    assert trigger.get_next_fire_time(later, later) == later + timedelta(seconds=1)


# -- the daemon's digest under a fake clock ---------------------------------------------


@pytest.mark.parametrize("tz,at", [("Europe/Berlin", "02:30"), ("America/New_York", "02:30"),
                                   ("America/New_York", "01:30"), ("Asia/Shanghai", "08:00")])
def test_one_digest_per_day_through_dst_and_jumps(tmp_path: Path, tz: str, at: str) -> None:
    cfg = make_cfg(tmp_path, tz, at)
    at_time = cfg.digest.time
    clock = FakeClock(local(tz, 2026, 3, 1, 12, 0))
    daemon = Daemon(cfg, clock=clock)
    segments: list[tuple[datetime, datetime, str, list[dict]]] = []
    seen = 0

    def live(until: datetime, how: str) -> None:
        nonlocal seen
        start = clock.now
        run_until(daemon, clock, until)
        rows = sent_rows(cfg.store_path, after_id=seen)
        seen = rows[-1]["id"] if rows else seen
        segments.append((start, clock.now, how, rows))

    # a month across the spring change (US: 8 March, EU: 29 March 2026)
    live(local(tz, 2026, 4, 2, 12, 0), "start")
    # ten years ahead, at noon: one digest at once for the day of the jump
    clock.now += timedelta(days=3652)
    live(clock.now + timedelta(days=3), "ahead")
    # one day back: the day is lived again and gets its digest at the slot
    clock.now -= timedelta(days=1)
    live(clock.now + timedelta(days=3), "back")
    # months ahead into the autumn change (EU: 26 October, US: 2 November 2036)
    clock.now = local(tz, 2036, 10, 20, 12, 0)
    live(local(tz, 2036, 11, 6, 12, 0), "ahead")

    zone = ZoneInfo(tz)
    for start, end, how, rows in segments:
        expected = slots_between(start, end, at_time, tz)
        sent = [datetime.fromisoformat(r["created_at"]) for r in rows]
        if how == "ahead":  # the slot of the jump's day passed unseen: one catch-up, at once
            expected = [start.astimezone(zone).date(), *expected]
            assert sent and sent[0] == start + STEP
        assert [t.astimezone(zone).date() for t in sent] == expected, (how, start, sent)
        for t, day in zip(sent, expected, strict=True):
            slot = datetime.combine(day, at_time, tzinfo=zone).astimezone(UTC)
            if not (how == "ahead" and t == start + STEP):
                assert timedelta(0) <= t - slot <= STEP, (how, day, t)  # at the slot
    assert len(list((tmp_path / "outbox").iterdir())) == len(sent_rows(cfg.store_path))


def test_restarts_and_overdue_digest_on_start(tmp_path: Path) -> None:
    tz = "Europe/Berlin"
    cfg = make_cfg(tmp_path, tz, "08:00")
    clock = FakeClock(local(tz, 2026, 6, 10, 7, 0))
    with Store(cfg.store_path) as store:  # polled before, never sent
        store.record_poll({"started_at": iso(clock.now - timedelta(days=2))})
    first = Daemon(cfg, clock=clock)
    assert first.digest_tick()  # overdue: the slot of 9 June passed with no digest
    assert not first.digest_tick()
    assert len(sent_rows(cfg.store_path)) == 1
    run_until(first, clock, local(tz, 2026, 6, 10, 9, 0))
    assert len(sent_rows(cfg.store_path)) == 2  # 10 June 08:00
    # restarted the same morning: nothing more today
    second = Daemon(cfg, clock=clock)
    assert not second.digest_tick()
    run_until(second, clock, local(tz, 2026, 6, 10, 23, 0))
    assert len(sent_rows(cfg.store_path)) == 2
    # down for three weeks, then restarted: one digest, not 21
    clock.now = local(tz, 2026, 7, 1, 15, 0)
    third = Daemon(cfg, clock=clock)
    run_until(third, clock, local(tz, 2026, 7, 1, 23, 0))
    assert len(sent_rows(cfg.store_path)) == 3
    # a slot with nothing new and send_empty off: no message, and no re-check storm
    quiet = Daemon(make_cfg(tmp_path, tz, "08:00", send_empty=False), clock=clock)
    clock.now = local(tz, 2026, 7, 2, 7, 50)
    assert run_until(quiet, clock, local(tz, 2026, 7, 2, 20, 0)) == 1
    assert len(sent_rows(cfg.store_path)) == 3


def add_agreement(store: Store, n: int, now: datetime) -> int:
    with store.transaction():
        article = store.add_article({"url": f"https://news.example.org/{n}", "title": f"t{n}",
                                     "fetched_at": iso(now), "text": "x"})
        agreement = Agreement(province=f"Province{n}", level="province", government="g",
                              companies=("Alibaba",), kind="mou", signed_on=None, score=0.9,
                              evidence=f"evidence {n}")
        return store.add_agreement(agreement, article, now)[0]


def test_failed_digest_is_retried_with_backoff_then_sent_once(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    tz = "Europe/Berlin"
    blocked = tmp_path / "blocked"
    blocked.write_text("not a folder")
    cfg = make_cfg(tmp_path, tz, "08:00", send_empty=False, outbox=str(blocked / "outbox"))
    clock = FakeClock(local(tz, 2026, 6, 10, 7, 0))
    with Store(cfg.store_path) as store:
        ids = {add_agreement(store, n, clock.now) for n in range(3)}
    daemon = Daemon(cfg, clock=clock)
    caplog.set_level(logging.INFO, logger="monitor")
    attempts = run_until(daemon, clock, local(tz, 2026, 6, 10, 11, 0),
                         step=timedelta(minutes=1))
    # 08:00, then 5, 10, 20, 40 and 60 minutes later (08:05, 08:15, 08:35, 09:15, 10:15)
    assert attempts == 6
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == attempts and all("digest not sent" in e for e in errors)
    assert all(str(blocked) in e for e in errors)
    with Store(cfg.store_path) as store:
        assert set(store.undigested_ids()) == ids
    blocked.unlink()  # the operator frees the outbox
    attempts = run_until(daemon, clock, local(tz, 2026, 6, 10, 23, 0),
                         step=timedelta(minutes=1))
    assert attempts == 1
    with Store(cfg.store_path) as store:
        assert store.undigested_ids() == []
        rows = sent_rows(cfg.store_path)
        assert len(rows) == 1 and set(json.loads(rows[0]["agreement_ids"])) == ids


def test_digest_job_catches_delivery_errors(tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("x")
    cfg = make_cfg(tmp_path, "UTC", "08:00", outbox=str(blocked / "outbox"))
    daemon = Daemon(cfg, clock=FakeClock(datetime(2026, 6, 1, 9, tzinfo=UTC)))
    caplog.set_level(logging.INFO, logger="monitor")
    assert daemon.digest_job() is False
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None  # one line, no traceback
    assert "digest not sent" in errors[0].getMessage()


# -- the running daemon when the clock jumps --------------------------------------------


class _SchedulerClock:
    """Makes APScheduler read the daemon's fake clock (it calls ``datetime.now``)."""

    def __init__(self, clock: FakeClock) -> None:
        clock_ref = clock

        class FakeDatetime(datetime):
            @classmethod
            def now(cls, tz=None):
                return clock_ref.now.astimezone(tz) if tz else clock_ref.now

        self.cls = FakeDatetime


def test_running_daemon_follows_a_clock_set_back(tmp_path: Path, monkeypatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    """Set back a day, APScheduler alone would sleep a day; the daemon reschedules at once."""
    import apscheduler.executors.base
    import apscheduler.schedulers.base
    import apscheduler.triggers.interval

    tz = "Europe/Berlin"
    cfg = make_cfg(tmp_path, tz, "08:00")
    clock = FakeClock(local(tz, 2026, 6, 10, 10, 0))
    fake = _SchedulerClock(clock).cls
    for module in (apscheduler.schedulers.base, apscheduler.executors.base,
                   apscheduler.triggers.interval):
        monkeypatch.setattr(module, "datetime", fake)
    checks: list[datetime] = []

    class Counting(Daemon):
        def digest_tick(self) -> bool:
            checks.append(self.clock())
            return super().digest_tick()

    with Store(cfg.store_path) as store:  # polled after today's slot: nothing due yet
        store.record_poll({"started_at": iso(clock.now - timedelta(hours=1))})
    daemon = Counting(cfg, clock=clock)
    moving = threading.Event()

    def tick_clock() -> None:  # the fake wall clock keeps pace with real time
        last = time.monotonic()
        while not moving.wait(0.05):
            now = time.monotonic()
            clock.now += timedelta(seconds=now - last)
            last = now

    ticker = threading.Thread(target=tick_clock, daemon=True)
    ticker.start()
    runner = threading.Thread(target=daemon.run, kwargs={"install_signals": False})
    runner.start()
    try:
        deadline = time.monotonic() + 15
        while not checks and time.monotonic() < deadline:
            time.sleep(0.05)
        assert checks, "the daemon never checked the digest"
        clock.now -= timedelta(days=1)
        jumped_at = time.monotonic()
        while len(checks) < 2 and time.monotonic() < jumped_at + 10:
            time.sleep(0.05)
        assert len(checks) >= 2, "no digest check after the clock was set back"
        assert checks[1] < checks[0]
        clock.now += timedelta(days=3652)  # and ten years ahead: one check, at once
        jumped_at = time.monotonic()
        while len(checks) < 3 and time.monotonic() < jumped_at + 10:
            time.sleep(0.05)
        assert len(checks) >= 3 and checks[-1].year == 2036
    finally:
        daemon.stop.set()
        runner.join(30)
        moving.set()
    assert not runner.is_alive()
    jumps = [r.getMessage() for r in caplog.records if "wall clock jumped" in r.getMessage()]
    assert len(jumps) == 2 and jumps[0].startswith("the wall clock jumped -86")
    rows = sent_rows(cfg.store_path)
    assert len(rows) == 1 and rows[0]["created_at"].startswith("2036")  # the catch-up only


def test_sources_are_due_again_after_the_clock_is_set_back(tmp_path: Path) -> None:
    """Next poll times set by a clock that was a day ahead must not stop polling for a day."""
    from monitor.types import Source

    polled = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    with Store(tmp_path / "due.db") as store:
        store.sync_feeds([Source(name="a", url="https://a.example/rss"),
                          Source(name="b", url="https://b.example/rss")], polled)
        for feed in store.feeds():
            store.update_feed(feed.id, {"last_polled_at": iso(polled),
                                        "next_poll_at": iso(polled + timedelta(hours=1))})
        assert store.due_feeds(polled + timedelta(minutes=30)) == []
        assert len(store.due_feeds(polled + timedelta(hours=1))) == 2
        assert len(store.due_feeds(polled - timedelta(days=1))) == 2  # set back a day
        assert store.due_feeds(polled - timedelta(minutes=1)) == []  # a small step: wait

"""`kill -9` a real `monitor poll` at random points, twenty times in a row, then compare.

The promise of ``monitor.pipeline``: all of a poll's writes are one transaction,
so a poll killed at any point leaves the store as it was before or after that
poll, never between; the next poll does the work again. After each kill the
SQLite file passes ``PRAGMA integrity_check`` and holds no duplicate; after a
final clean poll it holds exactly what one uninterrupted poll stores into a
fresh store. The newsroom is slowed down so that kills land mid-poll, and
every round adds an item to a feed so that every poll has something to fetch,
extract and write. Half the kills come after a random delay up to a little more
than such a poll takes, half a random moment (up to 20 ms) after the poll's
write starts reaching the WAL file. The choices come from a seeded RNG, so a
failure replays.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

import pytest

from monitor.demo.newsroom import DEFAULT_SITE
from monitor.demo.runner import demo_sources

from .conftest import ensure_dead

pytestmark = pytest.mark.slow

KILLS = 20
SEED = 20261126
LATENCY = 0.1  # seconds per newsroom answer: a poll takes about two seconds


WIRE = (DEFAULT_SITE / "wire" / "rss.xml").read_text(encoding="utf-8")
ANCHOR = 'type="application/rss+xml"/>\n'


def add_news(newsroom, rounds: int) -> str:
    """Put ``rounds`` extra items (no agreement in them) in the wire feed; the newest's path."""
    items = []
    for r in range(rounds):
        path = f"/wire/extra/library-{r}.html"
        items.append(
            f"<item><title>Reading room {r} opens at the city library</title>"
            f"<link>{{base}}{path}</link><guid>extra-{r}</guid>"
            f"<pubDate>Tue, 15 Oct 2019 09:{r:02d}:00 +0800</pubDate>"
            f"<description>Reading room number {r} opened.</description></item>\n")
        newsroom.set_file(path, (
            f"<html><head><title>Reading room {r} opens</title></head><body><article>"
            f"<h1>Reading room {r} opens at the city library</h1>"
            f"<p>The municipal library opened reading room number {r} on Tuesday, with "
            f"{40 + r} desks, a children's corner and late opening hours on weekdays.</p>"
            f"<p>Librarians said the room, the {r}th refurbished this decade, would host "
            f"weekly talks by local authors and a chess club for pensioners.</p>"
            "</article></body></html>"), "text/html; charset=utf-8")
    assert ANCHOR in WIRE
    newsroom.set_file("/wire/rss.xml", WIRE.replace(ANCHOR, ANCHOR + "".join(items)),
                      "application/rss+xml; charset=utf-8")
    return f"/wire/extra/library-{rounds - 1}.html"


def write_config(path: Path, newsroom, store: Path) -> None:
    host = newsroom.base_url.split("//")[1]
    lines = ["[store]", f'path = "{store}"',
             "[poll]", 'interval = "1h"', f'allow_private = ["{host}"]', "workers = 1",
             'timeout = "10s"', "jitter = 0.0",
             "[digest]", f'outbox = "{store.parent}/outbox"']
    for src in demo_sources(newsroom.base_url):
        lines.append("[[feeds]]")
        lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in src.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def poll_command(config: Path) -> list[str]:
    return [sys.executable, "-m", "monitor.cli", "--config", str(config), "-q", "poll"]


def contents(db: Path) -> dict[str, Counter]:
    """What a poll stores, as multisets that do not depend on row ids or times."""
    with closing(sqlite3.connect(db)) as conn:
        articles = Counter(r[0] for r in conn.execute("SELECT url FROM articles"))
        agreements = Counter(conn.execute(
            "SELECT province, companies, signed_on FROM agreements").fetchall())
        links = Counter(conn.execute(
            "SELECT ag.province, ag.companies, ag.signed_on, ar.url "
            "FROM agreement_articles aa JOIN agreements ag ON ag.id = aa.agreement_id "
            "JOIN articles ar ON ar.id = aa.article_id").fetchall())
        fts = conn.execute("SELECT (SELECT count(*) FROM articles_fts), "
                           "(SELECT count(*) FROM articles)").fetchone()
    assert fts[0] == fts[1], "full-text index out of step with the articles"
    return {"articles": articles, "agreements": agreements, "links": links}


def check_sound(db: Path) -> None:
    with closing(sqlite3.connect(db, timeout=10)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("SELECT url FROM articles GROUP BY url "
                            "HAVING count(*) > 1").fetchall() == []
        assert conn.execute("SELECT province, companies, signed_on FROM agreements "
                            "GROUP BY 1, 2, 3 HAVING count(*) > 1").fetchall() == []
        assert conn.execute("SELECT agreement_id, article_id FROM agreement_articles "
                            "GROUP BY 1, 2 HAVING count(*) > 1").fetchall() == []


def test_kill_9_poll_twenty_times_then_the_store_is_as_one_clean_poll(tmp_path, newsroom):
    newsroom.latency = LATENCY
    config = tmp_path / "config.toml"
    db = tmp_path / "var" / "crash.db"
    write_config(config, newsroom, db)
    # how long a whole first poll takes here, and a poll with one new item, on a scratch store
    scratch = tmp_path / "scratch.toml"
    write_config(scratch, newsroom, tmp_path / "scratch" / "scratch.db")
    took = []
    for n in (1, 2):
        add_news(newsroom, n)
        began = time.monotonic()
        subprocess.run(poll_command(scratch), capture_output=True, timeout=60, check=True)
        took.append(time.monotonic() - began)
    whole, light = took

    rng = random.Random(SEED)
    landed = Counter()
    wal = Path(f"{db}-wal")
    polls_before = 0
    for n in range(KILLS):
        add_news(newsroom, n + 1)
        before = len(newsroom.requests)
        proc = subprocess.Popen(poll_command(config), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        if rng.random() < 0.5:  # anywhere in the poll, or just after it
            time.sleep(rng.uniform(0.1, 1.1 * (light if polls_before else whole)))
        else:  # just after the big write starts to reach the WAL (or the poll ends)
            deadline = time.monotonic() + 30
            while len(newsroom.requests) == before and proc.poll() is None and \
                    time.monotonic() < deadline:
                time.sleep(0.002)
            size = wal.stat().st_size if wal.exists() else -1
            while proc.poll() is None and time.monotonic() < deadline and \
                    (wal.stat().st_size if wal.exists() else -1) == size:
                time.sleep(0.001)
            time.sleep(rng.uniform(0.0, 0.02))
        proc.send_signal(signal.SIGKILL)
        try:
            proc.wait(10)
        finally:
            ensure_dead(proc)
        fetched = len(newsroom.requests) - before
        polls = 0
        if db.exists():
            check_sound(db)
            with closing(sqlite3.connect(db)) as conn:
                polls = conn.execute("SELECT count(*) FROM polls").fetchone()[0]
        landed["wrote" if polls > polls_before else "mid-poll" if fetched else
               "before fetching"] += 1
        polls_before = polls
    # not vacuous: kills landed before the poll's write committed (where they could leave a
    # half-written store); how many landed after it depends on the machine's load
    assert landed["mid-poll"] + landed["before fetching"] >= 3, landed

    clean = subprocess.run(poll_command(config), capture_output=True, text=True, timeout=60)
    assert clean.returncode == 0, clean.stderr
    check_sound(db)

    fresh_config = tmp_path / "fresh.toml"
    fresh_db = tmp_path / "fresh" / "fresh.db"
    write_config(fresh_config, newsroom, fresh_db)
    newsroom.latency = 0.0
    reference = subprocess.run(poll_command(fresh_config), capture_output=True, text=True,
                               timeout=60)
    assert reference.returncode == 0, reference.stderr
    expected = contents(fresh_db)
    assert sum(expected["articles"].values()) >= 30 and expected["agreements"]
    got = contents(db)
    for kind in ("articles", "agreements", "links"):
        assert got[kind] == expected[kind], (kind, got[kind] - expected[kind],
                                             expected[kind] - got[kind])

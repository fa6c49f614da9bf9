#!/usr/bin/env python3
"""Poll benchmark on a loopback newsroom (``make bench``).

Generates FEEDS feeds of ITEMS items each (every item links to an article page of
about 600 words), serves them from the project's newsroom on 127.0.0.1 with
LATENCY seconds added to every response, and times, through the real pipeline
and store:

1. the first poll: every feed fetched and parsed, every article page fetched,
   extracted, classified and stored;
2. a second poll where every feed answers 304.

The defaults (500 x 20, 100 ms) are the setting in which lemon24/reader was
measured for the issue that asked for this design: 6.9 s for its first poll
(feeds only: reader does not fetch article pages) and 3.6 s for the all-304 poll.

Usage::

    python bench/bench_poll.py [--feeds 500] [--items 20] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

WORDS = ("the provincial government said the cooperation would cover cloud computing big data "
         "and artificial intelligence while officials expected more projects in the coming "
         "months across the region and its cities").split()


def build_site(root: Path, feeds: int, items: int) -> None:
    body = " ".join(WORDS[i % len(WORDS)] for i in range(600))
    for f in range(feeds):
        d = root / f"f{f}"
        d.mkdir(parents=True)
        entries = []
        for i in range(items):
            (d / f"a{i}.html").write_text(
                f"<html><head><title>Story {f}-{i}</title></head><body><nav>Home | News"
                f"</nav><article><h1>Story {f}-{i}</h1><p>{body}.</p><p>{body}.</p>"
                f"</article><footer>(c) bench</footer></body></html>", encoding="utf-8")
            entries.append(
                f"<item><title>Story {f}-{i}</title><link>{{base}}/f{f}/a{i}.html</link>"
                f"<guid>f{f}-{i}</guid><pubDate>Mon, 14 Oct 2019 08:00:00 +0000</pubDate>"
                f"<description>Summary {f}-{i}</description></item>")
        (d / "rss.xml").write_text(
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Feed {f}</title><link>{{base}}/f{f}/</link><description>bench</description>"
            + "".join(entries) + "</channel></rss>", encoding="utf-8")


@contextmanager
def newsroom_process(site: Path, latency: float):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "monitor.demo.newsroom", "--site", str(site),
                             "--port", str(port), "--latency", str(latency)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=500)
    ap.add_argument("--items", type=int, default=20)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--workers", type=int, default=0, help="0: one process per core")
    args = ap.parse_args(argv)

    from monitor.config import from_dict
    from monitor.pipeline import Poller
    from monitor.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        build_site(site, args.feeds, args.items)
        # The newsroom runs in its own process, so its threads do not share our GIL.
        with newsroom_process(site, args.latency) as base:
            host = base.split("//")[1]
            cfg = from_dict({
                "store": {"path": str(Path(tmp) / "bench.db")},
                "poll": {"allow_private": [host], "workers": args.workers,
                         "max_entries": args.items, "timeout": "120s", "concurrency": 64,
                         "per_host": 64},
                "feeds": [{"name": f"feed {f}", "url": f"{base}/f{f}/rss.xml"}
                          for f in range(args.feeds)]})
            with Store(cfg.store_path) as store, Poller(cfg, store) as poller:
                started = time.perf_counter()
                first = poller.run()
                t1 = time.perf_counter() - started
                started = time.perf_counter()
                second = poller.run()
                t2 = time.perf_counter() - started
                articles = store.count("articles")
    print(f"| poll | feeds x items | latency | seconds | notes |\n|---|---|---|---|---|\n"
          f"| first | {args.feeds} x {args.items} | {args.latency * 1000:.0f} ms | {t1:.1f} | "
          f"{first.new_articles} articles fetched, extracted, classified, stored "
          f"({articles / t1:.0f}/s) |\n"
          f"| all 304 | {args.feeds} x {args.items} | {args.latency * 1000:.0f} ms | {t2:.1f} | "
          f"{second.not_modified} of {second.polled} not modified |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""One poll run through the stages: sources -> fetch -> parse -> extract -> classify -> store.

Fetching is asynchronous (one event loop, many sources at once); parsing,
extraction and classification are CPU work and run in a pool of worker
processes so they neither block the loop nor stay on one core. A failing source
never stops the others: each source's errors are caught (as MonitorError) and
recorded on its row. All writes of one poll happen at the end, in one
transaction, so a poll that is killed or stopped part way stores nothing and
the next poll does the work again: running the same poll twice adds nothing.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from . import extract, feeds
from .classify import Rules, classify, load_rules
from .config import Config
from .errors import ChallengeError, FetchError, MonitorError
from .fetch import Fetcher, FetchSettings, Response
from .policy import NetworkPolicy
from .store import FeedState, Store, iso
from .types import Agreement, Article, Entry, RunReport

log = logging.getLogger(__name__)

MIN_PAGE_TEXT = 200  # characters; a shorter page text loses to a longer feed summary


# -- decisions (pure) ----------------------------------------------------------------------

def next_poll(now: datetime, interval: float, *, failures: int = 0,
              retry_after: float | None = None, backoff_max: float = 86400.0,
              jitter: float = 0.1, rand: float = 0.5) -> datetime:
    """When a source is polled next: its interval plus jitter, or backoff after failures.

    ``rand`` is a number in [0, 1) (the caller draws it) so this stays pure.
    """
    if failures <= 0:
        delay = interval * (1 + jitter * rand)
    else:
        delay = min(backoff_max, interval * 2 ** min(failures - 1, 30))
        if retry_after is not None:
            delay = max(delay, min(retry_after, backoff_max))
    return now + timedelta(seconds=delay)


# -- worker side (runs in the pool's processes) -------------------------------------------

# The one piece of module state in the package, and only in worker processes: each worker
# loads the rules once (they are compiled automata and cannot be pickled per task).
_RULES: dict[str, Any] = {}


def _worker_init(rule_files: Sequence[str]) -> None:
    """Load the classifier's rules once per worker process."""
    _RULES["rules"] = load_rules([Path(p) for p in rule_files])


def read_source(kind: str, body: bytes, headers: dict[str, str], url: str, selector: str | None,
               max_entries: int) -> feeds.FeedResult:
    if kind == "page":
        html = extract.decode(body, headers.get("content-type"))
        looks_like_feed = html.lstrip()[:200].lower()
        if looks_like_feed.startswith("<?xml") or "<rss" in looks_like_feed or \
                "<feed" in looks_like_feed:
            return feeds.parse_feed(body, headers, url, max_entries)
        return feeds.parse_index(html, url, selector, max_entries)
    return feeds.parse_feed(body, headers, url, max_entries)


@dataclass(frozen=True)
class ArticleResult:
    row: dict[str, Any]
    agreements: tuple[Agreement, ...]


def _work_article(entry: Entry, body: bytes | None, content_type: str | None, final_url: str,
                  lang_hint: str | None, threshold: float, fetch_error: str | None
                  ) -> ArticleResult:
    """:func:`read_article` with the worker's rules."""
    return read_article(entry, body, content_type, final_url, lang_hint, threshold,
                        fetch_error, _RULES["rules"])


def read_article(entry: Entry, body: bytes | None, content_type: str | None, final_url: str,
                 lang_hint: str | None, threshold: float, fetch_error: str | None,
                 rules: Rules) -> ArticleResult:
    """Extract and classify one entry's article (page text, else the feed's summary).

    Pure apart from the CPU: the poll runs it in the worker pool, ``monitor feeds check``
    in-process, so both read an article the same way."""
    summary = extract.html_to_text(entry.summary) if entry.summary else ""
    page = None
    if body:
        try:
            page = extract.extract_page(body, final_url, content_type)
        except MonitorError as exc:
            fetch_error = str(exc)
    if page is not None and (len(page.text) >= MIN_PAGE_TEXT or len(page.text) >= len(summary)):
        text, source = page.text, "page"
    else:
        text, source = summary, "feed"
    title = entry.title or (page.title if page else "")
    published: date | None = None
    if entry.published:
        published = entry.published.date()
    elif page and page.published:
        published = page.published
    lang = (page.lang if page and source == "page" else None) or extract.detect_lang(
        f"{title}\n{text}") or lang_hint
    article = Article(title=title, text=text, published=published, url=final_url, lang=lang)
    agreements = tuple(classify(article, rules, threshold)) if text or title else ()
    row = {
        "url": feeds.canonical_url(final_url), "entry_url": feeds.canonical_url(entry.url),
        "guid": entry.guid, "title": title,
        "published_at": iso(entry.published) if entry.published else (
            published.isoformat() if published else None),
        "lang": lang, "text": text, "text_source": source,
        "content_hash": feeds.body_hash(f"{title}\n{text}".encode()),
        "fetch_error": fetch_error,
    }
    return ArticleResult(row=row, agreements=agreements)


# -- the run --------------------------------------------------------------------------------

@dataclass
class SourceOutcome:
    feed: FeedState
    updates: dict[str, Any] = field(default_factory=dict)
    articles: list[ArticleResult] = field(default_factory=list)
    failed: bool = False
    not_modified: bool = False


def fetch_settings(cfg: Config, **overrides: Any) -> FetchSettings:
    p = cfg.poll
    return replace(FetchSettings(
        timeout=p.timeout, connect_timeout=p.connect_timeout, max_bytes=p.max_bytes,
        max_redirects=p.max_redirects, user_agent=p.user_agent, concurrency=p.concurrency,
        per_host=p.per_host), **overrides)


def make_executor(cfg: Config) -> Executor:
    """The pool that parses, extracts and classifies; rules load once per worker."""
    rule_files = [str(cfg.resolve(p)) for p in cfg.classifier.rules]
    # Load them here first: a bad rules file is one RulesError naming it, not a broken pool.
    load_rules([Path(p) for p in rule_files])
    workers = cfg.poll.workers or os.cpu_count() or 1
    if workers <= 1:
        return ThreadPoolExecutor(1, initializer=_worker_init, initargs=(rule_files,))
    ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init,
                               initargs=(rule_files,))


class Poller:
    """Runs poll cycles for one config and store. Reuse it across cycles (the daemon does)."""

    def __init__(self, cfg: Config, store: Store, *, executor: Executor | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 fetch_overrides: dict[str, Any] | None = None,
                 rng: random.Random | None = None) -> None:
        self.cfg = cfg
        self.store = store
        self.clock = clock
        self._own_executor = executor is None
        self.executor = executor or make_executor(cfg)
        self.settings = fetch_settings(cfg, **(fetch_overrides or {}))
        self.policy = NetworkPolicy(allow=tuple(cfg.poll.allow_private))
        self.rng = rng or random.Random()

    def close(self) -> None:
        if self._own_executor:
            self.executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Poller:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def run(self, *, due_only: bool = False, stop: threading.Event | None = None,
            progress: Callable[[int, int, str], None] | None = None) -> RunReport:
        """One cycle; returns its report. Nothing is written if ``stop`` is set mid-way."""
        return asyncio.run(self.run_async(due_only=due_only, stop=stop, progress=progress))

    async def run_async(self, *, due_only: bool = False, stop: threading.Event | None = None,
                        progress: Callable[[int, int, str], None] | None = None) -> RunReport:
        started = time.monotonic()
        now = self.clock()
        self.store.sync_feeds(self.cfg.feeds, now)
        sources = self.store.due_feeds(now) if due_only else self.store.feeds()
        if not sources:
            return RunReport()
        done = 0

        async def one(feed: FeedState, fetcher: Fetcher) -> SourceOutcome:
            nonlocal done
            outcome = await self._poll_source(feed, fetcher, now)
            done += 1
            if progress:
                progress(done, len(sources), feed.source.name)
            return outcome

        async with Fetcher(self.settings, self.policy) as fetcher:
            work = asyncio.ensure_future(asyncio.gather(*(one(f, fetcher) for f in sources)))
            if stop is not None:
                while not work.done():
                    await asyncio.wait([work], timeout=0.2)
                    if stop.is_set() and not work.done():
                        work.cancel()
                        try:
                            await work
                        except asyncio.CancelledError:
                            pass
                        log.info("poll stopped before it finished; nothing written")
                        return RunReport()
            outcomes = await work
        report = self._write(outcomes, now)
        report = replace(report, seconds=round(time.monotonic() - started, 3))
        self.store.record_poll({"started_at": iso(now), "finished_at": iso(self.clock()),
                                "polled": report.polled, "failed": report.failed,
                                "not_modified": report.not_modified,
                                "new_articles": report.new_articles,
                                "new_agreements": report.new_agreements,
                                "seconds": report.seconds})
        log.info("poll: %d sources polled, %d failed, %d not modified, %d new articles, "
                 "%d new agreements, %.2fs", report.polled, report.failed, report.not_modified,
                 report.new_articles, report.new_agreements, report.seconds)
        return report

    async def _in_pool(self, fn: Callable, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def _poll_source(self, feed: FeedState, fetcher: Fetcher, now: datetime
                           ) -> SourceOutcome:
        out = SourceOutcome(feed=feed)
        src = feed.source
        interval = src.interval or self.cfg.poll.interval
        out.updates["last_polled_at"] = iso(now)
        try:
            url = feed.feed_url or src.url
            resp = await fetcher.get(url, etag=feed.etag, last_modified=feed.last_modified)
            out.updates.update(last_status=resp.status)
            if resp.not_modified or (feed.body_hash and feeds.body_hash(resp.body) ==
                                     feed.body_hash):
                out.not_modified = True
            else:
                kind = "feed" if feed.feed_url else src.kind
                result = await self._in_pool(read_source, kind, resp.body, dict(resp.headers),
                                             resp.url, src.selector, self.cfg.poll.max_entries)
                if result.feed_url:  # an index page announced its feed: read that instead
                    out.updates["feed_url"] = result.feed_url
                    resp = await fetcher.get(result.feed_url)
                    result = await self._in_pool(read_source, "feed", resp.body,
                                                 dict(resp.headers), resp.url, None,
                                                 self.cfg.poll.max_entries)
                out.updates.update(item_count=len(result.entries), bozo=result.bozo,
                                   body_hash=feeds.body_hash(resp.body))
                if result.newest:
                    out.updates["newest_item_at"] = iso(result.newest)
                out.articles, unread = await self._read_entries(feed, result.entries, fetcher)
                if unread:
                    # keep the old validators: the next poll reads this feed again in full
                    # and retries the entries that could not be read this time
                    log.info("source %s: %d new entries unread; retried next poll",
                             src.name, unread)
                    resp = replace(resp, headers={})
                    out.updates["body_hash"] = feed.body_hash
            out.updates.update(
                etag=resp.etag or feed.etag, last_modified=resp.last_modified or
                feed.last_modified, last_ok_at=iso(now), last_error=None, failures=0,
                state="ok", next_poll_at=iso(next_poll(
                    now, interval, jitter=self.cfg.poll.jitter, rand=self.rng.random())))
        except MonitorError as exc:
            out.failed = True
            failures = feed.failures + 1
            status = getattr(exc, "status", None)
            out.updates.update(
                last_status=status, last_error=str(exc)[:500], failures=failures,
                state="challenge" if isinstance(exc, ChallengeError) else "failing",
                next_poll_at=iso(next_poll(now, interval, failures=failures,
                                           retry_after=getattr(exc, "retry_after", None),
                                           backoff_max=self.cfg.poll.backoff_max)))
            if feed.feed_url:  # the feed a page announced failed: look at the page again next
                out.updates.update(feed_url=None, etag=None, last_modified=None, body_hash=None)
            log.warning("source %s failed: %s", src.name, exc)
        except BrokenExecutor:
            raise  # the pool is gone: the whole poll stops, writes nothing, and is retried
        except Exception as exc:  # a bug: log it loudly, record it, let the others go on
            log.exception("source %s: internal error (a bug)", src.name)
            out.failed = True
            out.updates.update(
                last_error=f"internal error: {type(exc).__name__}: {exc}"[:500],
                failures=feed.failures + 1, state="failing",
                next_poll_at=iso(next_poll(now, interval, failures=feed.failures + 1,
                                           backoff_max=self.cfg.poll.backoff_max)))
        return out

    async def _read_entries(self, feed: FeedState, entries: Sequence[Entry],
                            fetcher: Fetcher) -> tuple[list[ArticleResult], int]:
        """The new entries' articles, and how many new entries could not be read."""
        canon = {e.url: feeds.canonical_url(e.url) for e in entries}
        known_urls = self.store.known_urls(canon.values())
        known_guids = self.store.known_guids(feed.id, (e.guid for e in entries if e.guid))
        fresh, seen = [], set()
        for e in entries:
            key = canon[e.url]
            # Known by canonical URL, or by GUID with the same title: a moved URL is not news
            # again, but two different stories that share a GUID are both read.
            same_guid = bool(e.guid) and e.guid in known_guids and (
                not e.title or e.title in known_guids[e.guid])
            if key in known_urls or same_guid or key in seen:
                continue
            seen.add(key)
            fresh.append(e)
        results = await asyncio.gather(*(self._read_entry(feed, e, fetcher) for e in fresh))
        read = [r for r in results if r is not None]
        return read, len(results) - len(read)

    async def _read_entry(self, feed: FeedState, entry: Entry, fetcher: Fetcher
                          ) -> ArticleResult | None:
        body, ctype, final_url, error = None, None, entry.url, None
        try:
            resp: Response = await fetcher.get(entry.url)
            body, ctype, final_url = resp.body, resp.content_type, resp.url
        except FetchError as exc:
            error = str(exc)
            log.info("article %s not fetched (%s); using the feed's summary", entry.url, exc)
        if body is None and not entry.summary and not entry.title:
            return None
        try:
            return await self._in_pool(_work_article, entry, body, ctype, final_url,
                                       feed.source.lang, self.cfg.classifier.threshold, error)
        except MonitorError as exc:
            log.warning("article %s skipped: %s", entry.url, exc)
            return None
        except BrokenExecutor:
            raise
        except Exception:  # a bug in extraction or classification: this article only
            log.exception("article %s skipped: internal error (a bug)", entry.url)
            return None

    def _write(self, outcomes: Sequence[SourceOutcome], now: datetime) -> RunReport:
        new_articles = new_agreements = 0
        with self.store.transaction():
            for out in outcomes:
                for art in out.articles:
                    article_id = self.store.add_article(
                        {**art.row, "feed_id": out.feed.id, "fetched_at": iso(now)})
                    if article_id is None:
                        continue
                    new_articles += 1
                    for agreement in art.agreements:
                        _, is_new = self.store.add_agreement(agreement, article_id, now)
                        new_agreements += is_new
                self.store.update_feed(out.feed.id, out.updates)
        polled = len(outcomes)
        failed = sum(o.failed for o in outcomes)
        return RunReport(polled=polled, failed=failed,
                         not_modified=sum(o.not_modified for o in outcomes),
                         new_articles=new_articles, new_agreements=new_agreements)


def poll_once(cfg: Config, store: Store, **kwargs: Any) -> RunReport:
    """Convenience: one cycle with a pool made and closed here."""
    with Poller(cfg, store, **{k: v for k, v in kwargs.items()
                               if k in ("clock", "fetch_overrides", "executor")}) as p:
        return p.run(due_only=kwargs.get("due_only", False), stop=kwargs.get("stop"),
                     progress=kwargs.get("progress"))


__all__ = ["Poller", "poll_once", "next_poll", "make_executor"]

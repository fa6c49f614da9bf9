"""``monitor feeds check URL``: fetch one source once and show what would be read.

Reads the source and its articles with the poll's own functions
(``pipeline.read_source`` and ``pipeline.read_article``), so what it shows is what a
poll would store; it writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .classify import Rules
from .config import Config
from .errors import FetchError
from .feeds import FeedResult
from .fetch import Fetcher
from .pipeline import fetch_settings, read_article, read_source
from .policy import NetworkPolicy


@dataclass
class CheckResult:
    url: str
    status: int
    entries: tuple = ()
    feed_url: str | None = None
    bozo: str | None = None
    lines: list[str] = field(default_factory=list)


async def check(cfg: Config, url: str, *, kind: str, selector: str | None, limit: int,
                rules: Rules) -> CheckResult:
    policy = NetworkPolicy(allow=tuple(cfg.poll.allow_private))
    async with Fetcher(fetch_settings(cfg), policy) as fetcher:
        resp = await fetcher.get(url)
        result = read_source(kind, resp.body, dict(resp.headers), resp.url, selector,
                             cfg.poll.max_entries)
        if result.feed_url:  # an index page announced its feed: that is what a poll reads
            feed_url = result.feed_url
            resp = await fetcher.get(feed_url)
            found = read_source("feed", resp.body, dict(resp.headers), resp.url, None,
                                cfg.poll.max_entries)
            result = FeedResult(entries=found.entries, title=found.title, bozo=found.bozo,
                                newest=found.newest, feed_url=feed_url)
        out = CheckResult(url=url, status=resp.status, entries=result.entries,
                          feed_url=result.feed_url, bozo=result.bozo)
        for n, entry in enumerate(result.entries):
            when = entry.published.strftime("%Y-%m-%d") if entry.published else "no date"
            out.lines.append(f"- [{when}] {entry.title or '(no title)'}\n  {entry.url}")
            if n >= limit:
                continue
            body, ctype, final_url, error = None, None, entry.url, None
            try:
                page = await fetcher.get(entry.url)
                body, ctype, final_url = page.body, page.content_type, page.url
            except FetchError as exc:
                error = str(exc)
            article = read_article(entry, body, ctype, final_url, None,
                                   cfg.classifier.threshold, error, rules)
            row = article.row
            source = "page" if row["text_source"] == "page" else f"feed ({row['fetch_error']})"
            out.lines.append(f"  text from {source}: {len(row['text'] or '')} characters; "
                             f"{len(article.agreements)} agreement(s)")
            for a in article.agreements:
                out.lines.append(f"  * {a.province} ({a.level}) + {', '.join(a.companies)}, "
                                 f"{a.kind}, signed {a.signed_on or '?'}, score {a.score:.2f}")
        return out

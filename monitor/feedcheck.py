"""``monitor feeds check URL``: fetch one source once and show what would be read.

Uses the same fetcher, parsers, extractor and classifier as a poll, and writes
nothing to the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import extract, feeds
from .classify import Rules, classify
from .config import Config
from .errors import MonitorError
from .fetch import Fetcher
from .pipeline import fetch_settings
from .policy import NetworkPolicy
from .types import Article


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
        if kind == "page":
            result = feeds.parse_index(extract.decode(resp.body, resp.content_type), resp.url,
                                       selector, cfg.poll.max_entries)
            if result.feed_url:
                feed_url = result.feed_url
                resp = await fetcher.get(feed_url)
                result = feeds.parse_feed(resp.body, resp.headers, resp.url,
                                          cfg.poll.max_entries)
                result = feeds.FeedResult(entries=result.entries, title=result.title,
                                          bozo=result.bozo, newest=result.newest,
                                          feed_url=feed_url)
        else:
            result = feeds.parse_feed(resp.body, resp.headers, resp.url, cfg.poll.max_entries)
        out = CheckResult(url=url, status=resp.status, entries=result.entries,
                          feed_url=result.feed_url, bozo=result.bozo)
        for n, entry in enumerate(result.entries):
            when = entry.published.strftime("%Y-%m-%d") if entry.published else "no date"
            out.lines.append(f"- [{when}] {entry.title or '(no title)'}\n  {entry.url}")
            if n >= limit:
                continue
            try:
                page_resp = await fetcher.get(entry.url)
                page = extract.extract_page(page_resp.body, page_resp.url,
                                            page_resp.content_type)
                text, source = page.text, "page"
            except MonitorError as exc:
                text, source = extract.html_to_text(entry.summary), f"feed ({exc})"
            article = Article(title=entry.title, text=text,
                              published=entry.published.date() if entry.published else None,
                              url=entry.url)
            found = classify(article, rules, cfg.classifier.threshold)
            out.lines.append(f"  text from {source}: {len(text)} characters; "
                             f"{len(found)} agreement(s)")
            for a in found:
                out.lines.append(f"  * {a.province} ({a.level}) + {', '.join(a.companies)}, "
                                 f"{a.kind}, signed {a.signed_on or '?'}, score {a.score:.2f}")
        return out

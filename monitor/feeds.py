"""Fetched bytes -> entries.

Feeds (RSS 0.9x/1.0/2.0, Atom) are read by feedparser from the bytes together
with the response headers, never from a URL or path (feedparser would open
local files, and without the headers a GBK feed turns into mojibake). A DOCTYPE
is removed before parsing, so no entity is expanded and no external entity is
read. Index pages without a feed are read with beautifulsoup4: feed
autodiscovery first, else the links that a CSS selector picks.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser
from bs4 import BeautifulSoup

from .errors import ParseError
from .types import Entry

log = logging.getLogger(__name__)

_DOCTYPE = re.compile(rb"<!DOCTYPE[^>\[]*(\[.*?\]\s*)?>", re.IGNORECASE | re.DOTALL)
_ENTITY_DECL = re.compile(rb"<!ENTITY[^>]*>", re.IGNORECASE | re.DOTALL)
_TRACKING = re.compile(r"^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_[a-z]+|spm|from|"
                       r"share_token|_hsenc|_hsmi|igshid|yclid|ref_src|scene|"
                       r"isappinstalled|wxshare_count)$", re.IGNORECASE)
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml",
               "application/feed+json", "application/xml", "text/xml")


@dataclass(frozen=True)
class FeedResult:
    entries: tuple[Entry, ...]
    title: str = ""
    bozo: str | None = None  # feedparser's complaint about a feed it could still read
    newest: datetime | None = None
    feed_url: str | None = None  # set when an index page pointed to its feed


def canonical_url(url: str) -> str:
    """The URL articles are keyed by: no tracking parameters, no fragment, tidy host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _TRACKING.match(k)]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def strip_doctype(body: bytes) -> bytes:
    """Remove DOCTYPE and ENTITY declarations: nothing to expand, nothing external to read."""
    head, tail = body[:65536], body[65536:]
    head = _DOCTYPE.sub(b"", head)
    head = _ENTITY_DECL.sub(b"", head)
    return head + tail


def _when(struct) -> datetime | None:
    if not struct:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(struct), UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def parse_feed(body: bytes, headers: Mapping[str, str], url: str,
               max_entries: int = 50) -> FeedResult:
    """RSS or Atom bytes -> entries, newest first. ParseError if it is not a feed."""
    if not body.strip():
        raise ParseError(f"{url}: empty body")
    clean = strip_doctype(body)
    hdrs = {k.lower(): v for k, v in headers.items()}
    hdrs.setdefault("content-location", url)
    try:
        parsed = feedparser.parse(clean, response_headers=hdrs, sanitize_html=True,
                                  resolve_relative_uris=True)
    except Exception as exc:  # feedparser promises not to raise; be sure
        raise ParseError(f"{url}: unreadable feed: {exc}") from exc
    version = parsed.get("version") or ""
    bozo = None
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        bozo = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
    if not version and not parsed.entries:
        reason = f" ({bozo})" if bozo else ""
        raise ParseError(f"{url}: not an RSS or Atom feed{reason}")
    entries = []
    for e in parsed.entries:
        link = e.get("link") or ""
        if not link:
            for alt in e.get("links", []):
                if alt.get("href"):
                    link = alt["href"]
                    break
        if not link:
            continue
        link = urljoin(url, link)
        summary = ""
        if e.get("content"):
            summary = max((c.get("value", "") for c in e["content"]), key=len)
        if len(e.get("summary", "")) > len(summary):
            summary = e.get("summary", "")
        entries.append(Entry(
            url=link, guid=(e.get("id") or None), title=(e.get("title") or "").strip(),
            published=_when(e.get("published_parsed") or e.get("updated_parsed")),
            summary=summary))
    entries.sort(key=lambda x: x.published or datetime.min.replace(tzinfo=UTC), reverse=True)
    dates = [x.published for x in entries if x.published]
    return FeedResult(entries=tuple(entries[:max_entries]),
                      title=(parsed.feed.get("title") or "").strip(), bozo=bozo,
                      newest=max(dates) if dates else None)


def discover_feed(html: str, url: str) -> str | None:
    """The first feed a page announces with <link rel=alternate>, absolute."""
    soup = BeautifulSoup(html, "lxml")
    for link in soup.find_all("link", href=True):
        rel = link.get("rel") or []
        rel = rel if isinstance(rel, list) else [rel]
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        if "alternate" in [r.lower() for r in rel] and kind in _FEED_TYPES:
            return urljoin(url, link["href"])
    return None


def parse_index(html: str, url: str, selector: str | None,
                max_entries: int = 50) -> FeedResult:
    """Links of an index page picked by ``selector`` (or autodiscovery when none is set)."""
    soup = BeautifulSoup(html, "lxml")
    if not selector:
        feed = discover_feed(html, url)
        if feed:
            return FeedResult(entries=(), feed_url=feed)
        raise ParseError(f"{url}: page announces no feed and the source has no selector")
    try:
        nodes = soup.select(selector)
    except Exception as exc:  # soupsieve raises its own SelectorSyntaxError
        raise ParseError(f"{url}: bad CSS selector {selector!r}: {exc}") from exc
    entries, seen = [], set()
    for node in nodes:
        a = node if node.name == "a" else node.find("a", href=True)
        if a is None or not a.get("href"):
            continue
        link = urljoin(url, a["href"].strip())
        if urlsplit(link).scheme not in ("http", "https") or link in seen:
            continue
        seen.add(link)
        entries.append(Entry(url=link, guid=link, title=a.get_text(" ", strip=True)))
        if len(entries) >= max_entries:
            break
    if not entries:
        raise ParseError(f"{url}: selector {selector!r} matched no links")
    return FeedResult(entries=tuple(entries), title=(soup.title.string or "").strip()
                      if soup.title and soup.title.string else "")

"""Fetched bytes -> entries.

Feeds (RSS 0.9x/1.0/2.0, Atom) are read by feedparser from a stream of bytes,
never from a URL, a path or bare bytes: given bytes, ``feedparser.parse`` first
tries ``open(bytes)`` as a file name, so a server that answered with the body
``/some/local/feed.xml`` had that local file parsed (``/dev/zero``: read until
memory ran out; a FIFO: a hung worker). The bytes are decoded here
first, by ``extract.decode`` (BOM, valid UTF-8, declared charsets, gb18030),
and feedparser gets them as UTF-8 with a header that says so: feedparser alone
reads a GBK feed served with no Content-Type as Latin-1 mojibake, and leans on
chardet (not a dependency) for the other wrong or missing charsets. Decoding
first also means the DOCTYPE is removed from text, not from bytes: a UTF-16
feed hid its entity declarations from a byte pattern, and its entities were
expanded. The whole prolog is scanned, however long, so no entity is expanded
and no external entity or DTD is read. Titles come out as plain text (an RSS
title may be HTML or text, and feedparser passes tags it does not know, such
as ``<svg onload>``, through untouched in "text" titles); summaries stay
feedparser's sanitized HTML, which the pipeline turns into text.

Index pages without a feed are read with beautifulsoup4: feed autodiscovery
first, else the links that a CSS selector picks.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser
from bs4 import BeautifulSoup

from .errors import ParseError
from .extract import declared_codecs, decode_as, html_to_text
from .types import Entry

log = logging.getLogger(__name__)

_XML_DECL = re.compile(r"\s*<\?xml(?=\s)[^>]*>")
# XML 1.0 appendix F: how "<?xml" starts in encodings that need no BOM to be told apart
_XML_MARKERS = ((b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
                (b"\x00<\x00?", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"),
                (b"\x4c\x6f\xa7\x94", "cp037"))
_TAG_LIKE = re.compile(r"<[A-Za-z/!?]")
_CHARREF = re.compile(r"&#(?:[xX]([0-9A-Fa-f]+)|([0-9]+));")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NAME_START = re.compile(rb"[A-Za-z_:\x80-\xff]")
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
    """Remove the DOCTYPE (internal subset and all) and any other markup declaration
    (``<!ENTITY``, ``<!ELEMENT``...) from the prolog: nothing to expand, nothing external
    to read.

    The prolog is everything before the first element, however long (the old pattern
    looked at the first 64 KB only, so a long comment pushed a DOCTYPE out of its
    reach). A linear scan, not a regular expression (the old one took 2 s on 64 KB of
    repeated ``<!DOCTYPE [``): comments, processing instructions and junk text are kept
    and stepped over, and inside a declaration quoted strings and comments are stepped
    over, so a ``]`` or ``>`` in them does not end it early. An unterminated declaration
    takes the rest of the body with it. Works on bytes in any ASCII-compatible encoding
    (parse_feed hands it UTF-8).
    """
    out = bytearray()
    i, n = 0, len(body)
    while i < n:
        lt = body.find(b"<", i)
        if lt < 0:
            break
        if body.startswith(b"<?", lt):
            end = _past(body, b"?>", lt + 2)
        elif body.startswith(b"<!--", lt):
            end = _past(body, b"-->", lt + 4)
        elif body.startswith(b"<!", lt) and body[lt + 2:lt + 3].isalpha():
            out += body[i:lt]
            i = _declaration_end(body, lt + 2)
            continue
        elif _NAME_START.match(body, lt + 1):  # the first element: the prolog is over
            break
        else:  # a stray "<" in junk before the root: keep it, look further
            end = lt + 1
        out += body[i:end]
        i = end
    return bytes(out) + body[i:]


def _past(body: bytes, marker: bytes, start: int) -> int:
    """The index just after the next ``marker`` from ``start``; the end if there is none."""
    at = body.find(marker, start)
    return len(body) if at < 0 else at + len(marker)


def _declaration_end(body: bytes, i: int) -> int:
    """The index just after the ``>`` that closes a markup declaration whose body starts
    at ``i``: outside quotes, comments and the ``[...]`` internal subset."""
    depth, n = 0, len(body)
    while i < n:
        c = body[i]
        if c in b"\"'":
            i = _past(body, bytes((c,)), i + 1)
            continue
        if body.startswith(b"<!--", i):
            i = _past(body, b"-->", i + 4)
            continue
        if c == 0x5B:  # [
            depth += 1
        elif c == 0x5D:  # ]
            depth = max(0, depth - 1)
        elif c == 0x3E and depth == 0:  # >
            return i + 1
        i += 1
    return n


def _as_utf8_feed(body: bytes, content_type: str | None) -> tuple[bytes, str, str]:
    """``body`` as UTF-8 XML whose declaration says so, with the codec it was read in and
    a note when that contradicts the declared charset ("" when it does not)."""
    sniffed = next((c for marker, c in _XML_MARKERS if body.startswith(marker)), None)
    if sniffed:  # a BOM-less UTF-16 feed is "valid UTF-8" to decode(), NULs and all
        text, codec = body.decode(sniffed, errors="replace"), sniffed
    else:
        text, codec = decode_as(body, content_type)
    codec = "utf-8" if codec == "utf-8-sig" else codec
    declared = declared_codecs(body, content_type)
    note = ""
    if declared and declared[0] != codec:
        note = f"CharacterEncodingOverride: declared as {declared[0]}, read as {codec}"
    if m := _XML_DECL.match(text):
        text = text[m.end():]
    text = _CHARREF.sub(_xml_char, text.lstrip("\ufeff"))
    data = '<?xml version="1.0" encoding="utf-8"?>\n' + text
    return data.encode("utf-8", "replace"), codec, note


def _xml_char(m: re.Match[str]) -> str:
    """A character reference XML forbids (``&#xD800;``, ``&#0;``, past U+10FFFF) as U+FFFD:
    expat refuses the whole feed for one, and feedparser's fallback parser then crashed on
    it (UnicodeEncodeError, OverflowError; found by tests/test_fuzz.py), losing the feed."""
    hex_digits, dec_digits = m.group(1), m.group(2)
    digits = (hex_digits or dec_digits).lstrip("0")
    if len(digits) > (6 if hex_digits else 7):  # past U+10FFFF (and int() stays cheap)
        return "&#xFFFD;"
    code = int(digits or "0", 16 if hex_digits else 10)
    if code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or \
            0x10000 <= code <= 0x10FFFF:
        return m.group(0)
    return "&#xFFFD;"


def _join(base: str, href: str) -> str | None:
    """``urljoin`` that gives None for a link it cannot read (``http://[oops/`` raised
    ValueError out of parse_index; found by tests/test_fuzz.py)."""
    try:
        return _SURROGATE.sub("\ufffd", urljoin(base, href))
    except ValueError:
        return None


def _plain(value: str, kind: str | None) -> str:
    """A title as one line of plain text: HTML (or text that holds tags) is read by
    ``extract.html_to_text``, so no markup survives as markup."""
    if (kind or "").lower() in ("text/html", "application/xhtml+xml") or \
            _TAG_LIKE.search(value):
        value = html_to_text(value)
    return _SURROGATE.sub("\ufffd", " ".join(value.split()))


def _when(struct) -> datetime | None:
    if not struct:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(struct), UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def _entry_time(e: dict) -> datetime | None:
    """The entry's time in the publisher's own offset, so that its date is the publisher's
    date (an item stamped 06:30 +0800 on the 14th was published on the 14th, not the 13th in
    UTC): "yesterday" in its text resolves from that day. feedparser's parsed struct is UTC;
    the offset comes from the raw string when it can be read."""
    utc = _when(dict.get(e, "published_parsed") or dict.get(e, "updated_parsed"))
    if utc is None:
        return None
    raw = dict.get(e, "published") or dict.get(e, "updated") or ""
    local = None
    if isinstance(raw, str) and raw.strip():
        try:
            local = parsedate_to_datetime(raw.strip())
        except (TypeError, ValueError, IndexError):
            try:
                local = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
            except ValueError:
                local = None
    if local is None or local.tzinfo is None or local.utcoffset() is None:
        return utc
    return utc.astimezone(local.tzinfo)  # the same instant, the publisher's clock


def parse_feed(body: bytes, headers: Mapping[str, str], url: str,
               max_entries: int = 50) -> FeedResult:
    """RSS or Atom bytes -> entries, newest first. ParseError if it is not a feed.

    The bytes are decoded by ``extract.decode_as`` and handed to feedparser as UTF-8
    (see the module docstring); when the declared charset was wrong and feedparser has
    no complaint of its own, ``bozo`` says so.
    """
    hdrs = {k.lower(): v for k, v in headers.items()}
    data, _codec, note = _as_utf8_feed(body, hdrs.get("content-type"))
    if not body.strip() or not data.split(b"\n", 1)[1].strip():
        raise ParseError(f"{url}: empty body")
    clean = strip_doctype(data)
    if "content-type" in hdrs:
        media = hdrs["content-type"].split(";", 1)[0].strip()
        hdrs["content-type"] = f"{media}; charset=utf-8"
    hdrs.setdefault("content-location", url)
    try:  # a stream, never bytes: feedparser first tries open(bytes) as a file name
        parsed = feedparser.parse(io.BytesIO(clean), response_headers=hdrs,
                                  sanitize_html=True, resolve_relative_uris=True)
    except Exception as exc:  # feedparser promises not to raise; be sure
        raise ParseError(f"{url}: unreadable feed: {_one_line(exc)}") from exc
    version = parsed.get("version") or ""
    bozo = note or None
    if parsed.get("bozo"):
        problem = parsed.get("bozo_exception")
        bozo = f"{type(problem).__name__}: {_one_line(problem)[:200]}"
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
        link = _join(url, link) if link else None
        if not link:
            continue
        summary = ""
        if e.get("content"):
            summary = max((c.get("value", "") for c in e["content"]), key=len)
        if len(e.get("summary", "")) > len(summary):
            summary = e.get("summary", "")
        guid = _SURROGATE.sub("\ufffd", e.get("id") or "") or None
        entries.append(Entry(
            url=link, guid=guid,
            title=_plain(e.get("title") or "", (e.get("title_detail") or {}).get("type")),
            published=_entry_time(e),
            summary=_SURROGATE.sub("\ufffd", summary)))
    entries.sort(key=lambda x: x.published or datetime.min.replace(tzinfo=UTC), reverse=True)
    dates = [x.published for x in entries if x.published]
    feed = parsed.feed
    return FeedResult(entries=tuple(entries[:max_entries]),
                      title=_plain(feed.get("title") or "",
                                   (feed.get("title_detail") or {}).get("type")),
                      bozo=bozo, newest=max(dates) if dates else None)


def _one_line(exc: BaseException | None) -> str:
    """The first line of an exception's message (ParseError and bozo stay one line)."""
    text = str(exc) if exc is not None else ""
    return text.splitlines()[0] if text.strip() else ""


def discover_feed(html: str, url: str) -> str | None:
    """The first feed a page announces with <link rel=alternate>, absolute."""
    soup = BeautifulSoup(_SURROGATE.sub("\ufffd", html), "lxml")
    for link in soup.find_all("link", href=True):
        raw_rel: Any = link.get("rel") or []
        rel = [str(r) for r in raw_rel] if isinstance(raw_rel, list) else [str(raw_rel)]
        kind = str(link.get("type") or "").lower().split(";")[0].strip()
        if "alternate" in [r.lower() for r in rel] and kind in _FEED_TYPES:
            feed = _join(url, str(link["href"]))
            if feed and urlsplit(feed).scheme in ("http", "https"):
                return feed
    return None


def parse_index(html: str, url: str, selector: str | None,
                max_entries: int = 50) -> FeedResult:
    """Links of an index page picked by ``selector`` (or autodiscovery when none is set).

    Lone surrogates (which ``extract.decode`` never makes, but a caller's str may hold)
    become U+FFFD first: lxml raised UnicodeEncodeError on them (tests/test_fuzz.py).
    """
    html = _SURROGATE.sub("\ufffd", html)
    soup = BeautifulSoup(html, "lxml")
    if not selector:
        feed = discover_feed(html, url)
        if feed:
            return FeedResult(entries=(), feed_url=feed)
        raise ParseError(f"{url}: page announces no feed and the source has no selector")
    try:
        nodes = soup.select(selector)
    except Exception as exc:  # soupsieve raises its own SelectorSyntaxError
        raise ParseError(f"{url}: bad CSS selector {selector!r}: {_one_line(exc)}") from exc
    entries, seen = [], set()
    for node in nodes:
        a = node if node.name == "a" else node.find("a", href=True)
        if a is None or not a.get("href"):
            continue
        link = _join(url, str(a["href"]).strip())
        if not link or urlsplit(link).scheme not in ("http", "https") or link in seen:
            continue
        seen.add(link)
        entries.append(Entry(url=link, guid=link, title=a.get_text(" ", strip=True)))
        if len(entries) >= max_entries:
            break
    if not entries:
        raise ParseError(f"{url}: selector {selector!r} matched no links")
    return FeedResult(entries=tuple(entries), title=(soup.title.string or "").strip()
                      if soup.title and soup.title.string else "")

"""Turn a fetched article page into a :class:`~monitor.types.Page`.

Four steps, each a small pure function:

* :func:`decode` -- bytes to text (BOM, UTF-8, declared charset, gb18030), never raising
  (:func:`decode_as` also names the codec it chose);
* :func:`main_text` -- the article body, from trafilatura and readability-lxml combined;
* :func:`extract_page` -- decode + title + body + publication date + language;
* :func:`html_to_text` -- plain text of a small HTML fragment (feed summaries).

See ``bench/EXTRACTION.md`` for how ``main_text`` compares with either library alone.
"""

from __future__ import annotations

import codecs
import logging
import re
import warnings
from collections import Counter
from datetime import date
from typing import Final

import lxml.html
import trafilatura
from bs4 import (
    BeautifulSoup,
    Comment,
    Declaration,
    Doctype,
    NavigableString,
    Tag,
    XMLParsedAsHTMLWarning,
)
from bs4 import ProcessingInstruction as BsProcessingInstruction
from lxml import etree
from readability import Document

from monitor.errors import ExtractError
from monitor.types import Page

logger = logging.getLogger(__name__)

# ----------------------------------------------------------------------------- decoding

SNIFF_BYTES: Final = 4096

_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

_LABEL: Final = r"""([A-Za-z0-9_.:\-]+)"""
_META_CHARSET_RE: Final = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*""" + _LABEL.encode(),
                                     re.I)
_XML_ENCODING_RE: Final = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']\s*""" + _LABEL.encode(),
                                     re.I)
_HEADER_CHARSET_RE: Final = re.compile(r"""charset\s*=\s*["']?\s*""" + _LABEL, re.I)

# Labels that browsers read as a superset codec (WHATWG encoding standard, plus the
# Chinese conventions: any GB label is gb18030, any Big5 label is big5hkscs).
_LABEL_CODECS: Final[dict[str, str]] = {
    **dict.fromkeys(
        ("gb2312", "gbk", "gb_2312-80", "gb_2312", "x-gbk", "csgb2312", "chinese", "iso-ir-58",
         "cp936", "ms936", "windows-936", "euc-cn", "gb18030"), "gb18030"),
    **dict.fromkeys(("big5", "big5-hkscs", "big5hkscs", "x-x-big5", "cn-big5", "csbig5", "cp950"),
                    "big5hkscs"),
    **dict.fromkeys(("shift_jis", "shift-jis", "sjis", "x-sjis", "windows-31j", "ms_kanji",
                     "csshiftjis", "cp932"), "cp932"),
    **dict.fromkeys(("euc-kr", "ks_c_5601-1987", "windows-949", "cp949"), "cp949"),
    **dict.fromkeys(("iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii",
                     "windows-1252", "cp1252"), "cp1252"),
    **dict.fromkeys(("utf8", "utf-8", "unicode-1-1-utf-8", "unicode"), "utf-8"),
}
# Codecs a page may declare in-band but that cannot describe an ASCII-compatible page.
_NOT_IN_BAND: Final = frozenset({"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le",
                                 "utf-32-be"})
# A codec that rejects a few bytes gets a more permissive sibling before we give up on it.
_SIBLINGS: Final[dict[str, tuple[str, ...]]] = {"cp1252": ("cp1252", "latin-1")}

# Damaged UTF-8 (a few broken sequences in a UTF-8 page) is still UTF-8 when at most this
# share of its multi-byte sequences is invalid; GBK or Big5 text read as UTF-8 is mostly invalid.
_UTF8_MAX_BAD_SHARE: Final = 0.02
_UTF8_SEQ_RE: Final = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_HIGH_BYTE_RE: Final = re.compile(rb"[\x80-\xff]")


def _bom_codec(body: bytes) -> str | None:
    """The codec named by a byte-order mark at the start of ``body``, if any."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return codec
    return None


def _codec_for_label(label: str) -> str | None:
    """Map a charset label to the Python codec we decode it with; None if unknown."""
    label = label.strip().strip("\"'").lower()
    codec = _LABEL_CODECS.get(label, label)
    try:
        name = codecs.lookup(codec).name
    except LookupError:
        return None
    return _LABEL_CODECS.get(name, name)


def declared_codecs(body: bytes, content_type: str | None = None) -> list[str]:
    """Codecs declared for ``body``: the Content-Type header first, then the page's own
    ``<meta charset>`` / ``<meta http-equiv>`` / XML declaration (first 4 KB), deduplicated."""
    labels: list[str] = []
    if content_type and (m := _HEADER_CHARSET_RE.search(content_type)):
        labels.append(m.group(1))
    head = body[:SNIFF_BYTES]
    for rx in (_XML_ENCODING_RE, _META_CHARSET_RE):
        labels += [m.group(1).decode("ascii", "replace") for m in rx.finditer(head)]
    found: list[str] = []
    for label in labels:
        codec = _codec_for_label(label)
        if codec and codec not in found and codec not in _NOT_IN_BAND:
            found.append(codec)
    return found


_WESTERN_DEFAULTS: Final = frozenset({"latin-1", "iso8859-1", "cp1252", "ascii"})
_MIN_HAN: Final = 10  # Han characters that make a GB18030 reading of the bytes convincing


def _is_western_default(codec: str) -> bool:
    try:
        return codecs.lookup(codec).name in _WESTERN_DEFAULTS
    except LookupError:
        return False


def _chinese_gb18030(body: bytes) -> str | None:
    """The bytes as GB18030 when they decode strictly and hold real Chinese text, else None."""
    text = _try_decode(body, "gb18030")
    if text is None or len(_HAN_RE.findall(text)) < _MIN_HAN:
        return None
    return text


def _try_decode(body: bytes, codec: str) -> str | None:
    """``body`` decoded strictly with ``codec`` (or its permissive sibling), else None."""
    for name in _SIBLINGS.get(codec, (codec,)):
        try:
            return body.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    return None


def _mostly_utf8(body: bytes) -> bool:
    """True when ``body`` is UTF-8 with only a few damaged byte sequences."""
    good = _UTF8_SEQ_RE.findall(body)
    if not good:
        return False
    stray = len(_HIGH_BYTE_RE.findall(body)) - sum(len(s) for s in good)
    return stray <= _UTF8_MAX_BAD_SHARE * len(good)


def decode(body: bytes, content_type: str | None = None) -> str:
    """Decode a page's bytes; never raises.

    Order: a byte-order mark; else UTF-8 if the bytes are valid UTF-8; else the first
    charset declared (Content-Type header, then ``<meta>`` or XML declaration in the
    first 4 KB) that decodes the bytes strictly, with GB labels read as gb18030 and Big5
    as big5hkscs; else UTF-8 if the bytes are UTF-8 but for a few damaged sequences;
    else gb18030; else (damaged bytes) whichever of the declared codecs, gb18030 and
    UTF-8 leaves the fewest U+FFFD with ``errors="replace"`` (gb18030 on a tie).
    """
    return decode_as(body, content_type)[0]


def decode_as(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """:func:`decode`, also naming the codec it used (``feeds.parse_feed`` hands feedparser
    the text as UTF-8 and records a charset the bytes contradict); never raises."""
    body = bytes(body)
    if codec := _bom_codec(body):
        return body.decode(codec, errors="replace"), codec
    if (text := _try_decode(body, "utf-8")) is not None:
        return text, "utf-8"
    declared = declared_codecs(body, content_type)
    for codec in declared:
        if codec == "utf-8":
            continue
        if _is_western_default(codec) and (text := _chinese_gb18030(body)) is not None:
            # ISO-8859-1 is many servers' default label and decodes any bytes at all, so it
            # proves nothing; bytes that read as GB18030 Chinese are Chinese.
            return text, "gb18030"
        if (text := _try_decode(body, codec)) is not None:
            return text, codec
    if _mostly_utf8(body):
        return body.decode("utf-8", errors="replace"), "utf-8"
    if (text := _try_decode(body, "gb18030")) is not None:
        return text, "gb18030"
    candidates = ["gb18030"] + [c for c in declared if c != "gb18030"] + ["utf-8"]
    decoded = [(body.decode(c, errors="replace"), c) for c in dict.fromkeys(candidates)]
    logger.debug("damaged bytes, decoding with replacement among %s", candidates)
    return min(decoded, key=lambda tc: tc[0].count("\ufffd"))


# ----------------------------------------------------------------------------- text helpers

_CJK: Final = ("\u3005-\u3007\u3040-\u30ff\u3100-\u312f\u31a0-\u31bf\u31f0-\u31ff\u3400-\u4dbf"
               "\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f")
_TOKEN_RE: Final = re.compile(f"[{_CJK}]|[^\\W{_CJK}]+")
_HAN_RE: Final = re.compile("[\u3005-\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                            "\U00020000-\U0003134f]")
_KANA_RE: Final = re.compile("[\u3040-\u30ff\u31f0-\u31ff]")
_LATIN_RE: Final = re.compile("[A-Za-z\u00c0-\u024f]")
_SPACE_RE: Final = re.compile(r"[^\S\n]+")
_ANY_SPACE_RE: Final = re.compile(r"\s+")
_CONTROL_RE: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE_RE: Final = re.compile("[\ud800-\udfff]")
_TEXT_OUTSIDE_TAGS_RE: Final = re.compile(r"(?:^|>)[^<]*?\w")


def tokens(text: str) -> list[str]:
    """Word tokens of ``text``: every CJK character alone, every other run of word characters."""
    return _TOKEN_RE.findall(text)


def clean_lines(text: str) -> str:
    """Drop control characters, strip each line, collapse runs of spaces inside it and
    drop blank lines."""
    lines = (_SPACE_RE.sub(" ", line).strip()
             for line in _CONTROL_RE.sub("", text).split("\n"))
    return "\n".join(line for line in lines if line)


def detect_lang(text: str) -> str | None:
    """"zh" when CJK characters are more than ~20% of the letters (and the text is not
    Japanese, i.e. kana are a small share of them), "en" when the letters are mostly
    Latin, else None (no letters, or another script)."""
    letters = sum(1 for ch in text if ch.isalpha())
    if not letters:
        return None
    han, kana = len(_HAN_RE.findall(text)), len(_KANA_RE.findall(text))
    if han + kana > 0.2 * letters:
        return "zh" if kana <= 0.2 * (han + kana) else None
    return "en" if len(_LATIN_RE.findall(text)) > 0.5 * letters else None


# ----------------------------------------------------------------------------- main text

# How the two extractors' outputs are combined (see main_text).
SHINGLE: Final = 4  # tokens per shingle when comparing the two outputs
CONTAINED: Final = 0.8  # share of the shorter text's shingles found in the longer one
MIN_RATIO: Final = 0.5  # below this length ratio the shorter text is missing content
RESCUE_TOKENS: Final = 50  # a result shorter than this triggers trafilatura's full mode

_BLOCK_TAGS: Final = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section",
    "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})
_DROP_TAGS: Final = frozenset({"script", "style", "noscript", "template", "head", "title",
                               "iframe", "svg", "math", "object", "embed"})


def _shingles(toks: list[str]) -> Counter[tuple[str, ...]]:
    """Multiset of the runs of ``SHINGLE`` consecutive tokens (one short run if fewer)."""
    if not toks:
        return Counter()
    if len(toks) < SHINGLE:
        return Counter([tuple(toks)])
    return Counter(zip(*(toks[i:] for i in range(SHINGLE)), strict=False))


def containment(part: list[str], whole: list[str]) -> float:
    """Share of ``part``'s shingles that also occur in ``whole`` (0.0 if ``part`` is empty)."""
    a, b = _shingles(part), _shingles(whole)
    total = sum(a.values())
    return sum((a & b).values()) / total if total else 0.0


def choose(precise: str, recall: str) -> str:
    """Pick the body between trafilatura's output (``precise``) and readability's (``recall``).

    If one is empty, take the other. Otherwise compare them as token sequences:

    * the shorter one is taken when it is at least ``MIN_RATIO`` of the longer one's
      length and ``CONTAINED`` of its 4-token shingles occur in the longer one: the two
      agree on the body and the extra text in the longer one is, as a rule, boilerplate
      (trafilatura keeps trailing link tables and copyright rows on table-layout pages,
      readability keeps bylines, captions and "related" blocks next to the body);
    * the longer one is taken when the shorter is under ``MIN_RATIO`` of its length: one
      extractor found a fragment (a teaser, a comment, one cell), the other the body;
    * when they disagree (neither contains the other), trafilatura's output is kept.
    """
    if not recall:
        return precise
    if not precise:
        return recall
    tp, tr = tokens(precise), tokens(recall)
    if not tp or not tr:
        return precise if tp else recall
    short, long_ = (precise, recall) if len(tp) <= len(tr) else (recall, precise)
    ts, tl = (tp, tr) if short is precise else (tr, tp)
    if len(ts) < MIN_RATIO * len(tl):
        return long_
    if containment(ts, tl) >= CONTAINED:
        return short
    return precise


_SKIP_START_RE: Final = re.compile(r"<(script|style)\b|<!--", re.I)
_SKIP_END_RE: Final = {
    "script": re.compile(r"</script\s*>", re.I),
    "style": re.compile(r"</style\s*>", re.I),
    None: re.compile(r"-->"),
}


def strip_scripts(html: str) -> str:
    """``html`` without ``<script>``/``<style>`` elements and comments, in linear time.

    Both extractors drop them anyway; cutting them out first saves them parsing and
    cleaning (readability runs ~35% faster on the benchmark pages, same output). An
    unclosed element or comment is left in place, with everything after it.
    """
    parts: list[str] = []
    pos = 0
    while m := _SKIP_START_RE.search(html, pos):
        tag = m.group(1).lower() if m.group(1) else None
        end = _SKIP_END_RE[tag].search(html, m.end())
        if end is None:
            break
        parts.append(html[pos:m.start()])
        pos = end.end()
    parts.append(html[pos:])
    return "".join(parts)


def _parse(html: str) -> lxml.html.HtmlElement | None:
    """``html`` parsed by lxml (via UTF-8 bytes, so XML declarations are harmless), or None.

    A parser per call: lxml parsers must not be shared between threads.
    """
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    try:
        return lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, ValueError, TypeError) as e:
        logger.debug("lxml could not parse the page: %s", e)
        return None


def _lxml_text(root: lxml.html.HtmlElement) -> str:
    """Plain text of an lxml element without changing it: source whitespace collapsed
    (except in ``<pre>``), one line per block, scripts and styles dropped."""
    out: list[str] = []
    stack: list[object] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        el: lxml.html.HtmlElement = item  # type: ignore[assignment]
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if el is not root and el.tail:
            stack.append(_ANY_SPACE_RE.sub(" ", el.tail))
        if not tag or (tag in _DROP_TAGS and el is not root):
            continue  # comments, processing instructions, scripts: only the tail counts
        brk = "\n" if tag in _BLOCK_TAGS or tag == "br" else ""
        if brk and tag != "br":
            stack.append(brk)
        stack.extend(reversed(el))
        if el.text:
            stack.append(el.text if tag == "pre" else _ANY_SPACE_RE.sub(" ", el.text))
        if brk:
            stack.append(brk)
    return clean_lines("".join(out))


def trafilatura_text(html: str, url: str | None = None, *, fast: bool = True) -> str:
    """trafilatura's main text (precision-leaning, no comments); ``fast=False`` adds its own
    fallback extractors. Empty string when it finds nothing or fails."""
    try:
        out = trafilatura.extract(html, url=url, fast=fast, favor_precision=fast,
                                  include_comments=False, include_tables=True)
    except Exception as e:  # noqa: BLE001 - a library bug on one page must not stop the pipeline
        logger.debug("trafilatura failed: %s: %s", type(e).__name__, e)
        return ""
    return clean_lines(out or "")


def readability_text(html: str) -> str:
    """readability-lxml's article as plain text, one line per block; "" when it fails.

    The URL is not passed: readability would only use it to absolutize links, which
    costs a fifth of its time and changes no text.
    """
    try:
        fragment = Document(html).summary(html_partial=True)
    except Exception as e:  # noqa: BLE001 - readability raises bare Exceptions and Unparseable
        logger.debug("readability failed: %s: %s", type(e).__name__, e)
        return ""
    root = _parse(fragment) if fragment and fragment.strip() else None
    return _lxml_text(root) if root is not None else ""


def main_text(html: str, url: str | None = None) -> str:
    """The article's main text, paragraphs separated by newlines ("" if none).

    Runs trafilatura (``fast=True, favor_precision=True``, no comments) and
    readability-lxml on the same decoded text (scripts, styles and comments cut out
    first, see :func:`strip_scripts`) and keeps one of the two whole outputs
    by :func:`choose`: prefer the shorter output when the longer one contains it (the
    surplus is usually boilerplate), the longer when the shorter is under half its
    length (a fragment), trafilatura's when they disagree. If the result is still under
    ``RESCUE_TOKENS`` tokens, trafilatura's full mode (with its fallbacks) is tried and
    kept when longer.
    """
    html = strip_scripts(html)
    if not _TEXT_OUTSIDE_TAGS_RE.search(html):
        return ""  # no text at all: spare both libraries (and their error logs)
    text = choose(trafilatura_text(html, url), readability_text(html))
    if len(tokens(text)) < RESCUE_TOKENS:
        rescue = trafilatura_text(html, url, fast=False)
        if len(tokens(rescue)) > len(tokens(text)):
            text = rescue
    return text


# ----------------------------------------------------------------------------- metadata

_TITLE_SEP_RE: Final = re.compile(
    r"^(?P<head>.+?)(?:\s+[-|–—·•:»]{1,2}\s+|\s*[_｜|]\s*)(?P<tail>[^-|–—·•_｜]+)$")
_DATE_RE: Final = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_COMPACT_DATE_RE: Final = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\D|$)")
_DATE_METAS: Final = (
    "article:published_time", "og:article:published_time", "datepublished", "pubdate",
    "publishdate", "publish-date", "publish_date", "publication_date", "sailthru.date",
    "article.published", "dc.date.issued", "dcterms.issued", "dc.date", "date",
    "firstpublishedtime", "parsely-pub-date", "article_date_original",
)
_MIN_YEAR: Final = 1990
MAX_SUFFIX_TITLE: Final = 300  # longer titles are left alone by strip_site_suffix


def parse_date(value: str) -> date | None:
    """A calendar date at the start of ``value`` (ISO 8601, 2024/05/06, 2024年5月6日,
    20240506); None when there is none or it is implausible (before 1990 or after
    next year)."""
    value = value.strip()
    m = _DATE_RE.search(value[:40]) or _COMPACT_DATE_RE.match(value)
    if not m:
        return None
    try:
        d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    return d if _MIN_YEAR <= d.year <= date.today().year + 1 else None


def _meta_values(tree: lxml.html.HtmlElement) -> dict[str, str]:
    """``<meta>`` contents keyed by lower-cased property / name / itemprop (first wins)."""
    found: dict[str, str] = {}
    for meta in tree.iter("meta"):
        content = (meta.get("content") or "").strip()
        if not content:
            continue
        for attr in ("property", "name", "itemprop"):
            key = (meta.get(attr) or "").strip().lower()
            if key:
                found.setdefault(key, content)
    return found


def _page_date(tree: lxml.html.HtmlElement, metas: dict[str, str]) -> date | None:
    """Publication date from ``<meta>`` tags, else the first ``<time datetime>``
    (one marked ``itemprop=datePublished`` or ``pubdate`` first)."""
    for key in _DATE_METAS:
        if key in metas and (d := parse_date(metas[key])):
            return d
    times = [t for t in tree.iter("time") if t.get("datetime")]
    times.sort(key=lambda t: not (t.get("itemprop", "").lower() == "datepublished"
                                  or t.get("pubdate") is not None))
    for t in times:
        if d := parse_date(t.get("datetime", "")):
            return d
    return None


def _norm(s: str) -> str:
    """Lower-case ``s`` and drop everything but letters and digits, for loose comparison."""
    return "".join(ch for ch in s.lower() if ch.isalnum())


def _site_names(metas: dict[str, str], sitename: str | None, url: str | None) -> set[str]:
    """Normalized names the site goes by: og:site_name, application-name, trafilatura's
    sitename and the URL's main host label (``reuters`` for www.reuters.com)."""
    names = {metas.get("og:site_name", ""), metas.get("application-name", ""), sitename or ""}
    if url and (m := re.match(r"^[a-z][a-z0-9+.-]*://([^/:?#]+)", url, re.I)):
        labels = [x for x in m.group(1).lower().split(".")
                  if x not in {"www", "m", "news", "com", "cn", "org", "net", "gov", "co", "uk"}]
        names.update(labels[-1:])
    return {n for n in (_norm(x) for x in names) if len(n) >= 2}


def strip_site_suffix(title: str, site_names: set[str],
                      headlines: frozenset[str] | set[str] = frozenset()) -> str:
    """Drop a trailing " - Site Name" / " | Site" / "_站名" from ``title``, but only when
    the tail names the site (it matches one of ``site_names``) or the head is exactly one
    of the page's ``headlines`` (h1 texts); otherwise ``title`` comes back unchanged.

    A title longer than ``MAX_SUFFIX_TITLE`` characters comes back unchanged: the pattern
    is quadratic on titles full of separators (a 100 KB ``og:title`` of " : " runs took
    16 s per page; tests/test_hostile.py), and no real headline plus site name is that long.
    """
    if len(title) > MAX_SUFFIX_TITLE:
        return title
    for _ in range(2):  # "Headline - Section | Site": at most two site segments
        m = _TITLE_SEP_RE.match(title)
        if not m:
            break
        head, tail = m.group("head").strip(), _norm(m.group("tail"))
        site = bool(tail) and any(n in tail or tail in n for n in site_names)
        if not head or not (site or _norm(head) in headlines):
            break
        title = head
    return title


def _title(tree: lxml.html.HtmlElement, metas: dict[str, str], meta_title: str | None,
           sitename: str | None, url: str | None) -> str:
    """The page title: og:title / twitter:title, else trafilatura's metadata title, else
    ``<title>``, else the first ``<h1>``; site suffixes stripped only when safe."""
    h1s = [_ANY_SPACE_RE.sub(" ", h.text_content()).strip() for h in tree.iter("h1")]
    head_title = tree.find(".//title")
    candidates = (
        metas.get("og:title"), metas.get("twitter:title"), meta_title,
        head_title.text_content() if head_title is not None else None,
        *h1s,
    )
    title = next((_ANY_SPACE_RE.sub(" ", c).strip() for c in candidates if c and c.strip()), "")
    headlines = {_norm(h) for h in h1s if h}
    return strip_site_suffix(title, _site_names(metas, sitename, url), headlines)


def _trafilatura_metadata(tree: lxml.html.HtmlElement, url: str | None) -> tuple[
        str | None, str | None, date | None]:
    """(title, sitename, date) from trafilatura's metadata, without its extensive
    (guessing) date search; Nones when it fails."""
    try:
        meta = trafilatura.extract_metadata(tree, default_url=url, extensive=False)
    except Exception as e:  # noqa: BLE001 - metadata is optional; a library bug must not fail the page
        logger.debug("trafilatura metadata failed: %s: %s", type(e).__name__, e)
        return None, None, None
    return meta.title, meta.sitename, parse_date(meta.date) if meta.date else None


def extract_page(body: bytes, url: str | None = None, content_type: str | None = None) -> Page:
    """Decode ``body`` and extract title, main text, publication date and language.

    Raises :class:`ExtractError` when the page yields no text at all.
    """
    html = decode(body, content_type)
    text = main_text(html, url) if html.strip() else ""
    if not text:
        raise ExtractError(f"no article text in {url or 'page'} ({len(body)} bytes)")
    tree = _parse(html)
    if tree is None:
        return Page(title="", text=text, published=None, lang=detect_lang(text))
    metas = _meta_values(tree)
    meta_title, sitename, meta_date = _trafilatura_metadata(tree, url)
    title = _title(tree, metas, meta_title, sitename, url)
    published = _page_date(tree, metas) or meta_date
    return Page(title=title, text=text, published=published, lang=detect_lang(text))


# ----------------------------------------------------------------------------- fragments

def _bs4_pieces(root: Tag) -> list[str]:
    """Text pieces of ``root`` in document order, with "\\n" around blocks and at <br>."""
    out: list[str] = []
    stack: list[object] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, str) and not isinstance(node, NavigableString):
            out.append(node)  # a newline marker pushed below
        elif isinstance(node, (Comment, Declaration, Doctype, BsProcessingInstruction)):
            continue
        elif isinstance(node, NavigableString):
            out.append(_ANY_SPACE_RE.sub(" ", str(node)))
        elif isinstance(node, Tag):
            name = (node.name or "").lower()
            if name in _DROP_TAGS:
                continue
            if name == "br":
                out.append("\n")
                continue
            block = name in _BLOCK_TAGS
            if block:
                out.append("\n")
                stack.append("\n")
            stack.extend(reversed(node.contents))
    return out


def html_to_text(html_fragment: str) -> str:
    """Plain text of a small HTML fragment (a feed summary): scripts and styles dropped,
    whitespace collapsed, one line per paragraph or block.

    Lone surrogates become U+FFFD first (lxml raised UnicodeEncodeError on them;
    tests/test_fuzz.py)."""
    if not html_fragment or not html_fragment.strip():
        return ""
    with warnings.catch_warnings():  # a summary that starts like XML is still read as HTML
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(_SURROGATE_RE.sub("\ufffd", html_fragment), "lxml")
    return clean_lines("".join(_bs4_pieces(soup)))

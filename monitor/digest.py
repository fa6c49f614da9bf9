"""Render a digest: agreements -> subject, plain text and HTML.

Pure: the only I/O is jinja2 loading ``templates/digest.txt.j2`` and
``templates/digest.html.j2`` from this package. The clock and the time zone
come in as arguments, so the same items always render to the same bytes, which
is what the golden-file tests rely on.

What a digest shows, and in which order:

* one entry per agreement (items repeating an ``agreement_id`` are merged,
  keeping the first and adding any article it does not already link);
* entries grouped by province, provinces sorted by name, an unnamed province
  last; inside a province the newest signing first, undated ones after the
  dated, then by id;
* every reporting article in the order the caller gave, titles linked only
  when ``safe_url`` accepts the URL;
* earlier agreements between the same parties, newest first;
* a footer with the failing sources and a line saying how many agreements.

Everything that comes from the outside world (titles, names, evidence, error
messages) is squeezed onto one line with ``clean_header`` before it reaches a
template, so a hostile title cannot break the plain-text layout, and the HTML
template escapes it again (autoescape is on for ``*.html.j2``).
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import jinja2

from .types import DigestItem, FailingSource, SourceLink

DEFAULT_SUBJECT = "[monitor] {count} new agreement(s) — {date}"

KIND_LABELS = {
    "strategic_cooperation": "Strategic cooperation agreement",
    "framework": "Framework agreement",
    "mou": "Memorandum of understanding",
    "investment": "Investment agreement",
    "other": "Agreement",
}
LEVEL_LABELS = {"city": "City level", "province": "Province level"}
NO_DATE = "date not stated"
NO_PROVINCE = "Province not stated"

# Longest a one-line field may be once cleaned (a title, a name, an error).
_FIELD_MAX = 300
_EVIDENCE_MAX = 2000
_TEXT_WIDTH = 72

# Bidirectional embedding, override and isolate controls: invisible, and able
# to make a line read differently from what it contains.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True)
class Digest:
    """A rendered digest, ready for ``mail.build_message``."""

    subject: str
    text: str
    html: str
    agreement_ids: tuple[int, ...]  # in the order the digest shows them


def _is_control(char: str) -> bool:
    category = unicodedata.category(char)
    # Cc: C0/C1 controls incl. CR, LF, \v, \f, \x85, NUL; Zl/Zp: U+2028/U+2029;
    # Cs: lone surrogates, which cannot be encoded at all.
    return category in ("Cc", "Zl", "Zp", "Cs") or char in _BIDI_CONTROLS


def clean_header(value: str, max_len: int = 200) -> str:
    """Return ``value`` as one clean line of at most ``max_len`` characters.

    Control characters of every kind (CR, LF, \\v, \\f, \\x85, U+2028, U+2029,
    NUL, the rest of C0 and C1, bidi overrides) become spaces, runs of
    whitespace collapse to one space, the ends are trimmed, and a value that is
    still too long is cut and ends with "…".
    """
    if max_len < 1:
        raise ValueError("max_len must be at least 1")
    spaced = "".join(" " if _is_control(c) else c for c in str(value))
    line = " ".join(spaced.split())
    if len(line) > max_len:
        line = line[: max_len - 1].rstrip() + "…"
    return line


def safe_url(url: str) -> str | None:
    """Return ``url`` if it is an absolute http(s) URL with a host, else None.

    ``javascript:``, ``data:``, ``mailto:``, relative and scheme-relative URLs,
    and URLs carrying control characters or line breaks are refused; the
    template then shows the title without a link. Plain spaces are
    percent-encoded.
    """
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or any(_is_control(c) or (c.isspace() and c != " ") for c in url):
        return None
    url = url.replace(" ", "%20")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


# -- the view model the templates read -------------------------------------------------


@dataclass(frozen=True)
class _Link:
    title: str
    url: str | None
    source: str
    published: str | None


@dataclass(frozen=True)
class _Earlier:
    signed: str
    kind: str


@dataclass(frozen=True)
class _Entry:
    agreement_id: int
    companies: str
    government: str
    kind: str
    signed: str
    level: str
    score: str
    evidence: str
    evidence_lines: tuple[str, ...]
    links: tuple[_Link, ...]
    earlier: tuple[_Earlier, ...]


@dataclass(frozen=True)
class _Section:
    province: str
    entries: tuple[_Entry, ...]


@dataclass(frozen=True)
class _Failing:
    name: str
    failures: str
    last_error: str


def _one_line(value: object, max_len: int = _FIELD_MAX) -> str:
    return clean_header("" if value is None else str(value), max_len)


def _kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, KIND_LABELS["other"])


def _signed_label(signed_on: date | None) -> str:
    return f"signed {signed_on.isoformat()}" if signed_on else NO_DATE


def _newest_first(signed_on: date | None) -> tuple[int, int]:
    return (0, -signed_on.toordinal()) if signed_on else (1, 0)


def _link(article: SourceLink) -> _Link:
    return _Link(
        title=_one_line(article.title) or "(untitled)",
        url=safe_url(article.url),
        source=_one_line(article.source) or "unknown source",
        published=article.published.isoformat() if article.published else None,
    )


def _entry(item: DigestItem) -> _Entry:
    a = item.agreement
    evidence = _one_line(a.evidence, _EVIDENCE_MAX)
    earlier = sorted(item.earlier, key=lambda e: _newest_first(e.signed_on))
    return _Entry(
        agreement_id=item.agreement_id,
        companies=_one_line(", ".join(a.companies)) or "unnamed company",
        government=_one_line(a.government) or "unnamed government",
        kind=_kind_label(a.kind),
        signed=_signed_label(a.signed_on),
        level=LEVEL_LABELS.get(a.level, _one_line(a.level).capitalize() or "Level not stated"),
        score=f"{a.score:.2f}",
        evidence=evidence,
        evidence_lines=tuple(
            textwrap.wrap(evidence, _TEXT_WIDTH, break_long_words=False, break_on_hyphens=False)
        ),
        links=tuple(_link(s) for s in item.articles),
        earlier=tuple(
            _Earlier(signed=e.signed_on.isoformat() if e.signed_on else NO_DATE,
                     kind=_kind_label(e.kind))
            for e in earlier
        ),
    )


def _merge(items: Sequence[DigestItem]) -> list[DigestItem]:
    """One item per agreement id; a repeat adds only articles not yet linked."""
    merged: dict[int, DigestItem] = {}
    for item in items:
        first = merged.get(item.agreement_id)
        if first is None:
            merged[item.agreement_id] = item
            continue
        seen = {s.url for s in first.articles}
        extra = tuple(s for s in item.articles if s.url not in seen)
        merged[item.agreement_id] = DigestItem(
            agreement_id=first.agreement_id,
            agreement=first.agreement,
            first_seen_at=first.first_seen_at,
            articles=first.articles + extra,
            earlier=first.earlier,
        )
    return list(merged.values())


def _sections(items: Sequence[DigestItem]) -> tuple[_Section, ...]:
    by_province: dict[str, list[DigestItem]] = {}
    for item in _merge(items):
        province = _one_line(item.agreement.province) or NO_PROVINCE
        by_province.setdefault(province, []).append(item)

    def agreement_order(item: DigestItem) -> tuple[tuple[int, int], int]:
        return (_newest_first(item.agreement.signed_on), item.agreement_id)

    names = sorted(by_province, key=lambda p: (p == NO_PROVINCE, p.casefold(), p))
    return tuple(
        _Section(p, tuple(_entry(i) for i in sorted(by_province[p], key=agreement_order)))
        for p in names
    )


def _count_phrase(count: int) -> str:
    return "1 agreement" if count == 1 else f"{count} agreements"


def _subject(template: str, sections: tuple[_Section, ...], companies: list[str],
             count: int, day: date, first_title: str) -> str:
    fields = {
        "count": count,
        "date": day.isoformat(),
        "provinces": ", ".join(s.province for s in sections),
        "companies": ", ".join(companies),
        "title": first_title,
    }
    try:
        subject = template.format_map(fields)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        known = ", ".join("{" + k + "}" for k in fields)
        raise ValueError(
            f"bad subject template {template!r}: {exc!r}; known fields: {known}"
        ) from exc
    return clean_header(subject)


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader(__package__ or "monitor", "templates"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2", "html"), default_for_string=False, default=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_digest(
    items: Sequence[DigestItem],
    *,
    now: datetime,
    tz: ZoneInfo | str = "Asia/Shanghai",
    failing: Sequence[FailingSource] = (),
    subject_template: str = DEFAULT_SUBJECT,
) -> Digest:
    """Render ``items`` as a digest dated by ``now`` in ``tz``.

    ``now`` must be timezone-aware. ``subject_template`` is a ``str.format``
    template with the fields ``{count}``, ``{date}`` (local ISO date),
    ``{provinces}``, ``{companies}`` and ``{title}`` (the first article's
    title); the result always goes through ``clean_header``. With no items the
    digest says there is nothing new; whether to send it is the caller's call.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    zone: tzinfo = ZoneInfo(tz) if isinstance(tz, str) else tz
    local = now.astimezone(zone)
    zone_name = getattr(zone, "key", None) or str(zone)

    sections = _sections(items)
    ids = tuple(e.agreement_id for s in sections for e in s.entries)
    count = len(ids)
    first_entry = sections[0].entries[0] if sections else None
    first_title = first_entry.links[0].title if first_entry and first_entry.links else ""
    companies = sorted({_one_line(c) for i in items for c in i.agreement.companies} - {""})
    subject = _subject(subject_template, sections, companies, count, local.date(), first_title)

    if count:
        provinces = "1 province" if len(sections) == 1 else f"{len(sections)} provinces"
        summary = f"{count} new {'agreement' if count == 1 else 'agreements'} in {provinces}."
    else:
        summary = "No new agreements since the last digest."

    context = {
        "subject": subject,
        "heading": f"Agreements digest — {local.date().isoformat()}",
        "summary": summary,
        "generated": f"{local:%Y-%m-%d %H:%M} ({zone_name})",
        "sections": sections,
        "failing": tuple(
            _Failing(
                name=_one_line(f.name) or _one_line(f.url) or "unnamed source",
                failures=(f"{f.failures} consecutive failure"
                          + ("" if f.failures == 1 else "s")),
                last_error=_one_line(f.last_error) or "no error recorded",
            )
            for f in failing
        ),
        "total": f"This digest lists {_count_phrase(count)}.",
    }
    env = _environment()
    return Digest(
        subject=subject,
        text=env.get_template("digest.txt.j2").render(context),
        html=env.get_template("digest.html.j2").render(context),
        agreement_ids=ids,
    )

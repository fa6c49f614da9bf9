"""Frozen values passed between the stages of the pipeline."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Source:
    """One configured feed or index page."""

    name: str
    url: str
    kind: str = "feed"  # "feed" or "page"
    interval: float | None = None  # seconds; None means the [poll] default
    lang: str | None = None
    selector: str | None = None  # CSS selector for links on a "page" source


@dataclass(frozen=True)
class Entry:
    """One item read from a feed or an index page."""

    url: str
    guid: str | None = None
    title: str = ""
    published: datetime | None = None
    summary: str = ""  # the feed's own content or summary: sanitized HTML, made text later


@dataclass(frozen=True)
class Article:
    """What the classifier reads: cleaned text plus the little metadata it needs."""

    title: str
    text: str
    published: date | None = None
    url: str | None = None
    lang: str | None = None  # "en", "zh" or None (guess from the text)


@dataclass(frozen=True)
class Agreement:
    """One signing between a Chinese government and one or more tech giants."""

    province: str  # canonical English name, e.g. "Hebei"
    level: str  # "province" or "city"
    government: str  # the party as named, e.g. "Hebei provincial government"
    companies: tuple[str, ...]  # canonical names, sorted
    kind: str  # strategic_cooperation, framework, mou, investment, other
    signed_on: date | None
    score: float
    evidence: str
    rules: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["companies"] = list(self.companies)
        d["rules"] = list(self.rules)
        d["signed_on"] = self.signed_on.isoformat() if self.signed_on else None
        return d


@dataclass(frozen=True)
class Page:
    """What extraction makes of a fetched article page."""

    title: str
    text: str
    published: date | None = None
    lang: str | None = None


@dataclass(frozen=True)
class SourceLink:
    """One article that reported an agreement, as the digest shows it."""

    title: str
    url: str
    source: str  # the feed's name
    published: date | None = None


@dataclass(frozen=True)
class DigestItem:
    """One agreement as it appears in a digest."""

    agreement_id: int
    agreement: Agreement
    first_seen_at: datetime
    articles: tuple[SourceLink, ...] = ()
    earlier: tuple[Agreement, ...] = ()  # earlier agreements between the same parties


@dataclass(frozen=True)
class FailingSource:
    """A source that is failing, for the digest's footer."""

    name: str
    url: str
    failures: int
    last_error: str


@dataclass(frozen=True)
class RunReport:
    """The summary of one poll cycle."""

    polled: int = 0
    failed: int = 0
    not_modified: int = 0
    new_articles: int = 0
    new_agreements: int = 0
    seconds: float = 0.0

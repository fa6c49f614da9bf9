"""One pass of every word list over an article; the hits, sorted into sentences."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date

from ..types import Article
from .dates import DateMention, find_dates
from .lexicon import Hit
from .rules import Rules
from .text import fold, is_chinese, sentences


@dataclass(slots=True)
class Sentence:
    index: int
    start: int
    end: int
    title: bool
    zh: bool
    places: list[Hit] = field(default_factory=list)
    words: list[Hit] = field(default_factory=list)
    companies: list[Hit] = field(default_factory=list)
    triggers: list[Hit] = field(default_factory=list)
    hedges: list[Hit] = field(default_factory=list)
    dates: list[DateMention] = field(default_factory=list)


@dataclass(slots=True)
class Doc:
    text: str  # title, blank line, body: offsets index this
    norm: str
    low: str
    published: date | None
    sentences: list[Sentence]

    def sentence_text(self, s: Sentence) -> str:
        return " ".join(self.text[s.start:s.end].split())


def scan(article: Article, rules: Rules) -> Doc:
    title = (article.title or "").strip()
    body = article.text or ""
    text = f"{title}\n\n{body}" if title else body
    title_end = len(title)
    norm, low = fold(text, rules.fold)
    spans = sentences(norm)
    sents = [Sentence(i, s, e, s < title_end, is_chinese(norm[s:e]))
             for i, (s, e) in enumerate(spans)]
    starts = [s.start for s in sents]
    doc = Doc(text, norm, low, article.published, sents)
    if not sents:
        return doc

    def assign(hits, attr: str) -> None:
        for h in hits:
            i = bisect_right(starts, h.start) - 1
            if i >= 0 and h.end <= sents[i].end:
                getattr(sents[i], attr).append(h)

    assign(rules.companies.find(low, norm), "companies")
    assign(rules.triggers.find(low, norm), "triggers")
    assign(rules.places.find(low, norm), "places")
    assign(rules.words.find(low, norm), "words")
    assign(rules.hedges.find(low, norm), "hedges")
    assign(find_dates(norm, low, article.published), "dates")
    return doc

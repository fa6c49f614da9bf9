"""One pass of every word list over an article; the hits, sorted into sentences."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date

from ..types import Article
from .dates import DateMention, find_dates
from .lexicon import Hit
from .rules import Rules
from .text import clean, fold, is_chinese, sentences


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
    title = clean(article.title or "").strip()
    body = clean(article.text or "")
    text = f"{title}\n\n{body}" if title else body
    title_end = len(title)
    norm, low = fold(text, rules.fold)
    spans = sentences(norm)
    sents = [Sentence(i, s, e, s < title_end, False) for i, (s, e) in enumerate(spans)]
    starts = [s.start for s in sents]
    doc = Doc(text, norm, low, article.published, sents)
    if not sents:
        return doc

    teasers = _teasers(low, title_end)

    def assign(hits, attr: str) -> None:
        for h in hits:
            i = bisect_right(starts, h.start) - 1
            if i >= 0 and h.end <= sents[i].end:
                if teasers and any(a <= h.start < b for a, b in teasers):
                    continue  # the headline of another article
                getattr(sents[i], attr).append(h)

    assign(rules.companies.find(low, norm), "companies")
    assign(rules.triggers.find(low, norm), "triggers")
    if not any(s.companies for s in sents) or not any(s.triggers for s in sents):
        return doc  # nothing can be signed: the rest is not needed
    assign(rules.places.find(low, norm), "places")
    for s in sents:
        if s.places or s.companies or s.triggers:
            s.zh = is_chinese(norm[s.start:s.end])
    # grammar words and hedges matter only where something can happen
    wanted = [s.places or s.companies or s.triggers for s in sents]
    assign(rules.words.find(low, norm, _runs(sents, wanted)), "words")
    assign(rules.hedges.find(low, norm, _runs(sents, [bool(s.triggers) for s in sents])),
           "hedges")
    # dates after the last signing sentence are never read ("a day earlier" looks back)
    last = max(s.end for s in sents if s.triggers)
    found = find_dates(norm[:last], low[:last], article.published)
    anchor = _dateline_day(found, low, sents, article.published)
    if anchor is not None:  # "HAIKOU, Oct. 12, 2019 /PRNewswire/ -- ... today announced"
        found = find_dates(norm[:last], low[:last], anchor)
    assign(found, "dates")
    return doc


# "Related:", 相关阅读, 【相关】, "Read more": the lines after it (or the rest of its own
# line) are the headlines of other articles, not news of this one
_TEASER_HEAD = re.compile(
    r"[ \t]*(?:[-*•·▶►>【\[(（]\s*)?(?:related(?: (?:stories|articles|news|reading|links|"
    r"coverage|content|posts))?|see also|read more|more on this|more from|also read|you may "
    r"also like|recommended(?: reading| stories)?|further reading|相关阅读|延伸阅读|推荐阅读|"
    r"相关新闻|相关报道|相关链接|相关文章|相关稿件|更多阅读|阅读更多|扩展阅读|拓展阅读|往期回顾|"
    r"往期推荐|猜你喜欢|相关)"
    r"(?:\s*[】\])）]\s*(?:[:：>»|]|[-–—]+)?|\s*(?:[:：>»|]|[-–—]+)|\s*$)[ \t]*")
_TEASER_LINE_MAX = 120  # a headline is short and does not run on into paragraphs


def _teasers(low: str, title_end: int) -> list[tuple[int, int]]:
    """Spans of lines that list other articles: a line that opens with a teaser marker
    ("Related:", 相关阅读：, 【相关】) and, when the marker stands alone or ends its line,
    the short lines that follow it."""
    out: list[tuple[int, int]] = []
    at = title_end
    n = len(low)
    listing = False
    while at < n:
        nl = low.find("\n", at)
        end = n if nl < 0 else nl
        line = low[at:end]
        m = _TEASER_HEAD.match(line)
        stripped = line.strip()
        if m is not None and stripped:
            out.append((at, end))
            listing = True
        elif listing:
            if len(stripped) > _TEASER_LINE_MAX or stripped.endswith(("。", ".", "！", "？")):
                listing = False
            elif stripped:
                out.append((at, end))
        at = end + 1
    return out


_DATELINE_TAIL = re.compile(r"\s*(?:\([^)]{0,40}\)|/[^/]{0,40}/)?\s*(?:-|--|—|–)")
DATELINE_DAYS = 14


def _dateline_day(found: list[DateMention], low: str, sents: list[Sentence],
                  pub: date | None) -> date | None:
    """The day in a dateline that opens the story, when it is a few days before the
    publication date (a press release or wire story carried later): "today", "on Friday"
    and "yesterday" count from the day the story was written."""
    if pub is None or not found:
        return None
    heads = [s for s in sents[:3] if not s.title][:1]
    for s in heads:
        for d in found:
            if d.start >= s.start + 45 or d.start < s.start:
                continue
            if (d.precision == "day" and d.value is not None
                    and d.rule in ("date.absolute", "date.month_day")
                    and 0 < (pub - d.value).days <= DATELINE_DAYS
                    and _DATELINE_TAIL.match(low, d.end)):
                return d.value
            return None
    return None


def _runs(sents: list[Sentence], wanted: list) -> list[tuple[int, int]]:
    """Spans covering the wanted sentences, consecutive ones joined."""
    out: list[tuple[int, int]] = []
    for s, w in zip(sents, wanted, strict=True):
        if not w:
            continue
        if out and sents[s.index - 1].end == out[-1][1] and wanted[s.index - 1]:
            out[-1] = (out[-1][0], s.end)
        else:
            out.append((s.start, s.end))
    return out

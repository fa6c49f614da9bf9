"""Signing clusters: a verb and the documents near it, with its hedges and its date.

A sentence's triggers are grouped around their verbs ("signed ... a strategic cooperation
agreement"); hedges ("plans to", 拟), background words ("had signed", 此前), undone and
denial words, and dates are attached to the cluster they stand by. A cluster's ``status``
says whether it reports a new signing ("ok") or why not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from .dates import DateMention
from .lexicon import Hit
from .rules import HedgeInfo, TriggerInfo
from .scan import Doc, Sentence

BACKGROUND_DAYS = 30
KIND_ORDER = ("strategic_cooperation", "framework", "mou", "investment")
STRENGTH_RANK = {"verb": 0, "noun": 1, "weak": 2}
_STATUS_ORDER = ("undone", "denied", "not_yet", "background", "talks", "ok")
_DATELINE_TAIL = re.compile(r"\s*(?:\([^)]{0,40}\)|/[^/]{0,40}/)?\s*(?:-|--|—|–|:)")
_REPORTING = re.compile(r"\b(?:said|says|announced|announces|confirmed|confirms|stated|"
                        r"states|told|disclosed|revealed|added|reported|reports)\b")
_REPORTED = re.compile(r"(?:said|says|announced|announces|reported|reports|told|confirmed|"
                       r"disclosed|revealed|stated|published|posted|added)"
                       r"(?:\s+in\s+an?\s+(?:statement|post|notice|release|filing))?"
                       r"\s+(?:on\s+)?$")
_EN_GAP = re.compile(r"^[\s\w'.&-]*$")
_ZH_STOP = frozenset("，,；;。：:！!？?")


@dataclass(slots=True)
class Cluster:
    members: list[tuple[Hit, TriggerInfo]]
    start: int
    end: int
    strength: str = "weak"
    kind: str = "other"
    plural: bool = False
    problems: dict[str, str] = field(default_factory=dict)  # status -> reason
    background_words: list[str] = field(default_factory=list)
    background_strong: list[str] = field(default_factory=list)  # "had signed", "years after"
    fresh: bool = False
    dates: list[DateMention] = field(default_factory=list)
    date: DateMention | None = None
    date_reported: bool = False  # the date of a statement ("said on Monday"), a weak guess

    @property
    def status(self) -> str:
        for s in _STATUS_ORDER:
            if s in self.problems:
                return s
        return "ok"

    def distance(self, start: int, end: int) -> int:
        if end <= self.start:
            return self.start - end
        if start >= self.end:
            return start - self.end
        return 0

    def text(self, doc: Doc) -> str:
        return " ".join(doc.text[self.start:self.end].split())


def clusters_in(doc: Doc, s: Sentence) -> list[Cluster]:
    zh = s.zh
    after_w, before_w = (30, 15) if zh else (90, 45)
    trig: list[tuple[Hit, TriggerInfo]] = []
    for h in s.triggers:
        info = min(h.infos, key=lambda i: STRENGTH_RANK[i.strength])
        trig.append((h, info))
    verbs = [t for t in trig if t[1].strength == "verb"]
    others = [t for t in trig if t[1].strength != "verb"]
    clusters = [Cluster([v], v[0].start, v[0].end) for v in verbs]
    loose: list[Cluster] = []
    for t in others:
        h = t[0]
        best, best_d = None, None
        for c in clusters:
            v = c.members[0][0]
            if h.start >= v.end:
                d = h.start - v.end
                if d > after_w:
                    continue
            elif h.end <= v.start:
                d = v.start - h.end
                if d > before_w:
                    continue
            else:
                d = 0
            if best_d is None or d < best_d:
                best, best_d = c, d
        if best is None:
            if loose and h.start - loose[-1].end <= (6 if zh else 12):
                best = loose[-1]
            else:
                best = Cluster([], h.start, h.end)
                loose.append(best)
        best.members.append(t)
        best.start, best.end = min(best.start, h.start), max(best.end, h.end)
    out: list[Cluster] = []
    for c in clusters + loose:
        infos = [i for _, i in c.members]
        has_noun = any(i.strength == "noun" for i in infos)
        verb_ok = any(i.strength == "verb" and (not i.needs_noun or has_noun
                                                  or _partner_after(doc, zh, c, h))
                      for h, i in c.members)
        if not verb_ok and not has_noun and not any(i.strength == "weak" for i in infos):
            continue  # "reached" alone
        c.strength = "verb" if verb_ok else ("noun" if has_noun else "weak")
        c.plural = any(i.plural for i in infos)
        kinds = [i.kind for i in infos if i.kind and i.strength != "weak"] or [
            i.kind for i in infos if i.kind]
        c.kind = next((k for k in KIND_ORDER if k in kinds), "other")
        c.members.sort(key=lambda m: m[0].start)
        out.append(c)
    out.sort(key=lambda c: c.start)
    return out


def _partner_after(doc: Doc, zh: bool, c: Cluster, verb: Hit) -> bool:
    """A verb that needs a document also takes a relation named right after it ("announced
    a strategic partnership with", "formed a partnership with", 达成...战略合作)."""
    if zh:
        return False
    for h, i in c.members:
        if i.strength == "weak" and h.start >= verb.end and doc.low.endswith(
                ("partnership", "alliance"), h.start, h.end) and _gap_ok(
                doc, zh, verb.end, h.start, 2):
            return True
    return False


_CLAUSE_STOP = frozenset("，。；！？,;!?")


def _gap_ok(doc: Doc, zh: bool, start: int, end: int, words: int = 3) -> bool:
    """Nothing but a few words between a hedge and its trigger ("plans to formally sign";
    a subject may stand between a background word and its verb: "years after the Hebei
    provincial government signed")."""
    if end <= start:
        return True
    gap = doc.low[start:end]
    if zh or not gap.isascii():
        return len(gap) <= 4 * words and not any(ch in _ZH_STOP for ch in gap)
    return bool(_EN_GAP.match(gap)) and len(gap.split()) <= words


def apply_hedges(doc: Doc, s: Sentence, clusters: list[Cluster]) -> None:
    if not clusters:
        return
    members = sorted(((h, c) for c in clusters for h, _ in c.members), key=lambda x: x[0].start)
    zh = s.zh
    window = 25 if zh else 80
    for h in s.hedges:
        info: HedgeInfo = h.infos[0]
        text = doc.text[h.start:h.end]
        if info.kind in ("ignore", "witness"):
            continue
        if info.kind in ("undone", "denied"):
            what = "undone" if info.kind == "undone" else "denied or corrected"
            for c in clusters:
                c.problems.setdefault(info.kind, f"{what}: '{text}' in the sentence")
            continue
        if info.kind == "talks":
            for c in clusters:
                if c.strength != "verb" or all(i.base for _, i in c.members
                                                if i.strength == "verb"):
                    c.problems.setdefault("talks", f"talks only: '{text}' and no signing verb")
            continue
        if info.attach == "sentence":
            targets = clusters
        elif info.attach == "clause":
            # 力争…推动甲与乙签署, 正与乙商讨签署, "in discussions to sign": the hedge governs
            # the first signing verb after it in its clause (no stop between them)
            targets = []
            for t, c in members:
                if t.start < h.end:
                    continue
                gap = doc.low[h.end:t.start]
                # not "签署了推进数字化改革…协议": a verb before the hedge signed already
                signed = any(i.strength == "verb" and v.start < h.start for v, i in c.members)
                if len(gap) <= (40 if zh else 120) and not signed and not any(
                        ch in _CLAUSE_STOP for ch in gap):
                    targets = [c]
                break
        elif info.attach == "before":
            targets = []
            words = 8 if info.kind == "background" else 3
            for t, c in members:
                if t.start < h.start:
                    continue
                inside = any(i.strength == "verb" and v.start < h.start for v, i in c.members)
                if _gap_ok(doc, zh, h.end, t.start, words) and not inside:
                    targets = [c]  # not "signed ... an agreement to promote ..."
                break
        else:
            near = min(clusters, key=lambda c: c.distance(h.start, h.end))
            targets = [near] if near.distance(h.start, h.end) <= window else []
        for c in targets:
            if info.kind == "fresh":
                c.fresh = True
            elif info.kind == "background":
                if _REPORTING.search(doc.low, max(s.start, h.start - 40), h.start):
                    continue  # "announced that it had signed": news, not history
                if info.attach == "before":
                    c.background_strong.append(text)
                else:
                    c.background_words.append(text)
            elif info.kind == "not_yet":
                trig = next((doc.text[t.start:t.end] for t, _ in c.members
                             if t.start >= h.start), c.text(doc))
                where = "before trigger" if info.attach == "before" else "with trigger"
                c.problems.setdefault("not_yet", f"hedge '{text}' {where} '{trig}'")


def is_dateline(doc: Doc, s: Sentence, d: DateMention) -> bool:
    """'HARBIN, Jan. 6 --': the date of the report, not of the signing."""
    return d.start - s.start <= 45 and bool(_DATELINE_TAIL.match(doc.low, d.end))


def is_reported(doc: Doc, s: Sentence, d: DateMention) -> bool:
    """'the company said on Monday': the date of the statement."""
    return bool(_REPORTED.search(doc.low, max(s.start, d.start - 20), d.start))


def apply_dates(doc: Doc, s: Sentence, clusters: list[Cluster], pub: date | None) -> None:
    if not clusters:
        return
    for d in s.dates:
        if is_dateline(doc, s, d):
            continue
        if d.rule == "date.relative.days_after":
            # "came a day after [the city signed ...]": the date of the clause that follows
            later = [c for c in clusters if c.start >= d.end]
            if later:
                min(later, key=lambda c: c.start).dates.append(d)
                continue
        near = min(clusters, key=lambda c: c.distance(d.start, d.end))
        near.dates.append(d)
    for c in clusters:
        if c.background_strong:
            c.problems.setdefault("background", f"background: '{c.background_strong[0]}' "
                                                f"recalls an earlier signing")
        for d in c.dates:
            if d.future and d.precision == "vague":
                c.problems.setdefault(
                    "not_yet", f"'{doc.text[d.start:d.end]}' is in the future")
        days = [d for d in c.dates if d.precision == "day" and d.value is not None]
        if days and _older_nearer(c, days):
            days = []  # "which signed an agreement with X in 2016, on Friday opened ..."
        if days:
            c.date = _pick_date(doc, s, c, days)
            c.date_reported = is_reported(doc, s, c.date)
            if c.date.future:
                c.problems.setdefault(
                    "not_yet", f"date {c.date.describe()} is after publication")
                c.date = None
            elif pub is not None and c.date.value is not None and (
                    c.date.value < pub - timedelta(days=BACKGROUND_DAYS)):
                c.problems.setdefault(
                    "background", f"background: signed {c.date.describe()} is over "
                                  f"{BACKGROUND_DAYS} days before publication")
            continue
        if pub is not None:
            for d in c.dates:
                old = (d.precision == "year" and d.year and d.year < pub.year) or (
                    d.precision == "month" and d.year and d.month
                    and (d.year, d.month) < _month_before(pub))
                if old:
                    c.problems.setdefault(
                        "background", f"background: '{d.describe()}' is before publication")
        if c.background_words and not c.fresh:
            c.problems.setdefault(
                "background", f"background: '{c.background_words[0]}' recalls an earlier "
                              f"agreement")


def _older_nearer(c: Cluster, days: list[DateMention]) -> bool:
    """A year or month named nearer the signing than any day, and not the year (month) of
    those days: the signing is of that year; the day belongs to another clause."""
    coarse = [d for d in c.dates if d.precision in ("year", "month") and d.year]
    if not coarse:
        return False
    near = min(coarse, key=lambda d: c.distance(d.start, d.end))
    if c.distance(near.start, near.end) >= min(c.distance(d.start, d.end) for d in days):
        return False
    return all(d.value is not None and (d.value.year != near.year or (
        near.month and d.value.month != near.month)) for d in days)


def _pick_date(doc: Doc, s: Sentence, c: Cluster, days: list[DateMention]) -> DateMention:
    """English puts the date after the verb ("signed ... on Friday") unless it opens the
    sentence; Chinese puts it before (10月11日...签署). Dates of statements come last."""
    plain = [d for d in days if not is_reported(doc, s, d)] or days
    verb = next((h.start for h, i in c.members if i.strength == "verb"), c.start)
    after = [d for d in plain if d.start >= verb]
    before = [d for d in plain if d.start < verb]
    if s.zh:
        if before:
            return max(before, key=lambda d: d.end)
        return min(after, key=lambda d: d.start)
    if after:
        return min(after, key=lambda d: d.start)
    return max(before, key=lambda d: d.end)


def _month_before(pub: date) -> tuple[int, int]:
    return (pub.year, pub.month - 1) if pub.month > 1 else (pub.year - 1, 12)


# ---------------------------------------------------------------- candidates

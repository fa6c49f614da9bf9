"""From parties, companies, triggers, hedges and dates to candidate agreements.

Per sentence: triggers are grouped into clusters (a signing verb and the documents near it,
"signed ... a strategic cooperation agreement"); hedges, background words and dates are
attached to the cluster they stand by; the sentence's best cluster decides whether its
government + companies pair is a new signing. A sentence that only says "the two sides",
"the agreement" or "the company" borrows the parties of the one or two before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from ..types import Agreement
from .dates import DateMention
from .lexicon import Hit
from .parties import Party
from .rules import CompanyInfo, HedgeInfo, Rules, TriggerInfo
from .scan import Doc, Sentence

BACKGROUND_DAYS = 30
_KIND_ORDER = ("strategic_cooperation", "framework", "mou", "investment")
_STRENGTH_RANK = {"verb": 0, "noun": 1, "weak": 2}
_STATUS_ORDER = ("undone", "denied", "not_yet", "background", "talks", "ok")
_DATELINE_TAIL = re.compile(r"\s*(?:\([^)]{0,40}\)|/[^/]{0,40}/)?\s*(?:-|--|—|–|:)")
_REPORTING = re.compile(r"\b(?:said|says|announced|announces|confirmed|confirms|stated|"
                        r"states|told|disclosed|revealed|added|reported|reports)\b")
_REPORTED = re.compile(r"(?:said|says|announced|announces|reported|reports|told|confirmed|"
                       r"disclosed|revealed|stated|published|posted|added)"
                       r"(?:\s+in\s+an?\s+(?:statement|post|notice|release|filing))?"
                       r"\s+(?:on\s+)?$")
_NO_DATE = re.compile(r"did not (?:say|specify|disclose|give) (?:on )?(?:which|what|the) "
                      r"(?:day|date)|did not say when|(?:date|day) (?:was|were|has not been|"
                      r"had not been) (?:not )?(?:disclosed|given|specified|announced)|"
                      r"undisclosed date|unspecified date|未(?:透露|公布|披露)(?:具体)?(?:签约)?"
                      r"(?:日期|时间)")
_SEPARATE = re.compile(r"(?:separately|in a separate|另外|另据|此外，另)")
INHERIT_SENTENCES = 8
_EN_GAP = re.compile(r"^[\s\w'.&-]*$")
_ZH_STOP = frozenset("，,；;。：:！!？?")


@dataclass(frozen=True)
class Candidate:
    """One agreement the classifier considered, accepted or not, and why."""

    agreement: Agreement
    accepted: bool
    reasons: tuple[str, ...]
    sentence: str


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


@dataclass(frozen=True, slots=True)
class Mention:
    name: str
    id: str
    start: int
    end: int
    ambiguous: bool


# ---------------------------------------------------------------- companies

def companies_in(doc: Doc, s: Sentence, rules: Rules) -> tuple[list[Mention], list[str]]:
    """Company mentions in a sentence; ambiguous aliases only with context."""
    out: list[Mention] = []
    notes: list[str] = []
    low = doc.low
    sent_low = low[s.start:s.end]
    for h in s.companies:
        info: CompanyInfo = h.infos[0]
        company = rules.company_table[info.id]
        after = low[h.end:h.end + 12]
        if any(after.startswith(x) for x in company.anti_next):
            continue
        if info.ambiguous:
            if any(w in sent_low for w in company.anti_context):
                notes.append(f"'{doc.text[h.start:h.end]}' is not {company.name} here "
                             f"(the sentence is about something else)")
                continue
            if not any(w in sent_low for w in company.context) and not _beside_coordinator(
                    doc, s, h, rules):
                notes.append(f"'{doc.text[h.start:h.end]}' alone is too ambiguous to mean "
                             f"{company.name}")
                continue
        out.append(Mention(company.name, company.id, h.start, h.end, info.ambiguous))
    return out, notes


def _beside_coordinator(doc: Doc, s: Sentence, h: Hit, rules: Rules) -> bool:
    before = doc.low[max(s.start, h.start - 12):h.start].rstrip()
    lang = "en" if h.infos[0].alias.isascii() else "zh"
    coords = rules.cue("coordinator", lang)
    if lang == "en":
        words = before.split()
        return bool(words) and words[-1] in ("with", "and", "&")
    return any(before.endswith(c) for c in coords) and any(
        doc.low.startswith(x, h.end) for x in ("签", "达成", "共同", "正式", "在", "于"))


# ---------------------------------------------------------------- clusters

def clusters_in(doc: Doc, s: Sentence) -> list[Cluster]:
    zh = s.zh
    after_w, before_w = (30, 15) if zh else (90, 45)
    trig: list[tuple[Hit, TriggerInfo]] = []
    for h in s.triggers:
        info = min(h.infos, key=lambda i: _STRENGTH_RANK[i.strength])
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
        verb_ok = any(i.strength == "verb" and (not i.needs_noun or has_noun) for i in infos)
        if not verb_ok and not has_noun and not any(i.strength == "weak" for i in infos):
            continue  # "reached" alone
        c.strength = "verb" if verb_ok else ("noun" if has_noun else "weak")
        c.plural = any(i.plural for i in infos)
        kinds = [i.kind for i in infos if i.kind and i.strength != "weak"] or [
            i.kind for i in infos if i.kind]
        c.kind = next((k for k in _KIND_ORDER if k in kinds), "other")
        c.members.sort(key=lambda m: m[0].start)
        out.append(c)
    out.sort(key=lambda c: c.start)
    return out


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


def _dateline(doc: Doc, s: Sentence, d: DateMention) -> bool:
    """'HARBIN, Jan. 6 --': the date of the report, not of the signing."""
    return d.start - s.start <= 45 and bool(_DATELINE_TAIL.match(doc.low, d.end))


def _reported(doc: Doc, s: Sentence, d: DateMention) -> bool:
    """'the company said on Monday': the date of the statement."""
    return bool(_REPORTED.search(doc.low, max(s.start, d.start - 20), d.start))


def apply_dates(doc: Doc, s: Sentence, clusters: list[Cluster], pub: date | None) -> None:
    if not clusters:
        return
    for d in s.dates:
        if _dateline(doc, s, d):
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
        if days:
            c.date = _pick_date(doc, s, c, days)
            c.date_reported = _reported(doc, s, c.date)
            if c.date.future:
                c.problems.setdefault(
                    "not_yet", f"date {c.date.describe()} is after publication")
                c.date = None
            elif pub is not None and c.date.value < pub - timedelta(days=BACKGROUND_DAYS):
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


def _pick_date(doc: Doc, s: Sentence, c: Cluster, days: list[DateMention]) -> DateMention:
    """English puts the date after the verb ("signed ... on Friday") unless it opens the
    sentence; Chinese puts it before (10月11日...签署). Dates of statements come last."""
    plain = [d for d in days if not _reported(doc, s, d)] or days
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

@dataclass(slots=True)
class Raw:
    """A candidate before merging: one government, its companies, one sentence."""

    sentence: int
    party: Party
    companies: list[Mention]
    cluster: Cluster
    score: float
    accepted: bool
    reasons: list[str]
    rules: list[str]
    evidence: str
    source: int = 0
    inherited: DateMention | None = None

    @property
    def date_rank(self) -> int:
        """How much to trust this candidate's date when merging: 0 stated for the signing,
        1 taken from the sentences before, 2 the date of a statement, 3 none."""
        if self.cluster.date is not None:
            return 2 if self.cluster.date_reported else 0
        return 1 if self.inherited is not None else 3


def _links(s: Sentence) -> dict[str, Hit]:
    out: dict[str, Hit] = {}
    for h in s.words:
        for i in h.infos:
            if i.kind == "link":
                out.setdefault(i.role, h)
    return out


_ZH_CONTINUATION = ("与", "同", "和", "并与", "还与", "另与", "又与", "此外与")


@dataclass(slots=True)
class _Facts:
    """What one sentence says about signing, before any pairing."""

    clusters: list[Cluster]
    best: Cluster | None
    witness: str | None
    undone: str | None  # an undone or denied word, when the sentence speaks of an agreement


def _facts(doc: Doc, s: Sentence) -> _Facts:
    if not s.triggers:
        return _Facts([], None, None, None)
    clusters = clusters_in(doc, s)
    apply_hedges(doc, s, clusters)
    apply_dates(doc, s, clusters, doc.published)
    witness = next((doc.text[h.start:h.end] for h in s.hedges
                    if h.infos[0].kind == "witness"), None)
    undone = next((doc.text[h.start:h.end] for h in s.hedges
                   if h.infos[0].kind in ("undone", "denied")), None) if clusters else None
    best = None
    if clusters:
        ok = [c for c in clusters if c.status == "ok"]
        best = min(ok or clusters, key=lambda c: (
            _STRENGTH_RANK[c.strength] if c.strength != "noun" else 0.5,
            c.date is None, c.start))
    return _Facts(clusters, best, witness, undone)


def candidates(doc: Doc, rules: Rules, finder, threshold: float) -> list[Raw]:
    parties: list[list[Party]] = finder.parties
    notes: dict[int, list[str]] = finder.notes
    orgs: dict[int, list[tuple[int, int, str]]] = finder.orgs
    out: list[Raw] = []
    mentions: list[list[Mention]] = []
    company_notes: list[list[str]] = []
    for s in doc.sentences:
        m, n = companies_in(doc, s, rules)
        mentions.append(m)
        company_notes.append(n)
    facts = [_facts(doc, s) for s in doc.sentences]
    vetoes: list[tuple[int, str, set[str] | None]] = []
    for s in doc.sentences:
        i = s.index
        best = facts[i].best
        links = _links(s)
        reasons: list[str] = []
        rule_ids: list[str] = []
        source = i
        borrowed = False
        if best is None:
            # "The other signatory is the Chengdu municipal government."
            if "signatory" not in links or not any(not p.foreign for p in parties[i]):
                continue
            for j in (i - 1, i - 2):
                if j >= 0 and facts[j].best is not None:
                    best, source = facts[j].best, j
                    link = links["signatory"]
                    rule_ids.append(_link_id(link))
                    reasons.append(f"signing from the sentence before, linked by "
                                   f"'{doc.text[link.start:link.end]}'")
                    break
            if best is None:
                continue
        govs = [p for p in parties[i] if not p.foreign]
        foreign = [p for p in parties[i] if p.foreign]
        comps = list(mentions[i])
        text = doc.low[s.start:s.end]
        continuation = s.zh and text.startswith(_ZH_CONTINUATION)
        strong_link = "two_sides" in links or continuation or "signatory" in links
        gov_borrowed = False
        if not govs and "companies" not in links and (
                links.keys() & {"two_sides", "agreement", "company"} or continuation):
            for j in (i - 1, i - 2):
                if j < 0 or not (strong_link or facts[j].best is not None):
                    continue
                found = [p for p in parties[j] if not p.foreign and (
                    not facts[j].witness or p.role in ("government", "office"))]
                if found:
                    govs = found
                    link = links.get("two_sides") or links.get("agreement") or links.get(
                        "company")
                    if link is not None:
                        rule_ids.append(_link_id(link))
                        said = doc.text[link.start:link.end]
                    else:
                        rule_ids.append("link.zh.continuation")
                        said = text[:2]
                    reasons.append(f"government from the sentence before, linked by '{said}'")
                    borrowed = gov_borrowed = True
                    source = j
                    break
        if not comps and links.keys() & {"two_sides", "agreement", "company", "signatory"}:
            for j in (i - 1, i - 2):
                if j < 0 or not (strong_link or "company" in links
                                 or facts[j].best is not None):
                    continue
                if mentions[j]:
                    if "company" in links and "two_sides" not in links:
                        link = links["company"]
                        last = max(mentions[j], key=lambda m: m.start)
                        comps = [m for m in mentions[j] if m.name == last.name][:1]
                    else:
                        link = (links.get("two_sides") or links.get("agreement")
                                or links.get("signatory") or links["company"])
                        comps = list(mentions[j])
                    rule_ids.append(_link_id(link))
                    reasons.append(f"company from the sentence before, linked by "
                                   f"'{doc.text[link.start:link.end]}'")
                    borrowed = True
                    source = min(source, j)
                    break
        if facts[i].undone:
            vetoes.append((i, facts[i].undone, {g.place_id for g in govs} or None))
        if not govs or not comps:
            continue
        for gov, group in _pair(govs, comps, best, "respectively" in links):
            raw = _raw(doc, s, gov, group, best, foreign, orgs.get(i, []), facts[i].witness,
                       borrowed, gov_borrowed, list(reasons) + notes.get(i, [])
                       + company_notes[i], list(rule_ids), threshold)
            raw.source = source
            out.append(raw)
    _inherit_dates(doc, out, facts)
    _apply_vetoes(out, vetoes)
    return out


def _inherit_dates(doc: Doc, raws: list[Raw], facts: list[_Facts]) -> None:
    """An agreement with no date of its own takes the day the sentences just before it
    name ("On Monday the governor met ... The two sides signed ...")."""
    pub = doc.published
    for raw in raws:
        if not raw.accepted or raw.cluster.date is not None:
            continue
        here = doc.sentences[raw.sentence]
        after = doc.sentences[raw.sentence + 1] if raw.sentence + 1 < len(doc.sentences) \
            else here
        if _SEPARATE.match(doc.low, here.start) or _NO_DATE.search(
                doc.low, here.start, after.end):
            continue  # "Separately, ..."; "Organisers did not say on which day ..."
        first = max(0, min(raw.source, raw.sentence - INHERIT_SENTENCES))
        for j in range(raw.sentence - 1, first - 1, -1):
            s = doc.sentences[j]
            days = [d for d in s.dates if d.precision == "day" and d.value is not None
                    and not d.future and not _dateline(doc, s, d) and (
                        pub is None or d.value >= pub - timedelta(days=BACKGROUND_DAYS))]
            days = [d for d in days if not _reported(doc, s, d)] or days
            if days:
                d = days[-1]
                raw.inherited = d
                raw.reasons.insert(3, f"date: '{doc.text[d.start:d.end]}' -> {d.describe()} "
                                      f"[{d.rule}] from a sentence before")
                raw.rules.append(d.rule)
                break


def _apply_vetoes(raws: list[Raw], vetoes: list[tuple[int, str, set[str] | None]]) -> None:
    """A sentence saying an agreement was ended or denied vetoes that agreement elsewhere."""
    for i, word, provinces in vetoes:
        for raw in raws:
            if raw.accepted and raw.sentence != i and (
                    provinces is None or raw.party.place_id in provinces):
                raw.accepted = False
                raw.reasons.append(f"rejected: undone or denied: '{word}' in another "
                                   f"sentence about this agreement")


def _link_id(h: Hit) -> str:
    return next(i.id for i in h.infos if i.kind == "link")


def _pair(govs: list[Party], comps: list[Mention], best: Cluster, respectively: bool
          ) -> list[tuple[Party, list[Mention]]]:
    by_place: dict[str, Party] = {}
    for g in sorted(govs, key=_gov_rank):
        key = g.place_id
        if g.anaphor and any(o.province == g.province for o in by_place.values()):
            continue  # "the province" beside the province's own name
        by_place.setdefault(key, g)
    chosen = sorted(by_place.values(), key=lambda g: g.start)
    unique: dict[str, Mention] = {}
    for c in comps:
        unique.setdefault(c.name, c)
    companies = list(unique.values())
    split = respectively or (best.plural and len(companies) > 1 and len(chosen) == 1)
    if len(chosen) == 1:
        if split:
            return [(chosen[0], [c]) for c in companies]
        return [(chosen[0], companies)]
    if len(companies) == 1:
        return [(g, companies) for g in chosen]
    groups: dict[int, list[Mention]] = {}
    for c in companies:
        g = min(range(len(chosen)), key=lambda k: _dist(chosen[k], c))
        groups.setdefault(g, []).append(c)
    return [(chosen[k], groups[k]) for k in sorted(groups)]


def _span_dist(a: int, b: int, c: int, d: int) -> int:
    if c >= b:
        return c - b
    if a >= d:
        return a - d
    return 0


def _gov_rank(g: Party) -> tuple[int, int]:
    return ({"strong": 0, "medium": 1, "weak": 2}[g.strength], int(g.anaphor))


def _dist(g: Party, c: Mention) -> int:
    if c.start >= g.end:
        return c.start - g.end
    if g.start >= c.end:
        return g.start - c.end
    return 0


def _raw(doc: Doc, s: Sentence, gov: Party, comps: list[Mention], best: Cluster,
         foreign: list[Party], orgs: list[tuple[int, int, str]], witness: str | None,
         borrowed: bool, gov_borrowed: bool, reasons: list[str], rule_ids: list[str],
         threshold: float) -> Raw:
    gov_w = gov.weight
    comp_w = 0.2 if borrowed or any(c.ambiguous for c in comps) else 0.25
    trig_w = {"verb": 0.3, "noun": 0.2, "weak": -0.2}[best.strength]
    if best.strength == "verb" and any(i.strength == "noun" for _, i in best.members):
        trig_w += 0.05
    score = gov_w + comp_w + trig_w - (0.05 if borrowed else 0.0)
    if gov.strength == "weak" and best.strength != "verb":
        score -= 0.2
        reasons.append("a bare place name needs a signing verb")
    score = round(max(0.0, min(1.0, score)), 3)
    why = f" ({gov.why})" if gov.why and gov.why not in ("strong", "medium", "weak") else ""
    head = [f"government: '{gov.government}' -> {gov.province}, {gov.level} "
            f"[{gov.strength}]{why}",
            "companies: " + ", ".join(f"'{doc.text[c.start:c.end]}' -> {c.name}"
                                       for c in comps),
            f"trigger: '{best.text(doc)}' [{best.strength}]"]
    problems = dict(best.problems)
    if foreign:
        f = foreign[0]
        f_d = best.distance(f.start, f.end)
        g_d = best.distance(gov.start, gov.end)
        if gov.strength != "strong" or gov.anaphor or f_d < g_d:
            problems.setdefault("foreign", f"foreign government: '{f.government}' is the "
                                           f"party nearest the signing")
    weak_party = gov.role not in ("government", "office") and not gov_borrowed
    if witness and weak_party:
        problems.setdefault("witness", f"witness only: officials '{witness}' a signing by "
                                       f"others")
    if orgs and (gov.role not in ("government", "office") or gov.strength != "strong") \
            and not gov_borrowed:
        verb = next((h for h, i in best.members if i.strength == "verb"), best.members[0][0])
        org = min(orgs, key=lambda o: _span_dist(o[0], o[1], verb.start, verb.end))
        if _span_dist(org[0], org[1], verb.start, verb.end) < _span_dist(
                gov.start, gov.end, verb.start, verb.end):
            problems.setdefault("org", f"'{org[2]}' (not a government) is the party nearest "
                                       f"the signing")
    signed_on = best.date.value if best.date is not None and not problems else None
    if best.date is not None and best.date.value is not None:
        head.append(f"date: '{doc.text[best.date.start:best.date.end]}' -> "
                    f"{best.date.describe()} [{best.date.rule}]")
    elif not problems:
        head.append("date: none stated")
    accepted = not problems and score >= threshold
    if not problems and score < threshold:
        problems["score"] = f"score {score} is below the threshold {threshold}"
    ids = [*(i.id for _, i in best.members), *gov.rules,
           *(f"company.{c.id}" for c in comps), *rule_ids]
    if signed_on is not None:
        ids.append(best.date.rule)
    reasons = head + reasons + [f"rejected: {p}" for p in problems.values()]
    if accepted:
        reasons.append(f"score {score} passes the threshold {threshold}")
    return Raw(s.index, gov, comps, best, score, accepted, reasons,
               list(dict.fromkeys(ids)), doc.sentence_text(s))


def to_candidate(raw: Raw) -> Candidate:
    best = raw.cluster
    signed_on = best.date.value if best.date is not None else None
    if signed_on is None and raw.inherited is not None:
        signed_on = raw.inherited.value
    agreement = Agreement(
        province=raw.party.province, level=raw.party.level, government=raw.party.government,
        companies=tuple(sorted({c.name for c in raw.companies})), kind=best.kind,
        signed_on=signed_on, score=raw.score, evidence=raw.evidence, rules=tuple(raw.rules))
    return Candidate(agreement, raw.accepted, tuple(raw.reasons), raw.evidence)

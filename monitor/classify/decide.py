"""From parties, companies, triggers, hedges and dates to candidate agreements.

Per sentence: triggers are grouped into clusters (a signing verb and the documents near it,
"signed ... a strategic cooperation agreement"); hedges, background words and dates are
attached to the cluster they stand by; the sentence's best cluster decides whether its
government + companies pair is a new signing. A sentence that only says "the two sides",
"the agreement" or "the company" borrows the parties of the one or two before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from ..types import Agreement
from .clusters import (
    BACKGROUND_DAYS,
    STRENGTH_RANK,
    Cluster,
    apply_dates,
    apply_hedges,
    clusters_in,
    is_dateline,
    is_reported,
)
from .dates import DateMention
from .lexicon import Hit
from .parties import Party
from .rules import CompanyInfo, Rules
from .scan import Doc, Sentence

_NO_DATE = re.compile(r"did not (?:say|specify|disclose|give) (?:on )?(?:which|what|the) "
                      r"(?:day|date)|did not say when|(?:date|day) (?:was|were|has not been|"
                      r"had not been) (?:not )?(?:disclosed|given|specified|announced)|"
                      r"undisclosed date|unspecified date|未(?:透露|公布|披露)(?:具体)?(?:签约)?"
                      r"(?:日期|时间)")
INHERIT_SENTENCES = 8


@dataclass(frozen=True)
class Candidate:
    """One agreement the classifier considered, accepted or not, and why."""

    agreement: Agreement
    accepted: bool
    reasons: tuple[str, ...]
    sentence: str


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
    follow_up: bool = False  # a party was borrowed from a sentence before ("the agreement")
    vague: bool = False  # the sentence gives only a vague time (日前, "recently")

    @property
    def date_rank(self) -> int:
        """How much to trust this candidate's date when merging: 0 stated for the signing,
        1 stated vaguely (日前: no day), 2 taken from the sentences before, 3 the date of a
        statement, 4 none."""
        if self.cluster.date is not None:
            return 3 if self.cluster.date_reported else 0
        if self.vague:
            return 1
        return 2 if self.inherited is not None else 4


def _links(s: Sentence) -> dict[str, Hit]:
    out: dict[str, Hit] = {}
    for h in s.words:
        for i in h.infos:
            if i.kind == "link":
                out.setdefault(i.role, h)
    return out


_FILING = ("公告", "公告》", "的公告」")
_ZH_CONTINUATION = ("与", "同", "和", "并与", "还与", "另与", "又与", "此外与")


@dataclass(slots=True)
class _Facts:
    """What one sentence says about signing, before any pairing."""

    clusters: list[Cluster]
    best: Cluster | None
    witness: str | None
    undone: str | None  # an undone or denied word, when the sentence speaks of an agreement


_NO_FACTS = _Facts([], None, None, None)


def _facts(doc: Doc, s: Sentence) -> _Facts:
    if not s.triggers:
        return _Facts([], None, None, None)
    clusters = clusters_in(doc, s)
    apply_hedges(doc, s, clusters)
    apply_dates(doc, s, clusters, doc.published)
    witness = next((doc.text[h.start:h.end] for h in s.hedges
                    if h.infos[0].kind == "witness"), None)
    if witness and _official_signs(doc, s, clusters):
        witness = None  # a vice governor signs while the Party secretary looks on
    undone = next((doc.text[h.start:h.end] for h in s.hedges
                   if h.infos[0].kind in ("undone", "denied")), None) if clusters else None
    best = None
    if clusters:
        ok = [c for c in clusters if c.status == "ok"]
        best = min(ok or clusters, key=lambda c: (
            STRENGTH_RANK[c.strength] if c.strength != "noun" else 0.5,
            c.date is None, c.start))
    return _Facts(clusters, best, witness, undone)


_SIGNER_BY = re.compile(r"\bby\b(?:\s+[\w'.-]+){1,5}\s*$")
_SIGNER_STOP = re.compile(r"[,;:()\"，。；：、（）]|\b(?:said|says|told|announced|announces|"
                          r"noted|added|stated|confirmed|met|meets|while|as|after|before|when|"
                          r"who|which|that)\b")


def _official_signs(doc: Doc, s: Sentence, clusters: list[Cluster]) -> bool:
    """An official (vice governor, mayor, 副省长, 副市长 ...) who signs, not one who looks
    on: "signed ... by a vice governor", "Vice Mayor Li and Huawei's X signed",
    副省长王某与华为代表签署. Then the government is a party whoever else attends."""
    verbs = [h for c in clusters if c.strength == "verb" for h, i in c.members
             if i.strength == "verb"]
    if not verbs:
        return False
    officials = [h for h in s.words if any(
        i.kind in ("form", "anaphor", "prefix") and i.role == "officials" for i in h.infos)]
    witness = [h for h in s.hedges if h.infos[0].kind == "witness"]
    low = doc.low
    for o in officials:
        for v in verbs:
            if v.end <= o.start:  # signed ... by the vice governor
                gap = low[v.end:o.start]
                if s.zh or not _SIGNER_BY.search(gap) or len(gap.split()) > 10:
                    continue
            elif o.end <= v.start:  # the vice governor ... signed; 副省长...签署
                gap = low[o.end:v.start]
                if len(gap) > (20 if s.zh else 70):
                    continue
            else:
                continue
            if _SIGNER_STOP.search(gap):
                continue
            lo, hi = min(o.end, v.end), max(o.start, v.start)
            if any(lo <= w.start < hi for w in witness):
                continue
            return True
    return False


def candidates(doc: Doc, rules: Rules, finder, threshold: float) -> list[Raw]:
    parties: list[list[Party]] = finder.parties
    notes: dict[int, list[str]] = finder.notes
    orgs: dict[int, list[tuple[int, int, str]]] = finder.orgs
    out: list[Raw] = []
    mentions: list[list[Mention]] = []
    company_notes: list[list[str]] = []
    for s in doc.sentences:
        if s.companies:
            m, n = companies_in(doc, s, rules)
        else:
            m, n = [], []
        mentions.append(m)
        company_notes.append(n)
    facts = [_facts(doc, s) if s.triggers else _NO_FACTS for s in doc.sentences]
    vetoes: list[tuple[int, str, set[str] | None]] = []
    for s in doc.sentences:
        i = s.index
        best = facts[i].best
        if best is None and not s.words:
            continue
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
                    via = links.get("two_sides") or links.get("agreement") or links.get(
                        "company")
                    if via is not None:
                        rule_ids.append(_link_id(via))
                        said = doc.text[via.start:via.end]
                    else:
                        rule_ids.append("link.zh.continuation")
                        said = text[:2]
                    reasons.append(f"government from the sentence before, linked by '{said}'")
                    borrowed = gov_borrowed = True
                    source = j
                    break
        if not comps and "filer" in links and i > 0 and mentions[0] and \
                doc.low[doc.sentences[0].start:doc.sentences[0].end].rstrip().endswith(
                    _FILING):
            # an exchange filing (…关于与XX市人民政府签署战略合作协议的公告): "公司于…与…签署"
            # in its body is the filing company of its title
            comps = list(mentions[0])
            link = links["filer"]
            rule_ids.append(_link_id(link))
            reasons.append(f"company of the filing's title, linked by "
                           f"'{doc.text[link.start:link.end]}'")
            borrowed = True
            source = min(source, 0)
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
        undone = facts[i].undone
        if undone:
            vetoes.append((i, undone, {g.place_id for g in govs} or None))
        if not govs or not comps:
            continue
        pairs = _pair(govs, comps, best, "respectively" in links)
        if source == i and best is facts[i].best:
            pairs = [(g, part) for g, group in pairs
                     for part in _by_cluster(facts[i].clusters, group)]
        for gov, group in pairs:
            cluster = best if source != i or best is not facts[i].best else _between(
                facts[i].clusters, best, gov, group)
            raw = _raw(doc, s, gov, group, cluster, foreign, orgs.get(i, []), facts[i].witness,
                       borrowed, gov_borrowed, list(reasons) + notes.get(i, [])
                       + company_notes[i], list(rule_ids), threshold)
            raw.source = source
            raw.follow_up = borrowed
            out.append(raw)
    _inherit_dates(doc, out, facts)
    _apply_vetoes(out, vetoes)
    return out


def _cluster_key(c: Cluster) -> tuple:
    return (c.status != "ok", STRENGTH_RANK[c.strength] if c.strength != "noun" else 0.5,
            c.date is None, c.start)


def _between(clusters: list[Cluster], best: Cluster, gov: Party, comps: list[Mention]
             ) -> Cluster:
    """The signing that joins this government to these companies: a cluster standing
    between them (or on them) beats the sentence's best one standing apart ("On January
    11, 2018, Chongqing signed an agreement with Alibaba, and in the months that followed
    the city struck similar deals with others": Chongqing-Alibaba is the 2018 one)."""
    if len(clusters) < 2:
        return best
    lo = min(gov.start, *(c.start for c in comps))
    hi = max(gov.end, *(c.end for c in comps))
    if best.distance(lo, hi) == 0:
        return best
    inside = [c for c in clusters if c.distance(lo, hi) == 0]
    return min(inside, key=_cluster_key) if inside else best


def _by_cluster(clusters: list[Cluster], comps: list[Mention]) -> list[list[Mention]]:
    """Companies split by the signing verb nearest each, when a sentence tells of several
    signings ("signed with Huawei in 2018, and on Friday signed a new agreement with
    Tencent"): one agreement per signing."""
    verbs = [c for c in clusters if c.strength == "verb"]
    if len(verbs) < 2 or len(comps) < 2:
        return [comps]
    groups: dict[int, list[Mention]] = {}
    for m in comps:
        k = min(range(len(verbs)), key=lambda k: (verbs[k].distance(m.start, m.end), k))
        groups.setdefault(k, []).append(m)
    return [groups[k] for k in sorted(groups)]


def _states_date(doc: Doc, s: Sentence) -> bool:
    """The sentence names its own day, month or year (not a dateline, not a statement's)."""
    return any(d.precision != "vague" and not is_dateline(doc, s, d)
               and not is_reported(doc, s, d) for d in s.dates)


def _vague_date(doc: Doc, s: Sentence) -> bool:
    """The sentence says when, but only vaguely (日前, 近日, "recently", "this week"): it
    must not borrow a day from the sentences before."""
    return any(d.rule == "date.vague" and not d.future and not is_dateline(doc, s, d)
               for d in s.dates)


def _inherit_dates(doc: Doc, raws: list[Raw], facts: list[_Facts]) -> None:
    """An agreement with no date of its own takes the day the sentences just before it
    name ("On Monday the governor met ... The two sides signed ...")."""
    pub = doc.published
    for raw in raws:
        if not raw.accepted or raw.cluster.date is not None:
            continue
        here = doc.sentences[raw.sentence]
        # the rest of the paragraph (at most three sentences on): "The city's statement did
        # not say on which day the document was signed."
        last = raw.sentence
        while last + 1 < len(doc.sentences) and last < raw.sentence + 3 and "\n\n" not in \
                doc.low[doc.sentences[last].end:doc.sentences[last + 1].start]:
            last += 1
        after = doc.sentences[max(last, min(raw.sentence + 1, len(doc.sentences) - 1))]
        if _NO_DATE.search(doc.low, here.start, after.end):
            continue  # "Organisers did not say on which day ..."
        if _states_date(doc, here):
            continue  # a date stated in the sentence wins over one from before
        if _vague_date(doc, here):
            raw.vague = True
            continue  # 日前, 近日, "recently": the sentence gives its own time, an unknown one
        first = max(0, min(raw.source, raw.sentence - INHERIT_SENTENCES))
        for j in range(raw.sentence - 1, first - 1, -1):
            s = doc.sentences[j]
            days = [d for d in s.dates if d.precision == "day" and d.value is not None
                    and not d.future and not is_dateline(doc, s, d) and (
                        pub is None or d.value >= pub - timedelta(days=BACKGROUND_DAYS))
                    and not _date_line(doc, s)]
            days = [d for d in days if not is_reported(doc, s, d)] or days
            if days:
                d = days[-1]
                raw.inherited = d
                raw.reasons.insert(3, f"date: '{doc.text[d.start:d.end]}' -> {d.describe()} "
                                      f"[{d.rule}] from a sentence before")
                raw.rules.append(d.rule)
                break


def _date_line(doc: Doc, s: Sentence) -> bool:
    """A line that is only a date ("Monday, October 14, 2019"): a page header."""
    rest, at = [], s.start
    for d in s.dates:
        rest.append(doc.low[at:d.start])
        at = d.end
    rest.append(doc.low[at:s.end])
    return sum(ch.isalnum() for part in rest for ch in part) < 4


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
        near = min(range(len(chosen)), key=lambda k: _dist(chosen[k], c))
        groups.setdefault(near, []).append(c)
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
    if signed_on is not None and best.date is not None:
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
        province=raw.party.province or "", level=raw.party.level, government=raw.party.government,
        companies=tuple(sorted({c.name for c in raw.companies})), kind=best.kind,
        signed_on=signed_on, score=raw.score, evidence=raw.evidence, rules=tuple(raw.rules))
    return Candidate(agreement, raw.accepted, tuple(raw.reasons), raw.evidence)

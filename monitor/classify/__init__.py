"""Classify: article + rules -> agreements between Chinese governments and tech giants.

Pure and deterministic. The stages, each its own module:

    text     fold characters one for one; cut sentences (。！？； and . ! ? with care)
    scan     run every compiled word list once over the article; sort hits into sentences
    dates    find date expressions and resolve them against the publication date
    parties  decide which place names are governments that sign (and which are not)
    clusters group triggers around their verbs; attach hedges, background words and dates
    decide   pair governments with companies, link sentences, score, inherit dates
    merge    (here) one record per province and company set per article

``explain`` returns every candidate with its reasons; ``classify`` returns the accepted
ones, merged: ``classify(a, r) == [c.agreement for c in explain(a, r) if c.accepted]``.
"""

from __future__ import annotations

from dataclasses import replace

from ..types import Agreement, Article
from .decide import Candidate, Raw, candidates, to_candidate
from .parties import find_parties
from .rules import Rules, load_rules
from .scan import scan

__all__ = ["Candidate", "Rules", "classify", "explain", "load_rules"]


def explain(article: Article, rules: Rules, threshold: float = 0.5) -> list[Candidate]:
    """Every candidate considered, accepted or not, with human-readable reasons."""
    doc = scan(article, rules)
    if not any(s.companies for s in doc.sentences) or not any(
            s.triggers for s in doc.sentences):
        return []
    finder = find_parties(doc, rules)
    raws = candidates(doc, rules, finder, threshold)
    return _merge(raws)


def classify(article: Article, rules: Rules, threshold: float = 0.5) -> list[Agreement]:
    """The new agreements an article reports (one per province and company set)."""
    return [c.agreement for c in explain(article, rules, threshold) if c.accepted]


def _hosts(raws: list[Raw], out: list[Candidate]) -> dict[int, int]:
    """A sentence that borrows a party from the sentences before ("Under the agreement,
    Ant Financial will ...", 根据协议，阿里巴巴将...) speaks of an agreement already reported:
    it joins the one it points back to (the same province, companies that include its own),
    never standing as an agreement of its own. Preferred: the one of the sentence it borrows
    from, else the nearest one before it."""
    found: dict[int, int] = {}
    for k, r in enumerate(raws):
        if not (r.follow_up and out[k].accepted):
            continue
        mine = set(out[k].agreement.companies)
        cands = [j for j, o in enumerate(raws) if j != k and out[j].accepted
                 and not o.follow_up and out[j].agreement.province == out[k].agreement.province
                 and mine <= set(out[j].agreement.companies)]
        if not cands:
            continue
        same = [j for j in cands if raws[j].sentence == r.source]
        before = [j for j in cands if raws[j].sentence < r.sentence]
        found[k] = (same or before or cands)[-1 if (same or before) else 0]
    return found


def _merge(raws: list[Raw]) -> list[Candidate]:
    """Merge accepted candidates that name the same province and companies.

    A record whose companies are exactly the union of two or more others for the same
    province (a headline summing up separate signings) is dropped; a record whose companies
    are a subset of another's for the same province joins it.
    """
    out: list[Candidate] = [to_candidate(r) for r in raws]
    rank = [r.date_rank for r in raws]
    groups: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    hosts = _hosts(raws, out)
    for k, r in enumerate(raws):
        # 根据协议/此次协议/"Under the agreement" with no signing verb of its own only tells
        # more of an agreement reported before; when none was reported as signed (it is to
        # be signed next week; officials only attended), it is not one by itself
        if r.follow_up and out[k].accepted and k not in hosts and r.cluster.strength == "noun":
            c = out[k]
            out[k] = replace(c, accepted=False, reasons=c.reasons + (
                "rejected: refers back to an agreement not reported here as signed",))
    for k, c in enumerate(out):
        if c is not None and c.accepted:
            key = (c.agreement.province, c.agreement.companies)
            if k in hosts:
                h = out[hosts[k]].agreement
                key = (h.province, h.companies)
            groups.setdefault(key, []).append(k)

    def demote(k: int, why: str) -> None:
        c = out[k]
        out[k] = replace(c, accepted=False, reasons=c.reasons + (why,))

    keys = list(groups)
    # headline sums: {A, B} when {A} and {B} were signed separately
    for key in keys:
        province, comps = key
        parts = [other for other in keys if other != key and other[0] == province
                 and set(other[1]) < set(comps)]
        disjoint = [p for p in parts if not any(
            set(p[1]) & set(q[1]) for q in parts if q is not p)]
        if len(disjoint) >= 2:
            for k in groups[key]:
                demote(k, "rejected: sums up separate agreements reported elsewhere")
            del groups[key]
    # subsets join their superset
    keys = list(groups)
    for key in keys:
        province, comps = key
        supers = [other for other in keys if other in groups and other != key
                  and other[0] == province and set(comps) < set(other[1])]
        if supers and key in groups:
            target = min(supers, key=lambda o: len(o[1]))
            groups[target].extend(groups.pop(key))
    for key, members in groups.items():
        members.sort()
        first = members[0]
        cands = [out[k] for k in members]
        best = max(cands, key=lambda c: c.agreement.score)  # first of the best on ties
        # the date stated for the signing beats one inherited or one of a statement
        dated = min(members, key=lambda k: (rank[k], -out[k].agreement.score, k))
        signed_on = out[dated].agreement.signed_on
        rules = tuple(dict.fromkeys(r for c in [best, *cands] for r in c.agreement.rules))
        merged = replace(best.agreement, companies=key[1], signed_on=signed_on, rules=rules)
        extra = (f"merged {len(members)} mentions of this agreement",) if len(members) > 1 \
            else ()
        for k in members:
            if k == first:
                out[k] = replace(best, agreement=merged, reasons=best.reasons + extra)
            else:
                demote(k, "duplicate: merged into the same agreement reported earlier")
    return out

"""Government parties: which place names in a sentence stand for a government that signs.

A place is a party when government words follow it ("Hebei provincial government",
云南省扶贫办) or precede it ("the government of Yunnan", "officials of Hebei"); when it
carries a place word and stands where a party stands ("Hebei province signed", 浙江省与);
or, bare, when it is joined to a company ("Alibaba signed a deal with Hebei", 阿里巴巴与浙江).
It is not a party inside an organisation's name ("Guangdong Mobile", 四川航空, "Zhejiang
University"), after a location word ("in Hebei", 落户杭州), or abroad. Words with no place
("the provincial government", 省政府, 该省) point back to the last place mentioned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lexicon import Hit
from .rules import PlaceRef, Rules, WordInfo
from .scan import Doc, Sentence

STRONG_ROLES = frozenset({"government", "office", "officials"})
_SUFFIXES = ("特别行政区", "自治区", "特区", "新区", "地区", "省", "市", "区", "县", "州", "盟",
             "city", "province", "new area", "prefecture", "district", "county", "league",
             "sar", "autonomous region")
_ZH_OPEN = frozenset("，,。：:、“\"（(《 ;；!！?？")
# "the administration of the China (Shanghai) Pilot Free Trade Zone": a zone named for its place
_PREFIX_TAIL = re.compile(
    r"(?:\b(of)\s+)?(?:\bthe\s+)?"
    # wire style: "the government of southwest China's Guizhou Province"
    r"(?:(?:north|south|east|west|central|northeast|northwest|southeast|southwest|northern|"
    r"southern|eastern|western|northeastern|northwestern|southeastern|southwestern)\s+"
    r"china['\u2019]s\s+)?"
    r"(?:\bchina\s*\(\s*)?$")
_EN_AFTER_COORD = re.compile(
    r"\s*(?:and\b|&|,|has\b|have\b|had\b|also\b|formally\b|officially\b|jointly\b|on\b"
    r"|will\b|yesterday\b|today\b|last\b|this\b|recently\b|is\b|was\b|were\b|are\b)")
_NEGATED_ZH = re.compile(r"(?:不涉及|未涉及|并不涉及|並不涉及|不涉及到|没有|沒有|并无|並無|并非|"
                         r"並非|不是|不包括|不包含|无须|无需|毋须|无)(?:任何|其他|其它)?$")
_NEGATED_EN = re.compile(r"\b(?:no|neither|nor|without any|without)\s+"
                         r"(?:the\s+|other\s+|local\s+)?$")
_TOKEN_TAIL = re.compile(r"[a-z'&-]+(?:\s+[a-z'&-]+)?\s*$")
_ADJECTIVES = re.compile(
    r"(?:\s+|^)(?:(?:north|south|east|west|central|northeast|northwest|southeast|southwest|"
    r"northern|southern|eastern|western|northeastern|northwestern|southeastern|southwestern|"
    r"neighbouring|neighboring|nearby|coastal|inland|landlocked|mountainous|remote|rural|"
    r"poor|impoverished|populous|wealthy|china's|chinese|the)\s*)+$")
_NAME_WORD = re.compile(r" ([A-Z][a-zA-Z'-]+)")
_NOT_NAMES = frozenset("""and or to with in on at for of the a an as after over into by from
sign signs signed ink inks inked seal seals sealed deal deals pact pacts agreement agreements
mou mous govt gov government governments teams team partners partner joins join up strategic
cooperation framework tie ties launch launches agree agrees agreed strike strikes reach
reaches back backs host hosts welcome welcomes woos courts taps tap picks is are was were has
have had will officials leaders governor mayor vice party province provincial city municipal
region autonomous on announce announces unveil unveils plan plans to set eyes bets boost
boosts help helps work works build builds bring brings""".split())
_ZH_BREAK = frozenset("，,。、；;：:与和同及跟“”\"《》()（） 签")
_DATELINE = re.compile(r"(?:,\s*[A-Za-z. ]{0,20}\d{1,2})?(?:,\s*(?:19|20)\d\d)?\s*"
                       r"(?:\([^)]{0,40}\)|/[^/]{0,40}/)?\s*(?:-|--|—|–)\s")
_ZH_PERSONS = ("有关负责人", "有关负责同志", "相关负责人", "主要负责人", "主要负责同志", "负责同志",
               "负责人", "主要领导", "有关领导", "领导", "党组书记", "厅长", "局长", "主任",
               "副厅长", "副局长", "副主任", "官员")
_ZH_WITH = frozenset("与和同跟")
_ZH_SUB_SPAN = 10  # characters from the place to the government word of an area within it
_ZH_AREA_ENDS = ("区", "园", "城", "县", "镇", "乡", "街道", "港", "岛", "新城", "片区")
_ZH_ORG_SPAN = 10  # characters from the last place to the organisation word
_LIST_GAP = frozenset({"and", ",", "、", "和", "与", "及", "&", ", and", "or", "/"})


@dataclass(frozen=True, slots=True)
class Party:
    """A government (or, with ``foreign``, a government abroad) named in a sentence."""

    province: str | None
    level: str  # "province" or "city"
    government: str  # as written
    strength: str  # "strong", "medium" or "weak"
    start: int
    end: int
    rules: tuple[str, ...]
    anaphor: bool = False
    foreign: bool = False
    why: str = ""
    role: str = "place"  # government, office, officials or place
    place_id: str = ""

    @property
    def weight(self) -> float:
        base = {"strong": 0.4, "medium": 0.3, "weak": 0.2}[self.strength]
        return base - 0.05 if self.anaphor else base


def _place_id(ref: PlaceRef, level: str) -> str:
    return f"province:{ref.province}" if level == "province" else f"city:{ref.id}"


@dataclass(slots=True)
class _Seen:
    start: int
    sentence: int
    ref: PlaceRef
    level: str
    party: bool = False


class PartyFinder:
    """Finds the parties of every sentence of one document, in reading order."""

    def __init__(self, doc: Doc, rules: Rules) -> None:
        self.doc = doc
        self.rules = rules
        self.low = doc.low
        self.history: list[_Seen] = []
        self.notes: dict[int, list[str]] = {}
        self.orgs: dict[int, list[tuple[int, int, str]]] = {}
        self._known: set[int] = set()
        self._place_starts: dict[int, int] = {}
        self.parties: list[list[Party]] = []
        self.mentioned = frozenset(
            ref.province for s in doc.sentences for h in s.places for ref in h.infos
            if ref.kind == "province" and not ref.ambiguous)

    # ------------------------------------------------------------ helpers
    def _note(self, s: Sentence, text: str) -> None:
        self.notes.setdefault(s.index, []).append(text)

    def _span(self, start: int, end: int) -> str:
        return " ".join(self.doc.text[start:end].split())

    def _choose(self, refs: tuple[PlaceRef, ...], hint: str | None) -> PlaceRef:
        targets = [r for r in refs if r.kind != "foreign"]
        if not targets:
            return refs[0]
        provs = [r for r in targets if r.kind == "province"]
        cities = [r for r in targets if r.kind == "city"]
        if cities and (hint == "city" and not (provs and provs[0].municipality) or not provs):
            known = [c for c in cities if c.province in self.mentioned]
            return (known or cities)[0]
        return provs[0]

    def _word_near(self, s: Sentence, at: dict[int, Hit], pos: int, zh: bool) -> Hit | None:
        h = at.get(pos)
        if h is not None:
            return h
        low = self.low
        for k in range(pos - 1, max(s.start, pos - 12), -1):
            # a form that begins inside the place name: 河北省 + 省政府, 西藏自治区 +
            # 自治区人民政府, "Jilin City" + "city government", "Guangxi Zhuang" + "Zhuang
            # Autonomous Region"
            h = at.get(k)
            if h is not None and h.end > pos and (
                    low.startswith(_SUFFIXES, k, pos) or any(i.kind == "form"
                                                             for i in h.infos)):
                return h
        j = pos
        while j < s.end and low[j] in " \t":
            j += 1
        if low.startswith("'s", j):
            j += 2
            while j < s.end and low[j] in " \t":
                j += 1
        if j != pos and j - pos <= 5:
            return at.get(j)
        return None

    def _chain(self, s: Sentence, at: dict[int, Hit], pos: int, zh: bool
               ) -> tuple[list[tuple[Hit, WordInfo]], tuple[Hit, WordInfo] | None, int]:
        chain: list[tuple[Hit, WordInfo]] = []
        while True:
            h = self._word_near(s, at, pos, zh)
            if h is None:
                break
            forms = [i for i in h.infos if i.kind == "form" or (
                i.kind == "anaphor" and h.start < pos and i.role in STRONG_ROLES)]
            if forms:  # 甘肃省 + 省文旅厅: an anaphor that begins inside the place is a form
                chain.append((h, forms[0]))
                pos = h.end
                continue
            traps = [i for i in h.infos if i.kind == "trap"]
            if traps:
                return chain, (h, traps[0]), pos
            break
        return chain, None, pos

    def _prefix(self, s: Sentence, ends: dict[int, Hit], start: int
                ) -> tuple[Hit, WordInfo] | None:
        lo = max(s.start, start - 60)
        m = _PREFIX_TAIL.search(self.low, lo, start)
        if m is None:
            return None
        cut = m.start()
        if m.group(1):
            h = ends.get(cut + 2)
            if h is not None:
                for i in h.infos:
                    if i.kind == "prefix":
                        return h, i
            h = ends.get(self._skip_spaces_back(cut, lo))
            if h is not None:
                for i in h.infos:
                    if i.kind in ("form", "anaphor") and i.role in STRONG_ROLES:
                        return h, i
                for i in h.infos:
                    if i.kind == "trap" or (i.kind == "anaphor" and i.role == "place_word"):
                        return h, i
                    if i.kind == "prefix":
                        return h, i
            return None
        h = ends.get(cut) or ends.get(self._skip_spaces_back(cut, lo))
        if h is not None:
            for i in h.infos:
                if i.kind == "prefix":
                    return h, i
        return None

    def _skip_spaces_back(self, pos: int, lo: int) -> int:
        """The position just after the last non-space character before ``pos``."""
        while pos > lo and self.low[pos - 1] == " ":
            pos -= 1
        return pos

    def _before(self, s: Sentence, start: int) -> str:
        before = self.low[max(s.start, start - 40):start].rstrip()
        if before.endswith(" the") or before == "the":
            before = before[:-3].rstrip()
        return before

    def _located(self, s: Sentence, start: int) -> bool:
        before = self._before(s, start)
        if before and before[-1].isascii():
            before = _ADJECTIVES.sub("", before).rstrip()
        if not before:
            return False
        if s.zh or not before[-1].isascii():
            return self.rules.tail("location_before", "zh").search(before) is not None
        m = _TOKEN_TAIL.search(before)
        if not m:
            return False
        tail = m.group(0).strip()
        last = tail.split()[-1]
        cues = self.rules.cue("location_before", "en")
        return last in cues or tail in cues

    def _coordinated(self, s: Sentence, start: int, end: int, verb_starts: set[int]) -> bool:
        before = self._before(s, start)
        low = self.low
        if s.zh or (before and not before[-1].isascii()) or (
                end < s.end and not low[end].isascii()):
            if self.rules.tail("coordinator", "zh").search(before):
                return True
            opened = not before or before[-1] in _ZH_OPEN
            return opened and (self.rules.head("coordinator", "zh").match(low, end) is not None
                               or end in verb_starts)
        if before:
            # "WUHAN - Central China's Hubei province and JD.com signed"
            before = _ADJECTIVES.sub("", before).rstrip()
        m = _TOKEN_TAIL.search(before)
        if m:
            tail = m.group(0).strip()
            coords = self.rules.cue("coordinator", "en")
            if tail.split()[-1] in coords or tail in coords:
                return True
        opened = not before or before[-1] in ",:;\"(-—–"
        if not opened:
            return False
        if _EN_AFTER_COORD.match(low, end):
            return True
        j = end
        while j < s.end and low[j] == " ":
            j += 1
        return j in verb_starts

    # ------------------------------------------------------------ main
    def sentence_parties(self, s: Sentence) -> list[Party]:
        at: dict[int, Hit] = {}
        ends: dict[int, Hit] = {}
        for h in s.words:
            at.setdefault(h.start, h)
            ends.setdefault(h.end, h)
        verb_starts = {h.start for h in s.triggers
                       if any(i.strength == "verb" for i in h.infos)}
        self._known = {h.start for hits in (s.words, s.triggers, s.companies, s.places,
                                            s.hedges) for h in hits}
        self._place_starts = {h.start: h.end for h in s.places} if s.zh else {}
        used: set[int] = set()
        spans: list[tuple[int, int]] = []
        results: list[tuple[Hit, Party | None, int, bool]] = []
        prev: tuple[int, bool] | None = None  # (end, was a party) of the place before
        inside = [(c.start, c.end) for c in s.companies]
        for p in s.places:
            if any(a <= p.start and p.end <= b and (a, b) != (p.start, p.end)
                   for a, b in inside):
                continue  # 阿里 in 阿里巴巴, "Hangzhou" in a company's full name
            listed = None
            if prev is not None:
                # "Hebei and the municipality of Chongqing": the list goes on past a prefix
                pre = self._prefix(s, ends, p.start)
                end = pre[0].start if pre is not None and pre[0].start >= prev[0] else p.start
                gap = self.low[prev[0]:end].strip()
                if gap.endswith(" the") or gap == "the":
                    gap = gap[:-3].strip()
                if gap in _LIST_GAP:
                    listed = prev[1]
            party, chain_end = self._place(s, p, at, ends, verb_starts, used, listed)
            spans.append((p.start, chain_end))
            results.append((p, party, chain_end, listed is not None))
            prev = (chain_end, party is not None)
        # "the Hebei and Henan provincial governments": the form distributes
        for k in range(len(results) - 1):
            p1, party1, end1, _ = results[k]
            p2, party2, _, listed2 = results[k + 1]
            if party2 is None or party2.strength != "strong" or party2.foreign:
                continue
            if party1 is not None and party1.strength == "strong":
                continue
            if self.low[end1:p2.start].strip() not in _LIST_GAP:
                continue
            ref = self._choose(p1.infos, party2.level)
            if ref.kind == "foreign" or ref.ambiguous:
                continue
            lvl = "province" if ref.kind == "province" else "city"
            results[k] = (p1, Party(
                ref.province, lvl, self._span(p1.start, end1), "strong", p1.start, end1,
                (f"place.{ref.id}", *party2.rules[1:]), why="shares the government words "
                f"of '{party2.government}'", role=party2.role,
                place_id=_place_id(ref, lvl)), end1, True)
        parties = [party for _, party, _, _ in results if party is not None]
        parties.extend(self._anaphors(s, at, used, spans, verb_starts))
        # 不涉及地方政府, "no government body is a party": a government said not to take part
        parties = [x for x in parties if not (_NEGATED_ZH if s.zh else _NEGATED_EN).search(
            self.low, max(s.start, x.start - 12), x.start)]
        parties.sort(key=lambda x: x.start)
        return parties

    def _zh_org(self, s: Sentence, at: dict[int, Hit], end: int) -> int | None:
        """香港中文大学, 西安交通大学, 山东寿光市蔬菜产业农民专业合作社: a place, a few characters
        (other places among them: the places only say where the body is), an organisation
        word. A government word, a company, a trigger or a break first: not a name."""
        places = self._place_starts
        limit = min(end + _ZH_ORG_SPAN, s.end)
        k = end
        while k < limit:
            if self.low[k] in _ZH_BREAK:
                return None
            h = at.get(k)
            if k in places and h is None:
                k = places[k]  # 寿光市 in 山东寿光市...合作社
                limit = min(k + _ZH_ORG_SPAN, s.end)
                continue
            if k > end and k in self._known and h is None:
                return None
            if h is not None and k > end:
                if any(i.kind == "trap" for i in h.infos):
                    return h.end
                if not all(i.kind in ("form", "anaphor") and i.role == "place_word"
                           for i in h.infos):
                    return None
                k = h.end  # 市, 省 between the places
                continue
            k += 1
        return None

    def _contrasted(self, s: Sentence, start: int, end: int) -> bool:
        """"not to be confused with Shaanxi", 与陕西不同, 别与陕西混淆: a place named only to
        tell it apart from another."""
        before = self._before(s, start)
        if not before:
            return False
        if s.zh or not before[-1].isascii():
            if self.rules.tail("contrast_before", "zh").search(before):
                return True
            return before[-1] in _ZH_WITH and self.rules.head(
                "contrast_after", "zh").match(self.low, end) is not None
        return self.rules.tail("contrast_before", "en").search(before) is not None

    def _zh_sub_government(self, s: Sentence, at: dict[int, Hit], end: int
                           ) -> tuple[Hit, WordInfo] | None:
        """苏州 + 工业园区 + 管理委员会: an area's name (ending 区, 园, 城, 县 ...) right after
        the place, then a government word."""
        limit = min(end + _ZH_SUB_SPAN, s.end)
        k = end
        while k < limit:
            if self.low[k] in _ZH_BREAK or k in self._place_starts:
                return None
            h = at.get(k)
            if h is None and k > end and k in self._known:
                return None
            if h is not None:
                gov = [i for i in h.infos if i.kind in ("form", "anaphor")
                       and i.role == "government"]
                if gov and k - end >= 2 and self.low.endswith(_ZH_AREA_ENDS, end, k):
                    return h, gov[0]
                if not all(i.kind in ("form", "anaphor") and i.role == "place_word"
                           for i in h.infos):
                    return None
                k = h.end
                continue
            k += 1
        return None

    def _org_name(self, s: Sentence, end: int) -> str | None:
        """A capitalised name right after a place ("Zhejiang Geely", "Suzhou Industrial
        Park"), English only."""
        words: list[str] = []
        at = end
        while len(words) < 4:
            m = _NAME_WORD.match(self.doc.norm, at)
            if m is None or m.end() > s.end:
                break
            if m.start(1) in self._known or m.group(1).lower() in _NOT_NAMES:
                break
            words.append(m.group(1))
            at = m.end()
        return " ".join(words) or None

    def _place(self, s: Sentence, p: Hit, at: dict[int, Hit], ends: dict[int, Hit],
               verb_starts: set[int], used: set[int], listed: bool | None
               ) -> tuple[Party | None, int]:
        refs: tuple[PlaceRef, ...] = p.infos
        chain, trap, chain_end = self._chain(s, at, p.end, s.zh)
        prefix = self._prefix(s, ends, p.start)
        roles = {i.role for _, i in chain}
        hint = next((i.level for _, i in chain if i.level != "any"), None)
        if hint is None:
            hint = next((r.suffix_level for r in refs if r.suffix_level), None)
        ref = self._choose(refs, hint)
        name = self._span(p.start, p.end)
        if self._contrasted(s, p.start, chain_end):
            self._note(s, f"'{self._span(p.start, chain_end)}' is named only to be told "
                          f"apart from another place; it is not a party")
            return None, chain_end
        if prefix is not None and prefix[1].kind == "trap":
            self._org(s, prefix[0].start, p.end, f"'{name}' is part of the name "
                      f"'{self._span(prefix[0].start, p.end)}', not a government")
            return None, chain_end
        strong_roles = [i.role for _, i in chain if i.role in STRONG_ROLES]
        if prefix is not None and prefix[1].role in STRONG_ROLES:
            strong_roles.insert(0, prefix[1].role)
        strong = bool(strong_roles)
        if trap is not None and not strong:
            what = "a university or school" if trap[1].role == "university" else "a company"
            self._org(s, p.start, trap[0].end,
                      f"'{self._span(p.start, trap[0].end)}' is {what}, not a government")
            return None, chain_end
        if p.start == s.start and not s.zh and (
                self.doc.norm[p.start:p.end].isupper() or _DATELINE.match(self.doc.norm, p.end)):
            return None, chain_end  # "CHANGSHA, Oct. 22 --": where the report was filed
        if strong and self._hosted(s, p.start, chain_end):
            self._note(s, f"'{self._span(p.start, chain_end)}' hosted or backed the event; "
                          f"it is not a party")
            return None, chain_end
        if not strong and s.zh and ref.kind != "foreign":
            sub = self._zh_sub_government(s, at, chain_end)
            if sub is not None:
                # 苏州工业园区管理委员会, 杭州未来科技城管委会: a government below the place
                h, info = sub
                used.add(h.start)
                self.history.append(_Seen(p.start, s.index, ref, "city", True))
                span = self._span(p.start, h.end)
                return Party(ref.province, "city", span, "strong", p.start, h.end,
                             (f"place.{ref.id}", info.id), why=f"a government within "
                             f"{ref.name}", role=info.role, place_id=f"sub:{span.lower()}"
                             ), h.end
        if not strong and s.zh and all(i.role == "place_word" for _, i in chain) and \
                not self._located(s, p.start):
            org_end = self._zh_org(s, at, chain_end)
            if org_end is not None:
                self._org(s, p.start, org_end, f"'{self._span(p.start, org_end)}' is an "
                                               f"organisation, not a government")
                return None, chain_end
        if not strong and not s.zh:
            org = self._org_name(s, chain_end)
            if org is not None:
                # "Shanghai Xuhui district government": a government below the place
                sub_chain, _, sub_end = self._chain(s, at, chain_end + 1 + len(org), False)
                sub_roles = [i.role for _, i in sub_chain if i.role in STRONG_ROLES]
                if sub_roles and ref.kind != "foreign":
                    for h, _ in sub_chain:
                        used.add(h.start)
                    self.history.append(_Seen(p.start, s.index, ref, "city", True))
                    return Party(ref.province, "city", self._span(p.start, sub_end), "strong",
                                 p.start, sub_end, (f"place.{ref.id}",
                                                    *(i.id for _, i in sub_chain)),
                                 why=f"a government within {ref.name}", role=sub_roles[0],
                                 place_id=f"sub:{self._span(p.start, sub_end).lower()}"
                                 ), sub_end
                self._org(s, p.start, chain_end + 1 + len(org),
                          f"'{self._span(p.start, chain_end + 1 + len(org))}' looks like a "
                          f"name, not a government")
                return None, chain_end
        if ref.kind == "foreign":
            self.history.append(_Seen(p.start, s.index, ref, "foreign"))
            if strong or self._coordinated(s, p.start, chain_end, verb_starts):
                return Party(None, "foreign", self._span(p.start, chain_end),
                             "strong" if strong else "weak", p.start, chain_end,
                             (f"foreign.{ref.id}",), foreign=True,
                             why=f"'{name}' is outside China's target provinces",
                             place_id=ref.id), chain_end
            return None, chain_end
        level = "province" if ref.kind == "province" else "city"
        if ref.ambiguous and not strong:
            return None, chain_end
        place_of = prefix is not None and prefix[1].role == "place_word"
        place_word = "place_word" in roles or ref.suffix_level is not None or place_of
        seen = _Seen(p.start, s.index, ref, level)
        self.history.append(seen)
        if strong:
            strength = "strong"
        else:
            where = prefix[0].start if place_of and prefix is not None else p.start
            possessive = self.low.startswith("'s", chain_end)
            if listed is False or possessive or self._located(s, where) or not (
                    self._coordinated(s, where, chain_end, verb_starts)):
                return None, chain_end
            strength = "medium" if place_word else "weak"
        start = p.start
        ids = [f"place.{ref.id}"]
        if prefix is not None:
            start = min(start, prefix[0].start)
            used.add(prefix[0].start)
            ids.append(prefix[1].id)
        for h, i in chain:
            used.add(h.start)
            ids.append(i.id)
        government = self._span(start, chain_end)
        if prefix is not None and self.low.startswith("the ", start):
            government = self._span(start + 4, chain_end)
        role = "government" if "government" in strong_roles else (
            strong_roles[0] if strong_roles else "place")
        if s.zh and self.low.startswith(_ZH_PERSONS, chain_end):
            role = "officials"  # 浙江省商务厅有关负责人出席: people of the office, not the office
        seen.party = True
        return Party(ref.province, level, government, strength, start, chain_end,
                     tuple(dict.fromkeys(ids)), why=strength, role=role,
                     place_id=_place_id(ref, level)), chain_end

    def _hosted(self, s: Sentence, start: int, end: int) -> bool:
        if self.rules.tail("host_before", "en").search(self._before(s, start)):
            return True
        return self.rules.head("host_after", "zh").match(self.low, end) is not None

    def remember(self, s: Sentence) -> None:
        """Places of a sentence no signing draws on: kept only for later anaphors."""
        for p in s.places:
            ref = self._choose(p.infos, next((r.suffix_level for r in p.infos
                                              if r.suffix_level), None))
            if ref.kind == "foreign":
                self.history.append(_Seen(p.start, s.index, ref, "foreign"))
            elif not ref.ambiguous:
                self.history.append(_Seen(p.start, s.index, ref,
                                          "province" if ref.kind == "province" else "city"))

    def _org(self, s: Sentence, start: int, end: int, note: str) -> None:
        self._note(s, note)
        self.orgs.setdefault(s.index, []).append((start, end, self._span(start, end)))

    def _anaphors(self, s: Sentence, at: dict[int, Hit], used: set[int],
                  spans: list[tuple[int, int]], verb_starts: set[int]) -> list[Party]:
        out: list[Party] = []
        low = self.low
        for h in s.words:
            info = next((i for i in h.infos if i.kind == "anaphor"), None)
            if info is None or h.start in used:
                continue
            if any(a <= h.start < b for a, b in spans):
                continue
            if info.lang == "zh":
                if h.start > s.start:
                    prev = low[h.start - 1]
                    ok = (prev.isascii() or prev in _ZH_OPEN or self.rules.tail(
                        "zh_anaphor_before", "zh").search(low, max(s.start, h.start - 6),
                                                          h.start) is not None)
                    if not ok:
                        continue
            elif re.match(r"\s+of\b", low[h.end:h.end + 5]):
                continue
            if info.role == "place_word" and (
                    self._located(s, h.start) or low.startswith("'s", h.end)
                    or not self._coordinated(s, h.start, h.end, verb_starts)):
                continue
            if low.startswith("'s", h.end):
                continue
            got = self._resolve(h.start, s.index, info.level, info.lang == "zh")
            if got is None:
                self._note(s, f"'{self._span(h.start, h.end)}' names no earlier place")
                continue
            ref, level = got
            out.append(Party(ref.province, level, self._span(h.start, h.end),
                             "strong" if info.role in STRONG_ROLES else "medium",
                             h.start, h.end, (info.id, f"place.{ref.id}"), anaphor=True,
                             why=f"'{self._span(h.start, h.end)}' refers back to {ref.name}",
                             role=info.role if info.role in STRONG_ROLES else "place",
                             place_id=_place_id(ref, level)))
        return out

    def _resolve(self, pos: int, sentence: int, target: str, zh: bool = False
                 ) -> tuple[PlaceRef, str] | None:
        """The place an anaphor points to: the latest that was itself a party, else the
        latest of the right kind ("Ulanqab ... Beijing ... the city's government")."""
        here = [x for x in self.history if x.sentence == sentence]
        parties = [x for x in self.history if x.party]
        return (self._walk(here, pos, sentence, target)
                or self._walk(parties, pos, sentence, target)
                or self._walk(self.history, pos, sentence, target)
                or self._ahead(here, pos, target, zh))

    def _ahead(self, here: list[_Seen], pos: int, target: str, zh: bool
               ) -> tuple[PlaceRef, str] | None:
        """No place before: a lead or headline that names the place only later (省政府与
        阿里巴巴集团在南昌签署; 特区政府 ... 香港): the next place of the same sentence, else
        the one province the whole article names."""
        if any(seen.ref.kind == "foreign" for seen in here):
            return None
        for seen in here:
            if seen.start > pos:
                if target == "province" or seen.ref.kind == "province":
                    province = seen.ref.province
                    if province is None:
                        continue
                    ref = seen.ref if seen.ref.kind == "province" else self._province_ref(
                        province)
                    return ref, "province"
                if target == "city" and seen.ref.kind == "city":
                    return seen.ref, "city"
                return seen.ref, seen.level
        if zh and len(self.mentioned) == 1 and target != "city":
            return self._province_ref(next(iter(self.mentioned))), "province"
        return None

    def _province_ref(self, province: str) -> PlaceRef:
        for s in self.doc.sentences:
            for h in s.places:
                for r in h.infos:
                    if r.kind == "province" and r.province == province:
                        return r
        return PlaceRef("province", province.lower().replace(" ", "_"), province, province,
                        True, False, None)

    def _walk(self, history: list[_Seen], pos: int, sentence: int, target: str
              ) -> tuple[PlaceRef, str] | None:
        fallback: PlaceRef | None = None
        for seen in reversed(history):
            if seen.start >= pos:
                continue
            if seen.ref.kind == "foreign":
                if seen.sentence == sentence:
                    return None
                continue
            if target == "province":
                if seen.ref.kind == "province":
                    if fallback is not None and fallback.province != seen.ref.province:
                        break
                    return seen.ref, "province"
                fallback = fallback or seen.ref  # "Hangzhou ... the province": Zhejiang
                continue
            if target == "city":
                if seen.ref.kind == "city":
                    return seen.ref, "city"
                if seen.ref.municipality:
                    return seen.ref, "province"
                continue
            return seen.ref, seen.level
        if fallback is not None:
            return fallback, "province"
        return None


def find_parties(doc: Doc, rules: Rules) -> PartyFinder:
    """Find the parties of each sentence (foreign ones flagged) into ``finder.parties``;
    ``finder.notes`` and ``finder.orgs`` say what was set aside, for ``explain``."""
    finder = PartyFinder(doc, rules)
    sents = doc.sentences
    near: set[int] = set()  # sentences a signing can draw parties from: its own and the two before
    for s in sents:
        if s.triggers or any(i.kind == "link" and i.role == "signatory"
                             for h in s.words for i in h.infos):
            near.update((s.index, s.index - 1, s.index - 2))
    for s in sents:
        if s.index in near and (s.places or s.words):
            finder.parties.append(finder.sentence_parties(s))
        else:
            finder.remember(s)
            finder.parties.append([])
    return finder

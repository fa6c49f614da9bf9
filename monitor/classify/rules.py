"""Load, validate and compile the rules: ``monitor/rules/*.toml`` plus the user's own.

Every data file is a TOML document of arrays of tables; each table has an ``id``. The
tables and their keys are listed in ``SCHEMA``; anything else is an error naming the file
and the key. User files and dicts use the same schema: a table whose id already exists
extends that entry's lists (a new alias for a company, a new pattern for a trigger);
a new id adds an entry.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import RulesError
from .lexicon import Lexicon

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"

_S, _B, _F, _L = "string", "boolean", "number", "list of strings"

LANGS = ("en", "zh")
KINDS = ("strategic_cooperation", "framework", "mou", "investment", "other")

# table -> (required keys, {key: (type, allowed values or None)})
SCHEMA: dict[str, tuple[frozenset[str], dict[str, tuple[str, tuple[str, ...] | None]]]] = {
    "province": (frozenset({"id", "name"}), {
        "id": (_S, None), "name": (_S, None), "type": (_S, None), "target": (_B, None),
        "en": (_L, None), "zh": (_L, None), "zh_abbr": (_L, None), "zh_hant": (_L, None),
        "capital": (_S, None)}),
    "city": (frozenset({"id", "name", "province"}), {
        "id": (_S, None), "name": (_S, None), "province": (_S, None), "level": (_S, None),
        "en": (_L, None), "zh": (_L, None), "zh_hant": (_L, None),
        "ambiguous_en": (_B, None), "ambiguous_zh": (_B, None)}),
    "company": (frozenset({"id"}), {
        "id": (_S, None), "name": (_S, None), "en": (_L, None), "zh": (_L, None),
        "tickers": (_L, None), "en_ambiguous": (_L, None), "zh_ambiguous": (_L, None),
        "context": (_L, None), "anti_next": (_L, None), "anti_context": (_L, None)}),
    "form": (frozenset({"id", "lang", "role", "patterns"}), {
        "id": (_S, None), "lang": (_S, LANGS),
        "role": (_S, ("government", "office", "officials", "place_word")),
        "level": (_S, ("province", "city", "any")), "patterns": (_L, None)}),
    "prefix": (frozenset({"id", "lang", "role", "patterns"}), {
        "id": (_S, None), "lang": (_S, LANGS),
        "role": (_S, ("government", "officials", "place_word")),
        "level": (_S, ("province", "city", "any")), "patterns": (_L, None)}),
    "anaphor": (frozenset({"id", "lang", "target", "patterns"}), {
        "id": (_S, None), "lang": (_S, LANGS), "target": (_S, ("province", "city", "any")),
        "role": (_S, ("government", "office", "officials", "place_word")), "patterns": (_L, None)}),
    "cue": (frozenset({"id", "lang", "role", "patterns"}), {
        "id": (_S, None), "lang": (_S, LANGS),
        "role": (_S, ("coordinator", "location_before", "zh_anaphor_before", "host_before",
                       "host_after", "contrast_before", "contrast_after")),
        "patterns": (_L, None)}),
    "trigger": (frozenset({"id", "lang", "strength", "patterns"}), {
        "id": (_S, None), "lang": (_S, LANGS), "strength": (_S, ("verb", "noun", "weak")),
        "kind": (_S, KINDS), "plural": (_B, None), "base": (_B, None),
        "needs_noun": (_B, None), "patterns": (_L, None)}),
    "link": (frozenset({"id", "lang", "role", "patterns"}), {
        "id": (_S, None), "lang": (_S, LANGS),
        "role": (_S, ("two_sides", "agreement", "company", "companies", "respectively",
                       "signatory", "filer")),
        "patterns": (_L, None)}),
    "hedge": (frozenset({"id", "lang", "kind", "patterns"}), {
        "id": (_S, None), "lang": (_S, LANGS),
        "kind": (_S, ("not_yet", "talks", "undone", "denied", "witness", "background", "fresh",
                       "ignore")),
        "attach": (_S, ("before", "near", "sentence", "clause")), "patterns": (_L, None),
        "cased": (_L, None)}),
    "foreign": (frozenset({"id", "patterns"}), {
        "id": (_S, None), "lang": (_S, LANGS), "patterns": (_L, None), "cased": (_L, None)}),
    "trap": (frozenset({"id", "lang", "role", "patterns"}), {
        "id": (_S, None), "lang": (_S, LANGS),
        "role": (_S, ("company", "university", "location")), "patterns": (_L, None)}),
    "charmap": (frozenset({"id", "traditional", "simplified"}), {
        "id": (_S, None), "traditional": (_L, None), "simplified": (_L, None)}),
}

_ID_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")


# ---------------------------------------------------------------- payloads

@dataclass(frozen=True, slots=True)
class PlaceRef:
    """One reading of a place alias: a province, a city, or a place abroad."""

    kind: str  # "province", "city" or "foreign"
    id: str
    province: str | None  # canonical province (None abroad)
    name: str
    target: bool
    ambiguous: bool  # this alias alone is also another place or a common word
    suffix_level: str | None  # the alias carries its own place word (河北省, "Jilin City")
    municipality: bool = False


@dataclass(frozen=True, slots=True)
class WordInfo:
    """A government form, prefix, anaphor, trap or link word."""

    kind: str  # "form", "prefix", "anaphor", "trap", "link"
    id: str
    role: str
    level: str  # province, city or any (for anaphors: the target)
    lang: str


@dataclass(frozen=True, slots=True)
class CompanyInfo:
    id: str
    name: str
    ambiguous: bool
    alias: str


@dataclass(frozen=True, slots=True)
class TriggerInfo:
    id: str
    strength: str
    kind: str | None
    plural: bool
    base: bool
    needs_noun: bool
    lang: str


@dataclass(frozen=True, slots=True)
class HedgeInfo:
    id: str
    kind: str
    attach: str
    lang: str


@dataclass(frozen=True, slots=True)
class Company:
    id: str
    name: str
    context: tuple[str, ...]
    anti_next: tuple[str, ...]
    anti_context: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Rules:
    """Compiled rules. Build with :func:`load_rules`; share one across calls."""

    fold: dict[int, str]
    places: Lexicon
    words: Lexicon
    companies: Lexicon
    triggers: Lexicon
    hedges: Lexicon
    company_table: dict[str, Company]
    provinces: frozenset[str]  # canonical target provinces
    company_names: frozenset[str]
    cues: dict[str, tuple[str, ...]]  # "<role>.<lang>" -> words
    sources: tuple[str, ...] = field(default=())
    _tails: dict[str, re.Pattern] = field(default_factory=dict)
    _heads: dict[str, re.Pattern] = field(default_factory=dict)

    def cue(self, role: str, lang: str) -> tuple[str, ...]:
        return self.cues.get(f"{role}.{lang}", ())

    def tail(self, role: str, lang: str) -> re.Pattern:
        """A pattern that matches when a text ends with one of the cue words."""
        return self._tails.get(f"{role}.{lang}", _NEVER)

    def head(self, role: str, lang: str) -> re.Pattern:
        """A pattern that ``match``es when a text starts with one of the cue words."""
        return self._heads.get(f"{role}.{lang}", _NEVER)


_NEVER = re.compile(r"(?!)")


def _alternation(words: tuple[str, ...], lang: str) -> str:
    body = "|".join(re.escape(w) for w in words)
    return rf"\b(?:{body})" if lang == "en" else f"(?:{body})"


# ---------------------------------------------------------------- reading

def _read_file(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise RulesError(f"{path}: cannot read rules file: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: not valid TOML: {exc}") from exc


@lru_cache(maxsize=4)
def _package_docs(directory: str) -> tuple[tuple[str, dict[str, Any]], ...]:
    """The package's own rules files, read once per process."""
    paths = sorted(Path(directory).glob("*.toml"))
    return tuple((str(p), _read_file(p)) for p in paths)


def _check_entry(source: str, table: str, i: int, entry: Any) -> dict[str, Any]:
    where = f"{source}: {table}[{i}]"
    if not isinstance(entry, Mapping):
        raise RulesError(f"{where}: each [[{table}]] must be a table")
    required, keys = SCHEMA[table]
    ident = entry.get("id")
    if isinstance(ident, str):
        where = f"{source}: {table}[{i}] id={ident!r}"
    for key in required:
        if key not in entry:
            raise RulesError(f"{where}: missing key '{key}'")
    for key, value in entry.items():
        if key not in keys:
            raise RulesError(f"{where}: unknown key '{key}'")
        kind, allowed = keys[key]
        if kind == _S:
            if not isinstance(value, str) or not value.strip():
                raise RulesError(f"{where}: key '{key}' must be a non-empty string")
            if allowed and value not in allowed:
                raise RulesError(f"{where}: key '{key}' must be one of {', '.join(allowed)}")
        elif kind == _B:
            if not isinstance(value, bool):
                raise RulesError(f"{where}: key '{key}' must be true or false")
        elif kind == _L:
            if not isinstance(value, list) or not all(
                    isinstance(v, str) and v.strip() for v in value):
                raise RulesError(f"{where}: key '{key}' must be a list of non-empty strings")
    if not _ID_RE.match(entry["id"]):
        raise RulesError(f"{where}: key 'id' must use letters, digits, '_', '.', '-' only")
    return dict(entry)


def _merge(docs: Sequence[tuple[str, Mapping[str, Any], bool]]) -> dict[str, list[dict]]:
    """Validate every document and merge them into one list per table.

    ``docs``: (source name, document, is_extra). An extra entry whose id exists extends the
    existing entry's lists; a package entry may not repeat an id.
    """
    tables: dict[str, list[dict]] = {name: [] for name in SCHEMA}
    by_id: dict[tuple[str, str], dict] = {}
    for source, doc, extra in docs:
        if not isinstance(doc, Mapping):
            raise RulesError(f"{source}: rules must be a table of [[...]] arrays")
        for table, entries in doc.items():
            if table not in SCHEMA:
                raise RulesError(f"{source}: unknown key '{table}' "
                                 f"(expected one of {', '.join(SCHEMA)})")
            if not isinstance(entries, list):
                raise RulesError(f"{source}: key '{table}' must be an array of tables "
                                 f"([[{table}]])")
            for i, raw in enumerate(entries):
                entry = _check_entry(source, table, i, raw)
                entry["_source"] = source
                key = (table, entry["id"])
                old = by_id.get(key)
                if old is None:
                    if table == "company" and "name" not in entry:
                        raise RulesError(f"{source}: company[{i}] id={entry['id']!r}: "
                                         f"missing key 'name' (new company)")
                    by_id[key] = entry
                    tables[table].append(entry)
                elif not extra:
                    raise RulesError(f"{source}: {table}[{i}]: key 'id' {entry['id']!r} "
                                     f"repeats one from {old['_source']}")
                else:
                    for k, v in entry.items():
                        if k in ("id", "_source"):
                            continue
                        if isinstance(v, list):
                            old[k] = list(old.get(k, [])) + [x for x in v
                                                             if x not in old.get(k, [])]
                        else:
                            old[k] = v
    return tables


# ---------------------------------------------------------------- compiling

_ZH_PROVINCE_SUFFIX = ("省", "自治区", "特别行政区", "特区")
_ZH_CITY_SUFFIX = ("市", "州", "盟", "地区", "新区", "区", "县")
_EN_CITY_WORDS = ("city", "new area", "prefecture", "league", "district", "county", "zone")
_EN_PROVINCE_WORDS = ("province", "autonomous region", "sar")

_BASE_FOLD = {
    **{0xFF01 + i: chr(0x21 + i) for i in range(0x5E)},  # full-width ASCII
    0x3000: " ", 0x00A0: " ", 0x2009: " ", 0x200A: " ", 0x2002: " ", 0x2003: " ",
    0x202F: " ", 0x200B: " ",
    0x2018: "'", 0x2019: "'", 0x201B: "'", 0x2032: "'", 0x00B4: "'", 0x02BC: "'",
    0x201C: '"', 0x201D: '"', 0x201E: '"', 0x2033: '"',
    0x2010: "-", 0x2011: "-", 0x2012: "-", 0x2013: "-", 0x2212: "-",
}


def _fold_table(charmaps: list[dict]) -> dict[int, str]:
    table = dict(_BASE_FOLD)
    for cm in charmaps:
        trad = "".join(cm["traditional"])
        simp = "".join(cm["simplified"])
        if len(trad) != len(simp):
            raise RulesError(f"{cm['_source']}: charmap id={cm['id']!r}: key 'simplified' "
                             f"has {len(simp)} characters, 'traditional' has {len(trad)}")
        for t, s in zip(trad, simp, strict=True):
            if t != s:
                table[ord(t)] = s
    return table


def _suffix_level_zh(alias: str) -> str | None:
    if alias.endswith(_ZH_PROVINCE_SUFFIX):
        return "province"
    if alias.endswith(_ZH_CITY_SUFFIX):
        return "city"
    return None


def _suffix_level_en(alias: str) -> str | None:
    low = alias.lower()
    if any(low.endswith(" " + w) for w in _EN_PROVINCE_WORDS):
        return "province"
    if any(low.endswith(" " + w) for w in _EN_CITY_WORDS):
        return "city"
    return None


def compile_rules(tables: dict[str, list[dict]], sources: Sequence[str] = ()) -> Rules:
    fold = _fold_table(tables["charmap"])

    def f(s: str) -> str:
        return s.translate(fold)

    # places
    if not any(p.get("target", True) for p in tables["province"]):
        raise RulesError(f"{', '.join(sources) or 'rules'}: key 'province': no target "
                         f"provinces loaded (provinces.toml missing?)")
    province_names: dict[str, dict] = {}
    place_entries: list[tuple[str, PlaceRef, bool]] = []
    for p in tables["province"]:
        province_names[p["name"]] = p
        target = p.get("target", True)
        municipality = p.get("type") == "municipality"
        kind = "province" if target else "foreign"
        for alias in p.get("en", []):
            place_entries.append((f(alias), PlaceRef(
                kind, p["id"], p["name"] if target else None, p["name"], target, False,
                _suffix_level_en(alias), municipality), False))
        for alias in (*p.get("zh", []), *p.get("zh_hant", [])):
            place_entries.append((f(alias), PlaceRef(
                kind, p["id"], p["name"] if target else None, p["name"], target, False,
                _suffix_level_zh(f(alias)), municipality), False))
    for c in tables["city"]:
        prov = province_names.get(c["province"])
        if prov is None:
            raise RulesError(f"{c['_source']}: city id={c['id']!r}: key 'province' "
                             f"{c['province']!r} is not a province name")
        target = prov.get("target", True)
        kind = "city" if target else "foreign"
        for alias in c.get("en", []):
            level = _suffix_level_en(alias)
            amb = bool(c.get("ambiguous_en")) and level is None
            place_entries.append((f(alias), PlaceRef(
                kind, c["id"], c["province"] if target else None, c["name"], target, amb,
                level), False))
        for alias in (*c.get("zh", []), *c.get("zh_hant", [])):
            level = _suffix_level_zh(f(alias))
            amb = bool(c.get("ambiguous_zh")) and level is None
            place_entries.append((f(alias), PlaceRef(
                kind, c["id"], c["province"] if target else None, c["name"], target, amb,
                level), False))
    for fo in tables["foreign"]:
        ref = PlaceRef("foreign", fo["id"], None, fo["id"], False, False, None)
        for alias in fo.get("patterns", []):
            place_entries.append((f(alias), ref, False))
        for alias in fo.get("cased", []):
            place_entries.append((f(alias), ref, True))

    # forms, prefixes, anaphors, traps, links
    words: list[tuple[str, WordInfo, bool]] = []
    for kind in ("form", "prefix"):
        for e in tables[kind]:
            info = WordInfo(kind, e["id"], e["role"], e.get("level", "any"), e["lang"])
            words.extend((f(p), info, False) for p in e["patterns"])
    for e in tables["anaphor"]:
        info = WordInfo("anaphor", e["id"], e.get("role", "government"), e["target"], e["lang"])
        words.extend((f(p), info, False) for p in e["patterns"])
    for e in tables["trap"]:
        info = WordInfo("trap", e["id"], e["role"], "any", e["lang"])
        words.extend((f(p), info, False) for p in e["patterns"])
    for e in tables["link"]:
        info = WordInfo("link", e["id"], e["role"], "any", e["lang"])
        words.extend((f(p), info, False) for p in e["patterns"])

    # companies
    company_entries: list[tuple[str, CompanyInfo, bool]] = []
    company_table: dict[str, Company] = {}
    for c in tables["company"]:
        cid, name = c["id"], c["name"]
        company_table[cid] = Company(
            cid, name, tuple(f(x).lower() for x in c.get("context", [])),
            tuple(f(x).lower() for x in c.get("anti_next", [])),
            tuple(f(x).lower() for x in c.get("anti_context", [])))
        for alias in (*c.get("en", []), *c.get("zh", [])):
            company_entries.append((f(alias), CompanyInfo(cid, name, False, alias), False))
        for alias in c.get("tickers", []):
            company_entries.append((f(alias), CompanyInfo(cid, name, False, alias), True))
        for alias in c.get("en_ambiguous", []):
            company_entries.append((f(alias), CompanyInfo(cid, name, True, alias), True))
        for alias in c.get("zh_ambiguous", []):
            company_entries.append((f(alias), CompanyInfo(cid, name, True, alias), False))

    # triggers and hedges
    trigger_entries: list[tuple[str, TriggerInfo, bool]] = []
    for t in tables["trigger"]:
        trig = TriggerInfo(t["id"], t["strength"], t.get("kind"), bool(t.get("plural")),
                           bool(t.get("base")), bool(t.get("needs_noun")), t["lang"])
        trigger_entries.extend((f(p), trig, False) for p in t["patterns"])
    hedge_entries: list[tuple[str, HedgeInfo, bool]] = []
    for h in tables["hedge"]:
        default_attach = {"not_yet": "before", "background": "near", "fresh": "near"}
        hedge = HedgeInfo(h["id"], h["kind"], h.get("attach", default_attach.get(
            h["kind"], "sentence")), h["lang"])
        hedge_entries.extend((f(p), hedge, False) for p in h["patterns"])
        hedge_entries.extend((f(p), hedge, True) for p in h.get("cased", []))

    cues: dict[str, list[str]] = {}
    for c in tables["cue"]:
        cues.setdefault(f"{c['role']}.{c['lang']}", []).extend(
            f(p).lower() for p in c["patterns"])

    sorted_cues = {k: tuple(sorted(set(v), key=len, reverse=True)) for k, v in cues.items()}
    return Rules(
        fold=fold,
        places=Lexicon(place_entries),
        words=Lexicon(words),
        companies=Lexicon(company_entries),
        triggers=Lexicon(trigger_entries),
        hedges=Lexicon(hedge_entries),
        company_table=company_table,
        provinces=frozenset(p["name"] for p in tables["province"] if p.get("target", True)),
        company_names=frozenset(c.name for c in company_table.values()),
        cues=sorted_cues,
        sources=tuple(sources),
        _tails={k: re.compile(_alternation(v, k.rsplit(".", 1)[1]) + r"\Z")
                for k, v in sorted_cues.items()},
        _heads={k: re.compile(_alternation(v, k.rsplit(".", 1)[1]))
                for k, v in sorted_cues.items()},
    )


def load_rules(extra_files: Sequence[Path] = (), extra: Mapping | None = None) -> Rules:
    """Load the package's rules plus ``extra_files`` and an ``extra`` dict (same schema).

    Raises :class:`RulesError` naming the file and key of the first problem found.
    """
    docs: list[tuple[str, Mapping[str, Any], bool]] = [
        (src, doc, False) for src, doc in _package_docs(str(RULES_DIR))]
    for path in extra_files:
        docs.append((str(path), _read_file(Path(path)), True))
    if extra is not None:
        docs.append(("<extra>", extra, True))
    tables = _merge(docs)
    return compile_rules(tables, [d[0] for d in docs])

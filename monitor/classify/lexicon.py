"""A compiled word list: one Aho-Corasick automaton over many patterns, each with payloads.

English patterns are matched on lower-cased text and must sit on word boundaries; a
pattern marked ``cased`` must also match the original case. Chinese patterns match anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ahocorasick_rs


def is_ascii_word(pattern: str) -> bool:
    """True for a pattern that needs word boundaries (no CJK in it)."""
    return all(ord(c) < 0x2E80 for c in pattern)


def _is_word_char(c: str) -> bool:
    return c.isalnum() and ord(c) < 0x2E80


@dataclass(frozen=True, slots=True)
class Hit:
    """One match: [start, end) in the text and the payloads of the pattern that matched."""

    start: int
    end: int
    infos: tuple[Any, ...]


class Lexicon:
    """Many patterns, each carrying one or more payloads, matched leftmost-longest."""

    __slots__ = ("_ac", "_all", "_infos", "_cased", "_ascii", "patterns")

    def __init__(self, entries: Iterable[tuple[str, Any, bool]]) -> None:
        """``entries``: (pattern, payload, cased). Patterns are folded by the caller."""
        index: dict[str, int] = {}
        infos: list[list[tuple[Any, str | None]]] = []
        for pattern, payload, cased in entries:
            key = pattern.lower()
            if not key.strip():
                continue
            i = index.get(key)
            if i is None:
                i = index[key] = len(infos)
                infos.append([])
            infos[i].append((payload, pattern if cased else None))
        self.patterns = list(index)
        self._infos = [tuple(x) for x in infos]
        self._cased = [any(orig is not None for _, orig in x) for x in infos]
        self._ascii = [is_ascii_word(p) for p in self.patterns]
        self._ac = (ahocorasick_rs.AhoCorasick(
            self.patterns, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
            implementation=ahocorasick_rs.Implementation.DFA)
            if self.patterns else None)
        self._all: ahocorasick_rs.AhoCorasick | None = None  # overlapping, built on need

    def _accept(self, i: int, s: int, e: int, low: str, norm: str) -> Hit | None:
        if self._ascii[i]:
            if s > 0:
                c = low[s - 1]
                if c.isalnum() and c.isascii() and _is_word_char(low[s]):
                    return None
            if e < len(low):
                c = low[e]
                if c.isalnum() and c.isascii() and _is_word_char(low[e - 1]):
                    return None
        infos = self._infos[i]
        if self._cased[i]:
            text = norm[s:e]
            payloads = tuple(p for p, orig in infos if orig is None or orig == text)
            if not payloads:
                return None
        else:
            payloads = tuple(p for p, _ in infos)
        return Hit(s, e, payloads)

    def _inside(self, low: str, norm: str, start: int, end: int) -> list[Hit]:
        """Shorter matches inside a span whose longest match was refused
        ("Huawei Technologies covering" holds "Huawei Technologies", not "...Co")."""
        if self._all is None:
            self._all = ahocorasick_rs.AhoCorasick(self.patterns)
        found = []
        every = self._all
        for i, s, e in every.find_matches_as_indexes(low[start:end], overlapping=True):
            hit = self._accept(i, start + s, start + e, low, norm)
            if hit is not None:
                found.append(hit)
        found.sort(key=lambda h: (h.start, -h.end))
        out: list[Hit] = []
        for h in found:
            if not out or h.start >= out[-1].end:
                out.append(h)
        return out

    def __len__(self) -> int:
        return len(self.patterns)

    def find(self, low: str, norm: str,
             spans: list[tuple[int, int]] | None = None) -> list[Hit]:
        """Matches in ``low`` (the lower-cased ``norm``), filtered by boundaries and case;
        only inside ``spans`` when given."""
        if self._ac is None:
            return []
        out: list[Hit] = []
        for a, b in spans if spans is not None else [(0, len(low))]:
            text = low if (a, b) == (0, len(low)) else low[a:b]
            for i, s, e in self._ac.find_matches_as_indexes(text):
                s += a
                e += a
                hit = self._accept(i, s, e, low, norm)
                if hit is not None:
                    out.append(hit)
                elif " " in low[s:e]:
                    out.extend(self._inside(low, norm, s, e))
        return out

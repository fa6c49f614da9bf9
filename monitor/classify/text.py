"""Text preparation: one-for-one character folding and sentence segmentation.

Folding never changes the length of the text, so every offset found in the folded,
lower-cased copy is an offset in the original too (evidence is cut from the original).
"""

from __future__ import annotations

import re

_ABBREVIATIONS = frozenset("""
mr mrs ms dr prof inc co corp ltd jr sr st no nos vs etc gov govt sen rep gen lt col capt
jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun
u.s e.g i.e approx dept est fig mt ft bros plc llc op vol pp ave blvd rd dist prov hon
messrs cf al ph a.m p.m
""".split())

_CANDIDATE = re.compile(r"\n+|[。！？!?；;]+|\.")
_PERIOD_END = re.compile(r"\.*[\"'」』）)\]]*(?=\s+[^\sa-z0-9,;:]|\s*$)")
_CLOSE = re.compile(r"[\"'」』）)\]]*")


def _is_abbreviation(text: str, dot: int) -> bool:
    """"Mr.", "Ltd.", "U.S.", "J." do not end a sentence."""
    lo = max(0, dot - 12)
    k = max(text.rfind(" ", lo, dot), text.rfind("\n", lo, dot), text.rfind("(", lo, dot))
    word = text[k + 1:dot]
    if not word or not word[0].isalpha():
        return False
    if len(word) == 1:
        return word.isupper()
    if "." in word:
        return len(word) <= 4 or word.lower() in _ABBREVIATIONS
    return word.lower() in _ABBREVIATIONS


_CJK = re.compile(r"[\u3400-\u9fff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean(text: str) -> str:
    """Lone surrogates (a str from a careless decoder may hold them) become U+FFFD, one for
    one: no later stage, and no C library the text is handed to, has to cope with them."""
    if _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub("\ufffd", text)


def fold(text: str, table: dict[int, str]) -> tuple[str, str]:
    """Return (folded, folded lower-cased), both exactly as long as ``text``."""
    norm = text.translate(table)
    if len(norm) != len(text):  # a table entry mapped to several characters: skip those
        norm = "".join(c.translate(table) if len(c.translate(table)) == 1 else c
                       for c in text)
    low = norm.lower()
    if len(low) != len(norm):
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in norm)
    return norm, low


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans in ``text`` (Chinese and English punctuation, newlines)."""
    cuts: list[int] = []
    start = 0
    for m in _CANDIDATE.finditer(text):
        at = m.start()
        if at < start:
            continue
        ch = text[at]
        if ch == ".":
            p = _PERIOD_END.match(text, at + 1)
            if p is None:
                continue
            if at - text.rfind(" ", max(0, at - 14), at) <= 13 and _is_abbreviation(text, at):
                continue
            start = p.end()
        elif ch == "\n":
            start = m.end()
        else:
            close = _CLOSE.match(text, m.end())
            start = close.end() if close else m.end()
        cuts.append(start)
    cuts.append(len(text))
    spans: list[tuple[int, int]] = []
    prev = 0
    for end in cuts:
        seg = text[prev:end]
        stripped = seg.strip()
        if stripped:
            s = prev + len(seg) - len(seg.lstrip())
            spans.append((s, s + len(stripped)))
        prev = end
    return spans


def is_chinese(text: str) -> bool:
    """True when at least a fifth of the non-space characters are CJK."""
    if _CJK.search(text) is None:
        return False
    cjk = len(_CJK.findall(text))
    return cjk * 5 >= len(text) - text.count(" ")

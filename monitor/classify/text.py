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

_BOUNDARY = re.compile(
    r"\n+"
    r"|[。！？!?；;]+[\"'」』）)\]]*"
    r"|\.+[\"'」』）)\]]*(?=\s|$)")
_CJK = re.compile(r"[\u3400-\u9fff]")


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


def _is_abbreviation(text: str, dot: int) -> bool:
    k = max(text.rfind(" ", max(0, dot - 20), dot), text.rfind("\n", max(0, dot - 20), dot))
    word = text[k + 1:dot].lstrip("(\"'")
    if not word or not word[0].isalpha():
        return False
    if len(word) == 1 or (len(word) <= 4 and "." in word):
        return word[0].isupper() or word.lower() in _ABBREVIATIONS  # "J.", "U.S.", "e.g."
    return word.lower().rstrip(".") in _ABBREVIATIONS


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans in ``text`` (Chinese and English punctuation, newlines)."""
    spans: list[tuple[int, int]] = []
    start = 0
    n = len(text)
    for m in _BOUNDARY.finditer(text):
        end = m.end()
        if text[m.start()] == ".":
            if _is_abbreviation(text, m.start()):
                continue
            j = end
            while j < n and text[j] in " \t":
                j += 1
            if j < n and (text[j].islower() or text[j].isdigit() or text[j] in ",;:"):
                continue
        _add(text, start, end, spans)
        start = end
    _add(text, start, n, spans)
    return spans


def _add(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    seg = text[start:end]
    stripped = seg.strip()
    if stripped:
        start += len(seg) - len(seg.lstrip())
        spans.append((start, start + len(stripped)))


def is_chinese(text: str) -> bool:
    """True when at least a fifth of the non-space characters are CJK."""
    if _CJK.search(text) is None:
        return False
    cjk = len(_CJK.findall(text))
    return cjk * 5 >= len(text) - text.count(" ")

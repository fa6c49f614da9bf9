"""What the sentence-case classifier tests share: the publication day and the comparison."""

from __future__ import annotations

from datetime import date

from monitor.classify import Rules, classify
from monitor.types import Article

PUB = date(2019, 10, 14)  # a Monday: weekday expressions in the cases resolve from here
D = date


def got(rules: Rules, title: str, text: str, published: date | None = PUB) -> set:
    """The (province, companies, signed_on) of every agreement the classifier reports."""
    return {(a.province, a.companies, a.signed_on)
            for a in classify(Article(title=title, text=text, published=published), rules)}

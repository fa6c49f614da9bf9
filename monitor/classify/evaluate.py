"""Measure the classifier against labelled articles (JSON lines).

    python -m monitor.classify.evaluate tests/data/dev_en.jsonl tests/data/dev_zh.jsonl

Each line: {"id", "lang", "title", "text", "published", "url", "agreements": [{"province",
"level", "government", "companies", "signed_on"}], "tags"}. An agreement is a province and
a set of companies, counted once per article. Prints precision, recall and F1 per language,
date accuracy over gold agreements that state a date, and every miss and false alarm with
the reasons ``explain`` gives.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..types import Agreement, Article
from . import Rules, explain, load_rules

Key = tuple[str, frozenset[str]]


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    dated: int = 0  # gold agreements with a stated date
    dated_right: int = 0  # ... found with that date
    dated_found: int = 0  # ... found at all
    guessed: int = 0  # gold says no date, we gave one
    articles: int = 0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)
    wrong_dates: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def date_accuracy(self) -> float:
        return self.dated_right / self.dated if self.dated else 1.0


def read_rows(paths: Iterable[Path]) -> list[dict]:
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise SystemExit(f"{path}:{n}: not JSON: {exc}") from exc
    return rows


def article_of(row: dict) -> Article:
    published = date.fromisoformat(row["published"]) if row.get("published") else None
    return Article(title=row.get("title", ""), text=row.get("text", ""), published=published,
                   url=row.get("url"), lang=row.get("lang"))


def _show(key: Key) -> str:
    return f"{key[0]} + {', '.join(sorted(key[1]))}"


def score_row(row: dict, rules: Rules, score: Score, threshold: float = 0.5) -> None:
    cands = explain(article_of(row), rules, threshold)
    predicted: dict[Key, Agreement] = {}
    for c in cands:
        if c.accepted:
            predicted.setdefault((c.agreement.province, frozenset(c.agreement.companies)),
                                 c.agreement)
    gold: dict[Key, dict] = {}
    for g in row.get("agreements", []):
        gold.setdefault((g["province"], frozenset(g["companies"])), g)
    score.articles += 1
    rid = row.get("id", "?")
    for key, g in gold.items():
        got = predicted.get(key)
        if g.get("signed_on"):
            score.dated += 1
        if got is None:
            score.fn += 1
            related = [c for c in cands if c.agreement.province == key[0]
                       or set(c.agreement.companies) & key[1]]
            lines = [f"MISS {rid}: {_show(key)} (signed {g.get('signed_on')})"]
            for c in related or cands:
                shown = _show((c.agreement.province, frozenset(c.agreement.companies)))
                lines.append(f"    candidate {shown} accepted={c.accepted}: "
                             f"{c.sentence[:160]}")
                lines.extend(f"      - {r}" for r in c.reasons)
            if not cands:
                lines.append("    no candidate at all")
            score.misses.append("\n".join(lines))
            continue
        score.tp += 1
        got_date = got.signed_on.isoformat() if got.signed_on else None
        if g.get("signed_on"):
            score.dated_found += 1
            if got_date == g["signed_on"]:
                score.dated_right += 1
            else:
                score.wrong_dates.append(f"DATE {rid}: {_show(key)} gold {g['signed_on']} "
                                         f"got {got_date}: {got.evidence[:160]}")
        elif got_date:
            score.guessed += 1
            score.wrong_dates.append(f"DATE {rid}: {_show(key)} gold none got {got_date}: "
                                     f"{got.evidence[:160]}")
    for key, agreement in predicted.items():
        if key not in gold:
            score.fp += 1
            c = next(c for c in cands if c.accepted and c.agreement is agreement)
            lines = [f"FALSE ALARM {rid}: {_show(key)} tags={row.get('tags')}: "
                     f"{c.sentence[:200]}"]
            lines.extend(f"      - {r}" for r in c.reasons)
            score.false_alarms.append("\n".join(lines))


def evaluate(rows: Sequence[dict], rules: Rules, threshold: float = 0.5) -> dict[str, Score]:
    scores: dict[str, Score] = {}
    for row in rows:
        score_row(row, rules, scores.setdefault(row.get("lang") or "?", Score()), threshold)
    return scores


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitor.classify.evaluate",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, help="labelled JSON-lines files")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--quiet", action="store_true", help="only the summary")
    args = parser.parse_args(argv)
    rules = load_rules()
    scores = evaluate(read_rows(args.files), rules, args.threshold)
    out = sys.stdout
    for lang, s in sorted(scores.items()):
        if not args.quiet:
            for line in s.misses + s.false_alarms + s.wrong_dates:
                print(line, file=out)
        print(f"{lang}: articles {s.articles}  precision {s.precision:.3f}  "
              f"recall {s.recall:.3f}  F1 {s.f1:.3f}  (tp {s.tp} fp {s.fp} fn {s.fn})  "
              f"date accuracy {s.date_accuracy:.3f} ({s.dated_right}/{s.dated} dated gold; "
              f"{s.dated_right}/{s.dated_found} of those found; {s.guessed} dates given "
              f"where gold has none)", file=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

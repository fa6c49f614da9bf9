"""Precision, recall and date floors on the labelled development sets (they only go up).

Measured when these floors were set on the development set (English 160 articles, Chinese
110): English P 0.991 R 1.000 F1 0.995, dates 1.000; Chinese P 1.000 R 1.000 F1 1.000, dates
1.000. With the two former held-out sets added (English 230, Chinese 200): the same or better.
The floors sit below that so that a new rule may trade a case or two; the held-out set,
which nobody tuned on, is the real measure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.classify import load_rules
from monitor.classify.evaluate import evaluate, main, read_rows

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
# The development set, plus the two sets that were first scored blind (tests/heldout and
# tests/heldout2; README, "The classifier") and then tuned on: all keep their floors.
FILES = {"en": sorted([*DATA.glob("dev_en*.jsonl"), *TESTS.glob("heldout*/heldout*_en.jsonl")]),
         "zh": sorted([*DATA.glob("dev_zh*.jsonl"), *TESTS.glob("heldout*/heldout*_zh.jsonl")])}
FLOORS = {  # precision, recall, F1, date accuracy
    "en": (0.95, 0.96, 0.96, 0.95),
    "zh": (0.96, 0.96, 0.96, 0.95),
}


@pytest.fixture(scope="module")
def scores():
    files = [f for fs in FILES.values() for f in fs]
    if not files:
        pytest.skip("no labelled development set in tests/data")
    return evaluate(read_rows(files), load_rules())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_floors(scores, lang):
    if lang not in scores:
        pytest.skip(f"no {lang} development set")
    s = scores[lang]
    precision, recall, f1, dates = FLOORS[lang]
    report = "\n".join(s.misses + s.false_alarms + s.wrong_dates)
    assert s.precision >= precision, report
    assert s.recall >= recall, report
    assert s.f1 >= f1, report
    assert s.date_accuracy >= dates, report


def test_evaluate_command_prints_the_summary(capsys, tmp_path):
    row = ('{"id": "t1", "lang": "en", "title": "", "text": "The Hebei provincial government '
           'signed an agreement with Alibaba on Friday.", "published": "2019-10-14", '
           '"url": "https://example.test/1", "agreements": [{"province": "Hebei", '
           '"level": "province", "government": "Hebei provincial government", '
           '"companies": ["Alibaba"], "signed_on": "2019-10-11"}], "tags": []}\n'
           '{"id": "t2", "lang": "en", "title": "", "text": "Huawei plans to sign a deal '
           'with the Henan government.", "published": "2019-10-14", "url": null, '
           '"agreements": [{"province": "Henan", "level": "province", "government": "x", '
           '"companies": ["Huawei"], "signed_on": null}], "tags": []}\n')
    path = tmp_path / "mini.jsonl"
    path.write_text(row, encoding="utf-8")
    assert main([str(path)]) == 0
    out = capsys.readouterr().out
    assert "en: articles 2" in out and "precision 1.000" in out and "recall 0.500" in out
    assert "MISS t2: Henan + Huawei" in out and "hedge 'plans to'" in out
    assert "date accuracy 1.000 (1/1" in out

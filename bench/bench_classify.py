"""Measure classify() throughput on synthetic ~600-word articles (English and Chinese).

    python bench/bench_classify.py [--articles 2000] [--seed 1] [--dense]

Prints articles per second on one core, as CPU time (steady on a shared machine) and as
wall-clock time. Every article is about a tech giant and a government, so every stage runs:
a few signing sentences (signed, planned, background) and a few plain mentions of companies
and places among filler. ``--dense`` makes every fifth sentence a signing, a worst case.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date

from monitor.classify import classify, load_rules
from monitor.types import Article

FILLER_EN = ("the market grew steadily as local firms expanded production and hired more "
             "workers while analysts said demand for digital services would keep rising "
             "over the coming years in most regions of the country").split()
GOVS_EN = ["the Hebei provincial government", "the Zhejiang provincial government",
           "the Hangzhou municipal government", "the Guizhou Big Data Bureau",
           "officials of Yunnan province", "the government of Sichuan"]
COMPANIES_EN = ["Alibaba", "Tencent", "Huawei", "JD.com", "Baidu", "ByteDance", "Meituan"]
MENTIONS_EN = [
    "{c} shares rose 2 percent in Hong Kong trading on Monday.",
    "Officials in Guizhou said the data centre would open next year.",
    "Analysts said {c} faces tougher competition in Shanghai and Shenzhen.",
]
MENTIONS_ZH = ["{c}股价周一上涨2%。", "贵州省有关负责人表示，数据中心明年投用。",
               "分析人士认为，{c}在上海面临竞争。"]
SENTENCES_EN = [
    "On Friday, {g} and {c} signed a strategic cooperation agreement on cloud computing.",
    "{c} is expected to sign a framework agreement with {g} next month.",
    "The two sides will build a data centre and train engineers.",
    "In 2018, {g} had signed an earlier agreement with {c}.",
    "{c} opened a regional office in Chengdu last week.",
]
FILLER_ZH = list("记者从有关部门获悉今年以来全市经济运行总体平稳工业生产稳步增长消费市场持续回暖")
GOVS_ZH = ["河北省人民政府", "浙江省政府", "杭州市人民政府", "贵州省大数据局", "云南省扶贫办"]
COMPANIES_ZH = ["阿里巴巴", "腾讯", "华为", "京东", "百度", "字节跳动", "美团"]
SENTENCES_ZH = [
    "10月11日，{g}与{c}签署战略合作协议。",
    "{g}拟与{c}签署框架协议。",
    "双方将在云计算、大数据等领域开展合作。",
    "此前，{g}曾与{c}签署合作备忘录。",
]


def _article(rng: random.Random, zh: bool, dense: bool = False) -> Article:
    parts: list[str] = []
    size = 0
    signing = 0.2 if dense else 0.07
    while size < (1100 if zh else 600):
        roll = rng.random()
        if roll < signing:
            template = rng.choice(SENTENCES_ZH if zh else SENTENCES_EN)
            s = template.format(g=rng.choice(GOVS_ZH if zh else GOVS_EN),
                                c=rng.choice(COMPANIES_ZH if zh else COMPANIES_EN))
            size += len(s) if zh else len(s.split())
        elif roll < signing + 0.1:
            s = rng.choice(MENTIONS_ZH if zh else MENTIONS_EN).format(
                c=rng.choice(COMPANIES_ZH if zh else COMPANIES_EN))
            size += len(s) if zh else len(s.split())
        else:
            n = rng.randint(8, 25)
            if zh:
                s = "".join(rng.choice(FILLER_ZH) for _ in range(n * 2)) + "。"
                size += len(s)
            else:
                s = " ".join(rng.choice(FILLER_EN) for _ in range(n)).capitalize() + "."
                size += n
        parts.append(s)
    sep = "" if zh else " "
    text = "\n\n".join(sep.join(parts[i:i + 5]) for i in range(0, len(parts), 5))
    return Article(title="Digital economy agreements signed" if not zh else "数字经济签约",
                   text=text, published=date(2019, 10, 14), lang="zh" if zh else "en")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dense", action="store_true", help="every fifth sentence a signing")
    args = parser.parse_args(argv)
    rules = load_rules()
    rng = random.Random(args.seed)
    articles = [_article(rng, zh=i % 2 == 1, dense=args.dense) for i in range(args.articles)]
    words = sum(len(a.text.split()) for a in articles if a.lang == "en") / max(
        1, sum(1 for a in articles if a.lang == "en"))
    for a in articles[:50]:  # warm up
        classify(a, rules)
    start, cpu = time.perf_counter(), time.process_time()
    found = 0
    for a in articles:
        found += len(classify(a, rules))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"classified {len(articles)} articles (English ~{words:.0f} words, half Chinese"
          f"{', dense' if args.dense else ''}): {len(articles) / cpu:.0f} articles/s "
          f"(CPU time {cpu:.2f} s), {len(articles) / seconds:.0f} articles/s wall clock; "
          f"{found} agreements")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Five general gaps found by a blind set of messy, scraped-style pages, each with new
sentences of its own wording:

1. a signing sentence that states its own vague time (日前, 近日, "recently", "this week")
   gets no date, even when other sentences name a day;
2. wishes and plans (希望/争取/期待 ... 早日签署, 签约后将, "looks forward to signing")
   are not signings;
3. teaser lines ("Related:", 相关阅读, 【相关】 and the headlines listed under them) are other
   articles; a YYYY-MM date ("(2016-09)") is a month;
4. a place named only to be told apart ("not to be confused with Shaanxi", 与陕西不同,
   别与陕西混淆) is not a party;
5. governments below a place: "the district government" points back to the city;
   苏州工业园区管理委员会 is a government of Suzhou.

Published on Monday 2019-10-14, like the general cases.
"""

from __future__ import annotations

import pytest

from monitor.classify.dates import find_dates

from .classify_cases import PUB, D, got

CASES = [
    # ---------------------------------------------------------------- 1 vague time
    ("vague-zh-jinri", "",
     "本报10月12日讯 记者从市里获悉。\n近日，南宁市人民政府与腾讯公司签署战略合作协议，"
     "双方将共建数字政务平台。",
     {("Guangxi", ("Tencent",), None)}),
    ("vague-zh-riqian-header", "",
     "晨报快讯　2019年10月13日\n日前，长沙市政府与百度签署合作框架协议，推动自动驾驶测试。",
     {("Hunan", ("Baidu",), None)}),
    ("vague-en-recently", "",
     "The provincial media office briefed reporters on Saturday.\n"
     "Recently, the Guizhou provincial government signed a big data cooperation agreement "
     "with Alibaba, officials said.",
     {("Guizhou", ("Alibaba",), None)}),
    # ---------------------------------------------------------------- 2 wishes
    ("wish-zh-zaori", "",
     "12日，西安市市长会见京东集团代表。市长表示，希望双方加快对接，早日签署合作协议。",
     set()),
    ("wish-zh-after-signing", "",
     "郑州市与阿里巴巴的合作备受关注。郑州市商务局负责人说，签约后将推动阿里巴巴区域中心落户。",
     set()),
    ("wish-en-look-forward", "",
     "Kunming's mayor met Tencent executives on Friday and said the city looks forward to "
     "signing a strategic cooperation agreement with Tencent.",
     set()),
    # ---------------------------------------------------------------- 3 teasers
    ("teaser-en-related", "Weather delays harvest",
     "Rain slowed the autumn harvest across the north on Saturday.\n"
     "Related:\n"
     "Hubei signs cloud computing agreement with Huawei\n"
     "Grain prices steady",
     set()),
    ("teaser-zh-reading", "",
     "10月12日，成都市人民政府与华为签署合作协议，共建鲲鹏生态。\n"
     "延伸阅读：\n"
     "· 重庆与腾讯签署战略合作协议\n"
     "· 西部算力大会开幕",
     {("Sichuan", ("Huawei",), D(2019, 10, 12))}),
    ("teaser-zh-month-date", "",
     "市场消息。\n山东与浪潮签署合作协议（2018-05）",
     set()),
    # ---------------------------------------------------------------- 4 contrasts
    ("contrast-en-confused", "",
     "The Shanxi provincial government -- not to be confused with Shaanxi, which lies "
     "across the Yellow River -- signed a cloud services agreement with Baidu on Friday.",
     {("Shanxi", ("Baidu",), D(2019, 10, 11))}),
    ("contrast-zh-butong", "",
     "与陕西省不同，山西省人民政府11日与腾讯签署了战略合作协议。",
     {("Shanxi", ("Tencent",), D(2019, 10, 11))}),
    ("contrast-zh-hunxiao", "",
     "11日，山西省政府（请勿与陕西混淆）与百度签署合作协议。",
     {("Shanxi", ("Baidu",), D(2019, 10, 11))}),
    # ---------------------------------------------------------------- 5 governments within
    ("within-en-district", "",
     "Tencent opened a gaming hub in Hangzhou's Binjiang district after signing an investment "
     "agreement with the district government on Friday.",
     {("Zhejiang", ("Tencent",), D(2019, 10, 11))}),
    ("within-zh-park", "",
     "11日，苏州工业园区管委会与华为签署战略合作协议，共建智能制造创新中心。",
     {("Jiangsu", ("Huawei",), D(2019, 10, 11))}),
    ("within-zh-new-area", "",
     "本周一，成都天府新区管理委员会与阿里巴巴签署合作协议。",
     {("Sichuan", ("Alibaba",), D(2019, 10, 14))}),
]


@pytest.mark.parametrize("cid,title,text,expected", CASES, ids=[c[0] for c in CASES])
def test_scraped_gap(rules, cid, title, text, expected):
    assert got(rules, title, text) == expected


@pytest.mark.parametrize("text,year,month", [
    ("（2016-09）", 2016, 9), ("(2018/11)", 2018, 11), ("2020.3 ", 2020, 3)])
def test_year_month_is_a_month(text, year, month):
    found = find_dates(text, text.lower(), PUB)
    assert [(d.precision, d.year, d.month) for d in found] == [("month", year, month)]


@pytest.mark.parametrize("text", ["2016-2017", "2019-13", "20.5%"])
def test_not_a_year_month(text):
    assert not [d for d in find_dates(text, text.lower(), PUB) if d.precision == "month"]

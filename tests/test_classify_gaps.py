"""Five general gaps found by a blind set, each with new sentences of its own wording:

1. an official who SIGNS (vice governor, mayor, 副省长, 副市长) makes the government a party,
   even when another official only looks on;
2. a track record or background statement (decades, "in recent years", "one of several
   provinces that ...", 2010年代, 过去几年) is not a new signing;
3. a negated agreement ("no new agreement ... has been announced", "has not been
   reached", 暂无/尚未/从未 ... 签署) is not a signing;
4. a place inside the name of a non-government body (a cooperative, an association, a
   chamber of commerce, a university, a hospital) is not a government party;
5. a place inside a company's name (Hong Kong Telecom, 香港电讯, 四川航空, 上海银行 ...) is not a
   government party: the deal is company to company.

Published on Monday 2019-10-14, like the general cases.
"""

from __future__ import annotations

import pytest

from monitor.classify.dates import find_dates

from .classify_cases import PUB, D, got

CASES = [
    # ---------------------------------------------------------------- 1 official signs
    ("signer-en-passive", "",
     "Yunnan's provincial government hosted Tencent executives in Kunming on Saturday. "
     "The framework agreement was signed on Saturday by the vice governor and a Tencent "
     "senior vice president, while the provincial Party chief looked on.",
     {("Yunnan", ("Tencent",), D(2019, 10, 12))}),
    ("signer-en-active", "",
     "Shaanxi Vice Governor Zhao Gang and Baidu's head of cloud signed a strategic "
     "cooperation agreement in Xi'an on Friday, with the provincial Party secretary "
     "attending the ceremony.",
     {("Shaanxi", ("Baidu",), D(2019, 10, 11))}),
    ("signer-zh-vice-mayor", "",
     "10月12日，在杭州市委书记见证下，杭州市副市长王某与阿里巴巴集团副总裁签署战略合作协议。",
     {("Zhejiang", ("Alibaba",), D(2019, 10, 12))}),
    ("signer-zh-vice-governor", "",
     "四川省委书记出席活动。10月11日，四川省副省长李某代表省政府与腾讯公司签署战略合作框架协议。",
     {("Sichuan", ("Tencent",), D(2019, 10, 11))}),
    # the official only looks on: still a witness
    ("signer-neg-witness-en", "",
     "Hunan's governor looked on as Huawei and a local telecom operator signed a 5G "
     "agreement on Friday.",
     set()),
    ("signer-neg-witness-zh", "",
     "10月11日，湖南省省长出席并见证华为与湖南某科技公司签署合作协议。",
     set()),
    # ---------------------------------------------------------------- 2 background
    ("background-decade-en", "",
     "Anhui teamed up with iFlytek and Alibaba on smart city pilots in the early 2010s, "
     "long before the current wave of AI projects.",
     set()),
    ("background-one-of-several", "",
     "Fujian was one of several provinces that signed cloud computing deals with Tencent, "
     "according to a think tank report on local digital government.",
     set()),
    ("background-past-decade", "",
     "Over the past decade Guangxi signed agreements with Huawei, JD.com and Baidu on "
     "border trade and logistics.",
     set()),
    ("background-zh-decade", "",
     "早在2010年代初，贵州省就与阿里巴巴签署了云计算合作协议，成为全国较早发展大数据的省份。",
     set()),
    ("background-zh-many", "",
     "过去几年，华为先后与多个省份签署合作协议，其中包括江西省政府。",
     set()),
    # a new signing on a stated day is still new
    ("background-not-new-signing", "",
     "Jiangxi, a digital government pioneer since the 2010s, signed a new strategic "
     "cooperation agreement with JD.com on Friday.",
     {("Jiangxi", ("JD.com",), D(2019, 10, 11))}),
    # ---------------------------------------------------------------- 3 negation
    ("negated-en-no-deal", "",
     "No formal agreement between Tencent and the Hainan provincial government has been "
     "signed, a spokesman said.",
     set()),
    ("negated-en-not-reached", "",
     "Officials in Hubei said an agreement with Xiaomi has not been reached, despite months "
     "of meetings.",
     set()),
    ("negated-en-never", "",
     "The Gansu provincial government has never signed a cooperation agreement with "
     "Amazon.",
     set()),
    ("negated-zh-zanwu", "",
     "目前，云南省政府与苹果公司暂无新的合作协议签署。",
     set()),
    ("negated-zh-shangwei", "",
     "据了解，河南省政府尚未与京东签署任何合作协议。",
     set()),
    ("negated-zh-congwei", "",
     "宁夏回族自治区政府表示，从未与字节跳动签署过框架协议。",
     set()),
    # ---------------------------------------------------------------- 4 organisations
    ("org-zh-cooperative", "",
     "10月10日，京东与河北省保定市农产品产业农民专业合作社签署合作协议。",
     set()),
    ("org-zh-association", "",
     "10月10日，浙江省电子商务促进会与阿里巴巴签署战略合作协议。",
     set()),
    ("org-zh-chamber", "",
     "10月10日，广州市湖南商会与腾讯签署合作协议，共建数字化服务平台。",
     set()),
    ("org-zh-hospital", "",
     "10月10日，四川省成都市第一人民医院与华为签署智慧医院合作协议。",
     set()),
    ("org-en-cooperative", "",
     "JD.com signed an agreement with the Shandong Vegetable Growers' Cooperative on "
     "Thursday to sell produce online.",
     set()),
    ("org-en-association", "",
     "The Zhejiang Provincial E-commerce Association and Alibaba signed a cooperation "
     "agreement on Thursday.",
     set()),
    # the government beside an organisation is still a party
    ("org-zh-gov-beside", "",
     "10月10日，河北省政府与京东签署战略合作协议，保定市农民专业合作社代表出席。",
     {("Hebei", ("JD.com",), D(2019, 10, 10))}),
    # ---------------------------------------------------------------- 5 company names
    ("company-zh-hk-telecom", "腾讯与香港电讯签署合作协议 共拓企业市场",
     "10月11日，腾讯云与香港电讯签署合作协议。",
     set()),
    ("company-zh-bank", "",
     "10月11日，上海银行与百度签署战略合作协议，共建智能金融。",
     set()),
    ("company-zh-airline", "",
     "10月11日，四川航空与阿里巴巴签署战略合作协议。",
     set()),
    ("company-en-hk-telecom", "",
     "Alibaba Cloud signed a partnership agreement with Hong Kong Broadband on Friday.",
     set()),
    ("company-en-airlines", "",
     "Hainan Airlines and Tencent signed a strategic cooperation agreement on Friday.",
     set()),
    # the government itself still is one
    ("company-zh-hk-gov", "",
     "10月11日，香港特区政府与阿里巴巴签署合作备忘录。",
     {("Hong Kong", ("Alibaba",), D(2019, 10, 11))}),
]


@pytest.mark.parametrize("cid,title,text,expected", CASES, ids=[c[0] for c in CASES])
def test_gap(rules, cid, title, text, expected):
    assert got(rules, title, text) == expected


@pytest.mark.parametrize("text,year", [
    ("in the late 2010s", 2019), ("in the early 2020s", 2023), ("the mid-2000s", 2006),
    ("the 1990s", 1999), ("2010年代初", 2013), ("上世纪90年代末", 1999), ("八十年代", 1989),
])
def test_decades_are_years(text, year):
    found = find_dates(text, text.lower(), PUB)
    assert [(d.rule, d.precision, d.year) for d in found] == [("date.decade", "year", year)]

"""Gaps found by a blind set of officialese, exchange filings, social posts and numbered
notices, each with two new cases of its own wording:

1. a government said NOT to take part (不涉及地方政府, "no government body is a party") is
   not a party;
2. striving, pushing or discussing (力争, 推动…签署, 正与…商讨签署, 磋商, "eyes a tie-up",
   "in discussions to sign") governs the signing verb later in its clause: not signed;
3. an exchange filing (…关于与XX市人民政府签署…的公告) takes its company from the title and
   its date from the body's "公司于<date>与…签署";
4. municipal commissions, zone administrations and 高新区管委会 are government parties;
   a company's own post ("our team signed") names the company of the sentence before.

Published on Monday 2019-10-14.
"""

from __future__ import annotations

import pytest

from .classify_cases import D, got

CASES = [
    # ------------------------------------- wire style: "the government of X China's Y Province"
    ("wire-government-of-region", "",
     "KUNMING, Oct. 12 (Xinhua) -- The government of southwest China's Yunnan Province signed "
     "a strategic cooperation agreement with Tencent on Saturday to develop smart tourism.",
     {("Yunnan", ("Tencent",), D(2019, 10, 12))}),
    ("wire-company-first", "",
     "Baidu and the government of northeast China\u2019s Jilin Province on Friday signed a "
     "framework agreement on autonomous driving and smart transport.",
     {("Jilin", ("Baidu",), D(2019, 10, 11))}),
    # --------------------------------------- the push word inside a signed agreement's name
    ("signed-a-push-agreement", "",
     "湖北省人民政府12日在武汉与小米集团举行会谈。会谈结束后，双方签署了推进智能制造"
     "战略合作协议。",
     {("Hubei", ("Xiaomi",), D(2019, 10, 12))}),
    # ---------------------------------------------------------------- 1 negated government
    ("negated-zh", "",
     "10月12日，南京大学与腾讯公司签订人才培养协议。本次签约仅为校企之间的合作，"
     "并不涉及江苏省政府。",
     set()),
    ("negated-en", "",
     "Fudan University and Baidu signed a research agreement on Saturday. No government "
     "body is a party to the research deal, the university said.",
     set()),
    # ---------------------------------------------------------------- 2 striving / discussing
    ("strive-zh", "",
     "会议提出，要争取年底前促成湖南省人民政府与百度公司签署战略合作协议。",
     set()),
    ("discuss-zh", "",
     "据悉，福建省政府目前正与京东集团磋商签署电商扶贫合作协议，细节仍在敲定。",
     set()),
    ("discuss-en", "Guizhou eyes Alibaba tie-up on cloud computing",
     "The Guizhou provincial government is in discussions with Alibaba to sign a cloud "
     "computing agreement, officials said.",
     set()),
    # ---------------------------------------------------------------- 3 exchange filing
    ("filing-zh-summary", "科大讯飞股份有限公司关于与合肥市人民政府签署战略合作框架协议的公告",
     "本公司及董事会全体成员保证信息披露内容的真实、准确和完整。\n重要内容提示：公司于2019年10月10日"
     "与合肥市人民政府签署《战略合作框架协议》。\n一、协议主要内容\n双方将共建人工智能产业园。",
     {("Anhui", ("iFlytek",), D(2019, 10, 10))}),
    ("filing-zh-section", "中兴通讯股份有限公司关于与贵阳市人民政府签署战略合作协议的公告",
     "本公司董事会保证公告内容真实。\n一、协议签署概况\n本公司于2019年9月30日与贵阳市人民政府"
     "签署《数字政府战略合作协议》，双方将推动政务云建设。\n二、风险提示\n协议的履行存在不确定性。",
     {("Guizhou", ("ZTE",), D(2019, 9, 30))}),
    # ---------------------------------------------------------------- 4 commissions, zones
    ("commission-en", "",
     "Yesterday was a big day for Huawei. Our team signed a cloud cooperation agreement with "
     "the Guangzhou Municipal Commission of Economy and Informatization.",
     {("Guangdong", ("Huawei",), D(2019, 10, 13))}),
    ("zone-en", "",
     "On Friday, JD.com signed a logistics agreement with the administration of the China "
     "(Tianjin) Pilot Free Trade Zone to build a cross-border hub.",
     {("Tianjin", ("JD.com",), D(2019, 10, 11))}),
    ("zone-zh", "",
     "12日，西安高新区管委会与阿里巴巴集团正式签署合作协议，共建数字经济产业园。",
     {("Shaanxi", ("Alibaba",), D(2019, 10, 12))}),
]


@pytest.mark.parametrize("cid,title,text,expected", CASES, ids=[c[0] for c in CASES])
def test_official(rules, cid, title, text, expected):
    assert got(rules, title, text) == expected

"""The classifier: the seed article, one test per trap (English and Chinese), dates, rules."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.classify import Candidate, classify, explain, load_rules
from monitor.classify.dates import find_dates
from monitor.errors import RulesError
from monitor.types import Article

DATA = Path(__file__).resolve().parent / "data"
PUB = date(2019, 10, 14)  # a Monday




def found(rules, text: str, published: date | None = PUB, title: str = "") -> set:
    """(province, companies) of every accepted agreement."""
    got = classify(Article(title=title, text=text, published=published), rules)
    return {(a.province, a.companies) for a in got}


def only(rules, text: str, published: date | None = PUB, title: str = ""):
    got = classify(Article(title=title, text=text, published=published), rules)
    assert len(got) == 1, got
    return got[0]


# ---------------------------------------------------------------- the seed article

def test_seed_article_gives_exactly_the_four_new_agreements(rules):
    text = (DATA / "seed_000.txt").read_text(encoding="utf-8")
    got = classify(Article(title="", text=text, published=date(2019, 10, 14)), rules)
    by_key = {(a.province, a.companies): a for a in got}
    assert set(by_key) == {("Yunnan", ("PDD",)), ("Hebei", ("Alibaba",)),
                           ("Chongqing", ("Alibaba", "Ant Group")), ("Hebei", ("Tencent",))}
    yunnan = by_key[("Yunnan", ("PDD",))]
    assert yunnan.level == "province"
    assert yunnan.government == ("Yunnan Provincial People's Government Poverty Alleviation "
                                 "and Development Office")
    assert yunnan.signed_on is None
    assert by_key[("Hebei", ("Alibaba",))].signed_on == date(2019, 10, 11)  # "On Friday"
    chongqing = by_key[("Chongqing", ("Alibaba", "Ant Group"))]
    assert chongqing.signed_on == date(2019, 10, 10)  # "A day earlier"
    assert chongqing.level == "province" and chongqing.kind == "strategic_cooperation"
    assert "date.relative.day_earlier" in chongqing.rules
    assert by_key[("Hebei", ("Tencent",))].signed_on == date(2019, 10, 11)  # "last Friday"
    hebei = by_key[("Hebei", ("Alibaba",))]
    assert {"trigger.en.signed", "gov.en.provincial_government", "company.alibaba",
            "date.weekday"} <= set(hebei.rules)
    # the January 11, 2018 agreement is background, never a record
    assert all(a.signed_on != date(2018, 1, 11) for a in got)


# ---------------------------------------------------------------- positives

def test_simple_signing_english(rules):
    a = only(rules, "The Zhejiang provincial government signed a strategic cooperation "
                    "agreement with Alibaba Group on Friday.")
    assert (a.province, a.level, a.companies, a.kind) == (
        "Zhejiang", "province", ("Alibaba",), "strategic_cooperation")
    assert a.signed_on == date(2019, 10, 11)
    assert a.government == "Zhejiang provincial government"
    assert 0.5 <= a.score <= 1.0 and "Zhejiang" in a.evidence


def test_simple_signing_chinese(rules):
    a = only(rules, "10月11日，河北省人民政府与腾讯公司签署战略合作协议。")
    assert (a.province, a.companies, a.signed_on) == ("Hebei", ("Tencent",), date(2019, 10, 11))
    assert a.government == "河北省人民政府"
    assert "trigger.zh.signed" in a.rules


def test_traditional_chinese(rules):
    a = only(rules, "香港特區政府創新科技及工業局今日與騰訊控股簽署合作備忘錄。")
    assert (a.province, a.companies, a.kind) == ("Hong Kong", ("Tencent",), "mou")
    assert a.signed_on == PUB  # 今日


def test_city_maps_to_its_province(rules):
    a = only(rules, "The Hangzhou municipal government and Ant Group signed an agreement "
                    "on Tuesday.", published=date(2020, 6, 4))
    assert (a.province, a.level, a.companies) == ("Zhejiang", "city", ("Ant Group",))
    assert a.signed_on == date(2020, 6, 2)


def test_xiongan_is_hebei_city_level(rules):
    a = only(rules, "雄安新区管委会与京东集团签署战略合作协议。")
    assert (a.province, a.level) == ("Hebei", "city")


def test_municipality_is_province_level(rules):
    a = only(rules, "重庆市人民政府与华为签署合作协议。")
    assert (a.province, a.level) == ("Chongqing", "province")


def test_joint_companies_make_one_record(rules):
    assert found(rules, "The Chongqing municipal government, Alibaba and Ant Financial "
                        "signed a comprehensive strategic cooperation agreement.") == {
        ("Chongqing", ("Alibaba", "Ant Group"))}
    assert found(rules, "浙江省政府与阿里巴巴、蚂蚁集团签署数字化改革合作协议。") == {
        ("Zhejiang", ("Alibaba", "Ant Group"))}


def test_several_agreements_in_one_article(rules):
    text = ("The Fujian provincial government signed an agreement with Huawei on Monday. "
            "Meanwhile, the Xiamen municipal government signed a memorandum with Alibaba.")
    assert found(rules, text) == {("Fujian", ("Huawei",)), ("Fujian", ("Alibaba",))}
    assert found(rules, "贵州省政府分别与华为、百度签署合作协议。") == {
        ("Guizhou", ("Huawei",)), ("Guizhou", ("Baidu",))}


def test_cross_sentence_two_sides(rules):
    text = ("On Friday, Hebei governor Xu Qin met Tencent chairman Pony Ma in Shijiazhuang. "
            "The two sides signed a strategic cooperation agreement.")
    a = only(rules, text)
    assert (a.province, a.companies, a.signed_on) == ("Hebei", ("Tencent",), date(2019, 10, 11))
    zh = "10月11日，河北省省长许勤在石家庄会见腾讯公司董事会主席马化腾一行。会见后，双方签署了战略合作协议。"
    assert found(rules, zh) == {("Hebei", ("Tencent",))}


def test_the_province_as_party(rules):
    text = "Guizhou has courted cloud companies for years. Last week, the province signed a " \
           "framework agreement with Huawei."
    a = only(rules, text)
    assert (a.province, a.kind, a.signed_on) == ("Guizhou", "framework", None)


def test_headline_with_bare_province(rules):
    a = only(rules, "", title="Alibaba signs pact with Hebei to build cloud data centres")
    assert (a.province, a.companies) == ("Hebei", ("Alibaba",))


def test_subsidiaries_map_to_parents(rules):
    assert found(rules, "Tencent Cloud and the Hainan provincial government signed an "
                        "agreement.") == {("Hainan", ("Tencent",))}
    assert found(rules, "火山引擎与四川省人民政府签署战略合作协议。") == {("Sichuan", ("ByteDance",))}
    assert found(rules, "The Guangdong provincial government signed an MoU with Temu.") == {
        ("Guangdong", ("PDD",))}


# ---------------------------------------------------------------- traps

def test_trap_not_signed_yet(rules):
    assert found(rules, "The Hebei provincial government plans to sign a strategic "
                        "cooperation agreement with Alibaba next month.") == set()
    assert found(rules, "Huawei is expected to ink a deal with the Sichuan government.") == set()
    assert found(rules, "Alibaba is in talks with the Hubei provincial government over a "
                        "cooperation agreement.") == set()
    assert found(rules, "河北省政府拟与阿里巴巴签署战略合作协议。") == set()
    assert found(rules, "陕西省政府与阿里巴巴明日签约。") == set()
    c = [c for c in explain(Article("", "The Hebei provincial government plans to sign an "
                                        "agreement with Alibaba.", PUB), rules)]
    assert c and not c[0].accepted
    assert any("hedge 'plans to' before trigger" in r for r in c[0].reasons)


def test_trap_undone(rules):
    assert found(rules, "The Tianjin municipal government has terminated its framework "
                        "agreement with Qihoo 360.") == set()
    text = ("The Hainan provincial government and Didi signed a cooperation agreement in "
            "2019. The agreement was dissolved by mutual consent this week.")
    assert found(rules, text) == set()
    assert found(rules, "辽宁省政府与腾讯公司终止此前签署的合作协议。") == set()


def test_trap_company_with_company(rules):
    assert found(rules, "Tencent and China Unicom's Guangdong branch signed a cooperation "
                        "agreement on Monday.") == set()
    assert found(rules, "Hainan Airlines and Alibaba signed a strategic cooperation "
                        "agreement.") == set()
    assert found(rules, "腾讯与中国联通广东分公司签署合作协议。") == set()
    assert found(rules, "海南航空与阿里巴巴签署战略合作协议。") == set()


def test_trap_province_inside_a_company_name(rules):
    for text in ["Guangdong Mobile and Huawei signed a 5G agreement.",
                 "Hunan TV signed a content deal with Tencent.",
                 "Shandong Hi-Speed Group signed a strategic cooperation agreement with "
                 "Huawei on Tuesday.",
                 "四川航空与华为签署战略合作协议。",
                 "湖南卫视与腾讯签署合作协议。",
                 "山东高速集团与华为签署战略合作协议。"]:
        assert found(rules, text) == set(), text


def test_trap_foreign_governments_and_taiwan(rules):
    for text in ["Huawei signed an MoU with the Malaysian government on cloud services.",
                 "Alibaba Cloud signed an agreement with Saudi Arabia's government.",
                 "The Georgia state government signed an agreement with Samsung.",
                 "Microsoft signed an agreement with the Taiwan government.",
                 "华为与马来西亚政府签署合作备忘录。",
                 "台湾省政府与微软签署合作协议。"]:
        assert found(rules, text) == set(), text


def test_trap_non_tech_company(rules):
    assert found(rules, "The Hainan provincial government and Sinopec signed a strategic "
                        "cooperation agreement on Tuesday.") == set()
    assert found(rules, "宜宾市人民政府与五粮液集团签署战略合作协议。") == set()


def test_trap_investment_or_office_without_government(rules):
    for text in ["Tencent will invest 10 billion yuan in a data centre in Guizhou.",
                 "Apple opened its first data centre in Guizhou province on Monday.",
                 "Alibaba signed a lease for a new office tower in Chengdu.",
                 "华为在贵州建设的数据中心正式投入使用。",
                 "腾讯将在重庆设立区域总部。"]:
        assert found(rules, text) == set(), text


def test_trap_university(rules):
    assert found(rules, "Baidu and Zhejiang University signed a strategic cooperation "
                        "agreement on AI.") == set()
    assert found(rules, "Lanzhou University, a leading university in northwest China's "
                        "Gansu Province, has signed a cooperation agreement with Baidu.") == set()
    assert found(rules, "腾讯与香港中文大学签署合作协议。") == set()
    assert found(rules, "百度与西安交通大学签署战略合作协议。") == set()


def test_trap_shanxi_is_not_shaanxi(rules):
    assert found(rules, "The Shanxi provincial government signed an agreement with Huawei.") \
        == {("Shanxi", ("Huawei",))}
    assert found(rules, "The Shaanxi provincial government signed an agreement with Huawei.") \
        == {("Shaanxi", ("Huawei",))}
    assert found(rules, "山西省政府与华为签署合作协议。") == {("Shanxi", ("Huawei",))}
    assert found(rules, "陕西省政府与华为签署合作协议。") == {("Shaanxi", ("Huawei",))}


def test_trap_jilin_city_is_not_jilin_province(rules):
    city = only(rules, "The Jilin City government signed a strategic cooperation agreement "
                       "with Huawei.")
    assert (city.province, city.level) == ("Jilin", "city")
    province = only(rules, "The Jilin provincial government signed an agreement with Tencent.")
    assert (province.province, province.level) == ("Jilin", "province")
    assert only(rules, "吉林市人民政府与华为签署战略合作协议。").level == "city"
    assert only(rules, "吉林省人民政府与腾讯签署战略合作协议。").level == "province"


def test_trap_apple_the_fruit(rules):
    assert found(rules, "Apple growers in Shaanxi signed an agreement with the Shaanxi "
                        "provincial government to expand orchards.") == set()
    assert found(rules, "The Yantai government signed a deal to export apples with JD.com.") \
        == {("Shandong", ("JD.com",))}
    assert found(rules, "陕西省政府与果农签署苹果收购协议。") == set()
    assert found(rules, "The Guizhou provincial government signed an agreement with Apple "
                        "to build an iCloud data center.") == {("Guizhou", ("Apple",))}
    assert found(rules, "贵州省人民政府与苹果公司签署iCloud数据中心合作协议。") == {
        ("Guizhou", ("Apple",))}


def test_trap_old_agreement_recalled(rules):
    text = ("In 2018, the Chongqing municipal government signed a strategic agreement with "
            "Alibaba.")
    assert found(rules, text) == set()
    text = ("On Friday the Hebei provincial government signed a new agreement with Alibaba. "
            "The province had signed an initial agreement with Tencent in 2017.")
    assert found(rules, text) == {("Hebei", ("Alibaba",))}
    assert found(rules, "此前，辽宁省政府曾与华为签署全面战略合作协议。") == set()
    assert found(rules, "早在2016年，贵州省政府就与阿里巴巴签署了合作协议。") == set()
    background = [c for c in explain(Article("", "The Zhejiang government signed an agreement "
                                                 "with Alibaba on January 11, 2018.", PUB),
                                     rules)]
    assert background and not background[0].accepted
    assert any("over 30 days before publication" in r for r in background[0].reasons)


def test_trap_officials_only_witnessed(rules):
    assert found(rules, "Huawei and Sany signed an industrial internet pact as Hunan leaders "
                        "looked on.") == set()


# ---------------------------------------------------------------- dates

@pytest.mark.parametrize("expression, expected", [
    ("on Friday", date(2019, 10, 11)),
    ("last Friday", date(2019, 10, 11)),
    ("on Monday", date(2019, 10, 14)),
    ("yesterday", date(2019, 10, 13)),
    ("today", date(2019, 10, 14)),
    ("October 11", date(2019, 10, 11)),
    ("on Oct. 11", date(2019, 10, 11)),
    ("11 October", date(2019, 10, 11)),
    ("on December 20", date(2018, 12, 20)),  # no year: the latest not after publication
    ("on 2019-10-09", date(2019, 10, 9)),
    ("10月11日", date(2019, 10, 11)),
    ("2019年10月9日", date(2019, 10, 9)),
    ("昨日", date(2019, 10, 13)),
    ("昨天", date(2019, 10, 13)),
    ("今天", date(2019, 10, 14)),
    ("上周五", date(2019, 10, 11)),
    ("周五", date(2019, 10, 11)),
    ("11日", date(2019, 10, 11)),
])
def test_date_resolution(expression, expected):
    got = [d for d in find_dates(expression, expression.lower(), PUB) if d.value]
    assert got and got[0].value == expected


@pytest.mark.parametrize("expression", ["last week", "recently", "日前", "近日", "earlier this month"])
def test_vague_dates_stay_unknown(expression):
    assert all(d.value is None for d in find_dates(expression, expression.lower(), PUB))


def test_relative_to_the_previous_event():
    text = "On Friday, X happened. A day earlier, Y happened. 次日，Z。"
    got = [d.value for d in find_dates(text, text.lower(), PUB)]
    assert got == [date(2019, 10, 11), date(2019, 10, 10), date(2019, 10, 11)]


def test_no_date_is_guessed(rules):
    a = only(rules, "The Anhui provincial government signed an agreement with iFlytek.")
    assert a.signed_on is None
    a = only(rules, "安徽省人民政府与科大讯飞日前签署战略合作协议。")
    assert a.signed_on is None
    a = only(rules, "The Anhui provincial government signed an agreement with iFlytek today.")
    assert a.signed_on == PUB


def test_future_date_is_not_a_signing(rules):
    assert found(rules, "河北省政府与阿里巴巴本周五签署合作协议。") == set()
    assert found(rules, "The Hebei government and Alibaba will sign the agreement next "
                        "week.") == set()


def test_dateline_is_not_the_signing_date(rules):
    a = only(rules, "SHANGHAI, July 11 (Wire) - Tesla signed an agreement with the Shanghai "
                    "municipal government on Tuesday.", published=date(2018, 7, 11))
    assert a.signed_on == date(2018, 7, 10)


# ---------------------------------------------------------------- rules

def test_bad_rules_file_names_file_and_key(tmp_path):
    bad = tmp_path / "mine.toml"
    bad.write_text('[[company]]\nid = "foxconn"\nname = "Foxconn"\nen = "Foxconn"\n')
    with pytest.raises(RulesError) as err:
        load_rules(extra_files=[bad])
    assert "mine.toml" in str(err.value) and "'en'" in str(err.value)
    bad.write_text('[[trigger]]\nid = "t"\nlang = "en"\nstrength = "loud"\npatterns = ["x"]\n')
    with pytest.raises(RulesError, match=r"mine\.toml.*'strength'"):
        load_rules(extra_files=[bad])
    bad.write_text("[[company]\nid=")
    with pytest.raises(RulesError, match=r"mine\.toml.*not valid TOML"):
        load_rules(extra_files=[bad])
    with pytest.raises(RulesError, match=r"<extra>.*unknown key 'gadgets'"):
        load_rules(extra={"gadgets": []})
    with pytest.raises(RulesError, match=r"<extra>.*missing key 'name'"):
        load_rules(extra={"company": [{"id": "foxconn", "en": ["Foxconn"]}]})
    with pytest.raises(RulesError, match="cannot read"):
        load_rules(extra_files=[tmp_path / "missing.toml"])


def test_extra_companies_and_aliases_from_a_dict():
    rules = load_rules(extra={"company": [
        {"id": "foxconn", "name": "Foxconn", "en": ["Foxconn", "Hon Hai"], "zh": ["富士康"]},
        {"id": "alibaba", "en": ["Ali Group"]}]})
    text = "The Henan provincial government signed an agreement with Foxconn."
    assert found(rules, text) == {("Henan", ("Foxconn",))}
    assert found(rules, "河南省人民政府与富士康签署战略合作协议。") == {("Henan", ("Foxconn",))}
    assert found(rules, "The Hebei government signed an agreement with Ali Group.") == {
        ("Hebei", ("Alibaba",))}
    assert found(load_rules(), text) == set()


def test_extra_triggers_from_a_file(tmp_path):
    extra = tmp_path / "triggers.toml"
    extra.write_text('[[trigger]]\nid = "trigger.en.autographed"\nlang = "en"\n'
                     'strength = "verb"\npatterns = ["autographed"]\n')
    rules = load_rules(extra_files=[extra])
    a = only(rules, "The Hebei provincial government autographed a deal with Baidu.")
    assert "trigger.en.autographed" in a.rules


def test_classify_is_deterministic_and_matches_explain(rules):
    text = (DATA / "seed_000.txt").read_text(encoding="utf-8")
    article = Article(title="Regional partnerships", text=text, published=PUB)
    first = classify(article, rules)
    assert all(classify(article, rules) == first for _ in range(3))
    cands = explain(article, rules)
    assert all(isinstance(c, Candidate) for c in cands)
    assert [c.agreement for c in cands if c.accepted] == first
    assert any(not c.accepted for c in cands)
    assert all(c.reasons and c.sentence for c in cands)


def test_threshold(rules):
    text = "Alibaba signs pact with Hebei"
    assert found(rules, "", title=text)
    assert classify(Article(text, "", PUB), rules, threshold=0.99) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300), st.sampled_from(["", "河北省人民政府与华为签署协议。",
                                               "The Hebei government signed with Baidu. "]))
def test_arbitrary_text_never_raises_or_invents_names(text, seed):
    rules = _RULES
    got = classify(Article(title=text[:20], text=seed + text + seed, published=PUB), rules)
    for a in got:
        assert a.province in rules.provinces
        assert set(a.companies) <= rules.company_names
        assert 0.0 <= a.score <= 1.0
        assert a.level in ("province", "city")
    explain(Article(title="", text=text, published=None), rules)


_RULES = load_rules()


def test_governments_below_and_within_a_place(rules):
    assert found(rules, "SenseTime and the Shanghai Xuhui district government signed an AI "
                        "cooperation agreement.") == {("Shanghai", ("SenseTime",))}
    assert found(rules, "The Guangxi Zhuang Autonomous Region government and Tencent signed a "
                        "strategic cooperation agreement.") == {("Guangxi", ("Tencent",))}
    assert found(rules, "Officials from Anhui province and iFlytek signed a framework "
                        "agreement on education.") == {("Anhui", ("iFlytek",))}
    assert found(rules, "西藏自治区人民政府与腾讯公司签署战略合作协议。") == {("Tibet", ("Tencent",))}

"""General rules, written as new varied sentences in the styles real outlets use (not taken
from the development set or the demo): wire copy with the signing deep in the story,
headlines, officials' long titles, passive voice, expo recaps, co-signers, Chinese portal
style, Traditional Chinese, company press releases, and the traps around them.

Each case: (id, title, text, expected {(province, companies, signed_on)}), published on
Monday 2019-10-14.
"""

from __future__ import annotations

from datetime import date

import pytest

from monitor.classify import classify, explain
from monitor.types import Article

from .classify_cases import PUB, D, got

CASES = [
    ('wire-p4', "China's inland provinces race to build data centres",
     "GUIYANG, Oct 14 (Eastern Wire) - Provinces across China's interior are racing to attract data centres, betting that cheap power and cool weather will win business from the crowded east coast.\nGuizhou, once one of the country's poorest provinces, has become the poster child for the strategy. Apple stores the data of Chinese iCloud users there.\nNeighbouring provinces are now trying to copy that model, officials and analysts said.\nOn Saturday the Guizhou provincial government signed a strategic cooperation agreement with Huawei Technologies covering cloud computing, artificial intelligence and a new data centre in the Gui'an New Area, according to a statement posted on the government's website.\nHuawei did not disclose the size of its investment.",
     {('Guizhou', ('Huawei',), D(2019, 10, 12))}),
    ('wire-p3-said', '',
     'Tencent Holdings said on Monday it had signed an agreement with the Sichuan provincial government to build a cloud computing centre in Chengdu.\nThe deal, signed on Sunday in Chengdu, also covers smart tourism and digital government services.',
     {('Sichuan', ('Tencent',), D(2019, 10, 13))}),
    ('head-ink', 'Guangdong, Tencent ink cloud deal',
     'The agreement covers government cloud services and a data platform for the Greater Bay Area.',
     {('Guangdong', ('Tencent',), None)}),
    ('head-sign-with', 'Huawei signs strategic pact with Shaanxi province',
     "The company will help the province build a computing centre in Xi'an.",
     {('Shaanxi', ('Huawei',), None)}),
    ('head-teams', 'JD.com teams up with Jiangsu government on rural e-commerce',
     'The partnership will help farmers sell produce online.',
     {('Jiangsu', ('JD.com',), None)}),
    ('head-plan-neg', 'Baidu to sign autonomous driving deal with Hunan',
     'The agreement is expected to be signed next week in Changsha.',
     set()),
    ('titles', '',
     'Li Qiang, member of the Political Bureau of the CPC Central Committee and Secretary of the Shanghai Municipal Committee of the CPC, and Daniel Zhang, chairman and chief executive of Alibaba Group, witnessed the signing. The Shanghai municipal government and Alibaba Group signed a strategic cooperation agreement on Sunday.',
     {('Shanghai', ('Alibaba',), D(2019, 10, 13))}),
    ('titles-2', '',
     'Zhejiang Governor Yuan Jiajun and Alibaba Group Chairman Daniel Zhang on Friday signed a comprehensive strategic cooperation agreement on behalf of the provincial government and the company in Hangzhou.',
     {('Zhejiang', ('Alibaba',), D(2019, 10, 11))}),
    ('passive-1', '',
     'A strategic cooperation agreement was signed between the Hubei provincial government and JD.com in Wuhan on Tuesday, October 8.',
     {('Hubei', ('JD.com',), D(2019, 10, 8))}),
    ('passive-2', '',
     'The memorandum of understanding was signed by the Anhui provincial government and iFlytek on Friday.',
     {('Anhui', ('iFlytek',), D(2019, 10, 11))}),
    ('passive-3', '',
     'A framework agreement on smart transport was inked by Baidu and the Chongqing municipal government last Thursday.',
     {('Chongqing', ('Baidu',), D(2019, 10, 10))}),
    ('expo-list', 'Digital expo closes with 40 deals',
     'The World Internet Conference closed in Wuzhen on Sunday with 40 projects signed. They included a strategic cooperation agreement between the Zhejiang provincial government and Alibaba, a cloud computing deal between the Henan provincial government and Tencent, and a memorandum of understanding between the Shandong provincial government and Inspur.',
     {('Henan', ('Tencent',), D(2019, 10, 13)), ('Shandong', ('Inspur',), D(2019, 10, 13)), ('Zhejiang', ('Alibaba',), D(2019, 10, 13))}),
    ('expo-respectively', '',
     'On Saturday, the Fujian provincial government signed strategic cooperation agreements with Alibaba, Tencent and Huawei respectively at the Digital China Summit in Fuzhou.',
     {('Fujian', ('Alibaba',), D(2019, 10, 12)), ('Fujian', ('Huawei',), D(2019, 10, 12)), ('Fujian', ('Tencent',), D(2019, 10, 12))}),
    ('cosign-together', '',
     'The Hainan provincial government on Friday signed a strategic cooperation agreement with Alibaba Group together with its payments affiliate Ant Financial.',
     {('Hainan', ('Alibaba', 'Ant Group'), D(2019, 10, 11))}),
    ('cosign-and-its', '',
     'The Shenzhen municipal government signed a tripartite agreement with Tencent and its cloud unit Tencent Cloud on Thursday.',
     {('Guangdong', ('Tencent',), D(2019, 10, 10))}),
    ('cosign-zh', '',
     '10月12日，浙江省人民政府与阿里巴巴集团及蚂蚁金服签署新一轮全面战略合作协议。',
     {('Zhejiang', ('Alibaba', 'Ant Group'), D(2019, 10, 12))}),
    ('cosign-zh-dun', '',
     '昨天，贵州省政府与华为、腾讯签署三方战略合作协议，三方将共建大数据中心。',
     {('Guizhou', ('Huawei', 'Tencent'), D(2019, 10, 13))}),
    ('portal-zh', '广东省政府与腾讯公司签署战略合作框架协议',
     '10月12日，省政府与腾讯公司在广州签署战略合作框架协议。省长马兴瑞、腾讯公司董事会主席兼首席执行官马化腾出席签约仪式。根据协议，双方将在数字政府、智慧城市等领域开展合作。',
     {('Guangdong', ('Tencent',), D(2019, 10, 12))}),
    ('portal-zh-2', '',
     '10月11日下午，山东省人民政府与浪潮集团在济南签署战略合作协议。省委副书记、省长龚正，浪潮集团董事长孙丕恕出席签约仪式并讲话。',
     {('Shandong', ('Inspur',), D(2019, 10, 11))}),
    ('portal-zh-witness', '',
     '在省长的见证下，湖南省人民政府与京东集团签署战略合作协议。',
     {('Hunan', ('JD.com',), None)}),
    ('portal-zh-city', '',
     '近日，成都市人民政府与字节跳动签署战略合作协议，双方将在数字文创领域深化合作。',
     {('Sichuan', ('ByteDance',), None)}),
    ('hant-1', '',
     '廣東省政府與騰訊公司昨日簽署戰略合作協議，雙方將在數字政府領域合作。',
     {('Guangdong', ('Tencent',), D(2019, 10, 13))}),
    ('hant-2', '',
     '阿里巴巴集團周五與海南省政府簽訂全面戰略合作框架協議。',
     {('Hainan', ('Alibaba',), D(2019, 10, 11))}),
    ('hant-neg', '',
     '據報阿里巴巴正與海南省政府洽談合作，雙方尚未簽署任何協議。',
     set()),
    ('pr-1', '',
     "HAIKOU, China, Oct. 14, 2019 -- Alibaba Cloud today announced a strategic partnership with the Hainan provincial government to build a cloud platform for the island's free trade port.",
     {('Hainan', ('Alibaba',), D(2019, 10, 14))}),
    ('pr-2', '',
     'Huawei today announced that it has signed a memorandum of understanding with the Guangxi Zhuang Autonomous Region government to accelerate digital transformation.',
     {('Guangxi', ('Huawei',), D(2019, 10, 14))}),
    ('pr-3', '',
     'Tencent Cloud is pleased to announce a strategic cooperation agreement with the Yunnan provincial government, signed on October 12 in Kunming.',
     {('Yunnan', ('Tencent',), D(2019, 10, 12))}),
    ('neg-talks', '',
     'Officials from the Jilin provincial government held talks with JD.com executives on Friday about possible cooperation in logistics.',
     set()),
    ('neg-company-company', '',
     'Guangdong Mobile and Huawei signed a 5G cooperation agreement in Guangzhou on Friday.',
     set()),
    ('neg-background', '',
     'Back in 2017, the Guizhou provincial government signed a strategic cooperation agreement with Tencent, which later built a data centre in the province.',
     set()),
    ('neg-background-zh', '',
     '早在2017年，贵州省政府就与腾讯公司签署了战略合作协议。',
     set()),
    ('neg-plan-zh', '',
     '据悉，江西省政府拟与华为公司于下月签署战略合作协议。',
     set()),
    ('neg-terminated', '',
     'The Shaanxi provincial government has terminated its cooperation agreement with Baidu, the company said on Friday.',
     set()),
    ('neg-university', '',
     'Zhejiang University signed a research agreement with Alibaba on Friday.',
     set()),
    ('neg-located', '',
     'Alibaba signed an agreement with a logistics firm in Hangzhou on Friday.',
     set()),
    ('neg-foreign', '',
     'Huawei signed a memorandum of understanding with the Malaysian government on Friday.',
     set()),
    ('neg-track-record', '',
     'Alibaba has signed broad cooperation agreements with dozens of provinces in recent years, most recently Hebei and the municipality of Chongqing.',
     set()),
    ('neg-invest', '',
     'Tencent led a 100 million yuan funding round in a Shenzhen start-up on Friday.',
     set()),
    ('neg-expected-zh', '',
     '华为有望与四川省政府签署合作协议。',
     set()),
    ('pos-seal', '',
     'Meituan sealed a strategic cooperation deal with the Shanghai municipal government on Wednesday, October 9.',
     {('Shanghai', ('Meituan',), D(2019, 10, 9))}),
    ('pos-join-hands', '',
     'The Jiangxi provincial government and Xiaomi joined hands on Friday, signing a framework agreement on smart manufacturing.',
     {('Jiangxi', ('Xiaomi',), D(2019, 10, 11))}),
    ('pos-zh-qianyue', '',
     '10月13日，百度与重庆市人民政府在渝签约，双方将共建智能交通示范区。',
     {('Chongqing', ('Baidu',), D(2019, 10, 13))}),
    ('pos-zh-reach', '',
     '美团与上海市政府日前达成战略合作，双方将在本地生活服务领域展开合作。',
     {('Shanghai', ('Meituan',), None)}),
    ('pos-city-prov', '',
     'The Hangzhou municipal government signed a cooperation agreement with Alibaba on Friday to build a city brain for traffic management.',
     {('Zhejiang', ('Alibaba',), D(2019, 10, 11))}),
    ('pos-officials', '',
     'Officials of Gansu province and Huawei signed a strategic cooperation agreement in Lanzhou on Saturday.',
     {('Gansu', ('Huawei',), D(2019, 10, 12))}),
    ('pos-prefix', '',
     'The government of Ningxia Hui Autonomous Region and JD.com inked a rural revitalisation agreement on Thursday.',
     {('Ningxia', ('JD.com',), D(2019, 10, 10))}),
    ('pos-bureau', '',
     'The Guizhou Big Data Development Administration signed an agreement with Baidu on Friday to open government data.',
     {('Guizhou', ('Baidu',), D(2019, 10, 11))}),
    ('pos-date-same-sentence-wins', '',
     'On Monday the governor met Alibaba executives in Hefei. On October 12, the Anhui provincial government signed a strategic cooperation agreement with Alibaba.',
     {('Anhui', ('Alibaba',), D(2019, 10, 12))}),
    ('h-head-signs-up', 'Sichuan signs up Huawei for smart city push',
     'The province hopes the Chinese telecoms giant will help modernise public services in Chengdu and other cities.',
     {('Sichuan', ('Huawei',), None)}),
    ('h-head-tieup', 'Tencent, Guangdong government in cloud tie-up',
     'Details of the agreement were not disclosed.',
     {('Guangdong', ('Tencent',), None)}),
    ('h-pr-peoples-gov', '',
     "HANGZHOU, Oct. 12, 2019 /PRNewswire/ -- Alibaba Group Holding Limited (NYSE: BABA) and the People's Government of Hainan Province today announced that they have entered into a strategic cooperation agreement to build the island into a digital free trade port.",
     {('Hainan', ('Alibaba',), D(2019, 10, 12))}),
    ('h-city-of', '',
     'Baidu said on Monday it signed a deal with the city of Chongqing on Saturday to deploy self-driving buses.',
     {('Chongqing', ('Baidu',), D(2019, 10, 12))}),
    ('h-on-behalf', '',
     'The agreement was signed on Friday by Vice Governor Li Xiaodong on behalf of the Hebei provincial government and by Alibaba vice president Liu Song on behalf of the company.',
     {('Hebei', ('Alibaba',), D(2019, 10, 11))}),
    ('h-under-signed-by', '',
     'Under the agreement, signed on Friday by Liaoning Governor Tang Yijun and Huawei rotating chairman Eric Xu, Huawei will help the province build an industrial internet platform.',
     {('Liaoning', ('Huawei',), D(2019, 10, 11))}),
    ('h-among-deals', '',
     'Among the deals signed at the expo on Saturday were a strategic agreement between the Hubei provincial government and Xiaomi, and a smart city pact between the Wuhan municipal government and Baidu.',
     {('Hubei', ('Baidu',), D(2019, 10, 12)), ('Hubei', ('Xiaomi',), D(2019, 10, 12))}),
    ('h-zh-expo-fenbie', '',
     '10月12日，在数字经济峰会上，河南省人民政府分别与阿里巴巴、腾讯、华为签署战略合作协议。',
     {('Henan', ('Alibaba',), D(2019, 10, 12)), ('Henan', ('Huawei',), D(2019, 10, 12)), ('Henan', ('Tencent',), D(2019, 10, 12))}),
    ('h-zh-dateline-only', '',
     '本报广州10月12日电 10月12日，省政府与腾讯公司在广州签署战略合作框架协议。省长马兴瑞出席签约仪式。',
     {('Guangdong', ('Tencent',), D(2019, 10, 12))}),
    ('h-zh-officials-sign', '',
     '10月11日，四川省委副书记、省长尹力与华为技术有限公司轮值董事长徐直军代表双方签署战略合作协议。',
     {('Sichuan', ('Huawei',), D(2019, 10, 11))}),
    ('h-hant-hk', '',
     '香港特區政府與阿里巴巴集團昨日簽署合作備忘錄，推動本港金融科技發展。',
     {('Hong Kong', ('Alibaba',), D(2019, 10, 13))}),
    ('h-hant-macau', '',
     '澳門特別行政區政府與阿里巴巴集團於10月11日簽署戰略合作框架協議。',
     {('Macau', ('Alibaba',), D(2019, 10, 11))}),
    ('h-hant-shanghai', '',
     '上海市政府周六與拼多多簽訂戰略合作協議，雙方將共同推動農產品上行。',
     {('Shanghai', ('PDD',), D(2019, 10, 12))}),
    ('h-sidelines', '',
     'On the sidelines of the Smart China Expo in Chongqing on Oct. 11, the Sichuan provincial government signed a strategic cooperation agreement with iFlytek.',
     {('Sichuan', ('iFlytek',), D(2019, 10, 11))}),
    ('h-quote-after', '',
     '"This agreement opens a new chapter," said Governor Xu Dazhe after the Hunan provincial government and Baidu signed a strategic cooperation agreement in Changsha on Friday.',
     {('Hunan', ('Baidu',), D(2019, 10, 11))}),
    ('h-govt-abbr', '',
     'The Guangdong provincial govt and Tencent signed a framework agreement on Friday.',
     {('Guangdong', ('Tencent',), D(2019, 10, 11))}),
    ('hn-which-signed', '',
     'Alibaba, which signed a strategic agreement with the Zhejiang provincial government in 2016, on Friday opened a new data centre in Hangzhou.',
     set()),
    ('hn-follows', '',
     'The deal follows a 2018 framework agreement between Chongqing and Alibaba.',
     set()),
    ('hn-met', '',
     'Tencent chairman Pony Ma met Guangdong Party Secretary Li Xi on Friday to discuss deepening cooperation between the province and the company.',
     set()),
    ('hn-expected-date', '',
     'JD.com and the Ningxia regional government are expected to sign a rural e-commerce agreement on Friday, October 18.',
     set()),
    ('hn-bank', '',
     'The Guangzhou branch of China Construction Bank signed an agreement with Tencent on Friday.',
     set()),
    ('hn-org', '',
     'Yunnan Baiyao Group signed a strategic cooperation agreement with Alibaba Health on Friday.',
     set()),
    ('hn-lease', '',
     'ByteDance signed a lease for an office tower in Shanghai on Friday.',
     set()),
    ('hn-zh-denied', '',
     '腾讯公司10月12日否认与广东省政府签署数字政府协议的传闻。',
     set()),
    ('hn-zh-firm', '',
     '10月12日，阿里巴巴与杭州一家物流企业签署合作协议。',
     set()),
    ('hn-zh-talks', '',
     '10月12日，吉林省政府与京东集团举行座谈，双方就深化合作进行了交流。',
     set()),
    ('hn-similar', '',
     'Alibaba has signed similar agreements with Zhejiang, Hebei and Chongqing over the years.',
     set()),
    ('hn-anniv', '',
     'The province marked the fifth anniversary of its strategic cooperation agreement with Huawei on Friday.',
     set()),
    ('hn-zh-past', '',
     '2018年1月11日，重庆市政府与阿里巴巴签署战略合作框架协议。一年多来，双方合作不断深化。',
     set()),
    ('hn-zh-leader', '',
     '10月12日，省委书记会见了华为公司董事长梁华一行，双方就进一步深化合作进行了座谈。',
     set()),
    ('c-appos', '',
     'The Zhejiang provincial government on Friday signed an agreement with Alibaba Group, the e-commerce giant, and Ant Group, its fintech affiliate, to build a digital trade hub.',
     {('Zhejiang', ('Alibaba', 'Ant Group'), D(2019, 10, 11))}),
    ('c-along-with', '',
     'Tencent, along with its music streaming arm Tencent Music, signed a cultural industry agreement with the Hainan provincial government on Saturday.',
     {('Hainan', ('Tencent',), D(2019, 10, 12))}),
    ('c-zh-tong', '',
     '10月11日，阿里巴巴集团、蚂蚁金服与海南省人民政府共同签署全面深化战略合作协议。',
     {('Hainan', ('Alibaba', 'Ant Group'), D(2019, 10, 11))}),
    ('c-two-articles-separately', '',
     'On Friday the Hebei provincial government signed a strategic cooperation agreement with Alibaba. Separately, the Hebei provincial government also signed an agreement with Tencent on Friday.',
     {('Hebei', ('Alibaba',), D(2019, 10, 11)), ('Hebei', ('Tencent',), D(2019, 10, 11))}),
    ('c-wire-long', 'Baidu wins Anhui backing for AI push',
     "HEFEI, Oct 13 (Eastern Wire) - Baidu Inc has won the backing of one of China's fastest-growing provinces for its artificial intelligence ambitions.\nThe search engine operator is betting that local governments will buy its cloud and mapping services as they digitise public services.\nAnalysts say such deals rarely bring in much revenue at first.\nBaidu and the Anhui provincial government signed a strategic cooperation agreement in Hefei on Saturday, covering autonomous driving, smart transport and AI education, the company said in a statement.\nAnhui is home to iFlytek, a rival in speech recognition.",
     {('Anhui', ('Baidu',), D(2019, 10, 12))}),
    ('c-zh-long-title-witness', '',
     '10月12日，江苏省人民政府与京东集团在南京签署战略合作框架协议。省委书记娄勤俭，省委副书记、省长吴政隆，京东集团董事局主席兼首席执行官刘强东出席签约仪式。副省长马秋林和京东集团首席战略官廖建文代表双方签约。',
     {('Jiangsu', ('JD.com',), D(2019, 10, 12))}),
    ('c-zh-subsidiary-list', '',
     '会上，四川省人民政府与腾讯公司签署战略合作协议，成都市人民政府与腾讯云签署智慧城市合作协议。',
     {('Sichuan', ('Tencent',), None)}),
    ('c-en-headline-two', 'Hebei signs deals with Alibaba, Tencent',
     'The Hebei provincial government signed a strategic cooperation agreement with Alibaba on Friday. Later the same day the provincial government signed a separate agreement with Tencent.',
     {('Hebei', ('Alibaba',), D(2019, 10, 11)), ('Hebei', ('Tencent',), D(2019, 10, 11))}),
    ('c-mou-city-lvl', '',
     'Xiaomi signed a memorandum of understanding with the Wuhan municipal government on Wednesday to set up a second headquarters in the city.',
     {('Hubei', ('Xiaomi',), D(2019, 10, 9))}),
    ('c-neg-plans-deep', '',
     'The Jiangxi provincial government and Huawei are in talks on a cloud computing agreement, and officials hope to sign it before the end of the year, people familiar with the matter said.',
     set()),
    ('c-neg-appos-bg', '',
     'The agreement, which Chongqing and Alibaba signed in January 2018, focused on cloud computing.',
     set()),
    ('c-neg-zh-previous', '',
     '此前，重庆市政府已与阿里巴巴签署战略合作框架协议。',
     set()),
    ('d-followup-affiliate', '',
     "The Guangxi regional government signed a strategic cooperation agreement with Alibaba and Ant Financial on Friday. Under the deal, Ant Financial will bring Alipay services to the region's hospitals, and Alibaba will build a cloud data centre in Nanning.",
     {('Guangxi', ('Alibaba', 'Ant Group'), D(2019, 10, 11))}),
    ('d-followup-zh', '',
     '10月11日，广西壮族自治区人民政府与阿里巴巴集团、蚂蚁金服签署战略合作协议。根据协议，蚂蚁金服将在广西推广移动支付。双方还将在云计算领域开展合作。',
     {('Guangxi', ('Alibaba', 'Ant Group'), D(2019, 10, 11))}),
    ('d-bg-then-new', '',
     'Two years after it first signed a framework agreement with Alibaba, the Guizhou provincial government on Friday signed a new strategic cooperation agreement with the company.',
     {('Guizhou', ('Alibaba',), D(2019, 10, 11))}),
    ('d-bg-clause-new-other', '',
     'On January 5, 2018, Sichuan signed a cloud agreement with Huawei, and on Friday the province signed a new agreement with Tencent.',
     {('Sichuan', ('Tencent',), D(2019, 10, 11))}),
    ('d-inherit-stated', '',
     'The expo opened in Shijiazhuang on Friday. In March 2017, the Hebei provincial government signed an agreement with JD.com on rural logistics.',
     set()),
    ('d-zh-inherit-stated', '',
     '10月11日，数字经济博览会在石家庄开幕。2017年3月，河北省政府与京东集团签署了农村物流合作协议。',
     set()),
    ('d-weekday-after', '',
     'Inspur said the Shandong provincial government and the company signed a big data agreement in Jinan on Thursday.',
     {('Shandong', ('Inspur',), D(2019, 10, 10))}),
]



@pytest.mark.parametrize("cid,title,text,expected", CASES, ids=[c[0] for c in CASES])
def test_general_case(rules, cid, title, text, expected):
    assert got(rules, title, text) == expected


def test_there_are_forty_plus_cases():
    assert len(CASES) >= 40


# ---------------------------------------------------------------- the rules behind them

def test_follow_up_sentences_join_the_agreement_they_point_back_to(rules):
    """Co-signers named together, then one at a time in sentences that borrow the
    government ("people at the signing", "under the agreement"): one record."""
    text = ("The Chongqing municipal government on Thursday signed a comprehensive strategic "
            "cooperation agreement with Alibaba Group and its financial affiliate Ant "
            "Financial, under which Alibaba will establish a regional headquarters in the "
            "southwestern city. The headquarters will coordinate Alibaba's businesses in the "
            "west, people at the signing ceremony said. Under the agreement the three parties "
            "will work together on payments that Ant Financial runs through Alipay.")
    assert got(rules, "Alibaba, Ant Financial sign strategic pact with Chongqing", text,
               date(2019, 10, 10)) == {("Chongqing", ("Alibaba", "Ant Group"),
                                        date(2019, 10, 10))}


def test_a_date_in_the_sentence_beats_one_inherited(rules):
    text = ("The park opened on Tuesday. On January 11, 2018, Chongqing signed a strategic "
            "cooperation agreement with Alibaba on cloud computing, and in the months that "
            "followed the city struck similar deals with several other internet companies.")
    art = Article(title="", text=text, published=date(2019, 10, 8))
    assert classify(art, rules) == []
    cands = [c for c in explain(art, rules) if c.agreement.companies == ("Alibaba",)]
    assert cands and all("2018-01-11" in " ".join(c.reasons) for c in cands)


def test_a_place_listed_after_a_non_party_is_no_party(rules):
    """"most recently Hebei and the municipality of Chongqing": the list reaches past the
    prefix; Hebei is no party, so Chongqing is none either."""
    assert got(rules, "", "Alibaba has signed broad cooperation agreements with many Chinese "
                          "provinces and cities, most recently Hebei and the municipality of "
                          "Chongqing, as it seeks government customers.") == set()


def test_a_dateline_anchors_today_in_a_release_carried_later(rules):
    text = ("HAIKOU, Oct. 12, 2019 /PRNewswire/ -- Alibaba Cloud today announced a strategic "
            "partnership with the Hainan provincial government.")
    assert got(rules, "", text) == {("Hainan", ("Alibaba",), date(2019, 10, 12))}


@pytest.mark.parametrize("text", ["\ud800", "河北省与阿里巴巴签署协议\udfff。",
                                  "The Zhejiang provincial government signed\ud83d a deal with "
                                  "Alibaba on Friday."])
def test_lone_surrogates_never_raise(rules, text):
    classify(Article(title=text, text=text, published=PUB), rules)
    explain(Article(title=text, text=text, published=None), rules)

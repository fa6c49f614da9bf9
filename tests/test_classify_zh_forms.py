"""Chinese news forms, written fresh in the range real outlets use: 新华社电 and 本报讯 wire
copy, 记者从…获悉, 签约仪式在…举行 with officials signing on behalf of both sides, leaders
witnessing (见证), party-and-government (市委市政府) and department (省发改委) signatories,
分别 lists, company press releases, relative dates (13日, 上周三, 昨日, 日前), Traditional
Hong Kong and Macau copy, and the traps: plans, postponements, talks, background, witnesses
of company-to-company deals, terminated agreements.

Each case: (id, title, text, expected {(province, companies, signed_on)}), published on
Monday 2019-10-14.
"""

from __future__ import annotations

import pytest

from .classify_cases import D, got

CASES = [
    # ---------------------------------------------------------------- wire and portal copy
    ("xinhua-day", "",
     "新华社贵阳10月13日电 贵州省人民政府与华为技术有限公司13日在贵阳签署全面深化战略合作协议。"
     "根据协议，双方将在云计算、大数据和人工智能等领域开展合作。",
     {("Guizhou", ("Huawei",), D(2019, 10, 13))}),
    ("reporter-learned", "",
     "记者从四川省经济和信息化厅获悉，12日，四川省人民政府与腾讯公司在成都签署战略合作框架协议，"
     "双方将共建西部数字经济高地。",
     {("Sichuan", ("Tencent",), D(2019, 10, 12))}),
    ("ceremony-held-vice-governor", "湖北省政府与京东集团签署战略合作协议",
     "10月11日，湖北省人民政府与京东集团战略合作签约仪式在武汉举行。"
     "副省长曹广晶与京东集团副总裁代表双方签约。"
     "双方将在智能物流、农村电商等领域深化合作。",
     {("Hubei", ("JD.com",), D(2019, 10, 11))}),
    ("leaders-witness", "",
     "12日上午，在省委书记、省长的共同见证下，河南省人民政府与阿里巴巴集团在郑州签署数字经济战略合作协议。",
     {("Henan", ("Alibaba",), D(2019, 10, 12))}),
    ("leaders-attend-separate-sentence", "",
     "山东省人民政府与百度公司10日在济南签署人工智能战略合作协议。省委书记、省长出席签约仪式。",
     {("Shandong", ("Baidu",), D(2019, 10, 10))}),
    ("benbao-xun", "",
     "本报讯（记者 王明）11日，江苏省人民政府与字节跳动在南京签署战略合作协议。"
     "副省长与字节跳动副总裁代表双方签约。",
     {("Jiangsu", ("ByteDance",), D(2019, 10, 11))}),
    ("bare-provincial-gov-place-later", "省政府与阿里巴巴集团签署战略合作框架协议",
     "10月12日，省政府与阿里巴巴集团在南昌签署数字经济战略合作框架协议。"
     "省长出席签约仪式。",
     {("Jiangxi", ("Alibaba",), D(2019, 10, 12))}),
    ("book-title-marks", "",
     "10月9日，安徽省人民政府与科大讯飞股份有限公司签署了《人工智能产业发展战略合作协议》。",
     {("Anhui", ("iFlytek",), D(2019, 10, 9))}),
    ("ceremony-noun-only", "",
     "陕西省人民政府与华为技术有限公司战略合作签约仪式13日在西安举行。",
     {("Shaanxi", ("Huawei",), D(2019, 10, 13))}),
    # ---------------------------------------------------------------- government forms
    ("autonomous-region-gov", "",
     "10月10日，广西壮族自治区人民政府与腾讯公司在南宁签署战略合作协议，推动数字广西建设。",
     {("Guangxi", ("Tencent",), D(2019, 10, 10))}),
    ("party-and-government", "",
     "11日，杭州市委市政府与阿里巴巴集团签署新一轮战略合作协议，双方将共建城市大脑。",
     {("Zhejiang", ("Alibaba",), D(2019, 10, 11))}),
    ("provincial-drc", "",
     "10月12日，贵州省发展和改革委员会与百度公司签署合作协议，共建大数据应用平台。",
     {("Guizhou", ("Baidu",), D(2019, 10, 12))}),
    ("bare-drc-after-place", "",
     "浙江加快推进数字经济发展。12日，省发改委与网易公司在杭州签署战略合作协议。",
     {("Zhejiang", ("NetEase",), D(2019, 10, 12))}),
    ("city-big-data-bureau", "",
     "10月11日，贵阳市大数据发展管理局与滴滴出行签署智慧交通合作协议。",
     {("Guizhou", ("Didi",), D(2019, 10, 11))}),
    ("new-area-committee", "",
     "10月12日，雄安新区管委会与百度公司签署战略合作协议，共建智能城市。",
     {("Hebei", ("Baidu",), D(2019, 10, 12))}),
    ("prefecture-gov", "",
     "10月10日，黔东南州人民政府与京东集团签署电商扶贫合作协议。",
     {("Guizhou", ("JD.com",), D(2019, 10, 10))}),
    # ---------------------------------------------------------------- 分别 and several deals
    ("fenbie-companies", "",
     "10月12日，云南省人民政府分别与华为公司、腾讯公司签署战略合作协议。",
     {("Yunnan", ("Huawei",), D(2019, 10, 12)), ("Yunnan", ("Tencent",), D(2019, 10, 12))}),
    ("company-fenbie-govs", "",
     "13日，美团分别与重庆市人民政府、四川省人民政府签署战略合作协议。",
     {("Chongqing", ("Meituan",), D(2019, 10, 13)), ("Sichuan", ("Meituan",), D(2019, 10, 13))}),
    ("two-cities-semicolon", "",
     "在当天举行的数字经济峰会上，成都市人民政府与腾讯公司签署战略合作协议；"
     "绵阳市人民政府与华为技术有限公司签署合作协议。峰会于10月12日在成都开幕。",
     {("Sichuan", ("Tencent",), None), ("Sichuan", ("Huawei",), None)}),
    # ---------------------------------------------------------------- company releases
    ("press-release-today", "",
     "华为今日宣布，与贵州省人民政府签署云计算战略合作协议，将在贵安新区建设数据中心。",
     {("Guizhou", ("Huawei",), D(2019, 10, 14))}),
    ("press-release-subsidiary", "",
     "10月11日，阿里云与海南省人民政府在海口签署协议，共同建设海南数字政府。",
     {("Hainan", ("Alibaba",), D(2019, 10, 11))}),
    # ---------------------------------------------------------------- relative dates
    ("last-wednesday", "",
     "上周三，福建省人民政府与腾讯公司在福州签署战略合作协议。",
     {("Fujian", ("Tencent",), D(2019, 10, 9))}),
    ("yesterday", "",
     "昨日，湖南省人民政府与拼多多在长沙签署农产品上行战略合作协议。",
     {("Hunan", ("PDD",), D(2019, 10, 13))}),
    ("vague-recently", "",
     "日前，甘肃省人民政府与携程集团签署文旅战略合作协议。",
     {("Gansu", ("Trip.com",), None)}),
    ("vague-jinri", "",
     "近日，吉林省人民政府与京东集团签署战略合作协议，推动吉林农产品上网销售。",
     {("Jilin", ("JD.com",), None)}),
    ("sunday-zhouri", "",
     "周日，辽宁省人民政府与阿里巴巴集团在沈阳签署战略合作协议。",
     {("Liaoning", ("Alibaba",), D(2019, 10, 13))}),
    # ---------------------------------------------------------------- Traditional Chinese
    ("hk-sar-mou", "特區政府與商湯科技簽署合作備忘錄",
     "【本報訊】特區政府創新科技及工業局昨日與商湯科技簽署合作備忘錄，雙方將在醫療及教育等範疇合作。"
     "發言人表示，政府致力把香港發展成為國際創新科技中心。",
     {("Hong Kong", ("SenseTime",), D(2019, 10, 13))}),
    ("hk-trad-named", "",
     "香港特區政府今日與阿里巴巴集團簽訂合作備忘錄，推動香港智慧城市發展。",
     {("Hong Kong", ("Alibaba",), D(2019, 10, 14))}),
    ("macau-trad", "",
     "澳門特區政府與阿里巴巴集團12日簽署構建智慧城市戰略合作框架協議。",
     {("Macau", ("Alibaba",), D(2019, 10, 12))}),
    # ---------------------------------------------------------------- traps
    ("future-next-week", "成都将与腾讯签署战略合作协议",
     "记者昨日从成都市投资促进局获悉，成都市人民政府将于下周与腾讯公司签署新一轮战略合作协议。"
     "据介绍，此次协议内容涵盖数字政务、智慧医疗等领域。",
     set()),
    ("postponed", "受台风影响 海南省政府与京东集团签约仪式延期",
     "记者从海南省商务厅获悉，原定于今天下午举行的海南省人民政府与京东集团战略合作协议签约仪式已宣布延期举行。",
     set()),
    ("plan-ni", "",
     "青海省人民政府拟与华为公司签署战略合作协议，目前双方正在洽谈具体合作内容。",
     set()),
    ("talks-meeting", "",
     "12日，省长在西宁会见腾讯公司副总裁一行，双方就数字政府建设等深入交流。",
     set()),
    ("company-to-company-witnessed", "浙江省能源集团与阿里巴巴签署战略合作协议",
     "10月12日，浙江省能源集团有限公司与阿里巴巴集团在杭州签署战略合作协议。浙江省国资委有关负责同志出席签约仪式。"
     "根据协议，阿里云将为浙能集团建设统一的数据中台。",
     set()),
    ("background-year", "",
     "2016年，贵州省人民政府曾与阿里巴巴集团签署战略合作协议。此后双方合作不断深化。",
     set()),
    ("terminated", "",
     "宁夏回族自治区人民政府与某科技公司此前签署的协议已终止，据悉华为公司并未参与。",
     set()),
    ("telecom-unit-no-gov", "",
     "10月12日，中国移动江苏公司与华为公司在南京签署5G合作协议。",
     set()),
    # ---------------------------------------------------------------- more forms
    ("ceremony-title-dash", "",
     "广东省人民政府—腾讯公司战略合作签约仪式12日在广州举行。副省长和腾讯公司总裁代表双方签约。",
     {("Guangdong", ("Tencent",), D(2019, 10, 12))}),
    ("bare-province-with-witness", "",
     "10月11日，甘肃省与华为公司在兰州签署战略合作协议。省委书记、省长见证签约。",
     {("Gansu", ("Huawei",), D(2019, 10, 11))}),
    ("wo-sheng", "我省与华为签署战略合作协议",
     "10月12日，我省与华为技术有限公司在太原签署战略合作协议。山西将借助华为技术优势推进数字政府建设。",
     {("Shanxi", ("Huawei",), D(2019, 10, 12))}),
    ("hk-full-trad", "",
     "香港特別行政區政府與騰訊今日簽署合作備忘錄，雙方將推動金融科技發展。",
     {("Hong Kong", ("Tencent",), D(2019, 10, 14))}),
    ("xinhua-dateline-other-day", "",
     "新华社北京10月13日电 北京市人民政府与小米集团12日签署战略合作协议。",
     {("Beijing", ("Xiaomi",), D(2019, 10, 12))}),
    ("last-week-vague", "",
     "上周，天津市人民政府与京东集团签署战略合作协议。",
     {("Tianjin", ("JD.com",), None)}),
    ("previous-day", "",
     "10月12日，内蒙古自治区人民政府与华为公司签署协议。前一天，呼和浩特市人民政府与阿里巴巴集团签署了合作协议。",
     {("Inner Mongolia", ("Huawei",), D(2019, 10, 12)),
      ("Inner Mongolia", ("Alibaba",), D(2019, 10, 11))}),
    ("mayor-signs-for-both", "",
     "13日，武汉市人民政府与小米集团签署战略合作协议，市长与小米集团董事长代表双方签约。",
     {("Hubei", ("Xiaomi",), D(2019, 10, 13))}),
    ("met-then-signed", "",
     "12日，黑龙江省省长在哈尔滨会见了阿里巴巴集团董事局主席一行。会后，双方签署了战略合作协议。",
     {("Heilongjiang", ("Alibaba",), D(2019, 10, 12))}),
    ("future-tomorrow", "",
     "新疆维吾尔自治区人民政府将于明天与华为公司签署战略合作协议。",
     set()),
    ("office-people-attend", "",
     "10月12日，阿里巴巴集团与浙江大学签署合作协议，浙江省商务厅有关负责人出席签约仪式。",
     set()),
]

# English forms the held-out set showed (rules shared with Chinese: lead sentences, dates)
EN_CASES = [
    ("en-central-chinas-province", "Hubei, JD.com ink logistics pact",
     "WUHAN - Central China's Hubei province and e-commerce group JD.com signed a strategic "
     "framework agreement on Thursday covering warehousing and rural delivery.\n\n"
     "The document was signed in Wuhan by a vice governor of Hubei and a senior vice president "
     "of JD.com, with the provincial Party chief looking on.",
     {("Hubei", ("JD.com",), D(2019, 10, 10))}),
    ("en-a-day-after", "",
     "The Shandong provincial government signed a strategic cooperation agreement with Baidu "
     "on Tuesday.\n\nThe deal came a day after the Qingdao municipal government signed an "
     "industrial internet agreement with Tencent.",
     {("Shandong", ("Baidu",), D(2019, 10, 8)), ("Shandong", ("Tencent",), D(2019, 10, 7))}),
    ("en-separately-same-day", "",
     "Technology companies took centre stage at the expo's main signing event on Sunday.\n\n"
     "The Guangxi Zhuang Autonomous Region government signed a strategic cooperation agreement "
     "with Huawei.\n\nSeparately, the Nanning municipal government signed a deal with "
     "Trip.com Group.",
     {("Guangxi", ("Huawei",), D(2019, 10, 13)), ("Guangxi", ("Trip.com",), D(2019, 10, 13))}),
    ("en-separately-no-day-said", "",
     "Huawei and the Fujian provincial government inked an agreement on Sunday.\n\n"
     "Separately, ByteDance signed a cooperation agreement with the Fuzhou municipal government "
     "during the summit. The city said the deal covers data analytics. The city's statement "
     "did not say on which day the document was signed.",
     {("Fujian", ("Huawei",), D(2019, 10, 13)), ("Fujian", ("ByteDance",), None)}),
]


@pytest.mark.parametrize("cid,title,text,expected", CASES, ids=[c[0] for c in CASES])
def test_zh_form(rules, cid, title, text, expected):
    assert got(rules, title, text) == expected


def test_there_are_thirty_plus_cases():
    assert len(CASES) >= 30
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("cid,title,text,expected", EN_CASES, ids=[c[0] for c in EN_CASES])
def test_en_form(rules, cid, title, text, expected):
    assert got(rules, title, text) == expected

"""Tests for monitor.extract: decoding, main text, page metadata, fragments."""

from __future__ import annotations

import codecs
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.errors import ExtractError
from monitor.extract import (
    choose,
    declared_codecs,
    decode,
    detect_lang,
    extract_page,
    html_to_text,
    main_text,
    parse_date,
    strip_scripts,
    strip_site_suffix,
)
from monitor.types import Page

# ----------------------------------------------------------------------------- fixtures

ZH_BODY = (
    "河北省人民政府与阿里巴巴集团在石家庄签署战略合作协议，双方将在云计算、大数据和数字政府建设等领域深化合作。",
    "根据协议，阿里巴巴将协助河北省建设政务云平台，推动政务数据共享和“一网通办”，并在雄安新区设立区域总部。",
    "省长在签约仪式上表示，希望双方发挥各自优势，加快数字经济发展，为京津冀协同发展提供有力支撑。",
    "阿里巴巴集团负责人表示，公司将加大在河北的投资力度，积极参与智慧城市和乡村振兴等重点项目建设。",
)
EN_BODY = (
    "Alibaba Group and the Zhejiang provincial government signed a strategic cooperation "
    "agreement on Tuesday covering cloud computing, digital government services and "
    "smart manufacturing across the province.",
    "Under the agreement, Alibaba Cloud will build a provincial data platform that lets "
    "residents handle more than two hundred administrative procedures online, officials "
    "said at the signing ceremony in Hangzhou.",
    "The deal follows similar framework agreements signed this year by Tencent and Huawei "
    "with other provincial governments, as local authorities compete for investment in "
    "data centres and artificial intelligence.",
    "Analysts said the agreements rarely disclose amounts, but they usually commit the "
    "companies to regional headquarters, training programmes and joint laboratories over "
    "three to five years.",
)


def en_page(title: str = "Alibaba signs cloud deal with Zhejiang - The Daily Ledger",
            head_extra: str = "") -> str:
    """A small but realistic English news page: nav, article, related links, footer."""
    paragraphs = "\n".join(f"<p>{p}</p>" for p in EN_BODY)
    related = "".join(f'<li><a href="/news/{i}">Related story number {i} about markets</a></li>'
                      for i in range(8))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:site_name" content="The Daily Ledger">
{head_extra}
<script>var tracking = {{"page": "article"}};</script>
<style>body {{ font-family: serif; }}</style></head>
<body>
<header><nav class="menu"><ul>
<li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/business">Business</a></li>
<li><a href="/tech">Technology</a></li><li><a href="/subscribe">Subscribe now</a></li>
</ul></nav></header>
<main><article class="article-body">
<h1>Alibaba signs cloud deal with Zhejiang</h1>
<p class="byline">By Jane Reporter</p>
{paragraphs}
</article>
<aside class="related"><h3>Most read</h3><ul>{related}</ul></aside></main>
<footer class="site-footer"><p>Copyright 2024 The Daily Ledger. All rights reserved.</p>
<p><a href="/privacy">Privacy policy</a> | <a href="/terms">Terms of use</a> |
<a href="/ads">Advertise</a></p>
</footer></body></html>"""


def zh_page(charset_meta: str = '<meta charset="gbk">', extra_body: str = "") -> str:
    """A small but realistic Chinese news page (text; encode it as needed)."""
    paragraphs = "\n".join(f"<p>{p}</p>" for p in ZH_BODY)
    nav = "".join(f'<a href="/{i}">{n}</a> | ' for i, n in enumerate(
        ["首页", "新闻", "财经", "科技", "体育", "娱乐", "汽车", "房产"]))
    related = "".join(f'<li><a href="/r/{i}">相关新闻第{i}条：某地召开工作会议</a></li>'
                      for i in range(8))
    return f"""<html><head>{charset_meta}
<title>河北省政府与阿里巴巴签署战略合作协议_新闻中心</title></head>
<body><div id="nav">{nav}</div>
<div class="content"><h1>河北省政府与阿里巴巴签署战略合作协议</h1>
<div class="info"><time datetime="2024-03-15T10:00:00+08:00">2024年03月15日 10:00</time>
来源：河北日报</div>
{paragraphs}{extra_body}
</div>
<div class="related"><h3>相关新闻</h3><ul>{related}</ul></div>
<div id="footer">版权所有 2024 某某新闻网 京ICP备12345678号 联系我们 | 广告服务 | 网站地图</div>
</body></html>"""


# ----------------------------------------------------------------------------- decode

def test_decode_utf8() -> None:
    text = "<html><body>Héllo wörld — 中文 ✓</body></html>"
    assert decode(text.encode("utf-8")) == text


def test_decode_utf8_with_bom() -> None:
    text = "<p>中文 and English</p>"
    assert decode(codecs.BOM_UTF8 + text.encode("utf-8")) == text


def test_decode_utf16_with_bom() -> None:
    text = "<p>中文</p>"
    assert decode(text.encode("utf-16")) == text


def test_decode_gbk_with_meta_charset() -> None:
    text = zh_page('<meta charset="gbk">')
    body = text.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert decode(body) == text


def test_decode_gbk_declared_utf8_in_header() -> None:
    """A wrong header loses to the bytes: UTF-8 fails, the meta label (or gb18030) wins."""
    for meta in ('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">', ""):
        text = zh_page(meta)
        assert decode(text.encode("gbk"), "text/html; charset=UTF-8") == text


def test_decode_gbk_without_any_declaration() -> None:
    text = zh_page("")
    assert decode(text.encode("gbk")) == text
    assert decode(text.encode("gbk"), "text/html") == text


def test_decode_big5_page() -> None:
    text = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=big5">'
            "</head><body><p>臺灣新聞：行政院與科技公司簽署合作備忘錄，推動數位轉型。</p></body></html>")
    assert decode(text.encode("big5")) == text


def test_decode_big5_label_reads_hkscs_characters() -> None:
    text = '<meta charset="big5"><p>佢哋嘅公司喺香港簽咗合作協議。</p>'
    body = text.encode("big5hkscs")
    with pytest.raises(UnicodeDecodeError):
        body.decode("big5")
    assert decode(body) == text


def test_decode_gb18030_only_characters_under_gb2312_label() -> None:
    text = '<meta charset="gb2312"><p>罕用字：㐀䶵𠀀𪚥，欧元符号€。</p>'
    body = text.encode("gb18030")
    with pytest.raises(UnicodeError):
        body.decode("gb2312")
    assert decode(body) == text


def test_decode_xml_declaration() -> None:
    text = '<?xml version="1.0" encoding="gb2312"?><html><body><p>简体中文内容</p></body></html>'
    assert decode(text.encode("gb18030")) == text


def test_decode_damaged_utf8_stays_utf8() -> None:
    text = "<p>" + "中文新闻内容，" * 200 + "</p>"
    body = bytearray(text.encode("utf-8"))
    body[300] = 0xFF  # one broken sequence in a UTF-8 page
    out = decode(bytes(body), "text/html; charset=utf-8")
    assert out.count("\ufffd") <= 3  # one per byte of the broken sequence, at most
    assert "中文新闻内容" in out


def test_decode_latin1_label() -> None:
    text = '<meta charset="iso-8859-1"><p>Caf\xe9 cr\xe8me \u2019quoted\u2019</p>'
    assert decode(text.encode("cp1252")) == text


def test_declared_codecs_order_and_mapping() -> None:
    body = b'<?xml version="1.0" encoding="GBK"?><meta charset="big5">'
    assert declared_codecs(body, "text/html; charset=gb2312") == ["gb18030", "big5hkscs"]
    assert declared_codecs(b'<meta charset="utf-16">') == []
    assert declared_codecs(b'<meta charset="no-such-codec">') == []


# ----------------------------------------------------------------------------- main text

def test_main_text_english_picks_body_not_nav_or_footer() -> None:
    text = main_text(en_page(), "https://example.com/news/alibaba-zhejiang")
    for p in EN_BODY:
        assert p[:60] in text
    for junk in ("Subscribe now", "Privacy policy", "All rights reserved", "Related story number",
                 "tracking", "font-family"):
        assert junk not in text
    assert len(text.splitlines()) >= len(EN_BODY)


def test_main_text_chinese_picks_body_not_nav_or_footer() -> None:
    text = main_text(zh_page(), "http://news.example.cn/2024/0315/1.html")
    for p in ZH_BODY:
        assert p[:30] in text
    for junk in ("京ICP备", "版权所有", "网站地图", "相关新闻第", "房产"):
        assert junk not in text


def test_main_text_empty_inputs() -> None:
    assert main_text("") == ""
    assert main_text("<html><body></body></html>") == ""


def test_choose_rule() -> None:
    body = " ".join(f"word{i}" for i in range(200))
    junk = " ".join(f"junk{i}" for i in range(60))
    assert choose(body, "") == body
    assert choose("", body) == body
    # agreement: the shorter output wins when the longer one contains it
    assert choose(body + "\n" + junk, body) == body
    assert choose(body, body + "\n" + junk) == body
    # a fragment (under half the length) loses to the longer output
    assert choose(" ".join(body.split()[:50]), body) == body
    # disagreement: trafilatura's output is kept
    other = " ".join(f"other{i}" for i in range(180))
    assert choose(body, other) == body


def test_strip_scripts() -> None:
    html = 'a<script type="x">1 < 2</script>b<STYLE>p{}</style >c<!-- note -->d<script>open'
    assert strip_scripts(html) == "abcd<script>open"
    assert strip_scripts("<scripts>kept</scripts>") == "<scripts>kept</scripts>"


# ----------------------------------------------------------------------------- extract_page

def test_extract_page_english_title_date_lang() -> None:
    head = ('<meta property="article:published_time" content="2024-03-12T08:30:00Z">'
            '<meta property="og:title" '
            'content="Alibaba signs cloud deal with Zhejiang | The Daily Ledger">')
    page = extract_page(en_page(head_extra=head).encode("utf-8"),
                        "https://www.dailyledger.com/news/1", "text/html; charset=utf-8")
    assert isinstance(page, Page)
    assert page.title == "Alibaba signs cloud deal with Zhejiang"
    assert page.published == date(2024, 3, 12)
    assert page.lang == "en"
    assert EN_BODY[0][:60] in page.text


def test_extract_page_chinese_gbk_title_date_lang() -> None:
    page = extract_page(zh_page().encode("gbk"), "http://news.example.cn/2024/0315/1.html")
    assert page.title.startswith("河北省政府与阿里巴巴签署战略合作协议")
    assert page.published == date(2024, 3, 15)
    assert page.lang == "zh"
    assert ZH_BODY[1][:20] in page.text


def test_extract_page_unknown_date_is_none() -> None:
    html = en_page().replace("<time", "<span")
    assert extract_page(html.encode("utf-8")).published is None


def test_extract_page_keeps_title_suffix_that_is_not_the_site() -> None:
    head = '<meta property="og:title" content="Cloud deals - a primer">'
    page = extract_page(en_page(head_extra=head).encode("utf-8"), "https://www.dailyledger.com/a")
    assert page.title == "Cloud deals - a primer"


def test_extract_page_title_from_title_tag_without_site_suffix() -> None:
    html = en_page().replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    page = extract_page(html.encode("utf-8"), "https://www.dailyledger.com/a")
    assert page.title == "Alibaba signs cloud deal with Zhejiang"


@pytest.mark.parametrize("body", [b"", b"   ", b"<html><body></body></html>",
                                  b"<html><head><title>x</title></head><body><script>1</script></body></html>"])
def test_extract_page_raises_on_empty_page(body: bytes) -> None:
    with pytest.raises(ExtractError) as err:
        extract_page(body, "https://example.com/empty")
    assert "\n" not in str(err.value)


# ----------------------------------------------------------------------------- helpers

def test_detect_lang() -> None:
    assert detect_lang("The agreement was signed in Hangzhou.") == "en"
    assert detect_lang("河北省政府与阿里巴巴签署协议 Alibaba Cloud") == "zh"
    assert detect_lang("阿里巴巴 signs a cooperation agreement with Zhejiang province") == "en"
    assert detect_lang("阿里巴巴与浙江省 signs agreement") == "zh"
    assert detect_lang("これは日本語の文章です。東京で署名された。") is None
    assert detect_lang("Соглашение подписано в Москве") is None
    assert detect_lang("12345 !!! ...") is None
    assert detect_lang("") is None


def test_html_to_text() -> None:
    fragment = ("<p>First  paragraph\n with <b>bold</b>&amp; entities.</p><script>alert(1)</script>"
                "<style>p{}</style><div>Second<br>line</div> tail<!-- hidden -->")
    assert html_to_text(fragment) == "First paragraph with bold& entities.\nSecond\nline\ntail"
    assert html_to_text("Plain summary &lt;b&gt; text") == "Plain summary <b> text"
    assert html_to_text("") == ""


def test_parse_date() -> None:
    assert parse_date("2024-03-12T08:30:00Z") == date(2024, 3, 12)
    assert parse_date("2024/3/5 10:00") == date(2024, 3, 5)
    assert parse_date("2024年3月5日") == date(2024, 3, 5)
    assert parse_date("20240305") == date(2024, 3, 5)
    assert parse_date("2024-02-30") is None
    assert parse_date("1890-01-01") is None
    assert parse_date("yesterday") is None


def test_strip_site_suffix() -> None:
    sites = {"dailyledger"}
    assert strip_site_suffix("Deal signed - The Daily Ledger", sites) == "Deal signed"
    assert strip_site_suffix("Deal signed | DailyLedger.com", sites) == "Deal signed"
    assert strip_site_suffix("Deal signed - Hangzhou", sites) == "Deal signed - Hangzhou"
    assert strip_site_suffix("协议签署_新闻中心", set(), {"协议签署"}) == "协议签署"
    assert strip_site_suffix("协议签署_新闻中心", set()) == "协议签署_新闻中心"


# ----------------------------------------------------------------------------- properties

_HTMLISH = st.lists(
    st.sampled_from(["<html>", "<body>", "<p>", "</p>", "<div>", "</div>", "<meta charset=gbk>",
                     "<meta charset=big5>", '<?xml encoding="utf-16"?>', "<script>", "</script>",
                     "<!--", "-->", "<title>", "</title>", "<br>", "&amp;", "&#0;", "\x00",
                     "新闻内容", "text", " ", "\n"]),
    max_size=40,
).map("".join)
_BODIES = st.one_of(
    st.binary(max_size=2000),
    _HTMLISH.map(lambda s: s.encode("utf-8")),
    _HTMLISH.map(lambda s: s.encode("gb18030")),
    st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass")),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_BODIES, content_type=st.one_of(st.none(), st.sampled_from(
    ["text/html", "text/html; charset=utf-8", "text/html; charset=gbk",
     "text/html; charset=bogus", "text/html; charset="])))
def test_decode_never_raises(body: bytes, content_type: str | None) -> None:
    assert isinstance(decode(body, content_type), str)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_BODIES,
       url=st.one_of(st.none(), st.just("https://example.com/a"), st.text(max_size=20)))
def test_extract_page_raises_only_extract_error(body: bytes, url: str | None) -> None:
    try:
        page = extract_page(body, url)
    except ExtractError:
        return
    assert isinstance(page, Page) and page.text


def test_gbk_served_as_iso_8859_1_is_read_as_chinese():
    """Many Java servers label everything ISO-8859-1; that label decodes any bytes, so the
    bytes win when they read as GB18030 Chinese."""
    from monitor.extract import decode_as
    from monitor.feeds import parse_feed

    html = ("<html><head><title>河北省政府与阿里巴巴签署战略合作协议</title></head><body><p>"
            "河北省人民政府与阿里巴巴集团在石家庄签署数字经济战略合作协议。</p></body></html>")
    assert decode_as(html.encode("gbk"), "text/html; charset=ISO-8859-1") == (html, "gb18030")
    feed = ('<?xml version="1.0"?><rss version="2.0"><channel><title>北方商报</title>'
            "<item><title>腾讯与河北省政府签署战略合作协议，双方将在云计算领域合作</title>"
            "<link>http://x.example/a</link></item></channel></rss>").encode("gbk")
    result = parse_feed(feed, {"content-type": "application/rss+xml; charset=ISO-8859-1"},
                        "http://x.example/rss")
    assert result.entries[0].title == "腾讯与河北省政府签署战略合作协议，双方将在云计算领域合作"


def test_latin_1_text_stays_latin_1():
    from monitor.extract import decode_as

    page = "<html><body><p>Le café de la gare est fermé à Noël, déjà très célèbre.</p></body></html>"
    text, codec = decode_as(page.encode("latin-1"), "text/html; charset=ISO-8859-1")
    assert text == page and codec in ("cp1252", "latin-1", "iso8859-1")

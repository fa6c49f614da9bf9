"""Digest rendering: golden files for the normal case, hostile input for the rest.

Regenerate the golden files after an intended change with

    MONITOR_UPDATE_GOLDEN=1 python -m pytest tests/test_digest.py

and read the diff before keeping it.
"""

from __future__ import annotations

import os
import unicodedata
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.digest import Digest, clean_header, render_digest, safe_url
from monitor.types import Agreement, DigestItem, FailingSource, SourceLink

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2024, 5, 1, 23, 30, tzinfo=UTC)  # 07:30 on 2 May in Shanghai
SEEN = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def agreement(**overrides: object) -> Agreement:
    fields: dict[str, object] = dict(
        province="Hebei",
        level="province",
        government="Hebei provincial government",
        companies=("Alibaba",),
        kind="other",
        signed_on=None,
        score=0.5,
        evidence="Hebei signed an agreement with Alibaba.",
    )
    fields.update(overrides)
    return Agreement(**fields)  # type: ignore[arg-type]


def item(agreement_id: int = 1, articles: tuple[SourceLink, ...] = (), **overrides: object
         ) -> DigestItem:
    return DigestItem(agreement_id=agreement_id, agreement=agreement(**overrides),
                      first_seen_at=SEEN, articles=articles)


def sample_items() -> list[DigestItem]:
    hebei = DigestItem(
        agreement_id=7,
        agreement=agreement(
            companies=("Alibaba", "Tencent"),
            kind="strategic_cooperation",
            signed_on=date(2024, 4, 28),
            score=0.91,
            evidence=(
                "The Hebei provincial government signed a strategic cooperation agreement "
                "with Alibaba and Tencent on Sunday to build cloud computing centres in "
                "Xiong'an & Shijiazhuang."
            ),
            rules=("trigger.en.signed", "company.alibaba", "company.tencent"),
        ),
        first_seen_at=SEEN,
        articles=(
            SourceLink("Hebei signs cloud deal with Alibaba, Tencent",
                       "https://news.example.com/tech?id=1&lang=en", "Example News",
                       date(2024, 4, 29)),
            SourceLink("河北省与阿里巴巴、腾讯签署战略合作协议",
                       "https://cn.example.com/2024/0429/hebei.html", "示例新闻"),
        ),
        earlier=(
            agreement(companies=("Alibaba", "Tencent"), kind="framework",
                      signed_on=date(2019, 3, 2)),
        ),
    )
    shenzhen = DigestItem(
        agreement_id=12,
        agreement=agreement(
            province="Guangdong",
            level="city",
            government="Shenzhen municipal government",
            companies=("Huawei",),
            kind="mou",
            signed_on=None,
            score=0.64,
            evidence="Shenzhen and Huawei signed a memorandum of understanding on smart ports.",
        ),
        first_seen_at=SEEN,
        articles=(
            SourceLink("Shenzhen, Huawei team up on smart ports",
                       "https://port.example.org/news/42", "Port Daily", date(2024, 5, 1)),
        ),
    )
    guangzhou = DigestItem(
        agreement_id=9,
        agreement=agreement(
            province="Guangdong",
            level="city",
            government="广州市人民政府",
            companies=("Tencent",),
            kind="investment",
            signed_on=date(2024, 4, 30),
            score=0.78,
            evidence="广州市人民政府与腾讯签署投资协议，双方将在人工智能和智慧城市领域深化合作。",
        ),
        first_seen_at=SEEN,
        articles=(
            SourceLink("广州与腾讯签署投资协议", "https://gz.example.cn/a/1.html", "广州日报",
                       date(2024, 4, 30)),
        ),
    )
    return [hebei, shenzhen, guangzhou]


FAILING = [FailingSource("Gov feed", "https://gov.example/rss", 3, "HTTP 521\nchallenge page")]


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("MONITOR_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
    assert path.exists(), f"{path} is missing; run with MONITOR_UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_bytes().decode("utf-8")


@pytest.fixture
def digest() -> Digest:
    return render_digest(sample_items(), now=NOW, failing=FAILING)


# -- the normal case --------------------------------------------------------------------


def test_text_matches_golden(digest: Digest) -> None:
    check_golden("digest.txt", digest.text)


def test_html_matches_golden(digest: Digest) -> None:
    check_golden("digest.html", digest.html)


def test_subject_and_ids_follow_display_order(digest: Digest) -> None:
    assert digest.subject == "[monitor] 3 new agreement(s) — 2024-05-02"
    # Guangdong before Hebei; in Guangdong the dated signing before the undated one.
    assert digest.agreement_ids == (9, 12, 7)


def test_text_and_html_both_carry_every_entry(digest: Digest) -> None:
    for part in (digest.text, digest.html):
        for needle in ("Guangdong", "Hebei", "广州市人民政府", "Shenzhen municipal government",
                       "Memorandum of understanding", "Investment agreement",
                       "Strategic cooperation agreement", "date not stated", "signed 2024-04-28",
                       "City level", "Province level", "score 0.91", "示例新闻", "Example News",
                       "Earlier agreements between the same parties", "2019-03-02",
                       "Framework agreement", "This digest lists 3 agreements."):
            assert needle in part


def test_local_date_comes_from_tz() -> None:
    items = sample_items()[:1]
    assert render_digest(items, now=NOW).subject.endswith("2024-05-02")
    assert render_digest(items, now=NOW, tz="UTC").subject.endswith("2024-05-01")
    assert render_digest(items, now=NOW, tz=ZoneInfo("America/New_York")).subject.endswith(
        "2024-05-01")


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        render_digest([], now=datetime(2024, 5, 2, 8, 0))


def test_empty_digest_says_nothing_new() -> None:
    d = render_digest([], now=NOW)
    assert d.agreement_ids == ()
    assert d.subject == "[monitor] 0 new agreement(s) — 2024-05-02"
    for part in (d.text, d.html):
        assert "No new agreements since the last digest." in part
        assert "This digest lists 0 agreements." in part
    assert "<li>" not in d.html


def test_one_entry_per_agreement() -> None:
    a = SourceLink("First report", "https://a.example/1", "A")
    b = SourceLink("Second report", "https://b.example/2", "B")
    d = render_digest([item(5, (a,)), item(5, (a, b))], now=NOW)
    assert d.agreement_ids == (5,)
    assert d.text.count("Hebei provincial government") == 1
    assert "First report" in d.text and "Second report" in d.text
    assert d.text.count("https://a.example/1") == 1


def test_unknown_kind_and_missing_articles() -> None:
    d = render_digest([item(1, kind="letter_of_intent")], now=NOW)
    assert "Agreement; date not stated" in d.text
    assert "no article recorded" in d.text and "no article recorded" in d.html


def test_subject_template_fields_and_errors() -> None:
    d = render_digest(sample_items(), now=NOW,
                      subject_template="{count} in {provinces}: {companies} ({date})")
    assert d.subject == "3 in Guangdong, Hebei: Alibaba, Huawei, Tencent (2024-05-02)"
    with pytest.raises(ValueError, match="known fields"):
        render_digest([], now=NOW, subject_template="{nope}")


# -- failing sources --------------------------------------------------------------------


def test_failing_sources_in_footer() -> None:
    failing = [
        FailingSource("Xinhua <Tech>", "https://x.example/rss", 5, "timed out\r\nafter 30 s"),
        FailingSource("People's Daily", "https://p.example/rss", 1, "HTTP 503"),
    ]
    d = render_digest([], now=NOW, failing=failing)
    assert "Failing sources (2):" in d.text
    assert "- Xinhua <Tech>: 5 consecutive failures; last error: timed out after 30 s" in d.text
    assert "- People's Daily: 1 consecutive failure; last error: HTTP 503" in d.text
    assert "Xinhua &lt;Tech&gt;: 5 consecutive failures; last error: timed out after 30 s" in d.html
    assert "People&#39;s Daily: 1 consecutive failure; last error: HTTP 503" in d.html
    assert "Failing sources" not in render_digest([], now=NOW).text


# -- hostile input ----------------------------------------------------------------------


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


ALLOWED_TAGS = {"html", "head", "meta", "title", "body", "div", "h1", "h2", "p", "blockquote",
                "ul", "li", "a", "span"}


def hostile_digest() -> Digest:
    articles = (
        SourceLink("<script>alert('title')</script>", "javascript:alert(1)", "Evil <b>news</b>"),
        SourceLink("<img src=x onerror=alert(2)>", " JaVaScRiPt:alert(2)", "x\"><svg onload=1>"),
        SourceLink("data link", "data:text/html,<script>alert(3)</script>", "D"),
        SourceLink("relative link", "/relative/path", "R"),
        SourceLink("good link", "https://ok.example/a?x=1&y=\"2\"", "G"),
    )
    return render_digest(
        [item(1, articles, government="<img src=x onerror=alert(4)>",
              companies=("</p><script>alert(5)</script>",), evidence="<b onclick=x>bold</b>",
              province="<h1>Hebei</h1>")],
        now=NOW,
        failing=[FailingSource("<script>src</script>", "u", 2, "<img onerror=alert(6)>")],
    )


def test_hostile_html_is_escaped_and_links_dropped() -> None:
    html = hostile_digest().html
    parser = TagCollector()
    parser.feed(html)
    assert {tag for tag, _ in parser.tags} <= ALLOWED_TAGS
    hrefs = []
    for _, attrs in parser.tags:
        for name, value in attrs:
            assert not name.startswith("on")
            if name == "href":
                hrefs.append(value)
    assert hrefs == ['https://ok.example/a?x=1&y="2"']
    assert "<script" not in html and "<img" not in html and "<svg" not in html
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "javascript:" not in html.lower() and "data:text" not in html


def test_hostile_text_keeps_titles_but_not_bad_links() -> None:
    text = hostile_digest().text
    assert "<script>alert('title')</script>" in text  # plain text is not HTML
    assert "&lt;" not in text
    assert "javascript" not in text.lower() and "data:text" not in text
    assert "/relative/path" not in text
    assert "https://ok.example/a?x=1&y=\"2\"" in text


@pytest.mark.parametrize("url", [
    "https://example.com/a", "http://example.com", "HTTPS://Example.com/a?b=c#d",
    "https://例子.中国/路径", "http://127.0.0.1:8080/x",
])
def test_safe_url_accepts_http(url: str) -> None:
    assert safe_url(url) == url


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", " JavaScript:alert(1)", "java\nscript:alert(1)", "java\tscript:x",
    "vbscript:msgbox(1)", "data:text/html;base64,PHNjcmlwdD4=", "//evil.example/x",
    "/relative", "relative/path", "mailto:a@example.com", "http://", "https:///path",
    "http://example.com/\r\nX: y", "http://[::1", "http://example.com:99999/", "", "ftp://x.example",
])
def test_safe_url_refuses_the_rest(url: str) -> None:
    assert safe_url(url) is None


def test_safe_url_encodes_spaces() -> None:
    assert safe_url(" https://example.com/a b ") == "https://example.com/a%20b"


HOSTILE = [
    "Deal\r\nBcc: x@evil.example",
    "Deal\nBcc: x@evil.example",
    "Deal\rBcc: x@evil.example",
    "Deal\vBcc: x@evil.example",
    "Deal\fBcc: x@evil.example",
    "Deal\x85Bcc: x@evil.example",
    "Deal\u2028Bcc: x@evil.example",
    "Deal\u2029Bcc: x@evil.example",
    "Deal\x00Bcc: x@evil.example",
    "Deal\x1b[31m\x7f\x9b\u202eBcc: x@evil.example",
    "\r\n\r\nBcc: x@evil.example\r\n\r\nbody",
]
LINE_BREAKERS = "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def assert_one_clean_line(value: str, max_len: int = 200) -> None:
    assert len(value) <= max_len
    assert value == value.strip()
    assert "  " not in value
    assert len(value.splitlines()) <= 1
    assert not any(c in LINE_BREAKERS for c in value)
    assert not any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value)


@pytest.mark.parametrize("value", HOSTILE)
def test_clean_header_makes_one_line(value: str) -> None:
    cleaned = clean_header(value)
    assert_one_clean_line(cleaned)
    assert cleaned.endswith("Bcc: x@evil.example") or cleaned.endswith("body")


def test_clean_header_truncates() -> None:
    long = "长" * 1000 + "x" * 1000
    cleaned = clean_header(long)
    assert len(cleaned) == 200 and cleaned.endswith("…")
    assert clean_header("a  b \t c", max_len=3) == "a…"
    assert clean_header("short") == "short"
    assert clean_header("\r\n\x00") == ""


@pytest.mark.parametrize("title", HOSTILE + ["T" * 2000, ("Bcc: x@evil\r\n" * 300)])
def test_subject_from_hostile_title_is_one_clean_line(title: str) -> None:
    link = SourceLink(title, "https://example.com/a", "S")
    d = render_digest([item(1, (link,))], now=NOW, subject_template="[monitor] {title}")
    assert_one_clean_line(d.subject)
    assert d.subject.startswith("[monitor] ")


def test_hostile_subject_template_is_cleaned() -> None:
    d = render_digest([], now=NOW, subject_template="{count}\r\nBcc: x@evil.example\r\n{date}")
    assert d.subject == "0 Bcc: x@evil.example 2024-05-02"


def test_hostile_titles_stay_on_one_line_in_text() -> None:
    links = tuple(SourceLink(t, f"https://example.com/{i}", "S") for i, t in enumerate(HOSTILE))
    text = render_digest([item(1, links)], now=NOW).text
    for line in text.split("\n"):
        assert not line.startswith("Bcc:")
        assert not any(c in line for c in LINE_BREAKERS)
